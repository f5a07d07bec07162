package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/clientip"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// exprURL makes context's IUrl from an escaped path (Path is decoded, as
// url.URL.Path; RawPath keeps "%2F" apart from "/").
func exprURL(scheme, hostport, escapedPath string, query url.Values) *expr.URL {
	host, port := splitHostPort(hostport, scheme)
	u := &expr.URL{Scheme: scheme, Host: host, Port: port, Query: query}
	apim.SetEscapedPath(u, escapedPath)
	return u
}

func splitHostPort(hostport, scheme string) (string, int) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	port, _ := strconv.Atoi(p)
	if port == 0 {
		if scheme == "https" {
			port = 443
		} else {
			port = 80
		}
	}
	return host, port
}

// originalURL is context.Request.OriginalUrl: what the client called, with
// dot segments resolved (as routed: a policy testing the path sees the
// path that was routed). X-Forwarded-Proto and X-Forwarded-Host are
// believed from trusted proxies.
func (st *state) originalURL(r *http.Request, segs []string, peerTrusted bool) *expr.URL {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if peerTrusted {
		if p := lastValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := lastValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return exprURL(scheme, host, apim.JoinSegments("", segs), r.URL.Query())
}

func lastValue(h string) string {
	if i := strings.LastIndexByte(h, ','); i >= 0 {
		h = h[i+1:]
	}
	return strings.TrimSpace(h)
}

// clientIP is context.Request.IpAddress: the TCP peer, or, when the peer is
// a trusted proxy, the right-most address of X-Forwarded-For that is not a
// trusted proxy. It also reports whether the peer is trusted.
func (st *state) clientIP(r *http.Request) (string, bool) {
	host := clientip.Host(r.RemoteAddr)
	peer, err := netip.ParseAddr(host)
	if err != nil || !st.isTrusted(peer) {
		return host, false
	}
	return clientip.Forwarded(r.Header, peer, st.isTrusted, netip.Addr.Unmap).String(), true
}

func (st *state) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range st.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// routeInfo is the outcome of routing and the subscription check.
type routeInfo struct {
	api    *apiRoute
	op     *opRoute // nil: API without operations, or a preflight
	segs   []string // escaped request path segments, dot segments resolved
	rest   []string // the segments after the API path
	params map[string]string
	// escaped are the path parameters as sent (percent-encoded).
	escaped map[string]string
	acc     access
	query   url.Values
}

// newContext builds the `context` of one request; body is nil when the
// request has none.
func (g *Gateway) newContext(st *state, r *http.Request, ri *routeInfo, body *expr.Body) *expr.Context {
	a := ri.api
	ip, trusted := st.clientIP(r)

	headers := r.Header.Clone()
	headers.Del(a.keyHeader)
	backendQuery := make(url.Values, len(ri.query))
	for k, v := range ri.query {
		if k != a.keyQuery {
			backendQuery[k] = append([]string(nil), v...)
		}
	}
	params := ri.params
	if params == nil {
		params = map[string]string{}
	}
	req := &expr.Request{
		Method:            r.Method,
		OriginalUrl:       st.originalURL(r, ri.segs, trusted),
		Url:               exprURL(a.serviceURL.Scheme, a.serviceURL.Host, backendPath(a.serviceEsc, ri.rest), backendQuery),
		Headers:           headers,
		IpAddress:         ip,
		Body:              body,
		MatchedParameters: params,
		EscapedParameters: ri.escaped,
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.Certificate = r.TLS.PeerCertificates[0]
	}
	now := g.now()
	api := *a.ctxAPI
	c := &expr.Context{
		Request:   req,
		Variables: expr.Variables{},
		Api:       &api,
		Deployment: &expr.Deployment{
			GatewayId:   "self-hosted",
			Region:      g.region,
			ServiceId:   "gatehouse",
			ServiceName: "gatehouse",
		},
		RequestId: ids.NewGUID(),
		Timestamp: now.UTC(),
		Now:       g.now,
	}
	if ri.op != nil {
		op := ri.op.ctxOp
		c.Operation = &op
	} else {
		// APIs without operations behave as APIM's wildcard operations.
		c.Operation = &expr.Operation{Id: "*", Name: "*", Method: r.Method, UrlTemplate: "/*"}
	}
	if ri.acc.product != nil {
		p := *ri.acc.product.ctx
		c.Product = &p
	}
	if ri.acc.key != nil {
		c.Subscription = st.ctxSubscription(ri.acc.key, ri.acc.used)
	}
	return c
}
