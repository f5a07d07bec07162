package identity

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

// capEnv is newEnv with extra identity YAML (indented two spaces) and a
// second provider on the same store, as a second process would be.
func capEnv(t *testing.T, extra string) (*env, *httptest.Server) {
	t.Helper()
	e := &env{t: t}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	cfg, err := parseConfig(t, testConfigYAML(e.srv.URL, "RS256")+extra)
	if err != nil {
		t.Fatal(err)
	}
	if e.reg, err = NewRegistry(cfg); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	if e.p, err = NewProvider(e.reg, st, Options{}); err != nil {
		t.Fatal(err)
	}
	e.user = &store.User{ID: "5a1d0e2c-0000-4000-8000-00000000a0a0", DisplayName: "Ada Lovelace", Email: "ada@example.com",
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.Users().Create(context.Background(), e.user); err != nil {
		t.Fatal(err)
	}
	e.pages = &testPages{p: e.p, st: st}
	e.p.SetInteraction(e.pages)
	h = e.p
	e.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The second "process": its own provider and pages, the same store.
	p2, err := NewProvider(e.reg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p2.SetInteraction(&testPages{p: p2, st: st})
	srv2 := httptest.NewServer(p2)
	t.Cleanup(srv2.Close)
	return e, srv2
}

func (e *env) transactions() int {
	e.pages.mu.Lock()
	defer e.pages.mu.Unlock()
	return len(e.pages.begun)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAuthorizeBodyCap: the review's 5 MiB state in an authorize POST is
// refused with 413 before anything is parsed or stored.
func TestAuthorizeBodyCap(t *testing.T) {
	e, _ := capEnv(t, "")
	form := spaParams("verifier-0123456789-0123456789-0123456789")
	form.Set("state", strings.Repeat("s", 5<<20))
	resp, err := e.client.Post(e.authority()+"/oauth2/v2.0/authorize", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "65536 bytes") {
		t.Errorf("5 MiB authorize POST: %d %.300s", resp.StatusCode, body)
	}
	// The same without a Content-Length (chunked): cut at the cap.
	req, _ := http.NewRequest("POST", e.authority()+"/oauth2/v2.0/authorize", io.MultiReader(strings.NewReader(form.Encode())))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1
	resp, err = e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(t, resp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 5 MiB authorize POST: %d %.300s", resp.StatusCode, body)
	}
	if n := e.transactions(); n != 0 {
		t.Errorf("%d transactions stored, want 0", n)
	}
}

// TestAuthorizeParameterCaps: each parameter over its cap (or repeated) is
// refused in the endpoint's format — a page before the client and redirect
// URI are verified, an OAuth error redirect after, never echoing an
// oversized state — and nothing is stored.
func TestAuthorizeParameterCaps(t *testing.T) {
	e, _ := capEnv(t, "")
	verifier := "verifier-0123456789-0123456789-0123456789"
	for _, c := range []struct{ name, value string }{
		{"state", strings.Repeat("s", 2049)},
		{"nonce", strings.Repeat("n", 513)},
		{"login_hint", strings.Repeat("l", 321)},
		{"ui_locales", strings.Repeat("u", 257)},
		{"scope", "openid " + strings.Repeat("x", 2048)},
		{"code_challenge", strings.Repeat("c", 129)},
	} {
		params := spaParams(verifier)
		params.Set(c.name, c.value)
		q, _ := e.authorize(params)
		if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "AADB2C90083: The request parameter '"+c.name+"' is too long") {
			t.Errorf("%s over its cap: %v", c.name, q)
		}
		if c.name == "state" && q.Has("state") {
			t.Errorf("an oversized state was echoed (%d bytes)", len(q.Get("state")))
		}
		if c.name != "state" && q.Get("state") != "st-1" {
			t.Errorf("%s: state %q not returned", c.name, q.Get("state"))
		}
	}
	params := spaParams(verifier)
	params.Add("state", "second")
	if q, _ := e.authorize(params); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "'state' is given more than once") {
		t.Errorf("repeated state: %v", q)
	}
	for _, name := range []string{"client_id", "redirect_uri"} {
		params := spaParams(verifier)
		params.Set(name, params.Get(name)+strings.Repeat("x", 2048))
		resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + params.Encode())
		body := readAll(t, resp)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, "&#39;"+name+"&#39; is too long") {
			t.Errorf("%s over its cap: %d %q %.400s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	// A URL over 8 KiB: 414 before routing.
	params = spaParams(verifier)
	params.Set("x", strings.Repeat("x", 8<<10))
	resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + params.Encode())
	if body := readAll(t, resp); resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("9 KiB URL: %d %.300s", resp.StatusCode, body)
	}
	if n := e.transactions(); n != 0 {
		t.Errorf("%d transactions stored, want 0", n)
	}
	// Within every cap: a transaction.
	if q, _ := e.authorize(spaParams(verifier)); q.Get("code") == "" {
		t.Errorf("valid request: %v", q)
	}
}

// TestTokenAndLogoutCaps: the token endpoint answers caps in JSON, logout
// with a page.
func TestTokenAndLogoutCaps(t *testing.T) {
	e, _ := capEnv(t, "")
	status, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID}, "code": {"x"},
		"code_verifier": {strings.Repeat("v", 129)}, "redirect_uri": {spaRedir}}, "", "")
	if status != 400 || m["error"] != "invalid_request" || !strings.Contains(m["error_description"].(string), "'code_verifier' is too long") {
		t.Errorf("long code_verifier: %d %v", status, m)
	}
	status, m = e.postToken(url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID}, "x": {strings.Repeat("x", 70<<10)}}, "", "")
	if status != http.StatusRequestEntityTooLarge || m["error"] != "invalid_request" {
		t.Errorf("70 KiB token request: %d %v", status, m)
	}
	resp := e.get(e.authority() + "/oauth2/v2.0/logout?state=" + strings.Repeat("s", 2049))
	if body := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "too long") {
		t.Errorf("logout with a long state: %d %.300s", resp.StatusCode, body)
	}
}

// TestAuthorizeThrottle: sign-in transactions per client address are
// counted in the store, so a second process sharing it refuses the next
// one too; X-Forwarded-For from an untrusted peer changes nothing.
func TestAuthorizeThrottle(t *testing.T) {
	e, srv2 := capEnv(t, "  throttle: { authorizePerIp: { limit: 3, window: 1h } }\n")
	verifier := "verifier-0123456789-0123456789-0123456789"
	for i := range 3 {
		params := spaParams(verifier)
		req, _ := http.NewRequest("GET", e.authority()+"/oauth2/v2.0/authorize?"+params.Encode(), nil)
		req.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("authorize %d: %d", i+1, resp.StatusCode)
		}
	}
	for _, base := range []string{e.srv.URL, srv2.URL} {
		resp := e.get(base + "/contoso.onmicrosoft.com/" + flowName + "/oauth2/v2.0/authorize?" + spaParams(verifier).Encode())
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, "AADB2C90244") || !strings.Contains(body, "There are too many requests at this moment. Please wait for some time and try again.") {
			t.Errorf("%s: 4th authorize: %d Retry-After %q %.400s", base, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if n := e.transactions(); n != 3 {
		t.Errorf("%d transactions stored, want 3", n)
	}
}

// Other query parameters are kept for {OAUTH-KV:name}, few and short.
func TestExtraParams(t *testing.T) {
	q := url.Values{"client_id": {"x"}, "campaignId": {"spring"}, "empty": {""}, "long": {strings.Repeat("v", maxExtraParamValue+1)}}
	for i := 0; i < 40; i++ {
		q.Set(fmt.Sprintf("p%02d", i), "v")
	}
	got := extraParams(q)
	if got["campaignId"] != "spring" || got["client_id"] != "" || got["empty"] != "" || got["long"] != "" || len(got) != maxExtraParams {
		t.Errorf("%d %v", len(got), got)
	}
	if extraParams(url.Values{"scope": {"openid"}}) != nil {
		t.Error("protocol parameters only: no extras")
	}
}
