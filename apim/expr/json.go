package expr

// Newtonsoft.Json.Linq model: JObject (ordered properties), JArray, JValue
// and JProperty, with parsing and serialization matching Newtonsoft's
// output (ToString() is indented with two spaces; Formatting.None is
// compact). Other packages may store these in context.Variables and
// return them from expressions.

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// JToken is any JSON token: *JObject, *JArray, *JValue or *JProperty.
type JToken interface {
	// JSON serializes the token (indented like Newtonsoft's ToString() when
	// indent is true, compact like Formatting.None otherwise).
	JSON(indent bool) string
	tokenType() string
}

// JObject is a JSON object with insertion-ordered properties. Names are
// unique (ordinal); past jobjectIndexMin properties a name index makes
// lookups and inserts O(1), so parsing a wide object stays linear.
type JObject struct {
	props []*JProperty
	index map[string]*JProperty // nil while the object is small
}

// jobjectIndexMin is the size past which a JObject keeps its name index.
const jobjectIndexMin = 8

// JArray is a JSON array.
type JArray struct {
	Items []JToken
}

// JValue is a JSON primitive. Value is nil, string, int64, float64, bool,
// time.Time (dates), Guid or time.Duration.
type JValue struct {
	Value any
}

// JProperty is a name/value pair of a JObject.
type JProperty struct {
	Name   string
	Value  JToken
	parent *JObject
}

// NewJObject returns an empty object.
func NewJObject() *JObject { return &JObject{} }

// Len is the number of properties.
func (o *JObject) Len() int { return len(o.props) }

// Properties returns the properties in order.
func (o *JObject) Properties() []*JProperty { return o.props }

// Property returns the named property (ordinal match) or nil.
func (o *JObject) Property(name string) *JProperty {
	if o.index != nil {
		return o.index[name]
	}
	for _, p := range o.props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Get returns the value of a property, nil when absent.
func (o *JObject) Get(name string) JToken {
	if p := o.Property(name); p != nil {
		return p.Value
	}
	return nil
}

// Set adds or replaces a property, keeping its position when it exists.
func (o *JObject) Set(name string, v JToken) {
	if v == nil {
		v = &JValue{}
	}
	if p := o.Property(name); p != nil {
		p.Value = v
		return
	}
	o.push(&JProperty{Name: name, Value: v, parent: o})
}

// push appends a property whose name is not in o yet.
func (o *JObject) push(p *JProperty) {
	o.props = append(o.props, p)
	switch {
	case o.index != nil:
		o.index[p.Name] = p
	case len(o.props) > jobjectIndexMin:
		o.index = make(map[string]*JProperty, 2*len(o.props))
		for _, q := range o.props {
			o.index[q.Name] = q
		}
	}
}

// Remove deletes a property and reports whether it existed. It is O(n):
// callers in expressions charge the scan.
func (o *JObject) Remove(name string) bool {
	p := o.Property(name)
	if p == nil {
		return false
	}
	for i, q := range o.props {
		if q == p {
			o.props = append(o.props[:i:i], o.props[i+1:]...)
			break
		}
	}
	if o.index != nil {
		delete(o.index, name)
	}
	p.parent = nil
	return true
}

func (o *JObject) addProp(p *JProperty) error {
	if o.Property(p.Name) != nil {
		return throwf("ArgumentException", "Can not add property %s to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.", p.Name)
	}
	if p.parent != nil {
		p = &JProperty{Name: p.Name, Value: deepClone(p.Value)}
	}
	p.parent = o
	o.push(p)
	return nil
}

func (*JObject) tokenType() string   { return "Object" }
func (*JArray) tokenType() string    { return "Array" }
func (*JProperty) tokenType() string { return "Property" }
func (v *JValue) tokenType() string {
	switch v.Value.(type) {
	case nil:
		return "Null"
	case string:
		return "String"
	case int64, int32:
		return "Integer"
	case float64:
		return "Float"
	case bool:
		return "Boolean"
	case time.Time:
		return "Date"
	case Guid:
		return "Guid"
	case time.Duration:
		return "TimeSpan"
	case []byte:
		return "Bytes"
	}
	return "Undefined"
}

// String is Newtonsoft's ToString(): indented JSON, or the raw text of a
// primitive value.
func (o *JObject) String() string   { return o.JSON(true) }
func (a *JArray) String() string    { return a.JSON(true) }
func (p *JProperty) String() string { return p.JSON(true) }
func (v *JValue) String() string    { return ToString(v.Value) }

// JSON implements JToken.
func (o *JObject) JSON(indent bool) string   { return writeJSON(o, indent) }
func (a *JArray) JSON(indent bool) string    { return writeJSON(a, indent) }
func (p *JProperty) JSON(indent bool) string { return writeJSON(p, indent) }
func (v *JValue) JSON(indent bool) string    { return writeJSON(v, indent) }

// ParseJSON parses JSON text into a token (JToken.Parse). Integers become
// int64 (float64 when out of range), other numbers float64. Date-looking
// strings stay strings (Newtonsoft would turn them into dates). Duplicate
// names in an object: the last value wins, at the first one's position
// (Json.NET's DuplicatePropertyNameHandling.Replace).
func ParseJSON(s string) (JToken, error) { return parseJSON(nil, s) }

// ParseJObject parses an object (JObject.Parse).
func ParseJObject(s string) (*JObject, error) { return parseJObject(nil, s) }

// ParseJArray parses an array (JArray.Parse).
func ParseJArray(s string) (*JArray, error) { return parseJArray(nil, s) }

func parseJObject(e *env, s string) (*JObject, error) {
	t, err := parseJSON(e, s)
	if err != nil {
		return nil, err
	}
	o, ok := t.(*JObject)
	if !ok {
		return nil, throwf("JsonReaderException", "Error reading JObject from JsonReader. Current JsonReader item is not an object: %s.", readerItem(t))
	}
	return o, nil
}

func parseJArray(e *env, s string) (*JArray, error) {
	t, err := parseJSON(e, s)
	if err != nil {
		return nil, err
	}
	a, ok := t.(*JArray)
	if !ok {
		return nil, throwf("JsonReaderException", "Error reading JArray from JsonReader. Current JsonReader item is not an array: %s.", readerItem(t))
	}
	return a, nil
}

func readerItem(t JToken) string {
	switch t.tokenType() {
	case "Object":
		return "StartObject"
	case "Array":
		return "StartArray"
	}
	return t.tokenType()
}

// maxJSONDepth is Json.NET's JsonReader.MaxDepth default (64 since 13.0):
// deeper nesting is rejected.
const maxJSONDepth = 64

// Parsing JSON charges the step budget, besides one step per 256 bytes up
// front, one quarter step per token (a name or a value) and one step per
// node it allocates (JValue, JObject, JArray, JProperty): 5/4 of a step
// per token, so one evaluation parses at most ~750k tokens (~0.4 s of CPU
// and ~90 MB allocated for the worst shapes, measured 2026-12-03).
const jsonQuartersPerToken = 5

// maxParsedItems is the elements of one JSON array, the properties of one
// JSON object, and the child nodes and attributes of one XML element that
// parsing accepts: the language's array limit.
const maxParsedItems = maxArrayLen

// parseJSON parses strict JSON (RFC 8259, as encoding/json accepts it) in
// one linear pass. With e, the work is charged to the evaluation's step
// budget (one step per 256 bytes up front, 5/4 of a step per token) and
// stops when the request is cancelled. An array or object of more than
// maxParsedItems entries is rejected, with or without e.
func parseJSON(e *env, s string) (JToken, error) {
	p := &jsonParser{e: e, s: strings.TrimPrefix(s, "\uFEFF")}
	if e != nil {
		if err := e.step(len(s) >> 8); err != nil {
			return nil, err
		}
	}
	p.skipWS()
	t, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.i < len(p.s) {
		return nil, p.errf("Additional text encountered after finished reading JSON content: %s.", p.charAt())
	}
	return t, nil
}

type jsonParser struct {
	e      *env
	s      string
	i      int
	tokens int
	path   []jsonFrame // open containers, for error messages
	// items and props are the open containers' contents, innermost last;
	// a closed container copies its own into an exact-size slice.
	items []JToken
	props []*JProperty
	// vals and jprops are allocated in blocks.
	vals   []JValue
	jprops []JProperty
}

const jsonBlock = 128

func (p *jsonParser) newValue(v any) *JValue {
	if len(p.vals) == 0 {
		p.vals = make([]JValue, jsonBlock)
	}
	jv := &p.vals[0]
	p.vals = p.vals[1:]
	jv.Value = v
	return jv
}

func (p *jsonParser) newProp(name string, v JToken) *JProperty {
	if len(p.jprops) == 0 {
		p.jprops = make([]JProperty, jsonBlock)
	}
	jp := &p.jprops[0]
	p.jprops = p.jprops[1:]
	jp.Name, jp.Value = name, v
	return jp
}

// jsonFrame is an open container: the current property name of an
// object, or the current index of an array.
type jsonFrame struct {
	obj   bool
	name  string
	index int
}

func (p *jsonParser) skipWS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// token counts one token, and the node it makes, against the budget.
func (p *jsonParser) token() error {
	before := p.tokens * jsonQuartersPerToken >> 2
	p.tokens++
	if n := p.tokens*jsonQuartersPerToken>>2 - before; p.e != nil && n > 0 {
		return p.e.step(n)
	}
	return nil
}

func (p *jsonParser) charAt() string {
	if p.i >= len(p.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return string(r)
}

// errf is a JsonReaderException with Json.NET's path/line/position suffix.
func (p *jsonParser) errf(format string, args ...any) error {
	var b strings.Builder
	for i, f := range p.path {
		switch {
		case !f.obj:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		case strings.ContainsAny(f.name, ".[]()'\" \t\r\n"):
			b.WriteString("['" + strings.ReplaceAll(f.name, "'", "\\'") + "']")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.name)
		}
	}
	i := min(p.i, len(p.s))
	line := 1 + strings.Count(p.s[:i], "\n")
	pos := utf8.RuneCountInString(p.s[strings.LastIndexByte(p.s[:i], '\n')+1 : i])
	return throwf("JsonReaderException", format+" Path '%s', line %d, position %d.", append(args, b.String(), line, pos)...)
}

func (p *jsonParser) eof() error { return p.errf("Unexpected end when reading JSON.") }

func (p *jsonParser) value(depth int) (JToken, error) {
	if err := p.token(); err != nil {
		return nil, err
	}
	if p.i >= len(p.s) {
		return nil, p.eof()
	}
	switch c := p.s[p.i]; {
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return nil, p.errf("The reader's MaxDepth of %d has been exceeded.", maxJSONDepth)
		}
		p.i++
		if c == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case c == '"':
		str, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.newValue(str), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return p.newValue(true), nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return p.newValue(false), nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return p.newValue(nil), nil
	}
	return nil, p.errf("Unexpected character encountered while parsing value: %s.", p.charAt())
}

func (p *jsonParser) object(depth int) (JToken, error) {
	p.path = append(p.path, jsonFrame{obj: true})
	f, base := len(p.path)-1, len(p.props)
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.path = p.path[:f]
		return &JObject{}, nil
	}
	for {
		if p.i >= len(p.s) {
			return nil, p.eof()
		}
		if p.s[p.i] != '"' {
			return nil, p.errf("Invalid property identifier character: %s.", p.charAt())
		}
		if err := p.token(); err != nil {
			return nil, err
		}
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		p.path[f].name = name
		p.skipWS()
		if p.i >= len(p.s) {
			return nil, p.eof()
		}
		if p.s[p.i] != ':' {
			return nil, p.errf("Invalid character after parsing property name. Expected ':' but got: %s.", p.charAt())
		}
		p.i++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		if len(p.props)-base >= maxParsedItems {
			return nil, p.errf("The object has more than %d properties, Gatehouse's limit for one JSON object.", maxParsedItems)
		}
		p.props = append(p.props, p.newProp(name, v))
		p.skipWS()
		if p.i >= len(p.s) {
			return nil, p.eof()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
			continue
		case '}':
			p.i++
			p.path = p.path[:f]
			o := newJObjectOf(p.props[base:])
			clear(p.props[base:])
			p.props = p.props[:base]
			return o, nil
		}
		return nil, p.errf("After parsing a value an unexpected character was encountered: %s.", p.charAt())
	}
}

// newJObjectOf makes an object of parsed properties. A repeated name
// keeps its first position and takes the last value (Json.NET's
// DuplicatePropertyNameHandling.Replace).
func newJObjectOf(ps []*JProperty) *JObject {
	o := &JObject{props: make([]*JProperty, 0, len(ps))}
	if len(ps) > jobjectIndexMin {
		o.index = make(map[string]*JProperty, len(ps))
	}
	for _, jp := range ps {
		if q := o.Property(jp.Name); q != nil {
			q.Value = jp.Value
			continue
		}
		jp.parent = o
		o.props = append(o.props, jp)
		if o.index != nil {
			o.index[jp.Name] = jp
		}
	}
	return o
}

func (p *jsonParser) array(depth int) (JToken, error) {
	p.path = append(p.path, jsonFrame{})
	f, base := len(p.path)-1, len(p.items)
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.path = p.path[:f]
		return &JArray{}, nil
	}
	for {
		p.path[f].index = len(p.items) - base
		if p.path[f].index >= maxParsedItems {
			return nil, p.errf("The array has more than %d items, Gatehouse's limit for one JSON array.", maxParsedItems)
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.items = append(p.items, v)
		p.skipWS()
		if p.i >= len(p.s) {
			return nil, p.eof()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
			continue
		case ']':
			p.i++
			p.path = p.path[:f]
			a := &JArray{Items: append([]JToken(nil), p.items[base:]...)}
			clear(p.items[base:])
			p.items = p.items[:base]
			return a, nil
		}
		return nil, p.errf("After parsing a value an unexpected character was encountered: %s.", p.charAt())
	}
}

// number scans a JSON number: int64 when it is an integer in range,
// float64 otherwise.
func (p *jsonParser) number() (JToken, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	bad := func() error {
		end := p.i
		for end < len(p.s) && strings.IndexByte(" \t\r\n,]}", p.s[end]) < 0 {
			end++
		}
		return p.errf("Input string '%s' is not a valid number.", p.s[start:end])
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, bad()
	}
	isInt := true
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		isInt = false
		if digits() == 0 {
			return nil, bad()
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		isInt = false
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, bad()
		}
	}
	if p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
		return nil, bad() // 01, 1.2.3
	}
	text := p.s[start:p.i]
	if isInt && len(text) <= 18 {
		var n int64
		for _, c := range []byte(strings.TrimPrefix(text, "-")) {
			n = n*10 + int64(c-'0')
		}
		if text[0] == '-' {
			n = -n
		}
		return p.newValue(n), nil
	}
	if isInt {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return p.newValue(i), nil
		}
	}
	f, _ := strconv.ParseFloat(text, 64) // out of range: ±Inf, as before
	return p.newValue(f), nil
}

// str scans a string at p.i (the opening quote). Invalid UTF-8 and
// unpaired surrogates become U+FFFD, as encoding/json does; control
// characters must be escaped.
func (p *jsonParser) str() (string, error) {
	p.i++ // "
	start := p.i
	// Fast path: plain ASCII/UTF-8 without escapes is a substring.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			p.i++
			return p.s[start : p.i-1], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			p.i++
			continue
		}
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		p.i += n
	}
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", p.errf("Invalid character in string: control characters must be escaped.")
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.eof()
			}
			esc := p.s[p.i+1]
			p.i += 2
			switch esc {
			case '"', '\\', '/':
				b = append(b, esc)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errf("Invalid Unicode escape sequence.")
				}
				if utf16.IsSurrogate(r) {
					// A valid pair is one rune; anything else is U+FFFD
					// and the following escape is read on its own.
					r1 := r
					r = unicode.ReplacementChar
					if save := p.i; strings.HasPrefix(p.s[p.i:], `\u`) {
						p.i += 2
						r2, ok := p.hex4()
						if d := utf16.DecodeRune(r1, r2); ok && d != unicode.ReplacementChar {
							r = d
						} else {
							p.i = save
						}
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.i--
				return "", p.errf("Bad JSON escape sequence: \\%s.", p.charAt())
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			b = utf8.AppendRune(b, r) // invalid bytes: U+FFFD
			p.i += n
		}
	}
	return "", p.eof()
}

// hex4 reads the four hex digits of a \u escape.
func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// writeJSON serializes like Newtonsoft (Formatting.Indented uses two
// spaces and "name": value).
func writeJSON(t JToken, indent bool) string {
	var b bytes.Buffer
	writeTok(&b, t, indent, 0)
	return b.String()
}

func newline(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

// writeItems writes the properties of an object or the items of an array
// between the two bytes of brackets.
func writeItems[T JToken](b *bytes.Buffer, brackets string, items []T, indent bool, depth int) {
	if len(items) == 0 {
		b.WriteString(brackets)
		return
	}
	b.WriteByte(brackets[0])
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if indent {
			newline(b, depth+1)
		}
		writeTok(b, it, indent, depth+1)
	}
	if indent {
		newline(b, depth)
	}
	b.WriteByte(brackets[1])
}

func writeTok(b *bytes.Buffer, t JToken, indent bool, depth int) {
	switch x := t.(type) {
	case *JObject:
		writeItems(b, "{}", x.props, indent, depth)
	case *JArray:
		writeItems(b, "[]", x.Items, indent, depth)
	case *JProperty:
		writeJSONString(b, x.Name)
		b.WriteByte(':')
		if indent {
			b.WriteByte(' ')
		}
		if x.Value == nil {
			b.WriteString("null")
		} else {
			writeTok(b, x.Value, indent, depth)
		}
	case *JValue:
		writePrimitive(b, x.Value)
	case nil:
		b.WriteString("null")
	}
}

func writePrimitive(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString(`"NaN"`)
		case math.IsInf(x, 1):
			b.WriteString(`"Infinity"`)
		case math.IsInf(x, -1):
			b.WriteString(`"-Infinity"`)
		default:
			s := formatDouble(x)
			if !strings.ContainsAny(s, ".E") {
				s += ".0"
			}
			b.WriteString(s)
		}
	case time.Time:
		writeJSONString(b, formatDateTime(x, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK"))
	case []byte:
		writeJSONString(b, base64.StdEncoding.EncodeToString(x))
	default:
		writeJSONString(b, ToString(x))
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029 {
				b.WriteString(`\u`)
				b.WriteString(strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// ToJToken converts a Go value to a token as Newtonsoft's JToken.FromObject
// would for the value kinds expressions produce.
func ToJToken(v any) (JToken, error) {
	switch x := v.(type) {
	case JToken:
		return x, nil
	case nil:
		return &JValue{}, nil
	case string, bool, int64, float64, time.Time, Guid, time.Duration:
		return &JValue{Value: x}, nil
	case int32:
		return &JValue{Value: int64(x)}, nil
	case byte:
		return &JValue{Value: int64(x)}, nil
	case Char:
		return &JValue{Value: string(rune(x))}, nil
	case DateTimeOffset:
		return &JValue{Value: x.T}, nil
	case []byte:
		return &JValue{Value: base64.StdEncoding.EncodeToString(x)}, nil
	case EnumValue:
		return &JValue{Value: int64(x.Value)}, nil
	case *Dict:
		o := &JObject{}
		for _, k := range x.keys {
			t, err := ToJToken(x.m[k])
			if err != nil {
				return nil, err
			}
			o.Set(ToString(k), t)
		}
		return o, nil
	case []string, []any, *List:
		items, _ := enumerate(x)
		a := &JArray{}
		for _, it := range items {
			t, err := ToJToken(it)
			if err != nil {
				return nil, err
			}
			a.Items = append(a.Items, t)
		}
		return a, nil
	}
	return nil, throwf("ArgumentException", "Could not determine JSON object type for type %s.", dotnetTypeName(v))
}

func deepClone(t JToken) JToken {
	switch x := t.(type) {
	case *JObject:
		o := &JObject{props: make([]*JProperty, 0, len(x.props))}
		for _, p := range x.props {
			o.push(&JProperty{Name: p.Name, Value: deepClone(p.Value), parent: o})
		}
		return o
	case *JArray:
		a := &JArray{Items: make([]JToken, len(x.Items))}
		for i, it := range x.Items {
			a.Items[i] = deepClone(it)
		}
		return a
	case *JProperty:
		return &JProperty{Name: x.Name, Value: deepClone(x.Value)}
	case *JValue:
		c := *x
		return &c
	}
	return t
}

// selectToken resolves simple JSONPath-like paths: a.b[0].c, ['a b'], $.
func selectToken(t JToken, path string) (JToken, error) {
	cur := t
	p := strings.TrimPrefix(path, "$")
	for len(p) > 0 && cur != nil {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, throwf("JsonException", "Path ended with an open indexer.")
			}
			in := p[1:end]
			p = p[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') {
				o, ok := cur.(*JObject)
				if !ok {
					return nil, nil
				}
				cur = o.Get(in[1 : len(in)-1])
				continue
			}
			i, err := strconv.Atoi(strings.TrimSpace(in))
			if err != nil {
				return nil, throwf("JsonException", "Unexpected character while parsing path indexer: %s", in)
			}
			a, ok := cur.(*JArray)
			if !ok || i < 0 || i >= len(a.Items) {
				return nil, nil
			}
			cur = a.Items[i]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			name := p[:end]
			p = p[end:]
			o, ok := cur.(*JObject)
			if !ok {
				return nil, nil
			}
			cur = o.Get(name)
		}
	}
	return cur, nil
}
