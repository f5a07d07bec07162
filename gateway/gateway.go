package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/proxytransport"
	"github.com/gatehouse/gatehouse/internal/statuswriter"
	"github.com/gatehouse/gatehouse/token"
)

// DefaultMaxBodyBytes is the largest request body when neither
// Options.MaxBodyBytes nor gateway.limits.maxRequestBodyBytes sets it.
// Larger bodies are refused with 413.
const DefaultMaxBodyBytes = 16 << 20

// Options are the process-level settings of a Gateway.
type Options struct {
	// Logger receives the gateway's logs; nil discards them.
	Logger *slog.Logger
	// Registry is where the gateway's metrics are registered; nil means a
	// registry of its own. The gateway does not serve them: `gatehouse
	// serve`'s admin listener serves the registry on /metrics.
	Registry prometheus.Registerer
	// Now is the gateway's clock (context.Timestamp, policies); nil means
	// time.Now.
	Now func() time.Time
	// Transport calls the backends; nil means proxytransport's
	// (keep-alive pool, HTTP/1.1, timeouts). Tests pass their own.
	Transport http.RoundTripper
	// DiscoveryClient fetches OpenID configurations and key sets for
	// validate-jwt; nil means a client with sane timeouts and the system
	// roots (SSL_CERT_FILE adds a private CA).
	DiscoveryClient *http.Client
	// Region is context.Deployment.Region; empty means "local".
	Region string
	// MaxBodyBytes caps request bodies, streamed or read (413 beyond);
	// 0 means DefaultMaxBodyBytes. gateway.limits.maxRequestBodyBytes, when
	// set, wins.
	MaxBodyBytes int64
	// MaxBufferedBodyBytes bounds the memory of all request bodies held
	// at once (read by a policy or an expression); a body that does not
	// fit is answered 503 with Retry-After. 0 means
	// DefaultMaxBufferedBodyBytes; gateway.limits.maxBufferedBodyBytes,
	// when set, wins.
	MaxBufferedBodyBytes int64
	// TunnelIdleTimeout closes an upgraded (WebSocket) connection idle
	// this long (0: gateway.limits.tunnelIdleTimeout, else 10 minutes).
	TunnelIdleTimeout time.Duration
}

// Gateway is an http.Handler that routes requests to APIs and operations
// and runs their policy pipelines. Safe for concurrent use; Reload swaps the
// configuration without dropping requests.
type Gateway struct {
	log        *slog.Logger
	now        func() time.Time
	customNow  bool
	region     string
	maxBody    int64 // Options' values, for configs without gateway.limits
	maxBuffer  int64
	tunnelIdle time.Duration
	budget     bodyBudget // request bodies in memory, all requests
	transport  http.RoundTripper
	ownsTrans  bool
	// http2 reaches h2c:// and h2:// backends (gRPC).
	http2     *http.Transport
	discovery *token.Discovery
	metrics   *metrics

	cur      atomic.Pointer[state]
	reloadMu sync.Mutex // serialises Reload and Close
	closed   bool
}

// New loads cfg completely (policies, fragments, named values,
// certificates, routes, subscriptions) and returns a Gateway serving it.
// Every problem of every file is reported at once: the error is a
// config.Errors with one "file:line:col: message" per line.
func New(cfg *config.Gateway, opts Options) (*Gateway, error) {
	g := &Gateway{
		log:        opts.Logger,
		now:        opts.Now,
		customNow:  opts.Now != nil,
		region:     opts.Region,
		maxBody:    opts.MaxBodyBytes,
		maxBuffer:  opts.MaxBufferedBodyBytes,
		tunnelIdle: opts.TunnelIdleTimeout,
		transport:  opts.Transport,
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.region == "" {
		g.region = "local"
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	if g.maxBuffer <= 0 {
		g.maxBuffer = DefaultMaxBufferedBodyBytes
	}
	if g.transport == nil {
		g.transport = proxytransport.New()
		g.ownsTrans = true
	}
	g.http2 = proxytransport.NewHTTP2()
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	g.metrics = m
	g.discovery = token.NewDiscovery(opts.DiscoveryClient, g.log)
	st, err := g.build(cfg, nil)
	if err != nil {
		g.closeTransport()
		return nil, err
	}
	g.budget.limit.Store(st.maxBuffered)
	g.cur.Store(st)
	g.log.Info("gateway loaded", "apis", len(st.apis), "products", len(st.products),
		"redis", cfg.Redis != "")
	logNotServed(g.log, cfg)
	return g, nil
}

// Close releases the gateway's resources once in-flight requests finish:
// the Redis client, the memory limiter's janitor, idle backend connections.
// Requests arriving after Close get 503.
func (g *Gateway) Close() error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	if st := g.cur.Swap(nil); st != nil {
		st.retire()
	}
	g.closeTransport()
	return nil
}

func (g *Gateway) closeTransport() {
	if g.http2 != nil {
		g.http2.CloseIdleConnections()
	}
	if !g.ownsTrans {
		return
	}
	if t, ok := g.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// acquire returns the current state with a reference held, or nil after
// Close. The caller must call release.
func (g *Gateway) acquire() *state {
	for {
		st := g.cur.Load()
		if st == nil {
			return nil
		}
		if st.acquire() {
			return st
		}
		// st was retired between Load and acquire: the new one is in cur.
	}
}

// ServeHTTP answers the probe endpoints (/healthz, /readyz) and routes every other request through its API's pipeline.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.serveOps(w, r) {
		return
	}
	st := g.acquire()
	if st == nil {
		writeError(w, http.StatusServiceUnavailable, "The gateway is shutting down.")
		return
	}
	defer st.release()
	start := time.Now()
	sw := statuswriter.New(w)
	api, op := g.serve(st, sw, r)
	code := sw.Status()
	g.metrics.observe(api, op, code, time.Since(start))
	g.log.Debug("request", "method", r.Method, "path", r.URL.Path, "api", api,
		"operation", op, "status", code, "duration", time.Since(start))
}

var errClosed = errors.New("gateway: closed")

// logNotServed names what an APIOps folder holds that the gateway does not
// run, one line each: nothing is dropped silently.
func logNotServed(log *slog.Logger, cfg *config.Gateway) {
	for _, n := range cfg.NotServed {
		log.Warn("apiops: not served", "item", n)
	}
}
