package gateway

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// newTransport is the backend transport: a large keep-alive pool, HTTP/1.1
// only (backends rarely gain from HTTP/2 and it multiplexes everything on
// one connection), bounded dial and TLS handshake times. Response times are
// bounded by forward-request's timeout, not here.
func newTransport() *http.Transport {
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
		ForceAttemptHTTP2:      false,
		// A non-nil empty map disables HTTP/2 even on TLS backends.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}
