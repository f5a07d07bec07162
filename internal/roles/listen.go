package roles

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Listener defaults (the `timeouts:` section overrides them).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultBodyMinRate       = 1024 // bytes per second
	DefaultBodyGrace         = 10 * time.Second
	// DefaultHSTS is the Strict-Transport-Security value of TLS listeners
	// of the browser-facing roles (identity, guard, site).
	DefaultHSTS = "max-age=31536000"
)

// Timeouts are the resolved read limits of every listener.
type Timeouts struct {
	ReadHeader, Read, Idle time.Duration
	// BodyMinRate (bytes/s) after BodyGrace bounds the bodies of the
	// streaming roles (gateway, guard); 0 turns it off.
	BodyMinRate int
	BodyGrace   time.Duration
}

// ResolveTimeouts applies the defaults to a config's `timeouts:` (nil: all
// defaults).
func ResolveTimeouts(c *config.Timeouts) Timeouts {
	t := Timeouts{ReadHeader: DefaultReadHeaderTimeout, Read: DefaultReadTimeout, Idle: DefaultIdleTimeout,
		BodyMinRate: DefaultBodyMinRate, BodyGrace: DefaultBodyGrace}
	if c == nil {
		return t
	}
	t.ReadHeader = c.ReadHeader.Or(t.ReadHeader)
	t.Read = c.Read.Or(t.Read)
	t.Idle = c.Idle.Or(t.Idle)
	t.BodyGrace = c.BodyGrace.Or(t.BodyGrace)
	if c.BodyMinRate != nil {
		t.BodyMinRate = *c.BodyMinRate
	}
	return t
}

// streaming roles pass request bodies of any length on to a backend: a
// whole-request read timeout would cut long uploads, so their bodies get a
// minimum rate instead.
func streaming(role string) bool { return role == "gateway" || role == "guard" }

// HTTPServer is the http.Server of one role's listener: the read limits
// (ReadTimeout for identity and site, a minimum body rate for gateway and
// guard), HSTS on TLS listeners, HTTP/2 where TLS negotiates it (the
// Server's TLS config offers h2).
func HTTPServer(rs *Server, t Timeouts, log *slog.Logger) *http.Server {
	h := rs.Handler
	if streaming(rs.Name) && t.BodyMinRate > 0 {
		h = minRateBodies(h, t.BodyMinRate, t.BodyGrace)
	}
	if rs.TLS != nil && rs.HSTS != "" {
		h = hsts(h, rs.HSTS)
	}
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if rs.Name == "gateway" {
		// gRPC callers speak HTTP/2: over TLS by ALPN, and in cleartext
		// with prior knowledge (h2c).
		s.Protocols = new(http.Protocols)
		s.Protocols.SetHTTP1(true)
		s.Protocols.SetHTTP2(true)
		s.Protocols.SetUnencryptedHTTP2(true)
	}
	if rs.Name == "identity" || rs.Name == "site" {
		// Not on the admin listener: a CPU profile streams for as long
		// as asked, and Go cancels a request's context when ReadTimeout
		// passes while its handler still runs.
		s.ReadTimeout = t.Read
	}
	return s
}

// Serve serves s on ln, over TLS when tc is set (HTTP/2 and HTTP/1.1 are
// offered by ALPN).
func Serve(s *http.Server, ln net.Listener, tc *tls.Config) error {
	if tc == nil {
		return s.Serve(ln)
	}
	s.TLSConfig = tc
	return s.ServeTLS(ln, "", "")
}

// hstsValue is the Strict-Transport-Security value of a role's listener:
// tls.hsts, or the default (none on the gateway, which answers as APIM
// does and sends none of its own).
func hstsValue(role string, t *config.TLS) string {
	if t == nil {
		return ""
	}
	switch t.HSTS {
	case "off":
		return ""
	case "":
		if role == "gateway" {
			return ""
		}
		return DefaultHSTS
	}
	return t.HSTS
}

func hsts(next http.Handler, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", value)
		}
		next.ServeHTTP(w, r)
	})
}

// minRateBodies makes a request body that arrives slower than rate bytes/s
// on average (after grace) fail with a read timeout, which closes the
// connection: a client trickling a body cannot hold a connection and a
// handler for ever, while long uploads at a real rate go through.
func minRateBodies(next http.Handler, rate int, grace time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		b := &minRateBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: grace, rate: rate}
		r.Body = b
		defer b.finish()
		next.ServeHTTP(w, r)
	})
}

type minRateBody struct {
	io.ReadCloser
	rc          *http.ResponseController
	start       time.Time
	grace       time.Duration
	rate        int
	mu          sync.Mutex
	n           int64
	done, ended bool
}

// Read sets the connection's read deadline to when the bytes read so far
// plus the next one are due, then reads. Deadlines are never set once the
// handler has returned (a proxy may still read the body from another
// goroutine, and the connection may already serve the next request).
func (b *minRateBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if !b.done && !b.ended {
		due := b.start.Add(b.grace + time.Duration(float64(b.n)/float64(b.rate)*float64(time.Second)))
		_ = b.rc.SetReadDeadline(due)
	}
	b.mu.Unlock()
	k, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.n += int64(k)
	if errors.Is(err, io.EOF) && !b.done && !b.ended {
		// The whole body is in: the handler may take as long as it needs
		// (the server's background read must not hit the deadline).
		b.ended = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	b.mu.Unlock()
	return k, err
}

func (b *minRateBody) finish() {
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
}

// AdminHandler serves the admin listener: /metrics (every role's metrics
// from the shared registry), /healthz, /readyz (ready when every role is)
// and, with pprof, Go's profiler under /debug/pprof/.
func (s *Set) AdminHandler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		notReady := map[string]string{}
		for _, rs := range s.Servers {
			if rs.Name != "identity" && rs.Name != "gateway" {
				continue // guard and site have no dependencies to wait for
			}
			rec := &statusRecorder{h: http.Header{}}
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/readyz", nil)
			rs.Handler.ServeHTTP(rec, req)
			if rec.code != 0 && rec.code != http.StatusOK {
				var reason struct{ Reason string }
				_ = json.Unmarshal(rec.body, &reason)
				notReady[rs.Name] = reason.Reason
			}
		}
		if len(notReady) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]any{"status": "not ready", "roles": notReady})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "ready"})
	})
	if withPprof {
		PprofRoutes(mux)
	}
	return mux
}

// PprofRoutes adds Go's profiler under /debug/pprof/.
func PprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// statusRecorder captures a readiness answer.
type statusRecorder struct {
	h    http.Header
	code int
	body []byte
}

func (r *statusRecorder) Header() http.Header { return r.h }
func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.body = append(r.body, p...)
	return len(p), nil
}

// ShutdownAll stops servers gracefully within grace.
func ShutdownAll(servers []*http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
