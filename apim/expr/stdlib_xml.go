package expr

// Members of the System.Xml.Linq subset (statically checked: unknown
// members of XDocument, XElement, XAttribute, XName ... are compile errors).

import (
	"math"
	"strconv"
	"strings"
)

// xnameArg converts a method argument to XName (string converts
// implicitly, as in C#).
func xnameArg(args []any, i int) (XName, error) {
	switch x := argAt(args, i).(type) {
	case XName:
		return x, nil
	case string:
		return parseXName(x)
	case nil:
		return XName{}, errArgNull("name")
	}
	return XName{}, throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'System.Xml.Linq.XName'", i+1, dotnetTypeName(argAt(args, i)))
}

// optName is the optional XName argument of Elements(name) / Descendants(name).
func optName(args []any) (*XName, error) {
	if len(args) == 0 {
		return nil, nil
	}
	n, err := xnameArg(args, 0)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func containerNodes(v any) []any {
	switch x := v.(type) {
	case *XDocument:
		return x.Nodes
	case *XElement:
		return x.Nodes
	}
	return nil
}

// nodeLinks returns a node's parent element and owning document link.
func nodeParent(v any) (*XElement, *XDocument) {
	switch x := v.(type) {
	case *XElement:
		return x.parent, x.doc
	case *XText:
		return x.parent, x.doc
	case *XComment:
		return x.parent, x.doc
	case *XProcessingInstruction:
		return x.parent, x.doc
	}
	return nil, nil
}

func nodeDocument(v any) *XDocument {
	if d, ok := v.(*XDocument); ok {
		return d
	}
	p, d := nodeParent(v)
	for p != nil {
		v = p
		p, d = nodeParent(v)
	}
	return d
}

// siblings returns the node list holding v and v's index in it.
func siblings(v any) ([]any, int) {
	p, d := nodeParent(v)
	var list []any
	switch {
	case p != nil:
		list = p.Nodes
	case d != nil:
		list = d.Nodes
	}
	for i, n := range list {
		if n == v {
			return list, i
		}
	}
	return nil, -1
}

var xmlNodeTypes = map[string]int{"XElement": 1, "XText": 3, "XCData": 4, "XProcessingInstruction": 7, "XComment": 8, "XDocument": 9}

// xmlValue is the text an explicit conversion of an XElement or
// XAttribute reads.
func xmlValue(v any) (string, bool) {
	switch x := v.(type) {
	case *XElement:
		return x.Value(), true
	case *XAttribute:
		return x.Value, true
	}
	return "", false
}

// castXML is (T)element / (T)attribute, parsing with XmlConvert's rules.
func castXML(s, t string) (any, error) {
	typeName := map[string]string{"int": "Int32", "long": "Int64", "double": "Double", "bool": "Boolean", "byte": "Byte", "char": "Char"}[t]
	bad := func() error {
		return errFormat("The string '" + s + "' is not a valid " + typeName + " value.")
	}
	ts := strings.Trim(s, " \t\r\n")
	switch t {
	case "string":
		return s, nil
	case "int", "long":
		bits := 32
		if t == "long" {
			bits = 64
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(ts, "+"), 10, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, throwf("OverflowException", "Value was either too large or too small for an %s.", typeName)
			}
			return nil, bad()
		}
		if t == "int" {
			return int32(n), nil
		}
		return n, nil
	case "double":
		switch ts {
		case "INF":
			return math.Inf(1), nil
		case "-INF":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
		if strings.ContainsAny(ts, "xXpP_") || strings.EqualFold(strings.TrimLeft(ts, "+-"), "inf") || strings.EqualFold(strings.TrimLeft(ts, "+-"), "infinity") {
			return nil, bad()
		}
		f, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	case "bool":
		switch ts {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, bad()
	case "DateTime":
		return parseDateTime(ts)
	case "Guid":
		if g, ok := ParseGuid(ts); ok {
			return g, nil
		}
		return nil, errFormat("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
	}
	return nil, nil
}

func init() {
	for _, n := range []string{"XNode", "XContainer", "XAttribute", "XText", "XCData", "XComment", "XProcessingInstruction", "XObject"} {
		knownTypes[n] = true
	}
	for _, n := range []string{"XDocument", "XElement", "XNode", "XContainer", "XAttribute", "XText", "XCData", "XComment", "XProcessingInstruction", "XName", "XNamespace"} {
		dotnetNames[n] = "System.Xml.Linq." + n
	}
	exceptionParents["XmlException"] = "SystemException"
	enum("SaveOptions", "None", "DisableFormatting", "OmitDuplicateNamespaces")
	enum("LoadOptions", "None", "PreserveWhitespace", "SetBaseUri", "SetLineInfo=4")

	// static members
	loadOpts := func(args []any) bool {
		o, ok := argAt(args, 1).(EnumValue)
		return ok && o.Type == "LoadOptions" && o.Value&1 != 0
	}
	xmlText := func(args []any) (string, error) {
		if argAt(args, 0) == nil {
			return "", errArgNull("text")
		}
		return strArg(args, 0)
	}
	static("XDocument").m("Parse", "XDocument", func(e *env, _ []string, args []any) (any, error) {
		s, err := xmlText(args)
		if err != nil {
			return nil, err
		}
		return parseXML(e, s, loadOpts(args))
	})
	static("XElement").m("Parse", "XElement", func(e *env, _ []string, args []any) (any, error) {
		s, err := xmlText(args)
		if err != nil {
			return nil, err
		}
		return parseXElement(e, s, loadOpts(args))
	})
	static("XName").m("Get", "XName", func(e *env, _ []string, args []any) (any, error) {
		if len(args) == 2 {
			local, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			ns, err := strArg(args, 1)
			if err != nil {
				return nil, err
			}
			if local == "" {
				return nil, throwf("ArgumentException", "The empty string '' is not a valid local name.")
			}
			return XName{Space: ns, Local: local}, nil
		}
		return xnameArg(args, 0)
	})
	static("XNamespace").m("Get", "XNamespace", func(e *env, _ []string, args []any) (any, error) {
		if argAt(args, 0) == nil {
			return nil, errArgNull("namespaceName")
		}
		s, err := strArg(args, 0)
		return XNamespace{URI: s}, err
	}).
		konst("None", "XNamespace", XNamespace{}).
		konst("Xml", "XNamespace", XNamespace{URI: xmlNS}).
		konst("Xmlns", "XNamespace", XNamespace{URI: xmlnsNS})

	// XName / XNamespace
	checked("XName", "XName").
		prop("LocalName", "string", get(func(n XName) any { return n.Local })).
		prop("NamespaceName", "string", get(func(n XName) any { return n.Space })).
		prop("Namespace", "XNamespace", get(func(n XName) any { return XNamespace{URI: n.Space} }))
	checked("XNamespace", "XNamespace").
		prop("NamespaceName", "string", get(func(n XNamespace) any { return n.URI })).
		method("GetName", "XName", func(e *env, v any, _ []string, args []any) (any, error) {
			s, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, throwf("ArgumentException", "The empty string '' is not a valid local name.")
			}
			return XName{Space: v.(XNamespace).URI, Local: s}, nil
		})

	// XNode (XDocument, XElement, XText, XComment, XProcessingInstruction)
	node := checked("XNode", "XNode")
	node.prop("Parent", "XElement", func(e *env, v any) (any, error) {
		p, _ := nodeParent(v)
		return nz(p), nil
	})
	node.prop("Document", "XDocument", func(e *env, v any) (any, error) { return nz(nodeDocument(v)), nil })
	node.prop("NodeType", "Enum", func(e *env, v any) (any, error) {
		t := typeNameOf(v)
		n := map[string]string{"XElement": "Element", "XText": "Text", "XCData": "CDATA", "XProcessingInstruction": "ProcessingInstruction", "XComment": "Comment", "XDocument": "Document"}[t]
		return EnumValue{Type: "XmlNodeType", Name: n, Value: xmlNodeTypes[t]}, nil
	})
	node.prop("NextNode", "XNode", func(e *env, v any) (any, error) {
		list, i := siblings(v)
		if i < 0 || i+1 >= len(list) {
			return nil, nil
		}
		return list[i+1], nil
	})
	node.prop("PreviousNode", "XNode", func(e *env, v any) (any, error) {
		list, i := siblings(v)
		if i <= 0 {
			return nil, nil
		}
		return list[i-1], nil
	})
	node.method("Ancestors", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for p, _ := nodeParent(v); p != nil; p = p.parent {
			if name == nil || p.Name == *name {
				out = append(out, p)
			}
		}
		return out, nil
	})
	node.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		indent := true
		if o, ok := argAt(args, 0).(EnumValue); ok && o.Type == "SaveOptions" && o.Value&1 != 0 {
			indent = false
		}
		return xmlString(v, indent)
	})

	// XContainer (XDocument, XElement)
	ct := checked("XContainer", "XContainer", "XNode")
	ct.method("Nodes", "IEnumerable", m0(func(v any) (any, error) {
		return append([]any{}, containerNodes(v)...), nil
	}))
	ct.method("Elements", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		return xElements(containerNodes(v), name), nil
	})
	ct.method("Element", "XElement", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		ns := containerNodes(v)
		if err := e.chargeScan(len(ns)); err != nil {
			return nil, err
		}
		for _, n := range ns {
			if el, ok := n.(*XElement); ok && el.Name == name {
				return el, nil
			}
		}
		return nil, nil
	})
	ct.method("Descendants", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		return chargeSeq(e, xDescendants(containerNodes(v), name, []any{}))
	})
	ct.method("DescendantNodes", "IEnumerable", m0(func(v any) (any, error) {
		var out []any
		var walk func(ns []any)
		walk = func(ns []any) {
			for _, n := range ns {
				out = append(out, n)
				if el, ok := n.(*XElement); ok {
					walk(el.Nodes)
				}
			}
		}
		walk(containerNodes(v))
		if out == nil {
			out = []any{}
		}
		return out, nil
	}))
	ct.prop("FirstNode", "XNode", func(e *env, v any) (any, error) {
		if ns := containerNodes(v); len(ns) > 0 {
			return ns[0], nil
		}
		return nil, nil
	})
	ct.prop("LastNode", "XNode", func(e *env, v any) (any, error) {
		if ns := containerNodes(v); len(ns) > 0 {
			return ns[len(ns)-1], nil
		}
		return nil, nil
	})

	checked("XDocument", "XDocument", "XContainer").
		prop("Root", "XElement", get(func(d *XDocument) any { return nz(d.Root) }))

	el := checked("XElement", "XElement", "XContainer")
	el.prop("Name", "XName", get(func(x *XElement) any { return x.Name }))
	el.prop("Value", "string", get(func(x *XElement) any { return x.Value() }))
	el.prop("HasElements", "bool", get(func(x *XElement) any { return len(xElements(x.Nodes, nil)) > 0 }))
	el.prop("HasAttributes", "bool", get(func(x *XElement) any { return len(x.Attrs) > 0 }))
	el.prop("IsEmpty", "bool", get(func(x *XElement) any { return x.IsEmpty && len(x.Nodes) == 0 }))
	el.prop("FirstAttribute", "XAttribute", get(func(x *XElement) any {
		if len(x.Attrs) == 0 {
			return nil
		}
		return x.Attrs[0]
	}))
	el.prop("LastAttribute", "XAttribute", get(func(x *XElement) any {
		if len(x.Attrs) == 0 {
			return nil
		}
		return x.Attrs[len(x.Attrs)-1]
	}))
	el.method("Attribute", "XAttribute", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		attrs := v.(*XElement).Attrs
		if err := e.chargeScan(len(attrs)); err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if a.Name == name {
				return a, nil
			}
		}
		return nil, nil
	})
	el.method("Attributes", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, a := range v.(*XElement).Attrs {
			if name == nil || a.Name == *name {
				out = append(out, a)
			}
		}
		return out, nil
	})
	el.method("DescendantsAndSelf", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		x := v.(*XElement)
		out := []any{}
		if name == nil || x.Name == *name {
			out = append(out, x)
		}
		return chargeSeq(e, xDescendants(x.Nodes, name, out))
	})
	el.method("AncestorsAndSelf", "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
		name, err := optName(args)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for p := v.(*XElement); p != nil; p = p.parent {
			if name == nil || p.Name == *name {
				out = append(out, p)
			}
		}
		return out, nil
	})

	attr := checked("XAttribute", "XAttribute")
	attr.prop("Name", "XName", get(func(a *XAttribute) any { return a.Name }))
	attr.prop("Value", "string", get(func(a *XAttribute) any { return a.Value }))
	attr.prop("Parent", "XElement", get(func(a *XAttribute) any { return nz(a.parent) }))
	attr.prop("IsNamespaceDeclaration", "bool", get(func(a *XAttribute) any { _, ok := a.isNSDecl(); return ok }))

	txt := checked("XText", "XText", "XNode")
	txt.prop("Value", "string", get(func(t *XText) any { return t.Value }))
	checked("XCData", "XCData", "XText")
	checked("XComment", "XComment", "XNode").
		prop("Value", "string", get(func(c *XComment) any { return c.Value }))
	checked("XProcessingInstruction", "XProcessingInstruction", "XNode").
		prop("Target", "string", get(func(p *XProcessingInstruction) any { return p.Target })).
		prop("Data", "string", get(func(p *XProcessingInstruction) any { return p.Data }))

	// LINQ to XML extensions on sequences: items.Elements("x"), ...
	seq := typ("IEnumerable")
	seqOf := func(name string, f func(v any, n *XName) ([]any, error)) {
		seq.method(name, "IEnumerable", func(e *env, v any, _ []string, args []any) (any, error) {
			items, err := enumerate(v)
			if err != nil {
				return nil, err
			}
			n, err := optName(args)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, it := range items {
				r, err := f(it, n)
				if err != nil {
					return nil, err
				}
				out = append(out, r...)
				if len(out) > maxArrayLen {
					return nil, errTooLarge()
				}
			}
			return chargeSeq(e, out)
		})
	}
	notContainer := func(v any) error {
		return throwf("InvalidCastException", "Unable to cast object of type '%s' to type 'System.Xml.Linq.XContainer'.", dotnetTypeName(v))
	}
	seqOf("Elements", func(v any, n *XName) ([]any, error) {
		switch v.(type) {
		case *XElement, *XDocument:
			return xElements(containerNodes(v), n), nil
		}
		return nil, notContainer(v)
	})
	seqOf("Descendants", func(v any, n *XName) ([]any, error) {
		switch v.(type) {
		case *XElement, *XDocument:
			return xDescendants(containerNodes(v), n, nil), nil
		}
		return nil, notContainer(v)
	})
	seqOf("Attributes", func(v any, n *XName) ([]any, error) {
		x, ok := v.(*XElement)
		if !ok {
			return nil, throwf("InvalidCastException", "Unable to cast object of type '%s' to type 'System.Xml.Linq.XElement'.", dotnetTypeName(v))
		}
		var out []any
		for _, a := range x.Attrs {
			if n == nil || a.Name == *n {
				out = append(out, a)
			}
		}
		return out, nil
	})
}

// chargeSeq counts a produced sequence against the step budget.
func chargeSeq(e *env, out []any) (any, error) {
	if err := e.chargeScan(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// xnameEquals compares XName / XNamespace values with each other or with a
// string (converted implicitly, as C#'s == operators do). ok is false when
// neither operand is an XName or XNamespace.
func xnameEquals(a, b any) (eq, ok bool) {
	switch x := a.(type) {
	case XName:
		switch y := b.(type) {
		case XName:
			return x == y, true
		case string:
			n, err := parseXName(y)
			return err == nil && n == x, true
		}
		return false, true
	case XNamespace:
		switch y := b.(type) {
		case XNamespace:
			return x == y, true
		case string:
			return x.URI == y, true
		}
		return false, true
	case string:
		switch b.(type) {
		case XName, XNamespace:
			return xnameEquals(b, a)
		}
	}
	return false, false
}
