package apim

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/proxytransport"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// message is an HTTP message being built by child policies of
// return-response, send-request and send-one-way-request (set-url,
// set-method, set-header, set-body, set-status, authentication-*).
type message struct {
	method  string
	url     *expr.URL
	headers http.Header
	body    []byte
	hasBody bool
	status  int
	reason  string
	cert    *tls.Certificate
}

// msgPolicy is implemented by policies usable as such children.
type msgPolicy interface {
	applyMsg(x *Exec, m *message) error
}

// urlString renders an IUrl; default ports are omitted.
func urlString(u *expr.URL) string {
	if u == nil {
		return ""
	}
	host := u.Host
	if u.Port != 0 && u.Port != defaultPort(u.Scheme) {
		host = net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	// RawPath keeps an encoded slash encoded: Path alone would send "%2F"
	// as "/" (url.URL ignores a RawPath that does not match Path).
	uu := url.URL{Scheme: u.Scheme, Host: host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.Query.Encode()}
	return uu.String()
}

func defaultPort(scheme string) int {
	switch strings.ToLower(scheme) {
	case "http", "ws":
		return 80
	case "https", "wss":
		return 443
	}
	return 0
}

// parseURL parses an absolute URL into an IUrl.
func parseURL(s string) (*expr.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", s)
	}
	port := defaultPort(u.Scheme)
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("bad port in %q", s)
		}
	}
	return &expr.URL{Scheme: u.Scheme, Host: u.Hostname(), Port: port, Path: u.Path, RawPath: u.EscapedPath(), Query: u.Query()}, nil
}

// outgoingHeaders prepares headers for a backend request.
func outgoingHeaders(h http.Header) http.Header {
	out := http.Header{}
	copyHeaders(out, h)
	out.Del("Host")
	return out
}

// defaultHTTP2 is the HTTP/2 transport when the Env has none.
var defaultHTTP2 = sync.OnceValue(func() http.RoundTripper { return proxytransport.NewHTTP2() })

// http2Transport is the round tripper of h2c:// and h2:// backends.
func (x *Exec) http2Transport() (http.RoundTripper, error) {
	if x.clientCert != nil {
		return nil, errors.New("authentication-certificate is not supported with an h2 or h2c backend")
	}
	if x.Env != nil && x.Env.HTTP2Transport != nil {
		return tracing.Transport(x.Env.HTTP2Transport), nil
	}
	return tracing.Transport(defaultHTTP2()), nil
}

// transport returns the round tripper for backend calls, with cert as the
// TLS client certificate when set. Transports with a certificate are cached
// per (base transport, certificate) so connections are reused.
func (x *Exec) transport(cert *tls.Certificate) (http.RoundTripper, error) {
	var base http.RoundTripper = http.DefaultTransport
	if x.Env != nil && x.Env.Transport != nil {
		base = x.Env.Transport
	}
	if cert == nil {
		return tracing.Transport(base), nil // base itself when tracing is off
	}
	ht, ok := base.(*http.Transport)
	if pt, isProxy := base.(*proxytransport.Transport); isProxy {
		// A client certificate needs its own pool of TLS connections:
		// the standard side of the gateway's transport, cloned.
		ht, ok = pt.Std, true
	}
	if !ok {
		return nil, errors.New("authentication-certificate needs the gateway transport to be an *http.Transport")
	}
	if len(cert.Certificate) == 0 {
		return nil, errors.New("client certificate is empty")
	}
	key := certKey{ht, sha256.Sum256(cert.Certificate[0])}
	if t, ok := certTransports.Load(key); ok {
		return tracing.Transport(t.(http.RoundTripper)), nil
	}
	t := ht.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	actual, _ := certTransports.LoadOrStore(key, t)
	return tracing.Transport(actual.(http.RoundTripper)), nil
}

type certKey struct {
	base *http.Transport
	leaf [32]byte
}

var certTransports sync.Map

// noRedirect makes a client return 3xx responses as they are.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// cloneResponse copies a response so a policy can change it without
// affecting a variable that holds the original.
func cloneResponse(r *expr.Response) *expr.Response {
	c := *r
	c.Headers = r.Headers.Clone()
	if c.Headers == nil {
		c.Headers = http.Header{}
	}
	if r.Body != nil {
		c.Body = expr.NewBody(append([]byte(nil), r.Body.Bytes()...))
	}
	return &c
}

// responseFrom converts an http.Response with a read body.
func responseFrom(resp *http.Response, body []byte) *expr.Response {
	h := http.Header{}
	copyHeaders(h, resp.Header)
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	return &expr.Response{StatusCode: resp.StatusCode, StatusReason: reason, Headers: h, Body: expr.NewBody(body)}
}

// bodyValue converts a set-body / send-request body result to bytes:
// byte[] as is, null as empty, anything else through ToString (a JObject
// therefore serialises as Newtonsoft's ToString(), indented).
func bodyValue(v any) []byte {
	switch t := v.(type) {
	case nil:
		return nil
	case []byte:
		return t
	case string:
		return []byte(t)
	}
	return []byte(expr.ToString(v))
}
