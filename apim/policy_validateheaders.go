package apim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validate-headers (outbound, on-error): the response's headers against
// the headers the operation documents for the response's status (exactly,
// by class such as 4XX, or default) in the API's OpenAPI specification.
// A documented header must be present when required, appear once unless
// its schema is an array, and conform to its schema; a header the
// response documents not is "unspecified". <header name action/>
// overrides the action for one header. prevent answers 502. A status the
// operation does not document is validate-status-code's business: no
// header is checked then.

func init() {
	Register(Spec{Name: "validate-headers", Sections: []Section{Outbound, OnError}, Compile: compileValidateHeaders})
}

type validateHeaders struct {
	spec                   *OpenAPISpec
	specified, unspecified actionAttr
	errorsVar              string
	perHeader              map[string]actionAttr // lower-case names
	schemas                map[*SpecParameter]*jsonschema.Schema
}

func compileValidateHeaders(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "specified-header-action", "unspecified-header-action", "errors-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "header"); err != nil {
		return nil, err
	}
	p := &validateHeaders{spec: b.ld.opts.Spec, perHeader: map[string]actionAttr{}, schemas: map[*SpecParameter]*jsonschema.Schema{}}
	if p.spec == nil && !b.ld.opts.Lenient {
		return nil, b.Errorf(n.Pos, "validate-headers needs the API's OpenAPI specification (gateway.apis[].specification, or an APIOps folder's specification file)")
	}
	var err error
	if p.specified, err = compileAction(b, n, "specified-header-action", true, true); err != nil {
		return nil, err
	}
	if p.unspecified, err = compileAction(b, n, "unspecified-header-action", true, true); err != nil {
		return nil, err
	}
	if p.errorsVar, err = acConstStr(b, n, "errors-variable-name"); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		name, action, err := compileNamedAction(b, c)
		if err != nil {
			return nil, err
		}
		p.perHeader[strings.ToLower(name)] = action
	}
	if p.spec != nil {
		for _, op := range p.spec.operations() {
			for _, prob := range op.Problems {
				return nil, b.Errorf(n.Pos, "validate-headers: specification, %s: %s", op.where, prob)
			}
			for code, r := range op.ResponseDefs {
				for _, h := range r.Headers {
					if h.schemaPtr == "" {
						continue
					}
					s, err := p.spec.schemas.compile(h.schemaPtr, schemaMode{response: true})
					if err != nil {
						return nil, b.Errorf(n.Pos, "validate-headers: specification, %s, response %s header %q: %v", op.where, code, h.Name, err)
					}
					p.schemas[h] = s
				}
			}
		}
	}
	return p, nil
}

// exemptResponseHeaders are never "unspecified": HTTP's framing headers,
// Date (every server sends it), and Content-Type, which OpenAPI says a
// header definition cannot describe.
var exemptResponseHeaders = map[string]bool{
	"content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true, "trailer": true,
	"upgrade": true, "date": true, "content-type": true,
}

func (p *validateHeaders) Exec(x *Exec) error {
	op := p.spec.operation(x)
	if op == nil {
		return nil
	}
	resp := x.ensureResponse()
	def := op.response(resp.StatusCode)
	if def == nil {
		return nil
	}
	present := map[string][]string{}
	for n, v := range resp.Headers {
		ln := strings.ToLower(n)
		present[ln] = append(present[ln], v...)
	}
	documented := make([]string, 0, len(def.Headers))
	for k := range def.Headers {
		documented = append(documented, k)
	}
	sort.Strings(documented)
	for _, key := range documented {
		h := def.Headers[key]
		action, err := firstAction(p.perHeader[key], p.specified).eval(x)
		if err != nil {
			return err
		}
		if action == "ignore" {
			continue
		}
		if is, bad := checkParameter(h, present[key], p.schemas[h], "header", "ResponseHeader", "Response"); bad {
			if err := act(x, "validate-headers", p.errorsVar, action, is); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(present))
	for k := range present {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if def.Headers[name] != nil || exemptResponseHeaders[name] {
			continue
		}
		action, err := firstAction(p.perHeader[name], p.unspecified).eval(x)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("Unspecified header %s is not allowed.", name)
		if err := act(x, "validate-headers", p.errorsVar, action,
			validationIssue{name: name, typ: "ResponseHeader", rule: "Unspecified", details: msg}); err != nil {
			return err
		}
	}
	return nil
}
