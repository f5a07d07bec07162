package apim

import "testing"

func TestRewriteURI(t *testing.T) {
	be := newTBackend(t, nil)
	// A8's example: request /get?a=b&c=d, operation /get?a={b}, template /put.
	for _, tc := range []struct{ attr, wantQuery string }{
		{``, "c=d"},
		{` copy-unmatched-params="false"`, ""},
	} {
		p := tPipe(t, `<policies><inbound><base/><rewrite-uri template="/put"`+tc.attr+`/></inbound></policies>`)
		x := tExec(t, be, tGet("/get?a=b&c=d"), nil)
		x.Ctx.Operation.UrlTemplate = "/get?a={b}"
		x.Ctx.Request.MatchedParameters["b"] = "b"
		p.Serve(newRecorder(), x)
		got := be.last(t)
		if got.Path != "/svc/put" || got.Query.Encode() != tc.wantQuery {
			t.Fatalf("%s: %s?%s", tc.attr, got.Path, got.Query.Encode())
		}
	}
	// Template parameters and a query in the template.
	p := tPipe(t, `<policies><inbound><base/><rewrite-uri template="/users/{id}/items?kind={kind}"/></inbound></policies>`)
	x := tExec(t, be, tGet("/u/7?extra=1"), nil)
	x.Ctx.Request.MatchedParameters["id"] = "a b"
	x.Ctx.Request.MatchedParameters["kind"] = "x&y"
	p.Serve(newRecorder(), x)
	got := be.last(t)
	if got.Path != "/svc/users/a b/items" || got.Query.Get("kind") != "x&y" || got.Query.Get("extra") != "1" {
		t.Fatalf("%s?%s", got.Path, got.Query.Encode())
	}
	tLoadErr(t, `<policies><inbound><rewrite-uri/></inbound></policies>`, "template\" is required")
	tLoadErr(t, `<policies><outbound><rewrite-uri template="/x"/></outbound></policies>`, "not allowed in section outbound")
}
