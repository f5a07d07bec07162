package apim

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// Test-only policies: one that fails, one that panics, one that answers
// CORS preflights.
type tFail struct{}

func (tFail) Exec(*Exec) error {
	return &PolicyError{Source: "x-test-fail", Reason: "Boom", Message: "it broke", Status: 418, Headers: http.Header{"Retry-After": {"7"}}}
}

type tPanic struct{}

func (tPanic) Exec(*Exec) error { panic("kaboom") }

type tPreflight struct{}

func (tPreflight) Exec(x *Exec) error { return nil }
func (tPreflight) Preflight(x *Exec) (bool, error) {
	r := x.ensureResponse()
	r.StatusCode = 204
	r.Headers.Set("Access-Control-Allow-Origin", x.HTTPRequest.Header.Get("Origin"))
	return true, nil
}

func init() {
	simple := func(p Policy) CompileFunc {
		return func(b *Builder, n *rawxml.Node) (Policy, error) {
			if err := b.Attrs(n); err != nil {
				return nil, err
			}
			return p, b.Children(n)
		}
	}
	Register(Spec{Name: "x-test-fail", Compile: simple(tFail{})})
	Register(Spec{Name: "x-test-panic", Compile: simple(tPanic{})})
	Register(Spec{Name: "x-test-preflight", Sections: []Section{Inbound}, Compile: simple(tPreflight{})})
}

func TestDefaultErrorBodyAndLastError(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><choose><when condition="false"/><when condition="true"><x-test-fail id="f1"/></when></choose></inbound>
		<backend><base/></backend><outbound>`+appendHdr("outbound")+`</outbound><on-error>`+appendHdr("on-error")+`</on-error></policies>`)
	x := tExec(t, be, tGet("/x"), nil)
	w := httptest.NewRecorder()
	p.Serve(w, x)
	tExpect(t, w, 418, `{"statusCode":418,"message":"it broke"}`)
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Retry-After") != "7" || w.Header().Get("X-Order") != "on-error" {
		t.Fatalf("headers %v", w.Header())
	}
	if be.count() != 0 {
		t.Fatal("backend must not be called after an inbound error")
	}
	le := x.Ctx.LastError
	want := expr.LastError{Source: "x-test-fail", Reason: "Boom", Message: "it broke", Scope: "api", Section: "inbound", Path: "choose[1]/when[2]/x-test-fail[1]", PolicyId: "f1"}
	if le == nil || *le != want {
		t.Fatalf("LastError %+v, want %+v", le, want)
	}
}

func TestOnErrorReturnResponseReplacesErrorBody(t *testing.T) {
	p := tPipe(t, `<policies><inbound><x-test-fail/></inbound><on-error><return-response><set-status code="503" reason="Down"/><set-header name="X-E"><value>1</value></set-header><set-body>custom</set-body></return-response></on-error></policies>`)
	w := tRun(t, p, nil, tGet("/x"), nil)
	tExpect(t, w, 503, "custom")
	if w.Header().Get("X-E") != "1" {
		t.Fatal(w.Header())
	}
	// set-status alone in on-error changes the status of the default body.
	p = tPipe(t, `<policies><inbound><x-test-fail/></inbound><on-error><set-status code="400"/></on-error></policies>`)
	tExpect(t, tRun(t, p, nil, tGet("/x"), nil), 400, `{"statusCode":400,"message":"it broke"}`)
	// on-error itself failing: the original error's default body.
	p = tPipe(t, `<policies><inbound><x-test-fail/></inbound><on-error><return-response response-variable-name="missing"/></on-error></policies>`)
	tExpect(t, tRun(t, p, nil, tGet("/x"), nil), 418, `{"statusCode":418,"message":"it broke"}`)
}

func TestPanicIsInternalServerError(t *testing.T) {
	p := tPipe(t, `<policies><inbound><x-test-panic/></inbound></policies>`)
	var logged strings.Builder
	env := &Env{Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	tExpect(t, tRun(t, p, nil, tGet("/x"), env), 500, `{"statusCode":500,"message":"Internal server error"}`)
	if !strings.Contains(logged.String(), "kaboom") {
		t.Fatal("panic not logged")
	}
}

func TestBackendConnectionFailureAndTimeout(t *testing.T) {
	be := newTBackend(t, nil)
	be.Close() // nothing listens any more
	x := tExec(t, be, tGet("/x"), nil)
	w := httptest.NewRecorder()
	NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil)).Serve(w, x)
	tExpect(t, w, 500, `{"statusCode":500,"message":"Internal server error"}`)
	if le := x.Ctx.LastError; le.Source != "forward-request" || le.Reason != "BackendConnectionFailure" || le.Section != "backend" || le.Scope != "global" {
		t.Fatalf("%+v", le)
	}

	slow := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	g := tDoc(t, ScopeGlobal, `<policies><backend><forward-request timeout-ms="50"/></backend></policies>`, nil)
	x = tExec(t, slow, tGet("/x"), nil)
	w = httptest.NewRecorder()
	start := time.Now()
	NewPipeline(g).Serve(w, x)
	tExpect(t, w, 504, `{"statusCode":504,"message":"Gateway Timeout"}`)
	if x.Ctx.LastError.Reason != "Timeout" || time.Since(start) > time.Second {
		t.Fatalf("%+v after %s", x.Ctx.LastError, time.Since(start))
	}
}

func TestReturnResponseSkipsOutbound(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><return-response><set-header name="X-R"><value>r</value></set-header></return-response></inbound><outbound>`+appendHdr("outbound")+`</outbound></policies>`)
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, 200, "")
	if w.Header().Get("X-Order") != "" || w.Header().Get("X-R") != "r" || be.count() != 0 {
		t.Fatalf("headers %v, backend calls %d", w.Header(), be.count())
	}
}

func TestNoForwardRequestMeansEmpty200(t *testing.T) {
	g := tDoc(t, ScopeGlobal, `<policies><inbound/><backend/><outbound>`+appendHdr("outbound")+`</outbound></policies>`, nil)
	be := newTBackend(t, nil)
	w := tRun(t, NewPipeline(g), be, tGet("/x"), nil)
	tExpect(t, w, 200, "")
	if w.Header().Get("X-Order") != "outbound" || be.count() != 0 {
		t.Fatal(w.Header())
	}
}

func TestPreflightRunsOnlyPreflighters(t *testing.T) {
	be := newTBackend(t, nil)
	g := tDoc(t, ScopeGlobal, `<policies><inbound><x-test-preflight/></inbound><backend><forward-request/></backend></policies>`, nil)
	api := tDoc(t, ScopeAPI, `<policies><inbound><x-test-fail/><base/></inbound></policies>`, nil)
	p := NewPipeline(g, api)
	r := httptest.NewRequest(http.MethodOptions, "/x", nil)
	r.Header.Set("Origin", "https://app.example")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	w := tRun(t, p, be, r, nil)
	tExpect(t, w, 204, "")
	if w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" || be.count() != 0 {
		t.Fatal(w.Header())
	}
	// A plain OPTIONS is not a preflight: the whole pipeline runs.
	w = tRun(t, p, be, httptest.NewRequest(http.MethodOptions, "/x", nil), nil)
	if w.Code != 418 {
		t.Fatalf("got %d", w.Code)
	}
}

func TestHopByHopAndForwardedHeaders(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Secret-Hop")
		w.Header().Set("X-Secret-Hop", "1")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_, _ = w.Write([]byte("ok"))
	})
	r := tGet("/x?q=1")
	r.Header.Set("Connection", "X-Client-Hop")
	r.Header.Set("X-Client-Hop", "1")
	r.Header.Set("Proxy-Authorization", "x")
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	w := tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil)), be, r, nil)
	tExpect(t, w, 200, "ok")
	got := be.last(t)
	if got.Header.Get("X-Client-Hop") != "" || got.Header.Get("Proxy-Authorization") != "" {
		t.Fatalf("hop-by-hop sent to backend: %v", got.Header)
	}
	if got.Header.Get("X-Forwarded-For") != "198.51.100.1, 203.0.113.7" || got.Path != "/svc/x" || got.Query.Get("q") != "1" {
		t.Fatalf("%+v", got)
	}
	if !strings.HasPrefix(got.Host, "127.0.0.1:") {
		t.Fatalf("Host %q", got.Host)
	}
	if w.Header().Get("X-Secret-Hop") != "" || w.Header().Get("X-Multi") != "a, b" {
		t.Fatalf("response headers %v", w.Header())
	}
}

func TestExpressionFailureGoesToOnError(t *testing.T) {
	needExpr(t)
	p := tPipe(t, `<policies><inbound><set-variable name="v" value="@((string)context.Variables[&quot;nope&quot;])"/></inbound>
		<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header></on-error></policies>`)
	w := tRun(t, p, nil, tGet("/x"), nil)
	tExpect(t, w, 500, `{"statusCode":500,"message":"Internal server error"}`)
	if w.Header().Get("X-Reason") != "set-variable/ExpressionValueEvaluationFailure" {
		t.Fatal(w.Header())
	}
}
