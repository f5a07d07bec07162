package guard_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

const apiClientID = "6f1f4b5e-0000-4000-8000-0000000000aa"

// upstream is a real backend that records what reached it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	hits int
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.last = r.Clone(r.Context())
		u.hits++
		u.mu.Unlock()
		io.WriteString(w, "hello from upstream")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		t.Fatal("the upstream got no request")
	}
	return u.last
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits
}

// sidecar starts NewReverseProxy(up, New(cfg)) on a real listener.
func sidecar(t *testing.T, up *upstream, cfg guard.Config) *httptest.Server {
	t.Helper()
	return sidecarOn(t, "127.0.0.1:0", up, cfg)
}

func sidecarOn(t *testing.T, addr string, up *upstream, cfg guard.Config) *httptest.Server {
	t.Helper()
	g, err := guard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := httptest.NewUnstartedServer(guard.NewReverseProxy(u, g))
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

type call struct {
	method string
	path   string
	header map[string]string
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, base string, c call) result {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodGet
	}
	req, err := http.NewRequest(c.method, base+c.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

func authConfig(is *testutil.Issuer) *guard.Auth {
	return &guard.Auth{OpenIDConfiguration: is.DiscoveryURL(), Audiences: []string{apiClientID}}
}

func userToken(t *testing.T, is *testutil.Issuer, extra map[string]any) string {
	c := map[string]any{
		"aud":                apiClientID,
		"sub":                "sub-123",
		"oid":                "00000000-0000-0000-0000-0000000000b1",
		"name":               "Alice Example",
		"preferred_username": "alice@contoso.example",
		"roles":              []string{"Reader", "Writer"},
		"scp":                "Hello",
	}
	for k, v := range extra {
		c[k] = v
	}
	return is.Token(t, c)
}

func TestNoTokenIs401WithChallenge(t *testing.T) {
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{Auth: authConfig(is)})
	r := do(t, s.URL, call{path: "/api/hello"})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", r.status)
	}
	host := strings.TrimPrefix(s.URL, "http://")
	if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="`+host+`"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
	if !strings.Contains(r.body, "You do not have permission") {
		t.Errorf("body %q", r.body)
	}
	// A non-bearer Authorization is no token either.
	r = do(t, s.URL, call{path: "/api/hello", header: map[string]string{"Authorization": "Basic YTpi"}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("basic: status %d, want 401", r.status)
	}
	if up.count() != 0 {
		t.Errorf("the upstream was called %d times", up.count())
	}
}

func TestInvalidTokensAre401(t *testing.T) {
	is := testutil.NewIssuer(t)
	other := testutil.NewIssuer(t)
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{Auth: authConfig(is)})
	cases := map[string]string{
		"other audience":   userToken(t, is, map[string]any{"aud": "someone-else"}),
		"other signer":     userToken(t, other, map[string]any{"iss": is.IssuerURL()}),
		"expired":          userToken(t, is, map[string]any{"exp": 1000, "nbf": 900, "iat": 900}),
		"garbage":          "not.a.jwt",
		"wrong issuer":     userToken(t, is, map[string]any{"iss": "https://evil.example/"}),
		"signature edited": userToken(t, is, nil) + "A",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := do(t, s.URL, call{path: "/api/hello", header: map[string]string{"Authorization": "Bearer " + tok}})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.status)
			}
			if c := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(c, `Bearer realm="`) || !strings.HasSuffix(c, `, error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", c)
			}
		})
	}
	if up.count() != 0 {
		t.Errorf("the upstream was called %d times", up.count())
	}
}

func TestValidTokenPassesPrincipal(t *testing.T) {
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{Auth: authConfig(is)})
	tok := userToken(t, is, nil)
	r := do(t, s.URL, call{path: "/api/hello?name=x", header: map[string]string{
		"Authorization": "Bearer " + tok,
		// Forged by the client: must never reach the upstream.
		"X-MS-CLIENT-PRINCIPAL":       "eyJhdXRoX3R5cCI6ImFhZCIsImNsYWltcyI6W119",
		"X-MS-CLIENT-PRINCIPAL-ID":    "admin",
		"X-MS-CLIENT-PRINCIPAL-NAME":  "admin@contoso.example",
		"X-MS-CLIENT-PRINCIPAL-IDP":   "evil",
		"X-MS-TOKEN-AAD-ID-TOKEN":     "forged",
		"X-MS-TOKEN-AAD-ACCESS-TOKEN": "forged",
		"X_MS_CLIENT_PRINCIPAL_ROLES": "admin",
	}})
	if r.status != http.StatusOK || r.body != "hello from upstream" {
		t.Fatalf("status %d body %q", r.status, r.body)
	}
	got := up.lastRequest(t)
	h := got.Header
	if v := h.Get("X-MS-CLIENT-PRINCIPAL-ID"); v != "00000000-0000-0000-0000-0000000000b1" {
		t.Errorf("principal id %q, want the oid", v)
	}
	if v := h.Get("X-MS-CLIENT-PRINCIPAL-NAME"); v != "alice@contoso.example" {
		t.Errorf("principal name %q", v)
	}
	if v := h.Get("X-MS-CLIENT-PRINCIPAL-IDP"); v != "aad" {
		t.Errorf("idp %q", v)
	}
	if v := h.Get("X-MS-TOKEN-AAD-ACCESS-TOKEN"); v != tok {
		t.Errorf("access token header is not the presented token")
	}
	if v := h.Values("X-MS-TOKEN-AAD-ID-TOKEN"); len(v) != 0 {
		t.Errorf("forged id token reached the upstream: %q", v)
	}
	for k := range h {
		if strings.Contains(strings.ToUpper(k), "X_MS_") {
			t.Errorf("forged header %q reached the upstream", k)
		}
	}
	if v := h.Get("Authorization"); v != "Bearer "+tok {
		t.Errorf("Authorization not passed on")
	}
	if got.URL.RawQuery != "name=x" {
		t.Errorf("query %q", got.URL.RawQuery)
	}
	if len(h.Values("X-MS-CLIENT-PRINCIPAL")) != 1 {
		t.Fatalf("principal header values %q", h.Values("X-MS-CLIENT-PRINCIPAL"))
	}
	p, err := guard.DecodePrincipal(h.Get("X-MS-CLIENT-PRINCIPAL"))
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthType != "aad" || p.NameType != "preferred_username" || p.RoleType != "roles" {
		t.Errorf("principal %+v", p)
	}
	want := map[string][]string{
		"aud":   {apiClientID},
		"iss":   {is.IssuerURL()},
		"oid":   {"00000000-0000-0000-0000-0000000000b1"},
		"sub":   {"sub-123"},
		"name":  {"Alice Example"},
		"roles": {"Reader", "Writer"},
		"scp":   {"Hello"},
	}
	have := map[string][]string{}
	for _, c := range p.Claims {
		have[c.Type] = append(have[c.Type], c.Value)
	}
	for k, v := range want {
		if strings.Join(have[k], "|") != strings.Join(v, "|") {
			t.Errorf("claim %s = %q, want %q", k, have[k], v)
		}
	}
	if len(have["exp"]) != 1 || len(have["exp"][0]) < 10 {
		t.Errorf("exp claim %q", have["exp"])
	}
	if xff := h.Get("X-Forwarded-For"); xff != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", xff)
	}
	if v := h.Get("X-Forwarded-Proto"); v != "http" {
		t.Errorf("X-Forwarded-Proto %q", v)
	}
	if v := h.Get("X-Forwarded-Host"); v != strings.TrimPrefix(s.URL, "http://") {
		t.Errorf("X-Forwarded-Host %q", v)
	}
}

func TestPrincipalHeadersStrippedWithoutAuth(t *testing.T) {
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{})
	r := do(t, s.URL, call{path: "/anything", header: map[string]string{
		"X-MS-CLIENT-PRINCIPAL":      "forged",
		"x-ms-client-principal-id":   "admin",
		"X-Ms-Token-Aad-Id-Token":    "forged",
		"X_MS_CLIENT_PRINCIPAL_NAME": "admin",
		"X-Other":                    "kept",
	}})
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	h := up.lastRequest(t).Header
	for k := range h {
		n := strings.ToUpper(strings.ReplaceAll(k, "_", "-"))
		if strings.HasPrefix(n, "X-MS-") {
			t.Errorf("client header %q reached the upstream", k)
		}
	}
	if h.Get("X-Other") != "kept" {
		t.Error("an ordinary header was dropped")
	}
}

func TestFunctionKeys(t *testing.T) {
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{
		FunctionKeys: map[string]string{"hello": "hello-key-0123456789", "Other": "other-key-0123456789", "_host": "host-key-A"},
		HostKeys:     []string{"host-key-B"},
	})
	cases := []struct {
		name   string
		c      call
		status int
		query  string // what the upstream must see
	}{
		{"missing", call{path: "/api/hello"}, 401, ""},
		{"wrong header", call{path: "/api/hello", header: map[string]string{"x-functions-key": "nope"}}, 401, ""},
		{"wrong code", call{path: "/api/hello?code=nope"}, 401, ""},
		{"prefix of the key", call{path: "/api/hello?code=hello-key"}, 401, ""},
		{"other function's key", call{path: "/api/hello?code=other-key-0123456789"}, 401, ""},
		{"two codes", call{path: "/api/hello?code=nope&code=hello-key-0123456789"}, 401, ""},
		{"right header", call{path: "/api/hello?a=1", header: map[string]string{"x-functions-key": "hello-key-0123456789"}}, 200, "a=1"},
		{"right code", call{path: "/api/hello?a=1&code=hello-key-0123456789&b=%2F2"}, 200, "a=1&b=%2F2"},
		{"code name in other case", call{path: "/api/hello?CODE=hello-key-0123456789"}, 200, ""},
		{"function name case", call{path: "/API/Hello/sub?code=hello-key-0123456789"}, 200, ""},
		{"config name case", call{path: "/api/other?code=other-key-0123456789"}, 200, ""},
		{"host key from functionKeys", call{path: "/api/hello?code=host-key-A"}, 200, ""},
		{"host key from HostKeys", call{path: "/api/unlisted", header: map[string]string{"x-functions-key": "host-key-B"}}, 200, ""},
		{"function key outside /api", call{path: "/?code=hello-key-0123456789"}, 401, ""},
		{"unlisted function, function key", call{path: "/api/unlisted?code=hello-key-0123456789"}, 401, ""},
		{"dot segments", call{path: "/api/other/../hello?code=other-key-0123456789"}, 400, ""},
		{"encoded slash", call{path: "/api/other%2F..%2Fhello?code=other-key-0123456789"}, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := up.count()
			r := do(t, s.URL, tc.c)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if up.count() != before {
					t.Error("a refused request reached the upstream")
				}
				if tc.status == 401 && r.body != "" {
					t.Errorf("401 body %q, want empty", r.body)
				}
				return
			}
			got := up.lastRequest(t)
			if got.URL.RawQuery != tc.query {
				t.Errorf("upstream query %q, want %q", got.URL.RawQuery, tc.query)
			}
			if v := got.Header.Values("X-Functions-Key"); len(v) != 0 {
				t.Errorf("the key header reached the upstream")
			}
		})
	}
}

func TestAccessRestrictions(t *testing.T) {
	loop4 := netip.MustParsePrefix("127.0.0.1/32")
	cases := []struct {
		name   string
		rules  []guard.Rule
		status int
	}{
		{"no rules", nil, 200},
		{"allow loopback", []guard.Rule{{Name: "gateway", Action: guard.Allow, Prefix: loop4, Priority: 100}}, 200},
		{"deny with higher priority", []guard.Rule{
			{Name: "gateway", Action: guard.Allow, Prefix: loop4, Priority: 100},
			{Name: "block", Action: guard.Deny, Prefix: netip.MustParsePrefix("127.0.0.0/8"), Priority: 50},
		}, 403},
		{"deny with lower priority", []guard.Rule{
			{Name: "block", Action: guard.Deny, Prefix: netip.MustParsePrefix("127.0.0.0/8"), Priority: 300},
			{Name: "gateway", Action: guard.Allow, Prefix: loop4, Priority: 100},
		}, 200},
		{"implicit deny", []guard.Rule{{Name: "office", Action: guard.Allow, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Priority: 100}}, 403},
		{"deny of another range only", []guard.Rule{{Name: "bad", Action: guard.Deny, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Priority: 100}}, 200},
		{"ipv4-mapped rule", []guard.Rule{{Name: "mapped", Action: guard.Deny, Prefix: netip.MustParsePrefix("::ffff:127.0.0.1/128"), Priority: 1}}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			s := sidecar(t, up, guard.Config{AccessRestrictions: tc.rules})
			r := do(t, s.URL, call{path: "/api/hello"})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.status == 403 {
				if up.count() != 0 {
					t.Error("a denied request reached the upstream")
				}
				if !strings.Contains(r.body, "Error 403 - Forbidden") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
					t.Errorf("403 body %q (%s)", r.body, r.header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestAccessRestrictionsIPv6(t *testing.T) {
	up := newUpstream(t)
	allow := sidecarOn(t, "[::1]:0", up, guard.Config{AccessRestrictions: []guard.Rule{
		{Name: "v6 loopback", Action: guard.Allow, Prefix: netip.MustParsePrefix("::1/128"), Priority: 100},
	}})
	if r := do(t, allow.URL, call{path: "/"}); r.status != 200 {
		t.Fatalf("::1 allowed: status %d", r.status)
	}
	v4only := sidecarOn(t, "[::1]:0", up, guard.Config{AccessRestrictions: []guard.Rule{
		{Name: "v4 loopback", Action: guard.Allow, Prefix: netip.MustParsePrefix("127.0.0.1/32"), Priority: 100},
	}})
	if r := do(t, v4only.URL, call{path: "/"}); r.status != 403 {
		t.Fatalf("::1 against an IPv4 allow rule: status %d, want 403", r.status)
	}
	deny := sidecarOn(t, "[::1]:0", up, guard.Config{AccessRestrictions: []guard.Rule{
		{Name: "v6 block", Action: guard.Deny, Prefix: netip.MustParsePrefix("::/0"), Priority: 10},
		{Name: "v4 all", Action: guard.Allow, Prefix: netip.MustParsePrefix("0.0.0.0/0"), Priority: 20},
	}})
	if r := do(t, deny.URL, call{path: "/"}); r.status != 403 {
		t.Fatalf("::1 denied: status %d, want 403", r.status)
	}
}

func TestForwardedFor(t *testing.T) {
	office := []guard.Rule{{Name: "office", Action: guard.Allow, Prefix: netip.MustParsePrefix("203.0.113.0/24"), Priority: 100}}
	spoof := map[string]string{"X-Forwarded-For": "203.0.113.7"}

	t.Run("untrusted peer ignored", func(t *testing.T) {
		up := newUpstream(t)
		s := sidecar(t, up, guard.Config{AccessRestrictions: office})
		if r := do(t, s.URL, call{path: "/", header: spoof}); r.status != 403 {
			t.Fatalf("status %d, want 403", r.status)
		}
	})
	t.Run("untrusted peer cannot dodge a deny nor forward its claim", func(t *testing.T) {
		up := newUpstream(t)
		s := sidecar(t, up, guard.Config{AccessRestrictions: []guard.Rule{
			{Name: "loopback blocked", Action: guard.Deny, Prefix: netip.MustParsePrefix("127.0.0.1/32"), Priority: 1},
		}})
		if r := do(t, s.URL, call{path: "/", header: spoof}); r.status != 403 {
			t.Fatalf("status %d, want 403", r.status)
		}
		s2 := sidecar(t, up, guard.Config{})
		if r := do(t, s2.URL, call{path: "/", header: map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}}); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		h := up.lastRequest(t).Header
		if v := h.Get("X-Forwarded-For"); v != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want only the peer", v)
		}
		if v := h.Get("X-Forwarded-Host"); v == "evil.example" {
			t.Errorf("untrusted X-Forwarded-Host passed on")
		}
		if v := h.Get("X-Forwarded-Proto"); v != "http" {
			t.Errorf("X-Forwarded-Proto %q", v)
		}
	})
	t.Run("trusted proxy honoured", func(t *testing.T) {
		up := newUpstream(t)
		s := sidecar(t, up, guard.Config{AccessRestrictions: office, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		r := do(t, s.URL, call{path: "/", header: map[string]string{"X-Forwarded-For": "198.51.100.9, 203.0.113.7, 127.0.0.5", "X-Forwarded-Host": "api.contoso.example", "X-Forwarded-Proto": "https"}})
		if r.status != 200 {
			t.Fatalf("status %d, want 200", r.status)
		}
		h := up.lastRequest(t).Header
		if v := h.Get("X-Forwarded-For"); v != "198.51.100.9, 203.0.113.7, 127.0.0.5, 127.0.0.1" {
			t.Errorf("X-Forwarded-For %q", v)
		}
		if v := h.Get("X-Forwarded-Host"); v != "api.contoso.example" {
			t.Errorf("X-Forwarded-Host %q", v)
		}
		if v := h.Get("X-Forwarded-Proto"); v != "https" {
			t.Errorf("X-Forwarded-Proto %q", v)
		}
		// The right-most untrusted hop decides: 198.51.100.9 is not it.
		r = do(t, s.URL, call{path: "/", header: map[string]string{"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}})
		if r.status != 403 {
			t.Fatalf("left-most spoof: status %d, want 403", r.status)
		}
	})
}

func TestRedirectToLogin(t *testing.T) {
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	a := authConfig(is)
	a.Unauthenticated = guard.RedirectToLogin
	a.LoginURL = "https://login.contoso.example/authorize?p=B2C_1_signin"
	s := sidecar(t, up, guard.Config{Auth: a})

	r := do(t, s.URL, call{path: "/app/page?x=1", header: map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}})
	if r.status != http.StatusFound {
		t.Fatalf("browser GET: status %d, want 302", r.status)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "login.contoso.example" || loc.Path != "/authorize" || loc.Query().Get("p") != "B2C_1_signin" || loc.Query().Get("post_login_redirect_uri") != "/app/page?x=1" {
		t.Errorf("Location %s", loc)
	}
	for name, c := range map[string]call{
		"POST":          {method: http.MethodPost, path: "/app/page", header: map[string]string{"Accept": "text/html"}},
		"fetch":         {path: "/api/hello", header: map[string]string{"Accept": "application/json", "Sec-Fetch-Mode": "cors"}},
		"XHR":           {path: "/api/hello", header: map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}},
		"invalid token": {path: "/app/page", header: map[string]string{"Accept": "text/html", "Authorization": "Bearer x.y.z"}},
	} {
		if r := do(t, s.URL, c); r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, r.status)
		}
	}
	tok := userToken(t, is, nil)
	if r := do(t, s.URL, call{path: "/app/page", header: map[string]string{"Accept": "text/html", "Authorization": "Bearer " + tok}}); r.status != 200 {
		t.Errorf("with a token: status %d", r.status)
	}
}

// The checks run in App Service's order: IP, then key, then token.
func TestOrderOfChecks(t *testing.T) {
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	tok := userToken(t, is, nil)
	blocked := sidecar(t, up, guard.Config{
		Auth:               authConfig(is),
		FunctionKeys:       map[string]string{"hello": "k-0123456789"},
		AccessRestrictions: []guard.Rule{{Name: "elsewhere", Action: guard.Allow, Prefix: netip.MustParsePrefix("10.0.0.0/8")}},
	})
	if r := do(t, blocked.URL, call{path: "/api/hello?code=k-0123456789", header: map[string]string{"Authorization": "Bearer " + tok}}); r.status != 403 {
		t.Errorf("IP first: status %d, want 403", r.status)
	}
	s := sidecar(t, up, guard.Config{Auth: authConfig(is), FunctionKeys: map[string]string{"hello": "k-0123456789"}})
	r := do(t, s.URL, call{path: "/api/hello", header: map[string]string{"Authorization": "Bearer " + tok}})
	if r.status != 401 || r.header.Get("WWW-Authenticate") != "" {
		t.Errorf("key before token: status %d, challenge %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	r = do(t, s.URL, call{path: "/api/hello?code=k-0123456789"})
	if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("token after key: status %d, challenge %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	r = do(t, s.URL, call{path: "/api/hello?code=k-0123456789", header: map[string]string{"Authorization": "Bearer " + tok}})
	if r.status != 200 {
		t.Errorf("all checks pass: status %d", r.status)
	}
}

func TestMiddlewareInfoAndRequestUnchanged(t *testing.T) {
	is := testutil.NewIssuer(t)
	g, err := guard.New(guard.Config{Auth: authConfig(is), HostKeys: []string{"host-key"}})
	if err != nil {
		t.Fatal(err)
	}
	var info *guard.Info
	var seen *http.Request
	h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ = guard.InfoFrom(r.Context())
		seen = r
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/Hello?code=host-key&q=1", nil)
	req.RemoteAddr = "192.0.2.10:5555"
	req.Header.Set("Authorization", "Bearer "+userToken(t, is, nil))
	req.Header.Set("X-MS-CLIENT-PRINCIPAL-ID", "forged")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || info == nil {
		t.Fatalf("status %d, info %v", rec.Code, info)
	}
	if info.ClientIP != netip.MustParseAddr("192.0.2.10") || info.Function != "hello" || info.Token == nil || info.Token.Subject != "sub-123" {
		t.Errorf("info %+v", info)
	}
	if seen.URL.RawQuery != "q=1" || seen.RequestURI != "/api/Hello?q=1" {
		t.Errorf("handler saw %q / %q", seen.URL.RawQuery, seen.RequestURI)
	}
	if req.URL.RawQuery != "code=host-key&q=1" || req.Header.Get("X-MS-CLIENT-PRINCIPAL-ID") != "forged" {
		t.Error("the caller's request was modified")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]guard.Config{
		"no audience":         {Auth: &guard.Auth{OpenIDConfiguration: "https://idp.example/.well-known/openid-configuration"}},
		"no openid config":    {Auth: &guard.Auth{Audiences: []string{"a"}}},
		"redirect, no login":  {Auth: &guard.Auth{OpenIDConfiguration: "https://idp.example/x", Audiences: []string{"a"}, Unauthenticated: guard.RedirectToLogin}},
		"relative login":      {Auth: &guard.Auth{OpenIDConfiguration: "https://idp.example/x", Audiences: []string{"a"}, Unauthenticated: guard.RedirectToLogin, LoginURL: "login"}},
		"bad openid url":      {Auth: &guard.Auth{OpenIDConfiguration: "ftp://idp.example/x", Audiences: []string{"a"}}},
		"empty function key":  {FunctionKeys: map[string]string{"hello": ""}},
		"empty host key":      {HostKeys: []string{""}},
		"invalid rule prefix": {AccessRestrictions: []guard.Rule{{Name: "x"}}},
		"bad action":          {AccessRestrictions: []guard.Rule{{Name: "x", Action: 7, Prefix: netip.MustParsePrefix("10.0.0.0/8")}}},
		"case duplicates":     {FunctionKeys: map[string]string{"Hello": "a", "hello": "b"}},
	}
	for name, c := range cases {
		if _, err := guard.New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// Without keys configured the guard leaves them to the upstream.
func TestKeysPassedWhenNotChecked(t *testing.T) {
	up := newUpstream(t)
	s := sidecar(t, up, guard.Config{})
	r := do(t, s.URL, call{path: "/api/hello?code=abc", header: map[string]string{"x-functions-key": "def"}})
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	got := up.lastRequest(t)
	if got.URL.RawQuery != "code=abc" || got.Header.Get("X-Functions-Key") != "def" {
		t.Errorf("upstream saw %q / %q", got.URL.RawQuery, got.Header.Get("X-Functions-Key"))
	}
}
