package apim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// check-header: <check-header name failed-check-httpcode
// failed-check-error-message ignore-case> with optional <value> children.
// Any value matching passes; no values is a presence check.

func init() {
	Register(Spec{
		Name:     "check-header",
		Sections: []Section{Inbound},
		Compile:  compileCheckHeader,
	})
}

type checkHeaderPolicy struct {
	name       Value
	status     Value
	message    Value
	ignoreCase Value
	values     []Value // constants and expressions, in order
}

func compileCheckHeader(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "value"); err != nil {
		return nil, err
	}
	p := &checkHeaderPolicy{}
	var err error
	for _, a := range []struct {
		name string
		v    *Value
	}{
		{"name", &p.name},
		{"failed-check-httpcode", &p.status},
		{"failed-check-error-message", &p.message},
		{"ignore-case", &p.ignoreCase},
	} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return nil, err
		}
		if !a.v.Set {
			return nil, b.Errorf(n.Pos, "check-header: attribute %q is required", a.name)
		}
	}
	if !p.name.IsExpr() && strings.TrimSpace(p.name.Lit) == "" {
		return nil, b.Errorf(p.name.Pos, "check-header: name must not be empty")
	}
	if err := acCheckStatus(b, p.status, "check-header", "failed-check-httpcode"); err != nil {
		return nil, err
	}
	if err := acCheckBool(b, p.ignoreCase, "check-header", "ignore-case"); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		v, err := b.leafText(c)
		if err != nil {
			return nil, err
		}
		v.Set = true
		p.values = append(p.values, v)
	}
	return p, nil
}

func (p *checkHeaderPolicy) Exec(x *Exec) error {
	name, err := acStr(x, p.name)
	if err != nil {
		return err
	}
	var got []string
	if x.Ctx != nil && x.Ctx.Request != nil {
		got = x.Ctx.Request.Headers.Values(name)
	} else if x.HTTPRequest != nil {
		got = x.HTTPRequest.Header.Values(name)
	}
	if len(got) == 0 {
		return p.fail(x, "HeaderNotFound", "Header "+name+" was not found in the request. Access denied.")
	}
	if len(p.values) == 0 {
		return nil
	}
	fold, err := acBool(x, p.ignoreCase, false)
	if err != nil {
		return err
	}
	joined := strings.Join(got, ",")
	for _, v := range p.values {
		want, err := acStr(x, v)
		if err != nil {
			return err
		}
		if acEqual(joined, want, fold) {
			return nil
		}
		if len(got) > 1 {
			for _, g := range got {
				if acEqual(g, want, fold) {
					return nil
				}
			}
		}
	}
	return p.fail(x, "HeaderValueNotAllowed", "Header "+name+" value of "+joined+" is not allowed. Access denied.")
}

func (p *checkHeaderPolicy) fail(x *Exec, reason, msg string) error {
	status, err := acInt(x, p.status, http.StatusForbidden)
	if err != nil {
		return err
	}
	custom, err := acStr(x, p.message)
	if err != nil {
		return err
	}
	if custom != "" {
		msg = custom
	}
	return &PolicyError{Source: "check-header", Reason: reason, Message: msg, Status: int(status)}
}

func acEqual(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// ---- helpers shared by the access-control policies (check-header, cors,
// ip-filter, validate-jwt, rate-limit*, quota*). Constants are converted here
// without going through the expression engine.

// acExprError is APIM's ExpressionValueEvaluationFailure for a value that
// evaluated to something the policy cannot use. (Rejections are reported to
// Env.Rejected by the pipeline's on-error handling, not here.)
func acExprError(source, msg string) *PolicyError {
	return &PolicyError{Source: source, Reason: "ExpressionValueEvaluationFailure", Message: msg,
		Status: http.StatusInternalServerError, ClientMessage: "Internal server error"}
}

// acStr returns the string value of v ("" when not set).
func acStr(x *Exec, v Value) (string, error) {
	if !v.IsExpr() {
		return v.Lit, nil
	}
	return x.String(v)
}

// acBool returns the boolean value of v (def when not set).
func acBool(x *Exec, v Value, def bool) (bool, error) {
	if !v.IsExpr() {
		if !v.Set {
			return def, nil
		}
		b, ok := acParseBool(v.Lit)
		if !ok {
			return false, acExprError("", fmt.Sprintf("%q is not a boolean", v.Lit))
		}
		return b, nil
	}
	return x.Bool(v, def)
}

// acInt returns the integer value of v (def when not set).
func acInt(x *Exec, v Value, def int64) (int64, error) {
	if !v.IsExpr() {
		if !v.Set {
			return def, nil
		}
		i, err := strconv.ParseInt(strings.TrimSpace(v.Lit), 10, 64)
		if err != nil {
			return 0, acExprError("", fmt.Sprintf("%q is not an integer", v.Lit))
		}
		return i, nil
	}
	return x.Int(v, def)
}

func acParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// acCheckBool validates a constant boolean attribute at load.
func acCheckBool(b *Builder, v Value, policy, attr string) error {
	if !v.Set || v.IsExpr() {
		return nil
	}
	if _, ok := acParseBool(v.Lit); !ok {
		return b.Errorf(v.Pos, "%s: %s must be true or false, not %q", policy, attr, v.Lit)
	}
	return nil
}

// acCheckStatus validates a constant HTTP status attribute at load.
func acCheckStatus(b *Builder, v Value, policy, attr string) error {
	if !v.Set || v.IsExpr() {
		return nil
	}
	i, err := strconv.Atoi(strings.TrimSpace(v.Lit))
	if err != nil || i < 100 || i > 599 {
		return b.Errorf(v.Pos, "%s: %s must be an HTTP status code (100-599), not %q", policy, attr, v.Lit)
	}
	return nil
}

// acConstInt reads a constant integer attribute within [min, max]; def when
// absent (required=false).
func acConstInt(b *Builder, n *rawxml.Node, policy, attr string, required bool, def, min, max int64) (int64, error) {
	v, err := b.ConstAttr(n, attr)
	if err != nil {
		return 0, err
	}
	if !v.Set {
		if required {
			return 0, b.Errorf(n.Pos, "%s: attribute %q is required", policy, attr)
		}
		return def, nil
	}
	i, err := strconv.ParseInt(strings.TrimSpace(v.Lit), 10, 64)
	if err != nil || i < min || i > max {
		return 0, b.Errorf(v.Pos, "%s: %s must be an integer between %d and %d, not %q", policy, attr, min, max, v.Lit)
	}
	return i, nil
}

// acConstStr reads a constant string attribute ("" when absent).
func acConstStr(b *Builder, n *rawxml.Node, attr string) (string, error) {
	v, err := b.ConstAttr(n, attr)
	if err != nil {
		return "", err
	}
	return v.Lit, nil
}

// acUnresolved reports whether a constant still holds a {{named value}}
// placeholder: only possible with LoadOptions.Lenient (policy check of a
// document meant for another environment), where load-time validation of the
// value is skipped.
func acUnresolved(s string) bool {
	i := strings.Index(s, "{{")
	return i >= 0 && strings.Contains(s[i:], "}}")
}

// acSetResponseHeader sets a header on the response the caller will receive.
func acSetResponseHeader(x *Exec, name, value string) {
	r := x.Ctx.Response
	if r == nil {
		return
	}
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	r.Headers.Set(name, value)
}

// acEmptyResponse makes x answer with an empty 200 (cors).
func acEmptyResponse(x *Exec, h http.Header) {
	if h == nil {
		h = http.Header{}
	}
	x.Ctx.Response = &expr.Response{StatusCode: http.StatusOK, StatusReason: "OK", Headers: h, Body: expr.NewBody(nil)}
}
