package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/internal/config"
)

func TestRoutingLongestPrefixAndBackendURL(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: v1, path: shop, serviceUrl: "`+a.URL+`/base/", subscriptionRequired: false }
    - { name: v2, path: /Shop/V2/, serviceUrl: "`+b.URL+`/two", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{})

	cases := []struct {
		path, backend, backendPath, query string
	}{
		{"/shop/orders/1?x=1&y=2", "a", "/base/orders/1", "x=1&y=2"},
		{"/SHOP/orders", "a", "/base/orders", ""},
		{"/shop/v2/orders", "b", "/two/orders", ""},
		{"/shop/V2", "b", "/two", ""},
		{"/shop/v2/", "b", "/two/", ""},
		{"/shop/v2x/orders", "a", "/base/v2x/orders", ""}, // whole segments only
		{"/shop", "a", "/base", ""},
	}
	for _, c := range cases {
		e := get(t, srv.URL+c.path).echoed(t)
		if e.Backend != c.backend || e.Path != c.backendPath || e.Query != c.query {
			t.Errorf("%s: backend %s %s?%s, want %s %s?%s", c.path, e.Backend, e.Path, e.Query, c.backend, c.backendPath, c.query)
		}
	}
	get(t, srv.URL+"/shopping").wantError(t, 404, "Resource not found")
	get(t, srv.URL+"/").wantError(t, 404, "Resource not found")
}

func TestRoutingRootAPI(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: root, path: "", serviceUrl: "`+a.URL+`", subscriptionRequired: false }
    - { name: api, path: api, serviceUrl: "`+b.URL+`", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{})
	if e := get(t, srv.URL+"/anything/here").echoed(t); e.Backend != "a" || e.Path != "/anything/here" {
		t.Errorf("root API: %+v", e)
	}
	if e := get(t, srv.URL+"/api/x").echoed(t); e.Backend != "b" || e.Path != "/x" {
		t.Errorf("api: %+v", e)
	}
	if r := get(t, srv.URL+"/healthz"); r.status != 200 || r.body != "ok" {
		t.Errorf("/healthz under a root API: %d %q", r.status, r.body)
	}
}

func TestOperationsMatching(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - name: api
      path: api
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      operations:
        - { name: get-user, method: GET, urlTemplate: "/users/{id}" }
        - { name: get-me, method: GET, urlTemplate: "/users/me" }
        - { name: put-user, method: put, urlTemplate: "/users/{id}" }
        - { name: files, method: GET, urlTemplate: "/files/{*path}" }
        - { name: file-ext, method: GET, urlTemplate: "/files/{name}.{ext}" }
        - { name: query, method: GET, urlTemplate: "/get?a={b}" }
        - { name: root, method: GET, urlTemplate: "/" }
        - { name: any, method: "*", urlTemplate: "/any" }
`, nil)
	gw, srv := start(t, cfg, Options{})

	st := gw.cur.Load()
	cases := []struct {
		method, path, op string
		params           map[string]string
	}{
		{"GET", "/api/users/42", "get-user", map[string]string{"id": "42"}},
		{"GET", "/api/Users/ME", "get-me", map[string]string{}},
		{"PUT", "/api/users/42", "put-user", map[string]string{"id": "42"}},
		{"GET", "/api/users/a%20b", "get-user", map[string]string{"id": "a b"}},
		{"GET", "/api/files/a/b/c.txt", "files", map[string]string{"path": "a/b/c.txt"}},
		{"GET", "/api/files/c.txt", "file-ext", map[string]string{"name": "c", "ext": "txt"}},
		{"GET", "/api/files/", "files", map[string]string{"path": ""}},
		{"GET", "/api/get?a=1&c=2", "query", map[string]string{"b": "1"}},
		{"GET", "/api", "root", map[string]string{}},
		{"GET", "/api/", "root", map[string]string{}},
		{"DELETE", "/api/any", "any", map[string]string{}},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.path)
		segs, err := apim.ResolvePath(u.EscapedPath())
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		a, rest := st.findAPI(segs, httptest.NewRequest(c.method, c.path, nil))
		if a == nil {
			t.Fatalf("%s: API not found", c.path)
		}
		op, params, _ := a.findOperation(c.method, rest, u.Query())
		if op == nil || op.cfg.Name != c.op {
			t.Errorf("%s %s: operation %v, want %s", c.method, c.path, op, c.op)
			continue
		}
		for k, v := range c.params {
			if params[k] != v {
				t.Errorf("%s %s: param %s=%q, want %q", c.method, c.path, k, params[k], v)
			}
		}
		if len(params) != len(c.params) {
			t.Errorf("%s %s: params %v, want %v", c.method, c.path, params, c.params)
		}
	}

	// Over HTTP: matches reach the backend, misses get APIM's 404.
	if e := get(t, srv.URL+"/api/users/42?x=1").echoed(t); e.Path != "/users/42" || e.Query != "x=1" {
		t.Errorf("backend saw %s?%s", e.Path, e.Query)
	}
	for _, miss := range []struct{ method, path string }{
		{"POST", "/api/users/42"},
		{"GET", "/api/users"},
		{"GET", "/api/users/42/x"},
		{"GET", "/api/get?b=1"},
		{"GET", "/api/nothing"},
	} {
		do(t, miss.method, srv.URL+miss.path, nil).wantError(t, 404, "Unable to match incoming request to an operation.")
	}
}

func TestNoOperationsAcceptsEverything(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: open, path: open, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{})
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		e := do(t, m, srv.URL+"/open/x/y/z", strings.NewReader("hi")).echoed(t)
		if e.Method != m || e.Path != "/x/y/z" {
			t.Errorf("%s: backend saw %s %s", m, e.Method, e.Path)
		}
	}
	e := do(t, "POST", srv.URL+"/open/body", strings.NewReader("payload")).echoed(t)
	if e.Body != "payload" {
		t.Errorf("body %q", e.Body)
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, tmpl := range []string{"/a/{*rest}/b", "/a/{id}/{id}", "/a/{", "/a/x}", "/a/{bad name}", "/a/{x}{*y}"} {
		if _, _, err := parseTemplate(tmpl); err == nil {
			t.Errorf("%s: no error", tmpl)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{MaxBodyBytes: 10})
	if e := do(t, "POST", srv.URL+"/api/x", strings.NewReader("0123456789")).echoed(t); e.Body != "0123456789" {
		t.Errorf("body at the limit: %q", e.Body)
	}
	r := do(t, "POST", srv.URL+"/api/x", strings.NewReader("0123456789A"))
	r.wantError(t, http.StatusRequestEntityTooLarge, bodyTooLarge{10}.Error())
	// Chunked (unknown length) bodies are capped too.
	r = do(t, "POST", srv.URL+"/api/x", struct{ *strings.Reader }{strings.NewReader(strings.Repeat("x", 100))})
	r.wantError(t, http.StatusRequestEntityTooLarge, bodyTooLarge{10}.Error())
}

// echoPath answers with the backend URL's path.
type echoPath struct{}

func (echoPath) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(r.URL.Host + r.URL.Path)), Request: r}, nil
}

// The first-segment index routes as the longest-path-first scan did: the
// longest matching path among APIs sharing a first segment, case and
// escapes ignored, the root API last.
func TestRouteIndex(t *testing.T) {
	cfg, err := config.Parse("/r.yaml", []byte(`gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: root, path: "", serviceUrl: "http://root.invalid", subscriptionRequired: false }
    - { name: shop, path: shop, serviceUrl: "http://shop.invalid", subscriptionRequired: false }
    - { name: shopv2, path: shop/v2, serviceUrl: "http://shopv2.invalid", subscriptionRequired: false }
    - { name: tilde, path: "caf~e", serviceUrl: "http://tilde.invalid", subscriptionRequired: false }
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(cfg.Gateway, Options{Transport: echoPath{}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	for path, want := range map[string]string{
		"/shop/x": "shop.invalid/x", "/SHOP/v2/x": "shopv2.invalid/x", "/shop/v3/x": "shop.invalid/v3/x",
		"/caf%7Ee/x": "tilde.invalid/x", "/other/x": "root.invalid/other/x", "/": "root.invalid/",
	} {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("%s: %d %q, want %q", path, rec.Code, rec.Body.String(), want)
		}
	}
}

// APIs sharing a path, versioned by a header or a query parameter (APIM's
// Header and Query schemes): the version the request gives picks the API,
// the Original (no identifier) answers requests that give none.
func TestRouteVersionHeaderQuery(t *testing.T) {
	cfg, err := config.Parse("/v.yaml", []byte(`gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: h-orig, path: h, serviceUrl: "http://h-orig.invalid", subscriptionRequired: false, version: { name: "", header: Api-Version } }
    - { name: h1, path: h, serviceUrl: "http://h1.invalid", subscriptionRequired: false, version: { name: v1, header: Api-Version } }
    - { name: h2, path: h, serviceUrl: "http://h2.invalid", subscriptionRequired: false, version: { name: v2, header: Api-Version } }
    - { name: q1, path: q, serviceUrl: "http://q1.invalid", subscriptionRequired: false, version: { name: "2024-01-01", query: api-version } }
    - { name: q2, path: q, serviceUrl: "http://q2.invalid", subscriptionRequired: false, version: { name: "2025-01-01", query: api-version } }
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(cfg.Gateway, Options{Transport: echoPath{}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	for _, c := range []struct{ target, header, want string }{
		{"/h/x", "", "h-orig.invalid/x"}, {"/h/x", "v1", "h1.invalid/x"}, {"/h/x", "V2", "h2.invalid/x"}, {"/h/x", "v9", ""},
		{"/q/x?api-version=2024-01-01", "", "q1.invalid/x"}, {"/q/x?api-version=2025-01-01", "", "q2.invalid/x"}, {"/q/x", "", ""},
	} {
		req := httptest.NewRequest("GET", c.target, nil)
		if c.header != "" {
			req.Header.Set("Api-Version", c.header)
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if c.want == "" && rec.Code != 404 || c.want != "" && (rec.Code != 200 || rec.Body.String() != c.want) {
			t.Errorf("%s (Api-Version %q): %d %q, want %q", c.target, c.header, rec.Code, rec.Body.String(), c.want)
		}
	}
	_, err = config.Parse("/v.yaml", []byte(`gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: a, path: p, serviceUrl: "http://a.invalid" }
    - { name: b, path: p, serviceUrl: "http://b.invalid", version: { name: v1, header: Api-Version } }
`), func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "all need a version") {
		t.Errorf("a versioned and an unversioned API on one path: %v", err)
	}
}
