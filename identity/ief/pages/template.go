package pages

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxTemplateSize is the largest template LoadTemplate and ParseTemplate
// accept. B2C's own templates are a few KiB; a larger one is a mistake or
// an attack on the policy loader.
const MaxTemplateSize = 1 << 20

//go:embed default.html
var defaultTemplate []byte

// ErrNoAPIElement is returned for a template without <div id="api">.
var ErrNoAPIElement = errors.New(`pages: template has no <div id="api"> to insert the page into`)

// Template is a loaded HTML template. It is immutable and safe for
// concurrent Render calls.
type Template struct {
	source  string
	builtin bool
	src     []byte
}

// Source is the LoadUri the template came from ("" for ParseTemplate).
func (t *Template) Source() string { return t.source }

// Builtin reports whether the template is Gatehouse's built-in default.
func (t *Template) Builtin() bool { return t.builtin }

// LoadTemplate loads a ContentDefinition's LoadUri at policy load:
//   - "~/..." (B2C's own templates, as the starter packs use) is the
//     built-in default template;
//   - an http or https URL is read with fetch, which bounds time and size
//     (a nil fetch refuses URLs);
//   - anything else is a file path, relative to baseDir unless absolute.
//
// The template must be at most MaxTemplateSize bytes and contain
// <div id="api">.
func LoadTemplate(ctx context.Context, loadURI, baseDir string, fetch func(ctx context.Context, url string) ([]byte, error)) (*Template, error) {
	uri := strings.TrimSpace(loadURI)
	var src []byte
	switch {
	case uri == "":
		return nil, errors.New("pages: empty LoadUri")
	case strings.HasPrefix(uri, "~/"):
		return &Template{source: loadURI, builtin: true, src: defaultTemplate}, nil
	case hasScheme(uri, "http") || hasScheme(uri, "https"):
		if fetch == nil {
			return nil, fmt.Errorf("pages: LoadUri %q: fetching templates over HTTP is not configured", loadURI)
		}
		b, err := fetch(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("pages: LoadUri %q: %w", loadURI, err)
		}
		src = b
	default:
		if u, err := url.Parse(uri); err == nil && len(u.Scheme) > 1 {
			// Not a path: a one-letter "scheme" would be a Windows drive.
			return nil, fmt.Errorf("pages: LoadUri %q: unsupported scheme %q (want ~/, http(s) or a file path)", loadURI, u.Scheme)
		}
		path := uri
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		b, err := readFileLimited(path)
		if err != nil {
			return nil, fmt.Errorf("pages: LoadUri %q: %w", loadURI, err)
		}
		src = b
	}
	t, err := ParseTemplate(src)
	if err != nil {
		return nil, fmt.Errorf("pages: LoadUri %q: %w", loadURI, err)
	}
	t.source = loadURI
	return t, nil
}

func hasScheme(uri, scheme string) bool {
	return len(uri) > len(scheme)+2 && strings.EqualFold(uri[:len(scheme)+3], scheme+"://")
}

func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read one byte past the limit to tell "at the limit" from "over it".
	return io.ReadAll(io.LimitReader(f, MaxTemplateSize+1))
}

// ParseTemplate checks a template's source: at most MaxTemplateSize bytes,
// with <div id="api">.
func ParseTemplate(src []byte) (*Template, error) {
	if len(src) > MaxTemplateSize {
		return nil, fmt.Errorf("pages: template is larger than %d bytes", MaxTemplateSize)
	}
	doc, err := html.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("pages: parsing template: %w", err)
	}
	api := findAPI(doc)
	if api == nil {
		return nil, ErrNoAPIElement
	}
	for p := api.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.Form {
			// Browsers drop a form nested in a form, which would leave
			// the page's fields posting nowhere.
			return nil, errors.New(`pages: template's <div id="api"> is inside a <form>; the page brings its own forms`)
		}
	}
	return &Template{src: bytes.Clone(src)}, nil
}

// Render writes the page: the template with the generated UI in div#api.
// Unless allowScripts, the template's script elements, inline event
// handlers and javascript: URLs are removed first (allowScripts should be
// the relying party's ScriptExecution Allow and p.Version.AllowsScripts()).
// Nothing is written if rendering fails.
func (t *Template) Render(w io.Writer, p *Page, allowScripts bool) error {
	// Parsed anew each time: rendering changes the tree, and parsing a
	// small template costs less than a deep copy's bookkeeping.
	doc, err := html.Parse(bytes.NewReader(t.src))
	if err != nil {
		return fmt.Errorf("pages: parsing template: %w", err)
	}
	if !allowScripts {
		stripScripts(doc)
	}
	api := findAPI(doc)
	if api == nil {
		return ErrNoAPIElement
	}
	var ui bytes.Buffer
	if err := renderUI(&ui, p); err != nil {
		return err
	}
	// A detached context: were div#api inside a customer's <form>, the
	// parser would drop the generated forms as nested.
	ctxNode := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(&ui, ctxNode)
	if err != nil {
		return fmt.Errorf("pages: parsing generated UI: %w", err)
	}
	for c := api.FirstChild; c != nil; c = api.FirstChild {
		api.RemoveChild(c)
	}
	setAttr(api, "data-name", p.Kind.DataName())
	for _, n := range nodes {
		api.AppendChild(n)
	}
	decorate(doc, p, allowScripts)
	var out bytes.Buffer
	if err := html.Render(&out, doc); err != nil {
		return fmt.Errorf("pages: rendering: %w", err)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// findAPI returns the first <div id="api">.
func findAPI(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == atom.Div && n.Namespace == "" && attr(n, "id") == "api" {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findAPI(c); f != nil {
			return f
		}
	}
	return nil
}

// stripScripts removes what runs script: script elements (HTML and SVG),
// SVG animations of links, on* event-handler attributes, srcdoc
// documents, and attributes whose value is a javascript: or vbscript: URL.
func stripScripts(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && (strings.EqualFold(c.Data, "script") || setsHref(c)) {
			n.RemoveChild(c)
		} else {
			stripScripts(c)
		}
		c = next
	}
	if n.Type != html.ElementNode {
		return
	}
	kept := n.Attr[:0]
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		if strings.HasPrefix(key, "on") || key == "srcdoc" || isScriptURL(a.Val) {
			continue
		}
		kept = append(kept, a)
	}
	n.Attr = kept
}

// setsHref reports whether n is an SVG animation that changes a link's
// target: its values may smuggle a javascript: URL past isScriptURL
// ("values" is a list).
func setsHref(n *html.Node) bool {
	if n.Namespace != "svg" {
		return false
	}
	switch strings.ToLower(n.Data) {
	case "animate", "set", "animatemotion", "animatetransform":
		for _, a := range n.Attr {
			if strings.EqualFold(a.Key, "attributename") && strings.HasSuffix(strings.ToLower(strings.TrimSpace(a.Val)), "href") {
				return true
			}
		}
	}
	return false
}

// isScriptURL reports whether a browser would treat v as a script URL:
// browsers ignore leading control characters and spaces and any tab or
// newline inside the scheme, and compare it case-insensitively. HTML
// entities are already decoded by the parser.
func isScriptURL(v string) bool {
	var b strings.Builder
	for _, r := range v {
		if r <= ' ' {
			continue
		}
		b.WriteRune(r)
		if b.Len() >= len("javascript:") {
			break
		}
	}
	s := strings.ToLower(b.String())
	return strings.HasPrefix(s, "javascript:") || strings.HasPrefix(s, "vbscript:")
}

// decorate sets the document's language, a title if it has none, and the
// CSP nonce on inline styles (and scripts, when they run).
func decorate(doc *html.Node, p *Page, allowScripts bool) {
	var htmlEl, head, title *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Namespace == "" {
			switch n.DataAtom {
			case atom.Html:
				htmlEl = n
			case atom.Head:
				head = n
			case atom.Title:
				title = n
			case atom.Style:
				if p.Nonce != "" {
					setAttr(n, "nonce", p.Nonce)
				}
			case atom.Script:
				if p.Nonce != "" && allowScripts {
					setAttr(n, "nonce", p.Nonce)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if htmlEl != nil && p.Lang != "" {
		setAttr(htmlEl, "lang", p.Lang)
	}
	if title == nil && head != nil && p.Title != "" {
		t := &html.Node{Type: html.ElementNode, Data: "title", DataAtom: atom.Title}
		t.AppendChild(&html.Node{Type: html.TextNode, Data: p.Title})
		head.AppendChild(t)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// Themed is the built-in template with a tenant's colours and logo
// (identity.page): primary and background must be CSS colours and logo a
// URL the caller checked; they are escaped here all the same.
func Themed(primary, background, logo, logoAlt string) *Template {
	src := string(defaultTemplate)
	src = strings.Replace(src, ":root { --primary: #0b5cad; --bg: #f2f2f2; }",
		":root { --primary: "+cssValue(primary)+"; --bg: "+cssValue(background)+"; }", 1)
	if logo != "" {
		src = strings.Replace(src, "<main>\n", `<main>`+"\n"+`<header><img class="companyLogo" src="`+
			html.EscapeString(logo)+`" alt="`+html.EscapeString(logoAlt)+`"></header>`+"\n", 1)
	}
	return &Template{source: "~/themed", builtin: true, src: []byte(src)}
}

// cssValue keeps a colour from closing its declaration or the style.
func cssValue(s string) string {
	if strings.ContainsAny(s, ";{}<>\\\"'") {
		return "inherit"
	}
	return s
}
