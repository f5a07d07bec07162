package apim

import (
	"net/http"
	"testing"
)

func TestSetHeaderInboundActions(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/>
		<set-header name="X-Override"><value>new</value></set-header>
		<set-header name="X-Skip" exists-action="skip"><value>ignored</value></set-header>
		<set-header name="X-Skip-Absent" exists-action="skip"><value>added</value></set-header>
		<set-header name="X-Append" exists-action="append"><value>two</value><value>three</value></set-header>
		<set-header name="X-Delete" exists-action="delete"/>
		<set-header name="X-Multi"><value>a</value><value>b</value></set-header>
		<set-header name="Cookie"><value>a=1</value><value>b=2</value></set-header>
	</inbound></policies>`)
	r := tGet("/x")
	r.Header.Set("X-Override", "old")
	r.Header.Set("X-Skip", "kept")
	r.Header.Set("X-Append", "one")
	r.Header.Set("X-Delete", "gone")
	tRun(t, p, be, r, nil)
	h := be.last(t).Header
	for name, want := range map[string][]string{
		"X-Override": {"new"}, "X-Skip": {"kept"}, "X-Skip-Absent": {"added"},
		"X-Append": {"one, two, three"}, "X-Delete": nil, "X-Multi": {"a, b"},
	} {
		if got := h.Values(name); len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Cookie is one of the headers APIM sends as repeated lines; Go's
	// server joins repeated Cookie lines with "; " per RFC 6265.
	if got := h.Values("Cookie"); len(got) != 2 && (len(got) != 1 || got[0] != "a=1; b=2") {
		t.Errorf("Cookie = %q", got)
	}
}

func TestSetHeaderOutboundChangesResponse(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/></inbound><outbound><base/>
		<set-header name="X-Backend" exists-action="delete"/>
		<set-header name="Set-Cookie"><value>a=1</value><value>b=2</value></set-header>
		<set-header name="X-Out"><value>o</value></set-header></outbound></policies>`)
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, http.StatusOK, "backend body")
	if w.Header().Get("X-Backend") != "" || w.Header().Get("X-Out") != "o" || len(w.Header().Values("Set-Cookie")) != 2 {
		t.Fatalf("%v", w.Header())
	}
	if be.last(t).Header.Get("X-Out") != "" {
		t.Fatal("outbound set-header reached the backend request")
	}
}

func TestSetHeaderExpressions(t *testing.T) {
	needExpr(t)
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/>
		<set-header name="@(&quot;X-&quot; + context.Request.Method)" exists-action="@(&quot;append&quot;)"><value>@(context.Request.Headers.GetValueOrDefault("X-In", "none"))</value></set-header>
	</inbound></policies>`)
	r := tGet("/x")
	r.Header.Set("X-In", "in")
	tRun(t, p, be, r, nil)
	if got := be.last(t).Header.Get("X-Get"); got != "in" {
		t.Fatalf("X-Get = %q", got)
	}
}
