package apim

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestForwardRequestBodiesAndRedirects(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/svc/redirect" {
			http.Redirect(w, r, "/svc/target", http.StatusFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("echo:"), body...))
	})
	g := func(attrs string) *Pipeline {
		return NewPipeline(tDoc(t, ScopeGlobal, `<policies><backend><forward-request`+attrs+`/></backend></policies>`, nil))
	}
	// The caller's body is streamed when the gateway did not buffer it.
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("payload"))
	x := tExec(t, be, httptest.NewRequest(http.MethodPost, "/x", nil), nil)
	x.HTTPRequest = r
	w := newRecorder()
	g("").Serve(w, x)
	tExpect(t, w, 200, "echo:payload")

	if w := tRun(t, g(""), be, tGet("/redirect"), nil); w.Code != 302 || w.Header().Get("Location") != "/svc/target" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	tExpect(t, tRun(t, g(` follow-redirects="true"`), be, tGet("/redirect"), nil), 200, "echo:")
}

func TestForwardRequestFailOnErrorStatusCode(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		_, _ = w.Write([]byte("down"))
	})
	g := tDoc(t, ScopeGlobal, `<policies><backend><forward-request fail-on-error-status-code="true"/></backend><outbound>`+appendHdr("outbound")+`</outbound><on-error>`+appendHdr("on-error")+`</on-error></policies>`, nil)
	x := tExec(t, be, tGet("/x"), nil)
	w := newRecorder()
	NewPipeline(g).Serve(w, x)
	tExpect(t, w, 503, "down")
	if w.Header().Get("X-Order") != "on-error" || x.Ctx.LastError.Reason != "BackendErrorStatusCode" {
		t.Fatalf("%v %+v", w.Header(), x.Ctx.LastError)
	}
	// Without the attribute the error status is an ordinary response.
	w = tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil)), be, tGet("/x"), nil)
	tExpect(t, w, 503, "down")
}

func TestForwardRequestStreamsResponse(t *testing.T) {
	release := make(chan struct{})
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: two\n\n")
	})
	g := tDoc(t, ScopeGlobal, `<policies><backend><forward-request buffer-response="false" timeout-ms="200"/></backend></policies>`, nil)
	p := NewPipeline(g)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Serve(w, tExec(t, be, r, nil))
	}))
	defer gw.Close()
	resp, err := http.Get(gw.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q %v", line, err)
	}
	// The first event arrived while the backend still holds the stream
	// open, and past the 200 ms header timeout.
	time.Sleep(300 * time.Millisecond)
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest %q", rest)
	}
}

func TestForwardRequestBufferedBodyForRetry(t *testing.T) {
	n := 0
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		body, _ := io.ReadAll(r.Body)
		if n == 1 {
			w.WriteHeader(500)
		}
		_, _ = w.Write(body)
	})
	needExpr(t)
	g := tDoc(t, ScopeGlobal, `<policies><backend><retry condition="@(context.Response.StatusCode == 500)" count="2" interval="0"><forward-request buffer-request-body="true"/></retry></backend></policies>`, nil)
	x := tExec(t, be, httptest.NewRequest(http.MethodPost, "/x", nil), nil)
	x.Ctx.Request.Body = nil
	x.HTTPRequest = httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("again"))
	w := newRecorder()
	NewPipeline(g).Serve(w, x)
	tExpect(t, w, 200, "again")
	if n != 2 {
		t.Fatalf("%d calls", n)
	}
	_ = expr.NewBody
}
