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
	p, err := compileSetNamed(b, n, nil)
	if err != nil {
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
	action, vals, err := p.h.actionValues(x)
	if err != nil {
		return err
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
