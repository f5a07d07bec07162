package apim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestSetBodyLiquidJSONBodyAndContext(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/>
<set-variable name="who" value="vars-ok" />
<set-body template="liquid">{"name":"{{body.user.name | Upcase}}","n":{{body.items | Size}},"sum":{{body.count | Plus: 2}},
"auth":"{{context.Request.Headers["Authorization"]}}","lower":"{{context.Request.Headers["x-lower"]}}",
"m":"{{context.Request.Method}}","path":"{{context.Request.OriginalUrl.Path}}","v":"{{context.Variables["who"]}}",
"d":"{{body.missing | Default: "none"}}","u":"{{ "a b&amp;c" | UrlEncode }}","api":"{{context.Api.Name}}",
{% if body.count > 2 %}"big":true{% else %}"big":false{% endif %},"list":"{% for i in body.items %}{{i}};{% endfor %}",
"date":"{{ "2024-03-05T10:20:30Z" | Date: "yyyy-MM-dd HH:mm" }}","strf":"{{ "2024-03-05T10:20:30Z" | Date: "%Y" }}"}</set-body>
</inbound></policies>`)
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{"user":{"name":"ann"},"items":[1,2,3],"count":3}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer abc")
	r.Header.Set("X-Lower", "ci")
	w := tRun(t, p, be, r, nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	want := `{"name":"ANN","n":3,"sum":5,
"auth":"Bearer abc","lower":"ci",
"m":"POST","path":"/api/x","v":"vars-ok",
"d":"none","u":"a+b%26c","api":"api",
"big":true,"list":"1;2;3;",
"date":"2024-03-05 10:20","strf":"2024"}`
	if got := be.last(t).Body; got != want {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
}

func TestSetBodyLiquidXMLBodyOutbound(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(`<order id="7"><line>a</line><line>b</line><total>9</total></order>`))
	})
	p := tPipe(t, `<policies><inbound><base/></inbound><outbound><base/>
<set-body template="liquid">{{body.order["@id"]}}|{{body.order.total}}|{% for l in body.order.line %}{{l}}{% endfor %}|{{context.Response.StatusCode}}</set-body>
</outbound></policies>`)
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, 200, "7|9|ab|200")
}

func TestSetBodyLiquidHeaderIteration(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><return-response><set-body template="liquid">{% for h in context.Request.Headers %}{{ h.Key }}={{ h.Value }};{% endfor %}</set-body></return-response></inbound></policies>`)
	r := tGet("/x")
	r.Header = http.Header{"A": {"1"}, "B": {"2", "3"}}
	w := tRun(t, p, be, r, nil)
	tExpect(t, w, 200, "A=1;B=2,3;")
	if be.count() != 0 {
		t.Fatal("backend called")
	}
}

func TestSetBodyLiquidNamedValues(t *testing.T) {
	be := newTBackend(t, nil)
	opts := &LoadOptions{NamedValues: map[string]NamedValue{"greeting": {Value: "hello"}}}
	d := tDoc(t, ScopeAPI, `<policies><inbound><base/><set-body template="liquid">{{greeting}} {{context.Request.Method}} [{{undefinedname}}]</set-body></inbound></policies>`, opts)
	p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), d)
	tRun(t, p, be, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("x")), nil)
	if got := be.last(t).Body; got != "hello POST []" {
		t.Fatalf("%q", got)
	}
}

func TestSetBodyLiquidLoadErrors(t *testing.T) {
	ps := tLoadErr(t, "<policies><inbound>\n<set-body template=\"liquid\">ok\n{% if x %}unclosed</set-body></inbound></policies>", "liquid template")
	if ps[0].Pos.Line < 2 {
		t.Fatalf("position %v", ps[0].Pos)
	}
	tLoadErr(t, `<policies><inbound><set-body template="mustache">x</set-body></inbound></policies>`, "template")
	tLoadErr(t, `<policies><inbound><set-body template="liquid" foo="1">x</set-body></inbound></policies>`, `unknown attribute "foo"`)
}

func TestDotnetDate(t *testing.T) {
	tm := time.Date(2024, 3, 5, 14, 7, 9, 123000000, time.UTC)
	for f, want := range map[string]string{
		"yyyy-MM-ddTHH:mm:ss.fffK": "2024-03-05T14:07:09.123Z",
		"dd MMM yy h:mm tt":        "05 Mar 24 2:07 PM",
		"dddd 'at' HH\\h":          "Tuesday at 14h",
	} {
		if got := expr.FormatCustomDate(tm, f); got != want {
			t.Errorf("%q: %q, want %q", f, got, want)
		}
	}
}

// The corpus files that use Liquid render with a real request.
func TestSetBodyLiquidCorpus(t *testing.T) {
	needExpr(t)
	load := func(name string) *Document {
		src, err := os.ReadFile(filepath.Join(corpusDir, "examples", name))
		if err != nil {
			t.Skipf("corpus not available: %v", err)
		}
		d, err := ParseDocument(name, src, ScopeAPI, &LoadOptions{Lenient: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return d
	}
	be := newTBackend(t, nil)
	p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), load("List all inbound headers.policy.xml"))
	r := tGet("/x")
	r.Header = http.Header{"Accept": {"*/*"}, "X-Test": {"1"}}
	w := tRun(t, p, be, r, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Accept: */*") || !strings.Contains(w.Body.String(), "X-Test: 1") {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	load("Generate Azure Relay Token.policy.xml")

	// Data Factory: managed identity token, then a Liquid JSON body built
	// from a matched parameter; management.azure.com is routed to be.
	p = NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), load("Trigger Azure Data Factory Pipeline With Parameters.policy.xml"))
	r = httptest.NewRequest(http.MethodPost, "/trigger", strings.NewReader(""))
	x := tExec(t, be, r, &Env{Tokens: &fakeTokens{}, Transport: redirectTo(be.URL)})
	x.Ctx.Request.MatchedParameters["emailAddress"] = "ann@example.com"
	w = httptest.NewRecorder()
	p.Serve(w, x)
	got := be.last(t)
	if w.Code != 200 || got.Header.Get("Authorization") != "Bearer T--https://management.azure.com" ||
		!strings.Contains(got.Body, `"UserEmailAddress": "ann@example.com"`) || !strings.HasSuffix(got.Path, "/createRun") {
		t.Fatalf("%d %s; backend %+v", w.Code, w.Body, got)
	}
}

// redirectTo sends every request to base (scheme and host), keeping the path.
type redirectTo string

func (b redirectTo) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(string(b))
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	return http.DefaultTransport.RoundTrip(r)
}
