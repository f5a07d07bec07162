package pages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// customer is a template as customers write them for B2C, with scripts,
// inline handlers and javascript: URLs in the usual and the sneaky forms.
const customer = `<!DOCTYPE html>
<html>
<head>
<title>Contoso</title>
<link rel="stylesheet" href="https://cdn.contoso.com/b2c.css">
<style>.heading { color: navy }</style>
<script src="https://cdn.contoso.com/b2c.js"></script>
<script>window.tracked = true;</script>
</head>
<body onload="init()">
<header><a id="home" href="javascript:alert(1)">Home</a>
<a id="entity" href="&#106;avascript:alert(2)">Entity</a>
<a id="spaced" href=" java&#9;script:alert(3)">Spaced</a>
<a id="vb" href="VBScript:msgbox(4)">VB</a>
<a id="help" href="https://contoso.com/help" onclick="track()" OnMouseOver="x()">Help</a>
<img id="logo" src="https://cdn.contoso.com/logo.png" alt="Contoso" onerror="boom()">
<iframe id="frame" srcdoc="&lt;script&gt;alert(5)&lt;/script&gt;"></iframe>
<svg id="art"><script>alert(6)</script><a id="svglink" xlink:href="javascript:alert(7)"><text>x</text>
<set attributeName="href" to="javascript:alert(9)"/><animate id="anim" attributeName="xlink:href" values="#;javascript:alert(10)"/><animate id="keep" attributeName="opacity" values="0;1"/></a></svg>
</header>
<div id="api">Loading…</div>
<footer><form id="survey" action="javascript:alert(8)"></form></footer>
</body>
</html>`

func parseCustomer(t *testing.T) *Template {
	t.Helper()
	tp, err := ParseTemplate([]byte(customer))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestScriptsStrippedWhenNotAllowed(t *testing.T) {
	doc := render(t, parseCustomer(t), &Page{Kind: SelfAsserted}, false)
	if s := byTag(doc, "script"); len(s) != 0 {
		t.Errorf("%d script elements left", len(s))
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "srcdoc" || isScriptURL(a.Val) {
				t.Errorf("<%s id=%q> kept %s=%q", n.Data, attr(n, "id"), a.Key, a.Val)
			}
		}
	}
	if len(byTag(doc, "set")) != 0 || len(find(doc, func(n *html.Node) bool { return attr(n, "id") == "anim" })) != 0 {
		t.Error("an SVG animation of a link survived")
	}
	byID(t, doc, "keep")
	for _, id := range []string{"home", "entity", "spaced", "vb", "svglink"} {
		if n := byID(t, doc, id); hasAttr(n, "href") {
			t.Errorf("#%s kept href=%q", id, attr(n, "href"))
		}
	}
	// What is not script stays: safe links, images, styles, the title.
	if got := attr(byID(t, doc, "help"), "href"); got != "https://contoso.com/help" {
		t.Errorf("#help href = %q", got)
	}
	if got := attr(byID(t, doc, "logo"), "src"); got != "https://cdn.contoso.com/logo.png" {
		t.Errorf("#logo src = %q", got)
	}
	if len(byTag(doc, "style")) != 1 || len(byTag(doc, "link")) != 1 || text(byTag(doc, "title")[0]) != "Contoso" {
		t.Error("style, link or title lost")
	}
	// The template's placeholder content is replaced by the page.
	a := api(t, doc, "SelfAsserted")
	if strings.Contains(text(a), "Loading") {
		t.Error("div#api kept the template's content")
	}
	byID(t, a, "attributeVerification")
}

func TestScriptsKeptWhenAllowed(t *testing.T) {
	doc := render(t, parseCustomer(t), &Page{Kind: SelfAsserted, Nonce: "n0nce"}, true)
	scripts := find(doc, func(n *html.Node) bool { return n.Data == "script" && n.Namespace == "" })
	if len(scripts) != 2 {
		t.Fatalf("%d script elements, want the template's 2", len(scripts))
	}
	for _, s := range scripts {
		if attr(s, "nonce") != "n0nce" {
			t.Errorf("script without the page nonce: %v", s.Attr)
		}
	}
	if got := attr(byID(t, doc, "help"), "onclick"); got != "track()" {
		t.Errorf("onclick = %q, want it kept", got)
	}
	if got := attr(byTag(doc, "body")[0], "onload"); got != "init()" {
		t.Errorf("body onload = %q, want it kept", got)
	}
	if got := attr(byID(t, doc, "home"), "href"); got != "javascript:alert(1)" {
		t.Errorf("#home href = %q, want it kept", got)
	}
}

func TestDecorate(t *testing.T) {
	tp := parseCustomer(t)
	doc := render(t, tp, &Page{Kind: Exception, Lang: "fr", Title: "Erreur", Nonce: "abc"}, false)
	if got := attr(byTag(doc, "html")[0], "lang"); got != "fr" {
		t.Errorf("lang = %q", got)
	}
	// The template's own title wins, as in B2C.
	if ts := byTag(doc, "title"); len(ts) != 1 || text(ts[0]) != "Contoso" {
		t.Errorf("titles: %d", len(ts))
	}
	if got := attr(byTag(doc, "style")[0], "nonce"); got != "abc" {
		t.Errorf("style nonce = %q", got)
	}

	// A template without a title gets the page's.
	doc = render(t, builtin(t), &Page{Kind: Exception, Lang: "fr", Title: "Erreur <1>"}, false)
	if ts := byTag(doc, "title"); len(ts) != 1 || text(ts[0]) != "Erreur <1>" {
		t.Errorf("title: %v", ts)
	}
	if got := attr(byTag(doc, "html")[0], "lang"); got != "fr" {
		t.Errorf("lang = %q", got)
	}
}

func TestMissingAPI(t *testing.T) {
	for _, src := range []string{
		`<html><body><main id="api"></main></body></html>`, // not a div
		`<html><body><div id="API"></div></body></html>`,   // ids are case-sensitive
		`<html><body><div class="api"></div></body></html>`,
		`<html><body><svg><div id="api"></div></svg></body></html>`, // parsed out of the svg, so this one is found
		``,
	} {
		_, err := ParseTemplate([]byte(src))
		if strings.Contains(src, "svg") {
			if err != nil {
				t.Errorf("%q: %v", src, err)
			}
			continue
		}
		if !errors.Is(err, ErrNoAPIElement) {
			t.Errorf("%q: err = %v, want ErrNoAPIElement", src, err)
		}
	}
	if _, err := ParseTemplate([]byte(`<form action="/x"><div><div id="api"></div></div></form>`)); err == nil || !strings.Contains(err.Error(), "inside a <form>") {
		t.Errorf("div#api in a form: err = %v", err)
	}
	// LoadTemplate says which LoadUri was wrong.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.html"), []byte("<p>hi</p>"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTemplate(context.Background(), "t.html", dir, nil)
	if !errors.Is(err, ErrNoAPIElement) || !strings.Contains(err.Error(), `"t.html"`) {
		t.Errorf("err = %v", err)
	}
}

func oversize() []byte {
	pad := bytes.Repeat([]byte("x"), MaxTemplateSize)
	return append([]byte(`<div id="api"></div><p>`), pad...)
}

func TestOversizeRefused(t *testing.T) {
	if _, err := ParseTemplate(oversize()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ParseTemplate: err = %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.html"), oversize(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTemplate(context.Background(), "big.html", dir, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("file: err = %v", err)
	}
	// Exactly at the limit is fine.
	ok := append([]byte(`<div id="api"></div>`), bytes.Repeat([]byte("x"), MaxTemplateSize-len(`<div id="api"></div>`))...)
	if _, err := ParseTemplate(ok); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// fetcher is how the runtime fetches templates: an http.Client, with the
// caller's context and a size bound.
func fetcher(c *http.Client) func(context.Context, string) ([]byte, error) {
	return func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, MaxTemplateSize+1))
	}
}

func TestLoadTemplateHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/unified.html":
			io.WriteString(w, `<!DOCTYPE html><html><head><title>Contoso</title></head><body><div class="container"><div id="api"></div></div></body></html>`)
		case "/big.html":
			w.Write(oversize())
		case "/noapi.html":
			io.WriteString(w, `<html><body>nothing here</body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	fetch := fetcher(srv.Client())
	ctx := context.Background()

	tp, err := LoadTemplate(ctx, srv.URL+"/unified.html", "/nonexistent", fetch)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Builtin() || tp.Source() != srv.URL+"/unified.html" {
		t.Errorf("Builtin %v, Source %q", tp.Builtin(), tp.Source())
	}
	doc := render(t, tp, &Page{Kind: Unified, Fields: []Field{{ClaimTypeID: "signInName", Label: "Email"}}}, false)
	a := api(t, doc, "Unified")
	if !hasClass(a.Parent, "container") {
		t.Error("div#api moved out of the template's container")
	}
	byID(t, a, "localAccountForm")

	for path, want := range map[string]string{
		"/big.html":     "larger than",
		"/noapi.html":   "<div id=\"api\">",
		"/missing.html": "404",
	} {
		if _, err := LoadTemplate(ctx, srv.URL+path, "", fetch); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", path, err, want)
		}
	}
	// Without a fetch func, URLs are refused rather than fetched somehow.
	if _, err := LoadTemplate(ctx, srv.URL+"/unified.html", "", nil); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("nil fetch: err = %v", err)
	}
}

func TestLoadTemplateFileAndBuiltin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := `<html><body><div id="api"></div></body></html>`
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "templates", "page.html")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"templates/page.html", "./templates/page.html", path} {
		tp, err := LoadTemplate(ctx, uri, dir, nil)
		if err != nil {
			t.Errorf("%q: %v", uri, err)
			continue
		}
		if tp.Builtin() || tp.Source() != uri {
			t.Errorf("%q: Builtin %v Source %q", uri, tp.Builtin(), tp.Source())
		}
	}
	for _, uri := range []string{"~/tenant/templates/AzureBlue/unified.cshtml", "~/tenant/default/exception.cshtml"} {
		tp, err := LoadTemplate(ctx, uri, "", nil)
		if err != nil || !tp.Builtin() {
			t.Errorf("%q: %v", uri, err)
		}
	}
	for uri, want := range map[string]string{
		"":                    "empty LoadUri",
		"missing.html":        "no such file",
		"ftp://x/t.html":      `unsupported scheme "ftp"`,
		"data:text/html,<p>":  `unsupported scheme "data"`,
		"file:///etc/passwd":  `unsupported scheme "file"`,
		"javascript:alert(1)": `unsupported scheme "javascript"`,
	} {
		if _, err := LoadTemplate(ctx, uri, dir, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", uri, err, want)
		}
	}
}

// The built-in template is the clean default: no scripts, a lang, a
// viewport, and div#api inside main.
func TestBuiltinTemplate(t *testing.T) {
	doc, err := html.Parse(bytes.NewReader(defaultTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if len(byTag(doc, "script")) != 0 {
		t.Error("the default template has scripts")
	}
	if attr(byTag(doc, "html")[0], "lang") == "" {
		t.Error("no lang")
	}
	if a := byID(t, doc, "api"); a.Parent.Data != "main" {
		t.Errorf("div#api in <%s>", a.Parent.Data)
	}
	if len(defaultTemplate) > 8<<10 {
		t.Errorf("default template is %d bytes; keep it small", len(defaultTemplate))
	}
}

// Render writes nothing when it fails, so a half page never goes out.
func TestRenderFailureWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := builtin(t).Render(&buf, &Page{Kind: KindUnknown}, false); err == nil || buf.Len() != 0 {
		t.Errorf("err = %v, wrote %d bytes", err, buf.Len())
	}
}
