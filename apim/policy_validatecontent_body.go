package apim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// How validate-content reads a body without ever holding more than
// max-size+1 bytes of it (max-size is at most 4 MiB).
//
// Request: a body already in memory is used as it is. A body nothing has
// read yet (the gateway's lazy body) is not read at all when its
// Content-Length exceeds max-size; with a Content-Length within
// max-size it is loaded as any policy loads it (the gateway's limits and
// memory budget apply). A chunked body is read up to max-size+1 bytes:
// if it ends within max-size it becomes the request's body; if not, the
// bytes read are put back in front of the rest, so a detect or ignore
// action still sends the whole body to the backend, streamed.
//
// Response: a buffered body is in memory already; a streamed one
// (forward-request buffer-response="false") is read up to max-size+1
// bytes and put back the same way when it is longer.

// sizedBody is what was read: data (nil when exceeded), and the size
// when known (-1: more than max-size, exact size unknown).
type sizedBody struct {
	data     []byte
	size     int64
	exceeded bool
}

// prefixedReader is a stream with bytes already read put back in front.
type prefixedReader struct {
	io.Reader
	c io.Closer
}

func (p *prefixedReader) Close() error { return p.c.Close() }

func putBack(prefix []byte, rest io.ReadCloser) *prefixedReader {
	return &prefixedReader{Reader: io.MultiReader(bytes.NewReader(prefix), rest), c: rest}
}

// boundedRequestBody reads the request body as described above.
func boundedRequestBody(x *Exec, max int64) (sizedBody, error) {
	req := x.Ctx.Request
	b := req.Body
	hr := x.HTTPRequest
	stream := hr != nil && hr.Body != nil && hr.Body != http.NoBody && !x.reqBodyTaken
	switch {
	case b != nil && b.Taken():
		return sizedBody{}, nil // already sent on: nothing left to check
	case b != nil && b.Loaded():
		data := bodyBytes(b)
		return sized(data, max), nil
	case b == nil && !stream:
		return sizedBody{}, nil
	}
	if hr != nil && hr.ContentLength > max {
		return sizedBody{size: hr.ContentLength, exceeded: true}, nil
	}
	if b != nil && hr != nil && hr.ContentLength >= 0 {
		data, err := b.Load()
		if err != nil {
			return sizedBody{}, x.bodyError(err)
		}
		return sized(data, max), nil
	}
	if !stream {
		data, err := x.requestBody()
		if err != nil {
			return sizedBody{}, err
		}
		return sized(data, max), nil
	}
	// Unknown length: read one byte more than allowed, at most.
	prefix, err := io.ReadAll(io.LimitReader(hr.Body, max+1))
	if err != nil {
		return sizedBody{}, x.bodyError(err)
	}
	if int64(len(prefix)) <= max {
		// The whole body: it becomes the request's body, and the lazy
		// loader (which would read the drained stream) never runs.
		if b != nil {
			b.Take()
		}
		req.Body = expr.NewBody(prefix)
		x.reqBodyTaken = true
		return sized(prefix, max), nil
	}
	// Too long: the stream goes on with the prefix in front (a shallow
	// copy of the caller's request carries it; the caller's own is not
	// changed), and a policy that later needs the whole body gets the
	// prefix and the rest from the gateway's loader.
	c := *hr
	c.Body = putBack(prefix, hr.Body)
	x.HTTPRequest = &c
	if old := b; old != nil {
		req.Body = expr.NewLazyBody(func() ([]byte, error) {
			rest, err := old.Load()
			if err != nil {
				return nil, err
			}
			return append(prefix, rest...), nil
		})
	}
	return sizedBody{size: -1, exceeded: true}, nil
}

// boundedResponseBody reads the response body as described above.
func boundedResponseBody(x *Exec, max int64) (sizedBody, error) {
	r := x.ensureResponse()
	if x.respStream == nil {
		return sized(bodyBytes(r.Body), max), nil
	}
	if cl, err := strconv.ParseInt(strings.TrimSpace(r.Headers.Get("Content-Length")), 10, 64); err == nil && cl > max {
		return sizedBody{size: cl, exceeded: true}, nil
	}
	prefix, err := io.ReadAll(io.LimitReader(x.respStream, max+1))
	if err != nil {
		x.dropStream()
		return sizedBody{}, &PolicyError{Source: x.policyName(), Reason: "BackendConnectionFailure",
			Message: "reading the backend response: " + err.Error(), Status: http.StatusBadGateway, ClientMessage: "Bad Gateway"}
	}
	if int64(len(prefix)) <= max {
		x.dropStream()
		r.Body = expr.NewBody(prefix)
		return sized(prefix, max), nil
	}
	x.respStream = putBack(prefix, x.respStream)
	return sizedBody{size: -1, exceeded: true}, nil
}

func sized(data []byte, max int64) sizedBody {
	n := int64(len(data))
	if n > max {
		return sizedBody{size: n, exceeded: true}
	}
	return sizedBody{data: data, size: n}
}
