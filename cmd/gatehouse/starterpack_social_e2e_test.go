package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// fakeFacebook plays Facebook's OAuth2 endpoints: the dialog (which signs
// in whoever the test says and sends the browser back), the access token
// endpoint (GET, as the pack's HttpBinding says) and the Graph /me
// claims endpoint. It checks what B2C sends: client id and secret, the
// exact redirect URI, one use per code.
type fakeFacebook struct {
	srv        *httptest.Server
	mu         sync.Mutex
	codes      map[string]bool
	redirects  []string
	deny       bool
	userID     string
	tokenCalls int
}

const fbClientID, fbSecret = "fb-app-123", "fb-secret-value-456"

func newFakeFacebook(t *testing.T) *fakeFacebook {
	f := &fakeFacebook{codes: map[string]bool{}, userID: "10101"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dialog/oauth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.redirects = append(f.redirects, q.Get("redirect_uri"))
		deny := f.deny
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"state": {q.Get("state")}}
		if q.Get("client_id") != fbClientID || q.Get("response_type") != "code" || q.Get("scope") != "email public_profile" {
			v.Set("error", "invalid_request")
		} else if deny {
			v.Set("error", "access_denied")
			v.Set("error_description", "Permissions error")
		} else {
			code := "code-" + q.Get("state")[len(q.Get("state"))-8:]
			f.mu.Lock()
			f.codes[code] = true
			f.mu.Unlock()
			v.Set("code", code)
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("GET /oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.tokenCalls++
		ok := f.codes[q.Get("code")]
		delete(f.codes, q.Get("code"))
		redirect := len(f.redirects) > 0 && q.Get("redirect_uri") == f.redirects[len(f.redirects)-1]
		f.mu.Unlock()
		if !ok || !redirect || q.Get("client_id") != fbClientID || q.Get("client_secret") != fbSecret {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"message":"Invalid verification code format.","type":"OAuthException","code":100}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"fb-at-` + q.Get("code") + `","token_type":"bearer","expires_in":5183944}`))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Query().Get("access_token"), "fb-at-") || r.URL.Query().Get("fields") != "id,first_name,last_name,name,email" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		id := f.userID
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "first_name": "Fay", "last_name": "Book", "name": "Fay Book", "email": "fay@example.com"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestStarterPackSocialAndLocalAccounts runs Microsoft's
// SocialAndLocalAccounts pack unchanged, with Facebook's endpoints pointed
// at a local fake in the Extensions file (as B2C lets a tenant override
// metadata): the first Facebook sign-in collects the profile and creates
// a federated account, the second is silent; a cancel at Facebook answers
// the app access_denied; a forged or replayed answer is refused.
func TestStarterPackSocialAndLocalAccounts(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	fb := newFakeFacebook(t)
	file, publicURL, _, env := starterPackConfig(t, "SocialAndLocalAccounts", callback)
	env = withFacebook(t, file, fb, env)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()

	chooseFacebook := func(b *testutil.Browser, p *testutil.Page) *testutil.Page {
		t.Helper()
		return choose(t, b, p, publicURL, "B2C_1A_signup_signin", "FacebookExchange")
	}

	// First sign-in: Facebook, then B2C's SelfAsserted-Social page with
	// Facebook's names, then the account is created.
	br := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, br, publicURL, "B2C_1A_signup_signin", callback)
	p = chooseFacebook(br, p)
	if p.Status != 200 || !strings.Contains(p.Body, `value="Fay Book"`) || !strings.Contains(p.Body, `data-name="SelfAsserted"`) {
		t.Fatalf("after Facebook: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if got := fb.redirects[0]; got != publicURL+"/contoso.onmicrosoft.com/oauth2/authresp" {
		t.Errorf("redirect_uri %q: want B2C's .../{tenant}.onmicrosoft.com/oauth2/authresp", got)
	}
	p = br.Submit(p, "continue", map[string]string{"displayName": "Fay B", "givenName": "Fay", "surname": "Book"})
	cb := br.Callback(p)
	_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	sub, _ := claims["sub"].(string)
	if sub == "" || claims["name"] != "Fay B" || claims["idp"] != "facebook.com" || claims["email"] != "fay@example.com" {
		t.Fatalf("first sign-in claims %v", claims)
	}
	out, errOut, code := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if code != 0 || !strings.Contains(out, `"signInType": "federated"`) || !strings.Contains(out, `"issuer": "facebook.com"`) ||
		!strings.Contains(out, `"issuerAssignedId": "10101"`) {
		t.Fatalf("users list: %d %s\n%s", code, errOut, out)
	}

	// Second sign-in in another browser: no page, the same account.
	br2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, br2, publicURL, "B2C_1A_signup_signin", callback)
	p = chooseFacebook(br2, p)
	cb = br2.Callback(p)
	_, _, claims = redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	if claims["sub"] != sub || claims["name"] != "Fay B" {
		t.Fatalf("second sign-in claims %v (want sub %s and the stored name)", claims, sub)
	}
	if fb.tokenCalls != 2 { // (the domain_hint sign-in below makes a third)
		t.Errorf("access token calls: %d", fb.tokenCalls)
	}

	// domain_hint=facebook.com (the ClaimsProvider's Domain) goes straight
	// to Facebook: no sign-in page.
	brh := testutil.NewBrowser(t, callback, nil)
	provider := tenantProvider(t, ctx, publicURL, "B2C_1A_signup_signin")
	hconf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "offline_access", webClientID}}
	hpkce := oauth2.GenerateVerifier()
	p = brh.Get(hconf.AuthCodeURL("st", oauth2.S256ChallengeOption(hpkce), oidc.Nonce("n1"), oauth2.SetAuthURLParam("domain_hint", "facebook.com")))
	_, _, claims = redeem(t, ctx, hconf, provider.Verifier(&oidc.Config{ClientID: webClientID}), brh.Callback(p).Get("code"), hpkce)
	if claims["sub"] != sub {
		t.Fatalf("domain_hint sign-in claims %v", claims)
	}

	// A cancel at Facebook: access_denied to the app.
	fb.mu.Lock()
	fb.deny = true
	fb.mu.Unlock()
	br3 := testutil.NewBrowser(t, callback, nil)
	p, _, _, _ = authorizePolicy(t, ctx, br3, publicURL, "B2C_1A_signup_signin", callback)
	p = chooseFacebook(br3, p)
	if cb := br3.Callback(p); cb.Get("error") != "access_denied" || !strings.Contains(cb.Get("error_description"), "AADB2C90273") {
		t.Fatalf("cancel at Facebook: %v", cb)
	}
	fb.mu.Lock()
	fb.deny = false
	fb.mu.Unlock()

	// An answer that is not this browser's pending redirect is refused:
	// a forged state, and a real one replayed from another browser.
	br4 := testutil.NewBrowser(t, callback, nil)
	br4.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p, _, _, _ = authorizePolicy(t, ctx, br4, publicURL, "B2C_1A_signup_signin", callback)
	p = chooseFacebook(br4, p)
	loc, _ := url.Parse(p.Header.Get("Location"))
	state := loc.Query().Get("state")
	if p.Status != http.StatusFound || !strings.HasPrefix(loc.String(), fb.srv.URL+"/dialog/oauth") || state == "" {
		t.Fatalf("redirect to Facebook: %d %s", p.Status, loc)
	}
	authresp := publicURL + "/contoso.onmicrosoft.com/oauth2/authresp?"
	if r := br4.Get(authresp + url.Values{"state": {state + "x"}, "code": {"c"}}.Encode()); r.Status != http.StatusForbidden {
		t.Errorf("forged state: %d", r.Status)
	}
	other := testutil.NewBrowser(t, callback, nil)
	if r := other.Get(authresp + url.Values{"state": {state}, "code": {"c"}}.Encode()); r.Status != http.StatusForbidden {
		t.Errorf("another browser's answer: %d", r.Status)
	}
	if r := br4.Get(authresp + url.Values{"state": {"nope"}}.Encode()); r.Status != http.StatusBadRequest {
		t.Errorf("state without a transaction: %d", r.Status)
	}
}

func hiddenValue(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no hidden %s in:\n%s", name, body)
	}
	rest := body[i+len(`name="`+name+`" value="`):]
	return htmlUnescape(rest[:strings.IndexByte(rest, '"')])
}

func readAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// authorizePolicy starts an auth-code sign-in with PKCE at a policy for the
// Web app.
func authorizePolicy(t *testing.T, ctx context.Context, b *testutil.Browser, publicURL, policy, callback string) (*testutil.Page, *oauth2.Config, *oidc.IDTokenVerifier, string) {
	t.Helper()
	provider := tenantProvider(t, ctx, publicURL, policy)
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "offline_access", webClientID}}
	pkce := oauth2.GenerateVerifier()
	p := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce), oidc.Nonce("n1")))
	return p, conf, provider.Verifier(&oidc.Config{ClientID: webClientID}), pkce
}

// TestStarterPackSocialAccounts: the SocialAccounts pack (Facebook only)
// unchanged but for Facebook's endpoints: the sign-in page has the
// Facebook button alone; the first sign-in collects the profile, the
// second is silent.
func TestStarterPackSocialAccounts(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	fb := newFakeFacebook(t)
	file, publicURL, _, env := starterPackConfig(t, "SocialAccounts", callback)
	env = withFacebook(t, file, fb, env)
	startServe(t, file, env, "identity")
	ctx := context.Background()

	facebook := func(b *testutil.Browser, p *testutil.Page) *testutil.Page {
		t.Helper()
		if strings.Contains(p.Body, `id="signInName"`) {
			t.Fatalf("want the Facebook button alone:\n%s", p.Body)
		}
		return choose(t, b, p, publicURL, "B2C_1A_signup_signin", "FacebookExchange")
	}
	br := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, br, publicURL, "B2C_1A_signup_signin", callback)
	if p = facebook(br, p); p.Status != 200 || !strings.Contains(p.Body, `value="Fay Book"`) {
		t.Fatalf("after Facebook, want the profile page: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	_, _, claims := redeem(t, ctx, conf, v, br.Callback(br.Submit(p, "continue", map[string]string{"displayName": "Fay S"})).Get("code"), pkce)
	sub := claims["sub"]
	if sub == nil || claims["name"] != "Fay S" || claims["idp"] != "facebook.com" {
		t.Fatalf("first sign-in claims %v", claims)
	}
	br2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, br2, publicURL, "B2C_1A_signup_signin", callback)
	if _, _, claims = redeem(t, ctx, conf, v, br2.Callback(facebook(br2, p)).Get("code"), pkce); claims["sub"] != sub {
		t.Fatalf("second sign-in claims %v", claims)
	}
}

// withFacebook points a starter pack's Facebook profile at the fake (in
// the Extensions file, as B2C lets a tenant override metadata) and gives
// the config the pack's B2C_1A_FacebookSecret; it returns env with the
// secret.
func withFacebook(t *testing.T, file string, fb *fakeFacebook, env []string) []string {
	t.Helper()
	ext := filepath.Join(filepath.Dir(file), "policies", "TrustFrameworkExtensions.xml")
	b, err := os.ReadFile(ext)
	if err != nil {
		t.Fatal(err)
	}
	if fb != nil {
		override := strings.NewReplacer(
			`<Item Key="client_id">facebook_clientid</Item>`, `<Item Key="client_id">`+fbClientID+`</Item>
            <Item Key="authorization_endpoint">`+fb.srv.URL+`/dialog/oauth</Item>
            <Item Key="AccessTokenEndpoint">`+fb.srv.URL+`/oauth/access_token</Item>`,
			`https://graph.facebook.com/me?fields=`, fb.srv.URL+`/me?fields=`).Replace(string(b))
		if override == string(b) {
			t.Fatal("the Extensions file no longer has the Facebook metadata this test overrides")
		}
		_ = os.WriteFile(ext, []byte(override), 0o600)
	}
	cfg, _ := os.ReadFile(file)
	cfg = []byte(strings.Replace(string(cfg), "  customPolicies:", "  policyKeys: [{ name: FacebookSecret, secret: env:FB_SECRET }]\n  customPolicies:", 1))
	_ = os.WriteFile(file, cfg, 0o600)
	return append(env, "FB_SECRET="+fbSecret)
}

// choose presses a provider's button on a sign-in page (its form posts the
// claims exchange with the page's hidden inputs).
func choose(t *testing.T, b *testutil.Browser, p *testutil.Page, publicURL, policy, exchange string) *testutil.Page {
	t.Helper()
	if !strings.Contains(p.Body, `id="`+exchange+`"`) || !strings.Contains(p.Body, `class="accountButton`) {
		t.Fatalf("no %s button:\n%s", exchange, p.Body)
	}
	form := url.Values{"claimsexchange": {exchange}}
	for _, n := range []string{"tx", "csrf_token", "page"} {
		form.Set(n, hiddenValue(t, p.Body, n))
	}
	resp, err := b.Client.PostForm(publicURL+"/contoso.onmicrosoft.com/"+policy+"/api/SelfAsserted", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := readAll(resp)
	return &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
}
