package apim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-status: <set-status code reason/>; in outbound and on-error it changes
// the response status, inside return-response the response being built.

func init() {
	Register(Spec{Name: "set-status", Compile: compileSetStatus})
}

type setStatus struct{ code, reason Value }

func compileSetStatus(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "code", "reason"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &setStatus{}
	var err error
	if p.code, err = b.Attr(n, "code"); err != nil {
		return nil, err
	}
	if !p.code.Set {
		return nil, b.Errorf(n.Pos, "set-status: attribute \"code\" is required")
	}
	if err := checkStatus(b, p.code, "code"); err != nil {
		return nil, err
	}
	if p.reason, err = b.Attr(n, "reason"); err != nil {
		return nil, err
	}
	return p, nil
}

// checkStatus rejects a literal that is not an HTTP status code.
func checkStatus(b *Builder, v Value, attr string) error {
	if !v.Set || v.IsExpr() || strings.Contains(v.Lit, "{{") {
		return nil
	}
	c, err := strconv.Atoi(strings.TrimSpace(v.Lit))
	if err != nil || c < 100 || c > 599 {
		return b.Errorf(v.Pos, "%s must be an HTTP status code (100-599), not %q", attr, v.Lit)
	}
	return nil
}

func (p *setStatus) eval(x *Exec) (int, string, error) {
	c, err := x.Int(p.code, 200)
	if err != nil {
		return 0, "", err
	}
	if c < 100 || c > 599 {
		return 0, "", x.exprError(errString("status code " + strconv.FormatInt(c, 10) + " is out of range"))
	}
	reason, err := x.String(p.reason)
	if err != nil {
		return 0, "", err
	}
	if reason == "" {
		reason = http.StatusText(int(c))
	}
	return int(c), reason, nil
}

func (p *setStatus) Exec(x *Exec) error {
	c, reason, err := p.eval(x)
	if err != nil {
		return err
	}
	r := x.ensureResponse()
	r.StatusCode, r.StatusReason = c, reason
	return nil
}

func (p *setStatus) applyMsg(x *Exec, m *message) error {
	c, reason, err := p.eval(x)
	if err != nil {
		return err
	}
	m.status, m.reason = c, reason
	return nil
}

// errString is a plain error value.
type errString string

func (e errString) Error() string { return string(e) }
