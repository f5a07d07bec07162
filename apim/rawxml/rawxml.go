// Package rawxml reads APIM policy documents in both of APIM's content formats:
// "xml" (expressions XML-escaped) and "rawxml" (expressions written raw, with
// quotes, && and < inside attribute values and element text). Policy files in
// the wild are mostly rawxml, which encoding/xml rejects, so this package has
// its own small, position-tracking reader.
package rawxml

import "fmt"

// Pos is a 1-based line and column (columns count runes) in the source.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Attr is one attribute. Value is decoded: entity references are resolved and,
// for an expression value (@(...) or @{...}), the raw C# text is kept exactly.
type Attr struct {
	Name     string
	Value    string
	Pos      Pos // position of the attribute name
	ValuePos Pos // position of the first character of the value
}

// Node is one element.
type Node struct {
	Name     string
	Pos      Pos // position of '<'
	Attrs    []Attr
	Children []*Node
	// Text is the decoded character data directly inside this element
	// (CDATA included, comments excluded), concatenated in order.
	Text    string
	TextPos Pos // position of the first character of the first text run
	// Inner is the raw source between the start tag and the end tag, for
	// policies whose content is a payload (for example XML inside set-body).
	Inner string
}

// Attr returns the named attribute and whether it is present.
func (n *Node) Attr(name string) (Attr, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Error is a syntax error with its position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }
