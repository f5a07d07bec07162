package apim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validate-parameters (inbound): the request's header, query and path
// parameters against the operation's parameters in the API's OpenAPI
// specification. A specified parameter must be present when required,
// appear once unless its schema is an array, and its value (converted
// from text to the schema's type: integer, number, boolean, arrays split
// by the parameter's style or collectionFormat) must conform to its
// schema (type, format, enum, pattern, minimum, maxLength ...). A
// parameter the specification does not name is "unspecified". Actions
// come from the innermost of <parameter name action>, the <headers>,
// <query> or <path> element, and the policy element; prevent answers 400.

func init() {
	Register(Spec{Name: "validate-parameters", Sections: []Section{Inbound}, Compile: compileValidateParameters})
}

// paramKinds are the three locations, in the order they are checked.
var paramKinds = []struct {
	in, element, label, typ string
}{
	{"path", "path", "path parameter", "PathParameter"},
	{"query", "query", "query parameter", "QueryParameter"},
	{"header", "headers", "header", "RequestHeader"},
}

type vpSection struct {
	specified, unspecified actionAttr
	perParam               map[string]actionAttr // header names lower-cased
}

type validateParameters struct {
	spec                   *OpenAPISpec
	specified, unspecified actionAttr
	errorsVar              string
	sections               map[string]*vpSection // by in
	schemas                map[*SpecParameter]*jsonschema.Schema
}

func compileValidateParameters(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "specified-parameter-action", "unspecified-parameter-action", "errors-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "headers", "query", "path"); err != nil {
		return nil, err
	}
	p := &validateParameters{spec: b.ld.opts.Spec, sections: map[string]*vpSection{}, schemas: map[*SpecParameter]*jsonschema.Schema{}}
	if p.spec == nil && !b.ld.opts.Lenient {
		return nil, b.Errorf(n.Pos, "validate-parameters needs the API's OpenAPI specification (gateway.apis[].specification, or an APIOps folder's specification file)")
	}
	var err error
	if p.specified, err = compileAction(b, n, "specified-parameter-action", true, true); err != nil {
		return nil, err
	}
	if p.unspecified, err = compileAction(b, n, "unspecified-parameter-action", true, true); err != nil {
		return nil, err
	}
	if p.errorsVar, err = acConstStr(b, n, "errors-variable-name"); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		in := map[string]string{"headers": "header", "query": "query", "path": "path"}[c.Name]
		if p.sections[in] != nil {
			return nil, b.Errorf(c.Pos, "validate-parameters: <%s> appears twice", c.Name)
		}
		attrs := []string{"specified-parameter-action", "unspecified-parameter-action"}
		if in == "path" {
			attrs = attrs[:1] // a path parameter is always in the URL template
		}
		if err := b.Attrs(c, attrs...); err != nil {
			return nil, err
		}
		if err := b.Children(c, "parameter"); err != nil {
			return nil, err
		}
		s := &vpSection{perParam: map[string]actionAttr{}}
		if s.specified, err = compileAction(b, c, "specified-parameter-action", false, true); err != nil {
			return nil, err
		}
		if in != "path" {
			if s.unspecified, err = compileAction(b, c, "unspecified-parameter-action", false, true); err != nil {
				return nil, err
			}
		}
		for _, pc := range c.Children {
			name, action, err := compileNamedAction(b, pc)
			if err != nil {
				return nil, err
			}
			if in == "header" {
				name = strings.ToLower(name)
			}
			s.perParam[name] = action
		}
		p.sections[in] = s
	}
	if p.spec != nil {
		// Every operation's parameter schemas, compiled now: the policy may
		// run for any operation of the API.
		for _, op := range p.spec.operations() {
			for _, prob := range op.Problems {
				return nil, b.Errorf(n.Pos, "validate-parameters: specification, %s: %s", op.where, prob)
			}
			for _, sp := range op.Parameters {
				if sp.schemaPtr == "" {
					continue
				}
				s, err := p.spec.schemas.compile(sp.schemaPtr, schemaMode{})
				if err != nil {
					return nil, b.Errorf(n.Pos, "validate-parameters: specification, %s, %s parameter %q: %v", op.where, sp.In, sp.Name, err)
				}
				p.schemas[sp] = s
			}
		}
	}
	return p, nil
}

// compileNamedAction reads <parameter name action/> or <header name action/>.
func compileNamedAction(b *Builder, c *rawxml.Node) (string, actionAttr, error) {
	if err := b.Attrs(c, "name", "action"); err != nil {
		return "", actionAttr{}, err
	}
	if err := b.Children(c); err != nil {
		return "", actionAttr{}, err
	}
	name, err := b.ConstAttr(c, "name")
	if err != nil {
		return "", actionAttr{}, err
	}
	if strings.TrimSpace(name.Lit) == "" {
		return "", actionAttr{}, b.Errorf(c.Pos, "%s: attribute \"name\" is required", c.Name)
	}
	action, err := compileAction(b, c, "action", true, true)
	return strings.TrimSpace(name.Lit), action, err
}

func (p *validateParameters) Exec(x *Exec) error {
	op := p.spec.operation(x)
	if op == nil {
		return nil // the operation is not in the specification
	}
	req := x.Ctx.Request
	for _, k := range paramKinds {
		sec := p.sections[k.in]
		if sec == nil {
			sec = &vpSection{}
		}
		present := map[string][]string{}
		var names []string // present names, in a stable order
		switch k.in {
		case "path":
			for n, v := range req.MatchedParameters {
				present[n] = []string{v}
				names = append(names, n)
			}
		case "query":
			if req.Url != nil {
				for n, v := range req.Url.Query {
					present[n] = v
					names = append(names, n)
				}
			}
		case "header":
			for n, v := range req.Headers {
				ln := strings.ToLower(n)
				present[ln] = append(present[ln], v...)
				names = append(names, ln)
			}
		}
		sort.Strings(names)
		specified := map[string]bool{}
		for _, sp := range op.Parameters {
			if sp.In != k.in {
				continue
			}
			key := sp.Name
			if k.in == "header" {
				key = strings.ToLower(key)
			}
			specified[key] = true
			action, err := firstAction(sec.perParam[key], sec.specified, p.specified).eval(x)
			if err != nil {
				return err
			}
			if action == "ignore" {
				continue
			}
			if is, bad := checkParameter(sp, present[key], p.schemas[sp], k.label, k.typ, "Request"); bad {
				if err := act(x, "validate-parameters", p.errorsVar, action, is); err != nil {
					return err
				}
			}
		}
		for _, name := range names {
			if specified[name] || k.in == "header" && exemptRequestHeaders[name] {
				continue
			}
			action, err := firstAction(sec.perParam[name], sec.unspecified, p.unspecified).eval(x)
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("Unspecified %s %s is not allowed.", k.label, name)
			is := validationIssue{name: name, typ: k.typ, rule: "Unspecified", details: msg, public: msg}
			if err := act(x, "validate-parameters", p.errorsVar, action, is); err != nil {
				return err
			}
		}
	}
	return nil
}

// exemptRequestHeaders are never "unspecified": HTTP's own framing
// headers, and those OpenAPI says a parameter definition cannot describe
// (Accept, Content-Type, Authorization: content negotiation, the request
// body and security schemes describe them).
var exemptRequestHeaders = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true,
	"te": true, "trailer": true, "upgrade": true, "proxy-connection": true,
	"accept": true, "content-type": true, "authorization": true,
}

// checkParameter checks a specified parameter's (or header's) values;
// bad is false when they are fine. who is "Request" or "Response".
func checkParameter(sp *SpecParameter, values []string, schema *jsonschema.Schema, label, typ, who string) (validationIssue, bool) {
	is := validationIssue{name: sp.Name, typ: typ, rule: "IncorrectMessage"}
	if len(values) == 0 {
		if !sp.Required {
			return is, false
		}
		is.details = fmt.Sprintf("%s does not contain the required %s %s.", who, label, sp.Name)
		is.public = is.details
		return is, true
	}
	if sp.typ != "array" && len(values) > 1 {
		is.details = fmt.Sprintf("%s cannot contain multiple values for the %s %s.", who, label, sp.Name)
		is.public = is.details
		return is, true
	}
	inst, err := paramInstance(sp, values)
	if err != nil {
		is.details = fmt.Sprintf("Value of the %s %s cannot be parsed according to the definition. %v.", label, sp.Name, err)
		is.public = fmt.Sprintf("Value of the %s %s couldn't be parsed according to the definition. %v.", label, sp.Name, err)
		return is, true
	}
	if schema == nil {
		return is, false
	}
	if err := schema.Validate(inst); err != nil {
		msg, _ := schemaMessage(err)
		is.details = fmt.Sprintf("Value of the %s %s does not conform to the definition. %s", label, sp.Name, msg)
		is.public = fmt.Sprintf("The value of the %s %s does not conform to the definition. %s", label, sp.Name, msg)
		return is, true
	}
	return is, false
}

// paramInstance converts a parameter's text to the JSON value its schema
// describes.
func paramInstance(sp *SpecParameter, values []string) (any, error) {
	if sp.typ != "array" {
		return paramValue(values[0], sp.typ)
	}
	var items []string
	switch {
	case sp.style == "multi" || sp.style == "form" && sp.explode:
		items = values // ?id=1&id=2
	default:
		sep := map[string]string{"ssv": " ", "spaceDelimited": " ", "tsv": "\t", "pipes": "|", "pipeDelimited": "|"}[sp.style]
		if sep == "" {
			sep = ","
		}
		for _, v := range values {
			if v == "" {
				continue
			}
			for _, it := range strings.Split(v, sep) {
				if sp.In == "header" {
					it = strings.TrimSpace(it)
				}
				items = append(items, it)
			}
		}
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		v, err := paramValue(it, sp.itemsType)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// paramValue converts one text value to typ (a JSON Schema type; "" and
// "string" keep the text).
func paramValue(s, typ string) (any, error) {
	switch typ {
	case "integer", "number":
		t := strings.TrimSpace(s)
		if i, ok := new(big.Int).SetString(t, 10); ok {
			return json.Number(i.String()), nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean", s)
	case "object":
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%q is not a JSON object", s)
		}
		return v, nil
	}
	return s, nil
}
