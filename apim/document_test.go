package apim

import (
	"net/http"
	"strings"
	"testing"
)

func TestLoadCollectsAllProblemsWithPositions(t *testing.T) {
	src := "<policies>\n  <inbound>\n    <no-such-policy/>\n    <set-header name=\"a\" bogus=\"1\"/>\n  </inbound>\n  <backend>\n    <set-variable name=\"x\" value=\"1\"/>\n    <rewrite-uri template=\"/x\"/>\n  </backend>\n  <outbound><forward-request/></outbound>\n  <inbound/>\n</policies>"
	ps := tLoadErr(t, src, "unknown policy <no-such-policy>")
	want := []string{
		"bad.xml:3:5: unknown policy <no-such-policy>",
		"bad.xml:4:26: unknown attribute \"bogus\" on <set-header>",
		"bad.xml:8:5: policy rewrite-uri is not allowed in section backend (allowed: inbound)",
		"bad.xml:10:13: policy forward-request is not allowed in section outbound (allowed: backend)",
		"bad.xml:11:3: section <inbound> appears twice",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems:\n%v", len(ps), ps)
	}
	for i, w := range want {
		if ps[i].Error() != w {
			t.Errorf("problem %d = %q, want %q", i, ps[i].Error(), w)
		}
	}
}

func TestLoadRootAndSections(t *testing.T) {
	tLoadErr(t, `<fragment/>`, "root element must be <policies>")
	tLoadErr(t, `<policies><inbound-x/></policies>`, "unknown section <inbound-x>")
	tLoadErr(t, `<policies><inbound><choose><when condition="true"><base/></when></choose></inbound></policies>`, "<base/> may only appear directly inside a section")
	tLoadErr(t, `<policies><inbound><choose/></inbound></policies>`, "choose: at least one <when> is required")
	tLoadErr(t, `<policies><inbound><choose><otherwise/><when condition="true"/></choose></inbound></policies>`, "<otherwise> must be the last child")
	tLoadErr(t, `<policies><inbound><set-header name="x"><bad/></set-header></inbound></policies>`, "unknown element <bad> inside <set-header>")
	tLoadErr(t, `<policies><inbound><set-status code="999"/></inbound></policies>`, "code must be an HTTP status code")
	tLoadErr(t, `<policies><inbound><set-header name="x" exists-action="replace"/></inbound></policies>`, "exists-action must be one of override, skip, append, delete")
	tLoadErr(t, `<policies><inbound><set-header name="Content-Length"/></inbound></policies>`, "header Content-Length cannot be changed")
	// Sections may come in any order; they still run in the fixed order.
	d := tDoc(t, ScopeGlobal, `<policies><outbound><set-header name="o" exists-action="append"><value>out</value></set-header></outbound><backend><forward-request/></backend><inbound><set-header name="i"><value>in</value></set-header></inbound></policies>`, nil)
	be := newTBackend(t, nil)
	w := tRun(t, NewPipeline(d), be, tGet("/x"), nil)
	if be.last(t).Header.Get("I") != "in" || w.Header().Get("O") != "out" {
		t.Fatalf("backend header %q, response header %q", be.last(t).Header.Get("I"), w.Header().Get("O"))
	}
}

func TestAzureOnlyAndUnsupportedPoliciesAreErrors(t *testing.T) {
	tLoadErr(t, `<policies><inbound><authentication-managed-identity resource="https://x"/></inbound></policies>`,
		"authentication-managed-identity needs a token source: configure gateway.managedIdentity")
	tLoadErr(t, `<policies><inbound><log-to-eventhub logger-id="x">hi</log-to-eventhub></inbound></policies>`, "policy log-to-eventhub is not available self-hosted")
	tLoadErr(t, `<policies><inbound><xsl-transform/></inbound></policies>`, "policy xsl-transform is not supported yet: ")
	tLoadErr(t, `<policies><inbound><validate-odata-request/></inbound></policies>`, "policy validate-odata-request is not supported yet")
	tLoadErr(t, `<policies><inbound><set-backend-service backend-id="b1"/></inbound></policies>`, `backend-id "b1" is not a backend`)
	// Inside send-request too.
	tLoadErr(t, `<policies><inbound><send-request response-variable-name="r"><set-url>https://x.example/</set-url><authentication-managed-identity resource="r"/></send-request></inbound></policies>`,
		"configure gateway.managedIdentity")
}

// setHeaderAppend is a policy whose effect shows the order policies ran in.
func appendHdr(v string) string {
	return `<set-header name="X-Order" exists-action="append"><value>` + v + `</value></set-header>`
}

func TestBaseMergeOrder(t *testing.T) {
	global := tDoc(t, ScopeGlobal, `<policies><inbound>`+appendHdr("global")+`<base/></inbound><backend><forward-request/></backend><outbound/><on-error/></policies>`, nil)
	product := tDoc(t, ScopeProduct, `<policies><inbound>`+appendHdr("product-before")+`<base/>`+appendHdr("product-after")+`</inbound></policies>`, nil)
	// A1's example: API inbound <cross-domain/><base/><find-and-replace/>,
	// with set-header standing in for the two policies.
	api := tDoc(t, ScopeAPI, `<policies><inbound>`+appendHdr("api-first")+`<base/>`+appendHdr("api-last")+`</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`, nil)
	be := newTBackend(t, nil)
	tRun(t, NewPipeline(global, product, api), be, tGet("/x"), nil)
	got := strings.Join(be.last(t).Header.Values("X-Order"), ",")
	if got != "api-first, product-before, global, product-after, api-last" {
		t.Fatalf("order %q", got)
	}

	// No <base/>: the broader scopes' section is dropped.
	api2 := tDoc(t, ScopeAPI, `<policies><inbound>`+appendHdr("api-only")+`</inbound><backend><base/></backend></policies>`, nil)
	tRun(t, NewPipeline(global, product, api2), be, tGet("/x"), nil)
	if got := strings.Join(be.last(t).Header.Values("X-Order"), ","); got != "api-only" {
		t.Fatalf("without base: %q", got)
	}

	// A nil document and a missing section behave as <base/>.
	op := tDoc(t, ScopeOperation, `<policies><inbound><base/>`+appendHdr("op")+`</inbound></policies>`, nil)
	tRun(t, NewPipeline(global, nil, nil, op), be, tGet("/x"), nil)
	if got := strings.Join(be.last(t).Header.Values("X-Order"), ","); got != "global, op" {
		t.Fatalf("nil scopes: %q", got)
	}
}

func TestFragments(t *testing.T) {
	inner, err := ParseFragment("inner.xml", []byte(`<fragment>`+appendHdr("inner")+`</fragment>`), nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := ParseFragment("outer.xml", []byte(`<fragment>`+appendHdr("outer")+`<include-fragment fragment-id="inner"/></fragment>`), &LoadOptions{Fragments: map[string]*Document{"inner": inner}})
	if err != nil {
		t.Fatal(err)
	}
	opts := &LoadOptions{Fragments: map[string]*Document{"inner": inner, "outer": outer}}
	api := tDoc(t, ScopeAPI, `<policies><inbound><base/><include-fragment fragment-id="outer"/>`+appendHdr("api")+`</inbound><backend><base/></backend></policies>`, opts)
	be := newTBackend(t, nil)
	tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), api), be, tGet("/x"), nil)
	if got := strings.Join(be.last(t).Header.Values("X-Order"), ","); got != "outer, inner, api" {
		t.Fatalf("order %q", got)
	}

	// Unknown fragment: error, or nothing when lenient.
	tLoadErr(t, `<policies><inbound><include-fragment fragment-id="nope"/></inbound></policies>`, "bad.xml:1:51: fragment 'nope' is not defined")
	if _, err := ParseDocument("l.xml", []byte(`<policies><inbound><include-fragment fragment-id="nope"/></inbound></policies>`), ScopeAPI, &LoadOptions{Lenient: true}); err != nil {
		t.Fatalf("lenient: %v", err)
	}

	// A fragment's policies obey the section they are included in, and the
	// problem points into the fragment's file.
	fw, err := ParseFragment("fw.xml", []byte("<fragment>\n  <forward-request/>\n</fragment>"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseDocument("api.xml", []byte(`<policies><inbound><include-fragment fragment-id="fw"/></inbound></policies>`), ScopeAPI, &LoadOptions{Fragments: map[string]*Document{"fw": fw}})
	if err == nil || !strings.Contains(err.Error(), "fw.xml:2:3: policy forward-request is not allowed in section inbound") {
		t.Fatalf("got %v", err)
	}

	// Cycle: a includes b includes a.
	a0, _ := ParseFragment("a.xml", []byte(`<fragment>`+appendHdr("a")+`</fragment>`), nil)
	frags := map[string]*Document{"a": a0}
	b, err := ParseFragment("b.xml", []byte(`<fragment><include-fragment fragment-id="a"/></fragment>`), &LoadOptions{Fragments: frags})
	if err != nil {
		t.Fatal(err)
	}
	frags["b"] = b
	a, err := ParseFragment("a.xml", []byte(`<fragment><include-fragment fragment-id="b"/></fragment>`), &LoadOptions{Fragments: frags})
	if err != nil {
		t.Fatal(err)
	}
	frags["a"] = a
	_, err = ParseDocument("api.xml", []byte(`<policies><inbound><include-fragment fragment-id="a"/></inbound></policies>`), ScopeAPI, &LoadOptions{Fragments: frags})
	if err == nil || !strings.Contains(err.Error(), "fragment cycle: a -> b -> a") {
		t.Fatalf("got %v", err)
	}
	if _, err := ParseFragment("f.xml", []byte(`<fragment><base/></fragment>`), nil); err == nil {
		t.Fatal("<base/> in a fragment must be an error")
	}
}

func TestNamedValues(t *testing.T) {
	opts := &LoadOptions{NamedValues: map[string]NamedValue{
		"host":   {Value: "example.org"},
		"secret": {Value: "s3cr3t-value", Secret: true},
	}}
	d := tDoc(t, ScopeAPI, `<policies><inbound><set-header name="X-{{host}}"><value>v={{host}};k={{secret}}</value></set-header><base/></inbound></policies>`, opts)
	be := newTBackend(t, nil)
	tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), d), be, tGet("/x"), nil)
	if got := be.last(t).Header.Get("X-Example.org"); got != "v=example.org;k=s3cr3t-value" {
		t.Fatalf("header %q (%v)", got, be.last(t).Header)
	}

	_, err := ParseDocument("nv.xml", []byte("<policies>\n<inbound>\n  <set-header name=\"a\"><value>x {{missing}}</value></set-header>\n</inbound></policies>"), ScopeAPI, opts)
	if err == nil || err.Error() != "nv.xml:3:33: named value 'missing' is not defined" {
		t.Fatalf("got %v", err)
	}
	if _, err := ParseDocument("nv.xml", []byte(`<policies><inbound><set-header name="a"><value>{{missing}}</value></set-header></inbound></policies>`), ScopeAPI, &LoadOptions{Lenient: true}); err != nil {
		t.Fatalf("lenient: %v", err)
	}

	// A secret never appears in an error message.
	_, err = ParseDocument("s.xml", []byte(`<policies><inbound><set-status code="{{secret}}"/></inbound></policies>`), ScopeAPI, opts)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("secret leaked or no error: %v", err)
	}
}

func TestNamedValueSecretInExpressionError(t *testing.T) {
	needExpr(t)
	opts := &LoadOptions{NamedValues: map[string]NamedValue{"secret": {Value: `s3cr3t" +`, Secret: true}}}
	_, err := ParseDocument("s.xml", []byte("<policies><inbound>\n<set-variable name=\"v\" value=\"@(&quot;{{secret}}&quot;)\"/></inbound></policies>"), ScopeAPI, opts)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "s.xml:2:") {
		t.Fatalf("got %v", err)
	}
}

func TestExpressionSyntaxErrorPosition(t *testing.T) {
	needExpr(t)
	src := "<policies>\n<inbound>\n<set-variable name=\"v\" value=\"@(1 +)\" />\n</inbound></policies>"
	_, err := ParseDocument("e.xml", []byte(src), ScopeAPI, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "e.xml:3:") {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
}

func TestHeaderFolding(t *testing.T) {
	h := http.Header{"X-A": {"1", "2"}, "Set-Cookie": {"a=1", "b=2"}, "Connection": {"X-Drop"}, "X-Drop": {"y"}, "Keep-Alive": {"1"}}
	out := http.Header{}
	copyHeaders(out, h)
	if out.Get("X-A") != "1, 2" || len(out["Set-Cookie"]) != 2 || out.Get("X-Drop") != "" || out.Get("Keep-Alive") != "" || out.Get("Connection") != "" {
		t.Fatalf("%v", out)
	}
}
