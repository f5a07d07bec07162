package apim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// Serve runs the pipeline for one request and writes the response: inbound,
// backend (forward-request), outbound, on-error on failure, APIM's error body
// when nothing else answered.
//
// Decisions where APIM's documentation is silent:
//   - When the effective backend section has no forward-request, outbound
//     runs on an empty 200 response (context.Response is never null there).
//   - A failure inside on-error is logged and the caller receives the
//     default error body of the original failure.
func (p *Pipeline) Serve(w http.ResponseWriter, x *Exec) {
	wrote := false
	defer func() {
		if r := recover(); r != nil {
			x.logger().Error("apim: pipeline panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !wrote {
				writeErrorBody(w, http.StatusInternalServerError, "Internal server error", nil)
			}
		}
		x.dropStream()
		if x.upgraded != nil {
			// The switch did not happen (an error, or outbound answered
			// something else): the backend connection is closed.
			x.upgraded.close()
			x.upgraded = nil
		}
	}()
	if x.Ctx.Variables == nil {
		x.Ctx.Variables = expr.Variables{}
	}
	if x.Ctx.Request.Headers == nil {
		x.Ctx.Request.Headers = http.Header{}
	}
	err := p.run(x)
	if errors.Is(err, ErrReturn) {
		err = nil
	}
	if err != nil {
		err = p.onError(x, err)
	}
	x.runAfterResponse()
	x.ensureResponse()
	x.runBeforeWrite()
	wrote = true
	if err != nil {
		var pe *PolicyError
		errors.As(err, &pe)
		msg := pe.Message
		if pe.ClientMessage != "" {
			msg = pe.ClientMessage
		}
		r := x.ensureResponse()
		copyHeaders(w.Header(), r.Headers)
		writeErrorBody(w, r.StatusCode, msg, nil)
		return
	}
	x.writeResponse(w)
}

// run is inbound → backend → outbound (or a CORS preflight answer).
func (p *Pipeline) run(x *Exec) error {
	if isPreflight(x.HTTPRequest) {
		x.Section = Inbound
		for _, st := range p.preflight {
			x.cur, x.Scope = st, st.scope
			handled, err := st.p.(Preflighter).Preflight(x)
			x.cur = nil
			if err != nil {
				return st.locate(err)
			}
			if handled {
				x.ensureResponse()
				return ErrReturn
			}
		}
		if len(p.preflight) > 0 {
			// No cors policy matched the preflight (all had
			// terminate-unmatched-request="false"): APIM answers an
			// empty 200 without running the pipeline; a preflight never
			// reaches the backend. Without any cors policy the preflight
			// is an ordinary request.
			acEmptyResponse(x, nil)
			return ErrReturn
		}
	}
	x.Section = Inbound
	if err := Run(x, p.sections[Inbound]); servedFromCache(err) {
		// cache-lookup answered: no backend, outbound runs.
	} else if err != nil {
		return err
	} else {
		x.Section = Backend
		if err := Run(x, p.sections[Backend]); err != nil {
			return err
		}
	}
	x.ensureResponse()
	x.runAfterResponse()
	x.Section = Outbound
	return Run(x, p.sections[Outbound])
}

func isPreflight(r *http.Request) bool {
	return r != nil && r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// asPolicyError turns any pipeline failure into a located PolicyError.
func asPolicyError(err error) (*PolicyError, *step, bool) {
	var at *step
	var le *locatedError
	if errors.As(err, &le) {
		at = le.at
	}
	var kr keepResponse
	if errors.As(err, &kr) {
		return kr.PolicyError, at, true
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe, at, false
	}
	src := ""
	if at != nil {
		src = at.name
	}
	return &PolicyError{Source: src, Reason: "InternalError", Message: err.Error(), Status: 500, ClientMessage: "Internal server error"}, at, false
}

// onError fills context.LastError, runs on-error and returns nil when
// on-error produced the response, else the error whose body to write.
func (p *Pipeline) onError(x *Exec, err error) error {
	pe, at, keep := asPolicyError(err)
	le := &expr.LastError{Source: pe.Source, Reason: pe.Reason, Message: pe.Message, Section: x.Section.String()}
	if at != nil {
		le.Scope, le.Section, le.Path, le.PolicyId = at.scope.String(), at.section.String(), at.path, at.id
		if le.Source == "" {
			le.Source = at.name
		}
	}
	x.Ctx.LastError = le
	if x.Env != nil && x.Env.Rejected != nil {
		x.Env.Rejected(le.Source, le.Reason)
	}
	status := pe.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if !keep {
		// The error response replaces whatever response existed (for
		// example the backend's, when outbound failed).
		x.dropStream()
		x.Ctx.Response = &expr.Response{StatusCode: status, StatusReason: http.StatusText(status), Headers: pe.Headers.Clone()}
		if x.Ctx.Response.Headers == nil {
			x.Ctx.Response.Headers = http.Header{}
		}
	} else {
		x.produced = true
	}
	x.Section = OnError
	x.runAfterResponse()
	oe := Run(x, p.sections[OnError])
	switch {
	case oe == nil && x.produced, errors.Is(oe, ErrReturn):
		return nil
	case oe != nil:
		x.logger().Error("apim: on-error failed", "error", oe.Error())
		x.Ctx.Response = &expr.Response{StatusCode: status, Headers: pe.Headers.Clone()}
	}
	return pe
}

// writeErrorBody writes APIM's {"statusCode":N,"message":"..."}.
func writeErrorBody(w http.ResponseWriter, status int, msg string, h http.Header) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{status, msg})
	body := bytes.TrimRight(buf.Bytes(), "\n")
	copyHeaders(w.Header(), h)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeResponse sends x.Ctx.Response (or the streamed backend body).
func (x *Exec) writeResponse(w http.ResponseWriter) {
	r := x.ensureResponse()
	status := r.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if x.upgraded != nil && status == http.StatusSwitchingProtocols {
		x.tunnel(w, r.StatusReason, r.Headers)
		return
	}
	copyHeaders(w.Header(), r.Headers)
	if x.respStream != nil {
		w.WriteHeader(status)
		streamCopy(w, x.respStream)
		// Trailers arrive after the body; unannounced ones go out with
		// the TrailerPrefix (HTTP/2 and chunked HTTP/1.1).
		if x.respTrailer != nil {
			for k, vs := range x.respTrailer.Trailer {
				w.Header()[http.TrailerPrefix+k] = vs
			}
		}
		return
	}
	body := bodyBytes(r.Body)
	if status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 && x.HTTPRequest != nil && x.HTTPRequest.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// streamCopy copies a streamed backend body, flushing after each chunk so
// server-sent events reach the caller as they arrive.
func streamCopy(w http.ResponseWriter, r io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// hopByHop headers are connection-specific and never forwarded (RFC 9110
// §7.6.1). Content-Length is recomputed for the body actually sent.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true,
}

// repeatedHeaders are sent as one header line per value; any other header
// with several values is sent comma-joined in one line (set-header, A8).
var repeatedHeaders = map[string]bool{
	"User-Agent": true, "Www-Authenticate": true, "Proxy-Authenticate": true, "Cookie": true,
	"Set-Cookie": true, "Warning": true, "Date": true, "Expires": true, "If-Modified-Since": true,
	"If-Unmodified-Since": true, "Last-Modified": true, "Retry-After": true,
}

// copyHeaders copies src into dst without hop-by-hop headers (including
// those named by Connection), folding multiple values as APIM sends them.
func copyHeaders(dst, src http.Header) {
	drop := map[string]bool{}
	for _, c := range src.Values("Connection") {
		for _, f := range strings.Split(c, ",") {
			if f = strings.TrimSpace(f); f != "" {
				drop[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	for k, vs := range src {
		ck := http.CanonicalHeaderKey(k)
		if hopByHop[ck] || drop[ck] || len(vs) == 0 {
			continue
		}
		if len(vs) > 1 && !repeatedHeaders[ck] {
			dst[ck] = []string{strings.Join(vs, ", ")}
			continue
		}
		dst[ck] = append([]string(nil), vs...)
	}
}
