package gateway

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/apim"
)

// Request bodies.
//
// The gateway never reads a request body on its own. context.Request.Body
// is lazy (expr.NewLazyBody): the body is read into memory the first time
// a policy or an expression needs it (set-body, find-and-replace,
// json-to-xml, send-request mode="copy", retry around forward-request,
// Body.As<T>() ...), so a request refused by validate-jwt, a rate limit or
// a subscription check is answered without reading its body at all. A
// body nothing read is streamed by forward-request to the backend as it
// arrives, never held whole.
//
// Two limits bound what bodies cost:
//
//   - maxRequestBodyBytes (Options.MaxBodyBytes, gateway.limits; 16 MiB):
//     the largest body, read or streamed; a larger Content-Length is
//     answered 413 before the pipeline, a chunked body that passes it fails
//     with 413 where it is read (http.MaxBytesReader).
//   - maxBufferedBodyBytes (Options.MaxBufferedBodyBytes, gateway.limits;
//     256 MiB): the memory all bodies held at once may use, gateway-wide.
//     Reading a body first reserves its size (Content-Length, or step by
//     step for chunked bodies) with one atomic operation; when the
//     reservation does not fit the request is answered 503 with
//     Retry-After, immediately: nothing waits for memory.

// DefaultMaxBufferedBodyBytes is the memory all request bodies held at once
// may use when neither Options.MaxBufferedBodyBytes nor
// gateway.limits.maxBufferedBodyBytes sets it.
const DefaultMaxBufferedBodyBytes = 256 << 20

// bodyBudget counts the bytes of request bodies held in memory.
type bodyBudget struct {
	limit atomic.Int64
	used  atomic.Int64
}

// tryAcquire reserves n bytes; false, without waiting, when they do not fit.
func (b *bodyBudget) tryAcquire(n int64) bool {
	for {
		u := b.used.Load()
		if n > b.limit.Load()-u {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *bodyBudget) release(n int64) { b.used.Add(-n) }

// bodyRetryAfter is the Retry-After (seconds) of a 503 for a full budget:
// bodies in flight are usually gone within a second.
const bodyRetryAfter = "1"

// errBodyBudget answers a request whose body does not fit the budget.
func errBodyBudget() error {
	return &apim.PolicyError{
		Reason:  "RequestBodyBufferFull",
		Message: "Service unavailable. The gateway holds too many request bodies in memory; retry later.",
		Status:  http.StatusServiceUnavailable,
		Headers: http.Header{"Retry-After": {bodyRetryAfter}},
	}
}

type bodyTooLarge struct{ max int64 }

func (e bodyTooLarge) Error() string {
	return "Request entity too large. The request body exceeds the gateway's limit of " +
		strconv.FormatInt(e.max, 10) + " bytes."
}

func errBodyTooLarge(limit int64) error {
	return &apim.PolicyError{Reason: "RequestEntityTooLarge", Message: bodyTooLarge{limit}.Error(), Status: http.StatusRequestEntityTooLarge}
}

// bodyGrain is how much a body of unknown length reserves at least per
// step.
const bodyGrain = 32 << 10

// lazyBody reads one request's body on demand within the limits.
type lazyBody struct {
	g      *Gateway
	r      io.Reader // the caller's body
	length int64     // Content-Length; -1 when unknown (chunked)
	max    int64     // maxRequestBodyBytes
	held   int64     // bytes reserved from g.budget
}

func (b *lazyBody) reserve(n int64) bool {
	if !b.g.budget.tryAcquire(n) {
		b.g.metrics.bodyRejected()
		return false
	}
	b.held += n
	b.g.metrics.bodyHeld(n)
	return true
}

// load reads the whole body; the error is an *apim.PolicyError for the
// limits, else the read error (the client went away: 400).
func (b *lazyBody) load() ([]byte, error) {
	if b.length > b.max {
		return nil, errBodyTooLarge(b.max)
	}
	if b.length >= 0 {
		if !b.reserve(b.length) {
			return nil, errBodyBudget()
		}
		buf := make([]byte, b.length)
		if _, err := io.ReadFull(b.r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	// Unknown length: grow by doubling, reserving each growth before
	// allocating it, up to one byte past the cap (to detect passing it).
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			newCap := min(int64(cap(buf))+max(int64(cap(buf)), bodyGrain), b.max+1)
			if newCap <= int64(cap(buf)) {
				return nil, errBodyTooLarge(b.max)
			}
			if !b.reserve(newCap - int64(cap(buf))) {
				return nil, errBodyBudget()
			}
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
		}
		n, err := b.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > b.max {
			return nil, errBodyTooLarge(b.max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// done gives the reserved bytes back once the request is answered.
func (b *lazyBody) done() {
	if b.held > 0 {
		b.g.budget.release(b.held)
		b.g.metrics.bodyReleased(b.held)
		b.held = 0
	}
}

// hasBody reports whether r may carry a body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}
