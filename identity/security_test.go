package identity

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRedirectURIExactMatch: RFC 9700 §4.1 — only the exact registered
// string; anything else is an error page, never a redirect.
func TestRedirectURIExactMatch(t *testing.T) {
	e := newEnv(t, "ES256")
	for _, ru := range []string{"https://SPA.example/", "https://spa.example", "https://spa.example/?x=1", "https://spa.example/cb", "https://evil.example/", "https://spa.example/#frag", ""} {
		p := spaParams(oauth2Verifier)
		p.Set("redirect_uri", ru)
		resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + p.Encode())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%q: status %d location %q", ru, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "AADB2C900") {
			t.Errorf("%q: not an error page: %s", ru, body)
		}
	}
	// Unknown client: a page too.
	p := spaParams(oauth2Verifier)
	p.Set("client_id", "99999999-9999-4999-8999-999999999999")
	resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + p.Encode())
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}
}

const oauth2Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-0123456789"

// TestAuthorizeErrorsToRedirect: once the client and redirect URI are
// verified, errors go back to the app with B2C codes.
func TestAuthorizeErrorsToRedirect(t *testing.T) {
	e := newEnv(t, "ES256")
	cases := []struct {
		name  string
		edit  func(url.Values)
		error string
		code  string
	}{
		{"SPA without PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request", "AADB2C99059"},
		{"SPA with plain PKCE", func(v url.Values) { v.Set("code_challenge", oauth2Verifier); v.Set("code_challenge_method", "plain") }, "invalid_request", "AADB2C99059"},
		{"implicit without the app option", func(v url.Values) { v.Set("response_type", "id_token") }, "unauthorized_client", "AADB2C90057"},
		{"response type none", func(v url.Values) { v.Set("response_type", "none") }, "unsupported_response_type", "AADB2C90013"},
		{"two resources", func(v url.Values) { v.Set("scope", "openid "+apiURI+"/Hello "+spaID) }, "invalid_request", "AADB2C90146"},
		{"bad prompt", func(v url.Values) { v.Set("prompt", "always") }, "invalid_request", "AADB2C90043"},
		{"prompt=none without session", func(v url.Values) { v.Set("prompt", "none") }, "login_required", "AADB2C90077"},
	}
	for _, c := range cases {
		p := spaParams(oauth2Verifier)
		c.edit(p)
		q, _ := e.authorize(p)
		if q.Get("error") != c.error || !strings.HasPrefix(q.Get("error_description"), c.code) || q.Get("state") != "st-1" || q.Get("iss") != e.p.Issuer() {
			t.Errorf("%s: %v", c.name, q)
		}
	}
	// prompt=none with a session: a code at once, in the fragment when asked.
	e.authorize(spaParams(oauth2Verifier)) // signs in (sets the SSO cookie)
	p := spaParams(oauth2Verifier)
	p.Set("prompt", "none")
	p.Set("response_mode", "fragment")
	q, resp := e.authorize(p)
	if q.Get("code") == "" || !strings.Contains(resp.Header.Get("Location"), "#") {
		t.Errorf("prompt=none with session: %v", resp.Header.Get("Location"))
	}
	// prompt=login forces the pages despite the session.
	n := len(e.pages.begun)
	p = spaParams(oauth2Verifier)
	p.Set("prompt", "login")
	e.authorize(p)
	if len(e.pages.begun) != n+1 {
		t.Error("prompt=login did not show the pages")
	}
}

// TestCodeBinding: single use, bound to client, redirect URI, PKCE and
// policy (RFC 9700 §2.1, §4.5).
func TestCodeBinding(t *testing.T) {
	e := newEnv(t, "ES256")
	code := func() string {
		q, _ := e.authorize(spaParams(oauth2Verifier))
		return q.Get("code")
	}
	redeem := func(form url.Values) (int, map[string]any) {
		form.Set("grant_type", "authorization_code")
		return e.postToken(form, "", "")
	}
	ok := url.Values{"client_id": {spaID}, "redirect_uri": {spaRedir}, "code_verifier": {oauth2Verifier}}
	with := func(c string, edit func(url.Values)) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = append([]string(nil), vs...)
		}
		v.Set("code", c)
		if edit != nil {
			edit(v)
		}
		return v
	}
	// Reuse.
	c := code()
	if s, m := redeem(with(c, nil)); s != 200 {
		t.Fatalf("first redemption: %v", m)
	}
	if s, m := redeem(with(c, nil)); s != 400 || m["error"] != "invalid_grant" {
		t.Errorf("code reuse: %d %v", s, m)
	}
	bad := []struct {
		name string
		edit func(url.Values)
		code string
	}{
		{"missing verifier", func(v url.Values) { v.Del("code_verifier") }, "AADB2C90183"},
		{"wrong verifier", func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) }, "AADB2C90182"},
		{"other redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://spa.example/other") }, "AADB2C90006"},
		{"other client", func(v url.Values) { v.Set("client_id", webID); v.Set("client_secret", webSecret) }, "AADB2C90088"},
	}
	for _, b := range bad {
		c := code()
		s, m := redeem(with(c, b.edit))
		if s != 400 || m["error"] != "invalid_grant" || !strings.HasPrefix(m["error_description"].(string), b.code) {
			t.Errorf("%s: %d %v", b.name, s, m)
		}
		// A failed redemption burns the code.
		if s, _ := redeem(with(c, nil)); s != 400 {
			t.Errorf("%s: code still usable after a failed redemption", b.name)
		}
	}
	// Another policy.
	c = code()
	form := with(c, nil)
	form.Set("grant_type", "authorization_code")
	req, _ := http.NewRequest("POST", e.srv.URL+"/contoso/B2C_1_reset/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "AADB2C90087") {
		t.Errorf("other policy: %d %s", resp.StatusCode, body)
	}
}

// TestConcurrentCodeRedemption: 20 goroutines redeem one code; exactly one
// gets tokens.
func TestConcurrentCodeRedemption(t *testing.T) {
	e := newEnv(t, "ES256")
	q, _ := e.authorize(spaParams(oauth2Verifier))
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID}, "redirect_uri": {spaRedir},
		"code_verifier": {oauth2Verifier}, "code": {q.Get("code")}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(e.authority()+"/oauth2/v2.0/token", form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", wins)
	}
}

// TestWebAppFormPostAndBasicAuth: a confidential web app, no PKCE,
// response_mode=form_post, client_secret_basic.
func TestWebAppFormPostAndBasicAuth(t *testing.T) {
	e := newEnv(t, "RS256")
	p := url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {"code"},
		"scope": {"openid offline_access " + webID}, "state": {"s<\"x"}, "nonce": {"n"}, "response_mode": {"form_post"}}
	resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + p.Encode())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "form-action https://web.example") || strings.Contains(csp, "frame-ancestors") {
		t.Fatalf("form_post: %d CSP %q", resp.StatusCode, csp)
	}
	s := string(body)
	if !strings.Contains(s, `action="https://web.example/cb"`) || !strings.Contains(s, `name="state" value="s&lt;&#34;x"`) {
		t.Fatalf("form: %s", s)
	}
	i := strings.Index(s, `name="code" value="`)
	code := s[i+len(`name="code" value="`):]
	code = code[:strings.IndexByte(code, '"')]
	status, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webRedir}}, webID, webSecret)
	if status != 200 {
		t.Fatalf("redeem: %v", m)
	}
	// Client id as scope: access token for the app itself, refresh token per flow (14 days).
	if claimsOf(t, m["access_token"].(string))["aud"] != webID || m["refresh_token_expires_in"].(float64) != 14*86400 {
		t.Errorf("web tokens: %v", m)
	}
	// Refresh needs the secret.
	status, m = e.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {webID}, "refresh_token": {m["refresh_token"].(string)}}, "", "")
	if status != 400 || !strings.HasPrefix(m["error_description"].(string), "AADB2C90079") {
		t.Errorf("refresh without secret: %d %v", status, m)
	}
}

// TestLogout: a redirect only to the client's registered URIs.
func TestLogout(t *testing.T) {
	e := newEnv(t, "ES256")
	q, _ := e.authorize(url.Values{"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {"code"}, "scope": {"openid"}})
	_, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {webRedir}}, webID, webSecret)
	idt, _ := m["id_token"].(string)
	if idt == "" {
		t.Fatalf("no id token: %v", m)
	}
	logout := func(v url.Values) *http.Response {
		resp := e.get(e.authority() + "/oauth2/v2.0/logout?" + v.Encode())
		resp.Body.Close()
		return resp
	}
	cases := []struct {
		name string
		v    url.Values
		want string // "" = signed-out page
	}{
		{"client_id + registered post-logout URI", url.Values{"client_id": {webID}, "post_logout_redirect_uri": {webLogout}, "state": {"x y"}}, webLogout + "?state=x+y"},
		{"hint + registered redirect URI", url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {webRedir}}, webRedir},
		{"open redirect without client", url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}, ""},
		{"open redirect with client", url.Values{"client_id": {webID}, "post_logout_redirect_uri": {"https://evil.example/"}}, ""},
		{"near miss", url.Values{"client_id": {webID}, "post_logout_redirect_uri": {webLogout + "/"}}, ""},
		{"forged hint", url.Values{"id_token_hint": {idt[:len(idt)-4] + "AAAA"}, "post_logout_redirect_uri": {webRedir}}, ""},
		{"hint of another client", url.Values{"client_id": {spaID}, "id_token_hint": {idt}, "post_logout_redirect_uri": {spaRedir}}, ""},
	}
	for _, c := range cases {
		resp := logout(c.v)
		got := resp.Header.Get("Location")
		if c.want == "" && (resp.StatusCode != 200 || got != "") || c.want != "" && (resp.StatusCode != 302 || got != c.want) {
			t.Errorf("%s: %d %q, want %q", c.name, resp.StatusCode, got, c.want)
		}
	}
	if e.pages.signOuts != len(cases) {
		t.Errorf("SignOut called %d times, want %d", e.pages.signOuts, len(cases))
	}
}

// TestTokenCORS: the token endpoint answers CORS only for SPA origins.
func TestTokenCORS(t *testing.T) {
	e := newEnv(t, "ES256")
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", e.authority()+"/oauth2/v2.0/token", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := pre("https://spa.example"); r.Header.Get("Access-Control-Allow-Origin") != "https://spa.example" || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("SPA preflight: %v", r.Header)
	}
	if r := pre("https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed")
	}
	req, _ := http.NewRequest("POST", e.authority()+"/oauth2/v2.0/token", strings.NewReader("grant_type=refresh_token&client_id="+spaID+"&refresh_token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://spa.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://spa.example" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("actual request headers: %v", resp.Header)
	}
}

// TestRefreshTokensValidFrom: moving the user's RefreshTokensValidFrom
// revokes refresh tokens issued before it.
func TestRefreshTokensValidFrom(t *testing.T) {
	e := newEnv(t, "ES256")
	q, _ := e.authorize(spaParams(oauth2Verifier))
	_, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID}, "code": {q.Get("code")},
		"redirect_uri": {spaRedir}, "code_verifier": {oauth2Verifier}}, "", "")
	rt, _ := m["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %v", m)
	}
	u, _ := e.st.Users().Get(t.Context(), e.user.ID)
	u.RefreshTokensValidFrom = time.Now().Add(time.Second)
	if err := e.st.Users().Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	s, m := e.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {rt}}, "", "")
	if s != 400 || !strings.HasPrefix(m["error_description"].(string), "AADB2C90129") {
		t.Fatalf("revoked user token: %d %v", s, m)
	}
}
