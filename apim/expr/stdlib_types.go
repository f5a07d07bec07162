package expr

// Instance members of the .NET value types, collections and JSON tokens.

import (
	"encoding/base64"
	"math"
	"strings"
	"time"
)

func m0(f func(v any) (any, error)) func(*env, any, []string, []any) (any, error) {
	return func(_ *env, v any, _ []string, _ []any) (any, error) { return f(v) }
}

func init() {
	obj := typ(tObject)
	obj.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		if len(args) == 1 {
			if f, ok := args[0].(string); ok {
				return formatValue(v, f)
			}
			if f, ok := args[0].(EnumValue); ok && f.Type == "Formatting" {
				if t, ok := v.(JToken); ok {
					if _, isV := v.(*JValue); !isV || true {
						return t.JSON(f.Value == 1), nil
					}
				}
			}
		}
		return ToString(v), nil
	})
	// Nullable<T> members (DateTime? claims, int? ...) on non-null values.
	nl := typ("Nullable")
	nl.prop("Value", tObject, func(e *env, v any) (any, error) { return v, nil })
	nl.prop("HasValue", "bool", func(e *env, v any) (any, error) { return true, nil })
	nl.method("GetValueOrDefault", tObject, func(e *env, v any, _ []string, _ []any) (any, error) { return v, nil })
	for _, n := range []string{"int", "long", "double", "bool", "char", "byte", "DateTime", "TimeSpan", "Guid", "DateTimeOffset"} {
		typ(n, "Nullable")
	}
	obj.method("Equals", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		return equals(v, argAt(args, 0)), nil
	})
	obj.method("GetHashCode", "int", m0(func(v any) (any, error) { return stringHash(ToString(v)), nil }))
	obj.method("GetType", "string", m0(func(v any) (any, error) { return dotnetTypeName(v), nil }))
	obj.method("CompareTo", "int", func(e *env, v any, _ []string, args []any) (any, error) {
		c, err := compareValues(v, argAt(args, 0))
		return int32(c), err
	})

	// DateTime
	dt := typ("DateTime")
	tp := func(name, t string, f func(time.Time) any) {
		dt.prop(name, t, get(f))
	}
	tp("Year", "int", func(t time.Time) any { return int32(t.Year()) })
	tp("Month", "int", func(t time.Time) any { return int32(t.Month()) })
	tp("Day", "int", func(t time.Time) any { return int32(t.Day()) })
	tp("Hour", "int", func(t time.Time) any { return int32(t.Hour()) })
	tp("Minute", "int", func(t time.Time) any { return int32(t.Minute()) })
	tp("Second", "int", func(t time.Time) any { return int32(t.Second()) })
	tp("Millisecond", "int", func(t time.Time) any { return int32(t.Nanosecond() / 1e6) })
	tp("DayOfYear", "int", func(t time.Time) any { return int32(t.YearDay()) })
	tp("DayOfWeek", "Enum", func(t time.Time) any {
		return EnumValue{Type: "DayOfWeek", Name: dayNames[t.Weekday()], Value: int(t.Weekday())}
	})
	tp("Ticks", "long", func(t time.Time) any { return ticks(t) })
	tp("Date", "DateTime", func(t time.Time) any { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()) })
	tp("TimeOfDay", "TimeSpan", func(t time.Time) any {
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	})
	tp("Kind", "Enum", func(t time.Time) any {
		if t.Location() == unspecified {
			return EnumValue{Type: "DateTimeKind", Name: "Unspecified", Value: 0}
		}
		return EnumValue{Type: "DateTimeKind", Name: "Utc", Value: 1}
	})
	addDur := func(name string, unit time.Duration) {
		dt.method(name, "DateTime", func(e *env, v any, _ []string, args []any) (any, error) {
			f, err := floatArg(args, 0)
			if err != nil {
				return nil, err
			}
			return v.(time.Time).Add(time.Duration(f * float64(unit))), nil
		})
	}
	addDur("AddSeconds", time.Second)
	addDur("AddMinutes", time.Minute)
	addDur("AddHours", time.Hour)
	addDur("AddDays", 24*time.Hour)
	addDur("AddMilliseconds", time.Millisecond)
	dt.method("AddTicks", "DateTime", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		return v.(time.Time).Add(time.Duration(n) * 100), nil
	})
	dt.method("AddMonths", "DateTime", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		return addMonths(v.(time.Time), n), nil
	})
	dt.method("AddYears", "DateTime", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		return addMonths(v.(time.Time), 12*n), nil
	})
	dt.method("Add", "DateTime", func(e *env, v any, _ []string, args []any) (any, error) {
		return binaryOp("+", v, argAt(args, 0))
	})
	dt.method("Subtract", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		return binaryOp("-", v, argAt(args, 0))
	})
	dt.method("ToUniversalTime", "DateTime", m0(func(v any) (any, error) { return v.(time.Time).UTC(), nil }))
	dt.method("ToLocalTime", "DateTime", m0(func(v any) (any, error) { return v.(time.Time).UTC(), nil }))
	dt.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		f, _ := argAt(args, 0).(string)
		return formatDateTime(v.(time.Time), f), nil
	})
	dt.method("ToShortDateString", "string", m0(func(v any) (any, error) { return formatDateTime(v.(time.Time), "d"), nil }))
	dt.method("ToLongDateString", "string", m0(func(v any) (any, error) { return formatDateTime(v.(time.Time), "D"), nil }))
	dt.method("ToShortTimeString", "string", m0(func(v any) (any, error) { return formatDateTime(v.(time.Time), "t"), nil }))
	dt.method("ToFileTimeUtc", "long", m0(func(v any) (any, error) { return ticks(v.(time.Time)) - 504911232000000000, nil }))

	// DateTimeOffset
	dto := typ("DateTimeOffset")
	dto.prop("UtcDateTime", "DateTime", get(func(d DateTimeOffset) any { return d.T.UTC() }))
	dto.prop("DateTime", "DateTime", get(func(d DateTimeOffset) any { return d.T.In(unspecified) }))
	dto.prop("Offset", "TimeSpan", get(func(d DateTimeOffset) any { return time.Duration(0) }))
	for _, p := range []string{"Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond", "Ticks", "DayOfWeek", "Date"} {
		p := p
		dto.prop(p, dt.props[p].t, func(e *env, v any) (any, error) { return dt.props[p].get(e, v.(DateTimeOffset).T) })
	}
	for _, m := range []string{"AddSeconds", "AddMinutes", "AddHours", "AddDays", "AddMilliseconds", "AddMonths", "AddYears", "AddTicks", "Add"} {
		m := m
		dto.method(m, "DateTimeOffset", func(e *env, v any, targs []string, args []any) (any, error) {
			r, err := dt.methods[m].call(e, v.(DateTimeOffset).T, targs, args)
			if err != nil {
				return nil, err
			}
			return DateTimeOffset{r.(time.Time)}, nil
		})
	}
	dto.method("Subtract", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		return binaryOp("-", v, argAt(args, 0))
	})
	dto.method("ToUnixTimeSeconds", "long", m0(func(v any) (any, error) { return floorDiv(v.(DateTimeOffset).T.UnixMilli(), 1000), nil }))
	dto.method("ToUnixTimeMilliseconds", "long", m0(func(v any) (any, error) { return v.(DateTimeOffset).T.UnixMilli(), nil }))
	dto.method("ToUniversalTime", "DateTimeOffset", m0(func(v any) (any, error) { return v, nil }))
	dto.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		f, _ := argAt(args, 0).(string)
		return formatDateTimeOffset(v.(DateTimeOffset), f), nil
	})

	// TimeSpan
	ts := typ("TimeSpan")
	dp := func(name, t string, f func(time.Duration) any) { ts.prop(name, t, get(f)) }
	dp("TotalSeconds", "double", func(d time.Duration) any { return float64(d) / float64(time.Second) })
	dp("TotalMilliseconds", "double", func(d time.Duration) any { return float64(d) / float64(time.Millisecond) })
	dp("TotalMinutes", "double", func(d time.Duration) any { return float64(d) / float64(time.Minute) })
	dp("TotalHours", "double", func(d time.Duration) any { return float64(d) / float64(time.Hour) })
	dp("TotalDays", "double", func(d time.Duration) any { return float64(d) / float64(24*time.Hour) })
	dp("Days", "int", func(d time.Duration) any { return int32(d / (24 * time.Hour)) })
	dp("Hours", "int", func(d time.Duration) any { return int32(d / time.Hour % 24) })
	dp("Minutes", "int", func(d time.Duration) any { return int32(d / time.Minute % 60) })
	dp("Seconds", "int", func(d time.Duration) any { return int32(d / time.Second % 60) })
	dp("Milliseconds", "int", func(d time.Duration) any { return int32(d / time.Millisecond % 1000) })
	dp("Ticks", "long", func(d time.Duration) any { return int64(d / 100) })
	ts.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		f, _ := argAt(args, 0).(string)
		return formatTimeSpan(v.(time.Duration), f), nil
	})
	ts.method("Add", "TimeSpan", func(e *env, v any, _ []string, args []any) (any, error) { return binaryOp("+", v, argAt(args, 0)) })
	ts.method("Subtract", "TimeSpan", func(e *env, v any, _ []string, args []any) (any, error) { return binaryOp("-", v, argAt(args, 0)) })
	ts.method("Negate", "TimeSpan", m0(func(v any) (any, error) { return -v.(time.Duration), nil }))
	ts.method("Duration", "TimeSpan", m0(func(v any) (any, error) {
		d := v.(time.Duration)
		if d < 0 {
			d = -d
		}
		return d, nil
	}))

	// Guid
	g := typ("Guid")
	g.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		gv, ok := v.(Guid)
		if !ok {
			return ToString(v), nil
		}
		f, _ := argAt(args, 0).(string)
		return formatGuid(gv, f)
	})
	g.method("ToByteArray", "byte[]", m0(func(v any) (any, error) {
		gv, ok := v.(Guid)
		if !ok {
			return nil, errCast(v, "Guid")
		}
		return gv.toBytes(), nil
	}))

	// Enum
	typ("Enum").method("ToString", "string", m0(func(v any) (any, error) { return v.(EnumValue).Name, nil }))

	// arrays
	arr := typ("Array", "IEnumerable")
	arr.prop("Length", "int", func(e *env, v any) (any, error) { return int32(seqLen(v)), nil })
	arr.prop("Count", "int", func(e *env, v any) (any, error) { return int32(seqLen(v)), nil })
	arr.index = func(e *env, v any, args []any) (any, error) {
		i, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= seqLen(v) {
			return nil, errIndex()
		}
		switch x := v.(type) {
		case []string:
			return x[i], nil
		case []byte:
			return x[i], nil
		case []any:
			return x[i], nil
		}
		return nil, errIndex()
	}
	arr.setIndex = func(e *env, v any, args []any, val any) error {
		i, err := intArg(args, 0)
		if err != nil {
			return err
		}
		if i < 0 || i >= seqLen(v) {
			return errIndex()
		}
		switch x := v.(type) {
		case []string:
			s, ok := val.(string)
			if !ok && val != nil {
				return errCast(val, "string")
			}
			x[i] = s
		case []byte:
			k, n, _ := num(val)
			if k != kInt && k != kLong {
				return errCast(val, "byte")
			}
			x[i] = byte(n)
		case []any:
			x[i] = val
		}
		return nil
	}
	typ("string[]", "Array").indexT = "string"
	typ("byte[]", "Array").indexT = "byte"
	typ("object[]", "Array").indexT = tObject
	typ("byte[]").method("Encrypt", "byte[]", cryptMethod(true))
	typ("byte[]").method("Decrypt", "byte[]", cryptMethod(false))

	// List<T>
	l := typ("List", "IEnumerable")
	l.prop("Count", "int", get(func(l *List) any { return int32(len(l.Items)) }))
	l.index = func(e *env, v any, args []any) (any, error) {
		x := v.(*List)
		i, err := indexArg(args, len(x.Items))
		if err != nil {
			return nil, err
		}
		return x.Items[i], nil
	}
	l.setIndex = func(e *env, v any, args []any, val any) error {
		x := v.(*List)
		i, err := indexArg(args, len(x.Items))
		if err != nil {
			return err
		}
		x.Items[i] = val
		return nil
	}
	l.method("Add", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*List)
		if len(x.Items) >= maxArrayLen {
			return nil, errTooLarge()
		}
		val, err := implicitConvert(argAt(args, 0), x.Elem)
		if x.Set {
			// HashSet.Add: false when the element is there already.
			if err != nil || containsValue(x.Items, val) {
				return false, err
			}
			x.Items = append(x.Items, val)
			return true, e.chargeScan(len(x.Items))
		}
		x.Items = append(x.Items, val)
		return nil, err
	})
	l.method("AddRange", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*List)
		items, err := enumerate(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		if len(x.Items)+len(items) > maxArrayLen {
			return nil, errTooLarge()
		}
		x.Items = append(x.Items, items...)
		return nil, nil
	})
	l.method("Insert", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*List)
		i, err := indexArg(args, len(x.Items)+1)
		if err != nil {
			return nil, err
		}
		if len(x.Items) >= maxArrayLen {
			return nil, errTooLarge()
		}
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		x.Items = append(x.Items[:i], append([]any{argAt(args, 1)}, x.Items[i:]...)...)
		return nil, nil
	})
	l.method("Remove", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*List)
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		for i, it := range x.Items {
			if equals(it, argAt(args, 0)) {
				x.Items = append(x.Items[:i], x.Items[i+1:]...)
				return true, nil
			}
		}
		return false, nil
	})
	l.method("RemoveAt", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*List)
		i, err := indexArg(args, len(x.Items))
		if err != nil {
			return nil, err
		}
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		x.Items = append(x.Items[:i], x.Items[i+1:]...)
		return nil, nil
	})
	l.method("Clear", "object", m0(func(v any) (any, error) { v.(*List).Items = nil; return nil, nil }))
	l.method("IndexOf", "int", func(e *env, v any, _ []string, args []any) (any, error) {
		for i, it := range v.(*List).Items {
			if equals(it, argAt(args, 0)) {
				return int32(i), nil
			}
		}
		return int32(-1), nil
	})

	// Dictionary<K,V>
	d := typ("Dictionary", "IEnumerable")
	d.prop("Count", "int", get(func(d *Dict) any { return int32(d.Len()) }))
	d.prop("Keys", "object[]", get(func(d *Dict) any { return append([]any(nil), d.keys...) }))
	d.prop("Values", "object[]", get(func(d *Dict) any {
		out := make([]any, len(d.keys))
		for i, k := range d.keys {
			out[i] = d.m[k]
		}
		return out
	}))
	d.index = func(e *env, v any, args []any) (any, error) {
		k := argAt(args, 0)
		if !hashable(k) {
			return nil, errKey(k)
		}
		x, ok := v.(*Dict).Get(k)
		if !ok {
			return nil, errKey(k)
		}
		return x, nil
	}
	d.setIndex = func(e *env, v any, args []any, val any) error {
		k := argAt(args, 0)
		if k == nil {
			return errArgNull("key")
		}
		if !hashable(k) {
			return throwf("ArgumentException", "Unsupported dictionary key type '%s'", dotnetTypeName(k))
		}
		x := v.(*Dict)
		if x.Len() >= maxArrayLen {
			return errTooLarge()
		}
		x.Set(k, val)
		return nil
	}
	d.method("Add", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*Dict)
		k := argAt(args, 0)
		if k == nil {
			return nil, errArgNull("key")
		}
		if !hashable(k) {
			return nil, throwf("ArgumentException", "Unsupported dictionary key type '%s'", dotnetTypeName(k))
		}
		if _, ok := x.Get(k); ok {
			return nil, throwf("ArgumentException", "An item with the same key has already been added. Key: %s", ToString(k))
		}
		return nil, d.setIndex(e, v, args[:1], argAt(args, 1))
	})
	d.method("ContainsKey", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k := argAt(args, 0)
		if !hashable(k) {
			return false, nil
		}
		_, ok := v.(*Dict).Get(k)
		return ok, nil
	})
	d.method("Remove", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		k := argAt(args, 0)
		if !hashable(k) {
			return false, nil
		}
		return v.(*Dict).Remove(k), nil
	})
	d.method("TryGetValue", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		ref, ok := argAt(args, 1).(*outRef)
		if !ok {
			return nil, errArgs("TryGetValue", len(args))
		}
		k := argAt(args, 0)
		var x any
		found := false
		if hashable(k) {
			x, found = v.(*Dict).Get(k)
		}
		e.locals[ref.slot] = x
		return found, nil
	})
	d.method("GetValueOrDefault", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		k := argAt(args, 0)
		if hashable(k) {
			if x, ok := v.(*Dict).Get(k); ok {
				return x, nil
			}
		}
		return argAt(args, 1), nil
	})

	kv := typ("KeyValuePair")
	kv.prop("Key", tObject, get(func(k KeyValuePair) any { return k.Key }))
	kv.prop("Value", tObject, get(func(k KeyValuePair) any { return k.Value }))

	ex := typ("Exception")
	ex.prop("Message", "string", get(func(e *csErr) any { return e.msg }))
	ex.method("GetType", "string", m0(func(v any) (any, error) { return "System." + v.(*csErr).typ, nil }))

	jsonMembers()
}

func hashable(k any) bool {
	switch k.(type) {
	case string, int32, int64, float64, bool, Char, byte, Guid, EnumValue, time.Time, time.Duration:
		return true
	}
	return false
}

func seqLen(v any) int {
	switch x := v.(type) {
	case []string:
		return len(x)
	case []byte:
		return len(x)
	case []any:
		return len(x)
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ticks is DateTime.Ticks (100 ns since 0001-01-01).
func ticks(t time.Time) int64 {
	const unixEpochTicks = 621355968000000000
	return unixEpochTicks + t.Unix()*1e7 + int64(t.Nanosecond()/100)
}

func fromTicks(n int64, loc *time.Location) time.Time {
	const unixEpochTicks = 621355968000000000
	n -= unixEpochTicks
	return time.Unix(floorDiv(n, 1e7), (n-floorDiv(n, 1e7)*1e7)*100).In(loc)
}

func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	ny := y + floorDivInt(total, 12)
	nm := time.Month(total - floorDivInt(total, 12)*12 + 1)
	last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return time.Date(ny, nm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

func floorDivInt(a, b int) int { return int(floorDiv(int64(a), int64(b))) }

func floatArg(args []any, i int) (float64, error) {
	if i >= len(args) {
		return 0, errArgs("?", len(args))
	}
	v := args[i]
	if jv, ok := v.(*JValue); ok {
		v = jv.Value
	}
	k, _, f := num(v)
	if k == kNone {
		return 0, throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'double'", i+1, dotnetTypeName(args[i]))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, throwf("ArgumentOutOfRangeException", "Value to add was out of range.")
	}
	return f, nil
}

// jsonMembers installs the JToken family's members.
func jsonMembers() {
	tok := typ("JToken", "IEnumerable")
	typ("JObject", "JToken")
	typ("JArray", "JToken")
	typ("JValue", "JToken")
	typ("JProperty", "JToken")
	tok.prop("Type", "Enum", func(e *env, v any) (any, error) {
		n := v.(JToken).tokenType()
		return EnumValue{Type: "JTokenType", Name: n, Value: jTokenTypes[n]}, nil
	})
	tok.prop("HasValues", "bool", func(e *env, v any) (any, error) {
		items, _ := enumerate(v)
		_, isV := v.(*JValue)
		return !isV && len(items) > 0, nil
	})
	tok.prop("First", "JToken", func(e *env, v any) (any, error) { return firstLast(v, true) })
	tok.prop("Last", "JToken", func(e *env, v any) (any, error) { return firstLast(v, false) })
	tok.prop("Count", "int", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *JObject:
			return int32(len(x.props)), nil
		case *JArray:
			return int32(len(x.Items)), nil
		}
		return nil, errNoMember(v, "Count")
	})
	tok.index = func(e *env, v any, args []any) (any, error) {
		k := argAt(args, 0)
		if jv, ok := k.(*JValue); ok {
			k = jv.Value
		}
		switch x := v.(type) {
		case *JObject:
			s, ok := k.(string)
			if !ok {
				return nil, throwf("ArgumentException", "Accessed JObject values with invalid key value: %s. Object property name expected.", ToString(k))
			}
			if t := x.Get(s); t != nil {
				return t, nil
			}
			return nil, nil
		case *JArray:
			k2, i, _ := num(k)
			if k2 != kInt && k2 != kLong {
				return nil, throwf("ArgumentException", "Accessed JArray values with invalid key value: %s. Int32 array index expected.", ToString(k))
			}
			if i < 0 || i >= int64(len(x.Items)) {
				return nil, throwf("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')")
			}
			return x.Items[i], nil
		case *JProperty:
			return nil, throwf("InvalidOperationException", "Cannot access child value on Newtonsoft.Json.Linq.JProperty.")
		}
		return nil, throwf("InvalidOperationException", "Cannot access child value on Newtonsoft.Json.Linq.JValue.")
	}
	tok.indexT = "JToken"
	tok.setIndex = func(e *env, v any, args []any, val any) error {
		t, err := ToJToken(val)
		if err != nil {
			return err
		}
		k := argAt(args, 0)
		switch x := v.(type) {
		case *JObject:
			s, ok := k.(string)
			if !ok {
				return throwf("ArgumentException", "Set JObject values with invalid key value: %s. Object property name expected.", ToString(k))
			}
			x.Set(s, t)
			return nil
		case *JArray:
			k2, i, _ := num(k)
			if k2 != kInt && k2 != kLong {
				return throwf("ArgumentException", "Set JArray values with invalid key value: %s. Int32 array index expected.", ToString(k))
			}
			if i < 0 || i >= int64(len(x.Items)) {
				return errRange("index")
			}
			x.Items[i] = t
			return nil
		}
		return throwf("InvalidOperationException", "Cannot set child value on %s.", dotnetTypeName(v))
	}
	tok.method("ToString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		if len(args) > 0 {
			if f, ok := args[0].(EnumValue); ok && f.Type == "Formatting" {
				return v.(JToken).JSON(f.Value == 1), nil
			}
		}
		return ToString(v), nil
	})
	tok.method("Value", "$T", func(e *env, v any, targs []string, args []any) (any, error) {
		typ := tObject
		if len(targs) == 1 {
			typ = targs[0]
		}
		var t JToken
		if len(args) == 0 {
			t = v.(JToken)
		} else {
			x, err := tok.index(e, v, args)
			if err != nil {
				return nil, err
			}
			t, _ = x.(JToken)
		}
		return tokenValue(t, typ)
	})
	tok.method("ToObject", "$T", func(e *env, v any, targs []string, args []any) (any, error) {
		if len(targs) != 1 {
			return nil, errArgs("ToObject", 0)
		}
		return tokenValue(v.(JToken), targs[0])
	})
	tok.method("Values", "object[]", func(e *env, v any, targs []string, args []any) (any, error) {
		items, err := enumerate(v)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, it := range items {
			if kv, ok := it.(KeyValuePair); ok {
				it = kv.Value
			}
			if len(targs) == 1 {
				c, err := tokenValue(it.(JToken), targs[0])
				if err != nil {
					return nil, err
				}
				it = c
			}
			out = append(out, it)
		}
		return out, nil
	})
	tok.method("SelectToken", "JToken", func(e *env, v any, _ []string, args []any) (any, error) {
		p, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		t, err := selectToken(v.(JToken), p)
		if t == nil || err != nil {
			return nil, err
		}
		return t, nil
	})
	tok.method("Children", "object[]", m0(func(v any) (any, error) {
		switch x := v.(type) {
		case *JObject:
			out := make([]any, len(x.props))
			for i, p := range x.props {
				out[i] = p
			}
			return out, nil
		case *JArray:
			return enumerate(x)
		case *JProperty:
			return []any{x.Value}, nil
		}
		return []any{}, nil
	}))
	tok.method("DeepClone", "JToken", m0(func(v any) (any, error) { return deepClone(v.(JToken)), nil }))
	tok.method("Remove", "object", func(e *env, v any, _ []string, _ []any) (any, error) {
		if p, ok := v.(*JProperty); ok {
			if p.parent == nil {
				return nil, throwf("InvalidOperationException", "The parent is missing.")
			}
			if err := e.chargeScan(p.parent.Len()); err != nil {
				return nil, err
			}
			p.parent.Remove(p.Name)
			return nil, nil
		}
		return nil, throwf("InvalidOperationException", "The parent is missing.")
	})

	o := typ("JObject")
	o.method("Properties", "object[]", m0(func(v any) (any, error) {
		x := v.(*JObject)
		out := make([]any, len(x.props))
		for i, p := range x.props {
			out[i] = p
		}
		return out, nil
	}))
	o.method("Property", "JProperty", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if p := v.(*JObject).Property(n); p != nil {
			return p, nil
		}
		return nil, nil
	})
	o.method("ContainsKey", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return v.(*JObject).Property(n) != nil, nil
	})
	o.method("GetValue", "JToken", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		x := v.(*JObject)
		t := x.Get(n)
		if t == nil && ignoreCase(args) {
			if err := e.chargeScan(len(x.props)); err != nil {
				return nil, err
			}
			for _, p := range x.props {
				if strings.EqualFold(p.Name, n) {
					t = p.Value
					break
				}
			}
		}
		if t == nil {
			return nil, nil
		}
		return t, nil
	})
	o.method("TryGetValue", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		ref, ok := argAt(args, 1).(*outRef)
		if !ok {
			return nil, errArgs("TryGetValue", len(args))
		}
		t := v.(*JObject).Get(n)
		if t == nil {
			e.locals[ref.slot] = nil
			return false, nil
		}
		e.locals[ref.slot] = t
		return true, nil
	})
	o.method("Remove", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		if len(args) == 0 {
			return nil, throwf("InvalidOperationException", "The parent is missing.")
		}
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if err := e.chargeScan(v.(*JObject).Len()); err != nil { // Remove shifts the rest
			return nil, err
		}
		return v.(*JObject).Remove(n), nil
	})
	o.method("Add", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*JObject)
		if len(args) == 2 {
			n, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			t, err := ToJToken(args[1])
			if err != nil {
				return nil, err
			}
			return nil, x.addProp(&JProperty{Name: n, Value: t})
		}
		return nil, addContent(x, argAt(args, 0))
	})
	o.method("Merge", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		src, ok := argAt(args, 0).(*JObject)
		if !ok {
			return nil, nil
		}
		mergeInto(v.(*JObject), src)
		return nil, nil
	})

	a := typ("JArray")
	a.method("Add", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*JArray)
		if len(x.Items) >= maxArrayLen {
			return nil, errTooLarge()
		}
		t, err := ToJToken(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		x.Items = append(x.Items, t)
		return nil, nil
	})
	a.method("RemoveAt", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*JArray)
		i, err := indexArg(args, len(x.Items))
		if err != nil {
			return nil, err
		}
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		x.Items = append(x.Items[:i], x.Items[i+1:]...)
		return nil, nil
	})
	a.method("Remove", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*JArray)
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		for i, it := range x.Items {
			if refEqual(it, argAt(args, 0)) {
				x.Items = append(x.Items[:i], x.Items[i+1:]...)
				return true, nil
			}
		}
		return false, nil
	})
	a.method("Insert", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		x := v.(*JArray)
		i, err := indexArg(args, len(x.Items)+1)
		if err != nil {
			return nil, err
		}
		if len(x.Items) >= maxArrayLen {
			return nil, errTooLarge()
		}
		if err := e.chargeScan(len(x.Items)); err != nil {
			return nil, err
		}
		t, err := ToJToken(argAt(args, 1))
		if err != nil {
			return nil, err
		}
		x.Items = append(x.Items[:i], append([]JToken{t}, x.Items[i:]...)...)
		return nil, nil
	})
	a.method("Clear", "object", m0(func(v any) (any, error) { v.(*JArray).Items = nil; return nil, nil }))

	p := typ("JProperty")
	p.prop("Name", "string", get(func(p *JProperty) any { return p.Name }))
	p.prop("Value", "JToken", get(func(p *JProperty) any {
		if p.Value == nil {
			return nil
		}
		return p.Value
	}))
	p.setProps["Value"] = func(e *env, v, val any) error {
		t, err := ToJToken(val)
		if err != nil {
			return err
		}
		v.(*JProperty).Value = t
		return nil
	}
	jv := typ("JValue")
	jv.prop("Value", tObject, get(func(j *JValue) any { return j.Value }))
}

var jTokenTypes = map[string]int{"None": 0, "Object": 1, "Array": 2, "Constructor": 3, "Property": 4, "Comment": 5,
	"Integer": 6, "Float": 7, "String": 8, "Boolean": 9, "Null": 10, "Undefined": 11, "Date": 12, "Raw": 13,
	"Bytes": 14, "Guid": 15, "Uri": 16, "TimeSpan": 17}

func firstLast(v any, first bool) (any, error) {
	var items []any
	switch x := v.(type) {
	case *JObject:
		for _, p := range x.props {
			items = append(items, p)
		}
	case *JArray:
		items, _ = enumerate(x)
	case *JProperty:
		items = []any{x.Value}
	default:
		return nil, throwf("InvalidOperationException", "Cannot access child value on Newtonsoft.Json.Linq.JValue.")
	}
	if len(items) == 0 {
		return nil, nil
	}
	if first {
		return items[0], nil
	}
	return items[len(items)-1], nil
}

// addContent adds constructor/Add content to a JObject: JProperty values,
// or enumerables of them.
func addContent(o *JObject, c any) error {
	switch x := c.(type) {
	case nil:
		return nil
	case *JProperty:
		return o.addProp(x)
	case *JObject:
		for _, p := range x.props {
			if err := o.addProp(p); err != nil {
				return err
			}
		}
		return nil
	case []any, *List, *JArray:
		items, _ := enumerate(x)
		for _, it := range items {
			if err := addContent(o, it); err != nil {
				return err
			}
		}
		return nil
	}
	return throwf("ArgumentException", "Can not add %s to Newtonsoft.Json.Linq.JObject.", dotnetTypeName(c))
}

func mergeInto(dst, src *JObject) {
	for _, p := range src.props {
		if so, ok := p.Value.(*JObject); ok {
			if do, ok := dst.Get(p.Name).(*JObject); ok {
				mergeInto(do, so)
				continue
			}
		}
		dst.Set(p.Name, deepClone(p.Value))
	}
}

// base64 helpers shared by Convert and JSON bytes.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errFormat("The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.")
	}
	return b, nil
}
