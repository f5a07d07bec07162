// Package clientip finds a request's client address behind trusted
// proxies. The gateway and guard both use it, so they agree on which hop of
// X-Forwarded-For is the client.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Host returns the host part of a request's RemoteAddr (all of it when it
// has no port).
func Host(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// Forwarded returns the client address of a request whose TCP peer, peer,
// is a trusted proxy: the right-most address of X-Forwarded-For that is not
// trusted, or the left-most when all are. It stops at the last good hop at
// the first value that is not an address. norm is applied to every address
// read from the header before it is checked.
func Forwarded(h http.Header, peer netip.Addr, trusted func(netip.Addr) bool, norm func(netip.Addr) netip.Addr) netip.Addr {
	ip := peer
	xff := h.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			s := strings.TrimSpace(parts[j])
			if s == "" {
				continue
			}
			a, err := parseAddr(s)
			if err != nil {
				return ip // garbage: stop at the last good hop
			}
			ip = norm(a)
			if !trusted(ip) {
				return ip
			}
		}
	}
	return ip
}

// parseAddr accepts "1.2.3.4", "1.2.3.4:5", "::1" and "[::1]:5".
func parseAddr(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr(), nil
}
