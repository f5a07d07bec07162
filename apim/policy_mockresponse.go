package apim

import (
	"net/http"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// mock-response: answers with status-code (default 200) and content-type.
// APIM fills the body from the API definition's examples or schema;
// Gatehouse has no API schema, so the body is empty (with the content type
// when one is given).

func init() {
	Register(Spec{Name: "mock-response", Sections: []Section{Inbound, Outbound, OnError}, Compile: compileMockResponse})
}

type mockResponse struct {
	status      int
	contentType string
}

func compileMockResponse(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "status-code", "content-type"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	code, err := b.ConstAttr(n, "status-code")
	if err != nil {
		return nil, err
	}
	if err := checkStatus(b, code, "status-code"); err != nil {
		return nil, err
	}
	ct, err := b.ConstAttr(n, "content-type")
	if err != nil {
		return nil, err
	}
	p := &mockResponse{status: 200, contentType: ct.Lit}
	if code.Set {
		p.status = atoiDefault(code.Lit, 200)
	}
	return p, nil
}

func (p *mockResponse) Exec(x *Exec) error {
	h := http.Header{}
	if p.contentType != "" {
		h.Set("Content-Type", p.contentType)
	}
	x.dropStream()
	x.Ctx.Response = &expr.Response{StatusCode: p.status, StatusReason: http.StatusText(p.status), Headers: h}
	x.produced = true
	return ErrReturn
}
