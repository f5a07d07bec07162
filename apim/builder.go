package apim

import (
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// Builder is handed to each CompileFunc. It knows the file, scope and section
// being compiled, substitutes named values and compiles expressions.
type Builder struct {
	File    string
	Scope   Scope
	Section Section
}

// Errorf returns a load error at pos ("file:line:col: message").
func (b *Builder) Errorf(pos rawxml.Pos, format string, args ...any) error {
	panic("apim: Builder.Errorf not implemented yet")
}

// Attrs rejects any attribute of n not in allowed (the common "id" attribute
// every policy may carry is always allowed).
func (b *Builder) Attrs(n *rawxml.Node, allowed ...string) error {
	panic("apim: Builder.Attrs not implemented yet")
}

// Children rejects any child element of n not in allowed.
func (b *Builder) Children(n *rawxml.Node, allowed ...string) error {
	panic("apim: Builder.Children not implemented yet")
}

// Attr returns attribute name of n with named values substituted and an
// expression compiled; Value.Set is false when absent.
func (b *Builder) Attr(n *rawxml.Node, name string) (Value, error) {
	panic("apim: Builder.Attr not implemented yet")
}

// ConstAttr is Attr for attributes where APIM allows no expression: an
// expression is a load error.
func (b *Builder) ConstAttr(n *rawxml.Node, name string) (Value, error) {
	panic("apim: Builder.ConstAttr not implemented yet")
}

// Text returns the element text of n as a Value (named values substituted,
// expression compiled).
func (b *Builder) Text(n *rawxml.Node) (Value, error) {
	panic("apim: Builder.Text not implemented yet")
}

// Policies compiles nested policy elements (the bodies of when, otherwise,
// retry ...) in the builder's section and scope.
func (b *Builder) Policies(nodes []*rawxml.Node) ([]Policy, error) {
	panic("apim: Builder.Policies not implemented yet")
}
