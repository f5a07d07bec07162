package apim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// forward-request: sends context.Request to the backend and makes the
// answer context.Response.
//
//   - timeout (s, default 300) / timeout-ms bound the wait for the response
//     headers, and for the body too when it is buffered; a streamed body
//     (buffer-response="false", for server-sent events) is not cut.
//   - The request body is Ctx.Request.Body when a policy or an expression
//     read it (or replaced it); else the caller's body is streamed through
//     once, unread and never held in memory. buffer-request-body="true", or
//     running inside retry, buffers it so every attempt can send it again.
//   - A streamed body over the gateway's size cap fails with 413
//     (RequestEntityTooLarge).
//   - X-Forwarded-For gets the caller's IP appended, as APIM does; the Host
//     header is the backend's.
//   - A connection failure is BackendConnectionFailure (500, "Internal server
//     error" to the caller); a timeout is Timeout (504 "Gateway Timeout").
//   - fail-on-error-status-code="true" sends 4xx/5xx responses to on-error
//     with Reason BackendErrorStatusCode; the backend's response is still
//     what the caller gets unless on-error replaces it.
//   - http-version is accepted; Go's transport negotiates the version.

func init() {
	Register(Spec{Name: "forward-request", Sections: []Section{Backend}, Compile: compileForwardRequest})
}

type forwardRequest struct {
	timeout, timeoutMs, follow, bufferReq, bufferResp, failOnError Value
}

func compileForwardRequest(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "timeout", "timeout-ms", "follow-redirects", "buffer-request-body", "buffer-response", "fail-on-error-status-code", "http-version"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &forwardRequest{}
	for _, a := range []struct {
		name string
		v    *Value
		b    bool
	}{
		{"timeout", &p.timeout, false}, {"timeout-ms", &p.timeoutMs, false},
		{"follow-redirects", &p.follow, true}, {"buffer-request-body", &p.bufferReq, true},
		{"buffer-response", &p.bufferResp, true}, {"fail-on-error-status-code", &p.failOnError, true},
	} {
		v, err := b.Attr(n, a.name)
		if err != nil {
			return nil, err
		}
		if a.b {
			if err := checkEnum(b, v, a.name, "true", "false"); err != nil {
				return nil, err
			}
		} else if err := checkNonNegInt(b, v, a.name); err != nil {
			return nil, err
		}
		*a.v = v
	}
	if hv, err := b.ConstAttr(n, "http-version"); err != nil {
		return nil, err
	} else if err := checkEnum(b, hv, "http-version", "1", "2", "2or1"); err != nil {
		return nil, err
	}
	return p, nil
}

// checkNonNegInt rejects a literal that is not a non-negative integer.
func checkNonNegInt(b *Builder, v Value, attr string) error {
	if !v.Set || v.IsExpr() || strings.Contains(v.Lit, "{{") {
		return nil
	}
	if n := atoiDefault(v.Lit, -1); n < 0 {
		return b.Errorf(v.Pos, "%s must be a non-negative integer, not %q", attr, v.Lit)
	}
	return nil
}

// timeoutOf evaluates timeout (seconds) / timeout-ms with a default.
func (x *Exec) timeoutOf(sec, ms Value, def time.Duration) (time.Duration, error) {
	if ms.Set {
		n, err := x.Int(ms, 0)
		return time.Duration(n) * time.Millisecond, err
	}
	if sec.Set {
		n, err := x.Int(sec, 0)
		return time.Duration(n) * time.Second, err
	}
	return def, nil
}

func (p *forwardRequest) Exec(x *Exec) error {
	timeout, err := x.timeoutOf(p.timeout, p.timeoutMs, 300*time.Second)
	if err != nil {
		return err
	}
	follow, err := x.Bool(p.follow, false)
	if err != nil {
		return err
	}
	bufReq, err := x.Bool(p.bufferReq, false)
	if err != nil {
		return err
	}
	bufResp, err := x.Bool(p.bufferResp, true)
	if err != nil {
		return err
	}
	failOn, err := x.Bool(p.failOnError, false)
	if err != nil {
		return err
	}
	req := x.Ctx.Request
	var body io.Reader
	var length int64
	stream := !bufReq && x.retrying == 0
	hasStream := x.HTTPRequest != nil && x.HTTPRequest.Body != nil && x.HTTPRequest.Body != http.NoBody
	switch {
	case stream && hasStream && req.Body.Take():
		// Nothing read the lazy body: send the caller's stream as it is.
		x.reqBodyTaken = true
		x.streamedReq = &countingReader{r: x.HTTPRequest.Body}
		body, length = x.streamedReq, x.HTTPRequest.ContentLength
	case req.Body != nil || !stream || x.reqBodyTaken:
		data, err := x.requestBody()
		if err != nil {
			return err
		}
		body, length = bytes.NewReader(data), int64(len(data))
	case hasStream:
		x.reqBodyTaken = true
		x.streamedReq = &countingReader{r: x.HTTPRequest.Body}
		body, length = x.streamedReq, x.HTTPRequest.ContentLength
	}
	ctx, cancel := context.WithCancel(x.Context())
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cancel() })
	hreq, err := http.NewRequestWithContext(ctx, req.Method, urlString(x.reqURL()), body)
	if err != nil {
		timer.Stop()
		cancel()
		return x.exprError(err)
	}
	if body == nil {
		hreq.Body, hreq.ContentLength = nil, 0
	} else {
		hreq.ContentLength = length
		if length == 0 && body != nil {
			if _, ok := body.(*bytes.Reader); ok {
				hreq.Body = http.NoBody
			}
		}
	}
	hreq.Header = outgoingHeaders(req.Headers)
	http2 := false
	switch hreq.URL.Scheme {
	case "h2c": // an HTTP/2 backend in cleartext (gRPC), prior knowledge
		hreq.URL.Scheme, http2 = "http", true
	case "h2":
		hreq.URL.Scheme, http2 = "https", true
	}
	grpc := strings.HasPrefix(req.Headers.Get("Content-Type"), "application/grpc")
	if grpc {
		// gRPC streams both ways and ends with trailers: never buffered.
		bufResp = false
		hreq.Header.Set("Te", "trailers")
	}
	proto := upgradeProtocol(x.HTTPRequest)
	if proto != "" {
		// Connection and Upgrade are hop-by-hop: a protocol switch asks
		// for them again on its own hop.
		hreq.Header.Set("Connection", "Upgrade")
		hreq.Header.Set("Upgrade", proto)
	}
	if ip := req.IpAddress; ip != "" {
		if prior := hreq.Header.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		hreq.Header.Set("X-Forwarded-For", ip)
	}
	if _, ok := hreq.Header["User-Agent"]; !ok {
		hreq.Header["User-Agent"] = nil // Go would add its own otherwise
	}
	rt, err := x.transport(x.clientCert)
	if http2 {
		rt, err = x.http2Transport()
	}
	if err != nil {
		timer.Stop()
		cancel()
		return &PolicyError{Source: "forward-request", Reason: "BackendConnectionFailure", Message: err.Error(), Status: 500, ClientMessage: "Internal server error"}
	}
	var resp *http.Response
	if follow {
		resp, err = (&http.Client{Transport: rt}).Do(hreq)
	} else {
		// The common case goes straight to the transport: http.Client's
		// redirect and cookie machinery costs measurable throughput.
		resp, err = rt.RoundTrip(hreq)
	}
	if err != nil {
		timer.Stop()
		cancel()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			// The streamed body passed the gateway's size cap.
			return x.bodyError(err)
		}
		if x.Context().Err() == nil {
			x.breaker.record(x.Now(), 0, nil) // no answer: a failure
		}
		return backendError("forward-request", err, timedOut.Load(), x.Context().Err() != nil, timeout)
	}
	x.breaker.record(x.Now(), resp.StatusCode, resp.Header)
	x.dropStream()
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && proto != "" && resp.StatusCode == http.StatusSwitchingProtocols {
		// The backend switched: the connection is the caller's now.
		timer.Stop()
		x.Ctx.Response = responseFrom(resp, nil)
		x.Ctx.Response.Body = nil
		x.Ctx.Response.Headers.Set("Connection", "Upgrade")
		x.Ctx.Response.Headers.Set("Upgrade", resp.Header.Get("Upgrade"))
		x.upgraded = &upgraded{conn: rwc, cancel: cancel}
		return nil
	}
	if bufResp {
		data, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		timer.Stop()
		cancel()
		if rerr != nil {
			return backendError("forward-request", rerr, timedOut.Load(), x.Context().Err() != nil, timeout)
		}
		x.Ctx.Response = responseFrom(resp, data)
	} else {
		timer.Stop()
		x.Ctx.Response = responseFrom(resp, nil)
		x.Ctx.Response.Body = nil
		x.respStream = &cancelOnClose{resp.Body, cancel}
		x.respTrailer = resp // its Trailer is filled when the body ends
	}
	if failOn && resp.StatusCode >= 400 {
		return keepResponse{&PolicyError{Source: "forward-request", Reason: "BackendErrorStatusCode",
			Message: fmt.Sprintf("Backend responded with status code %d.", resp.StatusCode), Status: resp.StatusCode}}
	}
	return nil
}

// backendError classifies a failed backend call.
func backendError(source string, err error, timedOut, callerGone bool, timeout time.Duration) *PolicyError {
	switch {
	case callerGone:
		return &PolicyError{Source: source, Reason: "ClientConnectionFailure", Message: "The caller closed the connection.", Status: 499, ClientMessage: "Client Closed Request"}
	case timedOut || errors.Is(err, context.DeadlineExceeded):
		return &PolicyError{Source: source, Reason: "Timeout", Message: fmt.Sprintf("Request to the backend service timed out after %s.", timeout), Status: http.StatusGatewayTimeout, ClientMessage: "Gateway Timeout"}
	}
	return &PolicyError{Source: source, Reason: "BackendConnectionFailure", Message: "Error occurred while calling backend service: " + err.Error(), Status: 500, ClientMessage: "Internal server error"}
}

// cancelOnClose releases the request context when the streamed body is done.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
