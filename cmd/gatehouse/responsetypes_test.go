package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

var formPostRE = regexp.MustCompile(`<form method="post" action="([^"]+)">`)

// halfSHA256 is at_hash / c_hash for RS256, computed here: base64url of
// the left half of SHA-256 of the value.
func halfSHA256(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// TestResponseTypesBinary: with the Web app's implicitGrant option, a
// hybrid "code id_token" sign-in through the hosted pages answers by
// form_post (id token verified against the JWKS by go-oidc, c_hash over
// the code, which then redeems with its PKCE verifier and secret), an
// implicit "id_token" sign-in answers in the fragment, and "id_token
// token" on the SSO session carries an access token its at_hash matches.
func TestResponseTypesBinary(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "name: Web, clientId: "+webClientID+", type: web,",
		"name: Web, clientId: "+webClientID+", type: web, implicitGrant: { idTokens: true, accessTokens: true },", 1)
	if src == string(b) {
		t.Fatal("identityConfig changed: no Web app line to add implicitGrant to")
	}
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	const email, pw = "hybrid.user@example.com", "Str0ng-Passw0rd!"
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw, "--display-name", "Hybrid"); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	provider := tenantProvider(t, ctx, publicURL, "B2C_1_signupsignin1")
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, apiScope}}
	authURL := func(responseType, mode, state, nonce string, extra ...oauth2.AuthCodeOption) string {
		opts := append([]oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.SetAuthURLParam("response_type", responseType)}, extra...)
		if mode != "" {
			opts = append(opts, oauth2.SetAuthURLParam("response_mode", mode))
		}
		return conf.AuthCodeURL(state, opts...)
	}
	signIn := func(br *testutil.Browser, u string) *testutil.Page {
		t.Helper()
		page := br.Get(u)
		if page.Status != 200 || !strings.Contains(page.Body, `id="signInName"`) {
			t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
		}
		return br.Submit(page, "next", map[string]string{"signInName": email, "password": pw})
	}
	verify := func(name, raw, nonce string) map[string]any {
		t.Helper()
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("%s: id token: %v", name, err)
		}
		if idt.Nonce != nonce {
			t.Errorf("%s: nonce %q, want %q", name, idt.Nonce, nonce)
		}
		var c map[string]any
		_ = idt.Claims(&c)
		// What openid-client checks besides go-oidc's signature, iss,
		// aud and exp: iat, sub and auth_time present.
		if c["name"] != "Hybrid" || c["tfp"] != "B2C_1_signupsignin1" || c["iat"] == nil || c["sub"] == nil || c["auth_time"] == nil {
			t.Errorf("%s: claims %v", name, c)
		}
		return c
	}

	// Hybrid code id_token by form_post.
	br := testutil.NewBrowser(t, callback, nil)
	pkce := oauth2.GenerateVerifier()
	page := signIn(br, authURL("code id_token", "form_post", "st-hybrid", "n-hybrid", oauth2.S256ChallengeOption(pkce)))
	m := formPostRE.FindStringSubmatch(page.Body)
	if page.Status != 200 || m == nil || html.UnescapeString(m[1]) != callback {
		t.Fatalf("hybrid: want the form_post page to %s, got %d\n%s", callback, page.Status, page.Body)
	}
	got := url.Values{}
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"/?>`).FindAllStringSubmatch(page.Body, -1) {
		got.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	// RFC 9207: openid-client compares the response's iss with the
	// issuer when discovery says it is sent.
	issuer := publicURL + "/" + tenantID + "/v2.0/"
	if got.Get("iss") != issuer || got.Get("state") != "st-hybrid" || got.Get("code") == "" || got.Get("id_token") == "" || got.Get("access_token") != "" {
		t.Fatalf("hybrid response %v", got)
	}
	c := verify("hybrid", got.Get("id_token"), "n-hybrid")
	if c["c_hash"] != halfSHA256(got.Get("code")) || c["at_hash"] != nil {
		t.Errorf("hybrid c_hash %v (want %s), at_hash %v", c["c_hash"], halfSHA256(got.Get("code")), c["at_hash"])
	}
	tok, err := conf.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("redeem the hybrid code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if rc := verify("redeemed", raw, "n-hybrid"); rc["sub"] != c["sub"] || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Errorf("redeemed: sub %v vs %v, refresh %q", rc["sub"], c["sub"], tok.RefreshToken)
	}
	if _, err := conf.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(pkce)); err == nil {
		t.Error("the hybrid code redeemed twice")
	}

	// Implicit id_token, in the fragment by default.
	br2 := testutil.NewBrowser(t, callback, nil)
	page = signIn(br2, authURL("id_token", "", "st-implicit", "n-implicit"))
	frag := fragmentOf(t, page, callback)
	if frag.Get("iss") != issuer || frag.Get("state") != "st-implicit" || frag.Get("id_token") == "" || frag.Get("code") != "" || frag.Get("access_token") != "" {
		t.Fatalf("implicit response %v", frag)
	}
	c = verify("implicit", frag.Get("id_token"), "n-implicit")
	if c["c_hash"] != nil || c["at_hash"] != nil {
		t.Errorf("implicit id token with hashes: %v", c)
	}

	// id_token token on the SSO session: no page, at_hash over the
	// access token, which the API's verifier accepts.
	page = br2.Get(authURL("id_token token", "fragment", "st-both", "n-both"))
	frag = fragmentOf(t, page, callback)
	if frag.Get("access_token") == "" || frag.Get("token_type") != "Bearer" || frag.Get("expires_in") == "" {
		t.Fatalf("id_token token response %v", frag)
	}
	idt, err := verifier.Verify(ctx, frag.Get("id_token"))
	if err != nil {
		t.Fatal(err)
	}
	if err := idt.VerifyAccessToken(frag.Get("access_token")); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: apiClientID}).Verify(ctx, frag.Get("access_token")); err != nil {
		t.Errorf("access token: %v", err)
	}
	// Tokens are never put in the query.
	page = br2.Get(authURL("id_token", "query", "st-q", "n-q"))
	frag = fragmentOf(t, page, callback)
	if frag.Get("error") != "invalid_request" || !strings.HasPrefix(frag.Get("error_description"), "AADB2C90014") || frag.Get("id_token") != "" {
		t.Errorf("id_token with response_mode=query: %v", frag)
	}
}

// fragmentOf is the fragment parameters of page, a redirect to callback
// with no query.
func fragmentOf(t *testing.T, page *testutil.Page, callback string) url.Values {
	t.Helper()
	loc := page.Header.Get("Location")
	if page.Status != 302 || !strings.HasPrefix(loc, callback+"#") {
		t.Fatalf("want a redirect to %s#..., got %d %q\n%s", callback, page.Status, loc, page.Body)
	}
	v, err := url.ParseQuery(strings.TrimPrefix(loc, callback+"#"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
