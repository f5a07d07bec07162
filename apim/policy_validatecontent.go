package apim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validate-content (inbound, outbound, on-error): the size and content of
// the request body (inbound) or response body (outbound, on-error).
//
//   - max-size: a body longer is refused (prevent: 400 for a request, 502
//     for a response) or recorded (detect), and its content is not
//     validated; it is checked without reading more than max-size+1
//     bytes (policy_validatecontent_body.go).
//   - The content type (after <content-type-map>) must be one the
//     operation documents for the request body, or for the response of
//     its status (exactly, by class, default); else
//     unspecified-content-type-action.
//   - <content type validate-as> picks how a body of that content type is
//     validated: json against the operation's schema for it (or schema-id,
//     a named schema of gateway.schemas, and schema-ref inside it), with
//     allow-additional-properties and case-insensitive-property-names;
//     xml and soap for well-formedness (and, for soap, an Envelope with a
//     Body). XML schemas (XSD) are not supported: schema-id naming one is
//     a load error.
//
// An empty body has no content to validate. Compressed bodies
// (Content-Encoding other than identity) are not decompressed: their
// content is reported as not validatable (ValidationException).

func init() {
	Register(Spec{Name: "validate-content", Sections: []Section{Inbound, Outbound, OnError}, Compile: compileValidateContent})
}

// maxContentSize is APIM's upper bound of max-size (4 MiB).
const maxContentSize = 4 << 20

type vcTypeMap struct {
	from string // media type; "" when when is used
	when Value
	to   string
}

type vcContent struct {
	typ             string // media type; "" = every documented type
	validateAs      string // json, xml, soap
	action          string
	addl            addlMode
	caseInsensitive bool
	named           *jsonschema.Schema // schema-id (and schema-ref)
	namedName       string
}

type vcKey struct {
	ptr      string
	addl     addlMode
	response bool
}

type validateContent struct {
	spec         *OpenAPISpec
	unspecified  string
	maxSize      int64
	sizeAction   string
	errorsVar    string
	anyType      string
	missingType  string
	typeMap      []vcTypeMap
	contents     []*vcContent
	specSchemas  map[vcKey]*jsonschema.Schema
	specRequired bool
}

func compileValidateContent(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "unspecified-content-type-action", "max-size", "size-exceeded-action", "errors-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "content-type-map", "content"); err != nil {
		return nil, err
	}
	p := &validateContent{spec: b.ld.opts.Spec, specSchemas: map[vcKey]*jsonschema.Schema{}}
	var err error
	if p.unspecified, err = constEnum(b, n, "unspecified-content-type-action", true, "", validationActions...); err != nil {
		return nil, err
	}
	ms, err := b.ConstAttr(n, "max-size")
	if err != nil {
		return nil, err
	}
	if !ms.Set {
		return nil, b.Errorf(n.Pos, "validate-content: attribute \"max-size\" is required")
	}
	if !(b.ld.opts.Lenient && acUnresolved(ms.Lit)) {
		v, perr := strconv.ParseInt(strings.TrimSpace(ms.Lit), 10, 64)
		if perr != nil || v < 0 || v > maxContentSize {
			return nil, b.Errorf(ms.Pos, "validate-content: max-size must be a number of bytes from 0 to %d (4 MiB, APIM's limit), not %q", maxContentSize, ms.Lit)
		}
		p.maxSize = v
	}
	if p.sizeAction, err = constEnum(b, n, "size-exceeded-action", true, "", validationActions...); err != nil {
		return nil, err
	}
	if p.errorsVar, err = acConstStr(b, n, "errors-variable-name"); err != nil {
		return nil, err
	}
	p.specRequired = p.unspecified != "ignore"
	seenMap := false
	for _, c := range n.Children {
		switch c.Name {
		case "content-type-map":
			if seenMap {
				return nil, b.Errorf(c.Pos, "validate-content: <content-type-map> appears twice")
			}
			seenMap = true
			if err := p.compileTypeMap(b, c); err != nil {
				return nil, err
			}
		case "content":
			vc, err := p.compileContent(b, c)
			if err != nil {
				return nil, err
			}
			p.contents = append(p.contents, vc)
		}
	}
	if p.spec == nil {
		if p.specRequired && !b.ld.opts.Lenient {
			return nil, b.Errorf(n.Pos, "validate-content needs the API's OpenAPI specification (gateway.apis[].specification, or an APIOps folder's specification file): to know the documented content types and their schemas")
		}
		return p, nil
	}
	return p, p.compileSpecSchemas(b, n)
}

func (p *validateContent) compileTypeMap(b *Builder, c *rawxml.Node) error {
	if err := b.Attrs(c, "any-content-type-value", "missing-content-type-value"); err != nil {
		return err
	}
	if err := b.Children(c, "type"); err != nil {
		return err
	}
	var err error
	if p.anyType, err = acConstStr(b, c, "any-content-type-value"); err != nil {
		return err
	}
	if p.missingType, err = acConstStr(b, c, "missing-content-type-value"); err != nil {
		return err
	}
	p.anyType, p.missingType = mediaType(p.anyType), mediaType(p.missingType)
	for _, t := range c.Children {
		if err := b.Attrs(t, "from", "when", "to"); err != nil {
			return err
		}
		if err := b.Children(t); err != nil {
			return err
		}
		from, err := b.ConstAttr(t, "from")
		if err != nil {
			return err
		}
		when, err := b.Attr(t, "when")
		if err != nil {
			return err
		}
		to, err := b.ConstAttr(t, "to")
		if err != nil {
			return err
		}
		if from.Set == when.Set {
			return b.Errorf(t.Pos, "validate-content: <type> needs either from or when")
		}
		if !to.Set || strings.TrimSpace(to.Lit) == "" {
			return b.Errorf(t.Pos, "validate-content: <type>: attribute \"to\" is required")
		}
		p.typeMap = append(p.typeMap, vcTypeMap{from: mediaType(from.Lit), when: when, to: mediaType(to.Lit)})
	}
	return nil
}

func (p *validateContent) compileContent(b *Builder, c *rawxml.Node) (*vcContent, error) {
	if err := b.Attrs(c, "type", "validate-as", "schema-id", "schema-ref", "action", "allow-additional-properties",
		"case-insensitive-property-names"); err != nil {
		return nil, err
	}
	if err := b.Children(c); err != nil {
		return nil, err
	}
	vc := &vcContent{}
	typ, err := acConstStr(b, c, "type")
	if err != nil {
		return nil, err
	}
	vc.typ = mediaType(typ)
	if vc.validateAs, err = constEnum(b, c, "validate-as", true, "", "json", "xml", "soap"); err != nil {
		return nil, err
	}
	if vc.action, err = constEnum(b, c, "action", true, "", validationActions...); err != nil {
		return nil, err
	}
	allow, set, err := constBool(b, c, "allow-additional-properties", true)
	if err != nil {
		return nil, err
	}
	if set {
		vc.addl = addlForbid
		if allow {
			vc.addl = addlAllow
		}
	}
	if vc.caseInsensitive, _, err = constBool(b, c, "case-insensitive-property-names", false); err != nil {
		return nil, err
	}
	id, err := acConstStr(b, c, "schema-id")
	if err != nil {
		return nil, err
	}
	ref, err := b.ConstAttr(c, "schema-ref")
	if err != nil {
		return nil, err
	}
	if ref.Set && id == "" {
		return nil, b.Errorf(ref.Pos, "validate-content: schema-ref needs schema-id (it points inside that schema)")
	}
	if id == "" {
		if vc.validateAs == "json" {
			p.specRequired = true
		}
		return vc, nil
	}
	ns, ok := b.ld.opts.Schemas[id]
	if !ok {
		if b.ld.opts.Lenient {
			return vc, nil // a schema of another environment
		}
		return nil, b.Errorf(c.Pos, "validate-content: schema-id %q is not a schema of gateway.schemas", id)
	}
	if vc.validateAs != "json" || ns.XML {
		return nil, b.Errorf(c.Pos, "validate-content: schema-id %q: validating against XML schemas (XSD) is not supported; use validate-as=\"json\" with a JSON schema, or validate-as=\"%s\" without schema-id for a well-formedness check", id, vc.validateAs)
	}
	ptr := ""
	if ref.Set {
		r, ok := localRef(strings.TrimSpace(ref.Lit))
		if !ok || r != "" && !strings.HasPrefix(r, "/") {
			return nil, b.Errorf(ref.Pos, "validate-content: schema-ref must be a local reference such as #/definitions/address, not %q", ref.Lit)
		}
		ptr = r
	}
	if vc.named, err = ns.doc.compile(ptr, schemaMode{addl: vc.addl, response: b.Section != Inbound}); err != nil {
		return nil, b.Errorf(c.Pos, "validate-content: schema %q%s: %v", id, ref.Lit, err)
	}
	vc.namedName = id + ref.Lit
	return vc, nil
}

// compileSpecSchemas compiles every schema of the specification a content
// element may use, in the direction(s) of the section.
func (p *validateContent) compileSpecSchemas(b *Builder, n *rawxml.Node) error {
	dirs := []bool{b.Section != Inbound}
	if b.anySection {
		dirs = []bool{false, true}
	}
	for _, vc := range p.contents {
		if vc.validateAs != "json" || vc.named != nil {
			continue
		}
		for _, op := range p.spec.operations() {
			for _, resp := range dirs {
				var bodies []*SpecBody
				if !resp {
					bodies = []*SpecBody{op.RequestBody}
				} else {
					for _, r := range op.ResponseDefs {
						bodies = append(bodies, r.Body)
					}
				}
				for _, body := range bodies {
					if body == nil {
						continue
					}
					for mt, ptr := range body.Content {
						if ptr == "" || vc.typ != "" && !mediaMatches(mt, vc.typ) {
							continue
						}
						k := vcKey{ptr, vc.addl, resp}
						if _, done := p.specSchemas[k]; done {
							continue
						}
						s, err := p.spec.schemas.compile(ptr, schemaMode{addl: vc.addl, response: resp})
						if err != nil {
							return b.Errorf(n.Pos, "validate-content: specification, %s, %s schema: %v", op.where, mt, err)
						}
						p.specSchemas[k] = s
					}
				}
			}
		}
	}
	return nil
}

// mediaMatches reports whether a documented media type (possibly
// "type/*" or "*/*") covers mt.
func mediaMatches(documented, mt string) bool {
	if documented == mt || documented == "*/*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(documented, "/*"); ok {
		return strings.HasPrefix(mt, prefix+"/")
	}
	return false
}

func (p *validateContent) Exec(x *Exec) error {
	response := x.onResponse()
	what, typ := "request", "RequestBody"
	var headers map[string][]string
	var body sizedBody
	var err error
	if response {
		what, typ = "response", "ResponseBody"
		body, err = boundedResponseBody(x, p.maxSize)
		headers = x.ensureResponse().Headers
	} else {
		body, err = boundedRequestBody(x, p.maxSize)
		headers = x.requestHeaders()
	}
	if err != nil {
		return err
	}
	if body.exceeded {
		size := "more than " + strconv.FormatInt(p.maxSize, 10)
		if body.size >= 0 {
			size = strconv.FormatInt(body.size, 10)
		}
		who := strings.ToUpper(what[:1]) + what[1:]
		is := validationIssue{typ: typ, rule: "SizeLimit",
			details: fmt.Sprintf("%s's body is %s bytes long and it exceeds the configured limit of %d bytes.", who, size, p.maxSize),
			public:  fmt.Sprintf("%s's body is %s bytes long and it exceeds the limit of %d bytes.", who, size, p.maxSize)}
		// The content is not validated: it was not read.
		return act(x, "validate-content", p.errorsVar, p.sizeAction, is)
	}
	if len(body.data) == 0 {
		return nil
	}
	ct, err := p.mapType(x, mediaType(firstHeader(headers, "Content-Type")))
	if err != nil {
		return err
	}
	var op *SpecOperation
	if p.spec != nil {
		op = p.spec.operation(x)
	}
	var documented *SpecBody
	if op != nil {
		if response {
			if r := op.response(x.ensureResponse().StatusCode); r != nil {
				documented = r.Body
			}
		} else {
			documented = op.RequestBody
		}
	}
	ptr, isDocumented := documented.schemaFor(ct)
	if op != nil && !isDocumented {
		msg := fmt.Sprintf("Unspecified content type %s is not allowed.", ct)
		if err := act(x, "validate-content", p.errorsVar, p.unspecified,
			validationIssue{name: ct, typ: typ, rule: "Unspecified", details: msg, public: msg}); err != nil {
			return err
		}
	}
	vc := p.content(ct, isDocumented)
	if vc == nil || vc.action == "ignore" {
		return nil
	}
	if enc := strings.ToLower(strings.TrimSpace(firstHeader(headers, "Content-Encoding"))); enc != "" && enc != "identity" {
		return act(x, "validate-content", p.errorsVar, vc.action, validationIssue{name: ct, typ: typ, rule: "ValidationException",
			details: fmt.Sprintf("Body of the %s cannot be validated for the content type %s. It is compressed (Content-Encoding %s).", what, ct, enc),
			public:  internalPublic})
	}
	var is *validationIssue
	switch vc.validateAs {
	case "json":
		schema, name := vc.named, vc.namedName
		if schema == nil && ptr != "" {
			schema = p.specSchemas[vcKey{ptr, vc.addl, response}]
			name = p.spec.definitionName(ptr)
		}
		is = checkJSON(body.data, schema, vc.caseInsensitive, what, name, ct)
	case "xml", "soap":
		is = checkXML(body.data, vc.validateAs == "soap", what, ct)
	}
	if is == nil {
		return nil
	}
	is.typ = typ
	return act(x, "validate-content", p.errorsVar, vc.action, *is)
}

func firstHeader(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// mapType applies <content-type-map>: a matching <type> first, then
// missing-content-type-value for a message without a content type, then
// any-content-type-value.
func (p *validateContent) mapType(x *Exec, ct string) (string, error) {
	for _, t := range p.typeMap {
		if t.when.Set {
			ok, err := x.Bool(t.when, false)
			if err != nil {
				return "", err
			}
			if ok {
				return t.to, nil
			}
			continue
		}
		if t.from == ct {
			return t.to, nil
		}
	}
	if ct == "" && p.missingType != "" {
		return p.missingType, nil
	}
	if p.anyType != "" {
		return p.anyType, nil
	}
	return ct, nil
}

// content is the <content> element for media type ct: the one naming it,
// else one without a type when ct is documented.
func (p *validateContent) content(ct string, documented bool) *vcContent {
	for _, vc := range p.contents {
		if vc.typ == ct && ct != "" {
			return vc
		}
	}
	if documented {
		for _, vc := range p.contents {
			if vc.typ == "" {
				return vc
			}
		}
	}
	return nil
}

// definitionName names the schema at ptr for messages: the component it
// refers to (#/components/schemas/Pet: Pet), else its location.
func (s *OpenAPISpec) definitionName(ptr string) string {
	v, err := lookupPointer(s.schemas.raw, ptr)
	if err == nil {
		if m, ok := v.(map[string]any); ok {
			if ref, ok := m["$ref"].(string); ok {
				return ref[strings.LastIndexByte(ref, '/')+1:]
			}
		}
	}
	return "#" + ptr
}

// checkJSON parses and validates a JSON body; nil when it conforms.
func checkJSON(data []byte, schema *jsonschema.Schema, caseInsensitive bool, what, name, ct string) *validationIssue {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("invalid data after the top-level value")
		}
	}
	subject := fmt.Sprintf("Body of the %s does not conform to the definition %s, which is associated with the content type %s.", what, name, ct)
	if name == "" {
		subject = fmt.Sprintf("Body of the %s is not valid JSON for the content type %s.", what, ct)
	}
	if err != nil {
		off := d.InputOffset()
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			off = int64(len(data)) // the document ended early
		}
		line, pos := textPosition(data, int(off))
		return issueFor(what, ct, fmt.Sprintf("%s %s Line: %d, Position: %d", subject, jsonErrorText(err), line, pos))
	}
	if schema == nil {
		return nil
	}
	if caseInsensitive {
		v = matchPropertyCase(v, schema, 0)
	}
	if err := schema.Validate(v); err != nil {
		msg, loc := schemaMessage(err)
		if line, pos, ok := jsonPosition(data, loc); ok {
			msg = fmt.Sprintf("%s Line: %d, Position: %d", msg, line, pos)
		}
		return issueFor(what, ct, subject+" "+msg)
	}
	return nil
}

func jsonErrorText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "Unexpected end of the document."
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// issueFor is an IncorrectMessage: the detail is public for requests (the
// caller can fix it), internal for responses.
func issueFor(what, ct, details string) *validationIssue {
	is := &validationIssue{name: ct, rule: "IncorrectMessage", details: details, public: details}
	if what == "response" {
		is.public = internalPublic
	}
	return is
}

// textPosition is the line and character position (from 1) of byte off.
func textPosition(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + len([]rune(string(data[start:off])))
}

// SOAP envelope namespaces (1.1 for text/xml, 1.2 for application/soap+xml).
const (
	soap11NS = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
)

// checkXML checks well-formedness and, for SOAP, the envelope.
func checkXML(data []byte, soap bool, what, ct string) *validationIssue {
	root, err := xmlRoot(data)
	if err != nil {
		msg := err.Error()
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("%s Line: %d", se.Msg, se.Line)
		}
		return issueFor(what, ct, fmt.Sprintf("Body of the %s is not well-formed XML for the content type %s. %s", what, ct, msg))
	}
	if !soap {
		return nil
	}
	want := map[string]string{"text/xml": soap11NS, "application/soap+xml": soap12NS}[ct]
	if root.Local != "Envelope" || root.Space != soap11NS && root.Space != soap12NS || want != "" && root.Space != want {
		return issueFor(what, ct, fmt.Sprintf("Body of the %s is not a SOAP envelope for the content type %s (root element {%s}%s).", what, ct, root.Space, root.Local))
	}
	if !soapHasBody(data, root.Space) {
		return issueFor(what, ct, fmt.Sprintf("Body of the %s is a SOAP envelope without a Body element.", what))
	}
	return nil
}

func soapHasBody(data []byte, ns string) bool {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "Body" && t.Name.Space == ns {
				return true
			}
		case xml.EndElement:
			depth--
		}
	}
}

// matchPropertyCase renames an object's properties to the spelling its
// schema uses when they differ only in case
// (case-insensitive-property-names="true"), following properties, $ref,
// allOf/anyOf/oneOf and items.
func matchPropertyCase(v any, s *jsonschema.Schema, depth int) any {
	if s == nil || depth > 64 {
		return v
	}
	switch inst := v.(type) {
	case map[string]any:
		props := map[string]*jsonschema.Schema{}
		collectProperties(s, props, 0)
		if len(props) == 0 {
			return v
		}
		lower := make(map[string]string, len(props))
		for name := range props {
			lower[strings.ToLower(name)] = name
		}
		out := make(map[string]any, len(inst))
		for k, e := range inst {
			name := k
			if _, exact := props[k]; !exact {
				if n, ok := lower[strings.ToLower(k)]; ok {
					if _, taken := inst[n]; !taken {
						name = n
					}
				}
			}
			out[name] = matchPropertyCase(e, props[name], depth+1)
		}
		return out
	case []any:
		items := s.Items2020
		if it, ok := s.Items.(*jsonschema.Schema); ok {
			items = it
		}
		for s.Ref != nil && items == nil && depth < 64 {
			s = s.Ref
			items = s.Items2020
			if it, ok := s.Items.(*jsonschema.Schema); ok {
				items = it
			}
			depth++
		}
		out := make([]any, len(inst))
		for i, e := range inst {
			out[i] = matchPropertyCase(e, items, depth+1)
		}
		return out
	}
	return v
}

func collectProperties(s *jsonschema.Schema, into map[string]*jsonschema.Schema, depth int) {
	if s == nil || depth > 32 {
		return
	}
	for k, ps := range s.Properties {
		if _, ok := into[k]; !ok {
			into[k] = ps
		}
	}
	collectProperties(s.Ref, into, depth+1)
	for _, list := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range list {
			collectProperties(sub, into, depth+1)
		}
	}
}
