package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

const (
	tenantID   = "8d2f6a4e-0000-4000-8000-000000000001"
	spaID      = "11111111-1111-4111-8111-111111111111"
	webID      = "22222222-2222-4222-8222-222222222222"
	backendID  = "33333333-3333-4333-8333-333333333333"
	daemonID   = "44444444-4444-4444-8444-444444444444"
	webSecret  = "web-secret-0123456789abcdef"
	daemonSec  = "daemon-secret-0123456789abcdef"
	apiURI     = "https://contoso.onmicrosoft.com/backend"
	flowName   = "B2C_1_signupsignin1"
	spaRedir   = "https://spa.example/"
	webRedir   = "https://web.example/cb"
	webLogout  = "https://web.example/bye"
	testMaster = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)

func testConfigYAML(publicURL, alg string) string {
	return `identity:
  listen: 127.0.0.1:0
  publicUrl: ` + publicURL + `
  tenant: { name: contoso, id: ` + tenantID + ` }
  masterKey: ` + testMaster + `
  signing: { algorithm: ` + alg + ` }
  apps:
    - { name: spa, clientId: ` + spaID + `, type: spa, redirectUris: ["` + spaRedir + `"],
        permissions: ["` + apiURI + `/Hello"] }
    - { name: web, clientId: ` + webID + `, type: web, redirectUris: ["` + webRedir + `"], postLogoutRedirectUris: ["` + webLogout + `"],
        clientSecrets: [` + webSecret + `], permissions: ["` + apiURI + `/.default"] }
    - { name: backend, clientId: ` + backendID + `, type: web, identifierUri: ` + apiURI + `, scopes: [Hello, Write],
        clientSecrets: [backend-secret-0123456789] }
    - { name: daemon, clientId: ` + daemonID + `, type: daemon, clientSecrets: [` + daemonSec + `],
        permissions: ["` + apiURI + `/.default"] }
  userFlows:
    - { name: ` + flowName + `, type: signUpOrSignIn, attributes: [displayName, city],
        claims: [displayName, emails, givenName, surname, objectId, newUser, identityProvider, city] }
    - { name: B2C_1_reset, type: passwordReset }
`
}

func parseConfig(t testing.TB, src string) (*config.Identity, error) {
	t.Helper()
	c, err := config.Parse("/cfg/gatehouse.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	return c.Identity, nil
}

type env struct {
	t      testing.TB
	srv    *httptest.Server
	p      *Provider
	reg    *Registry
	st     store.Store
	pages  *testPages
	user   *store.User
	client *http.Client // cookie jar, never follows redirects
}

func newEnv(t testing.TB, alg string) *env {
	t.Helper()
	return newEnvWith(t, alg, nil)
}

// newEnvWith is newEnv with the config YAML edited first (nil: as is).
func newEnvWith(t testing.TB, alg string, edit func(string) string) *env {
	t.Helper()
	e := &env{t: t}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	src := testConfigYAML(e.srv.URL, alg)
	if edit != nil {
		src = edit(src)
	}
	cfg, err := parseConfig(t, src)
	if err != nil {
		t.Fatal(err)
	}
	e.reg, err = NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.p, err = NewProvider(e.reg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.user = &store.User{ID: "5a1d0e2c-0000-4000-8000-00000000a0a0", DisplayName: "Ada Lovelace", GivenName: "Ada",
		Surname: "Lovelace", Email: "ada@example.com", Attributes: map[string]string{"city": "London"},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.Users().Create(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	e.pages = &testPages{p: e.p, st: st}
	e.p.SetInteraction(e.pages)
	h = e.p
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// authority is the path-form authority of the test flow.
func (e *env) authority() string { return e.srv.URL + "/contoso.onmicrosoft.com/" + flowName }

func (e *env) get(u string) *http.Response {
	e.t.Helper()
	resp, err := e.client.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// authorize runs an authorization request and returns the redirect's
// parameters (query or fragment), failing when there is no redirect.
func (e *env) authorize(params url.Values) (url.Values, *http.Response) {
	e.t.Helper()
	resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + params.Encode())
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("authorize: status %d, want a redirect: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if loc.Fragment != "" {
		v, _ := url.ParseQuery(loc.Fragment)
		return v, resp
	}
	return loc.Query(), resp
}

func (e *env) postToken(form url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.authority()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatalf("token response not JSON: %v", err)
	}
	return resp.StatusCode, m
}

// spaParams is a valid SPA authorization request with PKCE S256.
func spaParams(verifier string) url.Values {
	return url.Values{
		"client_id": {spaID}, "redirect_uri": {spaRedir}, "response_type": {"code"},
		"scope": {"openid offline_access " + apiURI + "/Hello"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"},
	}
}

func s256(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func claimsOf(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// testPages is a stand-in for the hosted pages: Begin signs the fixed
// user in at once and sets an SSO cookie.
type testPages struct {
	p  *Provider
	st store.Store

	mu       sync.Mutex
	begun    []*Transaction
	signOuts int
	apiFlow  string
	known    bool
}

func (tp *testPages) Begin(w http.ResponseWriter, r *http.Request, tx *Transaction) {
	tp.mu.Lock()
	tp.begun = append(tp.begun, tx)
	newUser := !tp.known
	tp.known = true
	tp.mu.Unlock()
	// The pages load the transaction back, as the real ones do.
	got, err := tp.p.Transaction(r.Context(), tx.ID)
	if err != nil {
		http.Error(w, "transaction: "+err.Error(), 500)
		return
	}
	u, err := tp.st.Users().Get(r.Context(), "5a1d0e2c-0000-4000-8000-00000000a0a0")
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "tsess", Value: u.ID, Path: "/", HttpOnly: true})
	tp.p.Complete(w, r, got, Result{User: u, AuthTime: time.Now(), NewUser: newUser, Claims: map[string]any{"extension_Loyalty": "gold", "iss": "evil"}})
}

func (tp *testPages) Session(r *http.Request) (*Result, bool) {
	c, err := r.Cookie("tsess")
	if err != nil || c.Value == "" {
		return nil, false
	}
	u, err := tp.st.Users().Get(r.Context(), c.Value)
	if err != nil {
		return nil, false
	}
	return &Result{User: u, AuthTime: time.Now().Add(-time.Minute)}, true
}

func (tp *testPages) SignOut(w http.ResponseWriter, r *http.Request) {
	tp.mu.Lock()
	tp.signOuts++
	tp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "tsess", Value: "", Path: "/", MaxAge: -1})
}

func (tp *testPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := FlowFromContext(r.Context())
	tp.mu.Lock()
	tp.apiFlow = f.Name
	tp.mu.Unlock()
	_, _ = io.WriteString(w, "pages for "+f.Name)
}
