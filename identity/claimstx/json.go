package claimstx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// JSON claims transformations.

func init() {
	s := []DataType{String}
	register(&Method{Name: "GenerateJson", Family: "json",
		// Every InputClaim's TransformationClaimType and every
		// InputParameter's Id is a dot-notation JSON path.
		AnyInputs: true, AnyParams: true,
		Out: []Slot{req("outputClaim", s...)},
		Validate: func(inClaims, params, _ []Decl) []string {
			var msgs []string
			for _, d := range append(append([]Decl{}, inClaims...), params...) {
				if _, err := splitGenPath(d.Name); err != nil {
					msgs = append(msgs, err.Error())
				}
			}
			return msgs
		},
		Run: generateJSON})
	register(&Method{Name: "CreateJsonArray", Family: "json",
		Inputs: []Slot{req("inputClaim", String, PhoneNumber)},
		Out:    []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("inputClaim")
			if !ok {
				return Outputs{}, nil
			}
			return one("outputClaim", str("["+quoteJSON(v)+"]")), nil
		}})
	register(&Method{Name: "GetClaimFromJson", Family: "json",
		Inputs: []Slot{req("inputJson", s...)},
		Params: []Slot{req("claimToExtract", s...)},
		Out:    []Slot{req("extractedClaim")},
		Run: func(in Inputs) (Outputs, error) {
			return extract(in, "GetClaimFromJson", String)
		}})
	register(&Method{Name: "GetNumericClaimFromJson", Family: "json",
		Inputs: []Slot{req("inputJson", s...)},
		Params: []Slot{req("claimToExtract", s...)},
		Out:    []Slot{req("extractedClaim", Long, Int)},
		Run: func(in Inputs) (Outputs, error) {
			return extract(in, "GetNumericClaimFromJson", Long)
		}})
	register(&Method{Name: "GetClaimsFromJsonArray", Family: "json",
		Inputs: []Slot{req("jsonSourceClaim", String, StringCollection)},
		Params: []Slot{opt("errorOnMissingClaims", Boolean), opt("includeEmptyClaims", Boolean, String),
			req("jsonSourceKeyName", s...), req("jsonSourceValueName", s...)},
		AnyOutputs: true, // the output claims are named by the keys
		Run:        getClaimsFromJSONArray})
	register(&Method{Name: "GetSingleItemFromJson", Family: "json",
		Inputs: []Slot{req("inputJson", s...)},
		Out:    []Slot{opt("key", s...), opt("value")},
		Run: func(in Inputs) (Outputs, error) {
			const m = "GetSingleItemFromJson"
			src, ok := in.str("inputJson")
			if !ok {
				return Outputs{}, nil
			}
			v, err := parseJSON(src)
			if err != nil {
				return nil, fail(m, "inputJson: %v", err)
			}
			obj, isObj := v.(jobject)
			if !isObj {
				return nil, fail(m, "inputJson is not a JSON object")
			}
			if len(obj) == 0 {
				return Outputs{}, nil
			}
			out := Outputs{"key": str(obj[0].k)}
			if obj[0].v != nil {
				c, err := convert(m, "value", in.outType("value", String), jsonText(obj[0].v))
				if err != nil {
					return nil, err
				}
				out["value"] = c
			}
			return out, nil
		}})
	register(&Method{Name: "GetSingleValueFromJsonArray", Family: "json",
		Inputs: []Slot{req("inputJsonClaim", s...)},
		Out:    []Slot{req("extractedClaim")},
		Run: func(in Inputs) (Outputs, error) {
			const m = "GetSingleValueFromJsonArray"
			src, ok := in.str("inputJsonClaim")
			if !ok {
				return Outputs{}, nil
			}
			v, err := parseJSON(src)
			if err != nil {
				return nil, fail(m, "inputJsonClaim: %v", err)
			}
			arr, isArr := v.([]any)
			if !isArr {
				return nil, fail(m, "inputJsonClaim is not a JSON array")
			}
			if len(arr) == 0 || arr[0] == nil {
				return Outputs{}, nil
			}
			c, err := convert(m, "extractedClaim", in.outType("extractedClaim", String), jsonText(arr[0]))
			if err != nil {
				return nil, err
			}
			return one("extractedClaim", c), nil
		}})
}

// ---- an order-keeping JSON value model ----

type jkv struct {
	k string
	v any
}

// jobject is a JSON object in document order; other values are []any,
// json.Number, string, bool and nil.
type jobject []jkv

func (o jobject) get(k string) (any, bool) {
	for _, kv := range o {
		if kv.k == k {
			return kv.v, true
		}
	}
	return nil, false
}

const maxJSONDepth = 200

var errJSONDepth = errors.New("JSON nested too deeply")

func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	t, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			obj := jobject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, jkv{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", x)
	}
	return t, nil
}

// jsonText is a value's text as a claim: strings unquoted, numbers and
// booleans as written in JSON, objects and arrays as compact JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return FormatValue(x)
	case nil:
		return ""
	}
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(FormatValue(x))
	case json.Number:
		b.WriteString(x.String())
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case jobject:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, kv.k)
			b.WriteByte(':')
			writeJSON(b, kv.v)
		}
		b.WriteByte('}')
	case *jobject:
		writeJSON(b, *x)
	case *[]any:
		writeJSON(b, *x)
	default:
		writeJSONString(b, fmt.Sprint(x))
	}
}

// writeJSONString quotes like Json.NET: no HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// selectPath finds a value by a SelectToken-style path: dotted property
// names with [n] array indexes ("a.b[0].c") and ['name'] brackets.
func selectPath(v any, path string) (any, bool) {
	segs, ok := splitSelectPath(path)
	if !ok {
		return nil, false
	}
	for _, s := range segs {
		switch x := v.(type) {
		case jobject:
			if s.index >= 0 {
				return nil, false
			}
			if v, ok = x.get(s.name); !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

type pathSeg struct {
	name  string
	index int // -1 for a property
}

func splitSelectPath(path string) ([]pathSeg, bool) {
	var segs []pathSeg
	i := 0
	if strings.HasPrefix(path, "$") {
		i = 1
		if i < len(path) && path[i] == '.' {
			i++
		}
	}
	for i < len(path) {
		switch path[i] {
		case '.':
			i++
			if i >= len(path) {
				return nil, false
			}
		case '[':
			j := strings.IndexByte(path[i:], ']')
			if j < 0 {
				return nil, false
			}
			inner := path[i+1 : i+j]
			i += j + 1
			if len(inner) >= 2 && (inner[0] == '\'' && inner[len(inner)-1] == '\'' || inner[0] == '"' && inner[len(inner)-1] == '"') {
				segs = append(segs, pathSeg{name: inner[1 : len(inner)-1], index: -1})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return nil, false
			}
			segs = append(segs, pathSeg{index: n})
		default:
			j := i
			for j < len(path) && path[j] != '.' && path[j] != '[' {
				j++
			}
			segs = append(segs, pathSeg{name: path[i:j], index: -1})
			i = j
		}
	}
	return segs, true
}

func extract(in Inputs, m string, def DataType) (Outputs, error) {
	src, ok := in.str("inputJson")
	if !ok {
		return Outputs{}, nil
	}
	name, _ := in.param("claimToExtract")
	v, err := parseJSON(src)
	if err != nil {
		return nil, fail(m, "inputJson: %v", err)
	}
	x, found := selectPath(v, name)
	if !found || x == nil {
		return Outputs{}, nil // no element: the output claim is not set
	}
	c, err := convert(m, "extractedClaim", in.outType("extractedClaim", def), jsonText(x))
	if err != nil {
		return nil, err
	}
	return one("extractedClaim", c), nil
}

func getClaimsFromJSONArray(in Inputs) (Outputs, error) {
	const m = "GetClaimsFromJsonArray"
	errMissing, err := in.paramBool(m, "errorOnMissingClaims", false)
	if err != nil {
		return nil, err
	}
	includeEmpty, err := in.paramBool(m, "includeEmptyClaims", false)
	if err != nil {
		return nil, err
	}
	keyName, _ := in.param("jsonSourceKeyName")
	valueName, _ := in.param("jsonSourceValueName")
	var items []any
	switch src := in.Claims["jsonSourceClaim"].Value.(type) {
	case nil:
	case string:
		v, err := parseJSON(src)
		if err != nil {
			return nil, fail(m, "jsonSourceClaim: %v", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fail(m, "jsonSourceClaim is not a JSON array")
		}
		items = arr
	case []string:
		for i, e := range src {
			v, err := parseJSON(e)
			if err != nil {
				return nil, fail(m, "jsonSourceClaim item %d: %v", i, err)
			}
			items = append(items, v)
		}
	default:
		return nil, fail(m, "jsonSourceClaim is %T", src)
	}
	found := map[string]any{}
	var order []string
	for _, it := range items {
		obj, ok := it.(jobject)
		if !ok {
			continue
		}
		k, ok := obj.get(keyName)
		ks, isStr := k.(string)
		if !ok || !isStr {
			continue
		}
		v, _ := obj.get(valueName)
		if _, dup := found[ks]; !dup {
			order = append(order, ks)
		}
		found[ks] = v
	}
	out := Outputs{}
	wanted := in.Outputs
	if len(wanted) == 0 {
		wanted = map[string]DataType{}
		for _, k := range order {
			wanted[k] = ""
		}
	}
	for name, dt := range wanted {
		v, ok := found[name]
		if !ok {
			if errMissing {
				return nil, fail(m, "no item has %s %q", keyName, name)
			}
			continue
		}
		text := jsonText(v)
		if v == nil || text == "" {
			if includeEmpty {
				out[name] = Claim{DataType: orString(dt)}
			}
			continue
		}
		if dt == "" {
			switch v.(type) {
			case bool:
				dt = Boolean
			case json.Number:
				dt = Long
			}
		}
		c, err := convert(m, name, dt, text)
		if err != nil {
			return nil, err
		}
		out[name] = c
	}
	return out, nil
}

// splitGenPath splits a GenerateJson path ("personalizations.0.to.0.email"):
// numeric segments are array indexes.
func splitGenPath(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("empty JSON path")
	}
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("JSON path %q has an empty segment", path)
		}
		if n, err := strconv.Atoi(s); err == nil && (n < 0 || n > 10000) {
			return nil, fmt.Errorf("JSON path %q: index %d out of range", path, n)
		}
	}
	return segs, nil
}

func generateJSON(in Inputs) (Outputs, error) {
	const m = "GenerateJson"
	root := &jobject{}
	set := func(path string, v any) error {
		segs, err := splitGenPath(path)
		if err != nil {
			return fail(m, "%v", err)
		}
		return setPath(root, segs, v)
	}
	for _, name := range in.order(in.ClaimOrder, in.Claims) {
		c, ok := in.Claims[name]
		if !ok || c.Value == nil {
			continue // absent claims are left out
		}
		var v any
		switch x := c.Value.(type) {
		case []string:
			arr := make([]any, len(x))
			for i, e := range x {
				arr[i] = e
			}
			v = arr
		case time.Time:
			v = FormatDateTime(x)
		case int:
			v = int64(x)
		default:
			v = x
		}
		if err := set(name, v); err != nil {
			return nil, err
		}
	}
	porder := in.paramOrder()
	for _, id := range porder {
		p, ok := in.Params[id]
		if !ok {
			continue
		}
		var v any = p.Value
		switch p.DataType {
		case Boolean:
			b, err := parseBool(p.Value)
			if err != nil {
				return nil, fail(m, "input parameter %s: %v", id, err)
			}
			v = b
		case Int, Long:
			n, err := parseInt(p.Value)
			if err != nil {
				return nil, fail(m, "input parameter %s: %v", id, err)
			}
			v = n
		}
		if err := set(id, v); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	writeJSON(&b, *root)
	return one("outputClaim", str(b.String())), nil
}

// setPath sets v at segs under an object, creating objects and arrays
// (a numeric segment indexes an array) on the way.
func setPath(root *jobject, segs []string, v any) error {
	var cur any = root
	for i, s := range segs {
		last := i == len(segs)-1
		n, numErr := strconv.Atoi(s)
		isIndex := numErr == nil
		var next func() any
		if !last {
			if _, err := strconv.Atoi(segs[i+1]); err == nil {
				next = func() any { return &[]any{} }
			} else {
				next = func() any { return &jobject{} }
			}
		}
		switch c := cur.(type) {
		case *jobject:
			idx := -1
			for j := range *c {
				if (*c)[j].k == s {
					idx = j
					break
				}
			}
			if last {
				if idx >= 0 {
					(*c)[idx].v = v
				} else {
					*c = append(*c, jkv{s, v})
				}
				return nil
			}
			if idx < 0 {
				*c = append(*c, jkv{s, next()})
				idx = len(*c) - 1
			}
			child, ok := containerOf((*c)[idx].v)
			if !ok {
				(*c)[idx].v = next()
				child, _ = containerOf((*c)[idx].v)
			}
			cur = child
		case *[]any:
			if !isIndex {
				return fmt.Errorf("JSON path segment %q indexes an array", s)
			}
			for len(*c) <= n {
				*c = append(*c, nil)
			}
			if last {
				(*c)[n] = v
				return nil
			}
			child, ok := containerOf((*c)[n])
			if !ok {
				(*c)[n] = next()
				child, _ = containerOf((*c)[n])
			}
			cur = child
		}
	}
	return nil
}

func containerOf(v any) (any, bool) {
	switch v.(type) {
	case *jobject, *[]any:
		return v, true
	}
	return nil, false
}

func quoteJSON(s string) string {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}
