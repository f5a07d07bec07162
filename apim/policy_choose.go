package apim

import (
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// choose: one or more <when condition> tried in order, the first true one
// runs; otherwise an optional <otherwise>. Nests freely.

func init() {
	Register(Spec{Name: "choose", Compile: compileChoose})
}

type when struct {
	cond     Value
	policies []Policy
}

type choose struct {
	whens     []when
	otherwise []Policy
}

func compileChoose(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n); err != nil {
		return nil, err
	}
	if err := b.Children(n, "when", "otherwise"); err != nil {
		return nil, err
	}
	p := &choose{}
	seenOtherwise := false
	failed := false
	for _, c := range n.Children {
		if seenOtherwise {
			return nil, b.Errorf(c.Pos, "choose: <otherwise> must be the last child")
		}
		if c.Name == "otherwise" {
			seenOtherwise = true
			if err := b.Attrs(c); err != nil {
				return nil, err
			}
			ps, err := b.Policies(c.Children)
			if err != nil {
				failed = true
			}
			p.otherwise = ps
			continue
		}
		if err := b.Attrs(c, "condition"); err != nil {
			return nil, err
		}
		cond, err := b.Attr(c, "condition")
		if err != nil {
			b.add(c.Pos, err)
			failed = true
		} else if !cond.Set {
			return nil, b.Errorf(c.Pos, "when: attribute \"condition\" is required")
		}
		ps, err := b.Policies(c.Children)
		if err != nil {
			failed = true
		}
		p.whens = append(p.whens, when{cond, ps})
	}
	if len(p.whens) == 0 {
		return nil, b.Errorf(n.Pos, "choose: at least one <when> is required")
	}
	if failed {
		return nil, errReported
	}
	return p, nil
}

func (p *choose) Exec(x *Exec) error {
	for _, w := range p.whens {
		ok, err := x.Bool(w.cond, false)
		if err != nil {
			return err
		}
		if ok {
			return Run(x, w.policies)
		}
	}
	return Run(x, p.otherwise)
}
