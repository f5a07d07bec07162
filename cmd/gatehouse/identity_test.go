package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

const (
	tenantID    = "8d2f6a4e-0000-4000-8000-000000000001"
	webClientID = "11111111-1111-4111-8111-111111111111"
	apiClientID = "22222222-2222-4222-8222-222222222222"
	daemonID    = "33333333-3333-4333-8333-333333333333"
	webSecret   = "web-secret-0123456789abcdef"
	daemonSec   = "daemon-secret-0123456789abcdef"
	apiScope    = "https://contoso.onmicrosoft.com/backend/Hello"
)

// identityConfig is a tenant with a confidential web app, an API exposing
// Hello and a daemon, served on a port chosen before start-up (the issuer
// is built from publicUrl).
func identityConfig(t *testing.T, callback string) (file, publicURL string, env []string) {
	t.Helper()
	port := testutil.FreePort(t)
	publicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	key := make([]byte, 32)
	rand.Read(key)
	dir := t.TempDir()
	file = writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`identity:
  listen: 127.0.0.1:%d
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET],
        permissions: [%q] }
    - { name: Backend, clientId: %s, type: web, identifierUri: https://contoso.onmicrosoft.com/backend,
        scopes: [Hello], clientSecrets: [env:WEB_SECRET] }
    - { name: Daemon, clientId: %s, type: daemon, clientSecrets: [env:DAEMON_SECRET],
        permissions: ["https://contoso.onmicrosoft.com/backend/.default"] }
  userFlows:
    - name: B2C_1_signupsignin1
      type: signUpOrSignIn
      attributes: [displayName]
      emailVerification: false
      claims: [displayName, emails, objectId, newUser]
`, port, publicURL, tenantID, webClientID, callback, apiScope, apiClientID, daemonID))
	os.MkdirAll(dir+"/data", 0o700)
	env = []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret, "DAEMON_SECRET=" + daemonSec}
	return file, publicURL, env
}

// identityRoleConfig writes the config of an identity role on a free port
// in a new folder: the common head (listen, publicUrl, the contoso
// tenant, SQLite in ./data, the master key from GH_MASTER_KEY), then body
// (YAML under identity:, two-space indented). env has the master key and
// WEB_SECRET.
func identityRoleConfig(t *testing.T, body string) (file, dir, publicURL string, env []string) {
	t.Helper()
	port := testutil.FreePort(t)
	publicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	dir = t.TempDir()
	file = writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`identity:
  listen: 127.0.0.1:%d
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
`, port, publicURL, tenantID)+body)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return file, dir, publicURL, []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret}
}

// tenantProvider discovers flow's (a user flow's or custom policy's) OpenID
// provider on publicURL; the issuer is the tenant's, not the flow's URL.
func tenantProvider(t *testing.T, ctx context.Context, publicURL, flow string) *oidc.Provider {
	t.Helper()
	issuer := publicURL + "/" + tenantID + "/v2.0/"
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, issuer), publicURL+"/contoso.onmicrosoft.com/"+flow+"/v2.0/")
	if err != nil {
		t.Fatal(err)
	}
	return provider
}

// redeem exchanges an authorization code with its PKCE verifier and
// verifies the id token, returning it and its claims too.
func redeem(t *testing.T, ctx context.Context, conf *oauth2.Config, verifier *oidc.IDTokenVerifier, code, pkce string) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	return tok, idt, claims
}

// TestIdentityRelyingParty: an app built with coreos/go-oidc and
// golang.org/x/oauth2 signs a new user up through the hosted pages with
// auth code + PKCE, signs in again, refreshes (and a replayed refresh token
// is refused), and a daemon gets a client-credentials token.
func TestIdentityRelyingParty(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback" // never reached: the browser stops at it
	file, publicURL, env := identityConfig(t, callback)
	srv := startServe(t, file, env, "identity")
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := call(t, "GET", srv.url("identity")+p, nil); resp.StatusCode != 200 {
			t.Errorf("identity %s: %d %s", p, resp.StatusCode, body)
		}
	}
	ctx := context.Background()
	provider := tenantProvider(t, ctx, publicURL, "B2C_1_signupsignin1")
	conf := &oauth2.Config{
		ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, apiScope},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})

	signIn := func(signUp bool, email, pw string) (*oauth2.Token, map[string]any) {
		t.Helper()
		b := testutil.NewBrowser(t, callback, nil)
		pkce := oauth2.GenerateVerifier()
		state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		page := b.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce)))
		if page.Status != 200 || !strings.Contains(page.Body, `id="signInName"`) {
			t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
		}
		if signUp {
			page = b.Follow(page, "createAccount")
			page = b.Submit(page, "continue", map[string]string{
				"email": email, "newPassword": pw, "reenterPassword": pw, "displayName": "Test User",
			})
		} else {
			page = b.Submit(page, "next", map[string]string{"signInName": email, "password": pw})
		}
		q := b.Callback(page)
		if q.Get("state") != state || q.Get("code") == "" {
			t.Fatalf("callback = %v", q)
		}
		tok, idt, claims := redeem(t, ctx, conf, verifier, q.Get("code"), pkce)
		if idt.Nonce != nonce {
			t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
		}
		return tok, claims
	}

	tok, claims := signIn(true, "new.user@example.com", "Str0ng-Passw0rd!")
	if claims["newUser"] != true || claims["name"] != "Test User" || claims["tfp"] != "B2C_1_signupsignin1" ||
		claims["ver"] != "1.0" || claims["sub"] != claims["oid"] || fmt.Sprint(claims["emails"]) != "[new.user@example.com]" {
		t.Errorf("sign-up id token claims = %v", claims)
	}
	_, claims = signIn(false, "new.user@example.com", "Str0ng-Passw0rd!")
	if _, isNew := claims["newUser"]; isNew {
		t.Errorf("sign-in marked the user new: %v", claims)
	}

	// Refresh rotates the token; replaying the old one is refused.
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == "" {
		t.Errorf("refresh did not rotate: %+v", fresh)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("replayed refresh token: %v", err)
	}
	// The replay revoked the family: the newest token is dead too.
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
		t.Error("refresh family survived a replay")
	}

	// A daemon gets an access token for the API with .default.
	cc := clientcredentials.Config{ClientID: daemonID, ClientSecret: daemonSec, TokenURL: provider.Endpoint().TokenURL,
		Scopes: []string{"https://contoso.onmicrosoft.com/backend/.default"}}
	at, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apiVerifier := provider.Verifier(&oidc.Config{ClientID: apiClientID})
	atTok, err := apiVerifier.Verify(ctx, at.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	var ac map[string]any
	atTok.Claims(&ac)
	if ac["azp"] != daemonID || ac["sub"] != daemonID {
		t.Errorf("client-credentials claims = %v", ac)
	}
}
