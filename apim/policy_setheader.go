package apim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-header: <set-header name exists-action="override|skip|append|delete">
// with <value> children. In inbound and backend it changes the backend
// request, in outbound and on-error the response; inside return-response and
// send-request the message being built.

func init() {
	Register(Spec{Name: "set-header", Compile: compileSetHeader})
}

type setHeader struct {
	name, action Value
	values       []Value
}

var existsActions = []string{"override", "skip", "append", "delete"}

// actionValues evaluates exists-action and the values (one empty value when
// there are none).
func (p *setHeader) actionValues(x *Exec) (string, []string, error) {
	action, err := x.enum(p.action, "override")
	if err != nil {
		return "", nil, err
	}
	var vals []string
	for _, v := range p.values {
		s, err := x.String(v)
		if err != nil {
			return "", nil, err
		}
		vals = append(vals, s)
	}
	if len(vals) == 0 {
		vals = []string{""}
	}
	return action, vals, nil
}

// protectedHeaders cannot be changed by set-header (APIM ignores them; a
// literal name is rejected at load so the mistake is visible).
var protectedHeaders = map[string]bool{"Connection": true, "Content-Length": true, "Keep-Alive": true, "Transfer-Encoding": true}

func compileSetHeader(b *Builder, n *rawxml.Node) (Policy, error) {
	return compileSetNamed(b, n, func(name Value) error {
		if !name.IsExpr() && protectedHeaders[http.CanonicalHeaderKey(strings.TrimSpace(name.Lit))] {
			return b.Errorf(name.Pos, "%s: header %s cannot be changed", n.Name, name.Lit)
		}
		return nil
	})
}

// compileSetNamed compiles the name, exists-action and <value> children
// shared by set-header and set-query-parameter; checkName, when not nil,
// vets the name before the rest is compiled.
func compileSetNamed(b *Builder, n *rawxml.Node, checkName func(Value) error) (*setHeader, error) {
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
		return nil, b.Errorf(n.Pos, "%s: attribute \"name\" is required", n.Name)
	}
	if checkName != nil {
		if err := checkName(p.name); err != nil {
			return nil, err
		}
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
	return p, nil
}

// valueChildren compiles the <value> children of n.
func valueChildren(b *Builder, n *rawxml.Node) ([]Value, error) {
	var vs []Value
	for _, c := range n.Children {
		v, err := b.leafText(c)
		if err != nil {
			return nil, err
		}
		if !v.IsExpr() {
			// Indented <value> text would otherwise carry newlines, which
			// are not valid in a header or query value.
			v.Lit = strings.TrimSpace(v.Lit)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// checkEnum rejects a literal v not in allowed (case-insensitive).
func checkEnum(b *Builder, v Value, attr string, allowed ...string) error {
	if !v.Set || v.IsExpr() {
		return nil
	}
	if !slices.Contains(allowed, strings.ToLower(strings.TrimSpace(v.Lit))) {
		return b.Errorf(v.Pos, "%s must be one of %s, not %q", attr, strings.Join(allowed, ", "), v.Lit)
	}
	return nil
}

// enum evaluates v lower-cased with def when unset.
func (x *Exec) enum(v Value, def string) (string, error) {
	if !v.Set {
		return def, nil
	}
	s, err := x.String(v)
	return strings.ToLower(strings.TrimSpace(s)), err
}

func (p *setHeader) Exec(x *Exec) error {
	if x.onResponse() {
		return p.apply(x, x.ensureResponse().Headers)
	}
	return p.apply(x, x.requestHeaders())
}

func (p *setHeader) applyMsg(x *Exec, m *message) error { return p.apply(x, m.headers) }

func (p *setHeader) apply(x *Exec, h http.Header) error {
	name, err := x.String(p.name)
	if err != nil {
		return err
	}
	name = http.CanonicalHeaderKey(strings.TrimSpace(name))
	if name == "" || protectedHeaders[name] {
		return nil
	}
	action, vals, err := p.actionValues(x)
	if err != nil {
		return err
	}
	switch action {
	case "delete":
		h.Del(name)
	case "skip":
		if len(h.Values(name)) == 0 {
			h[name] = vals
		}
	case "append":
		h[name] = append(h[name], vals...)
	case "override":
		h[name] = vals
	default:
		return &PolicyError{Source: "set-header", Reason: "ExpressionValueEvaluationFailure", Message: "exists-action " + action + " is not valid", Status: 500, ClientMessage: "Internal server error"}
	}
	return nil
}
