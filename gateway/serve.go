package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/apim/expr"
)

// APIM's built-in 404 messages.
const (
	msgNotFound  = "Resource not found"
	msgNoOpMatch = "Unable to match incoming request to an operation."
)

// serve routes r and runs its pipeline; it returns the api and operation
// names for the metrics ("" when unmatched).
func (g *Gateway) serve(st *state, w http.ResponseWriter, r *http.Request) (apiName, opName string) {
	// Dot segments are resolved before routing; paths that hide one behind
	// an encoded slash, or carry control characters, are refused (see
	// apim/urlpath.go for what APIM does and why).
	segs, err := apim.ResolvePath(requestPath(r.URL))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", ""
	}
	a, rest := st.findAPI(segs, r)
	if a == nil && st.crossDomain != nil && r.URL.Path == "/crossdomain.xml" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// The global cross-domain policy's document (APIM serves it at
		// the root of the gateway).
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(st.crossDomain)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(st.crossDomain)
		}
		return "", ""
	}
	if a == nil {
		// No API: global policies do not run (APIM).
		writeError(w, http.StatusNotFound, msgNotFound)
		return "", ""
	}
	ri := &routeInfo{api: a, segs: segs, rest: rest, query: r.URL.Query()}
	preflight := isPreflight(r)
	if len(a.ops) > 0 {
		ri.op, ri.params, ri.escaped = a.findOperation(r.Method, rest, ri.query)
		switch {
		case ri.op != nil:
			// An explicit OPTIONS operation answers preflights itself.
			preflight = preflight && ri.op.method != http.MethodOptions
		case preflight:
			// A preflight with no OPTIONS operation goes to the operation
			// it asks about, else to the API: the cors policy answers it.
			ri.op, ri.params, ri.escaped = a.findOperation(r.Header.Get("Access-Control-Request-Method"), rest, ri.query)
		default:
			writeError(w, http.StatusNotFound, msgNoOpMatch)
			return a.name, ""
		}
	}
	if ri.op != nil {
		opName = ri.op.cfg.Name
	}

	ri.acc = st.authorize(a, a.subscriptionKey(r, ri.query))
	if ri.acc.denied != "" {
		if !preflight {
			writeError(w, http.StatusUnauthorized, ri.acc.denied)
			return a.name, opName
		}
		// Preflights carry no key: run them without a product.
		ri.acc = access{}
		if a.open != nil {
			ri.acc.product = a.open
		}
	}

	// The body is not read here: it is streamed to the backend, or read
	// when a policy needs it (body.go).
	hr := r
	var body *expr.Body
	if hasBody(r) {
		if r.ContentLength > st.maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, bodyTooLarge{st.maxBody}.Error())
			return a.name, opName
		}
		if r.ContentLength < 0 {
			// A chunked body is capped as it is read or streamed. A
			// shallow copy: the server keeps its own body to drain.
			hr = new(http.Request)
			*hr = *r
			hr.Body = http.MaxBytesReader(w, r.Body, st.maxBody)
		}
		lb := &lazyBody{g: g, r: hr.Body, length: r.ContentLength, max: st.maxBody}
		defer lb.done()
		body = expr.NewLazyBody(lb.load)
	}

	pipes := a.pipes[0]
	if ri.acc.product != nil {
		pipes = a.pipes[ri.acc.product.index+1]
	}
	p := pipes.api
	if ri.op != nil {
		p = pipes.ops[ri.op.index]
	}
	c := g.newContext(st, r, ri, body)
	if isPreflight(r) && !preflight {
		// An explicit OPTIONS operation matched: APIM skips the cors
		// preflight answer. apim.Pipeline detects preflights from the
		// request it is given, so it gets one without the preflight marker
		// (context.Request.Headers keep it).
		hr = hr.Clone(r.Context())
		hr.Header.Del("Access-Control-Request-Method")
	}
	x := apim.NewExec(st.env, hr, c)
	p.Serve(w, x)
	return a.name, opName
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// requestPath is the path as the caller sent it (percent-encoded; "%2F"
// distinct from "/"): RawPath when the caller's escaping differs from
// Go's, which it is then exactly.
func requestPath(u *url.URL) string {
	if u.RawPath != "" {
		return u.RawPath
	}
	return u.EscapedPath()
}

// writeError writes APIM's built-in error response.
func writeError(w http.ResponseWriter, status int, message string) {
	b, _ := json.Marshal(struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{status, message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
