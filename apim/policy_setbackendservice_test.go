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
