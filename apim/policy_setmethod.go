package apim

import (
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-method: the element text is the HTTP method of the backend request
// (inbound, on-error) or of the send-request message. set-url (send-request
// children only) is compiled here too.

func init() {
	Register(Spec{Name: "set-method", Sections: []Section{Inbound, OnError}, Compile: compileSetMethod})
}

type setMethod struct{ method Value }

func compileSetMethod(b *Builder, n *rawxml.Node) (Policy, error) {
	v, err := b.leafText(n)
	if err != nil {
		return nil, err
	}
	if !v.IsExpr() && strings.TrimSpace(v.Lit) == "" {
		return nil, b.Errorf(n.Pos, "set-method: the method is empty")
	}
	return &setMethod{v}, nil
}

func (p *setMethod) eval(x *Exec) (string, error) {
	s, err := x.String(p.method)
	return strings.ToUpper(strings.TrimSpace(s)), err
}

func (p *setMethod) Exec(x *Exec) error {
	m, err := p.eval(x)
	if err == nil {
		x.Ctx.Request.Method = m
	}
	return err
}

func (p *setMethod) applyMsg(x *Exec, m *message) error {
	s, err := p.eval(x)
	if err == nil {
		m.method = s
	}
	return err
}

type setURL struct{ url Value }

func compileSetURL(b *Builder, n *rawxml.Node) (Policy, error) {
	v, err := b.leafText(n)
	if err != nil {
		return nil, err
	}
	// A literal must at least be an http(s) URL; the full parse waits for
	// run time because samples carry placeholders like https://{account}.
	lit := strings.ToLower(strings.TrimSpace(v.Lit))
	if !v.IsExpr() && !strings.HasPrefix(lit, "http://") && !strings.HasPrefix(lit, "https://") && !strings.HasPrefix(lit, "{{") {
		return nil, b.Errorf(v.Pos, "set-url: %q is not an absolute http(s) URL", v.Lit)
	}
	return &setURL{v}, nil
}

// Exec is never called: set-url only appears inside send-request.
func (p *setURL) Exec(*Exec) error { return nil }

func (p *setURL) applyMsg(x *Exec, m *message) error {
	s, err := x.String(p.url)
	if err != nil {
		return err
	}
	u, err := parseURL(s)
	if err != nil {
		return x.exprError(err)
	}
	m.url = u
	return nil
}
