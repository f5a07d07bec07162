package rawxml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// mustParse parses src and fails the test on error.
func mustParse(t *testing.T, src string) *Node {
	t.Helper()
	n, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return n
}

// escapeAttr writes s in the "xml" content format for a double-quoted
// attribute value; newlines and tabs become character references so XML
// attribute normalisation keeps them.
var escapeAttr = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;",
	"\n", "&#xA;", "\t", "&#x9;", "\r", "&#xD;")

// escapeText writes s in the "xml" content format for element text.
var escapeText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")

// serialize writes n back in the "xml" content format (everything escaped).
// Text is written before the children: Text is already a concatenation, so
// the values survive even though the interleaving does not.
func serialize(b *strings.Builder, n *Node) {
	b.WriteString("<" + n.Name)
	for _, a := range n.Attrs {
		b.WriteString(" " + a.Name + `="` + escapeAttr.Replace(a.Value) + `"`)
	}
	b.WriteString(">")
	b.WriteString(escapeText.Replace(n.Text))
	for _, c := range n.Children {
		serialize(b, c)
	}
	b.WriteString("</" + n.Name + ">")
}

// sameValues compares names, attribute values, text and children, ignoring
// positions and Inner; it returns a description of the first difference.
func sameValues(a, b *Node, path string) string {
	path += "/" + a.Name
	if a.Name != b.Name {
		return fmt.Sprintf("%s: name %q vs %q", path, a.Name, b.Name)
	}
	if len(a.Attrs) != len(b.Attrs) {
		return fmt.Sprintf("%s: %d attributes vs %d", path, len(a.Attrs), len(b.Attrs))
	}
	for i := range a.Attrs {
		if a.Attrs[i].Name != b.Attrs[i].Name || a.Attrs[i].Value != b.Attrs[i].Value {
			return fmt.Sprintf("%s: attribute %q=%q vs %q=%q", path, a.Attrs[i].Name, a.Attrs[i].Value, b.Attrs[i].Name, b.Attrs[i].Value)
		}
	}
	if a.Text != b.Text {
		return fmt.Sprintf("%s: text %q vs %q", path, a.Text, b.Text)
	}
	if len(a.Children) != len(b.Children) {
		return fmt.Sprintf("%s: %d children vs %d", path, len(a.Children), len(b.Children))
	}
	for i := range a.Children {
		if d := sameValues(a.Children[i], b.Children[i], path); d != "" {
			return d
		}
	}
	return ""
}

// stdParse reads a well-formed document with encoding/xml into a Node tree
// (values only), as an independent oracle for the "xml" format.
func stdParse(src string) (*Node, error) {
	d := xml.NewDecoder(strings.NewReader(src))
	var stack []*Node
	var root *Node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: qname(tok.Name)}
			for _, a := range tok.Attr {
				n.Attrs = append(n.Attrs, Attr{Name: qname(a.Name), Value: a.Value})
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
}

// qname undoes encoding/xml's namespace split so prefixed names compare
// verbatim (the documents used here declare no namespaces).
func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// walk calls f for n and every descendant.
func walk(n *Node, f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		walk(c, f)
	}
}
