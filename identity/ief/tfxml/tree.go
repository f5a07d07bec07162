// Package tfxml reads Azure AD B2C custom policy files (TrustFrameworkPolicy
// XML) into element trees that remember where each element starts, and
// checks them against B2C's own schema, TrustFrameworkPolicy_0.3.0.0.xsd
// (embedded, MIT, from Microsoft's starter pack). Everything the policy
// engine reports later points back into the file through Node.Pos.
//
// The schema check is structural: element and attribute names in their
// context, required attributes, enumerated values, text where the schema
// has none. Element order and counts are left to the engine, which reports
// them with B2C's rule (an inherited policy may leave out what its base
// already has, so minOccurs cannot be checked file by file).
package tfxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Namespace is the namespace of B2C custom policies.
const Namespace = "http://schemas.microsoft.com/online/cpim/schemas/2013/06"

// MaxFileBytes bounds one policy file. B2C refuses uploads over 1 MB per
// file; the largest starter-pack base is about 100 KB.
const MaxFileBytes = 4 << 20

// maxDepth bounds element nesting (the schema's deepest path is about 12).
const maxDepth = 64

// Node is one element.
type Node struct {
	Name  string
	Attrs map[string]string
	Kids  []*Node
	Text  string // character data, trimmed
	Pos   config.Pos
	// AttrOrder keeps attributes in document order (for messages).
	AttrOrder []string
}

// Attr returns an attribute's value ("" when absent).
func (n *Node) Attr(k string) string { return n.Attrs[k] }

// Has reports whether the attribute is present.
func (n *Node) Has(k string) bool { _, ok := n.Attrs[k]; return ok }

// Kid returns the first child element with the name, or nil.
func (n *Node) Kid(name string) *Node {
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// KidsNamed returns the child elements with the name.
func (n *Node) KidsNamed(name string) []*Node {
	var out []*Node
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// KidText is the trimmed text of the first child with the name.
func (n *Node) KidText(name string) string {
	if k := n.Kid(name); k != nil {
		return k.Text
	}
	return ""
}

// Clone copies the subtree (merging must not change a base shared by
// several relying parties).
func (n *Node) Clone() *Node {
	c := *n
	c.Attrs = make(map[string]string, len(n.Attrs))
	for k, v := range n.Attrs {
		c.Attrs[k] = v
	}
	c.AttrOrder = append([]string(nil), n.AttrOrder...)
	c.Kids = make([]*Node, len(n.Kids))
	for i, k := range n.Kids {
		c.Kids[i] = k.Clone()
	}
	return &c
}

// Parse reads a policy document. Positions come from Decoder.InputPos read
// before each token: whitespace is its own token, so it is the position of
// the start tag's '<'. A byte-order mark is allowed (the starter pack's
// files start with one).
func Parse(file string, data []byte) (*Node, error) {
	errAt := func(line, col int, format string, a ...any) error {
		return &config.Error{Pos: config.Pos{File: file, Line: line, Col: col}, Msg: fmt.Sprintf(format, a...)}
	}
	if len(data) > MaxFileBytes {
		return nil, errAt(1, 1, "policy file is %d bytes; the limit is %d", len(data), MaxFileBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*Node
	var texts []*strings.Builder
	var root *Node
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, col, err = se.Line, 1, errors.New(se.Msg)
			}
			return nil, errAt(line, col, "not well-formed XML: %v", err)
		}
		pos := config.Pos{File: file, Line: line, Col: col}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != Namespace {
				return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("element <%s> is in namespace %q: custom policies use %s", t.Name.Local, t.Name.Space, Namespace)}
			}
			if len(stack) >= maxDepth {
				return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("elements nested more than %d deep", maxDepth)}
			}
			n := &Node{Name: t.Name.Local, Attrs: map[string]string{}, Pos: pos}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns", a.Name.Space == "" && a.Name.Local == "xmlns":
					continue // namespace declarations
				case a.Name.Space == "http://www.w3.org/2001/XMLSchema-instance":
					continue // xsi:schemaLocation and friends
				case a.Name.Space != "":
					return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("attribute %s:%s on <%s> is not in B2C's schema", a.Name.Space, a.Name.Local, n.Name)}
				}
				if _, dup := n.Attrs[a.Name.Local]; !dup {
					n.AttrOrder = append(n.AttrOrder, a.Name.Local)
				}
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			} else if root != nil {
				return nil, &config.Error{Pos: pos, Msg: "more than one root element"}
			} else {
				root = n
			}
			stack = append(stack, n)
			texts = append(texts, &strings.Builder{})
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = strings.TrimSpace(texts[len(texts)-1].String())
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(texts) > 0 {
				texts[len(texts)-1].Write(t)
			}
		case xml.Directive:
			return nil, &config.Error{Pos: pos, Msg: "XML directives (DOCTYPE) are not allowed in a policy"}
		}
	}
	if root == nil {
		return nil, errAt(1, 1, "empty document")
	}
	return root, nil
}
