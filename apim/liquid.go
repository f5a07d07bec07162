package apim

// Liquid templates for set-body template="liquid", in APIM's "C# mode":
// filters and members are PascalCase ({{ body.name | Upcase }},
// {{ context.Request.Headers["Authorization"] }}). The template engine is
// github.com/osteele/liquid; this file registers the PascalCase filter names
// and builds the `body` and `context` bindings.

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/osteele/liquid"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/values"
	"github.com/osteele/tuesday"
)

var (
	liquidOnce   sync.Once
	liquidEngine *liquid.Engine
)

// filterTable captures the library's standard filters so they can be
// registered again under DotLiquid's C# names.
type filterTable map[string]any

func (t filterTable) AddFilter(name string, fn any) { t[name] = fn }

// csharpFilterName turns a Liquid filter name into DotLiquid's C# name
// (url_encode → UrlEncode, truncatewords → TruncateWords).
func csharpFilterName(name string) string {
	switch name {
	case "truncatewords":
		return "TruncateWords"
	case "newline_to_br":
		return "NewlineToBr"
	}
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// liquidTemplates returns the shared engine: the standard (snake_case)
// filters plus their PascalCase names; Date also accepts .NET format strings.
func liquidTemplates() *liquid.Engine {
	liquidOnce.Do(func() {
		e := liquid.NewEngine()
		std := filterTable{}
		filters.AddStandardFilters(std)
		for name, fn := range std {
			e.RegisterFilter(csharpFilterName(name), fn)
		}
		e.RegisterFilter("Date", liquidDate)
		e.RegisterFilter("date", liquidDate)
		liquidEngine = e
	})
	return liquidEngine
}

// liquidDate formats a date: "now"/"today", a time value or a parseable
// string; a format containing '%' is strftime (Ruby), anything else is a
// .NET custom format string (DotLiquid's default in C# mode).
func liquidDate(v any, format func(string) string) (string, error) {
	var t time.Time
	switch d := v.(type) {
	case time.Time:
		t = d
	case nil:
		return "", nil
	default:
		s := strings.TrimSpace(fmt.Sprint(d))
		switch strings.ToLower(s) {
		case "now":
			t = time.Now()
		case "today":
			n := time.Now()
			t = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, n.Location())
		default:
			p, err := values.ParseDate(s)
			if err != nil {
				return s, nil // DotLiquid returns the input unchanged
			}
			t = p
		}
	}
	f := format("")
	if f == "" {
		return t.Format("1/2/2006 3:04:05 PM"), nil
	}
	if strings.Contains(f, "%") {
		return tuesday.Strftime(f, t)
	}
	return expr.FormatCustomDate(t, f), nil
}

// ldict is a Liquid object: ordered keys, optional case-insensitive lookup
// (headers), iterated as {Key, Value} pairs like DotLiquid iterates a
// dictionary, printed as str (or compact JSON).
type ldict struct{ d *ldictData }

type ldictData struct {
	keys []string
	vals map[string]any
	fold bool
	str  string
}

// kv is one iteration item of an ldict.
type kv struct {
	Key   string
	Value any
}

func newDict(fold bool) ldict {
	return ldict{&ldictData{vals: map[string]any{}, fold: fold}}
}

func (m ldict) set(k string, v any) {
	key := k
	if m.d.fold {
		key = strings.ToLower(k)
	}
	if _, ok := m.d.vals[key]; !ok {
		m.d.keys = append(m.d.keys, k)
	}
	m.d.vals[key] = v
}

func (m ldict) get(k string) (any, bool) {
	if m.d.fold {
		k = strings.ToLower(k)
	}
	v, ok := m.d.vals[k]
	return v, ok
}

// values.Value
func (m ldict) Interface() any            { return m }
func (m ldict) Int() int                  { return 0 }
func (m ldict) Equal(o values.Value) bool { return false }
func (m ldict) Less(values.Value) bool    { return false }
func (m ldict) Test() bool                { return true }
func (m ldict) Contains(v values.Value) bool {
	s, ok := v.Interface().(string)
	if !ok {
		return false
	}
	_, found := m.get(s)
	return found
}
func (m ldict) IndexValue(v values.Value) values.Value {
	s, ok := v.Interface().(string)
	if !ok {
		return values.ValueOf(nil)
	}
	r, _ := m.get(s)
	return values.ValueOf(r)
}
func (m ldict) PropertyValue(v values.Value) values.Value {
	if s, ok := v.Interface().(string); ok {
		if r, found := m.get(s); found {
			return values.ValueOf(r)
		}
		if s == "size" || s == "Size" || s == "Count" {
			return values.ValueOf(len(m.d.keys))
		}
	}
	return values.ValueOf(nil)
}

// iteration (the library's for tag accepts any Len/Index value)
func (m ldict) Len() int { return len(m.d.keys) }
func (m ldict) Index(i int) any {
	k := m.d.keys[i]
	v, _ := m.get(k)
	return kv{k, v}
}

func (m ldict) String() string {
	if m.d.str != "" {
		return m.d.str
	}
	data, _ := json.Marshal(m.plain())
	return string(data)
}

// plain converts to Go maps for JSON output.
func (m ldict) plain() any {
	out := make(map[string]any, len(m.d.keys))
	for _, k := range m.d.keys {
		v, _ := m.get(k)
		if d, ok := v.(ldict); ok {
			v = d.plain()
		}
		out[k] = v
	}
	return out
}

// liquidModel converts policy-side values into Liquid values: structs and
// pointers become ldicts of their exported fields, headers become
// case-insensitive dictionaries of comma-joined values, IUrl prints as the
// URL, JSON tokens become dictionaries and arrays.
func liquidModel(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case string, bool, int, int32, int64, float64, time.Time:
		return t
	case time.Duration:
		return t.String()
	case []byte:
		return string(t)
	case http.Header:
		d := newDict(true)
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.set(k, strings.Join(t[k], ","))
		}
		return d
	case map[string]string:
		d := newDict(false)
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.set(k, t[k])
		}
		return d
	case expr.Variables:
		d := newDict(false)
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.set(k, liquidModel(t[k]))
		}
		return d
	case *expr.URL:
		if t == nil {
			return nil
		}
		d := newDict(false)
		d.set("Scheme", t.Scheme)
		d.set("Host", t.Host)
		d.set("Port", t.Port)
		d.set("Path", t.Path)
		q := newDict(false)
		keys := make([]string, 0, len(t.Query))
		for k := range t.Query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q.set(k, strings.Join(t.Query[k], ","))
		}
		d.set("Query", q)
		qs := ""
		if len(t.Query) > 0 {
			qs = "?" + t.Query.Encode()
		}
		d.set("QueryString", qs)
		d.d.str = urlString(t)
		return d
	case *expr.Body:
		return nil
	case expr.JToken:
		return jsonModel(t)
	case fmt.Stringer:
		if _, ok := v.(*expr.Jwt); !ok && reflect.TypeOf(v).Kind() != reflect.Pointer {
			return t.String()
		}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct:
		d := newDict(false)
		rt := rv.Type()
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if !f.IsExported() || f.Type.Kind() == reflect.Func {
				continue
			}
			d.set(f.Name, liquidModel(rv.Field(i).Interface()))
		}
		return d
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = liquidModel(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		d := newDict(false)
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			d.set(fmt.Sprint(k.Interface()), liquidModel(rv.MapIndex(k).Interface()))
		}
		return d
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	}
	return expr.ToString(v)
}

// jsonModel converts a Newtonsoft token.
func jsonModel(t expr.JToken) any {
	switch j := t.(type) {
	case *expr.JObject:
		d := newDict(false)
		for _, p := range j.Properties() {
			d.set(p.Name, jsonModel(p.Value))
		}
		return d
	case *expr.JArray:
		out := make([]any, len(j.Items))
		for i, it := range j.Items {
			out[i] = jsonModel(it)
		}
		return out
	case *expr.JProperty:
		return kv{j.Name, jsonModel(j.Value)}
	case *expr.JValue:
		return liquidModel(j.Value)
	}
	return nil
}

// decodeJSONModel decodes JSON into ldicts (keeping property order),
// slices and numbers (int64 when integral).
func decodeJSONModel(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := newDict(false)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeJSONModel(dec)
				if err != nil {
					return nil, err
				}
				d.set(kt.(string), v)
			}
			_, err := dec.Token()
			return d, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := decodeJSONModel(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n, nil
		}
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) {
			return t.String(), nil
		}
		return f, nil
	}
	return tok, nil
}

// liquidBody parses a message body for the `body` binding: JSON when the
// content type says JSON (or the body looks like JSON without a content
// type), XML likewise; anything else binds nothing.
func liquidBody(data []byte, contentType string) any {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	ct := strings.ToLower(contentType)
	isJSON := strings.Contains(ct, "json") || (ct == "" && (trimmed[0] == '{' || trimmed[0] == '['))
	isXML := strings.Contains(ct, "xml") || (ct == "" && trimmed[0] == '<')
	switch {
	case isJSON:
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		v, err := decodeJSONModel(dec)
		if err != nil {
			return nil
		}
		return v
	case isXML:
		v, err := xmlModel(trimmed)
		if err != nil {
			return nil
		}
		return v
	}
	return nil
}

// xmlModel converts an XML document to the shape Newtonsoft's
// XmlNodeConverter gives it (the root element is the single top-level
// member; attributes are "@name", text next to elements or attributes is
// "#text", repeated elements become arrays).
func xmlModel(data []byte) (any, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := newDict(false)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			v, err := xmlElementModel(dec, se)
			if err != nil {
				return nil, err
			}
			root.set(xmlName(se.Name), v)
			return root, nil
		}
	}
}

func xmlName(n xml.Name) string { return n.Local }

func xmlElementModel(dec *xml.Decoder, se xml.StartElement) (any, error) {
	d := newDict(false)
	for _, a := range se.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		d.set("@"+a.Name.Local, a.Value)
	}
	var text strings.Builder
	children := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			children = true
			v, err := xmlElementModel(dec, t)
			if err != nil {
				return nil, err
			}
			name := xmlName(t.Name)
			if prev, ok := d.get(name); ok {
				if arr, ok := prev.([]any); ok {
					d.set(name, append(arr, v))
				} else {
					d.set(name, []any{prev, v})
				}
			} else {
				d.set(name, v)
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			s := text.String()
			if !children && d.Len() == 0 {
				if s == "" {
					return nil, nil
				}
				return s, nil
			}
			if strings.TrimSpace(s) != "" {
				d.set("#text", strings.TrimSpace(s))
			}
			return d, nil
		}
	}
}

// liquidContext builds the `context` binding.
func liquidContext(x *Exec) ldict {
	c := x.Ctx
	d := newDict(false)
	if c.Request != nil {
		r := newDict(false)
		r.set("Method", c.Request.Method)
		r.set("Url", liquidModel(c.Request.Url))
		r.set("OriginalUrl", liquidModel(c.Request.OriginalUrl))
		r.set("Headers", liquidModel(c.Request.Headers))
		r.set("IpAddress", c.Request.IpAddress)
		r.set("MatchedParameters", liquidModel(c.Request.MatchedParameters))
		if c.Request.Certificate != nil {
			r.set("Certificate", certModel(c.Request.Certificate.Raw, c.Request.Certificate.Subject.String(), c.Request.Certificate.Issuer.String()))
		}
		d.set("Request", r)
	}
	if c.Response != nil {
		r := newDict(false)
		r.set("StatusCode", int64(c.Response.StatusCode))
		r.set("StatusReason", c.Response.StatusReason)
		r.set("Headers", liquidModel(c.Response.Headers))
		d.set("Response", r)
	}
	d.set("Variables", liquidModel(c.Variables))
	d.set("Api", liquidModel(c.Api))
	d.set("Operation", liquidModel(c.Operation))
	d.set("Product", liquidModel(c.Product))
	d.set("Subscription", liquidModel(c.Subscription))
	d.set("User", liquidModel(c.User))
	d.set("Deployment", liquidModel(c.Deployment))
	d.set("LastError", liquidModel(c.LastError))
	d.set("RequestId", c.RequestId)
	d.set("Timestamp", c.Timestamp)
	d.set("Tracing", c.Tracing)
	if !c.Timestamp.IsZero() {
		d.set("Elapsed", x.Now().Sub(c.Timestamp).String())
	}
	return d
}

func certModel(raw []byte, subject, issuer string) ldict {
	d := newDict(false)
	d.set("Subject", subject)
	d.set("Issuer", issuer)
	d.set("Thumbprint", certThumbprint(raw))
	return d
}

// certThumbprint is the SHA-1 thumbprint of a DER certificate, uppercase
// hex as .NET's X509Certificate2.Thumbprint.
func certThumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
