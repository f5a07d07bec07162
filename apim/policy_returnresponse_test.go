package apim

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestReturnResponseDefaultAndChildren(t *testing.T) {
	p := tPipe(t, `<policies><inbound><return-response/></inbound></policies>`)
	w := tRun(t, p, nil, tGet("/x"), nil)
	tExpect(t, w, 200, "")

	p = tPipe(t, `<policies><inbound><return-response><set-status code="401" reason="Unauthorized"/><set-header name="WWW-Authenticate"><value>Bearer error="invalid_token"</value></set-header><set-body>{"error":"no"}</set-body></return-response></inbound></policies>`)
	w = tRun(t, p, nil, tGet("/x"), nil)
	tExpect(t, w, 401, `{"error":"no"}`)
	if w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatal(w.Header())
	}
	tLoadErr(t, `<policies><inbound><return-response><set-variable name="a" value="b"/></return-response></inbound></policies>`, "unknown element <set-variable> inside <return-response>")
}

func TestReturnResponseFromVariable(t *testing.T) {
	p := tPipe(t, `<policies><inbound><return-response response-variable-name="r"><set-header name="X-Added"><value>1</value></set-header></return-response></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), nil)
	orig := &expr.Response{StatusCode: 202, Headers: http.Header{"X-From": {"var"}}, Body: expr.NewBody([]byte("stored"))}
	x.Ctx.Variables["r"] = orig
	w := newRecorder()
	p.Serve(w, x)
	tExpect(t, w, 202, "stored")
	if w.Header().Get("X-From") != "var" || w.Header().Get("X-Added") != "1" {
		t.Fatal(w.Header())
	}
	if orig.Headers.Get("X-Added") != "" {
		t.Fatal("the variable's response was modified")
	}
}

func TestReturnResponseInOutbound(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/></inbound><backend><base/></backend><outbound><return-response><set-status code="299"/></return-response>`+appendHdr("after")+`</outbound></policies>`)
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, 299, "")
	if be.count() != 1 || w.Header().Get("X-Order") != "" {
		t.Fatal("backend must be called and policies after return-response skipped")
	}
}
