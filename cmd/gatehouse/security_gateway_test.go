package main

// Binary tests of the gateway findings of the security review (issue 9):
// finding 2 (a request path escaping the API's serviceUrl) and finding 7
// (request bodies buffered before any policy ran).

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sgBackend records what it receives: the request target as it arrived and
// the path a typical file server resolves it to (decoded, %2F included,
// then cleaned). It serves "SECRET" at /secret.txt.
type sgBackend struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []sgSeen
	hold  chan chan struct{} // when set, requests to /hold wait for a release
	calls atomic.Int64
}

type sgSeen struct {
	raw, resolved string
	bodyLen       int
	name          string // X-Name header set by the policy
}

func newSGBackend(t *testing.T) *sgBackend {
	t.Helper()
	b := &sgBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		resolved := path.Clean(r.URL.Path)
		b.mu.Lock()
		b.seen = append(b.seen, sgSeen{r.RequestURI, resolved, len(body), r.Header.Get("X-Name")})
		b.mu.Unlock()
		if b.hold != nil && strings.HasSuffix(r.URL.Path, "/hold") {
			release := make(chan struct{})
			b.hold <- release
			<-release
		}
		if resolved == "/secret.txt" {
			_, _ = io.WriteString(w, "SECRET")
			return
		}
		w.Header().Set("X-Len", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, "file "+resolved)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *sgBackend) requests() []sgSeen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sgSeen(nil), b.seen...)
}

type sgResponse struct {
	status int
	header http.Header
	body   string
}

// sgRawGet is testutil.RawGet as an sgResponse.
func sgRawGet(t *testing.T, base, target string) sgResponse {
	t.Helper()
	status, header, body := testutil.RawGet(t, base, target)
	return sgResponse{status, header, body}
}

func (r sgResponse) wantAPIM(t *testing.T, what string, status int, msg string) {
	t.Helper()
	var v struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if r.status != status || json.Unmarshal([]byte(r.body), &v) != nil || v.StatusCode != status || v.Message != msg ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: %d %s %q, want %d {\"statusCode\":%d,\"message\":%q}", what, r.status, r.header.Get("Content-Type"), r.body, status, status, msg)
	}
}

func TestGatewayBinaryPathEscapes(t *testing.T) {
	be := newSGBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "item.xml", `<policies><inbound><base/><rewrite-uri template="/store/{id}"/></inbound></policies>`)
	writeFile(t, dir, "search.xml", `<policies><inbound><base/><rewrite-uri template="/store/{name}"/></inbound></policies>`)
	cfg := writeFile(t, dir, "gatehouse.yaml", `gateway:
  listen: 127.0.0.1:0
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
`)
	gw := startServe(t, cfg, nil, "gateway").url("gateway")

	const (
		hidden  = "The request URL path contains a dot segment behind an encoded slash or backslash."
		control = "The request URL path contains a control character."
		noOp    = "Unable to match incoming request to an operation."
	)
	for _, c := range []struct {
		target string
		status int
		msg    string // APIM error message when status != 200
		raw    string // request target the backend must see when 200
	}{
		{"/api/files/..%2fsecret.txt", 400, hidden, ""},
		{"/api/files/%2e%2e/secret.txt", 200, "", "/base/secret.txt"},
		{"/api/files/%2e%2e%2fsecret.txt", 400, hidden, ""},
		{"/api/files/../secret.txt", 200, "", "/base/secret.txt"},
		{"/api/files//..//secret.txt", 200, "", "/base/files//secret.txt"},
		{"/ops/public/..%2f..%2fsecret.txt", 400, hidden, ""},
		{"/ops/files/%2E%2E/secret.txt", 404, noOp, ""},
		{"/ops/files/../secret.txt", 404, noOp, ""},
		{"/ops/files//..//secret.txt", 200, "", "/base/files//secret.txt"},
		{"/api/%2e%2e/%2e%2e/secret.txt", 404, "Resource not found", ""},
		{"/api/files/a%2Fb", 200, "", "/base/files/a%2Fb"},
		{"/api/files/a%00b", 400, control, ""},
		{"/api/files/%0D%0AX:%201", 400, control, ""},
		{"/api/files/%7f", 400, control, ""},
		{"/ops/items/..%2f..%2fsecret.txt", 400, hidden, ""},
		{"/ops/items/a%2Fb", 200, "", "/base/store/a%2Fb"},
		{"/ops/search?name=..%2f..%2fsecret.txt", 400, hidden, ""},
	} {
		before := len(be.requests())
		r := sgRawGet(t, gw, c.target)
		seen := be.requests()[before:]
		if strings.Contains(r.body, "SECRET") {
			t.Errorf("%s: the backend's /secret.txt was served", c.target)
		}
		if c.status != 200 {
			r.wantAPIM(t, c.target, c.status, c.msg)
			if len(seen) != 0 {
				t.Errorf("%s: %d, but the backend was called with %q", c.target, r.status, seen[0].raw)
			}
			continue
		}
		if r.status != 200 || len(seen) != 1 || seen[0].raw != c.raw {
			t.Errorf("%s: status %d, backend saw %v, want %q", c.target, r.status, seen, c.raw)
		}
	}
	for _, s := range be.requests() {
		if !strings.HasPrefix(s.resolved, "/base/") {
			t.Errorf("the backend resolved %q to %q, outside the serviceUrl path /base", s.raw, s.resolved)
		}
	}
}

// sgRchar is the bytes the process has read through read(2) and friends
// (sockets included), from /proc/PID/io: what the gateway read of request
// bodies shows there, whatever the process then does with it.
func sgRchar(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skipf("needs Linux's /proc/PID/io: %v", err)
		}
		t.Fatalf("reading /proc/%d/io: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no rchar in /proc/%d/io", pid)
	return 0
}

// sgPost POSTs size bytes with Content-Length on a raw connection and
// returns the response. The body is written by a goroutine that ends when
// the connection closes, so a gateway that answers without reading the
// body is not held up by it.
func sgPost(base, target string, size int, headers ...string) (sgResponse, error) {
	u, err := url.Parse(base)
	if err != nil {
		return sgResponse{}, err
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return sgResponse{}, err
	}
	defer conn.Close()
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", target, u.Host, size)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&h, "%s: %s\r\n", headers[i], headers[i+1])
	}
	h.WriteString("\r\n")
	if _, err := io.WriteString(conn, h.String()); err != nil {
		return sgResponse{}, err
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = io.Copy(conn, testutil.PaddedJSON(size))
	}()
	defer func() { conn.Close(); <-wrote }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return sgResponse{}, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	return sgResponse{res.StatusCode, res.Header, string(b)}, err
}

// TestGatewayBinaryRefusedBodiesNotRead: 16 concurrent unauthenticated
// 15 MiB POSTs to a validate-jwt API whose policy reads the body after
// validate-jwt: all 401, the backend never called, and the gatehouse
// process reads (per /proc/PID/io) not even one body's worth of bytes. A
// valid token then gets its body read by the expression and forwarded.
func TestGatewayBinaryRefusedBodiesNotRead(t *testing.T) {
	be := newSGBackend(t)
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	writeFile(t, dir, "api.xml", `<policies><inbound><base/>
  <validate-jwt header-name="Authorization" require-scheme="Bearer">
    <issuer-signing-keys><key>`+base64.StdEncoding.EncodeToString(key)+`</key></issuer-signing-keys>
  </validate-jwt>
  <set-header name="X-Name" exists-action="override"><value>@((string)context.Request.Body.As<JObject>(preserveContent: true)["name"])</value></set-header>
</inbound></policies>`)
	cfg := writeFile(t, dir, "gatehouse.yaml", `gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
`)
	srv := startServe(t, cfg, nil, "gateway")
	gw := srv.url("gateway")
	pid := srv.cmd.Process.Pid

	const n, size = 16, 15 << 20
	before := sgRchar(t, pid)
	var wg sync.WaitGroup
	results := make([]sgResponse, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = sgPost(gw, "/api/upload", size)
		}()
	}
	wg.Wait()
	read := sgRchar(t, pid) - before
	for i := range n {
		if errs[i] != nil {
			t.Errorf("request %d: %v", i, errs[i])
			continue
		}
		results[i].wantAPIM(t, "unauthenticated POST", 401, "JWT not present.")
	}
	if be.calls.Load() != 0 {
		t.Errorf("the backend was called %d times", be.calls.Load())
	}
	// The gateway reads none of it. What the process reads is the headers
	// and net/http's own bounded drain of a connection it closes (at most
	// 256 KiB each, into a fixed buffer): about 4 MiB for all 16, less
	// than a third of one body. The old gateway read all 240 MiB.
	const perConn = 256<<10 + 64<<10
	if read > n*perConn {
		t.Errorf("the gatehouse process read %d bytes while refusing %d unauthenticated bodies, want < %d", read, n, n*perConn)
	}

	tok := testutil.HS256(t, key, map[string]any{"sub": "u", "exp": time.Now().Add(time.Hour).Unix()})
	r, err := sgPost(gw, "/api/upload", 200<<10, "Authorization", "Bearer "+tok)
	if err != nil || r.status != 200 {
		t.Fatalf("authenticated POST: %v %d %s", err, r.status, r.body)
	}
	seen := be.requests()
	if len(seen) != 1 || seen[0].bodyLen != 200<<10 || seen[0].name != "x" {
		t.Fatalf("backend saw %+v, want one request with the 200 KiB body and X-Name x", seen)
	}
}

// TestGatewayBinaryBodyLimits: gateway.limits in the config file. The cap
// answers 413 (announced or chunked); the memory budget answers 503 with
// Retry-After, at once, while another request holds its body.
func TestGatewayBinaryBodyLimits(t *testing.T) {
	be := newSGBackend(t)
	be.hold = make(chan chan struct{})
	dir := t.TempDir()
	writeFile(t, dir, "read.xml", `<policies><inbound><base/><set-variable name="b" value="@(context.Request.Body.As<string>(preserveContent: true))"/></inbound></policies>`)
	cfg := writeFile(t, dir, "gatehouse.yaml", `gateway:
  listen: 127.0.0.1:0
  limits: { maxRequestBodyBytes: 1000, maxBufferedBodyBytes: 1500 }
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: read.xml }
`)
	gw := startServe(t, cfg, nil, "gateway").url("gateway")
	tooLarge := "Request entity too large. The request body exceeds the gateway's limit of 1000 bytes."

	r, err := sgPost(gw, "/api/x", 1001)
	if err != nil {
		t.Fatal(err)
	}
	r.wantAPIM(t, "1001-byte body", 413, tooLarge)
	res, err := http.Post(gw+"/api/x", "text/plain", io.MultiReader(strings.NewReader(""), testutil.PaddedJSON(5000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sgResponse{res.StatusCode, res.Header, string(b)}.wantAPIM(t, "chunked 5000-byte body", 413, tooLarge)

	// A holds 800 bytes while its backend call waits; B's 800 do not fit.
	aDone := make(chan sgResponse, 1)
	go func() {
		r, _ := sgPost(gw, "/api/hold", 800)
		aDone <- r
	}()
	release := <-be.hold
	r, err = sgPost(gw, "/api/x", 800)
	if err != nil {
		t.Fatal(err)
	}
	r.wantAPIM(t, "body over the budget", 503, "Service unavailable. The gateway holds too many request bodies in memory; retry later.")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", r.header)
	}
	close(release)
	if a := <-aDone; a.status != 200 || a.header.Get("X-Len") != "800" {
		t.Errorf("request A: %d %v %s", a.status, a.header, a.body)
	}
}
