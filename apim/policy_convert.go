package apim

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// json-to-xml and xml-to-json convert the body of the request (inbound) or
// of the response (outbound, on-error) with Newtonsoft's conventions (see
// convert.go) and set Content-Type to application/xml or application/json.
//
//   - apply (required): "always", or "content-type-json" / "content-type-xml"
//     (convert only when the message's Content-Type says JSON / XML).
//   - consider-accept-header (default true): do not convert when the
//     caller's Accept header is present and accepts neither the target
//     type nor */* .
//   - json-to-xml: parse-date (default true) rewrites ISO 8601 strings as
//     .NET round-trip dates; namespace-separator maps that character in
//     property names to ':' (prefix:name); attribute-block-name names a
//     property whose object members become attributes of the parent.
//     The result's root element is <Document>.
//   - xml-to-json: kind (required) "direct" (Newtonsoft output including
//     the "?xml" declaration and xmlns attributes) or "javascript-friendly"
//     (the same without the declaration and xmlns attributes).
//
// A body that does not parse is a 400 (inbound) / 500 (response) error
// with Reason RequestBodyConversionFailure / ResponseBodyConversionFailure
// (Gatehouse names). No attribute takes expressions.

func init() {
	secs := []Section{Inbound, Outbound, OnError}
	Register(Spec{Name: "json-to-xml", Sections: secs, Compile: compileJSONToXML})
	Register(Spec{Name: "xml-to-json", Sections: secs, Compile: compileXMLToJSON})
	Register(Spec{Name: "jsonp", Sections: []Section{Outbound}, Compile: compileJSONP})
	Register(Spec{Name: "cross-domain", Sections: []Section{Inbound}, Scopes: []Scope{ScopeGlobal}, Compile: compileCrossDomain})
}

type convertPolicy struct {
	toXML        bool
	onlyIfType   bool // apply="content-type-..."
	considerAcc  bool
	declarations bool
	alwaysArray  bool // xml-to-json always-array-child-elements
	opts         jsonToXMLOptions
}

func constEnum(b *Builder, n *rawxml.Node, name string, required bool, def string, allowed ...string) (string, error) {
	v, err := b.ConstAttr(n, name)
	if err != nil {
		return "", err
	}
	if !v.Set {
		if required {
			return "", b.Errorf(n.Pos, "%s: attribute %q is required", n.Name, name)
		}
		return def, nil
	}
	if err := checkEnum(b, v, name, allowed...); err != nil {
		return "", err
	}
	return strings.ToLower(strings.TrimSpace(v.Lit)), nil
}

func compileJSONToXML(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "apply", "consider-accept-header", "parse-date", "namespace-separator", "namespace-prefix", "attribute-block-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &convertPolicy{toXML: true}
	apply, err := constEnum(b, n, "apply", true, "", "always", "content-type-json")
	if err != nil {
		return nil, err
	}
	p.onlyIfType = apply == "content-type-json"
	if p.considerAcc, _, err = constBool(b, n, "consider-accept-header", true); err != nil {
		return nil, err
	}
	if p.opts.parseDate, _, err = constBool(b, n, "parse-date", true); err != nil {
		return nil, err
	}
	sep, err := b.ConstAttr(n, "namespace-separator")
	if err != nil {
		return nil, err
	}
	if sep.Set && len([]rune(sep.Lit)) != 1 {
		return nil, b.Errorf(sep.Pos, "namespace-separator must be a single character, not %q", sep.Lit)
	}
	p.opts.nsSeparator = sep.Lit
	ab, err := b.ConstAttr(n, "attribute-block-name")
	if err != nil {
		return nil, err
	}
	p.opts.attributeBlock = ab.Lit
	np, err := b.ConstAttr(n, "namespace-prefix")
	if err != nil {
		return nil, err
	}
	p.opts.nsPrefix = strings.TrimSpace(np.Lit)
	return p, nil
}

func compileXMLToJSON(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "kind", "apply", "consider-accept-header", "always-array-child-elements"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &convertPolicy{}
	kind, err := constEnum(b, n, "kind", true, "", "javascript-friendly", "direct")
	if err != nil {
		return nil, err
	}
	p.declarations = kind == "direct"
	apply, err := constEnum(b, n, "apply", true, "", "always", "content-type-xml")
	if err != nil {
		return nil, err
	}
	p.onlyIfType = apply == "content-type-xml"
	if p.considerAcc, _, err = constBool(b, n, "consider-accept-header", true); err != nil {
		return nil, err
	}
	if p.alwaysArray, _, err = constBool(b, n, "always-array-child-elements", false); err != nil {
		return nil, err
	}
	return p, nil
}

// accepts reports whether an Accept header value accepts a type containing want.
func accepts(accept, want string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	a := strings.ToLower(accept)
	return strings.Contains(a, want) || strings.Contains(a, "*/*")
}

func (p *convertPolicy) Exec(x *Exec) error {
	want, target := "json", "application/json"
	if p.toXML {
		want, target = "xml", "application/xml"
	}
	if p.considerAcc && x.HTTPRequest != nil && !accepts(strings.Join(x.HTTPRequest.Header.Values("Accept"), ","), want) {
		return nil
	}
	var h http.Header
	var data []byte
	var err error
	if x.onResponse() {
		h = x.ensureResponse().Headers
		data, err = x.responseBody()
	} else {
		h = x.requestHeaders()
		data, err = x.requestBody()
	}
	if err != nil {
		return err
	}
	from := "xml"
	if p.toXML {
		from = "json"
	}
	if p.onlyIfType && !strings.Contains(strings.ToLower(h.Get("Content-Type")), from) {
		return nil
	}
	var out []byte
	if p.toXML {
		out, err = jsonToXML(data, p.opts)
	} else {
		out, err = xmlToJSON(data, p.declarations, p.alwaysArray)
	}
	if err != nil {
		src := "xml-to-json"
		if p.toXML {
			src = "json-to-xml"
		}
		if x.onResponse() {
			return &PolicyError{Source: src, Reason: "ResponseBodyConversionFailure", Message: "the response body is not valid " + strings.ToUpper(from) + ": " + err.Error(), Status: 500, ClientMessage: "Internal server error"}
		}
		return &PolicyError{Source: src, Reason: "RequestBodyConversionFailure", Message: "the request body is not valid " + strings.ToUpper(from) + ": " + err.Error(), Status: 400}
	}
	h.Set("Content-Type", target)
	if x.onResponse() {
		x.ensureResponse().Body = expr.NewBody(out)
	} else {
		x.reqBodyTaken = true
		x.Ctx.Request.Body = expr.NewBody(out)
	}
	return nil
}

// jsonp: when the caller's query carries callback-parameter-name, the
// response body becomes callback(body) with Content-Type
// application/javascript. A callback that is not a JavaScript identifier
// path (a.b_c.$d) is rejected: 400 with Reason CallbackParameterInvalid.
// callback-parameter-name accepts expressions (APIM).

type jsonp struct{ param Value }

func compileJSONP(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "callback-parameter-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	v, err := b.Attr(n, "callback-parameter-name")
	if err != nil {
		return nil, err
	}
	if !v.Set || (!v.IsExpr() && strings.TrimSpace(v.Lit) == "") {
		return nil, b.Errorf(n.Pos, "jsonp: attribute \"callback-parameter-name\" is required")
	}
	return &jsonp{v}, nil
}

var jsIdentPath = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

func (p *jsonp) Exec(x *Exec) error {
	name, err := x.String(p.param)
	if err != nil {
		return err
	}
	if x.HTTPRequest == nil || !x.HTTPRequest.URL.Query().Has(name) {
		return nil
	}
	cb := x.HTTPRequest.URL.Query().Get(name)
	if !jsIdentPath.MatchString(cb) {
		return &PolicyError{Source: "jsonp", Reason: "CallbackParameterInvalid", Message: "Callback parameter '" + name + "' value is invalid.", Status: http.StatusBadRequest}
	}
	data, err := x.responseBody()
	if err != nil {
		return err
	}
	r := x.ensureResponse()
	r.Body = expr.NewBody([]byte(cb + "(" + string(data) + ")"))
	r.Headers.Set("Content-Type", "application/javascript")
	return nil
}

// cross-domain (global scope, inbound): a request for /crossdomain.xml is
// answered 200 with the policy's content (the <cross-domain-policy>
// element, as written) and Content-Type text/xml; other requests pass.

type crossDomain struct{ body []byte }

func compileCrossDomain(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n); err != nil {
		return nil, err
	}
	if err := b.Children(n, "cross-domain-policy"); err != nil {
		return nil, err
	}
	if len(n.Children) != 1 {
		return nil, b.Errorf(n.Pos, "cross-domain needs exactly one <cross-domain-policy> element")
	}
	body := `<?xml version="1.0"?>` + "\n" + strings.TrimSpace(n.Inner)
	return &crossDomain{[]byte(body)}, nil
}

func (p *crossDomain) Exec(x *Exec) error {
	if x.HTTPRequest == nil || !strings.EqualFold(x.HTTPRequest.URL.Path, "/crossdomain.xml") || (x.HTTPRequest.Method != http.MethodGet && x.HTTPRequest.Method != http.MethodHead) {
		return nil
	}
	x.dropStream()
	x.Ctx.Response = &expr.Response{StatusCode: 200, StatusReason: "OK", Headers: http.Header{"Content-Type": {"text/xml"}}, Body: expr.NewBody(p.body)}
	x.produced = true
	return ErrReturn
}

// CrossDomain returns the content a global document's cross-domain policy
// serves at /crossdomain.xml, or nil. The gateway answers /crossdomain.xml
// with it when no API matches that path.
func (d *Document) CrossDomain() []byte {
	if d == nil || d.sections[Inbound] == nil {
		return nil
	}
	for _, pol := range *d.sections[Inbound] {
		if st, ok := pol.(*step); ok {
			if cd, ok := st.p.(*crossDomain); ok {
				return cd.body
			}
		}
	}
	return nil
}
