package apim

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// OpenAPISpec is what the validation policies read of an API's OpenAPI
// (2 or 3, YAML or JSON) specification: each operation's documented
// responses (statuses, headers, bodies by content type), its parameters
// and its request bodies. Schemas stay in the document (doc) and are
// compiled by the policies that use them, once, at load (openapi_schema.go).
type OpenAPISpec struct {
	byName  map[string]*SpecOperation // operationId
	byRoute map[string]*SpecOperation // "GET /items/{id}"
	schemas *schemaDoc
}

// SpecOperation is one operation of a specification.
type SpecOperation struct {
	// Responses are the documented statuses: "200", "4XX", "DEFAULT".
	Responses map[string]bool
	// Parameters are the header, query and path parameters (path-level
	// ones merged in, $refs resolved); cookie and body ones are not here.
	Parameters []*SpecParameter
	// RequestBody is nil when the operation documents none.
	RequestBody *SpecBody
	// ResponseDefs are the responses by status key ("200", "4XX", "DEFAULT").
	ResponseDefs map[string]*SpecResponse
	// Problems are the parts of the operation that could not be read (a
	// $ref that resolves nowhere ...): the policies that need them report
	// them at load; validate-status-code does not care.
	Problems []string
	// where is "GET /items/{id}", for messages.
	where string
}

// SpecParameter is a parameter (in: header, query, path) or a response
// header.
type SpecParameter struct {
	Name     string
	In       string // header, query, path
	Required bool
	// schemaPtr is the JSON pointer of its schema in the document; "" when
	// it has none (any value is accepted).
	schemaPtr string
	// typ and itemsType are the schema's type and, for arrays, its items'
	// type ("" when not stated): values arrive as strings and are
	// converted to these before validation.
	typ, itemsType string
	// style and explode (OpenAPI 3) or collectionFormat (OpenAPI 2, as
	// style: csv, ssv, tsv, pipes, multi) say how an array is written.
	style   string
	explode bool
}

// SpecBody is a request body or a response body: schemas by media type.
type SpecBody struct {
	Required bool
	// Content maps a media type, lower case without parameters
	// ("application/json", "application/*", "*/*"), to the JSON pointer
	// of its schema ("" when it has none).
	Content map[string]string
}

// SpecResponse is one documented response.
type SpecResponse struct {
	Headers map[string]*SpecParameter // by lower-case name
	Body    *SpecBody                 // nil when it documents no content
}

// maxSpecBytes bounds a specification file: APIM's own limit on the
// schema its validation policies use is 4 MB; big real-world
// specifications stay well under this.
const maxSpecBytes = 32 << 20

var specMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ParseOpenAPI reads a specification. Errors say what is wrong where
// (a YAML line, or the path of the offending element).
func ParseOpenAPI(data []byte) (*OpenAPISpec, error) {
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("the specification is %d bytes long, more than the %d bytes accepted", len(data), maxSpecBytes)
	}
	v, err := decodeYAMLTree(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an OpenAPI specification (the document is not a mapping)")
	}
	swagger, _ := doc["swagger"].(string)
	openapi, _ := doc["openapi"].(string)
	var ver specVersion
	switch {
	case swagger != "":
		if !strings.HasPrefix(swagger, "2") {
			return nil, fmt.Errorf("swagger version %q is not supported (2.0 is)", swagger)
		}
		ver = specV2
	case openapi != "":
		switch {
		case strings.HasPrefix(openapi, "3.0"):
			ver = specV30
		case strings.HasPrefix(openapi, "3."):
			ver = specV31
		default:
			return nil, fmt.Errorf("openapi version %q is not supported (2.0, 3.0 and 3.1 are)", openapi)
		}
	default:
		return nil, errors.New("not an OpenAPI specification (no openapi or swagger version)")
	}
	s := &OpenAPISpec{byName: map[string]*SpecOperation{}, byRoute: map[string]*SpecOperation{},
		schemas: newSchemaDoc(doc, ver)}
	r := &specReader{doc: doc, ver: ver}
	paths, _ := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable problem order
	for _, path := range keys {
		item, _ := paths[path].(map[string]any)
		itemPtr := "/paths/" + ptrEscape(path)
		if ref, ok := item["$ref"].(string); ok {
			resolved, rptr, err := r.resolve(ref)
			if err != nil {
				return nil, fmt.Errorf("paths %s: %v", path, err)
			}
			item, itemPtr = resolved, rptr
		}
		for _, method := range specMethods {
			opv, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			so := r.operation(item, itemPtr, opv, itemPtr+"/"+method)
			so.where = strings.ToUpper(method) + " " + path
			if id, _ := opv["operationId"].(string); id != "" {
				s.byName[id] = so
			}
			s.byRoute[strings.ToUpper(method)+" "+path] = so
		}
	}
	return s, nil
}

type specVersion int

const (
	specV2 specVersion = iota + 1
	specV30
	specV31
)

// specReader reads operations out of the document.
type specReader struct {
	doc map[string]any
	ver specVersion
}

// maxRefHops bounds a chain of $refs ($ref to a $ref ...): a cycle ends
// with an error instead of a hang.
const maxRefHops = 32

// resolve follows a local $ref ("#/components/parameters/limit") to the
// object it names, and returns it with its JSON pointer.
func (r *specReader) resolve(ref string) (map[string]any, string, error) {
	for range maxRefHops {
		ptr, ok := localRef(ref)
		if !ok {
			return nil, "", fmt.Errorf("$ref %q: only references inside the specification (#/...) are supported", ref)
		}
		v, err := lookupPointer(r.doc, ptr)
		if err != nil {
			return nil, "", fmt.Errorf("$ref %q: %v", ref, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("$ref %q does not name an object", ref)
		}
		next, isRef := m["$ref"].(string)
		if !isRef {
			return m, ptr, nil
		}
		ref = next
	}
	return nil, "", fmt.Errorf("$ref %q: more than %d references in a row (a cycle?)", ref, maxRefHops)
}

// deref returns v itself, or what its $ref names.
func (r *specReader) deref(v any, ptr string) (map[string]any, string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("%s is not an object", ptr)
	}
	if ref, ok := m["$ref"].(string); ok {
		return r.resolve(ref)
	}
	return m, ptr, nil
}

func (r *specReader) operation(item map[string]any, itemPtr string, op map[string]any, opPtr string) *SpecOperation {
	so := &SpecOperation{Responses: map[string]bool{}, ResponseDefs: map[string]*SpecResponse{}}
	// Path-level parameters first; the operation's replace those of the
	// same name and location.
	params := map[string]int{}
	var bodyParam map[string]any
	var bodyPtr string
	var formData bool
	add := func(list any, listPtr string) {
		arr, _ := list.([]any)
		for i, pv := range arr {
			p, ptr, err := r.deref(pv, listPtr+"/"+strconv.Itoa(i))
			if err != nil {
				so.Problems = append(so.Problems, fmt.Sprintf("parameter %d: %v", i, err))
				continue
			}
			name, _ := p["name"].(string)
			in, _ := p["in"].(string)
			switch in {
			case "header", "query", "path":
			case "body":
				bodyParam, bodyPtr = p, ptr
				continue
			case "formData":
				formData = true
				continue
			default:
				continue // cookie
			}
			if name == "" {
				so.Problems = append(so.Problems, fmt.Sprintf("parameter %d (in %s) has no name", i, in))
				continue
			}
			sp := r.parameter(p, ptr, name, in)
			key := in + "\x00" + name
			if in == "header" {
				key = in + "\x00" + strings.ToLower(name)
			}
			if j, ok := params[key]; ok {
				so.Parameters[j] = sp
			} else {
				params[key] = len(so.Parameters)
				so.Parameters = append(so.Parameters, sp)
			}
		}
	}
	add(item["parameters"], itemPtr+"/parameters")
	add(op["parameters"], opPtr+"/parameters")

	switch r.ver {
	case specV2:
		consumes := r.mediaTypes(op, "consumes")
		if bodyParam != nil {
			b := &SpecBody{Content: map[string]string{}}
			b.Required, _ = bodyParam["required"].(bool)
			ptr := ""
			if _, ok := bodyParam["schema"]; ok {
				ptr = bodyPtr + "/schema"
			}
			for _, ct := range consumes {
				b.Content[ct] = ptr
			}
			so.RequestBody = b
		} else if formData {
			b := &SpecBody{Content: map[string]string{}}
			for _, ct := range consumes {
				b.Content[ct] = ""
			}
			so.RequestBody = b
		}
	default:
		if rb, ok := op["requestBody"]; ok {
			m, ptr, err := r.deref(rb, opPtr+"/requestBody")
			if err != nil {
				so.Problems = append(so.Problems, "requestBody: "+err.Error())
			} else {
				b := r.content(m, ptr)
				if b == nil {
					b = &SpecBody{Content: map[string]string{}}
				}
				b.Required, _ = m["required"].(bool)
				so.RequestBody = b
			}
		}
	}

	resps, _ := op["responses"].(map[string]any)
	for code, rv := range resps {
		key := strings.ToUpper(code)
		so.Responses[key] = true
		m, ptr, err := r.deref(rv, opPtr+"/responses/"+ptrEscape(code))
		if err != nil {
			so.Problems = append(so.Problems, "response "+code+": "+err.Error())
			continue
		}
		sr := &SpecResponse{Headers: map[string]*SpecParameter{}}
		if r.ver == specV2 {
			if _, ok := m["schema"]; ok {
				sr.Body = &SpecBody{Content: map[string]string{}}
				for _, ct := range r.mediaTypes(op, "produces") {
					sr.Body.Content[ct] = ptr + "/schema"
				}
			}
		} else {
			sr.Body = r.content(m, ptr)
		}
		hs, _ := m["headers"].(map[string]any)
		for name, hv := range hs {
			h, hptr, err := r.deref(hv, ptr+"/headers/"+ptrEscape(name))
			if err != nil {
				so.Problems = append(so.Problems, "response "+code+" header "+name+": "+err.Error())
				continue
			}
			sr.Headers[strings.ToLower(name)] = r.parameter(h, hptr, name, "header")
		}
		so.ResponseDefs[key] = sr
	}
	return so
}

// mediaTypes is an OpenAPI 2 operation's consumes or produces (else the
// document's; application/json when neither says).
func (r *specReader) mediaTypes(op map[string]any, key string) []string {
	list, ok := op[key].([]any)
	if !ok {
		list, _ = r.doc[key].([]any)
	}
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, mediaType(s))
		}
	}
	if len(out) == 0 {
		out = []string{"application/json"}
	}
	return out
}

// content reads an OpenAPI 3 content map (of a request body or response).
func (r *specReader) content(m map[string]any, ptr string) *SpecBody {
	c, ok := m["content"].(map[string]any)
	if !ok {
		return nil
	}
	b := &SpecBody{Content: map[string]string{}}
	for ct, mv := range c {
		sp := ""
		if mt, ok := mv.(map[string]any); ok {
			if _, ok := mt["schema"]; ok {
				sp = ptr + "/content/" + ptrEscape(ct) + "/schema"
			}
		}
		b.Content[mediaType(ct)] = sp
	}
	return b
}

// parameter reads a parameter or header object found at ptr.
func (r *specReader) parameter(p map[string]any, ptr, name, in string) *SpecParameter {
	sp := &SpecParameter{Name: name, In: in}
	sp.Required, _ = p["required"].(bool)
	if in == "path" {
		sp.Required = true // OpenAPI: path parameters are always required
	}
	var schema any
	if r.ver == specV2 {
		// OpenAPI 2 describes the value inline (type, format, items ...);
		// the schema compiled for it is made of those keywords
		// (x-gatehouse-schema, added by the schema conversion).
		sp.schemaPtr = ptr + "/" + v2SchemaKey
		schema = p
		sp.style, _ = p["collectionFormat"].(string)
		if sp.style == "" {
			sp.style = "csv"
		}
	} else {
		if s, ok := p["schema"]; ok {
			sp.schemaPtr = ptr + "/schema"
			schema = s
		} else if c, ok := p["content"].(map[string]any); ok {
			// A parameter described by content: its one media type's schema.
			for ct, mv := range c {
				if mt, ok := mv.(map[string]any); ok {
					if s, ok := mt["schema"]; ok {
						sp.schemaPtr = ptr + "/content/" + ptrEscape(ct) + "/schema"
						schema = s
					}
				}
				break
			}
		}
		sp.style, _ = p["style"].(string)
		if sp.style == "" {
			if in == "query" {
				sp.style = "form"
			} else {
				sp.style = "simple"
			}
		}
		if e, ok := p["explode"].(bool); ok {
			sp.explode = e
		} else {
			sp.explode = sp.style == "form"
		}
	}
	if schema != nil {
		sp.typ, sp.itemsType = r.shallowTypes(schema)
	}
	return sp
}

// shallowTypes is a schema's type and its items' type, following $refs
// (and a single-schema allOf): enough to convert a parameter's text.
func (r *specReader) shallowTypes(s any) (typ, items string) {
	m := r.follow(s)
	if m == nil {
		return "", ""
	}
	typ = schemaType(m)
	if typ == "array" {
		if it := r.follow(m["items"]); it != nil {
			items = schemaType(it)
		}
	}
	return typ, items
}

// follow is a schema with its $refs (and a lone allOf entry) resolved;
// nil when that fails.
func (r *specReader) follow(s any) map[string]any {
	m, _ := s.(map[string]any)
	for range maxRefHops {
		if m == nil {
			return nil
		}
		if ref, ok := m["$ref"].(string); ok {
			ptr, ok := localRef(ref)
			if !ok {
				return nil
			}
			v, err := lookupPointer(r.doc, ptr)
			if err != nil {
				return nil
			}
			m, _ = v.(map[string]any)
			continue
		}
		if all, ok := m["allOf"].([]any); ok && len(all) == 1 && m["type"] == nil {
			m, _ = all[0].(map[string]any)
			continue
		}
		return m
	}
	return nil
}

// schemaType is a schema's "type": the first non-null one of a list
// (OpenAPI 3.1 writes nullable types as ["integer", "null"]).
func schemaType(m map[string]any) string {
	switch t := m["type"].(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

// mediaType is a content type lower-cased without its parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// operation is the specification's operation of the running request (by
// its name, else its method and URL template); nil when it has none.
func (s *OpenAPISpec) operation(x *Exec) *SpecOperation {
	op := x.Ctx.Operation
	if s == nil || op == nil {
		return nil
	}
	if so := s.byName[op.Name]; so != nil {
		return so
	}
	return s.byRoute[strings.ToUpper(op.Method)+" "+op.UrlTemplate]
}

// operations are every operation, in a stable order.
func (s *OpenAPISpec) operations() []*SpecOperation {
	keys := make([]string, 0, len(s.byRoute))
	for k := range s.byRoute {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*SpecOperation, len(keys))
	for i, k := range keys {
		out[i] = s.byRoute[k]
	}
	return out
}

// documents reports whether status is among the operation's responses
// (exactly, by its class such as 4XX, or by default).
func (so *SpecOperation) documents(status int) bool {
	code := strconv.Itoa(status)
	return so.Responses[code] || so.Responses[code[:1]+"XX"] || so.Responses["DEFAULT"]
}

// response is the documented response for status (exact, class, default).
func (so *SpecOperation) response(status int) *SpecResponse {
	code := strconv.Itoa(status)
	for _, k := range []string{code, code[:1] + "XX", "DEFAULT"} {
		if r := so.ResponseDefs[k]; r != nil {
			return r
		}
	}
	return nil
}

// schemaFor is the schema pointer for media type mt ("" when the body
// documents the type without a schema) and whether the type is documented
// at all: exactly, by "type/*" or by "*/*".
func (b *SpecBody) schemaFor(mt string) (string, bool) {
	if b == nil {
		return "", false
	}
	if p, ok := b.Content[mt]; ok {
		return p, true
	}
	if i := strings.IndexByte(mt, '/'); i > 0 {
		if p, ok := b.Content[mt[:i]+"/*"]; ok {
			return p, true
		}
	}
	p, ok := b.Content["*/*"]
	return p, ok
}

// types are the documented media types, sorted (for messages and for
// content elements without a type).
func (b *SpecBody) types() []string {
	if b == nil {
		return nil
	}
	out := make([]string, 0, len(b.Content))
	for k := range b.Content {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// localRef is the JSON pointer of a local $ref ("#/a/b"), its
// percent-encoding undone (a $ref is a URI fragment).
func localRef(ref string) (string, bool) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return "", false
	}
	if strings.Contains(ptr, "%") {
		u, err := url.PathUnescape(ptr)
		if err != nil {
			return "", false
		}
		ptr = u
	}
	return ptr, true
}

// contentPointers are the body's schema pointers (for tests and tools).
func (b *SpecBody) contentPointers() []string {
	var out []string
	for _, t := range b.types() {
		if p := b.Content[t]; p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ptrEscape escapes one JSON pointer token (RFC 6901).
func ptrEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// lookupPointer returns the value at JSON pointer ptr ("" is the root).
func lookupPointer(doc any, ptr string) (any, error) {
	if ptr == "" {
		return doc, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer", ptr)
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q does not exist", ptr)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q does not exist", ptr)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q does not exist", ptr)
		}
	}
	return cur, nil
}
