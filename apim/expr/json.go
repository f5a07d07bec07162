package expr

// Newtonsoft.Json.Linq model: JObject (ordered properties), JArray, JValue
// and JProperty, with parsing and serialization matching Newtonsoft's
// output (ToString() is indented with two spaces; Formatting.None is
// compact). Other packages may store these in context.Variables and
// return them from expressions.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// JToken is any JSON token: *JObject, *JArray, *JValue or *JProperty.
type JToken interface {
	// JSON serializes the token (indented like Newtonsoft's ToString() when
	// indent is true, compact like Formatting.None otherwise).
	JSON(indent bool) string
	tokenType() string
}

// JObject is a JSON object with insertion-ordered properties.
type JObject struct {
	props []*JProperty
}

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
	o.props = append(o.props, &JProperty{Name: name, Value: v, parent: o})
}

// Remove deletes a property and reports whether it existed.
func (o *JObject) Remove(name string) bool {
	for i, p := range o.props {
		if p.Name == name {
			o.props = append(o.props[:i:i], o.props[i+1:]...)
			p.parent = nil
			return true
		}
	}
	return false
}

func (o *JObject) addProp(p *JProperty) error {
	if o.Property(p.Name) != nil {
		return throwf("ArgumentException", "Can not add property %s to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.", p.Name)
	}
	if p.parent != nil {
		p = &JProperty{Name: p.Name, Value: deepClone(p.Value)}
	}
	p.parent = o
	o.props = append(o.props, p)
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
// strings stay strings (Newtonsoft would turn them into dates).
func ParseJSON(s string) (JToken, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	t, err := readToken(d, 0)
	if err != nil {
		return nil, jsonErr(err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, throwf("JsonReaderException", "Additional text encountered after finished reading JSON content.")
	}
	return t, nil
}

// ParseJObject parses an object (JObject.Parse).
func ParseJObject(s string) (*JObject, error) {
	t, err := ParseJSON(s)
	if err != nil {
		return nil, err
	}
	o, ok := t.(*JObject)
	if !ok {
		return nil, throwf("JsonReaderException", "Error reading JObject from JsonReader. Current JsonReader item is not an object: %s.", readerItem(t))
	}
	return o, nil
}

// ParseJArray parses an array (JArray.Parse).
func ParseJArray(s string) (*JArray, error) {
	t, err := ParseJSON(s)
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

func jsonErr(err error) error {
	var ce *csErr
	if errors.As(err, &ce) {
		return ce
	}
	if err == io.EOF {
		return throwf("JsonReaderException", "Unexpected end when reading JSON.")
	}
	return throwf("JsonReaderException", "%s", err.Error())
}

func readToken(d *json.Decoder, depth int) (JToken, error) {
	if depth > 512 {
		return nil, throwf("JsonReaderException", "The reader's MaxDepth of 512 has been exceeded.")
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := &JObject{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				name, _ := k.(string)
				v, err := readToken(d, depth+1)
				if err != nil {
					return nil, err
				}
				o.Set(name, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := &JArray{}
			for d.More() {
				v, err := readToken(d, depth+1)
				if err != nil {
					return nil, err
				}
				a.Items = append(a.Items, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, errors.New("unexpected delimiter")
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return &JValue{Value: i}, nil
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return &JValue{Value: f}, nil
	case string:
		return &JValue{Value: x}, nil
	case bool:
		return &JValue{Value: x}, nil
	case nil:
		return &JValue{}, nil
	}
	return nil, errors.New("unexpected token")
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
		o := &JObject{}
		for _, p := range x.props {
			o.props = append(o.props, &JProperty{Name: p.Name, Value: deepClone(p.Value), parent: o})
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
