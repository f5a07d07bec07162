package apim

import (
	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-body: the element text (constant or expression) becomes the body of
// the backend request (inbound, backend), of the response (outbound,
// on-error) or of the message built by return-response / send-request.
// An expression may return a string, byte[] (sent as is), or anything else
// (sent as its ToString(), so a JObject is Newtonsoft's indented JSON).
// Literal content with child elements (an XML payload) is sent as written.
// template="liquid" is a load error for now: the Liquid engine is not
// implemented. set-body is accepted in every section (APIM's list omits
// on-error, but on-error handlers commonly build an error body).

func init() {
	Register(Spec{Name: "set-body", Compile: compileSetBody})
}

type setBody struct{ body Value }

func compileSetBody(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "template", "xsi-nil", "parse-date"); err != nil {
		return nil, err
	}
	tmpl, err := b.ConstAttr(n, "template")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, tmpl, "template", "none", "liquid"); err != nil {
		return nil, err
	}
	if xn, err := b.ConstAttr(n, "xsi-nil"); err != nil {
		return nil, err
	} else if err := checkEnum(b, xn, "xsi-nil", "blank", "null"); err != nil {
		return nil, err
	}
	if tmpl.Lit == "liquid" {
		return nil, b.Errorf(tmpl.Pos, "set-body template=\"liquid\" is not supported yet; build the body with an expression")
	}
	var v Value
	if len(n.Children) > 0 {
		v, err = b.value(n.Inner, n.TextPos)
	} else {
		v, err = b.Text(n)
	}
	if err != nil {
		return nil, err
	}
	return &setBody{v}, nil
}

func (p *setBody) eval(x *Exec) ([]byte, error) {
	if !p.body.IsExpr() {
		return []byte(p.body.Lit), nil
	}
	v, err := x.Eval(p.body)
	if err != nil {
		return nil, err
	}
	return bodyValue(v), nil
}

func (p *setBody) Exec(x *Exec) error {
	data, err := p.eval(x)
	if err != nil {
		return err
	}
	if x.onResponse() {
		x.dropStream()
		x.ensureResponse().Body = expr.NewBody(data)
		x.produced = true
		return nil
	}
	x.reqBodyTaken = true
	x.Ctx.Request.Body = expr.NewBody(data)
	return nil
}

func (p *setBody) applyMsg(x *Exec, m *message) error {
	data, err := p.eval(x)
	if err != nil {
		return err
	}
	m.body, m.hasBody = data, true
	return nil
}
