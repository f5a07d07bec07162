package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/apim"
)

// APIM's built-in 404 messages.
const (
	msgNotFound  = "Resource not found"
	msgNoOpMatch = "Unable to match incoming request to an operation."
)

// serve routes r and runs its pipeline; it returns the api and operation
// names for the metrics ("" when unmatched).
func (g *Gateway) serve(st *state, w http.ResponseWriter, r *http.Request) (apiName, opName string) {
	a, rest := st.findAPI(r.URL.EscapedPath())
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
	ri := &routeInfo{api: a, rest: rest, query: r.URL.Query()}
	preflight := isPreflight(r)
	if len(a.ops) > 0 {
		ri.op, ri.params = a.findOperation(r.Method, rest, ri.query)
		switch {
		case ri.op != nil:
			// An explicit OPTIONS operation answers preflights itself.
			preflight = preflight && ri.op.method != http.MethodOptions
		case preflight:
			// A preflight with no OPTIONS operation goes to the operation
			// it asks about, else to the API: the cors policy answers it.
			ri.op, ri.params = a.findOperation(r.Header.Get("Access-Control-Request-Method"), rest, ri.query)
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

	body, status, err := g.readBody(r)
	if err != nil {
		if status == http.StatusRequestEntityTooLarge {
			writeError(w, status, err.Error())
		} else {
			g.log.Debug("reading request body", "api", a.name, "error", err)
			writeError(w, status, "Unable to read the request body.")
		}
		return a.name, opName
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
	hr := r
	if isPreflight(r) && !preflight {
		// An explicit OPTIONS operation matched: APIM skips the cors
		// preflight answer. apim.Pipeline detects preflights from the
		// request it is given, so it gets one without the preflight marker
		// (context.Request.Headers keep it).
		hr = r.Clone(r.Context())
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

type bodyTooLarge struct{ max int64 }

func (e bodyTooLarge) Error() string {
	return "Request entity too large. The request body exceeds the gateway's limit of " +
		strconv.FormatInt(e.max, 10) + " bytes."
}

// readBody buffers the request body up to the gateway's cap; nil when the
// request has none.
func (g *Gateway) readBody(r *http.Request) ([]byte, int, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, 0, nil
	}
	if r.ContentLength > g.maxBody {
		return nil, http.StatusRequestEntityTooLarge, bodyTooLarge{g.maxBody}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, g.maxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, bodyTooLarge{g.maxBody}
		}
		return nil, http.StatusBadRequest, err
	}
	if int64(len(b)) > g.maxBody {
		return nil, http.StatusRequestEntityTooLarge, bodyTooLarge{g.maxBody}
	}
	if len(b) == 0 {
		return nil, 0, nil
	}
	return b, 0, nil
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
