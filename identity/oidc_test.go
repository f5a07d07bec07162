package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestDiscoveryURLForms fetches the OpenID configuration through every URL
// form and checks that go-oidc accepts it and the endpoints echo the form.
func TestDiscoveryURLForms(t *testing.T) {
	e := newEnv(t, "ES256")
	issuer := e.srv.URL + "/" + tenantID + "/v2.0/"
	forms := []struct{ discovery, authPrefix string }{
		{"/contoso.onmicrosoft.com/" + flowName + "/v2.0/.well-known/openid-configuration", "/contoso.onmicrosoft.com/" + flowName + "/oauth2/v2.0/authorize"},
		{"/contoso/b2c_1_SIGNUPSIGNIN1/v2.0/.well-known/openid-configuration", "/contoso/b2c_1_SIGNUPSIGNIN1/oauth2/v2.0/authorize"},
		{"/" + tenantID + "/" + flowName + "/v2.0/.well-known/openid-configuration", "/" + tenantID + "/" + flowName + "/oauth2/v2.0/authorize"},
		{"/tfp/contoso.onmicrosoft.com/" + flowName + "/v2.0/.well-known/openid-configuration", "/tfp/contoso.onmicrosoft.com/" + flowName + "/oauth2/v2.0/authorize"},
		{"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=" + flowName, "/contoso.onmicrosoft.com/oauth2/v2.0/authorize?p=" + flowName},
		{"/" + tenantID + "/v2.0/.well-known/openid-configuration?p=" + strings.ToLower(flowName), "/" + tenantID + "/oauth2/v2.0/authorize?p=" + strings.ToLower(flowName)},
	}
	for _, f := range forms {
		t.Run(f.discovery, func(t *testing.T) {
			resp := e.get(e.srv.URL + f.discovery)
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("discovery is not readable cross-origin")
			}
			var doc struct {
				Issuer        string   `json:"issuer"`
				Auth          string   `json:"authorization_endpoint"`
				Token         string   `json:"token_endpoint"`
				EndSession    string   `json:"end_session_endpoint"`
				JWKS          string   `json:"jwks_uri"`
				Algs          []string `json:"id_token_signing_alg_values_supported"`
				Claims        []string `json:"claims_supported"`
				ResponseTypes []string `json:"response_types_supported"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != issuer {
				t.Errorf("issuer %q, want %q", doc.Issuer, issuer)
			}
			if doc.Auth != e.srv.URL+f.authPrefix {
				t.Errorf("authorization_endpoint %q, want %q", doc.Auth, e.srv.URL+f.authPrefix)
			}
			if len(doc.Algs) != 1 || doc.Algs[0] != "ES256" {
				t.Errorf("algs %v", doc.Algs)
			}
			for _, c := range []string{"name", "emails", "oid", "tfp", "newUser", "idp", "city"} {
				if !contains(doc.Claims, c) {
					t.Errorf("claims_supported lacks %s: %v", c, doc.Claims)
				}
			}
			ctx := oidc.InsecureIssuerURLContext(context.Background(), issuer)
			var prov *oidc.Provider
			var err error
			if !strings.Contains(f.discovery, "?p=") {
				prov, err = oidc.NewProvider(ctx, e.srv.URL+strings.TrimSuffix(f.discovery, "/.well-known/openid-configuration"))
				if err != nil {
					t.Fatal(err)
				}
			} else {
				prov = (&oidc.ProviderConfig{IssuerURL: doc.Issuer, AuthURL: doc.Auth, TokenURL: doc.Token, JWKSURL: doc.JWKS, Algorithms: doc.Algs}).NewProvider(ctx)
			}
			// The JWKS of this form verifies a token of the provider.
			conf := &clientcredentials.Config{ClientID: daemonID, ClientSecret: daemonSec, TokenURL: doc.Token, Scopes: []string{apiURI + "/.default"}}
			tok, err := conf.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := prov.Verifier(&oidc.Config{ClientID: backendID}).Verify(ctx, tok.AccessToken); err != nil {
				t.Fatalf("verify with %s: %v", doc.JWKS, err)
			}
			keys := e.get(doc.JWKS)
			keys.Body.Close()
			if keys.StatusCode != 200 {
				t.Errorf("jwks_uri %s: %d", doc.JWKS, keys.StatusCode)
			}
		})
	}
	for _, bad := range []string{"/fabrikam.onmicrosoft.com/" + flowName + "/v2.0/.well-known/openid-configuration", "/contoso/B2C_1_nope/v2.0/.well-known/openid-configuration", "/contoso/" + flowName + "/nothing"} {
		resp := e.get(e.srv.URL + bad)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", bad, resp.StatusCode)
		}
	}
	// Pages get everything under /{tenant}/{policy}/api/ with the flow.
	resp := e.get(e.srv.URL + "/contoso/b2c_1_reset/api/SelfAsserted/confirmed")
	resp.Body.Close()
	if e.pages.apiFlow != "B2C_1_reset" {
		t.Errorf("pages saw flow %q", e.pages.apiFlow)
	}
}

func oidcProvider(t *testing.T, e *env) *oidc.Provider {
	t.Helper()
	ctx := oidc.InsecureIssuerURLContext(context.Background(), e.p.Issuer())
	prov, err := oidc.NewProvider(ctx, e.authority()+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	return prov
}

// TestAuthCodePKCERefresh runs a SPA's sign-in with go-oidc and x/oauth2:
// code + PKCE, id token and access token claims, refresh rotation, reuse
// revoking the family, then SSO.
func TestAuthCodePKCERefresh(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			prov := oidcProvider(t, e)
			ctx := oidc.InsecureIssuerURLContext(context.Background(), e.p.Issuer())
			ep := prov.Endpoint()
			ep.AuthStyle = oauth2.AuthStyleInParams
			conf := &oauth2.Config{ClientID: spaID, Endpoint: ep, RedirectURL: spaRedir,
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, apiURI + "/Hello", apiURI + "/Write"}}
			verifier := oauth2.GenerateVerifier()
			resp := e.get(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"), oauth2.SetAuthURLParam("login_hint", "ada@example.com")))
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 302 || !strings.HasPrefix(loc.String(), spaRedir+"?") {
				t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
			}
			q := loc.Query()
			if q.Get("state") != "state-1" || q.Get("iss") != e.p.Issuer() || q.Get("code") == "" {
				t.Fatalf("authorization response %v", q)
			}
			if h := resp.Header.Get("X-Frame-Options"); h != "" {
				t.Errorf("X-Frame-Options %q on the redirect (breaks silent renewal)", h)
			}
			if got := e.pages.begun[0].Request.LoginHint; got != "ada@example.com" {
				t.Errorf("login_hint not passed to the pages: %q", got)
			}
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := prov.Verifier(&oidc.Config{ClientID: spaID}).Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			_ = idt.Claims(&c)
			want := map[string]any{"sub": e.user.ID, "oid": e.user.ID, "aud": spaID, "tfp": flowName, "ver": "1.0",
				"nonce": "nonce-1", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
				"newUser": true, "city": "London", "extension_Loyalty": "gold", "iss": e.p.Issuer()}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("id token %s = %v, want %v", k, c[k], v)
				}
			}
			if em, _ := c["emails"].([]any); len(em) != 1 || em[0] != "ada@example.com" {
				t.Errorf("emails %v", c["emails"])
			}
			if _, ok := c["idp"]; ok {
				t.Error("idp on a local account")
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			at, err := prov.Verifier(&oidc.Config{ClientID: backendID}).Verify(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			var ac map[string]any
			_ = at.Claims(&ac)
			if ac["scp"] != "Hello" || ac["azp"] != spaID || ac["aud"] != backendID || ac["sub"] != e.user.ID {
				t.Errorf("access token claims %v (Write is not granted to the SPA and must be dropped)", ac)
			}
			for _, k := range []string{"not_before", "expires_on", "id_token_expires_in", "refresh_token_expires_in", "expires_in"} {
				if _, ok := tok.Extra(k).(float64); !ok {
					t.Errorf("%s is not a JSON number: %v", k, tok.Extra(k))
				}
			}
			if tok.Extra("refresh_token_expires_in").(float64) != 86400 {
				t.Errorf("SPA refresh token lifetime %v, want 86400", tok.Extra("refresh_token_expires_in"))
			}
			if tok.Extra("resource") != backendID || tok.Extra("profile_info") == nil {
				t.Errorf("resource/profile_info: %v %v", tok.Extra("resource"), tok.Extra("profile_info"))
			}

			// Refresh: rotation.
			first := tok.RefreshToken
			code, r1 := e.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {first}}, "", "")
			if code != 200 || r1["refresh_token"] == nil || r1["refresh_token"] == first {
				t.Fatalf("refresh: %d %v", code, r1)
			}
			if c := claimsOf(t, r1["id_token"].(string)); c["newUser"] != nil || c["nonce"] != nil {
				t.Errorf("refreshed id token has newUser/nonce: %v", c)
			}
			second := r1["refresh_token"].(string)
			// Reuse of the first token: refused, and the family is revoked.
			code, r2 := e.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {first}}, "", "")
			if code != 400 || r2["error"] != "invalid_grant" || !strings.HasPrefix(r2["error_description"].(string), "AADB2C90129") {
				t.Fatalf("reuse: %d %v", code, r2)
			}
			code, r3 := e.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {second}}, "", "")
			if code != 400 || r3["error"] != "invalid_grant" {
				t.Fatalf("after reuse the family must be revoked: %d %v", code, r3)
			}

			// SSO: the session cookie signs the user in without the pages.
			n := len(e.pages.begun)
			p2, _ := e.authorize(spaParams(verifier))
			if p2.Get("code") == "" || len(e.pages.begun) != n {
				t.Fatalf("SSO: %v (pages begun %d times)", p2, len(e.pages.begun)-n)
			}
			code, r4 := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID}, "code": {p2.Get("code")},
				"redirect_uri": {spaRedir}, "code_verifier": {verifier}}, "", "")
			if code != 200 {
				t.Fatalf("SSO redeem: %v", r4)
			}
			if c := claimsOf(t, r4["id_token"].(string)); c["newUser"] != nil {
				t.Errorf("newUser on SSO sign-in")
			}
		})
	}
}

// TestClientCredentials: a daemon gets an access token for the API with
// .default through x/oauth2's clientcredentials.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t, "RS256")
	prov := oidcProvider(t, e)
	ctx := oidc.InsecureIssuerURLContext(context.Background(), e.p.Issuer())
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := &clientcredentials.Config{ClientID: daemonID, ClientSecret: daemonSec, TokenURL: prov.Endpoint().TokenURL,
			Scopes: []string{apiURI + "/.default"}, AuthStyle: style}
		tok, err := conf.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at, err := prov.Verifier(&oidc.Config{ClientID: backendID}).Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		_ = at.Claims(&c)
		if c["sub"] != daemonID || c["azp"] != daemonID || c["aud"] != backendID || c["scp"] != "Hello Write" || c["tfp"] != flowName {
			t.Errorf("claims %v", c)
		}
		if tok.Extra("resource") != backendID || tok.Extra("refresh_token") != nil || tok.Extra("id_token") != nil {
			t.Errorf("response extras: resource %v refresh %v id %v", tok.Extra("resource"), tok.Extra("refresh_token"), tok.Extra("id_token"))
		}
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		err    string
		code   string
	}{
		{"wrong secret", url.Values{"client_id": {daemonID}, "client_secret": {"wrong-secret-0123456789"}, "scope": {apiURI + "/.default"}}, 401, "invalid_client", "AADB2C90081"},
		{"no secret", url.Values{"client_id": {daemonID}, "scope": {apiURI + "/.default"}}, 400, "invalid_request", "AADB2C90079"},
		{"public client with secret", url.Values{"client_id": {spaID}, "client_secret": {"x"}, "scope": {apiURI + "/.default"}}, 400, "invalid_request", "AADB2C90084"},
		{"not .default", url.Values{"client_id": {daemonID}, "client_secret": {daemonSec}, "scope": {apiURI + "/Hello"}}, 400, "invalid_scope", "AADB2C90117"},
		{"not granted", url.Values{"client_id": {webID}, "client_secret": {webSecret}, "scope": {"https://contoso.onmicrosoft.com/other/.default"}}, 400, "invalid_scope", "AADB2C90117"},
		{"unknown client", url.Values{"client_id": {"99999999-9999-4999-8999-999999999999"}, "client_secret": {daemonSec}, "scope": {apiURI + "/.default"}}, 401, "invalid_client", "AADB2C90018"},
	}
	for _, c := range cases {
		c.form.Set("grant_type", "client_credentials")
		status, m := e.postToken(c.form, "", "")
		if status != c.status || m["error"] != c.err || !strings.HasPrefix(m["error_description"].(string), c.code) {
			t.Errorf("%s: %d %v", c.name, status, m)
		}
	}
}

// IssuanceClaimPattern AuthorityWithTfp: the flow's discovery, its tokens
// and the authorization response's iss name the policy's own issuer, and
// logout accepts an id_token_hint from it.
func TestIssuerWithTfp(t *testing.T) {
	e := newEnv(t, "ES256")
	e.reg.Flows[strings.ToLower(flowName)].IssuerTfp = true
	want := e.srv.URL + "/tfp/" + tenantID + "/" + flowName + "/v2.0/"
	resp := e.get(e.authority() + "/v2.0/.well-known/openid-configuration")
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["issuer"] != want {
		t.Fatalf("discovery issuer %v, want %s", doc["issuer"], want)
	}
	verifier := "tfp-verifier-0123456789012345678901234567890123"
	q, _ := e.authorize(spaParams(verifier))
	if q.Get("iss") != want {
		t.Errorf("authorization response iss %q", q.Get("iss"))
	}
	code, r := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID}, "code": {q.Get("code")},
		"redirect_uri": {spaRedir}, "code_verifier": {verifier}}, "", "")
	if code != 200 {
		t.Fatalf("redeem: %d %v", code, r)
	}
	idt := r["id_token"].(string)
	if c := claimsOf(t, idt); c["iss"] != want {
		t.Errorf("id token iss %v", c["iss"])
	}
	if c := claimsOf(t, r["access_token"].(string)); c["iss"] != want {
		t.Errorf("access token iss %v", c["iss"])
	}
	if !e.p.ownIssuer(want) || e.p.ownIssuer(e.srv.URL+"/tfp/"+tenantID+"/B2C_1_other/v2.0/") {
		t.Error("ownIssuer")
	}
}
