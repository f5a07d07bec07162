package apim

import (
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/osteele/liquid"
)

// set-body: the element text (constant or expression) becomes the body of
// the backend request (inbound, backend), of the response (outbound,
// on-error) or of the message built by return-response / send-request.
// An expression may return a string, byte[] (sent as is), or anything else
// (sent as its ToString(), so a JObject is Newtonsoft's indented JSON).
// Literal content with child elements (an XML payload) is sent as written.
// template="liquid" renders a Liquid template (see liquid.go) parsed at
// load; only named values that exist are substituted in it, because {{x}}
// is also Liquid output. set-body is accepted in every section (APIM's list omits
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
		return compileLiquidBody(b, n)
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
	if err == nil {
		x.replaceBody(data)
	}
	return err
}

// replaceBody makes data the body of the response (outbound, on-error) or
// of the request.
func (x *Exec) replaceBody(data []byte) {
	if x.onResponse() {
		x.dropStream()
		x.ensureResponse().Body = expr.NewBody(data)
		x.produced = true
		return
	}
	x.reqBodyTaken = true
	x.Ctx.Request.Body = expr.NewBody(data)
}

func (p *setBody) applyMsg(x *Exec, m *message) error {
	data, err := p.eval(x)
	if err != nil {
		return err
	}
	m.body, m.hasBody = data, true
	return nil
}

// liquidBodyPolicy is set-body template="liquid".
type liquidBodyPolicy struct{ tmpl *liquid.Template }

func compileLiquidBody(b *Builder, n *rawxml.Node) (Policy, error) {
	src, pos := n.Text, n.TextPos
	if len(n.Children) > 0 {
		src = n.Inner
	}
	if pos.Line == 0 {
		pos = n.Pos
	}
	b.liquid = true
	s, _, _, err := b.substitute(src, pos)
	b.liquid = false
	if err != nil {
		return nil, err
	}
	t, serr := liquidTemplates().ParseTemplateLocation([]byte(s), "", 1)
	if serr != nil {
		at := pos
		if l := serr.LineNumber(); l > 1 {
			at = rawxml.Pos{Line: pos.Line + l - 1, Col: 1}
		}
		msg := serr.Error()
		if c := serr.Cause(); c != nil {
			msg = c.Error()
		}
		return nil, b.Errorf(at, "liquid template: %s", msg)
	}
	return &liquidBodyPolicy{t}, nil
}

func (p *liquidBodyPolicy) render(x *Exec) ([]byte, error) {
	var data []byte
	var ct string
	if x.onResponse() {
		r := x.ensureResponse()
		d, err := x.responseBody()
		if err != nil {
			return nil, err
		}
		data, ct = d, r.Headers.Get("Content-Type")
	} else {
		d, err := x.requestBody()
		if err != nil {
			return nil, err
		}
		data, ct = d, x.requestHeaders().Get("Content-Type")
	}
	out, err := p.tmpl.Render(map[string]any{"body": liquidBody(data, ct), "context": liquidContext(x)})
	if err != nil {
		msg := err.Error()
		if c := err.Cause(); c != nil {
			msg = c.Error()
		}
		return nil, x.exprError(errors.New("liquid template: " + strings.TrimSpace(msg)))
	}
	return out, nil
}

func (p *liquidBodyPolicy) Exec(x *Exec) error {
	data, err := p.render(x)
	if err == nil {
		x.replaceBody(data) // render has read (and so dropped) a response stream
	}
	return err
}

func (p *liquidBodyPolicy) applyMsg(x *Exec, m *message) error {
	data, err := p.render(x)
	if err != nil {
		return err
	}
	m.body, m.hasBody = data, true
	return nil
}
