package expr

// More of APIM's allowed .NET surface: System.Net.IPAddress,
// Queue<T> and Stack<T>, System.IO.StringWriter and Uri.GetLeftPart with
// UriPartial.

import (
	"net/netip"
	"strings"
)

// ipAddress is a System.Net.IPAddress.
type ipAddress struct{ a netip.Addr }

func (*ipAddress) csType() string     { return "IPAddress" }
func (a *ipAddress) csString() string { return a.a.String() }

func parseIPAddress(s string) (any, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return nil, throwf("FormatException", "An invalid IP address was specified.")
	}
	return &ipAddress{a: a}, nil
}

// queue is a Queue<T> (items oldest first) or, with lifo, a Stack<T>
// (items in the order Pop returns them: newest first).
type queue struct {
	elems []any // oldest first
	lifo  bool
}

func (q *queue) csType() string {
	if q.lifo {
		return "Stack"
	}
	return "Queue"
}

// items are the elements in enumeration order (foreach, LINQ).
func (q *queue) items() []any {
	if !q.lifo {
		return q.elems
	}
	out := make([]any, len(q.elems))
	for i, it := range q.elems {
		out[len(q.elems)-1-i] = it
	}
	return out
}

// stringWriter is a System.IO.StringWriter.
type stringWriter struct{ b strings.Builder }

func (*stringWriter) csType() string     { return "StringWriter" }
func (w *stringWriter) csString() string { return w.b.String() }

func init() {
	for _, n := range []string{"IPAddress", "Queue", "Stack", "StringWriter", "StringReader", "XmlReader", "XmlReaderSettings",
		"Capture", "CaptureCollection", "Group", "GroupCollection", "MatchCollection"} {
		knownTypes[n] = true
	}
	dotnetNames["IPAddress"] = "System.Net.IPAddress"
	dotnetNames["StringWriter"] = "System.IO.StringWriter"
	enum("AddressFamily", "Unspecified", "InterNetwork=2", "InterNetworkV6=23")
	enum("UriPartial", "Scheme", "Authority", "Path", "Query")

	ip := static("IPAddress")
	ip.m("Parse", "IPAddress", s1(parseIPAddress)).m("TryParse", "bool", tryParse(parseIPAddress))
	ip.m("IsLoopback", "bool", func(_ *env, _ []string, args []any) (any, error) {
		a, ok := argAt(args, 0).(*ipAddress)
		if !ok {
			return nil, errArgNull("address")
		}
		return a.a.IsLoopback(), nil
	})
	ip.konst("Loopback", "IPAddress", &ipAddress{a: netip.MustParseAddr("127.0.0.1")}).
		konst("IPv6Loopback", "IPAddress", &ipAddress{a: netip.IPv6Loopback()}).
		konst("Any", "IPAddress", &ipAddress{a: netip.IPv4Unspecified()}).
		konst("IPv6Any", "IPAddress", &ipAddress{a: netip.IPv6Unspecified()})
	it := typ("IPAddress")
	it.checked = true
	it.prop("AddressFamily", "Enum", get(func(a *ipAddress) any {
		if a.a.Is4() {
			return EnumValue{Type: "AddressFamily", Name: "InterNetwork", Value: 2}
		}
		return EnumValue{Type: "AddressFamily", Name: "InterNetworkV6", Value: 23}
	}))
	it.method("Equals", "bool", func(_ *env, v any, _ []string, args []any) (any, error) {
		o, ok := argAt(args, 0).(*ipAddress)
		return ok && o.a == v.(*ipAddress).a, nil
	})
	it.prop("IsIPv4MappedToIPv6", "bool", get(func(a *ipAddress) any { return a.a.Is4In6() }))
	it.method("GetAddressBytes", "byte[]", m0(func(v any) (any, error) { return v.(*ipAddress).a.AsSlice(), nil }))
	it.method("MapToIPv4", "IPAddress", m0(func(v any) (any, error) { return &ipAddress{a: v.(*ipAddress).a.Unmap()}, nil }))
	it.method("MapToIPv6", "IPAddress", m0(func(v any) (any, error) {
		a := v.(*ipAddress).a
		if a.Is4() {
			return &ipAddress{a: netip.AddrFrom16(a.As16())}, nil
		}
		return &ipAddress{a: a}, nil
	}))

	newQueue := func(lifo bool) func(*env, []string, []any) (any, error) {
		return func(e *env, _ []string, args []any) (any, error) {
			q := &queue{lifo: lifo}
			if src := argAt(args, 0); src != nil {
				if _, isInt := src.(int32); !isInt { // new Queue<T>(capacity) takes an int
					items, err := enumerate(src)
					if err != nil {
						return nil, err
					}
					q.elems = append(q.elems, items...)
				}
			}
			return q, nil
		}
	}
	static("Queue").new(newQueue(false))
	static("Stack").new(newQueue(true))
	empty := func(op string) error {
		return throwf("InvalidOperationException", "%s empty.", op)
	}
	for _, name := range []string{"Queue", "Stack"} {
		qt := typ(name, "IEnumerable")
		qt.prop("Count", "int", get(func(q *queue) any { return int32(len(q.elems)) }))
		qt.method("Contains", "bool", func(_ *env, v any, _ []string, args []any) (any, error) {
			for _, x := range v.(*queue).elems {
				if equals(x, argAt(args, 0)) {
					return true, nil
				}
			}
			return false, nil
		})
		qt.method("Clear", "object", m0(func(v any) (any, error) { v.(*queue).elems = nil; return nil, nil }))
		qt.method("ToArray", "object[]", m0(func(v any) (any, error) {
			return toArray(append([]any(nil), v.(*queue).items()...)), nil
		}))
		// Peek is the next element out: the oldest of a queue, the newest of a stack.
		qt.method("Peek", "object", m0(func(v any) (any, error) {
			q := v.(*queue)
			if len(q.elems) == 0 {
				return nil, empty(q.csType())
			}
			return q.items()[0], nil
		}))
	}
	qt := typ("Queue")
	// Enqueue and Push both add at the newest end.
	push := func(e *env, v any, _ []string, args []any) (any, error) {
		q := v.(*queue)
		if len(q.elems) >= maxArrayLen {
			return nil, errRange("count")
		}
		q.elems = append(q.elems, argAt(args, 0))
		return nil, nil
	}
	qt.method("Enqueue", "object", push)
	qt.method("Dequeue", "object", m0(func(v any) (any, error) {
		q := v.(*queue)
		if len(q.elems) == 0 {
			return nil, empty("Queue")
		}
		x := q.elems[0]
		q.elems = q.elems[1:]
		return x, nil
	}))
	st := typ("Stack")
	st.method("Push", "object", push)
	st.method("Pop", "object", m0(func(v any) (any, error) {
		q := v.(*queue)
		if len(q.elems) == 0 {
			return nil, empty("Stack")
		}
		x := q.elems[len(q.elems)-1]
		q.elems = q.elems[:len(q.elems)-1]
		return x, nil
	}))

	static("StringWriter").new(func(*env, []string, []any) (any, error) { return &stringWriter{}, nil })
	sw := typ("StringWriter")
	sw.checked = true
	write := func(nl bool) func(e *env, v any, _ []string, args []any) (any, error) {
		return func(e *env, v any, _ []string, args []any) (any, error) {
			w := v.(*stringWriter)
			if len(args) > 0 {
				w.b.WriteString(ToString(args[0]))
			}
			if nl {
				w.b.WriteString("\r\n")
			}
			if w.b.Len() > maxStringLen {
				return nil, throwf("OutOfMemoryException", "The StringWriter grew over %d characters.", maxStringLen)
			}
			return nil, nil
		}
	}
	sw.method("Write", "object", write(false)).method("WriteLine", "object", write(true))
	sw.method("Flush", "object", m0(func(any) (any, error) { return nil, nil }))
	sw.method("Close", "object", m0(func(any) (any, error) { return nil, nil }))
	sw.method("Dispose", "object", m0(func(any) (any, error) { return nil, nil }))
	sw.method("GetStringBuilder", "StringBuilder", m0(func(v any) (any, error) {
		sb := &strBuilder{}
		sb.b.WriteString(v.(*stringWriter).b.String())
		return sb, nil
	}))

	typ("Uri").method("GetLeftPart", "string", func(_ *env, v any, _ []string, args []any) (any, error) {
		u := v.(*uriVal).u
		part, ok := argAt(args, 0).(EnumValue)
		if !ok || part.Type != "UriPartial" {
			return nil, throwf("ArgumentException", "GetLeftPart takes a UriPartial.")
		}
		out := u.Scheme + "://"
		if part.Name == "Scheme" {
			return out, nil
		}
		out += u.Host
		if part.Name == "Authority" {
			return out, nil
		}
		out += u.EscapedPath()
		if part.Name == "Query" && u.RawQuery != "" {
			out += "?" + u.RawQuery
		}
		return out, nil
	})
}
