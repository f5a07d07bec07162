package guard

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/proxytransport"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// NewReverseProxy returns the sidecar: g's Middleware in front of a reverse
// proxy to upstream. The proxy removes hop-by-hop headers, sends the
// upstream's host as Host, and sets X-Forwarded-For (the client chain when
// the peer is a trusted proxy, else only the peer), X-Forwarded-Host and
// X-Forwarded-Proto (the original host and scheme). Upstream failures are
// answered 502. A nil g is New(Config{}): no checks, but client-supplied
// principal headers are still removed.
func NewReverseProxy(upstream *url.URL, g *Guard) http.Handler {
	if g == nil {
		g, _ = New(Config{})
	}
	target := *upstream
	rt := g.transport
	if rt == nil {
		rt = proxytransport.New()
	}
	p := &httputil.ReverseProxy{
		Transport: tracing.Transport(rt), // rt itself when tracing is off
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&target)
			setForwarded(pr)
		},
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.log.Warn("guard: upstream request failed", "upstream", target.Host, "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("Bad Gateway"))
		},
	}
	return g.Middleware(p)
}

// setForwarded sets X-Forwarded-For/-Host/-Proto on the outbound request
// (httputil.ReverseProxy removed the inbound ones before Rewrite). An
// untrusted peer's X-Forwarded-For is dropped, not extended: it is the
// client's own claim.
func setForwarded(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	info, ok := InfoFrom(in.Context())
	if !ok {
		pr.SetXForwarded()
		return
	}
	peer := ""
	if info.peer.IsValid() {
		peer = info.peer.String()
	}
	var chain []string
	if info.PeerTrusted {
		for _, v := range in.Header.Values("X-Forwarded-For") {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					chain = append(chain, s)
				}
			}
		}
	}
	if peer != "" {
		chain = append(chain, peer)
	}
	if len(chain) > 0 {
		out.Header.Set("X-Forwarded-For", strings.Join(chain, ", "))
	}
	if info.origHost != "" {
		out.Header.Set("X-Forwarded-Host", info.origHost)
	}
	out.Header.Set("X-Forwarded-Proto", info.origProto)
}
