package expr

import (
	"crypto/x509"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Casts follow C#'s explicit conversions with one documented leniency:
// numeric "unboxing" converts between numeric types ((int) of a boxed long
// in range, or of a double, succeeds instead of throwing
// InvalidCastException). (string) of a non-string value fails as in C#.

var knownTypes = map[string]bool{
	"object": true, "string": true, "int": true, "long": true, "double": true, "bool": true, "char": true,
	"byte": true, "DateTime": true, "TimeSpan": true, "Guid": true, "DateTimeOffset": true, "byte[]": true,
	"string[]": true, "object[]": true, "List": true, "Dictionary": true, "IEnumerable": true, "JToken": true,
	"JObject": true, "JArray": true, "JValue": true, "JProperty": true, "IResponse": true, "Jwt": true,
	"IRequest": true, "IUrl": true, "IMessageBody": true, "KeyValuePair": true, "Exception": true,
	"BasicAuthCredentials": true, "X509Certificate2": true, "Uri": true, "Random": true, "Regex": true,
	"Match": true, "StringBuilder": true, "HMACSHA256": true, "HMACSHA1": true, "HMACSHA512": true,
	"HMACSHA384": true, "HMACMD5": true, "SHA256": true, "SHA1": true, "SHA512": true, "SHA384": true, "MD5": true,
	"HashAlgorithm": true, "HMAC": true, "Func": true, "Action": true, "var": true, "Enum": true,
	"StringComparison": true, "JTokenType": true, "Formatting": true, "IHeaders": true, "IQuery": true,
	"IVariables": true, "IClaims": true, "Encoding": true, "Tuple": true,
}

func knownType(t string) bool {
	if knownTypes[t] {
		return true
	}
	if _, ok := exceptionParents[t]; ok {
		return true
	}
	return false
}

// zeroValue is default(T).
func zeroValue(t string) any {
	switch t {
	case "int":
		return int32(0)
	case "long":
		return int64(0)
	case "double":
		return float64(0)
	case "bool":
		return false
	case "char":
		return Char(0)
	case "byte":
		return byte(0)
	case "DateTime":
		return time.Time{}
	case "TimeSpan":
		return time.Duration(0)
	case "Guid":
		return Guid{}
	}
	return nil
}

// implicitConvert applies C#'s implicit conversions on assignment to a
// variable declared with type t.
func implicitConvert(v any, t string) (any, error) {
	switch t {
	case "long":
		switch x := v.(type) {
		case int32:
			return int64(x), nil
		case byte:
			return int64(x), nil
		case Char:
			return int64(x), nil
		}
	case "double":
		if k, _, f := num(v); k != kNone {
			return f, nil
		}
	case "int":
		switch x := v.(type) {
		case byte:
			return int32(x), nil
		case Char:
			return int32(x), nil
		}
	case "byte":
		if x, ok := v.(int32); ok && x >= 0 && x <= 255 {
			return byte(x), nil
		}
	case "JToken", "JValue":
		switch v.(type) {
		case JToken, nil:
		default:
			return ToJToken(v)
		}
	case "XName":
		if s, ok := v.(string); ok {
			return parseXName(s)
		}
	case "XNamespace":
		if s, ok := v.(string); ok {
			return XNamespace{URI: s}, nil
		}
	}
	return v, nil
}

// isType is the `is` test.
func isType(v any, t string) bool {
	if v == nil {
		return false
	}
	switch t {
	case "object":
		return true
	case "JToken":
		_, ok := v.(JToken)
		return ok
	case "IEnumerable":
		_, err := enumerate(v)
		return err == nil
	case "Exception":
		_, ok := v.(*csErr)
		return ok
	}
	found := false
	n := typeNameOf(v)
	if n == t {
		return true
	}
	walkTypes(n, func(ti *typeInfo) bool {
		if ti == types[t] {
			found = true
		}
		return found
	})
	return found
}

// castTo is the explicit conversion (T)v.
func castTo(v any, t string) (any, error) {
	if s, ok := xmlValue(v); ok {
		switch t {
		case "string", "int", "long", "double", "bool", "DateTime", "Guid":
			return castXML(s, t)
		}
	}
	switch t {
	case "object", "var":
		return v, nil
	case "string":
		switch x := v.(type) {
		case nil, string:
			return v, nil
		case *JValue:
			return jvString(x)
		case JToken:
			return nil, throwf("ArgumentException", "Can not convert %s to String.", x.tokenType())
		}
		return nil, errCast(v, t)
	case "int", "long", "double", "byte", "char":
		return castNumeric(v, t)
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case *JValue:
			switch y := x.Value.(type) {
			case bool:
				return y, nil
			case string:
				return parseBool(y)
			case int64:
				return y != 0, nil
			case float64:
				return y != 0, nil
			case nil:
				return nil, throwf("ArgumentException", "Can not convert Null to Boolean.")
			}
		case nil:
			return nil, errNullRef()
		}
		return nil, errCast(v, t)
	case "DateTime":
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case *JValue:
			switch y := x.Value.(type) {
			case time.Time:
				return y, nil
			case string:
				return parseDateTime(y)
			}
		case nil:
			return nil, errNullRef()
		}
		return nil, errCast(v, t)
	case "TimeSpan":
		if d, ok := v.(time.Duration); ok {
			return d, nil
		}
		if v == nil {
			return nil, errNullRef()
		}
		return nil, errCast(v, t)
	case "Guid":
		switch x := v.(type) {
		case Guid:
			return x, nil
		case *JValue:
			if s, ok := x.Value.(string); ok {
				if g, ok := ParseGuid(s); ok {
					return g, nil
				}
			}
			if g, ok := x.Value.(Guid); ok {
				return g, nil
			}
		case nil:
			return nil, errNullRef()
		}
		return nil, errCast(v, t)
	case "JToken":
		if _, ok := v.(JToken); ok || v == nil {
			return v, nil
		}
		return nil, errCast(v, t)
	case "object[]":
		switch v.(type) {
		case nil, []any, []string:
			return v, nil
		}
		return nil, errCast(v, t)
	case "IEnumerable":
		if v == nil {
			return nil, nil
		}
		if _, err := enumerate(v); err != nil {
			return nil, errCast(v, t)
		}
		return v, nil
	case "Exception":
		if _, ok := v.(*csErr); ok || v == nil {
			return v, nil
		}
		return nil, errCast(v, t)
	}
	if v == nil || isType(v, t) {
		return v, nil
	}
	return nil, errCast(v, t)
}

func castNumeric(v any, t string) (any, error) {
	if v == nil {
		return nil, errNullRef()
	}
	if jv, ok := v.(*JValue); ok {
		return jvNumeric(jv, t)
	}
	if e, ok := v.(EnumValue); ok {
		v = int32(e.Value)
	}
	k, i, f := num(v)
	if k == kNone {
		return nil, errCast(v, t)
	}
	if k == kDouble {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			i = math.MinInt64
		} else if f >= -9.2e18 && f <= 9.2e18 {
			i = int64(f) // truncation toward zero
		} else {
			i = math.MinInt64
		}
	}
	switch t {
	case "int":
		return int32(i), nil
	case "long":
		return i, nil
	case "double":
		return f, nil
	case "byte":
		return byte(i), nil
	case "char":
		return Char(uint16(i)), nil
	}
	return nil, errCast(v, t)
}

// jvNumeric is Newtonsoft's explicit conversion of a JValue to a number.
func jvNumeric(jv *JValue, t string) (any, error) {
	var f float64
	switch x := jv.Value.(type) {
	case int64:
		return castNumeric(x, t)
	case float64:
		f = x
		if t == "double" {
			return f, nil
		}
		return castNumeric(math.RoundToEven(f), t)
	case bool:
		if x {
			return castNumeric(int32(1), t)
		}
		return castNumeric(int32(0), t)
	case string:
		if t == "double" {
			g, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, errFormat("Input string was not in a correct format.")
			}
			return g, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, errFormat("Input string was not in a correct format.")
		}
		if t == "int" && (n > math.MaxInt32 || n < math.MinInt32) {
			return nil, throwf("OverflowException", "Value was either too large or too small for an Int32.")
		}
		return castNumeric(n, t)
	case nil:
		return nil, throwf("ArgumentException", "Can not convert Null to %s.", strings.TrimPrefix(dotnetName(t), "System."))
	}
	return nil, throwf("ArgumentException", "Can not convert %s to %s.", jv.tokenType(), strings.TrimPrefix(dotnetName(t), "System."))
}

// jvString is (string)JValue.
func jvString(jv *JValue) (any, error) {
	switch x := jv.Value.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case time.Time:
		return formatDateTime(x, "MM/dd/yyyy HH:mm:ss"), nil
	case []byte:
		return nil, throwf("ArgumentException", "Can not convert Bytes to String.")
	}
	return ToString(jv.Value), nil
}

// tokenValue converts a token for Value<T>() / ToObject<T>().
func tokenValue(t JToken, typ string) (any, error) {
	if t == nil {
		return zeroValue(typ), nil
	}
	switch typ {
	case "JToken", "object", "JObject", "JArray", "JValue":
		return castTo(t, typ)
	}
	return castTo(t, typ)
}

// enumerate lists the elements of an enumerable value (foreach, LINQ).
func enumerate(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errNullRef()
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case []byte:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case string:
		out := make([]any, 0, utf8.RuneCountInString(x))
		for _, r := range x {
			out = append(out, Char(r))
		}
		return out, nil
	case *List:
		return x.Items, nil
	case *JArray:
		out := make([]any, len(x.Items))
		for i, t := range x.Items {
			out[i] = t
		}
		return out, nil
	case *JObject:
		out := make([]any, len(x.props))
		for i, p := range x.props {
			out[i] = KeyValuePair{Key: p.Name, Value: p.Value}
		}
		return out, nil
	case *JProperty:
		return []any{x.Value}, nil
	case *Dict:
		out := make([]any, len(x.keys))
		for i, k := range x.keys {
			out[i] = KeyValuePair{Key: k, Value: x.m[k]}
		}
		return out, nil
	case http.Header:
		return kvSorted(len(x), func(f func(string, any)) {
			for k, v := range x {
				f(k, v)
			}
		}), nil
	case url.Values:
		return kvSorted(len(x), func(f func(string, any)) {
			for k, v := range x {
				f(k, v)
			}
		}), nil
	case map[string][]string:
		return kvSorted(len(x), func(f func(string, any)) {
			for k, v := range x {
				f(k, v)
			}
		}), nil
	case map[string]string:
		return kvSorted(len(x), func(f func(string, any)) {
			for k, v := range x {
				f(k, v)
			}
		}), nil
	case Variables:
		return kvSorted(len(x), func(f func(string, any)) {
			for k, v := range x {
				f(k, v)
			}
		}), nil
	case *x509.Certificate:
	}
	if s, ok := v.(interface{ items() []any }); ok {
		return s.items(), nil
	}
	return nil, throwf("RuntimeBinderException", "foreach statement cannot operate on variables of type '%s'", dotnetTypeName(v))
}

// kvSorted builds KeyValuePairs of a Go map in key order (Go maps have no
// order; sorting keeps evaluation deterministic).
func kvSorted(n int, each func(func(string, any))) []any {
	out := make([]any, 0, n)
	each(func(k string, v any) { out = append(out, KeyValuePair{Key: k, Value: v}) })
	sort.Slice(out, func(i, j int) bool { return out[i].(KeyValuePair).Key.(string) < out[j].(KeyValuePair).Key.(string) })
	return out
}

func parseBool(s string) (any, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, errFormat("String '" + s + "' was not recognized as a valid Boolean.")
}
