package apim

import (
	"bytes"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// find-and-replace from to: replaces every occurrence in the backend request
// body (inbound, backend) or the response body (outbound, on-error). A
// streamed backend body is read into memory first.

func init() {
	Register(Spec{Name: "find-and-replace", Compile: compileFindAndReplace})
}

type findAndReplace struct{ from, to Value }

func compileFindAndReplace(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "from", "to"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &findAndReplace{}
	var err error
	if p.from, err = b.Attr(n, "from"); err != nil {
		return nil, err
	}
	if p.to, err = b.Attr(n, "to"); err != nil {
		return nil, err
	}
	if !p.from.Set || !p.to.Set {
		return nil, b.Errorf(n.Pos, "find-and-replace: attributes \"from\" and \"to\" are required")
	}
	if !p.from.IsExpr() && p.from.Lit == "" {
		return nil, b.Errorf(p.from.Pos, "find-and-replace: \"from\" must not be empty")
	}
	return p, nil
}

func (p *findAndReplace) Exec(x *Exec) error {
	from, err := x.String(p.from)
	if err != nil {
		return err
	}
	to, err := x.String(p.to)
	if err != nil {
		return err
	}
	if from == "" {
		return nil
	}
	if x.onResponse() {
		data, err := x.responseBody()
		if err != nil {
			return err
		}
		if data != nil {
			x.Ctx.Response.Body = expr.NewBody(bytes.ReplaceAll(data, []byte(from), []byte(to)))
		}
		return nil
	}
	data, err := x.requestBody()
	if err != nil {
		return err
	}
	if data != nil {
		x.Ctx.Request.Body = expr.NewBody(bytes.ReplaceAll(data, []byte(from), []byte(to)))
	}
	return nil
}
