package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSetBodyRequestAndResponse(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-body>{"to":"backend"}</set-body></inbound><outbound><set-body>&lt;to caller&gt;</set-body></outbound></policies>`)
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("original"))
	w := tRun(t, p, be, r, nil)
	tExpect(t, w, 200, "<to caller>")
	if got := be.last(t); got.Body != `{"to":"backend"}` || got.Header.Get("Content-Length") != "" && got.Header.Get("Content-Length") != "16" {
		t.Fatalf("%+v", got)
	}
}

func TestSetBodyXMLPayload(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-body><data><item>1</item></data></set-body></inbound></policies>`)
	tRun(t, p, be, httptest.NewRequest(http.MethodPost, "/x", nil), nil)
	if got := be.last(t).Body; got != "<data><item>1</item></data>" {
		t.Fatalf("%q", got)
	}
}

func TestSetBodyExpression(t *testing.T) {
	needExpr(t)
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-body>@{ var s = context.Request.Body.As<string>(); return s.ToUpper(); }</set-body></inbound></policies>`)
	tRun(t, p, be, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("abc")), nil)
	if got := be.last(t).Body; got != "ABC" {
		t.Fatalf("%q", got)
	}
}
