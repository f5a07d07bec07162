package apim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/dotnetregex"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSON Schema compilation for the validation policies.
//
// A specification (or a named schema of gateway.schemas) is one JSON
// document; the schema of a body, parameter or header is a JSON pointer
// into it, so $refs to #/components/schemas/... or #/definitions/...
// resolve as they are written. OpenAPI 2 and 3.0 schemas are not quite
// JSON Schema: before compiling, a copy of the document is converted
// (nullable: true becomes a type list with "null", OpenAPI 2's
// non-body parameters get a schema made of their inline keywords, type
// "file" is dropped, readOnly properties are not required of requests
// nor writeOnly ones of responses) and compiled as draft 4, the draft
// their exclusiveMinimum/Maximum booleans come from. OpenAPI 3.1 is JSON
// Schema 2020-12. allow-additional-properties is applied in the same
// conversion, so each (direction, additional-properties) combination
// has its own converted copy and compiler, made once and shared by every
// policy of the API.
//
// Only the document itself is ever read: $refs to other files or URLs are
// a load error (no file or network access at load or at run time), and
// regular expressions (pattern) use .NET's syntax, as APIM does, with a
// per-match timeout (internal/dotnetregex).

// docURL names a document inside the compiler; it is never fetched.
const docURL = "https://gatehouse.invalid/schema.json"

// v2SchemaKey is where the conversion puts the schema made of an OpenAPI 2
// parameter's or header's inline keywords.
const v2SchemaKey = "x-gatehouse-schema"

// addlMode is allow-additional-properties: as the schema says, forced
// true, or forced false.
type addlMode int8

const (
	addlAsIs addlMode = iota
	addlAllow
	addlForbid
)

// schemaMode selects a converted copy of a document.
type schemaMode struct {
	addl     addlMode
	response bool // readOnly/writeOnly apply by direction
}

// schemaDoc is a document whose schemas the policies compile.
type schemaDoc struct {
	raw any
	ver specVersion // 0: a named JSON Schema (not OpenAPI)
	mu  sync.Mutex
	// variants are the converted copies by mode, each with its compiler
	// and the schemas compiled so far (by pointer).
	variants map[schemaMode]*schemaVariant
}

type schemaVariant struct {
	c     *jsonschema.Compiler
	cache map[string]*jsonschema.Schema
	err   error
}

func newSchemaDoc(raw any, ver specVersion) *schemaDoc {
	return &schemaDoc{raw: raw, ver: ver, variants: map[schemaMode]*schemaVariant{}}
}

// compile compiles the schema at JSON pointer ptr ("" for the root) in
// mode m. Compiled schemas are cached: policies call this at load only.
func (d *schemaDoc) compile(ptr string, m schemaMode) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.variants[m]
	if v == nil {
		v = d.newVariant(m)
		d.variants[m] = v
	}
	if v.err != nil {
		return nil, v.err
	}
	if s, ok := v.cache[ptr]; ok {
		return s, nil
	}
	s, err := v.c.Compile(docURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		return nil, schemaCompileError(err)
	}
	v.cache[ptr] = s
	return s, nil
}

func (d *schemaDoc) newVariant(m schemaMode) *schemaVariant {
	conv := &schemaConverter{ver: d.ver, mode: m, doc: d.raw}
	doc := conv.document(deepCopy(d.raw))
	c := jsonschema.NewCompiler()
	switch d.ver {
	case specV2, specV30:
		c.DefaultDraft(jsonschema.Draft4)
	case specV31:
		c.DefaultDraft(jsonschema.Draft2020)
	default:
		c.DefaultDraft(jsonschema.Draft7)
	}
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(dotnetRegexp)
	c.AssertFormat()
	for _, f := range openAPIFormats {
		c.RegisterFormat(f)
	}
	v := &schemaVariant{c: c, cache: map[string]*jsonschema.Schema{}}
	if err := c.AddResource(docURL, doc); err != nil {
		v.err = schemaCompileError(err)
	}
	return v
}

// schemaCompileError makes the compiler's error readable: its URLs name
// the internal document, not a file the user knows.
func schemaCompileError(err error) error {
	msg := strings.ReplaceAll(err.Error(), docURL, "")
	var le *jsonschema.LoadURLError
	if errors.As(err, &le) {
		msg = fmt.Sprintf("$ref to %s: only references inside the document are supported", le.URL)
	}
	return errors.New(msg)
}

// noLoader refuses every URL: schemas never read files or the network.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, errors.New("references to other documents are not supported")
}

// dotnetRegexp compiles pattern keywords with .NET's syntax (APIM's
// engine), each match bounded by dotnetregex.DefaultTimeout. A match that
// times out counts as no match: the value is refused, never let through.
func dotnetRegexp(s string) (jsonschema.Regexp, error) {
	re, err := dotnetregex.Compile(s, dotnetregex.None)
	if err != nil {
		return nil, err
	}
	return dotnetRe{re}, nil
}

type dotnetRe struct{ re *dotnetregex.Regex }

func (r dotnetRe) String() string { return r.re.String() }
func (r dotnetRe) MatchString(s string) bool {
	ok, err := r.re.IsMatch(s)
	return ok && err == nil
}

// openAPIFormats are OpenAPI's formats that JSON Schema lacks.
var openAPIFormats = []*jsonschema.Format{
	{Name: "int32", Validate: intRange(32)},
	{Name: "int64", Validate: intRange(64)},
	{Name: "byte", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			if _, err2 := base64.RawStdEncoding.DecodeString(s); err2 != nil {
				return errors.New("not base64")
			}
		}
		return nil
	}},
	// Annotations only.
	{Name: "float", Validate: func(any) error { return nil }},
	{Name: "double", Validate: func(any) error { return nil }},
	{Name: "binary", Validate: func(any) error { return nil }},
	{Name: "password", Validate: func(any) error { return nil }},
}

func intRange(bits uint) func(any) error {
	lo := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
	hi := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
	return func(v any) error {
		var s string
		switch n := v.(type) {
		case json.Number:
			s = string(n)
		case float64:
			s = fmt.Sprint(n)
		case int, int32, int64:
			s = fmt.Sprint(n)
		default:
			return nil
		}
		f, ok := new(big.Float).SetString(s)
		if !ok || !f.IsInt() {
			return nil // "type" says whether it must be an integer
		}
		i, _ := f.Int(nil)
		if i.Cmp(lo) < 0 || i.Cmp(hi) > 0 {
			return fmt.Errorf("out of the int%d range", bits)
		}
		return nil
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// schemaConverter converts a copy of a document in place.
type schemaConverter struct {
	ver  specVersion
	mode schemaMode
	doc  any // the unconverted document, for following $refs
	// depth bounds the walk (the tree is already bounded by maxTreeDepth).
	depth int
}

// document converts every schema position of a document.
func (c *schemaConverter) document(v any) any {
	doc, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if c.ver == 0 {
		// A named schema: the root is a schema, and it may also be an
		// OpenAPI components document.
		c.schema(doc)
		if comp, ok := doc["components"].(map[string]any); ok {
			c.eachSchema(comp["schemas"])
		}
		return doc
	}
	if c.ver == specV2 {
		c.eachSchema(doc["definitions"])
		if ps, ok := doc["parameters"].(map[string]any); ok {
			for _, p := range ps {
				c.parameter(p)
			}
		}
		c.eachResponse(doc["responses"])
	} else if comp, ok := doc["components"].(map[string]any); ok {
		c.eachSchema(comp["schemas"])
		if ps, ok := comp["parameters"].(map[string]any); ok {
			for _, p := range ps {
				c.parameter(p)
			}
		}
		if hs, ok := comp["headers"].(map[string]any); ok {
			for _, h := range hs {
				c.parameter(h)
			}
		}
		if rbs, ok := comp["requestBodies"].(map[string]any); ok {
			for _, rb := range rbs {
				c.content(rb)
			}
		}
		c.eachResponse(comp["responses"])
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, iv := range paths {
		item, _ := iv.(map[string]any)
		c.parameters(item["parameters"])
		for _, m := range specMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			c.parameters(op["parameters"])
			c.content(op["requestBody"])
			c.eachResponse(op["responses"])
		}
	}
	return doc
}

func (c *schemaConverter) eachSchema(v any) {
	if m, ok := v.(map[string]any); ok {
		for _, s := range m {
			c.schema(s)
		}
	}
}

func (c *schemaConverter) parameters(v any) {
	if list, ok := v.([]any); ok {
		for _, p := range list {
			c.parameter(p)
		}
	}
}

// v2SchemaKeywords are an OpenAPI 2 parameter's or header's keywords that
// are JSON Schema keywords.
var v2SchemaKeywords = []string{"type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum",
	"exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf", "x-nullable"}

// parameter converts a parameter or header object's schema.
func (c *schemaConverter) parameter(v any) {
	p, ok := v.(map[string]any)
	if !ok || p["$ref"] != nil {
		return
	}
	if c.ver == specV2 {
		if p["in"] == "body" {
			c.schema(p["schema"])
			return
		}
		s := map[string]any{}
		for _, k := range v2SchemaKeywords {
			if kv, ok := p[k]; ok {
				s[k] = deepCopy(kv)
			}
		}
		c.schema(s)
		p[v2SchemaKey] = s
		return
	}
	c.schema(p["schema"])
	c.content(p)
}

// content converts an OpenAPI 3 object's content map.
func (c *schemaConverter) content(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if cm, ok := m["content"].(map[string]any); ok {
		for _, mt := range cm {
			if mtm, ok := mt.(map[string]any); ok {
				c.schema(mtm["schema"])
			}
		}
	}
}

func (c *schemaConverter) eachResponse(v any) {
	rs, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, rv := range rs {
		r, ok := rv.(map[string]any)
		if !ok || r["$ref"] != nil {
			continue
		}
		if c.ver == specV2 {
			c.schema(r["schema"])
		} else {
			c.content(r)
		}
		if hs, ok := r["headers"].(map[string]any); ok {
			for _, h := range hs {
				c.parameter(h)
			}
		}
	}
}

// schemaChildren are the keywords holding one subschema, schemaLists those
// holding a list, schemaMaps those holding a map of them.
var (
	schemaChildren = []string{"additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames",
		"unevaluatedProperties", "unevaluatedItems", "additionalItems"}
	schemaLists = []string{"allOf", "anyOf", "oneOf", "prefixItems", "items"}
	schemaMaps  = []string{"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
)

// schema converts one schema object and its subschemas.
func (c *schemaConverter) schema(v any) {
	s, ok := v.(map[string]any)
	if !ok {
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxTreeDepth {
		return
	}
	if c.ver != specV31 {
		nullable, _ := s["nullable"].(bool)
		if xn, ok := s["x-nullable"].(bool); ok && c.ver == specV2 {
			nullable = xn
		}
		if nullable {
			if t, ok := s["type"].(string); ok {
				s["type"] = []any{t, "null"}
			}
			if enum, ok := s["enum"].([]any); ok {
				hasNull := false
				for _, e := range enum {
					hasNull = hasNull || e == nil
				}
				if !hasNull {
					s["enum"] = append(enum, nil)
				}
			}
		}
		if s["type"] == "file" {
			delete(s, "type") // OpenAPI 2 uploads: nothing to check
		}
	}
	c.readWriteOnly(s)
	if isObjectSchema(s) {
		switch c.mode.addl {
		case addlForbid:
			s["additionalProperties"] = false
		case addlAllow:
			if b, ok := s["additionalProperties"].(bool); ok && !b {
				delete(s, "additionalProperties")
			}
			if b, ok := s["unevaluatedProperties"].(bool); ok && !b {
				delete(s, "unevaluatedProperties")
			}
		}
	}
	for _, k := range schemaChildren {
		if _, isList := s[k].([]any); !isList {
			c.schema(s[k])
		}
	}
	for _, k := range schemaLists {
		if list, ok := s[k].([]any); ok {
			for _, e := range list {
				c.schema(e)
			}
		}
	}
	for _, k := range schemaMaps {
		if m, ok := s[k].(map[string]any); ok {
			for _, e := range m {
				c.schema(e)
			}
		}
	}
}

// isObjectSchema reports whether s describes objects (type object, or
// properties without a type).
func isObjectSchema(s map[string]any) bool {
	switch t := s["type"].(type) {
	case string:
		return t == "object"
	case []any:
		for _, e := range t {
			if e == "object" {
				return true
			}
		}
		return false
	}
	_, hasProps := s["properties"].(map[string]any)
	return hasProps
}

// readWriteOnly drops from "required" the properties a direction never
// carries: readOnly ones in requests, writeOnly ones in responses
// (OpenAPI's rule for both).
func (c *schemaConverter) readWriteOnly(s map[string]any) {
	req, ok := s["required"].([]any)
	props, ok2 := s["properties"].(map[string]any)
	if !ok || !ok2 {
		return
	}
	flag := "readOnly"
	if c.mode.response {
		flag = "writeOnly"
	}
	r := &specReader{doc: asMap(c.doc)}
	kept := req[:0:0]
	for _, name := range req {
		n, _ := name.(string)
		if ps := r.follow(props[n]); ps != nil {
			if b, _ := ps[flag].(bool); b {
				continue
			}
		}
		kept = append(kept, name)
	}
	switch {
	case len(kept) == len(req):
	case len(kept) == 0:
		delete(s, "required") // draft 4 refuses an empty list
	default:
		s["required"] = kept
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
