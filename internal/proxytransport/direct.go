package proxytransport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The direct path: an HTTP/1.1 round trip done on the caller's goroutine.
//
// net/http's Transport gives every connection a read loop and a write loop
// goroutine and hands each request and response between them and the caller
// over channels; for a proxy whose requests are small and whose backends are
// near, those hand-offs cost more CPU than the request itself. The direct
// path writes the request and reads the response head on the calling
// goroutine, with the standard library's own wire code (Request.Write and
// ReadResponse), and keeps idle connections in a plain pool.
//
// It takes only what it can do exactly like the Transport: http and https
// URLs without a proxy, no protocol upgrade, no Expect: 100-continue, and
// request bodies already in memory (at most directBodyMax bytes, so a
// backend that answers before reading cannot block the write). Everything
// else goes to the Transport.

// directBodyMax bounds the in-memory request bodies the direct path writes
// itself: below the smallest socket buffers, so the write never waits for
// the backend to read.
const directBodyMax = 64 << 10

// eligible reports whether req can take the direct path.
func (t *Transport) eligible(req *http.Request) bool {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody {
		if req.ContentLength <= 0 || req.ContentLength > directBodyMax || req.GetBody == nil {
			return false // a stream, or a body of unknown length
		}
	}
	if len(req.Trailer) > 0 || req.Header.Get("Upgrade") != "" ||
		strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		return false
	}
	if t.Std.Proxy != nil {
		if u, err := t.Std.Proxy(req); err != nil || u != nil {
			return false
		}
	}
	return true
}

// roundTripDirect sends req on a pooled (else new) connection. A request
// that failed on a reused connection before any byte of the answer came is
// sent again once on a new one when it may be repeated, as the Transport
// does: the backend may have closed the idle connection as it was taken.
func (t *Transport) roundTripDirect(req *http.Request) (*http.Response, error) {
	key := req.URL.Scheme + "://" + canonicalAddr(req)
	for attempt := 0; ; attempt++ {
		c, err := t.conn(req.Context(), key, req, attempt > 0)
		if err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		if !c.reused || !c.nothingRead || attempt > 0 || !replayable(req) || req.Context().Err() != nil {
			return nil, err
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// replayable mirrors the Transport's rule: idempotent methods, or a request
// that carries an idempotency key.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, k1 := req.Header["Idempotency-Key"]
	_, k2 := req.Header["X-Idempotency-Key"]
	return k1 || k2
}

// canonicalAddr is host:port with the scheme's default port.
func canonicalAddr(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// directConn is one backend connection of the direct path.
type directConn struct {
	t        *Transport
	key      string
	conn     net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	limit    int64 // bytes the response head may still take; < 0 unlimited
	idleAt   time.Time
	reused   bool
	stop     func() bool // ends the context watch of the request in flight
	canceled atomic.Bool // the watch fired: the connection is spoiled

	// nothingRead is true until a byte of the answer arrives.
	nothingRead bool
}

// Read is the bufio.Reader's source: it bounds the response head.
func (c *directConn) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.limit == 0 {
			return 0, errors.New("proxytransport: server response headers exceeded the limit")
		}
		if int64(len(p)) > c.limit {
			p = p[:c.limit]
		}
	}
	n, err := c.conn.Read(p)
	if n > 0 {
		c.nothingRead = false
		if c.limit >= 0 {
			c.limit -= int64(n)
		}
	}
	return n, err
}

// conn takes an idle connection for key, or dials one.
func (t *Transport) conn(ctx context.Context, key string, req *http.Request, fresh bool) (*directConn, error) {
	if !fresh {
		if c := t.takeIdle(key); c != nil {
			return c, nil
		}
	}
	dial := t.Std.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", canonicalAddr(req))
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{}
		if t.Std.TLSClientConfig != nil {
			cfg = t.Std.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		hctx, cancel := ctx, context.CancelFunc(func() {})
		if t.Std.TLSHandshakeTimeout > 0 {
			hctx, cancel = context.WithTimeout(ctx, t.Std.TLSHandshakeTimeout)
		}
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, err
		}
		raw = tc
	}
	c := &directConn{t: t, key: key, conn: raw}
	c.br = bufio.NewReaderSize(c, 4<<10)
	c.bw = bufio.NewWriterSize(raw, 4<<10)
	return c, nil
}

// roundTrip writes req and reads the response head; the body reads from
// the connection and gives it back to the pool at its end.
func (c *directConn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// A canceled request (the caller left, the policy's timeout) ends the
	// blocked read or write by a deadline in the past; the connection is
	// then closed, never reused.
	c.canceled.Store(false)
	c.stop = context.AfterFunc(ctx, func() {
		c.canceled.Store(true)
		_ = c.conn.SetDeadline(aLongTimeAgo)
	})
	c.nothingRead = true
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	c.limit = c.t.Std.MaxResponseHeaderBytes
	if c.limit <= 0 {
		c.limit = 10 << 20
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return nil, c.fail(ctx, err)
		}
		// 1xx answers are informational (103 Early Hints), told to a
		// client trace as the Transport does (httputil.ReverseProxy relays
		// them); 101 was not asked for, so it is an error.
		if resp.StatusCode >= 200 || resp.StatusCode < 100 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, c.fail(ctx, errors.New("proxytransport: unexpected 101 Switching Protocols"))
		}
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, c.fail(ctx, err)
			}
		}
	}
	c.limit = -1
	reuse := !resp.Close && !req.Close
	if resp.Body == http.NoBody || req.Method == http.MethodHead {
		c.release(reuse)
		return resp, nil
	}
	resp.Body = &directBody{rc: resp.Body, c: c, reuse: reuse}
	return resp, nil
}

// fail closes the connection and reports err, or the context's error when
// the request was canceled.
func (c *directConn) fail(ctx context.Context, err error) error {
	c.stop()
	c.conn.Close()
	if c.canceled.Load() && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// release ends the request: the connection goes back to the pool when it
// can carry another request, else it is closed.
func (c *directConn) release(reuse bool) {
	if !c.stop() || c.canceled.Load() {
		reuse = false // the watch fired: the deadline spoiled the connection
	}
	if reuse && c.br.Buffered() == 0 && c.t.putIdle(c) {
		return
	}
	c.conn.Close()
}

var aLongTimeAgo = time.Unix(1, 0)

// directBody is a response body of the direct path. It releases the
// connection once: to the pool at a clean end, closed otherwise (a body
// closed before its end would leave unread bytes on the connection).
type directBody struct {
	mu    sync.Mutex
	rc    io.ReadCloser
	c     *directConn
	reuse bool
	done  bool
}

func (b *directBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errors.New("proxytransport: read on closed response body")
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.done = true
		b.c.release(b.reuse && err == io.EOF)
	}
	return n, err
}

func (b *directBody) Close() error {
	// Close may come from another goroutine while Read blocks: closing the
	// connection first ends that Read.
	if !b.mu.TryLock() {
		b.c.conn.Close()
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if !b.done {
		b.done = true
		b.c.release(false)
	}
	return nil
}

// takeIdle returns the most recently used idle connection for key that is
// still within the idle timeout, closing older ones it meets.
func (t *Transport) takeIdle(key string) *directConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	for len(list) > 0 {
		c := list[len(list)-1]
		list = list[:len(list)-1]
		t.idle[key] = list
		if t.Std.IdleConnTimeout > 0 && time.Since(c.idleAt) > t.Std.IdleConnTimeout {
			c.conn.Close()
			continue
		}
		c.reused = true
		_ = c.conn.SetDeadline(time.Time{})
		return c
	}
	return nil
}

// putIdle keeps c for reuse unless the pool for its backend is full.
func (t *Transport) putIdle(c *directConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.Std.MaxIdleConnsPerHost
	if limit <= 0 {
		limit = http.DefaultMaxIdleConnsPerHost // as the Transport reads 0
	}
	if len(t.idle[c.key]) >= limit {
		return false
	}
	c.idleAt = time.Now()
	t.idle[c.key] = append(t.idle[c.key], c)
	t.startJanitor()
	return true
}

// startJanitor (under t.mu) runs one goroutine that closes connections
// idle past the timeout, so an unused backend does not hold them for ever.
func (t *Transport) startJanitor() {
	if t.janitor || t.Std.IdleConnTimeout <= 0 {
		return
	}
	t.janitor = true
	go func() {
		tick := time.NewTicker(t.Std.IdleConnTimeout / 2)
		defer tick.Stop()
		for range tick.C {
			if !t.sweep() {
				return
			}
		}
	}()
}

// sweep closes expired idle connections; false once the pool is empty (the
// janitor then stops, and the next idle connection starts it again).
func (t *Transport) sweep() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, list := range t.idle {
		kept := list[:0]
		for _, c := range list {
			if time.Since(c.idleAt) > t.Std.IdleConnTimeout {
				c.conn.Close()
			} else {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = kept
		}
	}
	if len(t.idle) == 0 {
		t.janitor = false
		return false
	}
	return true
}
