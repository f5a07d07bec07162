package gateway

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// fileBackend is a backend that records every request it receives: the
// path as it arrived and the path a typical file server resolves it to
// (decoded, %2F included, then cleaned). It serves "SECRET" at /secret.txt.
type fileBackend struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenReq
}

type seenReq struct{ raw, resolved, body string }

func newFileBackend(t *testing.T) *fileBackend {
	t.Helper()
	b := &fileBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resolved := path.Clean(r.URL.Path)
		b.mu.Lock()
		b.seen = append(b.seen, seenReq{r.RequestURI, resolved, string(body)})
		b.mu.Unlock()
		if resolved == "/secret.txt" {
			_, _ = io.WriteString(w, "SECRET")
			return
		}
		w.Header().Set("X-Seen-Path", r.URL.EscapedPath())
		_, _ = io.WriteString(w, "file "+resolved)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *fileBackend) requests() []seenReq {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seenReq(nil), b.seen...)
}

// rawGet is testutil.RawGet as a response.
func rawGet(t *testing.T, serverURL, target string) response {
	t.Helper()
	status, header, body := testutil.RawGet(t, serverURL, target)
	return response{status, header, body}
}

// TestPathAttacksStayUnderServiceURL sends the path traversal attempts of
// the security review (issue 9, finding 2) to an API without operations
// and to one with operations, both with serviceUrl <backend>/base, and
// checks what the backend saw.
func TestPathAttacksStayUnderServiceURL(t *testing.T) {
	be := newFileBackend(t)
	dir := t.TempDir()
	cfg := loadConfig(t, dir, `
  apis:
    - { name: all, path: api, serviceUrl: "`+be.URL+`/base", subscriptionRequired: false }
    - name: ops
      path: ops
      serviceUrl: "`+be.URL+`/base"
      subscriptionRequired: false
      operations:
        - { name: files, method: GET, urlTemplate: "/files/{*rest}" }
        - { name: public, method: GET, urlTemplate: "/public/{*rest}" }
        - { name: item, method: GET, urlTemplate: "/items/{id}", policy: item.xml }
        - { name: search, method: GET, urlTemplate: "/search?name={name}", policy: search.xml }
`, map[string]string{
		"item.xml":   `<policies><inbound><base/><rewrite-uri template="/store/{id}"/></inbound></policies>`,
		"search.xml": `<policies><inbound><base/><rewrite-uri template="/store/{name}"/></inbound></policies>`,
	})
	_, srv := start(t, cfg, Options{})

	const (
		hidden  = "The request URL path contains a dot segment behind an encoded slash or backslash."
		control = "The request URL path contains a control character."
		tmplDot = "A URL template parameter is a dot segment."
	)
	cases := []struct {
		target string
		status int
		msg    string // error message (status != 200)
		raw    string // what the backend must see (status 200)
	}{
		// The attack paths of the finding, under both APIs.
		{"/api/files/..%2fsecret.txt", 400, hidden, ""},
		{"/api/files/%2e%2e/secret.txt", 200, "", "/base/secret.txt"}, // resolved before routing: /api/secret.txt
		{"/api/files/%2e%2e%2fsecret.txt", 400, hidden, ""},
		{"/api/files/../secret.txt", 200, "", "/base/secret.txt"},
		{"/api/files//..//secret.txt", 200, "", "/base/files//secret.txt"},
		{"/ops/public/..%2f..%2fsecret.txt", 400, hidden, ""},
		{"/ops/files/..%2fsecret.txt", 400, hidden, ""},
		{"/ops/files/%2e%2e/secret.txt", 404, "Unable to match incoming request to an operation.", ""},
		{"/ops/files/../secret.txt", 404, "Unable to match incoming request to an operation.", ""},
		{"/ops/files//..//secret.txt", 200, "", "/base/files//secret.txt"},
		{"/ops/public/%2E%2e/%2e%2E/secret.txt", 404, "Resource not found", ""}, // /secret.txt: no API
		{"/api/%2e%2e/secret.txt", 404, "Resource not found", ""},
		{"/api/.%2E/.%2e/.%2e/secret.txt", 404, "Resource not found", ""},
		{"/api/..%5csecret.txt", 400, hidden, ""},
		{`/api/files/..\secret.txt`, 400, hidden, ""}, // a raw backslash (IIS backends read it as "/")
		// Routing sees the resolved path.
		{"/api/x/../../ops/files/a", 200, "", "/base/files/a"},
		// Encoded slashes are forwarded encoded, never as "/".
		{"/api/files/a%2Fb", 200, "", "/base/files/a%2Fb"},
		{"/ops/files/dir/a%2Fb", 200, "", "/base/files/dir/a%2Fb"},
		// Control characters, encoded.
		{"/api/files/a%00b", 400, control, ""},
		{"/api/files/%0d%0aX-Injected:%201", 400, control, ""},
		{"/api/files/%1F", 400, control, ""},
		{"/api/files/%7f", 400, control, ""},
		// rewrite-uri with parameters from the path and from the query.
		{"/ops/items/..%2f..%2fsecret.txt", 400, hidden, ""},
		{"/ops/items/a%2Fb", 200, "", "/base/store/a%2Fb"},
		{"/ops/search?name=..%2f..%2fsecret.txt", 400, hidden, ""},
		{"/ops/search?name=..", 400, tmplDot, ""},
		{"/ops/search?name=a%2Fb", 200, "", "/base/store/a%2Fb"},
	}
	for _, c := range cases {
		before := len(be.requests())
		r := rawGet(t, srv.URL, c.target)
		seen := be.requests()[before:]
		if c.status != 200 {
			r.wantError(t, c.status, c.msg)
			if len(seen) != 0 {
				t.Errorf("%s: answered %d but the backend was called with %q", c.target, r.status, seen[0].raw)
			}
			continue
		}
		if r.status != 200 || len(seen) != 1 {
			t.Errorf("%s: status %d, %d backend calls; body %s", c.target, r.status, len(seen), r.body)
			continue
		}
		if seen[0].raw != c.raw {
			t.Errorf("%s: backend saw %q, want %q", c.target, seen[0].raw, c.raw)
		}
	}
	// Whatever the backend saw, nothing resolved outside /base, and the
	// secret was never served.
	for _, s := range be.requests() {
		if !strings.HasPrefix(s.resolved, "/base/") {
			t.Errorf("the backend resolved %q to %q, outside the serviceUrl path /base", s.raw, s.resolved)
		}
	}
}

// TestOriginalUrlIsTheResolvedPath: policies that test the path see what
// was routed, not the caller's spelling.
func TestOriginalUrlIsTheResolvedPath(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
`, map[string]string{"api.xml": `<policies><inbound><base/>
  <set-header name="X-Original" exists-action="override"><value>@(context.Request.OriginalUrl.Path)</value></set-header>
  <set-header name="X-Backend" exists-action="override"><value>@(context.Request.Url.Path)</value></set-header>
</inbound></policies>`})
	_, srv := start(t, cfg, Options{})
	e := rawGet(t, srv.URL, "/api/public/%2e%2e/admin/x").echoed(t)
	if got := e.Headers.Get("X-Original"); got != "/api/admin/x" {
		t.Errorf("OriginalUrl.Path %q, want /api/admin/x", got)
	}
	if got := e.Headers.Get("X-Backend"); got != "/admin/x" || e.Path != "/admin/x" {
		t.Errorf("Url.Path %q, backend %q, want /admin/x", got, e.Path)
	}
}

// countingHandler counts the request body bytes the gateway reads and
// signals when each request is done. It hands the gateway a shallow copy
// so that the server's own body (drained by net/http) is not counted.
type countingHandler struct {
	h    http.Handler
	read atomic.Int64
	done chan struct{}
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r2 := *r
	r2.Body = countingBody{r.Body, &c.read}
	c.h.ServeHTTP(w, &r2)
	if c.done != nil {
		c.done <- struct{}{}
	}
}

const jwtKey = "0123456789abcdef0123456789abcdef" // 32 bytes

// TestBodiesOfRefusedRequestsAreNotRead is finding 7: concurrent large
// unauthenticated POSTs to a validate-jwt API are answered 401 without the
// gateway reading (or buffering) a byte of their bodies, while a policy
// after validate-jwt that reads the body still gets it once the token is
// valid.
func TestBodiesOfRefusedRequestsAreNotRead(t *testing.T) {
	be := newFileBackend(t)
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
`, map[string]string{"api.xml": `<policies><inbound><base/>
  <validate-jwt header-name="Authorization" require-scheme="Bearer">
    <issuer-signing-keys><key>` + base64.StdEncoding.EncodeToString([]byte(jwtKey)) + `</key></issuer-signing-keys>
  </validate-jwt>
  <set-header name="X-Name" exists-action="override"><value>@((string)context.Request.Body.As<JObject>(preserveContent: true)["name"])</value></set-header>
</inbound></policies>`})
	gw, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	ch := &countingHandler{h: gw}
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)

	const n, size = 16, 15 << 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = postUnread(t, srv.URL+"/api/upload", size)
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Errorf("request %d: status %d, want 401", i, s)
		}
	}
	if got := ch.read.Load(); got != 0 {
		t.Errorf("the gateway read %d bytes of refused request bodies, want 0", got)
	}
	if got := promtest.ToFloat64(gw.metrics.bodyRead); got != 0 {
		t.Errorf("gatehouse_gateway_request_body_read_bytes_total = %v, want 0", got)
	}
	if len(be.requests()) != 0 {
		t.Errorf("the backend was called %d times", len(be.requests()))
	}

	// With a valid token the expression reads the body (once) and it is
	// still forwarded whole (preserveContent: true).
	tok := testutil.HS256(t, []byte(jwtKey), map[string]any{"sub": "u", "exp": time.Now().Add(time.Hour).Unix()})
	const small = 100 << 10
	req, err := http.NewRequest("POST", srv.URL+"/api/upload", testutil.PaddedJSON(small))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = small
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("authenticated POST: %d %s", res.StatusCode, body)
	}
	seen := be.requests()
	if len(seen) != 1 || len(seen[0].body) != small || !strings.HasPrefix(seen[0].body, `{"name":"x"`) {
		t.Fatalf("backend got %d requests, body of %d bytes", len(seen), len(seen[len(seen)-1].body))
	}
	if got := ch.read.Load(); got != small {
		t.Errorf("the gateway read %d bytes, want %d (the authenticated body, once)", got, small)
	}
	if got := promtest.ToFloat64(gw.metrics.bodyRead); got != small {
		t.Errorf("bytes buffered %v, want %d", got, small)
	}
	if got := promtest.ToFloat64(gw.metrics.bodyMemory); got != 0 {
		t.Errorf("bytes held after the request %v, want 0", got)
	}
	if gw.budget.used.Load() != 0 {
		t.Errorf("budget still holds %d bytes", gw.budget.used.Load())
	}
}

// postUnread POSTs a body of size bytes on a raw connection and returns
// the status; the body is written by a goroutine that stops when the
// connection is closed, so a gateway that answers without reading is not
// blocked by it.
func postUnread(t *testing.T, u string, size int) int {
	pu, err := url.Parse(u)
	if err != nil {
		t.Error(err)
		return 0
	}
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Error(err)
		return 0
	}
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", pu.RequestURI(), pu.Host, size); err != nil {
		t.Error(err)
		conn.Close()
		return 0
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = io.Copy(conn, testutil.PaddedJSON(size))
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	status := 0
	if err != nil {
		t.Error(err)
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = res.StatusCode
	}
	conn.Close()
	<-wrote
	return status
}

// TestBodyReadByPoliciesStillWorks: set-body, an expression reading the
// body without preserveContent and forward-request inside retry (which
// must resend the body) all behave as before the change.
func TestBodyReadByPoliciesStillWorks(t *testing.T) {
	var attempts atomic.Int32
	var mu sync.Mutex
	var bodies []string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if r.URL.Path == "/retry" && attempts.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(be.Close)
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - name: api
      path: api
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      operations:
        - { name: setbody, method: POST, urlTemplate: "/setbody", policy: setbody.xml }
        - { name: consume, method: POST, urlTemplate: "/consume", policy: consume.xml }
        - { name: retry, method: POST, urlTemplate: "/retry", policy: retry.xml }
        - { name: stream, method: POST, urlTemplate: "/stream" }
`, map[string]string{
		"setbody.xml": `<policies><inbound><base/><set-body>@(context.Request.Body.As<string>() + "!")</set-body></inbound></policies>`,
		// Read without preserveContent: the body is consumed, as in APIM.
		"consume.xml": `<policies><inbound><base/><set-variable name="b" value="@(context.Request.Body.As<string>())"/>
  <set-header name="X-Len" exists-action="override"><value>@(((string)context.Variables["b"]).Length.ToString())</value></set-header></inbound></policies>`,
		"retry.xml": `<policies><inbound><base/></inbound><backend>
  <retry condition="@(context.Response.StatusCode == 500)" count="2" interval="0">
    <forward-request/>
  </retry>
</backend></policies>`,
	})
	gw, srv := start(t, cfg, Options{})

	if r := do(t, "POST", srv.URL+"/api/setbody", strings.NewReader("hello")); r.status != 200 || r.body != "hello!" {
		t.Errorf("set-body: %d %q", r.status, r.body)
	}
	if r := do(t, "POST", srv.URL+"/api/consume", strings.NewReader("hello")); r.status != 200 || r.body != "" {
		t.Errorf("consumed body: %d %q, want 200 and an empty body", r.status, r.body)
	}
	if r := do(t, "POST", srv.URL+"/api/retry", strings.NewReader("again")); r.status != 200 || r.body != "again" {
		t.Errorf("retry: %d %q", r.status, r.body)
	}
	mu.Lock()
	if len(bodies) < 2 || bodies[len(bodies)-2] != "again" || bodies[len(bodies)-1] != "again" {
		t.Errorf("retry attempts sent %q, want the body twice", bodies)
	}
	mu.Unlock()
	// Streamed untouched: no policy reads it, nothing is buffered.
	before := promtest.ToFloat64(gw.metrics.bodyRead)
	if r := do(t, "POST", srv.URL+"/api/stream", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("body"))); r.status != 200 || r.body != "chunked body" {
		t.Errorf("stream: %d %q", r.status, r.body)
	}
	if got := promtest.ToFloat64(gw.metrics.bodyRead); got != before {
		t.Errorf("a streamed body was buffered: %v bytes", got-before)
	}
}

// TestBodyLimits: the per-request cap applies to streamed and read bodies
// (413), and the gateway-wide budget answers 503 with Retry-After when the
// bodies held at once would pass it.
func TestBodyLimits(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/hold" {
			arrived <- struct{}{}
			<-release
		}
		w.Header().Set("X-Len", strconv.Itoa(len(b)))
	}))
	t.Cleanup(be.Close)
	cfg := loadConfig(t, t.TempDir(), `
  limits: { maxRequestBodyBytes: 1000, maxBufferedBodyBytes: 1500 }
  apis:
    - name: api
      path: api
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      operations:
        - { name: stream, method: POST, urlTemplate: "/stream" }
        - { name: read, method: POST, urlTemplate: "/{*rest}", policy: read.xml }
`, map[string]string{"read.xml": `<policies><inbound><base/><set-variable name="b" value="@(context.Request.Body.As<string>(preserveContent: true))"/></inbound></policies>`})
	gw, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	ch := &countingHandler{h: gw, done: make(chan struct{}, 8)}
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	chunked := func(n int) io.Reader { return io.MultiReader(strings.NewReader(""), testutil.PaddedJSON(n)) }
	tooLarge := "Request entity too large. The request body exceeds the gateway's limit of 1000 bytes."

	// Over the cap: announced, streamed chunked, read chunked.
	do(t, "POST", srv.URL+"/api/stream", strings.NewReader(strings.Repeat("a", 1001))).wantError(t, 413, tooLarge)
	<-ch.done
	do(t, "POST", srv.URL+"/api/stream", chunked(5000)).wantError(t, 413, tooLarge)
	<-ch.done
	do(t, "POST", srv.URL+"/api/read", chunked(5000)).wantError(t, 413, tooLarge)
	<-ch.done
	// At the cap: fine both ways.
	if r := do(t, "POST", srv.URL+"/api/stream", chunked(1000)); r.status != 200 || r.header.Get("X-Len") != "1000" {
		t.Errorf("1000-byte streamed body: %d %v", r.status, r.header)
	}
	<-ch.done

	// Budget: request A holds 800 bytes in memory while its backend call
	// waits; B (800 more) does not fit in 1500 and is refused at once.
	resA := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/api/hold", strings.NewReader(strings.Repeat("a", 800)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			resA <- response{}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		resA <- response{res.StatusCode, res.Header, string(b)}
	}()
	<-arrived
	r := do(t, "POST", srv.URL+"/api/read", strings.NewReader(strings.Repeat("b", 800)))
	r.wantError(t, 503, "Service unavailable. The gateway holds too many request bodies in memory; retry later.")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", r.header)
	}
	<-ch.done
	if got := promtest.ToFloat64(gw.metrics.bodyRefusals); got != 1 {
		t.Errorf("budget refusals %v, want 1", got)
	}
	close(release)
	if a := <-resA; a.status != 200 || a.header.Get("X-Len") != "800" {
		t.Errorf("request A: %d %v", a.status, a.header)
	}
	<-ch.done
	// A is done: its bytes are back and B's size fits again.
	if used := gw.budget.used.Load(); used != 0 {
		t.Errorf("budget holds %d bytes with no request in flight", used)
	}
	if r := do(t, "POST", srv.URL+"/api/read", strings.NewReader(strings.Repeat("b", 800))); r.status != 200 || r.header.Get("X-Len") != "800" {
		t.Errorf("after A: %d %v", r.status, r.header)
	}
	<-ch.done
}
