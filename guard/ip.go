package guard

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse/gatehouse/internal/clientip"
)

// normPrefix returns p masked, with an IPv4-mapped IPv6 range turned into
// its IPv4 range (client addresses are unmapped before matching).
func normPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			bits = 0
		}
		return netip.PrefixFrom(a.Unmap(), bits).Masked()
	}
	return netip.PrefixFrom(a, p.Bits()).Masked()
}

// normAddr unmaps IPv4-mapped IPv6 addresses and drops zones (a zoned
// address never matches a prefix, which would make deny rules fail open).
func normAddr(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// allowed evaluates the access restrictions on ip: the first matching rule
// (by priority) decides; with no match, the request is denied when any
// allow rule exists (App Service's implicit "deny all") and allowed
// otherwise. An unknown client address is denied whenever rules exist. It
// returns the deciding rule's name for logging.
func (g *Guard) allowed(ip netip.Addr) (string, bool) {
	if len(g.rules) == 0 {
		return "", true
	}
	if !ip.IsValid() {
		return "(unknown client address)", false
	}
	for _, r := range g.rules {
		if r.Prefix.Contains(ip) {
			return r.Name, r.Action == Allow
		}
	}
	if g.anyAllow {
		return "(implicit deny all)", false
	}
	return "", true
}

func (g *Guard) isTrusted(a netip.Addr) bool {
	a = normAddr(a)
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP returns the client address, the TCP peer and whether the peer is
// a trusted proxy. The client is the TCP peer or, when the peer is a
// trusted proxy, the right-most address of X-Forwarded-For that is not a
// trusted proxy (the gateway's rule, internal/clientip).
func (g *Guard) clientIP(r *http.Request) (client, peer netip.Addr, trusted bool) {
	peer, err := netip.ParseAddr(clientip.Host(r.RemoteAddr))
	if err != nil {
		return netip.Addr{}, netip.Addr{}, false
	}
	peer = normAddr(peer)
	if !g.isTrusted(peer) {
		return peer, peer, false
	}
	return clientip.Forwarded(r.Header, peer, g.isTrusted, normAddr), peer, true
}

// original returns the host and scheme the client called: the request's,
// or X-Forwarded-Host/-Proto (last value) when the peer is a trusted proxy
// (the rule of gateway/context.go's originalURL).
func (g *Guard) original(r *http.Request, peerTrusted bool) (host, proto string) {
	host, proto = r.Host, "http"
	if r.TLS != nil {
		proto = "https"
	}
	if peerTrusted {
		if p := lastValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			proto = p
		}
		if h := lastValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return host, proto
}

func lastValue(h string) string {
	if i := strings.LastIndexByte(h, ','); i >= 0 {
		h = h[i+1:]
	}
	return strings.TrimSpace(h)
}

// forbiddenBody is modelled on the page App Service's front ends return
// when an access restriction blocks a client: status 403, an HTML page
// titled "403 - Forbidden" reading "Error 403 - Forbidden" / "The web app
// you have attempted to reach has blocked your access." (text, not a
// byte-for-byte copy of Microsoft's markup).
const forbiddenBody = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>403 - Forbidden</title></head>
<body>
<h1>Error 403 - Forbidden</h1>
<p>The web app you have attempted to reach has blocked your access.</p>
</body>
</html>
`

func writeForbidden(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(forbiddenBody))
}
