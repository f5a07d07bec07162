package apim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// cache-lookup-value / cache-store-value / cache-remove-value on Env.Cache.
// caching-type is accepted; internal, external and prefer-external all use
// Env.Cache (memory, or Redis when the gateway has one). Values are stored
// with a type tag so strings, numbers, booleans, dates, byte[], Jwt and
// JObject/JArray come back with the type they were stored with.
//
// A lookup miss sets variable-name to default-value when one is given and
// leaves the variable unset otherwise: the published samples test a miss
// with context.Variables.ContainsKey. A cache error is treated as a miss
// (lookup) or logged (store, remove), never failing the request. Without a
// configured cache every lookup misses.

func init() {
	Register(Spec{Name: "cache-lookup-value", Compile: compileCacheLookupValue})
	Register(Spec{Name: "cache-store-value", Compile: compileCacheStoreValue})
	Register(Spec{Name: "cache-remove-value", Compile: compileCacheRemoveValue})
}

var cachingTypes = []string{"internal", "external", "prefer-external"}

type cacheLookupValue struct {
	key      Value
	variable string
	def      Value
}

type cacheStoreValue struct{ key, value, duration Value }

type cacheRemoveValue struct{ key Value }

func cacheCommon(b *Builder, n *rawxml.Node, attrs ...string) (Value, error) {
	if err := b.Attrs(n, append([]string{"key", "caching-type"}, attrs...)...); err != nil {
		return Value{}, err
	}
	if err := b.Children(n); err != nil {
		return Value{}, err
	}
	ct, err := b.ConstAttr(n, "caching-type")
	if err != nil {
		return Value{}, err
	}
	if err := checkEnum(b, ct, "caching-type", cachingTypes...); err != nil {
		return Value{}, err
	}
	key, err := b.Attr(n, "key")
	if err != nil {
		return Value{}, err
	}
	if !key.Set {
		return Value{}, b.Errorf(n.Pos, "%s: attribute \"key\" is required", n.Name)
	}
	return key, nil
}

func compileCacheLookupValue(b *Builder, n *rawxml.Node) (Policy, error) {
	key, err := cacheCommon(b, n, "variable-name", "default-value")
	if err != nil {
		return nil, err
	}
	v, err := b.ConstAttr(n, "variable-name")
	if err != nil {
		return nil, err
	}
	if v.Lit == "" {
		return nil, b.Errorf(n.Pos, "cache-lookup-value: attribute \"variable-name\" is required")
	}
	def, err := b.Attr(n, "default-value")
	if err != nil {
		return nil, err
	}
	return &cacheLookupValue{key, v.Lit, def}, nil
}

func compileCacheStoreValue(b *Builder, n *rawxml.Node) (Policy, error) {
	key, err := cacheCommon(b, n, "value", "duration")
	if err != nil {
		return nil, err
	}
	p := &cacheStoreValue{key: key}
	if p.value, err = b.Attr(n, "value"); err != nil {
		return nil, err
	}
	if p.duration, err = b.Attr(n, "duration"); err != nil {
		return nil, err
	}
	if !p.value.Set || !p.duration.Set {
		return nil, b.Errorf(n.Pos, "cache-store-value: attributes \"value\" and \"duration\" are required")
	}
	if err := checkNonNegInt(b, p.duration, "duration"); err != nil {
		return nil, err
	}
	return p, nil
}

func compileCacheRemoveValue(b *Builder, n *rawxml.Node) (Policy, error) {
	key, err := cacheCommon(b, n)
	if err != nil {
		return nil, err
	}
	return &cacheRemoveValue{key}, nil
}

// cacheKey namespaces value-cache entries from other users of the store.
func cacheKey(k string) string { return "apim:value:" + k }

func (p *cacheLookupValue) Exec(x *Exec) error {
	key, err := x.String(p.key)
	if err != nil {
		return err
	}
	if x.Env != nil && x.Env.Cache != nil {
		data, ok, err := x.Env.Cache.Get(x.Context(), cacheKey(key))
		if err != nil {
			x.logger().Warn("apim: cache-lookup-value failed, treated as a miss", "error", err.Error())
		} else if ok {
			if v, err := decodeCached(data); err == nil {
				x.Ctx.Variables[p.variable] = v
				return nil
			}
		}
	}
	if p.def.Set {
		v, err := x.Eval(p.def)
		if err != nil {
			return err
		}
		x.Ctx.Variables[p.variable] = v
	}
	return nil
}

func (p *cacheStoreValue) Exec(x *Exec) error {
	key, err := x.String(p.key)
	if err != nil {
		return err
	}
	v, err := x.Eval(p.value)
	if err != nil {
		return err
	}
	secs, err := x.Int(p.duration, 0)
	if err != nil {
		return err
	}
	if x.Env == nil || x.Env.Cache == nil || secs <= 0 {
		return nil
	}
	data, err := encodeCached(v)
	if err != nil {
		x.logger().Warn("apim: cache-store-value: value cannot be cached", "error", err.Error())
		return nil
	}
	if err := x.Env.Cache.Set(x.Context(), cacheKey(key), data, time.Duration(secs)*time.Second); err != nil {
		x.logger().Warn("apim: cache-store-value failed", "error", err.Error())
	}
	return nil
}

func (p *cacheRemoveValue) Exec(x *Exec) error {
	key, err := x.String(p.key)
	if err != nil {
		return err
	}
	if x.Env != nil && x.Env.Cache != nil {
		if err := x.Env.Cache.Delete(x.Context(), cacheKey(key)); err != nil {
			x.logger().Warn("apim: cache-remove-value failed", "error", err.Error())
		}
	}
	return nil
}

type cached struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v,omitempty"`
}

// encodeCached tags v with its type.
func encodeCached(v any) ([]byte, error) {
	var tag string
	var val any = v
	switch t := v.(type) {
	case nil:
		tag = "null"
	case string:
		tag = "string"
	case bool:
		tag = "bool"
	case int32:
		tag = "int32"
	case int64:
		tag = "int64"
	case int:
		tag, val = "int64", int64(t)
	case float64:
		tag = "double"
	case float32:
		tag, val = "double", float64(t)
	case time.Time:
		tag, val = "datetime", t.Format(time.RFC3339Nano)
	case time.Duration:
		tag, val = "timespan", int64(t)
	case []byte:
		tag, val = "bytes", base64.StdEncoding.EncodeToString(t)
	case *expr.Jwt:
		tag, val = "jwt", t.Raw
	default:
		name := fmt.Sprintf("%T", v)
		switch {
		case strings.HasSuffix(name, "JObject"):
			tag = "jobject"
		case strings.HasSuffix(name, "JArray"):
			tag = "jarray"
		case strings.HasSuffix(name, "JValue"), strings.HasSuffix(name, "JToken"):
			tag = "jtoken"
		default:
			return nil, fmt.Errorf("values of type %s cannot be cached", name)
		}
		val = expr.ToString(v)
	}
	raw, err := json.Marshal(val)
	if err != nil {
		return nil, err
	}
	return json.Marshal(cached{T: tag, V: raw})
}

// decodeCached restores a value stored by encodeCached.
func decodeCached(data []byte) (any, error) {
	var c cached
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	switch c.T {
	case "null":
		return nil, nil
	case "bool":
		var b bool
		err := json.Unmarshal(c.V, &b)
		return b, err
	case "int32":
		var n int32
		err := json.Unmarshal(c.V, &n)
		return n, err
	case "int64", "timespan":
		var n int64
		err := json.Unmarshal(c.V, &n)
		if c.T == "timespan" {
			return time.Duration(n), err
		}
		return n, err
	case "double":
		var f float64
		err := json.Unmarshal(c.V, &f)
		return f, err
	}
	var s string
	if err := json.Unmarshal(c.V, &s); err != nil {
		return nil, err
	}
	switch c.T {
	case "string":
		return s, nil
	case "datetime":
		return time.Parse(time.RFC3339Nano, s)
	case "bytes":
		return base64.StdEncoding.DecodeString(s)
	case "jwt":
		return expr.AsJwt(s), nil
	case "jobject", "jarray", "jtoken":
		return parseJSONToken(c.T, s)
	}
	return nil, fmt.Errorf("unknown cached type %q", c.T)
}

// JSON tokens are rebuilt by the expression engine itself (its JObject type
// is internal to it): one compiled parse expression per kind.
var (
	jsonParsersOnce sync.Once
	jsonParsers     map[string]*expr.Program
)

func parseJSONToken(kind, s string) (any, error) {
	jsonParsersOnce.Do(func() {
		jsonParsers = map[string]*expr.Program{}
		for k, src := range map[string]string{
			"jobject": `@(JObject.Parse((string)context.Variables["json"]))`,
			"jarray":  `@(JArray.Parse((string)context.Variables["json"]))`,
			"jtoken":  `@(JToken.Parse((string)context.Variables["json"]))`,
		} {
			if p, err := expr.Compile(src); err == nil {
				jsonParsers[k] = p
			}
		}
	})
	p := jsonParsers[kind]
	if p == nil {
		return s, nil
	}
	return p.Eval(&expr.Context{Variables: expr.Variables{"json": s}})
}
