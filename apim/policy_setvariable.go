package apim

import (
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-variable: <set-variable name value/>. A literal value is stored as a
// string; an expression's result keeps its type (int, bool, JObject ...).

func init() {
	Register(Spec{Name: "set-variable", Compile: compileSetVariable})
}

type setVariable struct {
	name  string
	value Value
}

func compileSetVariable(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "name", "value"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	name, err := b.ConstAttr(n, "name")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name.Lit) == "" {
		return nil, b.Errorf(n.Pos, "set-variable: attribute \"name\" is required")
	}
	v, err := b.Attr(n, "value")
	if err != nil {
		return nil, err
	}
	if !v.Set {
		return nil, b.Errorf(n.Pos, "set-variable: attribute \"value\" is required")
	}
	return &setVariable{name: name.Lit, value: v}, nil
}

func (p *setVariable) Exec(x *Exec) error {
	v, err := x.Eval(p.value)
	if err != nil {
		return err
	}
	if x.Ctx.Variables == nil {
		x.Ctx.Variables = expr.Variables{}
	}
	x.Ctx.Variables[p.name] = v
	return nil
}
