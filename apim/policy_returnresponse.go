package apim

import (
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// return-response: answers the caller now, skipping the rest of the
// pipeline (outbound included). The response starts as a copy of the
// response-variable-name variable (a send-request result) or as 200 OK with
// no body, then set-status / set-header / set-body children apply in order.

func init() {
	Register(Spec{Name: "return-response", Compile: compileReturnResponse})
}

type returnResponse struct {
	variable string
	children []msgPolicy
}

func compileReturnResponse(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "response-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "set-status", "set-header", "set-body"); err != nil {
		return nil, err
	}
	v, err := b.ConstAttr(n, "response-variable-name")
	if err != nil {
		return nil, err
	}
	p := &returnResponse{variable: v.Lit}
	if p.children, err = compileMsgChildren(b, n); err != nil {
		return nil, err
	}
	return p, nil
}

// msgCompilers are the child elements that build a message.
var msgCompilers = map[string]CompileFunc{
	"set-status":                 compileSetStatus,
	"set-header":                 compileSetHeader,
	"set-body":                   compileSetBody,
	"set-url":                    compileSetURL,
	"set-method":                 compileSetMethod,
	"authentication-basic":       compileAuthBasic,
	"authentication-certificate": compileAuthCertificate,
}

// compileMsgChildren compiles n's children (already checked by b.Children)
// as message builders. Children that are registered only as Azure-only or
// unsupported (authentication-managed-identity) get that error.
func compileMsgChildren(b *Builder, n *rawxml.Node) ([]msgPolicy, error) {
	var out []msgPolicy
	for _, c := range n.Children {
		f, ok := msgCompilers[c.Name]
		if !ok {
			_, err := b.compile(c, false)
			if err == nil {
				err = b.Errorf(c.Pos, "<%s> is not allowed inside <%s>", c.Name, n.Name)
			}
			return nil, err
		}
		p, err := f(b, c)
		if err != nil {
			return nil, err
		}
		out = append(out, p.(msgPolicy))
	}
	return out, nil
}

func (p *returnResponse) Exec(x *Exec) error {
	var r *expr.Response
	if p.variable != "" {
		v, ok := x.Ctx.Variables[p.variable]
		resp, isResp := v.(*expr.Response)
		switch {
		case !ok:
			return x.exprError(fmt.Errorf("variable '%s' is not set", p.variable))
		case isResp && resp != nil:
			r = cloneResponse(resp)
		case v == nil:
			// ignore-error send-request left null: answer as if empty.
		default:
			return x.exprError(fmt.Errorf("variable '%s' is not a response (%T)", p.variable, v))
		}
	}
	if r == nil {
		r = &expr.Response{StatusCode: 200, StatusReason: "OK", Headers: http.Header{}}
	}
	m := &message{headers: r.Headers, status: r.StatusCode, reason: r.StatusReason}
	if r.Body != nil {
		m.body, m.hasBody = r.Body.Bytes(), true
	}
	for _, c := range p.children {
		if err := c.applyMsg(x, m); err != nil {
			return err
		}
	}
	r.StatusCode, r.StatusReason, r.Headers = m.status, m.reason, m.headers
	if m.hasBody {
		r.Body = expr.NewBody(m.body)
	} else {
		r.Body = nil
	}
	x.dropStream()
	x.Ctx.Response = r
	x.produced = true
	return ErrReturn
}
