package pages

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// builtin is the built-in default template, as a starter pack loads it.
func builtin(t testing.TB) *Template {
	t.Helper()
	tp, err := LoadTemplate(context.Background(), "~/tenant/templates/AzureBlue/selfAsserted.cshtml", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// render renders p and parses the output back, as a browser would.
func render(t testing.TB, tp *Template, p *Page, allowScripts bool) *html.Node {
	t.Helper()
	var buf bytes.Buffer
	if err := tp.Render(&buf, p, allowScripts); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// find returns the elements for which match is true, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byTag(n *html.Node, tag string) []*html.Node {
	return find(n, func(e *html.Node) bool { return e.Data == tag })
}

func byClass(n *html.Node, class string) []*html.Node {
	return find(n, func(e *html.Node) bool { return hasClass(e, class) })
}

// byID returns the one element with the id, failing if there is not
// exactly one (duplicate ids break labels and customer scripts).
func byID(t testing.TB, n *html.Node, id string) *html.Node {
	t.Helper()
	got := find(n, func(e *html.Node) bool { return attr(e, "id") == id })
	if len(got) != 1 {
		t.Fatalf("want one element with id %q, got %d", id, len(got))
	}
	return got[0]
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// text is the element's text content.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func isAncestor(a, n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

// api returns div#api and checks its data-name.
func api(t testing.TB, doc *html.Node, dataName string) *html.Node {
	t.Helper()
	a := byID(t, doc, "api")
	if a.Data != "div" || attr(a, "data-name") != dataName {
		t.Fatalf("div#api: got <%s data-name=%q>, want <div data-name=%q>", a.Data, attr(a, "data-name"), dataName)
	}
	return a
}

// hidden returns the form's hidden fields by name.
func hidden(form *html.Node) map[string]string {
	m := map[string]string{}
	for _, in := range byTag(form, "input") {
		if attr(in, "type") == "hidden" {
			m[attr(in, "name")] = attr(in, "value")
		}
	}
	return m
}

// checkLabelled checks that an input has exactly one label tied to it.
func checkLabelled(t testing.TB, doc *html.Node, id, label string) {
	t.Helper()
	ls := find(doc, func(e *html.Node) bool { return e.Data == "label" && attr(e, "for") == id })
	if len(ls) != 1 || text(ls[0]) != label {
		t.Errorf("label for %q: got %d labels, want one reading %q", id, len(ls), label)
	}
}
