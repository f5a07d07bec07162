package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// oauth2Fake plays an OAuth 2.0 provider with a claims endpoint, as GitHub
// and Twitter (X) are: the authorize endpoint signs in a fixed user and
// sends the browser back with a code; the token endpoint checks the client
// (in the form, or HTTP Basic), the exact redirect URI, one use per code
// and — when the provider demands PKCE — the verifier; the claims endpoint
// wants the access token as a bearer token and answers user.
type oauth2Fake struct {
	srv                         *httptest.Server
	clientID, secret            string
	basicAuth, pkce             bool
	authorize, token, claimsURL string
	user                        any

	mu         sync.Mutex
	codes      map[string]string // code -> PKCE challenge
	redirect   string
	tokenCalls int
	failures   []string
}

func (f *oauth2Fake) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

func (f *oauth2Fake) refusals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.failures...)
}

// providerAnswer submits an OpenID provider's form_post page (the OAuth2
// fakes redirect instead: their page is already Gatehouse's).
func providerAnswer(t *testing.T, b *testutil.Browser, p *testutil.Page) *testutil.Page {
	t.Helper()
	if strings.Contains(p.Body, `<form method="post" action="`) && strings.Contains(p.Body, `name="code"`) {
		return submitProviderForm(t, b, p)
	}
	return p
}

func newOAuth2Fake(t *testing.T, f *oauth2Fake) *oauth2Fake {
	f.codes = map[string]string{}
	fail := func(w http.ResponseWriter, why string) {
		f.mu.Lock()
		f.failures = append(f.failures, why)
		f.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+f.authorize, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" || q.Get("state") == "" {
			fail(w, "authorize: "+q.Encode())
			return
		}
		if f.pkce && (q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256") {
			fail(w, "authorize without PKCE: "+q.Encode())
			return
		}
		code := make([]byte, 12)
		_, _ = rand.Read(code)
		c := base64.RawURLEncoding.EncodeToString(code)
		f.mu.Lock()
		f.codes[c], f.redirect = q.Get("code_challenge"), q.Get("redirect_uri")
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {c}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST "+f.token, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, basic := r.BasicAuth()
		if !basic {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		f.mu.Lock()
		f.tokenCalls++
		challenge, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		redirect := f.redirect
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case basic != f.basicAuth || id != f.clientID || secret != f.secret:
			fail(w, fmt.Sprintf("token: client %q (basic %v)", id, basic))
		case !ok || r.PostForm.Get("redirect_uri") != redirect || r.PostForm.Get("grant_type") != "authorization_code":
			fail(w, "token: code or redirect_uri: "+r.PostForm.Encode())
		case f.pkce && base64.RawURLEncoding.EncodeToString(sum[:]) != challenge:
			fail(w, "token: PKCE verifier does not match")
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"at-` + r.PostForm.Get("code") + `","token_type":"bearer","scope":"x"}`))
		}
	})
	mux.HandleFunc("GET "+f.claimsURL, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at-") {
			fail(w, "claims without the bearer token")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.user)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestUserFlowPresets: the github, twitter and google presets against
// local fakes (endpoints or discovery overridden): GitHub's client secret
// in the form and a numeric user id, Twitter's HTTP Basic client
// authentication, PKCE and claims under data.*, Google's OpenID Connect;
// for each the first sign-in collects the attributes, the second is silent
// on the same account, and the idp claim is the provider's domain.
func TestUserFlowPresets(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const flow = "B2C_1_social"
	gh := newOAuth2Fake(t, &oauth2Fake{clientID: "gh-client", secret: "gh-secret-0123", authorize: "/login/oauth/authorize",
		token: "/login/oauth/access_token", claimsURL: "/user",
		user: map[string]any{"id": 583231, "login": "octocat", "name": "Mona Octocat", "email": "mona@github.example"}})
	tw := newOAuth2Fake(t, &oauth2Fake{clientID: "tw-client", secret: "tw-secret-4567", basicAuth: true, pkce: true,
		authorize: "/i/oauth2/authorize", token: "/2/oauth2/token", claimsURL: "/2/users/me",
		user: map[string]any{"data": map[string]any{"id": "2244994945", "name": "Tess Tweet", "username": "tess"}}})
	google := newPartnerIdP(t)
	google.mu.Lock()
	google.user = map[string]any{"sub": "1098765", "name": "Gus Google", "email": "gus@gmail.example"}
	google.mu.Unlock()
	file, _, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  identityProviders:
    - { name: github, type: github, clientId: gh-client, clientSecret: env:GITHUB_SECRET,
        authorizationEndpoint: %[1]s/login/oauth/authorize, tokenEndpoint: %[1]s/login/oauth/access_token, claimsEndpoint: %[1]s/user }
    - { name: twitter, type: twitter, clientId: tw-client, clientSecret: env:TWITTER_SECRET,
        authorizationEndpoint: %[2]s/i/oauth2/authorize, tokenEndpoint: %[2]s/2/oauth2/token, claimsEndpoint: %[2]s/2/users/me }
    - { name: google, type: google, clientId: %[6]s, clientSecret: env:GOOGLE_SECRET, metadataUrl: %[7]s }
  apps:
    - { name: Web, clientId: %[3]s, type: web, redirectUris: [%[4]q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: %[5]s, type: signUpOrSignIn, attributes: [displayName], identityProviders: [github, twitter, google],
        claims: [displayName, emails, objectId, identityProvider] }
`, gh.srv.URL, tw.srv.URL, webClientID, callback, flow, partnerClientID, google.DiscoveryURL()))
	env = append(env, "GITHUB_SECRET="+gh.secret, "TWITTER_SECRET="+tw.secret, "GOOGLE_SECRET="+partnerSecret)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()

	for _, c := range []struct {
		provider, idp, name, email string
		tokenCalls                 func() int
	}{
		{"github", "github.com", "Mona Octocat", "mona@github.example", gh.calls},
		{"twitter", "twitter.com", "Tess Tweet", "", tw.calls},
		{"google", "google.com", "Gus Google", "gus@gmail.example", nil},
	} {
		// First sign-in: the selection page, the provider, the attributes.
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, flow, callback)
		p = providerAnswer(t, b, choose(t, b, p, publicURL, flow, c.provider))
		if p.Status != 200 || !strings.Contains(p.Body, `value="`+c.name+`"`) {
			t.Fatalf("%s: after the provider: %d %s (refusals: %v %v)\n%s", c.provider, p.Status, p.URL, gh.refusals(), tw.refusals(), p.Body)
		}
		claims := claimsOfPage(t, ctx, b, b.Submit(p, "continue", map[string]string{"displayName": c.name + " B"}), conf, v, pkce)
		sub, _ := claims["sub"].(string)
		emails, _ := claims["emails"].([]any)
		if sub == "" || claims["idp"] != c.idp || claims["name"] != c.name+" B" || c.email != "" && (len(emails) != 1 || emails[0] != c.email) {
			t.Fatalf("%s: first sign-in claims %v", c.provider, claims)
		}
		// Second sign-in in a new browser: silent, the same account.
		b2 := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, flow, callback)
		p = providerAnswer(t, b2, choose(t, b2, p, publicURL, flow, c.provider))
		if c2 := claimsOfPage(t, ctx, b2, p, conf, v, pkce); c2["sub"] != sub || c2["name"] != c.name+" B" {
			t.Fatalf("%s: second sign-in claims %v (want sub %s)", c.provider, c2, sub)
		}
		if c.tokenCalls != nil && c.tokenCalls() != 2 {
			t.Errorf("%s: %d token calls, want 2", c.provider, c.tokenCalls())
		}
	}
	if r := append(gh.refusals(), tw.refusals()...); len(r) > 0 {
		t.Errorf("the fakes refused Gatehouse's requests: %v", r)
	}
	out, _, _ := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if !strings.Contains(out, `"issuerAssignedId": "583231"`) || !strings.Contains(out, `"issuerAssignedId": "2244994945"`) {
		t.Errorf("federated identities (GitHub's numeric id as text, Twitter's data.id):\n%s", out)
	}
}
