package apim

// JSON ⇄ XML conversion following Newtonsoft.Json's XmlNodeConverter, which
// APIM's json-to-xml and xml-to-json use:
//   - XML → JSON: the root element is the single top-level property;
//     attributes are "@name", text beside attributes or elements is
//     "#text", CDATA "#cdata-section"; elements repeated under one parent
//     become an array at the position of the first; an empty element is
//     null; all values are strings; the XML declaration is "?xml" (direct
//     kind only); namespace prefixes are kept in names ("ns:item").
//   - JSON → XML: properties become elements, arrays repeat their
//     property's element, "@name" properties become attributes, "#text"
//     text, null an empty element; names invalid in XML are encoded as
//     XmlConvert does (_xHHHH_).

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// jobj is an ordered JSON object.
type jobj struct {
	keys []string
	vals map[string]any
}

func (o *jobj) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// decodeOrdered decodes JSON into *jobj, []any, string, json.Number, bool, nil.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &jobj{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.set(kt.(string), v)
		}
		_, err := dec.Token()
		return o, err
	case '[':
		out := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		_, err := dec.Token()
		return out, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

func parseOrderedJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
}

// writeOrdered serialises a decodeOrdered/xmlToJSON value compactly.
func writeOrdered(b *bytes.Buffer, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case *jobj:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeOrdered(b, t.vals[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, it := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeOrdered(b, it)
		}
		b.WriteByte(']')
	case string:
		writeJSONString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	}
}

// xmlToJSON converts an XML document; declaration includes "?xml".
func xmlToJSON(data []byte, declaration, alwaysArray bool) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	root := &jobj{vals: map[string]any{}}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target == "xml" && declaration {
				d := &jobj{vals: map[string]any{}}
				for _, a := range parseProcAttrs(string(t.Inst)) {
					d.set("@"+a[0], a[1])
				}
				root.set("?xml", d)
			}
		case xml.StartElement:
			v, err := xmlElemToJSON(dec, t, declaration, alwaysArray)
			if err != nil {
				return nil, err
			}
			root.set(rawName(t.Name), v)
		}
	}
	if len(root.keys) == 0 {
		return nil, errors.New("no root element")
	}
	var b bytes.Buffer
	writeOrdered(&b, root)
	return b.Bytes(), nil
}

func parseProcAttrs(s string) [][2]string {
	var out [][2]string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) {
			break
		}
		name := strings.TrimSpace(s[:eq])
		rest := strings.TrimSpace(s[eq+1:])
		if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
			break
		}
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			break
		}
		out = append(out, [2]string{name, rest[1 : 1+end]})
		s = rest[end+2:]
	}
	return out
}

func rawName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// xmlElemToJSON converts an element; with alwaysArray every child element
// becomes an array, even one alone (always-array-child-elements).
func xmlElemToJSON(dec *xml.Decoder, se xml.StartElement, keepNS, alwaysArray bool) (any, error) {
	o := &jobj{vals: map[string]any{}}
	for _, a := range se.Attr {
		name := rawName(a.Name)
		if !keepNS && (name == "xmlns" || a.Name.Space == "xmlns") {
			continue
		}
		o.set("@"+name, a.Value)
	}
	var texts []string
	elems := 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elems++
			v, err := xmlElemToJSON(dec, t, keepNS, alwaysArray)
			if err != nil {
				return nil, err
			}
			name := rawName(t.Name)
			if prev, ok := o.vals[name]; ok {
				if arr, isArr := prev.(*xmlArray); isArr {
					arr.items = append(arr.items, v)
				} else {
					o.vals[name] = &xmlArray{items: []any{prev, v}}
				}
			} else if alwaysArray {
				o.set(name, &xmlArray{items: []any{v}})
			} else {
				o.set(name, v)
			}
		case xml.CharData:
			if s := string(t); strings.TrimSpace(s) != "" {
				texts = append(texts, s)
			}
		case xml.EndElement:
			// encoding/xml reports CDATA as CharData: it is folded into #text.
			for k, v := range o.vals {
				if a, ok := v.(*xmlArray); ok {
					o.vals[k] = a.items
				}
			}
			if elems == 0 && len(o.keys) == 0 {
				switch len(texts) {
				case 0:
					return nil, nil
				case 1:
					return texts[0], nil
				}
			}
			switch len(texts) {
			case 0:
			case 1:
				o.set("#text", texts[0])
			default:
				arr := make([]any, len(texts))
				for i, s := range texts {
					arr[i] = s
				}
				o.set("#text", arr)
			}
			return o, nil
		}
	}
}

type xmlArray struct{ items []any }

// jsonToXMLOptions are json-to-xml's attributes.
type jsonToXMLOptions struct {
	parseDate      bool
	nsSeparator    string
	attributeBlock string
	// nsPrefix marks namespace declarations: a property named nsPrefix or
	// nsPrefix + separator + name becomes xmlns / xmlns:name (default
	// "xmlns").
	nsPrefix string
}

// nsDeclaration is the xmlns attribute a property name declares ("" when
// it declares none).
func (o jsonToXMLOptions) nsDeclaration(k string) string {
	prefix, sep := o.nsPrefix, o.nsSeparator
	if prefix == "" {
		prefix = "xmlns"
	}
	if sep == "" {
		sep = ":"
	}
	switch {
	case k == prefix:
		return "xmlns"
	case strings.HasPrefix(k, prefix+sep) && len(k) > len(prefix+sep):
		return "xmlns:" + encodeXMLName(k[len(prefix+sep):])
	}
	return ""
}

// jsonToXML converts a JSON document to XML under a <Document> root.
func jsonToXML(data []byte, o jsonToXMLOptions) ([]byte, error) {
	v, err := parseOrderedJSON(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	o.element(&b, "Document", v)
	return b.Bytes(), nil
}

// encodeXMLName is XmlConvert.EncodeName: characters not allowed in an XML
// name become _xHHHH_.
func encodeXMLName(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i, r := range s {
		ok := unicode.IsLetter(r) || r == '_' || r == ':'
		if i > 0 {
			ok = ok || unicode.IsDigit(r) || r == '-' || r == '.'
		}
		if r == '_' && strings.HasPrefix(s[i:], "_x") {
			ok = false // escape the underscore of a literal _x so it round-trips
		}
		if ok {
			b.WriteRune(r)
		} else {
			if r > 0xFFFF {
				fmt.Fprintf(&b, "_x%08X_", r)
			} else {
				fmt.Fprintf(&b, "_x%04X_", r)
			}
		}
	}
	return b.String()
}

func (o jsonToXMLOptions) name(k string) string {
	if o.nsSeparator != "" && o.nsSeparator != ":" {
		k = strings.Replace(k, o.nsSeparator, ":", 1)
	}
	return encodeXMLName(k)
}

func (o jsonToXMLOptions) scalar(v any) string {
	switch t := v.(type) {
	case string:
		if o.parseDate {
			if d, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return expr.FormatCustomDate(d, "yyyy-MM-ddTHH:mm:ss.FFFFFFFK")
			}
		}
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return ""
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// element writes name with value v (arrays repeat the element).
func (o jsonToXMLOptions) element(b *bytes.Buffer, name string, v any) {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			if arr, ok := it.([]any); ok {
				// nested array: its own element wrapping the items
				b.WriteString("<" + name + ">")
				o.element(b, name, arr)
				b.WriteString("</" + name + ">")
				continue
			}
			o.element(b, name, it)
		}
		return
	case nil:
		b.WriteString("<" + name + " />")
		return
	case *jobj:
		b.WriteString("<" + name)
		var body bytes.Buffer
		for _, k := range t.keys {
			val := t.vals[k]
			switch {
			case strings.HasPrefix(k, "@") && len(k) > 1:
				fmt.Fprintf(b, " %s=\"%s\"", o.name(k[1:]), attrEscape(o.scalar(val)))
			case o.attributeBlock != "" && k == o.attributeBlock:
				if ab, ok := val.(*jobj); ok {
					for _, ak := range ab.keys {
						fmt.Fprintf(b, " %s=\"%s\"", o.name(ak), attrEscape(o.scalar(ab.vals[ak])))
					}
				}
			case o.nsDeclaration(k) != "":
				fmt.Fprintf(b, " %s=\"%s\"", o.nsDeclaration(k), attrEscape(o.scalar(val)))
			case k == "#text":
				body.WriteString(xmlEscape(o.scalar(val)))
			case k == "#cdata-section":
				body.WriteString("<![CDATA[" + o.scalar(val) + "]]>")
			case k == "?xml" || strings.HasPrefix(k, "#"):
				// declarations and comments are not written
			default:
				o.element(&body, o.name(k), val)
			}
		}
		if body.Len() == 0 {
			b.WriteString(" />")
			return
		}
		b.WriteString(">")
		b.Write(body.Bytes())
		b.WriteString("</" + name + ">")
		return
	}
	b.WriteString("<" + name + ">" + xmlEscape(o.scalar(v)) + "</" + name + ">")
}

func attrEscape(s string) string {
	s = xmlEscape(s)
	return strings.ReplaceAll(s, `"`, "&quot;")
}
