package apim

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// validate-status-code (outbound, on-error): the response's status must be
// one the operation documents in the API's OpenAPI specification (exactly,
// by class such as 4XX, or by default); <status-code code="N" action="…"/>
// overrides the action for one status. prevent answers 502 instead of the
// response; detect records the problem in errors-variable-name and lets
// the response through; ignore does nothing.

func init() {
	Register(Spec{Name: "validate-status-code", Sections: []Section{Outbound, OnError}, Compile: compileValidateStatusCode})
}

type validateStatusCode struct {
	spec        *OpenAPISpec
	unspecified string
	perCode     map[int]string
	errorsVar   string
}

var validationActions = []string{"ignore", "prevent", "detect"}

func compileValidateStatusCode(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "unspecified-status-code-action", "errors-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "status-code"); err != nil {
		return nil, err
	}
	p := &validateStatusCode{spec: b.ld.opts.Spec, perCode: map[int]string{}}
	if p.spec == nil && !b.ld.opts.Lenient {
		return nil, b.Errorf(n.Pos, "validate-status-code needs the API's OpenAPI specification (gateway.apis[].specification, or an APIOps folder's specification file)")
	}
	var err error
	if p.unspecified, err = constEnum(b, n, "unspecified-status-code-action", true, "", validationActions...); err != nil {
		return nil, err
	}
	if p.errorsVar, err = acConstStr(b, n, "errors-variable-name"); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		if err := b.Attrs(c, "code", "action"); err != nil {
			return nil, err
		}
		code, err := b.ConstAttr(c, "code")
		if err != nil {
			return nil, err
		}
		n, cerr := strconv.Atoi(code.Lit)
		if cerr != nil || n < 100 || n > 599 {
			return nil, b.Errorf(c.Pos, "validate-status-code: status-code code must be an HTTP status, not %q", code.Lit)
		}
		if p.perCode[n], err = constEnum(b, c, "action", true, "", validationActions...); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *validateStatusCode) Exec(x *Exec) error {
	op := p.spec.operation(x)
	if op == nil {
		return nil // the operation is not in the specification
	}
	status := x.ensureResponse().StatusCode
	action, explicit := p.perCode[status]
	if !explicit {
		if op.documents(status) {
			return nil
		}
		action = p.unspecified
	}
	msg := fmt.Sprintf("Status code %d is not documented for the operation %s.", status, x.Ctx.Operation.Name)
	switch action {
	case "detect":
		if p.errorsVar != "" {
			list, _ := x.Ctx.Variables[p.errorsVar].([]any)
			e := expr.NewJObject()
			for _, kv := range [][2]string{{"Name", strconv.Itoa(status)}, {"Type", "StatusCode"}, {"ValidationRule", "UndefinedStatusCode"},
				{"Details", msg}, {"Action", "detect"}} {
				e.Set(kv[0], &expr.JValue{Value: kv[1]})
			}
			x.Ctx.Variables[p.errorsVar] = append(list, e)
		}
		x.logger().Warn("apim: validate-status-code (detect)", "detail", msg)
	case "prevent":
		return &PolicyError{Source: "validate-status-code", Reason: "UndefinedStatusCode", Message: msg,
			Status: http.StatusBadGateway, ClientMessage: "Bad Gateway"}
	}
	return nil
}
