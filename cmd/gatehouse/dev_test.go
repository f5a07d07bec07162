package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestDev runs `gatehouse dev --ports auto` as a user would, reads dev.json
// and calls the hello API over HTTPS trusting only the development CA.
func TestDev(t *testing.T) {
	dev := startDev(t)
	info, data, cmd := dev.info, dev.data, dev.cmd
	if !strings.Contains(dev.banner, "Gatehouse dev is running") {
		t.Fatalf("banner = %q", dev.banner)
	}
	if !strings.HasPrefix(info.HelloURL, "https://127.0.0.1:") || info.CACertificate != filepath.Join(data, "tls", "ca.pem") {
		t.Fatalf("dev.json = %+v", info)
	}
	caPEM, err := os.ReadFile(info.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, want := range []string{info.Tenant, info.TenantID, info.Authority, info.OpenIDConfiguration, info.Issuer,
		info.SPA.ClientID, info.SPA.RedirectURI, info.SPA.URL, info.API.ClientID, info.API.Scope,
		info.Daemon.ClientID, info.Daemon.ClientSecret, info.GatewayURL, info.HelloFunctionURL} {
		if want == "" {
			t.Fatalf("dev.json lacks a field: %+v", info)
		}
	}
	hello := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", info.HelloURL, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	// Seed 004's policy guards the API: no token, no entry.
	if code, body := hello(""); code != 401 {
		t.Fatalf("hello without a token: %d %s", code, body)
	}
	ctx := oidc.ClientContext(context.Background(), client)

	// The daemon's client-credentials token is for the API's audience.
	cc := clientcredentials.Config{ClientID: info.Daemon.ClientID, ClientSecret: info.Daemon.ClientSecret,
		TokenURL: info.TokenEndpoint, Scopes: []string{strings.TrimSuffix(info.API.Scope, "Hello") + ".default"}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := hello(tok.AccessToken); code != 200 || !strings.HasPrefix(body, "Hello World, time and date are ") {
		t.Fatalf("hello with the daemon's token: %d %q", code, body)
	}
	// dev.json's Graph app lists the directory's users.
	gcc := clientcredentials.Config{ClientID: info.Graph.ClientID, ClientSecret: info.Graph.ClientSecret,
		TokenURL: info.Graph.TokenEndpoint, Scopes: []string{info.Graph.Scope}}
	gtok, err := gcc.Token(ctx)
	if err != nil {
		t.Fatalf("Graph token: %v", err)
	}
	greq, _ := http.NewRequest("GET", info.Graph.BaseURL+"/users?$select=id,identities", nil)
	greq.Header.Set("Authorization", "Bearer "+gtok.AccessToken)
	gresp, err := client.Do(greq)
	if err != nil {
		t.Fatal(err)
	}
	gbody, _ := io.ReadAll(gresp.Body)
	gresp.Body.Close()
	if gresp.StatusCode != 200 || !strings.Contains(string(gbody), `"value":[`) {
		t.Fatalf("Graph users: %d %s", gresp.StatusCode, gbody)
	}

	// The SPA's flow (public client, PKCE) through the hosted pages.
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, info.Issuer), info.Authority+"/v2.0/")
	if err != nil {
		t.Fatal(err)
	}
	spa := &oauth2.Config{ClientID: info.SPA.ClientID, RedirectURL: info.SPA.RedirectURI, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, info.API.Scope}}
	br := testutil.NewBrowser(t, info.SPA.RedirectURI, &tls.Config{RootCAs: pool})
	verifier := oauth2.GenerateVerifier()
	page := br.Get(spa.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	page = br.Follow(page, "createAccount")
	page = br.Submit(page, "continue", map[string]string{"email": "dev.user@example.com", "newPassword": "Dev-Passw0rd!", "reenterPassword": "Dev-Passw0rd!", "displayName": "Dev User"})
	q := br.Callback(page)
	userTok, err := spa.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := hello(userTok.AccessToken); code != 200 {
		t.Fatalf("hello with the user's token: %d %q", code, body)
	}
	// A token for another audience (the SPA's own id token) is refused.
	if idt, _ := userTok.Extra("id_token").(string); idt == "" {
		t.Fatal("no id token")
	} else if code, body := hello(idt); code != 401 {
		t.Fatalf("hello with a token for another audience: %d %s", code, body)
	}

	// The partner tenant: "Contoso Partner" on the sign-in page; its demo
	// user signs in there and comes back (the first time to the flow's
	// attributes page) with a federated account whose token calls the API.
	if info.Partner.Email == "" || info.Partner.Password == "" || info.MFAUserFlow == "" || info.MFAAuthority == "" {
		t.Fatalf("dev.json lacks the partner or the MFA flow: %+v", info)
	}
	fed := testutil.NewBrowser(t, info.SPA.RedirectURI, &tls.Config{RootCAs: pool})
	fv := oauth2.GenerateVerifier()
	page = fed.Get(spa.AuthCodeURL("st", oauth2.S256ChallengeOption(fv)))
	if !strings.Contains(page.Body, `id="contoso-partner"`) || !strings.Contains(page.Body, ">Contoso Partner<") {
		t.Fatalf("no partner button:\n%s", page.Body)
	}
	form := map[string][]string{"claimsexchange": {"contoso-partner"}}
	for _, n := range []string{"tx", "csrf_token", "page"} {
		form[n] = []string{hiddenValue(t, page.Body, n)}
	}
	resp, err := fed.Client.PostForm(page.URL.Scheme+"://"+page.URL.Host+"/contoso.onmicrosoft.com/"+info.UserFlow+"/api/SelfAsserted", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := readAll(resp)
	resp.Body.Close()
	at := &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
	if !strings.HasPrefix(at.URL.String(), strings.TrimSuffix(info.Partner.IdentityURL, "/")) {
		t.Fatalf("not at the partner: %s\n%s", at.URL, at.Body)
	}
	back := submitProviderForm(t, fed, fed.Submit(at, "next", map[string]string{"signInName": info.Partner.Email, "password": info.Partner.Password}))
	if !strings.Contains(back.Body, `value="Pat Partner"`) {
		t.Fatalf("first federated sign-in, want the attributes page:\n%s", back.Body)
	}
	fq := fed.Callback(fed.Submit(back, "continue", map[string]string{"displayName": "Pat Partner"}))
	fedTok, err := spa.Exchange(ctx, fq.Get("code"), oauth2.VerifierOption(fv))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := hello(fedTok.AccessToken); code != 200 {
		t.Fatalf("hello with the federated user's token: %d %q", code, body)
	}

	// The guard in front of the function: key, token and address checks.
	guard := func(url, key, token string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if key != "" {
			req.Header.Set("x-functions-key", key)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := guard(info.HelloFunctionURL, "", tok.AccessToken); code != 401 {
		t.Errorf("guard without the function key: %d, want 401", code)
	}
	if code := guard(info.HelloFunctionURL, "wrong-"+info.FunctionKey, tok.AccessToken); code != 401 {
		t.Errorf("guard with a wrong function key: %d, want 401", code)
	}
	if code := guard(info.HelloFunctionURL, info.FunctionKey, ""); code != 401 {
		t.Errorf("guard without a token: %d, want 401", code)
	}
	if code := guard(info.HelloFunctionURL, info.FunctionKey, tok.AccessToken); code != 200 {
		t.Errorf("guard with key and token from an allowed address: %d, want 200", code)
	}
	if info.GuardIPv6URL == "" {
		t.Log("no IPv6 loopback here: the outside-address check is skipped")
	} else if code := guard(info.GuardIPv6URL, info.FunctionKey, tok.AccessToken); code != 403 {
		t.Errorf("guard from an address outside the allow rules: %d, want 403", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("dev did not exit cleanly: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
