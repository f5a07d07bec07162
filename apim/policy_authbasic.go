package apim

import (
	"encoding/base64"
	"net/http"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// authentication-basic: sets the backend request's Authorization to
// Basic base64(username:password); inside send-request, that message's.

func init() {
	Register(Spec{Name: "authentication-basic", Sections: []Section{Inbound}, Compile: compileAuthBasic})
}

type authBasic struct{ user, pass Value }

func compileAuthBasic(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "username", "password"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &authBasic{}
	var err error
	if p.user, err = b.Attr(n, "username"); err != nil {
		return nil, err
	}
	if p.pass, err = b.Attr(n, "password"); err != nil {
		return nil, err
	}
	if !p.user.Set || !p.pass.Set {
		return nil, b.Errorf(n.Pos, "authentication-basic: attributes \"username\" and \"password\" are required")
	}
	return p, nil
}

func (p *authBasic) header(x *Exec) (string, error) {
	u, err := x.String(p.user)
	if err != nil {
		return "", err
	}
	pw, err := x.String(p.pass)
	if err != nil {
		return "", err
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+pw)), nil
}

func (p *authBasic) Exec(x *Exec) error { return p.apply(x, x.requestHeaders()) }

func (p *authBasic) applyMsg(x *Exec, m *message) error { return p.apply(x, m.headers) }

func (p *authBasic) apply(x *Exec, h http.Header) error {
	v, err := p.header(x)
	if err == nil {
		h.Set("Authorization", v)
	}
	return err
}
