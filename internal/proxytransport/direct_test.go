package proxytransport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// newCounted starts a backend that counts the connections it accepted.
func newCounted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func do(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestDirectKeepAliveBodiesAndHeaders(t *testing.T) {
	srv, conns := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-UA", r.Header.Get("User-Agent"))
		w.Header().Set("X-Len", r.Header.Get("Content-Length"))
		if r.URL.Query().Get("chunked") != "" {
			w.Header().Set("Trailer", "X-Sum")
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write(body)
			w.Header().Set("X-Sum", "ok")
			return
		}
		w.Write(append([]byte(r.URL.Path+":"), body...))
	})
	tr := New()
	defer tr.CloseIdleConnections()
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest("GET", srv.URL+"/a", nil)
		req.Header["User-Agent"] = nil // as the gateway sends it: none added
		if !tr.eligible(req) {
			t.Fatal("a GET to an http backend should take the direct path")
		}
		resp, body := do(t, tr, req)
		if body != "/a:" || resp.Header.Get("X-UA") != "" {
			t.Fatalf("GET: %q, user agent %q", body, resp.Header.Get("X-UA"))
		}
	}
	// A POST with an in-memory body, and a chunked answer with a trailer.
	req, _ := http.NewRequest("POST", srv.URL+"/p?chunked=1", bytes.NewReader([]byte("hello")))
	resp, body := do(t, tr, req)
	if body != "part1-hello" || resp.Trailer.Get("X-Sum") != "ok" || resp.Header.Get("X-Len") != "5" {
		t.Fatalf("chunked POST: %q trailer %q len %q", body, resp.Trailer.Get("X-Sum"), resp.Header.Get("X-Len"))
	}
	// HEAD has no body to read; the connection is reused at once.
	req, _ = http.NewRequest("HEAD", srv.URL+"/h", nil)
	if resp, body = do(t, tr, req); body != "" || resp.Header.Get("X-Method") != "HEAD" {
		t.Fatalf("HEAD: %q %v", body, resp.Header)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("22 sequential requests used %d connections, want 1 (keep-alive)", n)
	}
}

func TestDirectLeavesStreamsAndUpgradesToStd(t *testing.T) {
	tr := New()
	stream, _ := http.NewRequest("POST", "http://example.test/", io.NopCloser(strings.NewReader("x")))
	stream.ContentLength = 1
	upgrade, _ := http.NewRequest("GET", "http://example.test/", nil)
	upgrade.Header.Set("Upgrade", "websocket")
	big, _ := http.NewRequest("POST", "http://example.test/", bytes.NewReader(make([]byte, directBodyMax+1)))
	expect, _ := http.NewRequest("POST", "http://example.test/", bytes.NewReader([]byte("x")))
	expect.Header.Set("Expect", "100-continue")
	h2c, _ := http.NewRequest("GET", "h2c://example.test/", nil)
	for name, req := range map[string]*http.Request{"stream": stream, "upgrade": upgrade, "big": big, "expect": expect, "h2c": h2c} {
		if tr.eligible(req) {
			t.Errorf("%s: took the direct path", name)
		}
	}
	// A streamed body still goes through (the standard transport).
	srv, _ := newCounted(t, func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	req, _ := http.NewRequest("POST", srv.URL, io.NopCloser(strings.NewReader("streamed")))
	if _, body := do(t, tr, req); body != "streamed" {
		t.Fatalf("streamed body: %q", body)
	}
}

// oneShotBackend answers one request per connection and then closes it
// without saying so: the next request on a pooled connection finds it dead.
func oneShotBackend(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &conns
}

func TestDirectRetriesOnlyReplayableOnDeadPooledConnection(t *testing.T) {
	url, conns := oneShotBackend(t)
	tr := New()
	defer tr.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("GET", url, nil)
		if _, body := do(t, tr, req); body != "ok" {
			t.Fatalf("GET %d: %q", i, body)
		}
	}
	if n := conns.Load(); n < 3 {
		t.Fatalf("%d connections for 3 one-shot answers", n)
	}
	// A POST on the dead pooled connection is not sent again.
	req, _ := http.NewRequest("GET", url, nil)
	do(t, tr, req) // leaves a (soon dead) connection in the pool
	req, _ = http.NewRequest("POST", url, bytes.NewReader([]byte("once")))
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("a POST on a connection the backend closed was retried")
	}
	// With an idempotency key it may be.
	do(t, tr, mustReq(t, "GET", url))
	req, _ = http.NewRequest("POST", url, bytes.NewReader([]byte("once")))
	req.Header.Set("Idempotency-Key", "k1")
	if _, body := do(t, tr, req); body != "ok" {
		t.Fatalf("POST with Idempotency-Key: %q", body)
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestDirectCancelEndsTheWaitAndDropsTheConnection(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			<-release
		}
		w.Write([]byte("fine"))
	})
	defer close(release)
	tr := New()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/hang", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(req)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled request: %v, want context.Canceled", err)
	}
	// The canceled connection is not reused.
	if _, body := do(t, tr, mustReq(t, "GET", srv.URL+"/ok")); body != "fine" {
		t.Fatalf("after cancel: %q", body)
	}
	tr.mu.Lock()
	for _, list := range tr.idle {
		for _, c := range list {
			if c.canceled.Load() {
				t.Error("a canceled connection is in the pool")
			}
		}
	}
	tr.mu.Unlock()
}

func TestDirectEarlyCloseAndHeaderLimit(t *testing.T) {
	srv, conns := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hints" {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		if r.URL.Path == "/huge" {
			w.Header().Set("X-Big", strings.Repeat("a", 8<<10))
		}
		w.Write(bytes.Repeat([]byte("z"), 100<<10))
	})
	tr := New()
	tr.Std.MaxResponseHeaderBytes = 4 << 10
	defer tr.CloseIdleConnections()
	// A body closed before its end closes its connection.
	resp, err := tr.RoundTrip(mustReq(t, "GET", srv.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	if _, err := resp.Body.Read(buf); err == nil {
		t.Fatal("read after Close succeeded")
	}
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, strconv.Itoa(code)+" "+h.Get("Link"))
		return nil
	}}
	req := mustReq(t, "GET", srv.URL+"/hints")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	if resp, body := do(t, tr, req); resp.StatusCode != 200 || len(body) != 100<<10 {
		t.Fatalf("after 103: %d, %d bytes", resp.StatusCode, len(body))
	}
	if len(hints) != 1 || hints[0] != "103 </a.css>; rel=preload" {
		t.Fatalf("1xx told to the client trace: %q", hints)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections; want 2 (the early-closed one is not reused)", n)
	}
	if _, err := tr.RoundTrip(mustReq(t, "GET", srv.URL+"/huge")); err == nil || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("8 KiB of headers over a 4 KiB limit: %v", err)
	}
}

func TestDirectConcurrent(t *testing.T) {
	srv, conns := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.Query().Get("n")))
	})
	tr := New()
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				n := strings.Repeat("x", g) + string(rune('a'+i%26))
				req, _ := http.NewRequest("GET", srv.URL+"/?n="+n, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != n {
					t.Errorf("answer %q to request %q: crossed connections", body, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := conns.Load(); n > 8 {
		t.Fatalf("8 concurrent callers opened %d connections", n)
	}
}

func TestDirectTLS(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Proto))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.EnableHTTP2 = true // offered; the direct path asks for HTTP/1.1 only
	srv.StartTLS()
	defer srv.Close()
	tr := New()
	defer tr.CloseIdleConnections()
	tr.Std.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	url := srv.URL
	for i := 0; i < 3; i++ {
		req := mustReq(t, "GET", url)
		if !tr.eligible(req) {
			t.Fatal("an https GET should take the direct path")
		}
		if _, body := do(t, tr, req); body != "HTTP/1.1" {
			t.Fatalf("TLS answer %q, want HTTP/1.1", body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d TLS connections for 3 requests, want 1", n)
	}
	// A backend whose certificate is not trusted is refused.
	plain := New()
	if _, err := plain.RoundTrip(mustReq(t, "GET", url)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}
