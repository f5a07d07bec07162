package rawxml

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse reads one document and returns its root element. Errors are *Error.
func Parse(src []byte) (*Node, error) {
	text, err := prepare(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: text, cur: cursor{off: 0, line: 1, col: 1}}
	return p.document()
}

// eof is returned by the rune readers at the end of the input.
const eof = -1

// cursor is a place in the (normalised) source: byte offset plus position.
type cursor struct{ off, line, col int }

func (c cursor) pos() Pos { return Pos{c.line, c.col} }

// step moves c past rune r of n bytes.
func (c *cursor) step(r rune, n int) {
	c.off += n
	if r == '\n' {
		c.line++
		c.col = 1
	} else {
		c.col++
	}
}

// parser is a hand-written recursive reader over the normalised source. All
// movement goes through runeAt so line and column stay exact.
type parser struct {
	src string
	cur cursor
}

// prepare strips a UTF-8 BOM, normalises CRLF and lone CR to LF (as XML
// does, so positions and values do not depend on the file's line ends) and
// rejects invalid UTF-8 and characters XML does not allow, so the rest of the
// reader can decode runes without checks.
func prepare(src []byte) (string, error) {
	src = trimBOM(src)
	var text string
	if strings.IndexByte(string(src), '\r') < 0 {
		text = string(src)
	} else {
		var b strings.Builder
		b.Grow(len(src))
		for i := 0; i < len(src); i++ {
			c := src[i]
			if c == '\r' {
				c = '\n'
				if i+1 < len(src) && src[i+1] == '\n' {
					i++
				}
			}
			b.WriteByte(c)
		}
		text = b.String()
	}
	c := cursor{line: 1, col: 1}
	for c.off < len(text) {
		r, n := utf8.DecodeRuneInString(text[c.off:])
		if r == utf8.RuneError && n == 1 {
			return "", &Error{c.pos(), fmt.Sprintf("invalid UTF-8 byte 0x%02X (only UTF-8 input is supported)", text[c.off])}
		}
		if !isXMLChar(r) {
			return "", &Error{c.pos(), fmt.Sprintf("character %U is not allowed in XML", r)}
		}
		c.step(r, n)
	}
	return text, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// --- low-level movement -----------------------------------------------------

// runeAt returns the raw rune at c and the cursor after it (eof at the end).
func (p *parser) runeAt(c cursor) (rune, cursor) {
	if c.off >= len(p.src) {
		return eof, c
	}
	r, n := utf8.DecodeRuneInString(p.src[c.off:])
	c.step(r, n)
	return r, c
}

func (p *parser) peek() rune {
	r, _ := p.runeAt(p.cur)
	return r
}

func (p *parser) next() rune {
	r, c := p.runeAt(p.cur)
	p.cur = c
	return r
}

func (p *parser) hasPrefix(s string) bool { return strings.HasPrefix(p.src[p.cur.off:], s) }

// advance moves over n bytes of the source, keeping the position exact.
func (p *parser) advance(n int) {
	end := p.cur.off + n
	for p.cur.off < end {
		p.next()
	}
}

// skipSpace skips XML whitespace and reports whether there was any.
func (p *parser) skipSpace() bool {
	start := p.cur.off
	for isSpace(p.peek()) {
		p.next()
	}
	return p.cur.off > start
}

func (p *parser) errAt(c cursor, format string, args ...any) error {
	return &Error{c.pos(), fmt.Sprintf(format, args...)}
}

// name reads an XML name (prefixes such as "xsi:" are kept verbatim).
func (p *parser) name() (string, bool) {
	start := p.cur.off
	if !isNameStart(p.peek()) {
		return "", false
	}
	p.next()
	for isNameChar(p.peek()) {
		p.next()
	}
	return p.src[start:p.cur.off], true
}

// --- references -------------------------------------------------------------

// refAt decodes the entity or character reference starting with the '&' at c.
// It returns the character, the cursor after the reference, and a non-empty
// message when the text at c is not a valid reference. Strict callers report
// the message; the expression lexer treats such an '&' as a literal '&'.
func (p *parser) refAt(c cursor) (rune, cursor, string) {
	s := p.src
	i := c.off + 1
	var r rune
	if i < len(s) && s[i] == '#' {
		i++
		base := 10
		if i < len(s) && s[i] == 'x' {
			base = 16
			i++
		}
		start, v := i, 0
		for i < len(s) {
			d := digitVal(s[i], base)
			if d < 0 {
				break
			}
			if v <= utf8.MaxRune { // saturate: anything larger is invalid anyway
				v = v*base + d
			}
			i++
		}
		if i == start || i >= len(s) || s[i] != ';' {
			return 0, c, "malformed character reference (expected &#NN; or &#xHH;)"
		}
		i++
		if v > utf8.MaxRune || !isXMLChar(rune(v)) {
			return 0, c, fmt.Sprintf("character reference %s is not an allowed XML character", s[c.off:i])
		}
		r = rune(v)
	} else {
		start := i
		for i < len(s) {
			ch, n := utf8.DecodeRuneInString(s[i:])
			if !(isNameChar(ch) && (i > start || isNameStart(ch))) {
				break
			}
			i += n
		}
		if i == start || i >= len(s) || s[i] != ';' {
			return 0, c, "unescaped '&' (write &amp; or use an entity reference)"
		}
		name := s[start:i]
		i++
		switch name {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "apos":
			r = '\''
		case "quot":
			r = '"'
		default:
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			return 0, c, fmt.Sprintf("unknown entity &%s;", name)
		}
	}
	// A reference never contains a newline, so only the column moves.
	end := c
	end.col += utf8.RuneCountInString(s[c.off:i])
	end.off = i
	return r, end, ""
}

func digitVal(b byte, base int) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case base == 16 && 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case base == 16 && 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// --- document structure -----------------------------------------------------

func (p *parser) document() (*Node, error) {
	if err := p.misc(); err != nil {
		return nil, err
	}
	if p.cur.off >= len(p.src) {
		return nil, p.errAt(p.cur, "no root element")
	}
	root, err := p.element()
	if err != nil {
		return nil, err
	}
	if err := p.misc(); err != nil {
		return nil, err
	}
	if p.cur.off < len(p.src) {
		if r, c := p.runeAt(p.cur); r == '<' {
			if r2, _ := p.runeAt(c); isNameStart(r2) {
				return nil, p.errAt(p.cur, "only one root element is allowed (<%s> at %s is the root)", root.Name, root.Pos)
			}
		}
		return nil, p.errAt(p.cur, "unexpected content after the root element <%s>", root.Name)
	}
	return root, nil
}

// misc skips whitespace, comments and processing instructions outside the
// root element, and stops at anything else.
func (p *parser) misc() error {
	for {
		p.skipSpace()
		switch {
		case p.hasPrefix("<?"):
			if err := p.procInst(); err != nil {
				return err
			}
		case p.hasPrefix("<!--"):
			if err := p.comment(); err != nil {
				return err
			}
		case p.hasPrefix("<!DOCTYPE"):
			return p.errAt(p.cur, "DOCTYPE declarations are not supported")
		case p.hasPrefix("<![CDATA["):
			return p.errAt(p.cur, "CDATA section outside the root element")
		case p.cur.off >= len(p.src) || p.hasPrefix("<"):
			return nil
		default:
			return p.errAt(p.cur, "text is not allowed outside the root element")
		}
	}
}

// procInst skips a processing instruction or the XML declaration.
func (p *parser) procInst() error {
	start := p.cur
	p.advance(2)
	target, ok := p.name()
	if !ok {
		return p.errAt(p.cur, "expected a processing-instruction target after '<?'")
	}
	if strings.EqualFold(target, "xml") && start.off != 0 {
		return p.errAt(start, "the XML declaration is only allowed at the very start of the document")
	}
	end := strings.Index(p.src[p.cur.off:], "?>")
	if end < 0 {
		return p.errAt(start, "unterminated processing instruction <?%s", target)
	}
	p.advance(end + 2)
	return nil
}

// comment skips a comment. As in XML (and APIM's .NET reader) "--" may only
// appear as part of the closing "-->".
func (p *parser) comment() error {
	start := p.cur
	p.advance(4)
	i := strings.Index(p.src[p.cur.off:], "--")
	if i < 0 {
		return p.errAt(start, "unterminated comment (missing '-->')")
	}
	p.advance(i)
	if !p.hasPrefix("-->") {
		return p.errAt(p.cur, "'--' is not allowed inside a comment (comment opened at %s)", start.pos())
	}
	p.advance(3)
	return nil
}

// cdata appends the content of a CDATA section to tb as text.
func (p *parser) cdata(tb *textBuilder) error {
	start := p.cur
	p.advance(len("<![CDATA["))
	i := strings.Index(p.src[p.cur.off:], "]]>")
	if i < 0 {
		return p.errAt(start, "unterminated CDATA section (missing ']]>')")
	}
	end := p.cur.off + i
	for p.cur.off < end {
		at := p.cur
		tb.raw(p.next(), at)
	}
	p.advance(3)
	return nil
}

// open is an element whose content is being read.
type open struct {
	node       *Node
	innerStart int
	text       textBuilder
}

// element reads the element starting at the cursor, children included. It
// keeps its own stack instead of recursing so deeply nested input cannot
// exhaust the goroutine stack.
func (p *parser) element() (*Node, error) {
	root, empty, err := p.startTag()
	if err != nil || empty {
		return root, err
	}
	stack := []*open{{node: root, innerStart: p.cur.off}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		switch {
		case p.cur.off >= len(p.src):
			return nil, p.errAt(p.cur, "unexpected end of input: <%s> opened at %s is not closed", top.node.Name, top.node.Pos)
		case p.hasPrefix("</"):
			if err := p.endTag(top); err != nil {
				return nil, err
			}
			stack = stack[:len(stack)-1]
		case p.hasPrefix("<!--"):
			if err := p.comment(); err != nil {
				return nil, err
			}
		case p.hasPrefix("<![CDATA["):
			if err := p.cdata(&top.text); err != nil {
				return nil, err
			}
		case p.hasPrefix("<?"):
			if err := p.procInst(); err != nil {
				return nil, err
			}
		case p.hasPrefix("<!DOCTYPE"):
			return nil, p.errAt(p.cur, "DOCTYPE declarations are not supported")
		case p.hasPrefix("<!"):
			return nil, p.errAt(p.cur, "unexpected '<!' (expected a comment or CDATA section)")
		case p.hasPrefix("<"):
			child, empty, err := p.startTag()
			if err != nil {
				return nil, err
			}
			top.node.Children = append(top.node.Children, child)
			if !empty {
				stack = append(stack, &open{node: child, innerStart: p.cur.off})
			}
		default:
			if err := p.charData(&top.text, 0, cursor{}); err != nil {
				return nil, err
			}
		}
	}
	return root, nil
}

// endTag reads "</name>" and closes o.
func (p *parser) endTag(o *open) error {
	start := p.cur
	p.advance(2)
	name, ok := p.name()
	if !ok {
		return p.errAt(p.cur, "expected element name after '</'")
	}
	n := o.node
	if name != n.Name {
		return p.errAt(start, "end tag </%s> does not match start tag <%s> opened at %s", name, n.Name, n.Pos)
	}
	p.skipSpace()
	if p.peek() != '>' {
		return p.errAt(p.cur, "expected '>' to close end tag </%s>", name)
	}
	p.next()
	n.Inner = p.src[o.innerStart:start.off]
	n.Text = o.text.sb.String()
	n.textSpans = o.text.spans
	if len(n.textSpans) > 0 {
		n.TextPos = n.textSpans[0].pos
	}
	return nil
}

// startTag reads "<name attr="v" ...>" or "<name .../>"; empty reports the
// self-closing form.
func (p *parser) startTag() (n *Node, empty bool, err error) {
	lt := p.cur
	p.next() // '<'
	name, ok := p.name()
	if !ok {
		return nil, false, p.errAt(p.cur, "expected element name after '<'")
	}
	n = &Node{Name: name, Pos: lt.pos()}
	var seen map[string]bool // built only for elements with many attributes
	afterValue := false
	for {
		hadSpace := p.skipSpace()
		at := p.cur
		r := p.peek()
		switch {
		case r == '>':
			p.next()
			return n, false, nil
		case r == '/':
			p.next()
			if p.peek() != '>' {
				return nil, false, p.errAt(p.cur, "expected '>' after '/' in tag <%s>", name)
			}
			p.next()
			return n, true, nil
		case r == eof:
			return nil, false, p.errAt(lt, "unterminated start tag <%s>", name)
		case afterValue && !hadSpace:
			msg := "expected '>' after attribute value"
			if isNameStart(r) {
				msg = "expected whitespace or '>' after attribute value"
			}
			if isNameChar(r) || r == '"' || r == '\'' {
				// The usual cause: a raw quote in a value that is not an expression.
				msg += " (a raw quote inside a value is only allowed within an @(...) or @{...} expression)"
			}
			return nil, false, p.errAt(at, "%s", msg)
		case isNameStart(r):
			a, spans, err := p.attribute()
			if err != nil {
				return nil, false, err
			}
			if len(n.Attrs) >= 8 && seen == nil {
				seen = make(map[string]bool, 2*len(n.Attrs))
				for _, b := range n.Attrs {
					seen[b.Name] = true
				}
			}
			dup := seen[a.Name]
			if seen == nil {
				_, dup = n.Attr(a.Name)
			} else {
				seen[a.Name] = true
			}
			if dup {
				return nil, false, &Error{a.Pos, fmt.Sprintf("duplicate attribute %q", a.Name)}
			}
			n.Attrs = append(n.Attrs, a)
			n.attrSpans = append(n.attrSpans, spans)
			afterValue = true
		default:
			if afterValue {
				return nil, false, p.errAt(at, "expected '>' after attribute value")
			}
			return nil, false, p.errAt(at, "unexpected %s in start tag <%s>", describe(r), name)
		}
	}
}

// attribute reads name="value" (or 'value').
func (p *parser) attribute() (Attr, []span, error) {
	at := p.cur
	name, _ := p.name()
	p.skipSpace()
	if p.peek() != '=' {
		return Attr{}, nil, p.errAt(p.cur, "expected '=' after attribute name %q", name)
	}
	p.next()
	p.skipSpace()
	q := p.peek()
	if q != '"' && q != '\'' {
		return Attr{}, nil, p.errAt(p.cur, "expected '\"' or '\\'' to start the value of attribute %q", name)
	}
	qAt := p.cur
	p.next()
	valuePos := p.cur.pos()
	var tb textBuilder
	if err := p.charData(&tb, q, qAt); err != nil {
		return Attr{}, nil, err
	}
	p.next() // closing quote
	return Attr{Name: name, Value: tb.sb.String(), Pos: at.pos(), ValuePos: valuePos}, tb.spans, nil
}

// charData reads an attribute value (quote is its delimiter; qAt is where the
// opening quote is) or, with quote == 0, one text run inside an element. It
// stops before the closing quote or the next '<'. A value or run whose first
// non-whitespace character starts "@(" or "@{" holds an expression, which is
// read by expr with its own, more permissive rules.
func (p *parser) charData(tb *textBuilder, quote rune, qAt cursor) error {
	leading := true // nothing but whitespace so far
	for {
		at := p.cur
		r, after := p.runeAt(at)
		ref := false
		switch {
		case r == eof:
			if quote != 0 {
				return p.errAt(qAt, "attribute value is not closed (missing %c)", quote)
			}
			return nil
		case r == quote: // never true for text (quote 0): prepare rejects NUL
			return nil
		case r == '<':
			if quote == 0 {
				return nil
			}
			return p.errAt(at, "'<' is not allowed in an attribute value outside an expression (write &lt;)")
		case r == '&':
			var msg string
			r, after, msg = p.refAt(at)
			if msg != "" {
				return p.errAt(at, "%s", msg)
			}
			ref = true
		case r == ']' && quote == 0 && strings.HasPrefix(p.src[at.off:], "]]>"):
			return p.errAt(at, "']]>' is not allowed in text (write ]]&gt;)")
		}
		if leading && r == '@' {
			if r2, _, _, ok := p.logicalAt(after); ok && (r2 == '(' || r2 == '{') {
				if err := p.expr(tb); err != nil {
					return err
				}
				if quote != 0 {
					return p.afterExpr(tb, quote, qAt)
				}
				leading = false
				continue
			}
		}
		switch {
		case ref:
			tb.subst(r, at)
		case quote != 0 && (r == '\n' || r == '\t'):
			tb.subst(' ', at) // XML attribute-value normalisation
		default:
			tb.raw(r, at)
		}
		p.cur = after
		leading = leading && isSpace(r)
	}
}

// afterExpr reads what follows an expression in an attribute value: only
// whitespace may come before the closing quote.
func (p *parser) afterExpr(tb *textBuilder, quote rune, qAt cursor) error {
	for {
		at := p.cur
		r, after := p.runeAt(at)
		ref := false
		if r == '&' {
			if d, end, msg := p.refAt(at); msg == "" {
				r, after, ref = d, end, true
			}
		}
		switch {
		case r == eof:
			return p.errAt(qAt, "attribute value is not closed (missing %c)", quote)
		case r == quote && !ref:
			return nil
		case !isSpace(r):
			return p.errAt(at, "unexpected %s after the expression: the attribute value must end here", describe(r))
		case ref:
			tb.subst(r, at) // a character reference keeps its character
		case r != ' ':
			tb.subst(' ', at) // XML attribute-value normalisation
		default:
			tb.raw(r, at)
		}
		p.cur = after
	}
}

// --- character classes ------------------------------------------------------

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// isXMLChar reports whether r is a Char in the XML 1.0 grammar.
func isXMLChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	}
	return 0x10000 <= r && r <= utf8.MaxRune
}

// isNameStart and isNameChar follow the XML 1.0 (5th edition) Name production.
func isNameStart(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_', r == ':':
		return true
	case r < 0xC0:
		return false
	}
	return r <= 0xD6 || 0xD8 <= r && r <= 0xF6 || 0xF8 <= r && r <= 0x2FF ||
		0x370 <= r && r <= 0x37D || 0x37F <= r && r <= 0x1FFF || 0x200C <= r && r <= 0x200D ||
		0x2070 <= r && r <= 0x218F || 0x2C00 <= r && r <= 0x2FEF || 0x3001 <= r && r <= 0xD7FF ||
		0xF900 <= r && r <= 0xFDCF || 0xFDF0 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0xEFFFF
}

func isNameChar(r rune) bool {
	return isNameStart(r) || '0' <= r && r <= '9' || r == '-' || r == '.' || r == 0xB7 ||
		0x300 <= r && r <= 0x36F || 0x203F <= r && r <= 0x2040
}

// describe quotes a rune for an error message.
func describe(r rune) string {
	switch r {
	case eof:
		return "end of input"
	case '\n':
		return "newline"
	}
	return fmt.Sprintf("%q", r)
}
