package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestSendRequestNewAndCopy(t *testing.T) {
	svc := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Svc", "1")
		w.WriteHeader(201)
		_, _ = w.Write([]byte("svc:" + r.Method))
	})
	p := tPipe(t, `<policies><inbound>
		<send-request mode="new" response-variable-name="r1" timeout="5">
			<set-url>`+svc.URL+`/token?x=1</set-url>
			<set-method>POST</set-method>
			<set-header name="X-Auth"><value>k</value></set-header>
			<set-body>grant_type=client_credentials</set-body>
			<authentication-basic username="u" password="p"/>
		</send-request>
		<send-request mode="copy" response-variable-name="r2"><set-url>`+svc.URL+`/copy</set-url></send-request>
		<return-response response-variable-name="r1"/>
	</inbound></policies>`)
	r := httptest.NewRequest(http.MethodPut, "/orig?q=1", strings.NewReader("orig-body"))
	r.Header.Set("X-Caller", "c")
	x := tExec(t, nil, r, nil)
	w := newRecorder()
	p.Serve(w, x)
	tExpect(t, w, 201, "svc:POST")
	if w.Header().Get("X-Svc") != "1" {
		t.Fatal(w.Header())
	}
	svc.mu.Lock()
	first, second := svc.reqs[0], svc.reqs[1]
	svc.mu.Unlock()
	if first.Path != "/token" || first.Query.Get("x") != "1" || first.Header.Get("X-Auth") != "k" || first.Body != "grant_type=client_credentials" ||
		first.Header.Get("Authorization") != "Basic dTpw" || first.Header.Get("X-Caller") != "" {
		t.Fatalf("new: %+v", first)
	}
	if second.Method != http.MethodPut || second.Body != "orig-body" || second.Header.Get("X-Caller") != "c" || second.Path != "/copy" {
		t.Fatalf("copy: %+v", second)
	}
	r2, ok := x.Ctx.Variables["r2"].(*expr.Response)
	if !ok || r2.StatusCode != 201 || string(r2.Body.Bytes()) != "svc:PUT" {
		t.Fatalf("r2 %#v", x.Ctx.Variables["r2"])
	}
}

func TestSendRequestFailures(t *testing.T) {
	dead := newTBackend(t, nil)
	dead.Close()
	p := tPipe(t, `<policies><inbound><send-request response-variable-name="r" ignore-error="true"><set-url>`+dead.URL+`/x</set-url></send-request><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), nil)
	p.Serve(newRecorder(), x)
	if v, ok := x.Ctx.Variables["r"]; !ok || v != nil {
		t.Fatalf("ignore-error: %#v %v", v, ok)
	}

	p = tPipe(t, `<policies><inbound><send-request response-variable-name="r"><set-url>`+dead.URL+`/x</set-url></send-request></inbound></policies>`)
	x = tExec(t, nil, tGet("/x"), nil)
	w := newRecorder()
	p.Serve(w, x)
	tExpect(t, w, 500, `{"statusCode":500,"message":"Internal server error"}`)
	if x.Ctx.LastError.Source != "send-request" || x.Ctx.LastError.Reason != "BackendConnectionFailure" {
		t.Fatalf("%+v", x.Ctx.LastError)
	}

	slow := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	p = tPipe(t, `<policies><inbound><send-request response-variable-name="r" timeout="1"><set-url>`+slow.URL+`</set-url></send-request></inbound></policies>`)
	x = tExec(t, nil, tGet("/x"), nil)
	w = newRecorder()
	p.Serve(w, x)
	if w.Code != 504 || x.Ctx.LastError.Reason != "Timeout" {
		t.Fatalf("%d %+v", w.Code, x.Ctx.LastError)
	}
	tLoadErr(t, `<policies><inbound><send-request><set-url>http://x</set-url></send-request></inbound></policies>`, "response-variable-name\" is required")
	tLoadErr(t, `<policies><inbound><send-request response-variable-name="r"><set-url>nope</set-url></send-request></inbound></policies>`, "set-url: \"nope\" is not an absolute http(s) URL")
}

func TestSendOneWayRequest(t *testing.T) {
	got := make(chan string, 1)
	svc := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Event")
	})
	p := tPipe(t, `<policies><inbound><send-one-way-request mode="new"><set-url>`+svc.URL+`/hook</set-url><set-method>POST</set-method><set-header name="X-Event"><value>e1</value></set-header></send-one-way-request><return-response/></inbound></policies>`)
	tExpect(t, tRun(t, p, nil, tGet("/x"), nil), 200, "")
	select {
	case v := <-got:
		if v != "e1" {
			t.Fatal(v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("one-way request never arrived")
	}
}
