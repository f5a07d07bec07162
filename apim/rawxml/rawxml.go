// Package rawxml reads APIM policy documents in both of APIM's content formats:
// "xml" (expressions XML-escaped) and "rawxml" (expressions written raw, with
// quotes, && and < inside attribute values and element text). Policy files in
// the wild are mostly rawxml, which encoding/xml rejects, so this package has
// its own small, position-tracking reader.
//
// The reader is strict XML everywhere except inside policy expressions. When an
// attribute value or a text run starts (after optional whitespace) with "@(" or
// "@{", the expression is located by bracket matching with a small C# lexer
// that skips string literals, char literals and comments, so raw quotes, "&&"
// and "<" are fine inside it. The lexer works on logical characters: an entity
// or character reference counts as the character it stands for, which is why
// the escaped ("xml") and raw ("rawxml") forms of an expression decode to the
// same text. Inside an expression an '&' that does not start a valid reference
// is a literal '&'; the flip side is that a raw expression that really means
// the five characters "&lt;" (for example inside a C# string) reads as "<",
// exactly as it would in the "xml" format.
//
// Input must be UTF-8 (a leading byte order mark is skipped). Line ends are
// normalised to LF before parsing, so CRLF files give the same values, and
// Node.Inner, as LF files.
package rawxml

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Pos is a 1-based line and column (columns count runes) in the source.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Advance returns the position just after s when s starts at p.
func (p Pos) Advance(s string) Pos {
	for _, r := range s {
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	return p
}

// Attr is one attribute. Value is decoded: entity references are resolved and,
// for an expression value (@(...) or @{...}), the raw C# text is kept exactly.
//
// Outside an expression the usual XML attribute-value normalisation applies
// (a literal tab or newline becomes a space; &#xA; stays a newline). Whitespace
// around an expression is kept in Value; callers trim.
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
	// Whitespace-only runs are kept; callers trim.
	Text    string
	TextPos Pos // position of the first character of the first text run (zero if Text is empty)
	// Inner is the raw source between the start tag and the end tag, for
	// policies whose content is a payload (for example XML inside set-body).
	// It is empty for a self-closing element.
	Inner string

	// Source maps for TextPosAt and ValuePosAt; attrSpans is parallel to Attrs.
	textSpans []span
	attrSpans [][]span
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

// TextPosAt returns the source position of the byte at offset off in n.Text.
// Expression compilers use it to report errors inside multi-line @{...}
// blocks at their real line and column (Text is decoded and concatenated, so
// plain arithmetic on TextPos would be wrong). Offsets are clamped to the
// text; it returns the zero Pos when Text is empty or the node did not come
// from Parse.
func (n *Node) TextPosAt(off int) Pos {
	return posAt(n.Text, n.textSpans, off, n.TextPos)
}

// ValuePosAt is TextPosAt for the value of the named attribute. It returns
// the attribute's ValuePos when the value is empty, and the zero Pos when the
// attribute is absent.
func (n *Node) ValuePosAt(name string, off int) Pos {
	for i, a := range n.Attrs {
		if a.Name == name {
			var spans []span
			if i < len(n.attrSpans) {
				spans = n.attrSpans[i]
			}
			return posAt(a.Value, spans, off, a.ValuePos)
		}
	}
	return Pos{}
}

// Error is a syntax error with its position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// span maps a stretch of decoded text back to the source. Inside one span
// that is not exact, decoded text and source text are identical, so the
// position of any byte is found by walking from the span start.
type span struct {
	off   int  // byte offset in the decoded text
	pos   Pos  // source position of that byte
	exact bool // one substituted character (a reference or normalised whitespace)
}

// posAt maps a byte offset in text to a source position using spans.
func posAt(text string, spans []span, off int, empty Pos) Pos {
	if len(spans) == 0 {
		return empty
	}
	off = max(0, min(off, len(text)))
	i := sort.Search(len(spans), func(i int) bool { return spans[i].off > off }) - 1
	i = max(i, 0)
	s := spans[i]
	if s.exact {
		return s.pos
	}
	return s.pos.Advance(text[s.off:off])
}

// textBuilder accumulates decoded character data together with its spans.
type textBuilder struct {
	sb     strings.Builder
	spans  []span
	srcEnd int  // source offset just after the last raw character
	joined bool // whether the next raw character may extend the last span
}

// raw appends a character copied unchanged from the source at c.
func (t *textBuilder) raw(r rune, c cursor) {
	if !t.joined || c.off != t.srcEnd {
		t.spans = append(t.spans, span{off: t.sb.Len(), pos: c.pos()})
	}
	t.sb.WriteRune(r)
	t.srcEnd = c.off + utf8.RuneLen(r)
	t.joined = true
}

// subst appends a character that stands for different source text at c
// (a reference, or whitespace normalised to a space).
func (t *textBuilder) subst(r rune, c cursor) {
	t.spans = append(t.spans, span{off: t.sb.Len(), pos: c.pos(), exact: true})
	t.sb.WriteRune(r)
	t.joined = false
}
