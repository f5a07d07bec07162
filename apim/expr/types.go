package expr

import (
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Static types are C# type names ("string", "int", "IRequest", "JObject"
// ...). "object" means dynamic: members are resolved at run time from the
// value's Go type. Member tables for every type live in `types`; static
// classes (Convert, DateTime ...) live in `statics`.

const tObject = "object"

// iprop is an instance property.
type iprop struct {
	t   string
	get func(e *env, v any) (any, error)
}

// imethod is an instance method (overloads are resolved inside call).
// A result type "$T" means the first generic argument.
type imethod struct {
	t    string
	call func(e *env, v any, targs []string, args []any) (any, error)
}

// typeInfo describes the members of one type.
type typeInfo struct {
	parents  []string
	props    map[string]iprop
	methods  map[string]imethod
	indexT   string
	index    func(e *env, v any, args []any) (any, error)
	setIndex func(e *env, v any, args []any, val any) error
	setProps map[string]func(e *env, v, val any) error
	// checked types reject unknown members at compile time.
	checked bool
	// display is the name used in error messages (e.g. "context.Request").
	display string
}

var types = map[string]*typeInfo{}

// typ returns (creating) the table for a type name.
func typ(name string, parents ...string) *typeInfo {
	ti := types[name]
	if ti == nil {
		ti = &typeInfo{props: map[string]iprop{}, methods: map[string]imethod{}, setProps: map[string]func(*env, any, any) error{}}
		types[name] = ti
	}
	if len(parents) > 0 {
		ti.parents = parents
	}
	return ti
}

func (ti *typeInfo) prop(name, t string, get func(e *env, v any) (any, error)) *typeInfo {
	ti.props[name] = iprop{t: t, get: get}
	return ti
}

func (ti *typeInfo) method(name, t string, call func(e *env, v any, targs []string, args []any) (any, error)) *typeInfo {
	ti.methods[name] = imethod{t: t, call: call}
	return ti
}

// lookup walks the type, its parents and finally "object".
func lookupProp(t, name string) (iprop, bool) {
	var found iprop
	ok := walkTypes(t, func(ti *typeInfo) bool {
		p, ok := ti.props[name]
		found = p
		return ok
	})
	return found, ok
}

func lookupMethod(t, name string) (imethod, bool) {
	var found imethod
	ok := walkTypes(t, func(ti *typeInfo) bool {
		m, ok := ti.methods[name]
		found = m
		return ok
	})
	return found, ok
}

func lookupIndex(t string) (*typeInfo, bool) {
	var found *typeInfo
	ok := walkTypes(t, func(ti *typeInfo) bool {
		found = ti
		return ti.index != nil
	})
	return found, ok
}

func lookupSetIndex(t string) (*typeInfo, bool) {
	var found *typeInfo
	ok := walkTypes(t, func(ti *typeInfo) bool {
		found = ti
		return ti.setIndex != nil
	})
	return found, ok
}

func lookupSetProp(t, name string) (func(*env, any, any) error, bool) {
	var found func(*env, any, any) error
	ok := walkTypes(t, func(ti *typeInfo) bool {
		f, ok := ti.setProps[name]
		found = f
		return ok
	})
	return found, ok
}

func walkTypes(t string, f func(*typeInfo) bool) bool {
	seen := 0
	var walk func(t string) bool
	walk = func(t string) bool {
		seen++
		if seen > 32 {
			return false
		}
		ti := types[t]
		if ti == nil {
			return false
		}
		if f(ti) {
			return true
		}
		for _, p := range ti.parents {
			if walk(p) {
				return true
			}
		}
		return false
	}
	if walk(t) {
		return true
	}
	if t != tObject {
		return walk(tObject)
	}
	return false
}

// isChecked reports whether unknown members of static type t are compile
// errors.
func isChecked(t string) bool {
	ti := types[t]
	return ti != nil && ti.checked
}

// typeAliases maps C# spellings (after namespace stripping) to the
// canonical names used here.
var typeAliases = map[string]string{
	"String": "string", "Int32": "int", "Int64": "long", "Boolean": "bool", "Double": "double",
	"Single": "double", "float": "double", "decimal": "double", "Decimal": "double", "Object": "object",
	"Byte": "byte", "Char": "char", "Int16": "int", "short": "int", "UInt16": "int", "ushort": "int",
	"sbyte": "int", "SByte": "int", "uint": "long", "UInt32": "long", "ulong": "long", "UInt64": "long",
	"dynamic": "object", "IResponse": "IResponse", "IRequest": "IRequest", "IUrl": "IUrl",
	"IMessageBody": "IMessageBody", "JContainer": "JToken", "IEnumerable": "IEnumerable",
	"IList": "List", "ICollection": "List", "IReadOnlyList": "List", "IReadOnlyCollection": "List",
	"IDictionary": "Dictionary", "IReadOnlyDictionary": "Dictionary", "HashSet": "List",
	"HMACSHA256": "HMACSHA256", "SHA256Managed": "SHA256", "SHA1Managed": "SHA1", "SHA512Managed": "SHA512", "SHA384Managed": "SHA384",
	"Exception": "Exception",
}

// namespaces are stripped from qualified type names.
var namespaces = []string{
	"System.Security.Cryptography.X509Certificates.", "System.Security.Cryptography.", "System.Text.RegularExpressions.",
	"System.Collections.Generic.", "System.Text.", "System.Net.", "System.Linq.", "System.Xml.Linq.", "System.Xml.",
	"Newtonsoft.Json.Linq.", "Newtonsoft.Json.", "System.IO.", "System.Collections.", "System.",
}

// canonType canonicalizes a written type name (without generic args).
func canonType(name string) string {
	for _, ns := range namespaces {
		if strings.HasPrefix(name, ns) {
			name = name[len(ns):]
			break
		}
	}
	if a, ok := typeAliases[name]; ok {
		return a
	}
	return name
}

// typeName gives the canonical static type of a parsed type reference.
func typeName(t *typeRef) string {
	n := canonType(t.name)
	switch n {
	case "Nullable":
		if len(t.args) == 1 {
			n = typeName(t.args[0])
		}
	case "List", "IEnumerable":
		n = "List"
		if t.name == "IEnumerable" || strings.HasSuffix(t.name, ".IEnumerable") {
			n = "IEnumerable"
		}
	case "Dictionary":
	}
	for i := 0; i < t.array; i++ {
		switch n {
		case "string", "byte":
			n += "[]"
		default:
			n = "object[]"
		}
	}
	return n
}

// typeNameOf returns the static-type name of a run-time value.
func typeNameOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int32:
		return "int"
	case int64:
		return "long"
	case float64:
		return "double"
	case bool:
		return "bool"
	case Char:
		return "char"
	case byte:
		return "byte"
	case time.Time:
		return "DateTime"
	case time.Duration:
		return "TimeSpan"
	case DateTimeOffset:
		return "DateTimeOffset"
	case Guid:
		return "Guid"
	case EnumValue:
		return "Enum"
	case []byte:
		return "byte[]"
	case []string:
		return "string[]"
	case []any:
		return "object[]"
	case *List:
		return "List"
	case *Dict:
		return "Dictionary"
	case KeyValuePair:
		return "KeyValuePair"
	case *JObject:
		return "JObject"
	case *JArray:
		return "JArray"
	case *JValue:
		return "JValue"
	case *JProperty:
		return "JProperty"
	case *Context:
		return "context"
	case *Request:
		return "IRequest"
	case *URL:
		return "IUrl"
	case http.Header:
		return "IHeaders"
	case url.Values:
		return "IQuery"
	case map[string]string:
		return "IMatched"
	case map[string][]string:
		return "IClaims"
	case *Body:
		return "IMessageBody"
	case *Response:
		return "IResponse"
	case Variables:
		return "IVariables"
	case *Api:
		return "IApi"
	case *Operation:
		return "IOperation"
	case *Product:
		return "IProduct"
	case *Subscription:
		return "ISubscription"
	case *User:
		return "IUser"
	case *Deployment:
		return "IDeployment"
	case *LastError:
		return "ILastError"
	case *Jwt:
		return "Jwt"
	case *BasicAuth:
		return "BasicAuthCredentials"
	case *x509.Certificate:
		return "X509Certificate2"
	case *csErr:
		return "Exception"
	}
	if n, ok := v.(interface{ csType() string }); ok {
		return n.csType()
	}
	return tObject
}

// dotnetNames are the full .NET names used in InvalidCast messages.
var dotnetNames = map[string]string{
	"string": "System.String", "int": "System.Int32", "long": "System.Int64", "double": "System.Double",
	"bool": "System.Boolean", "char": "System.Char", "byte": "System.Byte", "DateTime": "System.DateTime",
	"TimeSpan": "System.TimeSpan", "Guid": "System.Guid", "DateTimeOffset": "System.DateTimeOffset",
	"byte[]": "System.Byte[]", "string[]": "System.String[]", "object[]": "System.Object[]",
	"List": "System.Collections.Generic.List`1[System.Object]", "Dictionary": "System.Collections.Generic.Dictionary`2[System.Object,System.Object]",
	"JObject": "Newtonsoft.Json.Linq.JObject", "JArray": "Newtonsoft.Json.Linq.JArray", "JValue": "Newtonsoft.Json.Linq.JValue",
	"JProperty": "Newtonsoft.Json.Linq.JProperty", "JToken": "Newtonsoft.Json.Linq.JToken",
	"IResponse": "Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.Policies.Expressions.IResponse",
	"Jwt":       "Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.Policies.Expressions.Jwt",
	"object":    "System.Object", "KeyValuePair": "System.Collections.Generic.KeyValuePair`2",
}

func dotnetName(t string) string {
	if n, ok := dotnetNames[t]; ok {
		return n
	}
	return t
}

func dotnetTypeName(v any) string {
	if v == nil {
		return "null"
	}
	if e, ok := v.(EnumValue); ok {
		return "System." + e.Type
	}
	return dotnetName(typeNameOf(v))
}
