package expr

// System.Xml.Linq model: XDocument, XElement, XAttribute, XText/XCData,
// XComment, XProcessingInstruction, XName and XNamespace, with a parser
// built on encoding/xml and a serializer matching XmlWriter's output for
// XNode.ToString() (SaveOptions.None indents with two spaces and stops
// indenting inside mixed content; SaveOptions.DisableFormatting is
// compact). Gatehouse writes "\n" line breaks, as for indented JSON.
//
// Parsing is safe: DOCTYPE (and any other <!...> directive) is rejected,
// only XML's predefined entities and character references are expanded,
// nesting is limited to maxXMLDepth, parse work is linear in the input and
// charged to the evaluation's step budget, and parsing stops when the
// request is cancelled.

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

const (
	xmlNS       = "http://www.w3.org/XML/1998/namespace"
	xmlnsNS     = "http://www.w3.org/2000/xmlns/"
	maxXMLDepth = 512
)

// Parsing XML charges the step budget, besides one step per 256 bytes up
// front, one quarter step per token (start and end tags, text, comments,
// processing instructions; each attribute counts as one) and two steps per
// node it keeps (XElement, XAttribute, XText, XComment,
// XProcessingInstruction), which cost about twice a JSON node: one
// evaluation parses at most ~375k elements or ~440k attributes (~0.3 s of
// CPU and ~110 MB allocated for the worst shapes, measured 2026-12-03).
const (
	xmlQuartersPerToken = 1
	xmlQuartersPerNode  = 8
)

// tagAttrs counts the attributes of the start tag at s[0] ('<' and a name)
// by its '=' signs outside quoted values, without parsing it, so that a
// tag of a million attributes is charged (and refused) before
// encoding/xml reads it. It is exact for a well-formed tag; a malformed
// one fails in the decoder anyway.
func tagAttrs(s string) int {
	n := 0
	var quote byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			n++
		case c == '>':
			return n
		}
	}
	return n
}

// XName is an expanded XML name.
type XName struct {
	Space, Local string
}

func (XName) csType() string { return "XName" }

func (n XName) csString() string {
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// XNamespace is an XML namespace URI.
type XNamespace struct {
	URI string
}

func (XNamespace) csType() string     { return "XNamespace" }
func (n XNamespace) csString() string { return n.URI }

// parseXName is the implicit conversion string -> XName ("{ns}local").
func parseXName(s string) (XName, error) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 || end == len(s)-1 {
			return XName{}, throwf("XmlException", "The '{' character, hexadecimal value 0x7B, cannot be included in a name.")
		}
		return XName{Space: s[1:end], Local: s[end+1:]}, nil
	}
	if s == "" {
		return XName{}, throwf("ArgumentException", "The empty string '' is not a valid local name.")
	}
	return XName{Local: s}, nil
}

// XDocument is a parsed document: its top-level nodes (the root element,
// comments and processing instructions).
type XDocument struct {
	Nodes []any
	Root  *XElement
}

// XElement is an element. IsEmpty is true for <a/> (and <a /> output).
type XElement struct {
	Name    XName
	Attrs   []*XAttribute
	Nodes   []any // *XElement, *XText, *XComment, *XProcessingInstruction
	IsEmpty bool
	parent  *XElement
	doc     *XDocument // set on a document's top-level nodes
}

// XAttribute is an attribute (namespace declarations included, as in .NET).
type XAttribute struct {
	Name   XName
	Value  string
	parent *XElement
}

// XText is a text node; CData marks an XCData section.
type XText struct {
	Value  string
	CData  bool
	parent *XElement
	doc    *XDocument
}

// XComment is a comment node.
type XComment struct {
	Value  string
	parent *XElement
	doc    *XDocument
}

// XProcessingInstruction is a <?target data?> node.
type XProcessingInstruction struct {
	Target, Data string
	parent       *XElement
	doc          *XDocument
}

func (*XDocument) csType() string              { return "XDocument" }
func (*XElement) csType() string               { return "XElement" }
func (*XAttribute) csType() string             { return "XAttribute" }
func (*XComment) csType() string               { return "XComment" }
func (*XProcessingInstruction) csType() string { return "XProcessingInstruction" }
func (t *XText) csType() string {
	if t.CData {
		return "XCData"
	}
	return "XText"
}

func (d *XDocument) csString() string              { s, _ := xmlString(d, true); return s }
func (el *XElement) csString() string              { s, _ := xmlString(el, true); return s }
func (t *XText) csString() string                  { s, _ := xmlString(t, true); return s }
func (c *XComment) csString() string               { s, _ := xmlString(c, true); return s }
func (p *XProcessingInstruction) csString() string { s, _ := xmlString(p, true); return s }
func (a *XAttribute) csString() string {
	var w xmlWriter
	w.attr(a.parent, a)
	return strings.TrimPrefix(w.b.String(), " ")
}

// isNSDecl reports whether a is an xmlns attribute, with the declared prefix.
func (a *XAttribute) isNSDecl() (string, bool) {
	if a.Name.Space == xmlnsNS {
		return a.Name.Local, true
	}
	if a.Name.Space == "" && a.Name.Local == "xmlns" {
		return "", true
	}
	return "", false
}

// Value is XElement.Value: the concatenated descendant text.
func (el *XElement) Value() string {
	var b strings.Builder
	var walk func(ns []any)
	walk = func(ns []any) {
		for _, n := range ns {
			switch x := n.(type) {
			case *XText:
				b.WriteString(x.Value)
			case *XElement:
				walk(x.Nodes)
			}
		}
	}
	walk(el.Nodes)
	return b.String()
}

// Elements returns the child elements (named name when name != nil).
func xElements(nodes []any, name *XName) []any {
	out := []any{}
	for _, n := range nodes {
		if el, ok := n.(*XElement); ok && (name == nil || el.Name == *name) {
			out = append(out, el)
		}
	}
	return out
}

// xDescendants returns the descendant elements in document order.
func xDescendants(nodes []any, name *XName, out []any) []any {
	for _, n := range nodes {
		if el, ok := n.(*XElement); ok {
			if name == nil || el.Name == *name {
				out = append(out, el)
			}
			out = xDescendants(el.Nodes, name, out)
		}
	}
	return out
}

// ParseXDocument is XDocument.Parse(s, options): preserveWS keeps
// whitespace-only text nodes (LoadOptions.PreserveWhitespace). e may be nil.
func ParseXDocument(s string, preserveWS bool) (*XDocument, error) {
	return parseXML(nil, s, preserveWS)
}

func xmlErr(format string, args ...any) error {
	return throwf("XmlException", format, args...)
}

type nsBinding struct{ prefix, uri string }

func parseXML(e *env, s string, preserveWS bool) (*XDocument, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	// The text is already decoded: an encoding declaration is informative.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	doc := &XDocument{}
	var stack []*XElement
	// Namespace scope: each prefix's bindings, innermost last, and the
	// prefixes each open element declared (declared[marks[i]:]).
	bindings := map[string][]string{}
	var declared []string
	var marks []int
	var spaceStack []bool // xml:space="preserve" in scope
	lookup := func(prefix string) (string, bool) {
		switch prefix {
		case "xml":
			return xmlNS, true
		case "xmlns":
			return xmlnsNS, true
		}
		if b := bindings[prefix]; len(b) > 0 {
			return b[len(b)-1], true
		}
		return "", prefix == ""
	}
	bind := func(prefix, uri string) {
		bindings[prefix] = append(bindings[prefix], uri)
		declared = append(declared, prefix)
	}
	var seen map[XName]bool // the attribute names of a wide element
	if e != nil {
		// One step per 256 bytes up front (as charge counts strings); the
		// first step also polls for cancellation.
		if err := e.step(len(s) >> 8); err != nil {
			return nil, err
		}
	}
	quarters := 0 // charged so far, in quarter steps (after the bytes)
	charge := func(q int) error {
		before := quarters
		quarters += q
		if e != nil && quarters>>2 != before>>2 {
			return e.step(quarters>>2 - before>>2)
		}
		return nil
	}
	add := func(n any) error {
		if err := charge(xmlQuartersPerNode); err != nil {
			return err
		}
		if len(stack) == 0 {
			switch x := n.(type) {
			case *XElement:
				x.doc = doc
			case *XComment:
				x.doc = doc
			case *XProcessingInstruction:
				x.doc = doc
			}
			doc.Nodes = append(doc.Nodes, n)
			return nil
		}
		p := stack[len(stack)-1]
		if len(p.Nodes) >= maxParsedItems {
			line, _ := d.InputPos()
			return xmlErr("The element '%s' has more than %d child nodes, Gatehouse's limit for one XML element. Line %d.", p.Name.Local, maxParsedItems, line)
		}
		switch x := n.(type) {
		case *XElement:
			x.parent = p
		case *XText:
			x.parent = p
		case *XComment:
			x.parent = p
		case *XProcessingInstruction:
			x.parent = p
		}
		p.Nodes = append(p.Nodes, n)
		return nil
	}
	seenContent := false
	for {
		start := d.InputOffset()
		// A start tag's attributes are charged (tokens and nodes), and
		// refused past the limit, before the decoder reads them.
		q := xmlQuartersPerToken
		if int(start)+1 < len(s) && s[start] == '<' {
			if c := s[start+1]; c != '/' && c != '!' && c != '?' {
				na := tagAttrs(s[start:])
				if na > maxParsedItems {
					line, _ := d.InputPos()
					return nil, xmlErr("The element has more than %d attributes, Gatehouse's limit for one XML element. Line %d.", maxParsedItems, line)
				}
				q += na * (xmlQuartersPerToken + xmlQuartersPerNode)
			}
		}
		if err := charge(q); err != nil {
			return nil, err
		}
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, xmlErr("%s Line %d.", se.Msg, se.Line)
			}
			return nil, xmlErr("%s", err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && doc.Root != nil {
				return nil, xmlErr("There are multiple root elements.")
			}
			if len(stack) >= maxXMLDepth {
				return nil, xmlErr("The XML nesting depth exceeds Gatehouse's limit of %d.", maxXMLDepth)
			}
			seenContent = true
			marks = append(marks, len(declared))
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					if a.Value == "" {
						return nil, xmlErr("Cannot use a prefix with an empty namespace.")
					}
					bind(a.Name.Local, a.Value)
				} else if a.Name.Space == "" && a.Name.Local == "xmlns" {
					bind("", a.Value)
				}
			}
			uri, ok := lookup(t.Name.Space)
			if !ok {
				return nil, xmlErr("'%s' is an undeclared prefix.", t.Name.Space)
			}
			el := &XElement{Name: XName{Space: uri, Local: t.Name.Local}}
			if len(t.Attr) > 0 {
				el.Attrs = make([]*XAttribute, 0, len(t.Attr))
			}
			wide := len(t.Attr) > 8
			if wide {
				seen = make(map[XName]bool, len(t.Attr))
			}
			preserve := len(spaceStack) > 0 && spaceStack[len(spaceStack)-1]
			for _, a := range t.Attr {
				var n XName
				switch {
				case a.Name.Space == "xmlns":
					n = XName{Space: xmlnsNS, Local: a.Name.Local}
				case a.Name.Space == "":
					n = XName{Local: a.Name.Local}
				default:
					u, ok := lookup(a.Name.Space)
					if !ok {
						return nil, xmlErr("'%s' is an undeclared prefix.", a.Name.Space)
					}
					n = XName{Space: u, Local: a.Name.Local}
				}
				dup := seen[n]
				if wide {
					seen[n] = true
				} else {
					for _, o := range el.Attrs {
						dup = dup || o.Name == n
					}
				}
				if dup {
					return nil, xmlErr("'%s' is a duplicate attribute name.", a.Name.Local)
				}
				if n.Space == xmlNS && n.Local == "space" {
					preserve = a.Value == "preserve"
				}
				el.Attrs = append(el.Attrs, &XAttribute{Name: n, Value: a.Value, parent: el})
			}
			if off := d.InputOffset(); off >= 2 && int(off) <= len(s) && s[off-2] == '/' {
				el.IsEmpty = true
			}
			if err := add(el); err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				doc.Root = el
			}
			stack = append(stack, el)
			spaceStack = append(spaceStack, preserve)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, xmlErr("Unexpected end tag.")
			}
			top := stack[len(stack)-1]
			uri, _ := lookup(t.Name.Space)
			if top.Name != (XName{Space: uri, Local: t.Name.Local}) {
				return nil, xmlErr("The '%s' start tag does not match the end tag of '%s'.", top.Name.Local, t.Name.Local)
			}
			stack = stack[:len(stack)-1]
			spaceStack = spaceStack[:len(spaceStack)-1]
			for _, p := range declared[marks[len(marks)-1]:] {
				bindings[p] = bindings[p][:len(bindings[p])-1]
			}
			declared = declared[:marks[len(marks)-1]]
			marks = marks[:len(marks)-1]
		case xml.CharData:
			cdata := strings.HasPrefix(s[start:], "<![CDATA[")
			ws := strings.Trim(string(t), " \t\r\n") == ""
			if len(stack) == 0 {
				if !ws || cdata {
					return nil, xmlErr("Data at the root level is invalid.")
				}
				continue
			}
			if ws && !cdata && !preserveWS && !spaceStack[len(spaceStack)-1] {
				continue
			}
			if err := add(&XText{Value: string(t), CData: cdata}); err != nil {
				return nil, err
			}
		case xml.Comment:
			if err := add(&XComment{Value: string(t)}); err != nil {
				return nil, err
			}
		case xml.ProcInst:
			if t.Target == "xml" {
				if seenContent {
					return nil, xmlErr("Unexpected XML declaration. The XML declaration must be the first node in the document, and no whitespace characters are allowed to appear before it.")
				}
				continue
			}
			if err := add(&XProcessingInstruction{Target: t.Target, Data: string(t.Inst)}); err != nil {
				return nil, err
			}
		case xml.Directive:
			if strings.HasPrefix(string(t), "DOCTYPE") {
				return nil, xmlErr("For security reasons DTD is prohibited in this XML document. To enable DTD processing set the DtdProcessing property on XmlReaderSettings to Parse.")
			}
			return nil, xmlErr("Unexpected XML directive.")
		}
		if _, isPI := tok.(xml.ProcInst); !isPI {
			seenContent = true
		}
	}
	if len(stack) > 0 {
		return nil, xmlErr("Unexpected end of file has occurred. The following elements are not closed: %s.", stack[len(stack)-1].Name.Local)
	}
	if doc.Root == nil {
		return nil, xmlErr("Root element is missing.")
	}
	return doc, nil
}

// parseXElement is XElement.Parse: the root element, detached from its
// document (Document and Parent are null).
func parseXElement(e *env, s string, preserveWS bool) (*XElement, error) {
	d, err := parseXML(e, s, preserveWS)
	if err != nil {
		return nil, err
	}
	d.Root.doc = nil
	return d.Root, nil
}

// ---- serialization ----

// xmlWriter serializes nodes. Namespace lookups go through maps so that
// an element with many declarations and prefixed names is written in
// linear time.
type xmlWriter struct {
	b      strings.Builder
	indent bool
	// scope is the bindings written so far (innermost last) and out the
	// same by prefix: what the output declares.
	scope []nsBinding
	out   map[string][]string
	// decls is the xmlns attributes of the model's elements around the
	// node being written, from the outermost ancestor (declared); model
	// and byURI index them by prefix and by URI.
	decls   []nsBinding
	model   map[string][]string
	byURI   map[string][]string
	work    int // prefix-search steps, bounded by maxXMLWriteWork
	tooBig  bool
	genNext int
}

// maxXMLWriteWork bounds the candidate prefixes one serialization examines
// (only crafted redeclarations come near it).
const maxXMLWriteWork = 1 << 24

// xmlString serializes a node like XNode.ToString(SaveOptions).
func xmlString(n any, indent bool) (string, error) {
	w := &xmlWriter{indent: indent}
	switch x := n.(type) {
	case *XDocument:
		w.nodes(x.Nodes, 0, false)
	case *XElement:
		// The declarations of ancestors outside the written subtree
		// still name its namespaces' prefixes.
		var chain []*XElement
		for p := x.parent; p != nil; p = p.parent {
			chain = append(chain, p)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			w.declare(chain[i])
		}
		w.nodes([]any{n}, 0, false)
	default:
		w.nodes([]any{n}, 0, false)
	}
	if w.tooBig {
		return "", errTooLarge()
	}
	return w.b.String(), nil
}

func (w *xmlWriter) lookup(prefix string) (string, bool) {
	if s := w.out[prefix]; len(s) > 0 {
		return s[len(s)-1], true
	}
	return "", prefix == ""
}

// bind adds an output binding.
func (w *xmlWriter) bind(prefix, uri string) {
	if w.out == nil {
		w.out = map[string][]string{}
	}
	w.scope = append(w.scope, nsBinding{prefix, uri})
	w.out[prefix] = append(w.out[prefix], uri)
}

// unbind drops the output bindings added since mark.
func (w *xmlWriter) unbind(mark int) {
	for _, b := range w.scope[mark:] {
		s := w.out[b.prefix]
		w.out[b.prefix] = s[:len(s)-1]
	}
	w.scope = w.scope[:mark]
}

// declare brings el's xmlns attributes into the model scope; they are
// pushed last first so that the end of byURI[uri] is el's first
// declaration of uri.
func (w *xmlWriter) declare(el *XElement) {
	for i := len(el.Attrs) - 1; i >= 0; i-- {
		a := el.Attrs[i]
		p, ok := a.isNSDecl()
		if !ok {
			continue
		}
		if w.model == nil {
			w.model, w.byURI = map[string][]string{}, map[string][]string{}
		}
		w.decls = append(w.decls, nsBinding{p, a.Value})
		w.model[p] = append(w.model[p], a.Value)
		w.byURI[a.Value] = append(w.byURI[a.Value], p)
	}
}

// undeclare drops the model declarations added since mark.
func (w *xmlWriter) undeclare(mark int) {
	for _, d := range w.decls[mark:] {
		m, u := w.model[d.prefix], w.byURI[d.uri]
		w.model[d.prefix], w.byURI[d.uri] = m[:len(m)-1], u[:len(u)-1]
	}
	w.decls = w.decls[:mark]
}

// prefixFor is prefixFor(el, uri, allowDefault) for the element being
// written: the innermost declaration (first in attribute order) of a
// prefix still bound to uri.
func (w *xmlWriter) prefixFor(uri string, allowDefault bool) (string, bool) {
	s := w.byURI[uri]
	for i := len(s) - 1; i >= 0; i-- {
		if w.work++; w.work > maxXMLWriteWork {
			w.tooBig = true
			return "", false
		}
		p := s[i]
		if m := w.model[p]; m[len(m)-1] == uri && (allowDefault || p != "") {
			return p, true
		}
	}
	return "", false
}

func (w *xmlWriter) newline(depth int) {
	if !w.indent || w.b.Len() == 0 {
		return
	}
	w.b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		w.b.WriteString("  ")
	}
}

// nodes writes a node list; mixed is XmlWriter's mixed-content state
// (inherited from the parent, set by text). It returns the final state.
func (w *xmlWriter) nodes(ns []any, depth int, mixed bool) bool {
	for _, n := range ns {
		if w.b.Len() > maxStringLen {
			w.tooBig = true
			return mixed
		}
		switch x := n.(type) {
		case *XText:
			mixed = true
			if x.CData {
				w.b.WriteString("<![CDATA[")
				w.b.WriteString(strings.ReplaceAll(x.Value, "]]>", "]]]]><![CDATA[>"))
				w.b.WriteString("]]>")
			} else {
				escapeXML(&w.b, x.Value, false)
			}
		case *XComment:
			if !mixed {
				w.newline(depth)
			}
			w.b.WriteString("<!--" + x.Value + "-->")
		case *XProcessingInstruction:
			if !mixed {
				w.newline(depth)
			}
			w.b.WriteString("<?" + x.Target)
			if x.Data != "" {
				w.b.WriteString(" " + x.Data)
			}
			w.b.WriteString("?>")
		case *XElement:
			if !mixed {
				w.newline(depth)
			}
			w.element(x, depth, mixed)
		}
	}
	return mixed
}

// prefixFor finds the prefix bound to uri at el (its own and its
// ancestors' xmlns attributes, honouring redeclarations). One call is
// linear in those attributes; element writing uses xmlWriter.prefixFor.
func prefixFor(el *XElement, uri string, allowDefault bool) (string, bool) {
	seen := map[string]bool{}
	for e := el; e != nil; e = e.parent {
		for _, a := range e.Attrs {
			p, ok := a.isNSDecl()
			if !ok || seen[p] {
				continue
			}
			seen[p] = true
			if a.Value == uri && (allowDefault || p != "") {
				return p, true
			}
		}
	}
	return "", false
}

func (w *xmlWriter) element(el *XElement, depth int, mixed bool) {
	mark, dmark := len(w.scope), len(w.decls)
	defer func() {
		w.unbind(mark)
		w.undeclare(dmark)
	}()
	w.declare(el)
	for _, a := range el.Attrs {
		if p, ok := a.isNSDecl(); ok {
			w.bind(p, a.Value)
		}
	}
	var pending []nsBinding
	qname := func(n XName, isElem bool) string {
		switch n.Space {
		case "":
			if isElem {
				if u, _ := w.lookup(""); u != "" {
					pending = append(pending, nsBinding{"", ""})
					w.bind("", "")
				}
			}
			return n.Local
		case xmlNS:
			return "xml:" + n.Local
		}
		p, ok := w.prefixFor(n.Space, isElem)
		if !ok {
			if isElem {
				p = ""
			} else {
				for {
					w.genNext++
					p = "p" + strconv.Itoa(w.genNext)
					if _, used := w.lookup(p); !used {
						break
					}
				}
			}
		}
		if u, ok := w.lookup(p); !ok || u != n.Space {
			pending = append(pending, nsBinding{p, n.Space})
			w.bind(p, n.Space)
		}
		if p == "" {
			return n.Local
		}
		return p + ":" + n.Local
	}
	name := qname(el.Name, true)
	w.b.WriteString("<" + name)
	for _, a := range el.Attrs {
		if _, ok := a.isNSDecl(); ok {
			w.attr(el, a)
			continue
		}
		w.b.WriteString(" " + qname(a.Name, false) + `="`)
		escapeXML(&w.b, a.Value, true)
		w.b.WriteByte('"')
	}
	for i := len(pending) - 1; i >= 0; i-- {
		d := pending[i]
		if d.prefix == "" {
			w.b.WriteString(` xmlns="`)
		} else {
			w.b.WriteString(" xmlns:" + d.prefix + `="`)
		}
		escapeXML(&w.b, d.uri, true)
		w.b.WriteByte('"')
	}
	if len(el.Nodes) == 0 {
		if el.IsEmpty {
			w.b.WriteString(" />")
		} else {
			w.b.WriteString("></" + name + ">")
		}
		return
	}
	w.b.WriteByte('>')
	if !w.nodes(el.Nodes, depth+1, mixed) {
		w.newline(depth)
	}
	w.b.WriteString("</" + name + ">")
}

// attr writes one attribute (used for xmlns attributes and
// XAttribute.ToString()).
func (w *xmlWriter) attr(el *XElement, a *XAttribute) {
	var name string
	if p, ok := a.isNSDecl(); ok {
		name = "xmlns"
		if p != "" {
			name += ":" + p
		}
	} else {
		switch a.Name.Space {
		case "":
			name = a.Name.Local
		case xmlNS:
			name = "xml:" + a.Name.Local
		default:
			p, ok := "", false
			if el != nil {
				p, ok = prefixFor(el, a.Name.Space, false)
			}
			if !ok {
				p = "p1"
			}
			name = p + ":" + a.Name.Local
		}
	}
	w.b.WriteString(" " + name + `="`)
	escapeXML(&w.b, a.Value, true)
	w.b.WriteByte('"')
}

func escapeXML(b *strings.Builder, s string, attr bool) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			if attr {
				b.WriteString("&quot;")
			} else {
				b.WriteRune(r)
			}
		case '\r':
			b.WriteString("&#xD;")
		case '\n':
			if attr {
				b.WriteString("&#xA;")
			} else {
				b.WriteRune(r)
			}
		case '\t':
			if attr {
				b.WriteString("&#x9;")
			} else {
				b.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
	}
}
