package expr

// Member tables of the `context` model (statically typed: unknown members
// are compile errors).

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// String gives the full URL as IUrl.ToString() does (default ports are
// omitted).
func (u *URL) String() string {
	if u == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	if u.Port != 0 && !(u.Port == 80 && strings.EqualFold(u.Scheme, "http") || u.Port == 443 && strings.EqualFold(u.Scheme, "https")) {
		b.WriteString(":" + strconv.Itoa(u.Port))
	}
	b.WriteString(u.Path)
	b.WriteString(u.QueryString())
	return b.String()
}

// QueryString is IUrl.QueryString: "?a=1&b=2" (empty without a query).
func (u *URL) QueryString() string {
	if u == nil || len(u.Query) == 0 {
		return ""
	}
	return "?" + u.Query.Encode()
}

// get builds a property getter on a receiver of Go type T.
func get[T any](f func(T) any) func(*env, any) (any, error) {
	return func(_ *env, v any) (any, error) {
		x, ok := v.(T)
		if !ok {
			return nil, errCast(v, "?")
		}
		return f(x), nil
	}
}

// nz converts a possibly nil pointer to a C# null.
func nz[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

func nzTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// now is the evaluation clock (context.Now when set), in UTC.
func now(e *env) time.Time {
	if e != nil && e.ctx != nil && e.ctx.Now != nil {
		return e.ctx.Now().UTC()
	}
	return time.Now().UTC()
}

func checked(name, display string, parents ...string) *typeInfo {
	ti := typ(name, parents...)
	ti.checked = true
	ti.display = display
	return ti
}

// strArg returns args[i] as a string (nil allowed).
func strArg(args []any, i int) (string, error) {
	if i >= len(args) {
		return "", errArgs("?", len(args))
	}
	switch x := args[i].(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	case Char:
		return string(rune(x)), nil
	case *JValue:
		if s, ok := x.Value.(string); ok {
			return s, nil
		}
	}
	return "", throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'string'", i+1, dotnetTypeName(args[i]))
}

// lookupFold finds a map key exactly or case-insensitively.
func lookupFold[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var z V
	return z, false
}

func headerValues(h http.Header, name string) ([]string, bool) {
	if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return v, true
	}
	return lookupFold(h, name)
}

// dictMethods installs the IReadOnlyDictionary members shared by headers,
// query, claims and matched parameters. find returns the value for a key.
func dictMethods(ti *typeInfo, valT string, find func(v any, k string) (any, bool), join func(any) any, keys func(v any) []string) {
	ti.index = func(e *env, v any, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if x, ok := find(v, k); ok {
			return x, nil
		}
		return nil, errKey(k)
	}
	ti.indexT = valT
	ti.method("GetValueOrDefault", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, errArgs("GetValueOrDefault", len(args))
		}
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if x, ok := find(v, k); ok {
			return join(x), nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return nil, nil
	})
	ti.method("ContainsKey", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		_, ok := find(v, k)
		return ok, nil
	})
	ti.method("TryGetValue", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		ref, ok := argAt(args, 1).(*outRef)
		if !ok {
			return nil, errArgs("TryGetValue", len(args))
		}
		x, found := find(v, k)
		e.locals[ref.slot] = x
		return found, nil
	})
	ti.prop("Count", "int", func(e *env, v any) (any, error) { return int32(len(keys(v))), nil })
	ti.prop("Keys", "string[]", func(e *env, v any) (any, error) { return keys(v), nil })
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func joinValues(v any) any {
	if ss, ok := v.([]string); ok {
		return strings.Join(ss, ",")
	}
	return v
}

func init() {
	checked("context", "context").
		prop("Request", "IRequest", get(func(c *Context) any { return nz(c.Request) })).
		prop("Response", "IResponse", get(func(c *Context) any { return nz(c.Response) })).
		prop("Variables", "IVariables", get(func(c *Context) any {
			if c.Variables == nil {
				c.Variables = Variables{}
			}
			return c.Variables
		})).
		prop("Api", "IApi", get(func(c *Context) any { return nz(c.Api) })).
		prop("Operation", "IOperation", get(func(c *Context) any { return nz(c.Operation) })).
		prop("Product", "IProduct", get(func(c *Context) any { return nz(c.Product) })).
		prop("Subscription", "ISubscription", get(func(c *Context) any { return nz(c.Subscription) })).
		prop("User", "IUser", get(func(c *Context) any { return nz(c.User) })).
		prop("Deployment", "IDeployment", get(func(c *Context) any { return nz(c.Deployment) })).
		prop("LastError", "ILastError", get(func(c *Context) any { return nz(c.LastError) })).
		prop("RequestId", "Guid", get(func(c *Context) any {
			if g, ok := ParseGuid(c.RequestId); ok {
				return g
			}
			return c.RequestId
		})).
		prop("Timestamp", "DateTime", get(func(c *Context) any { return c.Timestamp.UTC() })).
		prop("Tracing", "bool", get(func(c *Context) any { return c.Tracing })).
		prop("Elapsed", "TimeSpan", func(e *env, v any) (any, error) {
			c := v.(*Context)
			if c.Timestamp.IsZero() {
				return time.Duration(0), nil
			}
			return now(e).Sub(c.Timestamp), nil
		}).
		method("Trace", "object", func(e *env, v any, _ []string, args []any) (any, error) { return nil, nil })

	checked("IRequest", "context.Request").
		prop("Method", "string", get(func(r *Request) any { return r.Method })).
		prop("Url", "IUrl", get(func(r *Request) any { return nz(r.Url) })).
		prop("OriginalUrl", "IUrl", get(func(r *Request) any { return nz(r.OriginalUrl) })).
		prop("Headers", "IHeaders", get(func(r *Request) any {
			if r.Headers == nil {
				r.Headers = http.Header{}
			}
			return r.Headers
		})).
		prop("IpAddress", "string", get(func(r *Request) any { return r.IpAddress })).
		prop("Body", "IMessageBody", get(func(r *Request) any {
			if r.Body.Taken() {
				return nil // streamed to the backend unread: gone, as in APIM
			}
			return nz(r.Body)
		})).
		prop("MatchedParameters", "IMatched", get(func(r *Request) any {
			if r.MatchedParameters == nil {
				return map[string]string{}
			}
			return r.MatchedParameters
		})).
		prop("Certificate", "X509Certificate2", get(func(r *Request) any { return nz(r.Certificate) }))

	checked("IUrl", "IUrl").
		prop("Scheme", "string", get(func(u *URL) any { return u.Scheme })).
		prop("Host", "string", get(func(u *URL) any { return u.Host })).
		prop("Port", "int", get(func(u *URL) any {
			if u.Port == 0 {
				switch strings.ToLower(u.Scheme) {
				case "https":
					return int32(443)
				case "http":
					return int32(80)
				}
			}
			return int32(u.Port)
		})).
		prop("Path", "string", get(func(u *URL) any { return u.Path })).
		prop("Query", "IQuery", get(func(u *URL) any {
			if u.Query == nil {
				u.Query = url.Values{}
			}
			return u.Query
		})).
		prop("QueryString", "string", get(func(u *URL) any { return u.QueryString() })).
		method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) { return v.(*URL).String(), nil })

	h := checked("IHeaders", "Headers", "IEnumerable")
	dictMethods(h, "string[]", func(v any, k string) (any, bool) { x, ok := headerValues(v.(http.Header), k); return x, ok }, joinValues,
		func(v any) []string { return sortedKeys(v.(http.Header)) })
	q := checked("IQuery", "Query", "IEnumerable")
	dictMethods(q, "string[]", func(v any, k string) (any, bool) { x, ok := lookupFold(v.(url.Values), k); return x, ok }, joinValues,
		func(v any) []string { return sortedKeys(v.(url.Values)) })
	cl := checked("IClaims", "Claims", "IEnumerable")
	dictMethods(cl, "string[]", func(v any, k string) (any, bool) { x, ok := v.(map[string][]string)[k]; return x, ok }, joinValues,
		func(v any) []string { return sortedKeys(v.(map[string][]string)) })
	mp := checked("IMatched", "MatchedParameters", "IEnumerable")
	dictMethods(mp, "string", func(v any, k string) (any, bool) { x, ok := lookupFold(v.(map[string]string), k); return x, ok }, func(x any) any { return x },
		func(v any) []string { return sortedKeys(v.(map[string]string)) })

	vars := checked("IVariables", "context.Variables", "IEnumerable")
	vars.index = func(e *env, v any, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		x, ok := v.(Variables)[k]
		if !ok {
			return nil, errKey(k)
		}
		return x, nil
	}
	vars.indexT = tObject
	vars.method("GetValueOrDefault", "$T", func(e *env, v any, targs []string, args []any) (any, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, errArgs("GetValueOrDefault", len(args))
		}
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		x, ok := v.(Variables)[k]
		if !ok {
			if len(args) == 2 {
				return args[1], nil
			}
			if len(targs) == 1 {
				return zeroValue(targs[0]), nil
			}
			return nil, nil
		}
		if len(targs) == 1 {
			return castTo(x, targs[0])
		}
		return x, nil
	})
	vars.method("ContainsKey", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		_, ok := v.(Variables)[k]
		return ok, nil
	})
	vars.method("TryGetValue", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		ref, ok := argAt(args, 1).(*outRef)
		if !ok {
			return nil, errArgs("TryGetValue", len(args))
		}
		x, found := v.(Variables)[k]
		e.locals[ref.slot] = x
		return found, nil
	})
	vars.prop("Count", "int", get(func(v Variables) any { return int32(len(v)) }))
	vars.prop("Keys", "string[]", get(func(v Variables) any { return sortedKeys(v) }))

	checked("IMessageBody", "Body").
		method("As", "$T", func(e *env, v any, targs []string, args []any) (any, error) {
			if len(targs) != 1 {
				return nil, throwf("ArgumentException", "As<T>() needs a type argument")
			}
			preserve, _ := argAt(args, 0).(bool)
			return bodyAs(e, v.(*Body), targs[0], preserve)
		}).
		method("AsFormUrlEncodedContent", "Dictionary", func(e *env, v any, _ []string, args []any) (any, error) {
			preserve, _ := argAt(args, 0).(bool)
			s, err := bodyAs(e, v.(*Body), "string", preserve)
			if err != nil {
				return nil, err
			}
			vals, err := url.ParseQuery(s.(string))
			if err != nil {
				return nil, errFormat("The body is not form-url-encoded content.")
			}
			d := NewDict("string", "List")
			for _, k := range sortedKeys(vals) {
				l := &List{Elem: "string"}
				for _, x := range vals[k] {
					l.Items = append(l.Items, x)
				}
				d.Set(k, l)
			}
			return d, nil
		})

	checked("IResponse", "IResponse").
		prop("StatusCode", "int", get(func(r *Response) any { return int32(r.StatusCode) })).
		prop("StatusReason", "string", get(func(r *Response) any { return r.StatusReason })).
		prop("Headers", "IHeaders", get(func(r *Response) any {
			if r.Headers == nil {
				r.Headers = http.Header{}
			}
			return r.Headers
		})).
		prop("Body", "IMessageBody", get(func(r *Response) any { return nz(r.Body) }))

	checked("IApi", "context.Api").
		prop("Id", "string", get(func(a *Api) any { return a.Id })).
		prop("Name", "string", get(func(a *Api) any { return a.Name })).
		prop("Path", "string", get(func(a *Api) any { return a.Path })).
		prop("Revision", "string", get(func(a *Api) any { return a.Revision })).
		prop("Version", "string", get(func(a *Api) any { return a.Version })).
		prop("ServiceUrl", "IUrl", get(func(a *Api) any { return nz(a.ServiceUrl) })).
		prop("IsCurrentRevision", "bool", get(func(a *Api) any { return a.IsCurrentRevision })).
		prop("Protocols", "string[]", get(func(a *Api) any { return append([]string(nil), a.Protocols...) }))

	checked("IOperation", "context.Operation").
		prop("Id", "string", get(func(o *Operation) any { return o.Id })).
		prop("Method", "string", get(func(o *Operation) any { return o.Method })).
		prop("Name", "string", get(func(o *Operation) any { return o.Name })).
		prop("UrlTemplate", "string", get(func(o *Operation) any { return o.UrlTemplate }))

	checked("IProduct", "context.Product").
		prop("Id", "string", get(func(p *Product) any { return p.Id })).
		prop("Name", "string", get(func(p *Product) any { return p.Name })).
		prop("ApprovalRequired", "bool", get(func(p *Product) any { return p.ApprovalRequired })).
		prop("SubscriptionRequired", "bool", get(func(p *Product) any { return p.SubscriptionRequired })).
		prop("State", "string", get(func(p *Product) any { return p.State }))

	checked("ISubscription", "context.Subscription").
		prop("Id", "string", get(func(s *Subscription) any { return s.Id })).
		prop("Key", "string", get(func(s *Subscription) any { return s.Key })).
		prop("Name", "string", get(func(s *Subscription) any { return s.Name })).
		prop("PrimaryKey", "string", get(func(s *Subscription) any { return s.PrimaryKey })).
		prop("SecondaryKey", "string", get(func(s *Subscription) any { return s.SecondaryKey })).
		prop("CreatedDate", "DateTime", get(func(s *Subscription) any { return s.CreatedDate.UTC() })).
		prop("StartDate", "DateTime", get(func(s *Subscription) any { return nzTime(s.StartDate) })).
		prop("EndDate", "DateTime", get(func(s *Subscription) any { return nzTime(s.EndDate) }))

	checked("IUser", "context.User").
		prop("Id", "string", get(func(u *User) any { return u.Id })).
		prop("Email", "string", get(func(u *User) any { return u.Email })).
		prop("FirstName", "string", get(func(u *User) any { return u.FirstName })).
		prop("LastName", "string", get(func(u *User) any { return u.LastName })).
		prop("Note", "string", get(func(u *User) any { return u.Note }))

	checked("IDeployment", "context.Deployment").
		prop("GatewayId", "string", get(func(d *Deployment) any { return d.GatewayId })).
		prop("Region", "string", get(func(d *Deployment) any { return d.Region })).
		prop("ServiceId", "string", get(func(d *Deployment) any { return d.ServiceId })).
		prop("ServiceName", "string", get(func(d *Deployment) any { return d.ServiceName }))

	checked("ILastError", "context.LastError").
		prop("Source", "string", get(func(l *LastError) any { return l.Source })).
		prop("Reason", "string", get(func(l *LastError) any { return l.Reason })).
		prop("Message", "string", get(func(l *LastError) any { return l.Message })).
		prop("Scope", "string", get(func(l *LastError) any { return l.Scope })).
		prop("Section", "string", get(func(l *LastError) any { return l.Section })).
		prop("Path", "string", get(func(l *LastError) any { return l.Path })).
		prop("PolicyId", "string", get(func(l *LastError) any { return l.PolicyId }))

	checked("Jwt", "Jwt").
		prop("Algorithm", "string", get(func(j *Jwt) any { return j.Algorithm })).
		prop("Type", "string", get(func(j *Jwt) any { return j.Type })).
		prop("Id", "string", get(func(j *Jwt) any { return j.Id })).
		prop("Issuer", "string", get(func(j *Jwt) any { return j.Issuer })).
		prop("Subject", "string", get(func(j *Jwt) any { return j.Subject })).
		prop("Audiences", "string[]", get(func(j *Jwt) any { return append([]string{}, j.Audiences...) })).
		prop("Claims", "IClaims", get(func(j *Jwt) any {
			if j.Claims == nil {
				return map[string][]string{}
			}
			return j.Claims
		})).
		prop("ExpirationTime", "DateTime", get(func(j *Jwt) any { return nzTime(j.ExpirationTime) })).
		prop("NotBefore", "DateTime", get(func(j *Jwt) any { return nzTime(j.NotBefore) })).
		prop("IssuedAt", "DateTime", get(func(j *Jwt) any { return nzTime(j.IssuedAt) }))

	checked("BasicAuthCredentials", "BasicAuthCredentials").
		prop("UserId", "string", get(func(b *BasicAuth) any { return b.UserId })).
		prop("Password", "string", get(func(b *BasicAuth) any { return b.Password }))

	typ("X509Certificate2").
		prop("Subject", "string", get(func(c *x509.Certificate) any { return c.Subject.String() })).
		prop("Issuer", "string", get(func(c *x509.Certificate) any { return c.Issuer.String() })).
		prop("SerialNumber", "string", get(func(c *x509.Certificate) any { return strings.ToUpper(c.SerialNumber.Text(16)) })).
		prop("NotAfter", "DateTime", get(func(c *x509.Certificate) any { return c.NotAfter.UTC() })).
		prop("NotBefore", "DateTime", get(func(c *x509.Certificate) any { return c.NotBefore.UTC() })).
		prop("Thumbprint", "string", get(func(c *x509.Certificate) any {
			s := sha1.Sum(c.Raw)
			return strings.ToUpper(hex.EncodeToString(s[:]))
		})).
		prop("RawData", "byte[]", get(func(c *x509.Certificate) any { return append([]byte(nil), c.Raw...) }))
}

// bodyAs is IMessageBody.As<T>(preserveContent).
func bodyAs(e *env, b *Body, t string, preserve bool) (any, error) {
	if b.consumed {
		return nil, throwf("InvalidOperationException", "The message body was already read without preserveContent: true and cannot be read again.")
	}
	// A lazy body is read now, the first time an expression needs it; a
	// failure (too large, memory budget) is the host's *BodyError.
	if _, err := b.Load(); err != nil {
		return nil, err
	}
	var out any
	var err error
	switch t {
	case "string":
		out = string(b.data)
	case "byte[]":
		out = append([]byte{}, b.data...)
	case "JObject":
		out, err = parseJObject(e, string(b.data))
	case "JArray":
		out, err = parseJArray(e, string(b.data))
	case "JToken":
		out, err = parseJSON(e, string(b.data))
	case "XDocument":
		out, err = parseXML(e, string(b.data), false)
	case "XElement", "XNode":
		// XNode: the root element (XNode.ReadFrom on the content).
		out, err = parseXElement(e, string(b.data), false)
	default:
		return nil, throwf("NotSupportedException", "Body.As<%s>() is not supported by Gatehouse.", t)
	}
	if err != nil {
		return nil, err
	}
	if !preserve {
		b.consumed = true
	}
	return out, nil
}
