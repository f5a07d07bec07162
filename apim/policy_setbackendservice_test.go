package apim

import "testing"

func TestSetBackendServiceKeepsOperationPath(t *testing.T) {
	other := newTBackend(t, nil)
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-backend-service base-url="`+other.URL+`/api/8.2/?api-version=1"/></inbound></policies>`)
	tRun(t, p, be, tGet("/partners/15?version=2"), nil)
	got := other.last(t)
	if got.Path != "/api/8.2/partners/15" || got.Query.Get("version") != "2" || got.Query.Get("api-version") != "1" || be.count() != 0 {
		t.Fatalf("%+v (original backend calls %d)", got, be.count())
	}
	tLoadErr(t, `<policies><inbound><set-backend-service base-url="not a url"/></inbound></policies>`, "set-backend-service: base-url")
	tLoadErr(t, `<policies><inbound><set-backend-service base-url="http://x" sf-partition-key="1"/></inbound></policies>`, "Service Fabric")
}

func TestSetBackendServiceThenRewriteURI(t *testing.T) {
	other := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-backend-service base-url="`+other.URL+`/base"/><rewrite-uri template="/new"/></inbound></policies>`)
	tRun(t, p, nil, tGet("/old"), nil)
	if got := other.last(t).Path; got != "/base/new" {
		t.Fatalf("%q", got)
	}
}

// backend-id: a backend entity's URL is the base URL; a literal id must
// exist at load, an expression's is looked up when it runs.
func TestSetBackendServiceBackendID(t *testing.T) {
	be := newTBackend(t, nil)
	opts := &LoadOptions{Backends: map[string]*BackendEntity{"backend1": {ID: "backend1", URL: be.URL + "/b1"}}}
	for _, src := range []string{
		`<policies><inbound><base/><set-backend-service backend-id="backend1"/></inbound></policies>`,
		`<policies><inbound><base/><set-backend-service backend-id="@("backend" + "1")"/></inbound></policies>`,
	} {
		p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), tDoc(t, ScopeAPI, src, opts))
		tExpect(t, tRun(t, p, nil, tGet("/items"), nil), 200, "backend body")
		if got := be.last(t).Path; got != "/b1/items" {
			t.Fatalf("backend path %q", got)
		}
	}
	p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), tDoc(t, ScopeAPI, `<policies><inbound><base/><set-backend-service backend-id="@("nope")"/></inbound></policies>`, opts))
	if w := tRun(t, p, nil, tGet("/items"), nil); w.Code != 500 {
		t.Fatalf("unknown backend at run time: %d", w.Code)
	}
	tLoadErr(t, `<policies><inbound><set-backend-service backend-id="b" base-url="http://x"/></inbound></policies>`, "not both")
}
