// Package proxytransport is the HTTP transport Gatehouse proxies with (the
// gateway to its backends, the guard to its upstream): a large keep-alive
// pool, HTTP/1.1 only (backends rarely gain from HTTP/2, which multiplexes
// everything on one connection), bounded dial and TLS handshake times.
// Response times are not bounded here: the gateway's forward-request timeout
// bounds them, and a guarded upstream may stream.
package proxytransport

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// Transport sends plain HTTP/1.1 requests itself on the caller's goroutine
// (direct.go) and everything else through Std.
type Transport struct {
	// Std is the standard transport for what the direct path does not
	// take; its dialer, TLS settings, proxy and pool sizes apply to both.
	Std *http.Transport

	mu      sync.Mutex
	idle    map[string][]*directConn // "scheme://host:port" → idle, oldest first
	janitor bool
}

// New returns a fresh transport (each owner closes its idle connections).
func New() *Transport {
	return &Transport{Std: newStd(), idle: map[string][]*directConn{}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.eligible(req) {
		return t.roundTripDirect(req)
	}
	return t.Std.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both paths.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	for _, list := range t.idle {
		for _, c := range list {
			c.conn.Close()
		}
	}
	clear(t.idle)
	t.mu.Unlock()
	t.Std.CloseIdleConnections()
}

func newStd() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// A non-nil empty map disables HTTP/2 even on TLS backends.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// NewHTTP2 returns a transport that speaks HTTP/2 only: over TLS (ALPN) to
// https:// URLs and with prior knowledge in cleartext (h2c) to http://
// ones, for HTTP/2 backends such as gRPC services.
func NewHTTP2() *http.Transport {
	t := newStd()
	t.TLSNextProto = nil
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP2(true)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}
