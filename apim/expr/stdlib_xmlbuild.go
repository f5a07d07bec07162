package expr

// Building and changing LINQ to XML trees, as policies that turn JSON into
// SOAP do: the constructors (new XElement(name, content...),
// new XDocument(...), new XAttribute(name, value), XText, XCData,
// XComment, XProcessingInstruction, XDeclaration), Add, AddFirst,
// SetAttributeValue, SetElementValue, SetValue, Value =, Remove and
// ReplaceWith.

import "strings"

// xcontent turns constructor or Add arguments into nodes and attributes,
// as LINQ to XML does: strings and other values become text, a node that
// already has a parent is copied, sequences are flattened, null is
// skipped.
func xcontent(e *env, args []any, nodes []any, attrs []*XAttribute, depth int) ([]any, []*XAttribute, error) {
	if depth > 16 {
		return nil, nil, throwf("ArgumentException", "Content nested too deep.")
	}
	for _, a := range args {
		if err := e.step(1); err != nil {
			return nil, nil, err
		}
		switch x := a.(type) {
		case nil:
		case *XAttribute:
			if x.parent != nil {
				x = &XAttribute{Name: x.Name, Value: x.Value}
			}
			attrs = append(attrs, x)
		case *XElement:
			if x.parent != nil || x.doc != nil {
				x = cloneElement(x)
			}
			nodes = append(nodes, x)
		case *XText:
			if x.parent != nil || x.doc != nil {
				x = &XText{Value: x.Value, CData: x.CData}
			}
			nodes = append(nodes, x)
		case *XComment:
			if x.parent != nil || x.doc != nil {
				x = &XComment{Value: x.Value}
			}
			nodes = append(nodes, x)
		case *XProcessingInstruction:
			if x.parent != nil || x.doc != nil {
				x = &XProcessingInstruction{Target: x.Target, Data: x.Data}
			}
			nodes = append(nodes, x)
		case *XDocument:
			if x.Root != nil {
				nodes = append(nodes, cloneElement(x.Root))
			}
		case string:
			nodes = appendText(nodes, x)
		case []any, []string, *List, *JArray:
			items, err := enumerate(x)
			if err != nil {
				return nil, nil, err
			}
			if nodes, attrs, err = xcontent(e, items, nodes, attrs, depth+1); err != nil {
				return nil, nil, err
			}
		default:
			nodes = appendText(nodes, xmlText(x))
		}
	}
	return nodes, attrs, nil
}

// xmlText is a value as LINQ to XML writes it (booleans in lower case,
// dates in ISO 8601).
func xmlText(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ToString(v)
}

// appendText adds text, merging with a text node before it (as XLinq
// does when strings are added one after another).
func appendText(nodes []any, s string) []any {
	if s == "" {
		return nodes
	}
	if n := len(nodes); n > 0 {
		if t, ok := nodes[n-1].(*XText); ok && !t.CData {
			t.Value += s
			return nodes
		}
	}
	return append(nodes, &XText{Value: s})
}

func cloneElement(x *XElement) *XElement {
	c := &XElement{Name: x.Name, IsEmpty: x.IsEmpty}
	for _, a := range x.Attrs {
		c.Attrs = append(c.Attrs, &XAttribute{Name: a.Name, Value: a.Value, parent: c})
	}
	for _, n := range x.Nodes {
		switch y := n.(type) {
		case *XElement:
			k := cloneElement(y)
			k.parent = c
			c.Nodes = append(c.Nodes, k)
		case *XText:
			c.Nodes = append(c.Nodes, &XText{Value: y.Value, CData: y.CData, parent: c})
		case *XComment:
			c.Nodes = append(c.Nodes, &XComment{Value: y.Value, parent: c})
		case *XProcessingInstruction:
			c.Nodes = append(c.Nodes, &XProcessingInstruction{Target: y.Target, Data: y.Data, parent: c})
		}
	}
	return c
}

// setLinks sets a node's parent element and owning document.
func setLinks(v any, p *XElement, d *XDocument) {
	switch y := v.(type) {
	case *XElement:
		y.parent, y.doc = p, d
	case *XText:
		y.parent, y.doc = p, d
	case *XComment:
		y.parent, y.doc = p, d
	case *XProcessingInstruction:
		y.parent, y.doc = p, d
	}
}

// adopt makes el the parent of nodes and attributes.
func (el *XElement) adopt(nodes []any, attrs []*XAttribute) {
	for _, n := range nodes {
		setLinks(n, el, nil)
	}
	for _, a := range attrs { // (addTo refused duplicates)
		a.parent = el
		el.Attrs = append(el.Attrs, a)
	}
	if len(nodes) > 0 {
		el.IsEmpty = false
	}
}

func (el *XElement) attr(n XName) *XAttribute {
	for _, a := range el.Attrs {
		if a.Name == n {
			return a
		}
	}
	return nil
}

// addTo adds content to el (first: at the start).
func addTo(e *env, el *XElement, args []any, first bool) error {
	nodes, attrs, err := xcontent(e, args, nil, nil, 0)
	if err != nil {
		return err
	}
	seen := map[XName]bool{}
	for _, a := range attrs {
		if el.attr(a.Name) != nil || seen[a.Name] {
			return throwf("InvalidOperationException", "Duplicate attribute.")
		}
		seen[a.Name] = true
	}
	el.adopt(nodes, attrs)
	if first {
		el.Nodes = append(nodes, el.Nodes...)
	} else {
		for _, n := range nodes {
			if t, ok := n.(*XText); ok && !t.CData {
				el.Nodes = appendText(el.Nodes, t.Value)
				if last, ok := el.Nodes[len(el.Nodes)-1].(*XText); ok {
					last.parent = el
				}
				continue
			}
			el.Nodes = append(el.Nodes, n)
		}
	}
	return e.chargeScan(len(el.Nodes))
}

// removeNode takes a node out of its parent or document.
func removeNode(v any) error {
	list, i := siblings(v)
	if i < 0 {
		return throwf("InvalidOperationException", "The parent is missing.")
	}
	p, d := nodeParent(v)
	rest := append(list[:i:i], list[i+1:]...)
	switch {
	case p != nil:
		p.Nodes = rest
	case d != nil:
		d.Nodes = rest
		if d.Root == v {
			d.Root = nil
		}
	}
	setLinks(v, nil, nil)
	return nil
}

// setValue replaces an element's content by text.
func (el *XElement) setValue(s string) {
	el.Nodes, el.IsEmpty = nil, false
	if s != "" {
		el.Nodes = []any{&XText{Value: s, parent: el}}
	}
}

func init() {
	knownTypes["XDeclaration"] = true
	static("XElement").new(func(e *env, _ []string, args []any) (any, error) {
		if len(args) == 1 {
			if src, ok := args[0].(*XElement); ok {
				return cloneElement(src), nil
			}
		}
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		el := &XElement{Name: name, IsEmpty: true}
		return el, addTo(e, el, args[1:], false)
	})
	static("XAttribute").new(func(_ *env, _ []string, args []any) (any, error) {
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		if argAt(args, 1) == nil {
			return nil, errArgNull("value")
		}
		return &XAttribute{Name: name, Value: xmlText(args[1])}, nil
	})
	textCtor := func(cdata bool) func(*env, []string, []any) (any, error) {
		return func(_ *env, _ []string, args []any) (any, error) {
			if argAt(args, 0) == nil {
				return nil, errArgNull("value")
			}
			return &XText{Value: ToString(args[0]), CData: cdata}, nil
		}
	}
	static("XText").new(textCtor(false))
	static("XCData").new(textCtor(true))
	static("XComment").new(func(_ *env, _ []string, args []any) (any, error) {
		if argAt(args, 0) == nil {
			return nil, errArgNull("value")
		}
		return &XComment{Value: ToString(args[0])}, nil
	})
	static("XProcessingInstruction").new(func(_ *env, _ []string, args []any) (any, error) {
		t, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		d, _ := argAt(args, 1).(string)
		return &XProcessingInstruction{Target: t, Data: d}, nil
	})
	// An XDeclaration is accepted in a new XDocument and dropped: the
	// document's ToString never writes a declaration (as in LINQ to XML).
	static("XDeclaration").new(func(*env, []string, []any) (any, error) { return nil, nil })
	static("XDocument").new(func(e *env, _ []string, args []any) (any, error) {
		nodes, attrs, err := xcontent(e, args, nil, nil, 0)
		if err != nil {
			return nil, err
		}
		if len(attrs) > 0 {
			return nil, throwf("ArgumentException", "An attribute cannot be added to content.")
		}
		d := &XDocument{}
		for _, n := range nodes {
			switch y := n.(type) {
			case *XElement:
				if d.Root != nil {
					return nil, throwf("InvalidOperationException", "This operation would create an incorrectly structured document.")
				}
				d.Root, y.doc = y, d
			case *XText:
				if strings.TrimSpace(y.Value) != "" {
					return nil, throwf("ArgumentException", "Non-whitespace characters cannot be added to content.")
				}
				continue
			case *XComment:
				y.doc = d
			case *XProcessingInstruction:
				y.doc = d
			}
			d.Nodes = append(d.Nodes, n)
		}
		return d, nil
	})

	el := typ("XElement")
	el.method("Add", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		return nil, addTo(e, v.(*XElement), args, false)
	})
	el.method("AddFirst", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		return nil, addTo(e, v.(*XElement), args, true)
	})
	el.method("SetAttributeValue", "object", func(_ *env, v any, _ []string, args []any) (any, error) {
		x := v.(*XElement)
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		a := x.attr(name)
		switch {
		case argAt(args, 1) == nil && a != nil:
			for i, b := range x.Attrs {
				if b == a {
					x.Attrs = append(x.Attrs[:i:i], x.Attrs[i+1:]...)
				}
			}
		case argAt(args, 1) == nil:
		case a != nil:
			a.Value = xmlText(args[1])
		default:
			x.Attrs = append(x.Attrs, &XAttribute{Name: name, Value: xmlText(args[1]), parent: x})
		}
		return nil, nil
	})
	el.method("SetElementValue", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*XElement)
		name, err := xnameArg(args, 0)
		if err != nil {
			return nil, err
		}
		var child *XElement
		for _, c := range xElements(x.Nodes, &name) {
			child = c.(*XElement)
			break
		}
		switch {
		case argAt(args, 1) == nil && child != nil:
			return nil, removeNode(child)
		case argAt(args, 1) == nil:
			return nil, nil
		case child != nil:
			child.setValue(xmlText(args[1]))
			return nil, nil
		}
		return nil, addTo(e, x, []any{&XElement{Name: name, Nodes: []any{&XText{Value: xmlText(args[1])}}}}, false)
	})
	el.method("SetValue", "object", func(_ *env, v any, _ []string, args []any) (any, error) {
		if argAt(args, 0) == nil {
			return nil, errArgNull("value")
		}
		v.(*XElement).setValue(xmlText(args[0]))
		return nil, nil
	})
	el.setProps["Value"] = func(_ *env, v, val any) error {
		if val == nil {
			return errArgNull("value")
		}
		v.(*XElement).setValue(ToString(val))
		return nil
	}
	el.method("RemoveAll", "object", m0(func(v any) (any, error) {
		x := v.(*XElement)
		x.Nodes, x.Attrs, x.IsEmpty = nil, nil, true
		return nil, nil
	}))
	el.method("RemoveAttributes", "object", m0(func(v any) (any, error) { v.(*XElement).Attrs = nil; return nil, nil }))
	for _, t := range []string{"XElement", "XText", "XCData", "XComment", "XProcessingInstruction"} {
		typ(t).method("Remove", "object", m0(func(v any) (any, error) { return nil, removeNode(v) }))
		typ(t).method("ReplaceWith", "object", func(e *env, v any, _ []string, args []any) (any, error) {
			list, i := siblings(v)
			if i < 0 {
				return nil, throwf("InvalidOperationException", "The parent is missing.")
			}
			nodes, _, err := xcontent(e, args, nil, nil, 0)
			if err != nil {
				return nil, err
			}
			p, _ := nodeParent(v)
			if p == nil {
				return nil, throwf("InvalidOperationException", "Only nodes inside an element can be replaced here.")
			}
			p.adopt(nodes, nil)
			out := append(append(append([]any{}, list[:i]...), nodes...), list[i+1:]...)
			p.Nodes = out
			return nil, nil
		})
	}
	typ("XAttribute").method("Remove", "object", m0(func(v any) (any, error) {
		a := v.(*XAttribute)
		if a.parent == nil {
			return nil, throwf("InvalidOperationException", "The parent is missing.")
		}
		for i, b := range a.parent.Attrs {
			if b == a {
				a.parent.Attrs = append(a.parent.Attrs[:i:i], a.parent.Attrs[i+1:]...)
			}
		}
		a.parent = nil
		return nil, nil
	}))
	typ("XAttribute").setProps["Value"] = func(_ *env, v, val any) error {
		if val == nil {
			return errArgNull("value")
		}
		v.(*XAttribute).Value = ToString(val)
		return nil
	}
}
