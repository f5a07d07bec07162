package apim

import (
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-query-parameter: same attributes and semantics as set-header, on the
// backend request's query string.

func init() {
	Register(Spec{Name: "set-query-parameter", Sections: []Section{Inbound, Backend}, Compile: compileSetQueryParameter})
}

type setQueryParameter struct{ h *setHeader }

func compileSetQueryParameter(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "name", "exists-action"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "value"); err != nil {
		return nil, err
	}
	p := &setHeader{}
	var err error
	if p.name, err = b.Attr(n, "name"); err != nil {
		return nil, err
	}
	if !p.name.Set || (!p.name.IsExpr() && strings.TrimSpace(p.name.Lit) == "") {
		return nil, b.Errorf(n.Pos, "set-query-parameter: attribute \"name\" is required")
	}
	if p.action, err = b.Attr(n, "exists-action"); err != nil {
		return nil, err
	}
	if err := checkEnum(b, p.action, "exists-action", existsActions...); err != nil {
		return nil, err
	}
	if p.values, err = valueChildren(b, n); err != nil {
		return nil, err
	}
	return &setQueryParameter{p}, nil
}

func (p *setQueryParameter) Exec(x *Exec) error {
	u := x.reqURL()
	name, err := x.String(p.h.name)
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	action, err := x.enum(p.h.action, "override")
	if err != nil {
		return err
	}
	var vals []string
	for _, v := range p.h.values {
		s, err := x.String(v)
		if err != nil {
			return err
		}
		vals = append(vals, s)
	}
	if len(vals) == 0 {
		vals = []string{""}
	}
	switch action {
	case "delete":
		u.Query.Del(name)
	case "skip":
		if _, ok := u.Query[name]; !ok {
			u.Query[name] = vals
		}
	case "append":
		u.Query[name] = append(u.Query[name], vals...)
	default:
		u.Query[name] = vals
	}
	return nil
}
