package tfxml

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/config"
)

// schemaXSD is B2C's policy schema as Microsoft publishes it with the
// starter pack (MIT). It is read once, into the element table below, rather
// than copied by hand: the schema is the contract B2C checks uploads
// against.
//
//go:embed TrustFrameworkPolicy_0.3.0.0.xsd
var schemaXSD []byte

// elemType is what an element of one schema type may hold.
type elemType struct {
	name     string // the schema type's name ("" for inline types)
	attrs    map[string]*attrSpec
	kids     map[string]*elemType
	text     bool
	textType *simpleType
	anyKids  bool
}

// attrSpec is one declared attribute.
type attrSpec struct {
	required bool
	typ      *simpleType
}

// simpleType is a value type: an XML Schema built-in or an enumeration.
type simpleType struct {
	base string   // xs:string, xs:boolean, xs:int, ...
	enum []string // allowed values (case-sensitive, as the schema)
}

func (s *simpleType) check(v string) string {
	if s == nil {
		return ""
	}
	if len(s.enum) > 0 {
		for _, e := range s.enum {
			if v == e {
				return ""
			}
		}
		return fmt.Sprintf("%q is not one of %s", v, strings.Join(s.enum, ", "))
	}
	switch s.base {
	case "boolean":
		switch strings.TrimSpace(v) {
		case "true", "false", "1", "0":
			return ""
		}
		return fmt.Sprintf("%q is not a boolean (true or false)", v)
	case "int", "integer", "nonNegativeInteger", "positiveInteger", "unsignedInt":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || (s.base != "int" && s.base != "integer" && n < 0) || (s.base == "positiveInteger" && n == 0) {
			return fmt.Sprintf("%q is not a %s", v, s.base)
		}
	}
	return ""
}

// xsNode is a schema element, read generically.
type xsNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xsNode   `xml:",any"`
}

func (n *xsNode) attr(k string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == k && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// local strips a namespace prefix ("tfp:Foo", "xs:string").
func local(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

type schemaBuilder struct {
	complex map[string]*xsNode
	simple  map[string]*xsNode
	built   map[string]*elemType
}

var (
	rootOnce sync.Once
	root     *elemType
	rootErr  error
)

// rootType is the TrustFrameworkPolicy element's type.
func rootType() (*elemType, error) {
	rootOnce.Do(func() {
		var s xsNode
		if err := xml.NewDecoder(bytes.NewReader(schemaXSD)).Decode(&s); err != nil {
			rootErr = fmt.Errorf("tfxml: embedded schema: %w", err)
			return
		}
		b := &schemaBuilder{complex: map[string]*xsNode{}, simple: map[string]*xsNode{}, built: map[string]*elemType{}}
		var top *xsNode
		for i := range s.Kids {
			k := &s.Kids[i]
			switch k.XMLName.Local {
			case "complexType":
				b.complex[k.attr("name")] = k
			case "simpleType":
				b.simple[k.attr("name")] = k
			case "element":
				if k.attr("name") == "TrustFrameworkPolicy" {
					top = k
				}
			}
		}
		if top == nil {
			rootErr = fmt.Errorf("tfxml: embedded schema has no TrustFrameworkPolicy element")
			return
		}
		root = b.element(top)
	})
	return root, rootErr
}

// element is the type of an element declaration.
func (b *schemaBuilder) element(e *xsNode) *elemType {
	if t := e.attr("type"); t != "" {
		name := local(t)
		if _, ok := b.complex[name]; ok {
			return b.named(name)
		}
		return &elemType{text: true, textType: b.simpleNamed(t)}
	}
	for i := range e.Kids {
		k := &e.Kids[i]
		switch k.XMLName.Local {
		case "complexType":
			et := &elemType{}
			b.fill(et, k)
			return et
		case "simpleType":
			return &elemType{text: true, textType: b.simpleInline(k)}
		}
	}
	return &elemType{text: true} // no type: anyType, treated as text
}

// named builds a named complex type once; recursive types share it.
func (b *schemaBuilder) named(name string) *elemType {
	if et, ok := b.built[name]; ok {
		return et
	}
	et := &elemType{name: name}
	b.built[name] = et
	b.fill(et, b.complex[name])
	return et
}

func (b *schemaBuilder) fill(et *elemType, ct *xsNode) {
	if et.attrs == nil {
		et.attrs, et.kids = map[string]*attrSpec{}, map[string]*elemType{}
	}
	for i := range ct.Kids {
		k := &ct.Kids[i]
		switch k.XMLName.Local {
		case "sequence", "choice", "all":
			b.particles(et, k)
		case "attribute":
			b.attribute(et, k)
		case "simpleContent", "complexContent":
			for j := range k.Kids {
				ext := &k.Kids[j]
				if ext.XMLName.Local != "extension" && ext.XMLName.Local != "restriction" {
					continue
				}
				base := local(ext.attr("base"))
				if bt, ok := b.complex[base]; ok {
					b.fill(et, bt)
				} else if k.XMLName.Local == "simpleContent" {
					et.text, et.textType = true, b.simpleNamed(ext.attr("base"))
				}
				b.fill(et, ext)
			}
		}
	}
}

func (b *schemaBuilder) particles(et *elemType, group *xsNode) {
	for i := range group.Kids {
		k := &group.Kids[i]
		switch k.XMLName.Local {
		case "element":
			et.kids[k.attr("name")] = b.element(k)
		case "sequence", "choice", "all":
			b.particles(et, k)
		case "any":
			et.anyKids = true
		}
	}
}

func (b *schemaBuilder) attribute(et *elemType, a *xsNode) {
	spec := &attrSpec{required: a.attr("use") == "required"}
	if t := a.attr("type"); t != "" {
		spec.typ = b.simpleNamed(t)
	}
	for i := range a.Kids {
		if a.Kids[i].XMLName.Local == "simpleType" {
			spec.typ = b.simpleInline(&a.Kids[i])
		}
	}
	et.attrs[a.attr("name")] = spec
}

func (b *schemaBuilder) simpleNamed(t string) *simpleType {
	if n, ok := b.simple[local(t)]; ok {
		return b.simpleInline(n)
	}
	return &simpleType{base: local(t)}
}

func (b *schemaBuilder) simpleInline(n *xsNode) *simpleType {
	st := &simpleType{base: "string"}
	for i := range n.Kids {
		r := &n.Kids[i]
		if r.XMLName.Local != "restriction" {
			continue
		}
		if base := r.attr("base"); base != "" {
			if inner := b.simpleNamed(base); inner != nil {
				st.base, st.enum = inner.base, inner.enum
			}
		}
		for j := range r.Kids {
			if r.Kids[j].XMLName.Local == "enumeration" {
				st.enum = append(st.enum, r.Kids[j].attr("value"))
			}
		}
	}
	return st
}

// Check checks a parsed document against B2C's schema and returns every
// problem found, in document order.
func Check(doc *Node) config.Errors {
	rt, err := rootType()
	if err != nil {
		return config.Errors{{Pos: doc.Pos, Msg: err.Error()}}
	}
	var errs config.Errors
	if doc.Name != "TrustFrameworkPolicy" {
		return config.Errors{{Pos: doc.Pos, Msg: fmt.Sprintf("the root element must be <TrustFrameworkPolicy>, not <%s>", doc.Name)}}
	}
	checkNode(doc, rt, &errs)
	return errs
}

func checkNode(n *Node, et *elemType, errs *config.Errors) {
	add := func(format string, a ...any) {
		*errs = append(*errs, &config.Error{Pos: n.Pos, Msg: fmt.Sprintf(format, a...)})
	}
	for _, a := range n.AttrOrder {
		spec, ok := et.attrs[a]
		if !ok {
			add("attribute %s is not allowed on <%s> (B2C schema%s)", a, n.Name, allowedAttrs(et))
			continue
		}
		if msg := spec.typ.check(n.Attrs[a]); msg != "" {
			add("attribute %s on <%s>: %s", a, n.Name, msg)
		}
	}
	required := make([]string, 0, len(et.attrs))
	for a, spec := range et.attrs {
		if spec.required && !n.Has(a) {
			required = append(required, a)
		}
	}
	sort.Strings(required)
	for _, a := range required {
		add("<%s> needs the attribute %s (B2C schema)", n.Name, a)
	}
	if n.Text != "" {
		if !et.text {
			add("<%s> holds elements only, not text %q (B2C schema)", n.Name, abbrev(n.Text))
		} else if msg := et.textType.check(n.Text); msg != "" {
			add("<%s>: %s (B2C schema)", n.Name, msg)
		}
	}
	for _, k := range n.Kids {
		kt, ok := et.kids[k.Name]
		if !ok {
			if et.anyKids {
				continue
			}
			*errs = append(*errs, &config.Error{Pos: k.Pos, Msg: fmt.Sprintf("element <%s> is not allowed in <%s> (B2C schema%s)", k.Name, n.Name, allowedKids(et))})
			continue
		}
		checkNode(k, kt, errs)
	}
}

func allowedAttrs(et *elemType) string {
	names := make([]string, 0, len(et.attrs))
	for a := range et.attrs {
		names = append(names, a)
	}
	return list(names, "attributes")
}

func allowedKids(et *elemType) string {
	names := make([]string, 0, len(et.kids))
	for k := range et.kids {
		names = append(names, k)
	}
	return list(names, "elements")
}

func list(names []string, what string) string {
	if len(names) == 0 {
		return ": it takes no " + what
	}
	sort.Strings(names)
	return ": " + what + " are " + strings.Join(names, ", ")
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
