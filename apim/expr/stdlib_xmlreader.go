package expr

// System.IO.StringReader and a forward-only System.Xml.XmlReader, as
// real policies use them to pick values out of SOAP and XML bodies
// without loading a document:
//
//	using (var r = XmlReader.Create(new StringReader(body))) {
//	    while (r.Read()) { if (r.NodeType == XmlNodeType.Element && r.Name == "id") ... }
//	}
//
// The reader runs on encoding/xml. As .NET's default settings do, a
// document type declaration is refused (DtdProcessing.Prohibit): no
// entity expansion.

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// stringReader is a StringReader over a string.
type stringReader struct {
	s   string
	pos int
}

func (*stringReader) csType() string { return "StringReader" }

// xmlReaderSettings are the XmlReaderSettings honoured.
type xmlReaderSettings struct {
	ignoreWhitespace, ignoreComments, ignorePI bool
}

func (*xmlReaderSettings) csType() string { return "XmlReaderSettings" }

// xmlNode is the node an XmlReader is on.
type xmlNode struct {
	kind   string // an XmlNodeType member name
	name   xml.Name
	prefix string
	value  string
	depth  int
	empty  bool
	attrs  []xml.Attr
}

type xmlReader struct {
	src     string
	dec     *xml.Decoder
	set     xmlReaderSettings
	cur     xmlNode
	started bool
	eof     bool
	depth   int  // of the next node
	skipEnd bool // the next EndElement is a self-closed element's
}

func (*xmlReader) csType() string { return "XmlReader" }

var readerNodeTypes = map[string]int{"None": 0, "Element": 1, "Attribute": 2, "Text": 3, "CDATA": 4, "ProcessingInstruction": 7,
	"Comment": 8, "Whitespace": 13, "EndElement": 15, "XmlDeclaration": 17}

func nodeTypeValue(kind string) EnumValue {
	return EnumValue{Type: "XmlNodeType", Name: kind, Value: readerNodeTypes[kind]}
}

func newXMLReader(e *env, args []any) (any, error) {
	var src string
	switch x := argAt(args, 0).(type) {
	case *stringReader:
		src = x.s[x.pos:]
		x.pos = len(x.s)
	case nil:
		return nil, errArgNull("input")
	default:
		return nil, throwf("ArgumentException", "XmlReader.Create takes a StringReader here (a URI or file is not read by a gateway), not '%s'.", dotnetTypeName(x))
	}
	r := &xmlReader{src: src}
	if s, ok := argAt(args, 1).(*xmlReaderSettings); ok {
		r.set = *s
	}
	r.dec = xml.NewDecoder(strings.NewReader(src))
	r.dec.Strict = true
	if err := e.chargeScan(len(src)); err != nil {
		return nil, err
	}
	return r, nil
}

// next reads the next node the settings do not hide; false at the end.
func (r *xmlReader) next(e *env) (bool, error) {
	if r.eof {
		return false, nil
	}
	for {
		if err := e.step(1); err != nil {
			return false, err
		}
		before := r.dec.InputOffset()
		tok, err := r.dec.Token()
		if errors.Is(err, io.EOF) {
			r.eof, r.cur = true, xmlNode{kind: "None"}
			return false, nil
		}
		if err != nil {
			return false, throwf("XmlException", "%s", strings.TrimPrefix(err.Error(), "XML syntax error on "))
		}
		r.started = true
		switch t := tok.(type) {
		case xml.StartElement:
			raw := strings.TrimSpace(r.src[before:r.dec.InputOffset()])
			n := xmlNode{kind: "Element", name: t.Name, depth: r.depth, empty: strings.HasSuffix(raw, "/>"), attrs: t.Attr}
			n.prefix = qualifiedPrefix(raw)
			if n.empty {
				r.skipEnd = true
			} else {
				r.depth++
			}
			r.cur = n
			return true, nil
		case xml.EndElement:
			if r.skipEnd {
				r.skipEnd = false
				continue
			}
			r.depth--
			r.cur = xmlNode{kind: "EndElement", name: t.Name, depth: r.depth, prefix: qualifiedPrefix(strings.TrimPrefix(strings.TrimSpace(r.src[before:r.dec.InputOffset()]), "</"))}
			return true, nil
		case xml.CharData:
			s := string(t)
			kind := "Text"
			if strings.HasPrefix(r.src[before:], "<![CDATA[") {
				kind = "CDATA"
			} else if strings.TrimSpace(s) == "" {
				if r.set.ignoreWhitespace {
					continue
				}
				kind = "Whitespace"
			}
			r.cur = xmlNode{kind: kind, value: s, depth: r.depth}
			return true, nil
		case xml.Comment:
			if r.set.ignoreComments {
				continue
			}
			r.cur = xmlNode{kind: "Comment", value: string(t), depth: r.depth}
			return true, nil
		case xml.ProcInst:
			if t.Target == "xml" {
				r.cur = xmlNode{kind: "XmlDeclaration", name: xml.Name{Local: "xml"}, value: strings.TrimSpace(string(t.Inst)), depth: r.depth}
				return true, nil
			}
			if r.set.ignorePI {
				continue
			}
			r.cur = xmlNode{kind: "ProcessingInstruction", name: xml.Name{Local: t.Target}, value: string(t.Inst), depth: r.depth}
			return true, nil
		case xml.Directive:
			return false, throwf("XmlException", "For security reasons DTD is prohibited in this XML document.")
		}
	}
}

// qualifiedPrefix is the prefix of the element name at the start of a
// raw tag ("<soap:Body ..." -> "soap").
func qualifiedPrefix(raw string) string {
	raw = strings.TrimPrefix(raw, "<")
	end := strings.IndexAny(raw, " \t\r\n/>")
	if end < 0 {
		end = len(raw)
	}
	if i := strings.IndexByte(raw[:end], ':'); i > 0 {
		return raw[:i]
	}
	return ""
}

// kind is the node type's name ("None" before the first Read).
func (r *xmlReader) kind() string {
	if r.cur.kind == "" {
		return "None"
	}
	return r.cur.kind
}

func (n xmlNode) qname() string {
	if n.prefix != "" {
		return n.prefix + ":" + n.name.Local
	}
	return n.name.Local
}

// isContent: MoveToContent stops on these.
func (n xmlNode) isContent() bool {
	switch n.kind {
	case "Element", "EndElement", "Text", "CDATA":
		return true
	}
	return false
}

func (r *xmlReader) moveToContent(e *env) error {
	if !r.started {
		if _, err := r.next(e); err != nil {
			return err
		}
	}
	for !r.eof && !r.cur.isContent() {
		if _, err := r.next(e); err != nil {
			return err
		}
	}
	return nil
}

// elementText reads the text of the element the reader is on and moves
// past its end (ReadElementContentAsString).
func (r *xmlReader) elementText(e *env) (string, error) {
	if err := r.moveToContent(e); err != nil {
		return "", err
	}
	if r.cur.kind != "Element" {
		return "", throwf("XmlException", "The ReadElementContentAsString method is not supported on node type %s.", r.cur.kind)
	}
	if r.cur.empty {
		_, err := r.next(e)
		return "", err
	}
	var b strings.Builder
	depth := r.cur.depth
	for {
		ok, err := r.next(e)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", throwf("XmlException", "Unexpected end of file.")
		}
		switch r.cur.kind {
		case "Text", "CDATA", "Whitespace":
			b.WriteString(r.cur.value)
		case "EndElement":
			if r.cur.depth == depth {
				_, err := r.next(e)
				return b.String(), err
			}
		case "Element":
			return "", throwf("XmlException", "ReadElementContentAsString method is not supported on node type Element.")
		}
	}
}

// readTo moves to the next element named name (qualified or local);
// within: stop at the end of the element at that depth (ReadToDescendant,
// -1: anywhere); sibling: only at the same depth (ReadToNextSibling).
func (r *xmlReader) readTo(e *env, name string, within int, sibling bool) (bool, error) {
	depth := r.cur.depth
	for {
		ok, err := r.next(e)
		if err != nil || !ok {
			return false, err
		}
		if within >= 0 && r.cur.depth <= within && (r.cur.kind == "EndElement" || sibling && r.cur.depth < depth) {
			return false, nil
		}
		if r.cur.kind == "Element" && (r.cur.qname() == name || r.cur.name.Local == name) && (!sibling || r.cur.depth == depth) {
			return true, nil
		}
	}
}

func (r *xmlReader) skip(e *env) error {
	if r.cur.kind != "Element" || r.cur.empty {
		_, err := r.next(e)
		return err
	}
	depth := r.cur.depth
	for {
		ok, err := r.next(e)
		if err != nil || !ok {
			return err
		}
		if r.cur.kind == "EndElement" && r.cur.depth == depth {
			_, err := r.next(e)
			return err
		}
	}
}

func (r *xmlReader) attr(name string) (string, bool) {
	for _, a := range r.cur.attrs {
		q := a.Name.Local
		if a.Name.Space != "" && a.Name.Space != "xmlns" {
			// encoding/xml gives the namespace URI; match the local name.
			q = a.Name.Local
		} else if a.Name.Space == "xmlns" {
			q = "xmlns:" + a.Name.Local
		}
		if q == name || a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func init() {
	enum("DtdProcessing", "Prohibit", "Ignore", "Parse")
	enum("XmlNodeType", "None", "Element", "Attribute", "Text", "CDATA", "EntityReference", "Entity", "ProcessingInstruction",
		"Comment", "Document", "DocumentType", "DocumentFragment", "Notation", "Whitespace", "SignificantWhitespace", "EndElement",
		"EndEntity", "XmlDeclaration")
	dotnetNames["StringReader"] = "System.IO.StringReader"
	dotnetNames["XmlReader"] = "System.Xml.XmlReader"
	dotnetNames["XmlReaderSettings"] = "System.Xml.XmlReaderSettings"
	exceptionParents["XmlException"] = "SystemException"

	static("StringReader").new(func(e *env, _ []string, args []any) (any, error) {
		if argAt(args, 0) == nil {
			return nil, errArgNull("s")
		}
		s, err := strArg(args, 0)
		return &stringReader{s: s}, err
	})
	sr := typ("StringReader")
	sr.checked = true
	sr.method("ReadLine", "string", m0(func(v any) (any, error) {
		r := v.(*stringReader)
		if r.pos >= len(r.s) {
			return nil, nil
		}
		rest := r.s[r.pos:]
		i := strings.IndexAny(rest, "\r\n")
		if i < 0 {
			r.pos = len(r.s)
			return rest, nil
		}
		r.pos += i + 1
		if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
			r.pos++
		}
		return rest[:i], nil
	}))
	sr.method("ReadToEnd", "string", m0(func(v any) (any, error) {
		r := v.(*stringReader)
		s := r.s[r.pos:]
		r.pos = len(r.s)
		return s, nil
	}))
	sr.method("Peek", "int", m0(func(v any) (any, error) {
		r := v.(*stringReader)
		if r.pos >= len(r.s) {
			return int32(-1), nil
		}
		return int32(r.s[r.pos]), nil
	}))
	sr.method("Read", "int", m0(func(v any) (any, error) {
		r := v.(*stringReader)
		if r.pos >= len(r.s) {
			return int32(-1), nil
		}
		r.pos++
		return int32(r.s[r.pos-1]), nil
	}))
	noop := m0(func(any) (any, error) { return nil, nil })
	sr.method("Close", "object", noop).method("Dispose", "object", noop)

	static("XmlReaderSettings").new(func(*env, []string, []any) (any, error) { return &xmlReaderSettings{}, nil })
	xs := typ("XmlReaderSettings")
	xs.checked = true
	boolSetting := func(name string, f func(s *xmlReaderSettings) *bool) {
		xs.prop(name, "bool", func(_ *env, v any) (any, error) { return *f(v.(*xmlReaderSettings)), nil })
		xs.setProps[name] = func(_ *env, v, val any) error {
			b, ok := val.(bool)
			if !ok {
				return throwf("InvalidCastException", "%s is a bool.", name)
			}
			*f(v.(*xmlReaderSettings)) = b
			return nil
		}
	}
	boolSetting("IgnoreWhitespace", func(s *xmlReaderSettings) *bool { return &s.ignoreWhitespace })
	boolSetting("IgnoreComments", func(s *xmlReaderSettings) *bool { return &s.ignoreComments })
	boolSetting("IgnoreProcessingInstructions", func(s *xmlReaderSettings) *bool { return &s.ignorePI })
	xs.setProps["DtdProcessing"] = func(_ *env, _, val any) error {
		if ev, ok := val.(EnumValue); ok && ev.Type == "DtdProcessing" && ev.Name != "Parse" {
			return nil
		}
		return throwf("NotSupportedException", "DtdProcessing.Parse is not supported: document type declarations are refused.")
	}

	static("XmlReader").m("Create", "XmlReader", func(e *env, _ []string, args []any) (any, error) { return newXMLReader(e, args) })
	xr := typ("XmlReader")
	xr.checked = true
	rp := func(name, t string, f func(r *xmlReader) any) {
		xr.prop(name, t, func(_ *env, v any) (any, error) { return f(v.(*xmlReader)), nil })
	}
	rp("NodeType", "Enum", func(r *xmlReader) any { return nodeTypeValue(r.kind()) })
	rp("Name", "string", func(r *xmlReader) any { return r.cur.qname() })
	rp("LocalName", "string", func(r *xmlReader) any { return r.cur.name.Local })
	rp("NamespaceURI", "string", func(r *xmlReader) any { return r.cur.name.Space })
	rp("Prefix", "string", func(r *xmlReader) any { return r.cur.prefix })
	rp("Value", "string", func(r *xmlReader) any { return r.cur.value })
	rp("HasValue", "bool", func(r *xmlReader) any { return r.cur.value != "" || r.cur.kind == "Text" })
	rp("Depth", "int", func(r *xmlReader) any { return int32(r.cur.depth) })
	rp("IsEmptyElement", "bool", func(r *xmlReader) any { return r.cur.kind == "Element" && r.cur.empty })
	rp("HasAttributes", "bool", func(r *xmlReader) any { return len(r.cur.attrs) > 0 })
	rp("AttributeCount", "int", func(r *xmlReader) any { return int32(len(r.cur.attrs)) })
	rp("EOF", "bool", func(r *xmlReader) any { return r.eof })
	xr.method("Read", "bool", func(e *env, v any, _ []string, _ []any) (any, error) { return v.(*xmlReader).next(e) })
	xr.method("MoveToContent", "Enum", func(e *env, v any, _ []string, _ []any) (any, error) {
		r := v.(*xmlReader)
		err := r.moveToContent(e)
		return nodeTypeValue(r.kind()), err
	})
	xr.method("IsStartElement", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		r := v.(*xmlReader)
		if err := r.moveToContent(e); err != nil {
			return nil, err
		}
		if r.cur.kind != "Element" {
			return false, nil
		}
		if len(args) == 0 {
			return true, nil
		}
		name, err := strArg(args, 0)
		return r.cur.qname() == name || r.cur.name.Local == name, err
	})
	xr.method("ReadStartElement", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		r := v.(*xmlReader)
		if err := r.moveToContent(e); err != nil {
			return nil, err
		}
		if r.cur.kind != "Element" {
			return nil, throwf("XmlException", "'%s' is an invalid XmlNodeType.", r.cur.kind)
		}
		if len(args) > 0 {
			if name, _ := strArg(args, 0); r.cur.qname() != name && r.cur.name.Local != name {
				return nil, throwf("XmlException", "Element '%s' was not found.", name)
			}
		}
		_, err := r.next(e)
		return nil, err
	})
	xr.method("ReadEndElement", "object", func(e *env, v any, _ []string, _ []any) (any, error) {
		r := v.(*xmlReader)
		if err := r.moveToContent(e); err != nil {
			return nil, err
		}
		if r.cur.kind != "EndElement" {
			return nil, throwf("XmlException", "'%s' is an invalid XmlNodeType.", r.cur.kind)
		}
		_, err := r.next(e)
		return nil, err
	})
	content := func(e *env, v any, _ []string, _ []any) (any, error) { return v.(*xmlReader).elementText(e) }
	xr.method("ReadElementContentAsString", "string", content).method("ReadElementString", "string", content)
	xr.method("ReadString", "string", func(e *env, v any, _ []string, _ []any) (any, error) {
		r := v.(*xmlReader)
		var b strings.Builder
		if r.cur.kind == "Element" && !r.cur.empty {
			if _, err := r.next(e); err != nil {
				return nil, err
			}
		}
		for r.cur.kind == "Text" || r.cur.kind == "CDATA" || r.cur.kind == "Whitespace" {
			b.WriteString(r.cur.value)
			if _, err := r.next(e); err != nil {
				return nil, err
			}
		}
		return b.String(), nil
	})
	xr.method("ReadToFollowing", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return v.(*xmlReader).readTo(e, name, -1, false)
	})
	xr.method("ReadToDescendant", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		r := v.(*xmlReader)
		if r.cur.kind != "Element" || r.cur.empty {
			return false, nil
		}
		return r.readTo(e, name, r.cur.depth, false)
	})
	xr.method("ReadToNextSibling", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		r := v.(*xmlReader)
		if err := r.skip(e); err != nil {
			return nil, err
		}
		for !r.eof && r.cur.kind != "Element" && r.cur.kind != "EndElement" {
			if _, err := r.next(e); err != nil {
				return nil, err
			}
		}
		if r.cur.kind == "Element" && (r.cur.qname() == name || r.cur.name.Local == name) {
			return true, nil
		}
		return r.readTo(e, name, r.cur.depth-1, true)
	})
	xr.method("Skip", "object", func(e *env, v any, _ []string, _ []any) (any, error) { return nil, v.(*xmlReader).skip(e) })
	xr.method("GetAttribute", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		r := v.(*xmlReader)
		if i, ok := argAt(args, 0).(int32); ok {
			if int(i) < 0 || int(i) >= len(r.cur.attrs) {
				return nil, throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter 'i')")
			}
			return r.cur.attrs[i].Value, nil
		}
		name, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if s, ok := r.attr(name); ok {
			return s, nil
		}
		return nil, nil
	})
	xr.method("Close", "object", noop).method("Dispose", "object", noop)
}
