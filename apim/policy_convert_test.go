package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestXMLToJSONConventions(t *testing.T) {
	in := `<?xml version="1.0" encoding="utf-8"?><root xmlns:a="urn:a"><item id="1">x</item><item id="2"/><empty/><a:n>v</a:n><mixed k="v">t</mixed><one>1</one></root>`
	got, err := xmlToJSON([]byte(in), true, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"?xml":{"@version":"1.0","@encoding":"utf-8"},"root":{"@xmlns:a":"urn:a","item":[{"@id":"1","#text":"x"},{"@id":"2"}],"empty":null,"a:n":"v","mixed":{"@k":"v","#text":"t"},"one":"1"}}`
	if string(got) != want {
		t.Fatalf("\n%s\nwant\n%s", got, want)
	}
	got, _ = xmlToJSON([]byte(in), false, false)
	if !strings.HasPrefix(string(got), `{"root":{"item":`) {
		t.Fatalf("javascript-friendly: %s", got)
	}
}

func TestJSONToXMLConventions(t *testing.T) {
	in := `{"order":{"@id":"7","attrs":{"lang":"en"},"lines":[{"sku":"a"},{"sku":"b"}],"note":null,"ok":true,"n":1.50,"when":"2024-01-02T03:04:05.000Z","ns_x":"y","#text":"t","2bad name":"z"}}`
	got, err := jsonToXML([]byte(in), jsonToXMLOptions{parseDate: true, nsSeparator: "_", attributeBlock: "attrs"})
	if err != nil {
		t.Fatal(err)
	}
	want := `<Document><order id="7" lang="en"><lines><sku>a</sku></lines><lines><sku>b</sku></lines><note /><ok>true</ok><n>1.50</n><when>2024-01-02T03:04:05Z</when><ns:x>y</ns:x>t<_x0032_bad_x0020_name>z</_x0032_bad_x0020_name></order></Document>`
	if string(got) != want {
		t.Fatalf("\n%s\nwant\n%s", got, want)
	}
	got, _ = jsonToXML([]byte(`{"when":"2024-01-02T03:04:05.000Z"}`), jsonToXMLOptions{})
	if string(got) != `<Document><when>2024-01-02T03:04:05.000Z</when></Document>` {
		t.Fatalf("parse-date=false: %s", got)
	}
}

func TestConvertPolicies(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<r><a>1</a></r>`))
	})
	p := tPipe(t, `<policies><inbound><base/><json-to-xml apply="content-type-json" consider-accept-header="false" parse-date="false"/></inbound>
<outbound><base/><xml-to-json kind="javascript-friendly" apply="always" /></outbound></policies>`)
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{"q":1}`))
	r.Header.Set("Content-Type", "application/json")
	w := tRun(t, p, be, r, nil)
	tExpect(t, w, 200, `{"r":{"a":"1"}}`)
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatal(ct)
	}
	got := be.last(t)
	if got.Body != `<Document><q>1</q></Document>` || got.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("%+v", got)
	}
	// consider-accept-header (default true): a caller asking for XML only keeps XML
	r = tGet("/x")
	r.Header.Set("Accept", "application/xml")
	w = tRun(t, p, be, r, nil)
	tExpect(t, w, 200, `<r><a>1</a></r>`)
	// apply=content-type-json: a text body is not converted
	r = httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`plain`))
	r.Header.Set("Content-Type", "text/plain")
	tRun(t, p, be, r, nil)
	if be.last(t).Body != "plain" {
		t.Fatal(be.last(t).Body)
	}
	// invalid JSON with apply=always: 400
	p2 := tPipe(t, `<policies><inbound><base/><json-to-xml apply="always" consider-accept-header="false"/></inbound></policies>`)
	w = tRun(t, p2, be, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{bad`)), nil)
	if w.Code != 400 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestConvertLoadErrors(t *testing.T) {
	tLoadErr(t, `<policies><inbound><json-to-xml /></inbound></policies>`, `"apply" is required`)
	tLoadErr(t, `<policies><inbound><json-to-xml apply="sometimes" /></inbound></policies>`, `apply must be one of`)
	tLoadErr(t, `<policies><inbound><json-to-xml apply="always" namespace-separator="ab" /></inbound></policies>`, `single character`)
	tLoadErr(t, `<policies><inbound><json-to-xml apply="always" foo="x" /></inbound></policies>`, `unknown attribute "foo"`)
	tLoadErr(t, `<policies><inbound><xml-to-json apply="always" /></inbound></policies>`, `"kind" is required`)
	tLoadErr(t, `<policies><inbound><xml-to-json kind="direct" apply="content-type-json" /></inbound></policies>`, `apply must be one of`)
	tLoadErr(t, `<policies><inbound><jsonp callback-parameter-name="cb" /></inbound></policies>`, `not allowed in section inbound`)
	tLoadErr(t, `<policies><outbound><jsonp /></outbound></policies>`, `callback-parameter-name`)
	tLoadErr(t, `<policies><inbound><cross-domain><cross-domain-policy/></cross-domain></inbound></policies>`, `not allowed at api scope`)
}

func TestJSONP(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/></inbound><outbound><base/><jsonp callback-parameter-name="cb" /></outbound></policies>`)
	w := tRun(t, p, be, tGet("/x?cb=my.fn"), nil)
	tExpect(t, w, 200, "my.fn(backend body)")
	if w.Header().Get("Content-Type") != "application/javascript" {
		t.Fatal(w.Header())
	}
	tExpect(t, tRun(t, p, be, tGet("/x"), nil), 200, "backend body")
	w = tRun(t, p, be, tGet("/x?cb=alert(1)"), nil)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "invalid") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestCrossDomain(t *testing.T) {
	be := newTBackend(t, nil)
	g := tDoc(t, ScopeGlobal, `<policies><inbound><cross-domain><cross-domain-policy><allow-access-from domain="*" /></cross-domain-policy></cross-domain></inbound><backend><forward-request/></backend></policies>`, nil)
	p := NewPipeline(g, nil)
	w := tRun(t, p, be, tGet("/crossdomain.xml"), nil)
	want := "<?xml version=\"1.0\"?>\n<cross-domain-policy><allow-access-from domain=\"*\" /></cross-domain-policy>"
	tExpect(t, w, 200, want)
	if string(g.CrossDomain()) != want || w.Header().Get("Content-Type") != "text/xml" {
		t.Fatal("CrossDomain()")
	}
	tExpect(t, tRun(t, p, be, tGet("/other"), nil), 200, "backend body")
}

// xml-to-json always-array-child-elements and json-to-xml namespace-prefix.
func TestConvertOptions(t *testing.T) {
	got, err := xmlToJSON([]byte(`<r><a>1</a><b>2</b><b>3</b></r>`), false, true)
	if err != nil || string(got) != `{"r":{"a":["1"],"b":["2","3"]}}` {
		t.Fatalf("always arrays: %s %v", got, err)
	}
	got, _ = xmlToJSON([]byte(`<r><a>1</a></r>`), false, false)
	if string(got) != `{"r":{"a":"1"}}` {
		t.Fatalf("default: %s", got)
	}
	x, err := jsonToXML([]byte(`{"xmlns:soap":"urn:s","soap:Body":{"ns":"urn:d","v":1}}`), jsonToXMLOptions{})
	if err != nil || string(x) != `<Document xmlns:soap="urn:s"><soap:Body><ns>urn:d</ns><v>1</v></soap:Body></Document>` {
		t.Fatalf("xmlns declarations: %s %v", x, err)
	}
	x, _ = jsonToXML([]byte(`{"ns":"urn:d","ns_p":"urn:p","v":1}`), jsonToXMLOptions{nsPrefix: "ns", nsSeparator: "_"})
	if string(x) != `<Document xmlns="urn:d" xmlns:p="urn:p"><v>1</v></Document>` {
		t.Fatalf("namespace-prefix ns: %s", x)
	}
	p := tPipe(t, `<policies><inbound><base/></inbound><outbound><base/><xml-to-json kind="direct" apply="always" consider-accept-header="false" always-array-child-elements="true"/></outbound></policies>`)
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<r><a>1</a></r>`))
	})
	tExpect(t, tRun(t, p, be, tGet("/x"), nil), 200, `{"r":{"a":["1"]}}`)
}
