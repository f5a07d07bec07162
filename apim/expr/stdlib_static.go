package expr

// Static classes (Convert, DateTime, Math ...) and constructors.

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"html"
	"math"
	"math/rand"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/gatehouse/gatehouse/internal/dotnetfmt"
)

type sprop struct {
	t   string
	get func(e *env) (any, error)
}

type smethod struct {
	t    string
	call func(e *env, targs []string, args []any) (any, error)
}

type staticClass struct {
	props   map[string]sprop
	methods map[string]smethod
	ctor    func(e *env, targs []string, args []any) (any, error)
}

var statics = map[string]*staticClass{}

func static(name string) *staticClass {
	s := statics[name]
	if s == nil {
		s = &staticClass{props: map[string]sprop{}, methods: map[string]smethod{}}
		statics[name] = s
		knownTypes[name] = true
	}
	return s
}

func (s *staticClass) p(name, t string, get func(e *env) (any, error)) *staticClass {
	s.props[name] = sprop{t: t, get: get}
	return s
}

func (s *staticClass) konst(name, t string, v any) *staticClass {
	return s.p(name, t, func(*env) (any, error) { return v, nil })
}

func (s *staticClass) m(name, t string, call func(e *env, targs []string, args []any) (any, error)) *staticClass {
	s.methods[name] = smethod{t: t, call: call}
	return s
}

func (s *staticClass) new(f func(e *env, targs []string, args []any) (any, error)) *staticClass {
	s.ctor = f
	return s
}

// enum registers an enum type's members.
func enum(name string, members ...string) {
	s := static(name)
	for i, m := range members {
		if m == "" {
			continue
		}
		parts := strings.SplitN(m, "=", 2)
		v := i
		if len(parts) == 2 {
			v, _ = strconv.Atoi(parts[1])
		}
		s.konst(parts[0], "Enum", EnumValue{Type: name, Name: parts[0], Value: v})
	}
}

// alias makes other names refer to the same static class.
func alias(name string, others ...string) {
	for _, o := range others {
		statics[o] = statics[name]
		knownTypes[o] = true
	}
}

func a1(f func(a any) (any, error)) func(*env, []string, []any) (any, error) {
	return func(_ *env, _ []string, args []any) (any, error) {
		if len(args) != 1 {
			return nil, errArgs("?", len(args))
		}
		return f(args[0])
	}
}

// jsonParse is s1 for the JSON parsers, which charge the evaluation.
func jsonParse(f func(e *env, s string) (any, error)) func(*env, []string, []any) (any, error) {
	return func(e *env, targs []string, args []any) (any, error) {
		return s1(func(s string) (any, error) { return f(e, s) })(e, targs, args)
	}
}

func s1(f func(s string) (any, error)) func(*env, []string, []any) (any, error) {
	return func(_ *env, _ []string, args []any) (any, error) {
		if len(args) < 1 {
			return nil, errArgs("?", len(args))
		}
		if args[0] == nil {
			return nil, errArgNull("s")
		}
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return f(s)
	}
}

func bytesArg(args []any, i int) ([]byte, error) {
	switch x := argAt(args, i).(type) {
	case []byte:
		return x, nil
	case nil:
		return nil, errArgNull("bytes")
	case []any:
		out := make([]byte, len(x))
		for j, y := range x {
			_, n, _ := num(y)
			out[j] = byte(n)
		}
		return out, nil
	}
	return nil, throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'byte[]'", i+1, dotnetTypeName(argAt(args, i)))
}

// bytesRangeArg is the byte[] argument 0, cut to the (offset, count)
// arguments 1 and 2 when given; a bad range is an ArgumentOutOfRange for
// param.
func bytesRangeArg(args []any, param string) ([]byte, error) {
	b, err := bytesArg(args, 0)
	if err != nil || len(args) != 3 {
		return b, err
	}
	off, err1 := intArg(args, 1)
	n, err2 := intArg(args, 2)
	if err1 != nil || err2 != nil || off < 0 || n < 0 || off+n > len(b) {
		return nil, errRange(param)
	}
	return b[off : off+n], nil
}

// tryParse implements X.TryParse(s, out v).
func tryParse(parse func(s string) (any, error)) func(*env, []string, []any) (any, error) {
	return func(e *env, _ []string, args []any) (any, error) {
		ref, ok := argAt(args, len(args)-1).(*outRef)
		if !ok || len(args) < 2 {
			return nil, errArgs("TryParse", len(args))
		}
		s, _ := argAt(args, 0).(string)
		v, err := parse(s)
		if err != nil {
			e.locals[ref.slot] = zeroOf(v)
			return false, nil
		}
		e.locals[ref.slot] = v
		return true, nil
	}
}

func zeroOf(v any) any { return v }

func parseInt(bits int) func(string) (any, error) {
	return func(s string) (any, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, bits)
		if err != nil {
			var z any = int32(0)
			if bits == 64 {
				z = int64(0)
			}
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return z, throwf("OverflowException", "Value was either too large or too small for an Int%d.", bits)
			}
			return z, errFormat("Input string was not in a correct format.")
		}
		if bits == 32 {
			return int32(n), nil
		}
		return n, nil
	}
}

func parseDouble(s string) (any, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return float64(0), errFormat("Input string was not in a correct format.")
	}
	return f, nil
}

// toNumber is Convert.ToInt32/ToInt64/ToDouble.
func toNumber(v any, t string) (any, error) {
	switch x := v.(type) {
	case nil:
		return zeroValue(t), nil
	case string:
		switch t {
		case "int":
			return parseInt(32)(x)
		case "long":
			return parseInt(64)(x)
		case "byte":
			n, err := parseInt(32)(x)
			if err != nil {
				return nil, err
			}
			return castNumeric(n, "byte")
		}
		return parseDouble(x)
	case bool:
		if x {
			return castNumeric(int32(1), t)
		}
		return castNumeric(int32(0), t)
	case float64:
		if t != "double" {
			return castNumeric(math.RoundToEven(x), t)
		}
	case *JValue:
		return toNumber(x.Value, t)
	}
	return castNumeric(v, t)
}

// nowVal helpers.
func dateArgs(args []any) ([]int, error) {
	out := make([]int, 0, len(args))
	for i := range args {
		if _, ok := args[i].(EnumValue); ok {
			continue
		}
		n, err := intArg(args, i)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func kindLoc(args []any) *time.Location {
	for _, a := range args {
		if e, ok := a.(EnumValue); ok && e.Type == "DateTimeKind" && e.Value != 0 {
			return time.UTC
		}
	}
	return unspecified
}

func mathArgs(args []any) (k int, fs []float64, is []int64, err error) {
	for i, a := range args {
		if jv, ok := a.(*JValue); ok {
			a = jv.Value
		}
		ak, n, f := num(a)
		if ak == kNone {
			return 0, nil, nil, throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'double'", i+1, dotnetTypeName(a))
		}
		k = max(k, ak)
		fs = append(fs, f)
		is = append(is, n)
	}
	return
}

func numResult(k int, f float64, i int64) any {
	switch k {
	case kDouble:
		return f
	case kInt:
		return int32(i)
	}
	return i
}

func init() {
	str := static("string")
	alias("string", "String")
	str.konst("Empty", "string", "")
	str.m("IsNullOrEmpty", "bool", a1(func(a any) (any, error) { s, _ := a.(string); return s == "", nil }))
	str.m("IsNullOrWhiteSpace", "bool", a1(func(a any) (any, error) {
		s, _ := a.(string)
		return strings.TrimFunc(s, unicode.IsSpace) == "", nil
	}))
	str.m("Join", "string", func(e *env, _ []string, args []any) (any, error) {
		if len(args) < 2 {
			return nil, errArgs("Join", len(args))
		}
		sep := ToString(args[0])
		items := args[1:]
		if len(args) == 2 {
			if _, isStr := args[1].(string); !isStr && args[1] != nil {
				var err error
				if items, err = enumerate(args[1]); err != nil {
					return nil, err
				}
			}
		}
		parts := make([]string, len(items))
		n := 0
		for i, it := range items {
			parts[i] = ToString(it)
			n += len(parts[i]) + len(sep)
			if n > maxStringLen {
				return nil, errTooLarge()
			}
		}
		return strings.Join(parts, sep), nil
	})
	str.m("Concat", "string", func(e *env, _ []string, args []any) (any, error) {
		items := args
		if len(args) == 1 {
			if _, isStr := args[0].(string); !isStr && args[0] != nil {
				var err error
				if items, err = enumerate(args[0]); err != nil {
					return nil, err
				}
			}
		}
		var b strings.Builder
		for _, it := range items {
			b.WriteString(ToString(it))
			if b.Len() > maxStringLen {
				return nil, errTooLarge()
			}
		}
		return b.String(), nil
	})
	str.m("Format", "string", func(e *env, _ []string, args []any) (any, error) {
		if len(args) < 1 {
			return nil, errArgs("Format", 0)
		}
		f, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		rest := args[1:]
		if len(rest) == 1 {
			if a, ok := rest[0].([]any); ok {
				rest = a
			}
		}
		return stringFormat(f, rest)
	})
	str.m("Equals", "bool", func(e *env, _ []string, args []any) (any, error) {
		if len(args) < 2 {
			return nil, errArgs("Equals", len(args))
		}
		a, b := args[0], args[1]
		if as, ok := a.(string); ok {
			if bs, ok := b.(string); ok && ignoreCase(args[2:]) {
				return strings.EqualFold(as, bs), nil
			}
		}
		return equals(a, b), nil
	})
	str.m("Compare", "int", func(e *env, _ []string, args []any) (any, error) {
		a, _ := argAt(args, 0).(string)
		b, _ := argAt(args, 1).(string)
		ic := ignoreCase(args[min(2, len(args)):])
		if bb, ok := argAt(args, 2).(bool); ok {
			ic = bb
		}
		if ic {
			a, b = strings.ToLower(a), strings.ToLower(b)
		}
		if e, ok := argAt(args, 2).(EnumValue); ok && e.Value >= 4 {
			return int32(strings.Compare(a, b)), nil
		}
		return int32(compareStrings(a, b)), nil
	})
	str.m("CompareOrdinal", "int", func(e *env, _ []string, args []any) (any, error) {
		a, _ := argAt(args, 0).(string)
		b, _ := argAt(args, 1).(string)
		return int32(strings.Compare(a, b)), nil
	})
	str.new(func(e *env, _ []string, args []any) (any, error) {
		if c, ok := argAt(args, 0).(Char); ok {
			n, err := intArg(args, 1)
			if err != nil {
				return nil, err
			}
			if n < 0 || n > maxStringLen {
				return nil, errTooLarge()
			}
			return strings.Repeat(string(rune(c)), n), nil
		}
		items, err := enumerate(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, it := range items {
			b.WriteString(ToString(it))
		}
		return b.String(), nil
	})

	for _, n := range []struct {
		name  string
		bits  int
		alias string
	}{{"int", 32, "Int32"}, {"long", 64, "Int64"}} {
		s := static(n.name)
		alias(n.name, n.alias)
		p := parseInt(n.bits)
		t := n.name
		s.m("Parse", t, s1(p)).m("TryParse", "bool", tryParse(p))
		if n.bits == 32 {
			s.konst("MaxValue", t, int32(math.MaxInt32)).konst("MinValue", t, int32(math.MinInt32))
		} else {
			s.konst("MaxValue", t, int64(math.MaxInt64)).konst("MinValue", t, int64(math.MinInt64))
		}
	}
	static("double").m("Parse", "double", s1(parseDouble)).m("TryParse", "bool", tryParse(parseDouble)).
		konst("NaN", "double", math.NaN()).konst("MaxValue", "double", math.MaxFloat64).konst("MinValue", "double", -math.MaxFloat64).
		konst("PositiveInfinity", "double", math.Inf(1)).konst("NegativeInfinity", "double", math.Inf(-1)).
		m("IsNaN", "bool", a1(func(a any) (any, error) { f, _ := a.(float64); return math.IsNaN(f), nil }))
	alias("double", "Double", "float", "decimal", "Decimal", "Single")
	static("bool").m("Parse", "bool", s1(parseBool)).m("TryParse", "bool", tryParse(func(s string) (any, error) {
		v, err := parseBool(s)
		if err != nil {
			return false, err
		}
		return v, nil
	})).konst("TrueString", "string", "True").konst("FalseString", "string", "False")
	alias("bool", "Boolean")
	ch := static("char")
	alias("char", "Char")
	charPred := func(name string, f func(rune) bool) {
		ch.m(name, "bool", func(e *env, _ []string, args []any) (any, error) {
			var r rune
			switch x := argAt(args, 0).(type) {
			case Char:
				r = rune(x)
			case string:
				i, err := intArg(args, 1)
				if err != nil {
					return nil, err
				}
				rs := []rune(x)
				if i < 0 || i >= len(rs) {
					return nil, errIndex()
				}
				r = rs[i]
			default:
				return nil, errArgs(name, len(args))
			}
			return f(r), nil
		})
	}
	charPred("IsDigit", unicode.IsDigit)
	charPred("IsLetter", unicode.IsLetter)
	charPred("IsLetterOrDigit", func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	charPred("IsWhiteSpace", unicode.IsSpace)
	charPred("IsUpper", unicode.IsUpper)
	charPred("IsLower", unicode.IsLower)
	charPred("IsPunctuation", unicode.IsPunct)
	ch.m("ToUpper", "char", a1(func(a any) (any, error) { c, _ := a.(Char); return Char(unicode.ToUpper(rune(c))), nil }))
	ch.m("ToLower", "char", a1(func(a any) (any, error) { c, _ := a.(Char); return Char(unicode.ToLower(rune(c))), nil }))
	static("byte")
	alias("byte", "Byte")
	static("object")
	alias("object", "Object")

	g := static("Guid")
	g.m("NewGuid", "Guid", func(*env, []string, []any) (any, error) { return NewGuid(), nil })
	parseG := func(s string) (any, error) {
		v, ok := ParseGuid(s)
		if !ok {
			return Guid{}, errFormat("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
		}
		return v, nil
	}
	g.m("Parse", "Guid", s1(parseG)).m("TryParse", "bool", tryParse(parseG)).konst("Empty", "Guid", Guid{})
	g.new(func(e *env, _ []string, args []any) (any, error) {
		switch x := argAt(args, 0).(type) {
		case []byte:
			if len(x) != 16 {
				return nil, throwf("ArgumentException", "Byte array for GUID must be exactly 16 bytes long. (Parameter 'b')")
			}
			return guidFromBytes(x), nil
		case string:
			return parseG(x)
		}
		return nil, errArgs("Guid", len(args))
	})

	cv := static("Convert")
	cv.m("ToBase64String", "string", func(e *env, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		if len(args) >= 3 {
			off, err1 := intArg(args, 1)
			n, err2 := intArg(args, 2)
			if err1 != nil || err2 != nil || off < 0 || n < 0 || off+n > len(b) {
				return nil, errRange("offset")
			}
			b = b[off : off+n]
		}
		return base64.StdEncoding.EncodeToString(b), nil
	})
	cv.m("FromBase64String", "byte[]", s1(func(s string) (any, error) { return decodeBase64(s) }))
	convNum := func(t string) func(*env, []string, []any) (any, error) {
		return func(e *env, _ []string, args []any) (any, error) {
			if len(args) == 2 {
				s, _ := args[0].(string)
				base, err := intArg(args, 1)
				if err != nil {
					return nil, err
				}
				if base != 2 && base != 8 && base != 10 && base != 16 {
					return nil, throwf("ArgumentException", "Invalid Base. (Parameter 'fromBase')")
				}
				s = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "0x"), "")
				n, perr := strconv.ParseInt(s, base, 64)
				if perr != nil {
					return nil, errFormat("Could not find any recognizable digits.")
				}
				return castNumeric(n, t)
			}
			if len(args) != 1 {
				return nil, errArgs("To"+t, len(args))
			}
			return toNumber(args[0], t)
		}
	}
	cv.m("ToInt32", "int", convNum("int")).m("ToInt64", "long", convNum("long")).m("ToDouble", "double", convNum("double")).
		m("ToDecimal", "double", convNum("double")).m("ToByte", "byte", convNum("byte")).m("ToInt16", "int", convNum("int"))
	cv.m("ToString", "string", func(e *env, _ []string, args []any) (any, error) {
		if len(args) == 2 {
			if _, isEnum := args[1].(EnumValue); !isEnum {
				if base, err := intArg(args, 1); err == nil {
					_, n, _ := num(args[0])
					return strconv.FormatInt(n, base), nil
				}
			}
		}
		if len(args) < 1 {
			return nil, errArgs("ToString", 0)
		}
		if args[0] == nil {
			return "", nil
		}
		return ToString(args[0]), nil
	})
	cv.m("ToBoolean", "bool", a1(func(a any) (any, error) {
		switch x := a.(type) {
		case string:
			return parseBool(x)
		case nil:
			return false, nil
		case bool:
			return x, nil
		case *JValue:
			return castTo(x, "bool")
		}
		k, _, f := num(a)
		if k == kNone {
			return nil, errCast(a, "bool")
		}
		return f != 0, nil
	}))
	cv.m("ToDateTime", "DateTime", a1(func(a any) (any, error) {
		switch x := a.(type) {
		case string:
			return parseDateTime(x)
		case time.Time:
			return x, nil
		case nil:
			return time.Time{}, nil
		}
		return castTo(a, "DateTime")
	}))
	cv.m("ToHexString", "string", func(e *env, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		return strings.ToUpper(hexEncode(b)), nil
	})
	cv.m("FromHexString", "byte[]", s1(func(s string) (any, error) {
		b, err := hexDecode(s)
		if err != nil {
			return nil, errFormat("The input is not a valid hex string as it contains a non-hex character.")
		}
		return b, nil
	}))

	// Encoding
	for _, n := range []string{"UTF8", "ASCII", "Unicode", "Default", "UTF32", "Latin1", "BigEndianUnicode"} {
		static("Encoding").konst(n, "Encoding", &encoding{name: n})
	}
	enc := typ("Encoding")
	enc.method("GetBytes", "byte[]", func(e *env, v any, _ []string, args []any) (any, error) {
		if argAt(args, 0) == nil {
			return nil, errArgNull("s")
		}
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		return v.(*encoding).encode(s), nil
	})
	enc.method("GetString", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		b, err := bytesRangeArg(args, "index")
		if err != nil {
			return nil, err
		}
		return v.(*encoding).decode(b), nil
	})
	enc.prop("WebName", "string", func(e *env, v any) (any, error) { return strings.ToLower(v.(*encoding).name), nil })

	// DateTime
	dt := static("DateTime")
	dt.p("UtcNow", "DateTime", func(e *env) (any, error) { return now(e), nil })
	dt.p("Now", "DateTime", func(e *env) (any, error) { return now(e), nil })
	dt.p("Today", "DateTime", func(e *env) (any, error) {
		t := now(e)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, unspecified), nil
	})
	dt.konst("MinValue", "DateTime", time.Date(1, 1, 1, 0, 0, 0, 0, unspecified))
	dt.konst("MaxValue", "DateTime", time.Date(9999, 12, 31, 23, 59, 59, 999999900, unspecified))
	dt.konst("UnixEpoch", "DateTime", time.Unix(0, 0).UTC())
	dt.m("Parse", "DateTime", s1(parseDateTime))
	dt.m("TryParse", "bool", tryParse(func(s string) (any, error) {
		v, err := parseDateTime(s)
		if err != nil {
			return time.Time{}, err
		}
		return v, nil
	}))
	dt.m("ParseExact", "DateTime", func(e *env, _ []string, args []any) (any, error) {
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if fs, ok := argAt(args, 1).([]string); ok {
			for _, f := range fs {
				if v, err := parseExact(s, f); err == nil {
					return v, nil
				}
			}
			return nil, errFormat("String '" + s + "' was not recognized as a valid DateTime.")
		}
		f, err := strArg(args, 1)
		if err != nil {
			return nil, err
		}
		return parseExact(s, f)
	})
	dt.m("TryParseExact", "bool", func(e *env, _ []string, args []any) (any, error) {
		ref, ok := argAt(args, len(args)-1).(*outRef)
		if !ok {
			return nil, errArgs("TryParseExact", len(args))
		}
		s, _ := argAt(args, 0).(string)
		f, _ := argAt(args, 1).(string)
		v, err := parseExact(s, f)
		if err != nil {
			e.locals[ref.slot] = time.Time{}
			return false, nil
		}
		e.locals[ref.slot] = v
		return true, nil
	})
	dt.m("DaysInMonth", "int", func(e *env, _ []string, args []any) (any, error) {
		y, err1 := intArg(args, 0)
		m, err2 := intArg(args, 1)
		if err1 != nil || err2 != nil || m < 1 || m > 12 {
			return nil, errRange("month")
		}
		return int32(time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()), nil
	})
	dt.m("IsLeapYear", "bool", func(e *env, _ []string, args []any) (any, error) {
		y, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		return y%4 == 0 && (y%100 != 0 || y%400 == 0), nil
	})
	dt.m("SpecifyKind", "DateTime", func(e *env, _ []string, args []any) (any, error) {
		t, ok := argAt(args, 0).(time.Time)
		if !ok {
			return nil, errArgs("SpecifyKind", len(args))
		}
		loc := kindLoc(args[1:])
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), nil
	})
	dt.new(func(e *env, _ []string, args []any) (any, error) {
		n, err := dateArgs(args)
		if err != nil {
			return nil, err
		}
		loc := kindLoc(args)
		switch len(n) {
		case 1:
			return fromTicks(int64(n[0]), loc), nil
		case 3, 6, 7:
			for len(n) < 7 {
				n = append(n, 0)
			}
			if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[0] < 1 || n[0] > 9999 || n[3] < 0 || n[3] > 23 || n[4] < 0 || n[4] > 59 || n[5] < 0 || n[5] > 59 {
				return nil, throwf("ArgumentOutOfRangeException", "Year, Month, and Day parameters describe an un-representable DateTime.")
			}
			return time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*1e6, loc), nil
		}
		return nil, errArgs("DateTime", len(args))
	})
	enum("DateTimeKind", "Unspecified", "Utc", "Local")
	enum("DayOfWeek", dayNames...)

	dto := static("DateTimeOffset")
	dto.p("UtcNow", "DateTimeOffset", func(e *env) (any, error) { return DateTimeOffset{now(e)}, nil })
	dto.p("Now", "DateTimeOffset", func(e *env) (any, error) { return DateTimeOffset{now(e)}, nil })
	dto.konst("UnixEpoch", "DateTimeOffset", DateTimeOffset{time.Unix(0, 0).UTC()})
	dto.m("FromUnixTimeSeconds", "DateTimeOffset", func(e *env, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if n < -62135596800 || n > 253402300799 {
			return nil, errRange("seconds")
		}
		return DateTimeOffset{time.Unix(int64(n), 0).UTC()}, nil
	})
	dto.m("FromUnixTimeMilliseconds", "DateTimeOffset", func(e *env, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if n < -62135596800000 || n > 253402300799999 {
			return nil, errRange("milliseconds")
		}
		return DateTimeOffset{time.UnixMilli(int64(n)).UTC()}, nil
	})
	dto.m("Parse", "DateTimeOffset", s1(func(s string) (any, error) {
		t, err := parseDateTime(s)
		if err != nil {
			return nil, err
		}
		return DateTimeOffset{t.(time.Time).UTC()}, nil
	}))
	dto.new(func(e *env, _ []string, args []any) (any, error) {
		if t, ok := argAt(args, 0).(time.Time); ok {
			return DateTimeOffset{t.UTC()}, nil
		}
		return nil, errArgs("DateTimeOffset", len(args))
	})

	tsp := static("TimeSpan")
	from := func(unit time.Duration) func(*env, []string, []any) (any, error) {
		return func(e *env, _ []string, args []any) (any, error) {
			f, err := floatArg(args, 0)
			if err != nil {
				return nil, err
			}
			return time.Duration(f * float64(unit)), nil
		}
	}
	tsp.m("FromSeconds", "TimeSpan", from(time.Second)).m("FromMinutes", "TimeSpan", from(time.Minute)).
		m("FromHours", "TimeSpan", from(time.Hour)).m("FromDays", "TimeSpan", from(24*time.Hour)).
		m("FromMilliseconds", "TimeSpan", from(time.Millisecond)).m("FromTicks", "TimeSpan", from(100)).
		konst("Zero", "TimeSpan", time.Duration(0)).konst("MaxValue", "TimeSpan", time.Duration(math.MaxInt64))
	tsp.m("Parse", "TimeSpan", s1(parseTimeSpan))
	tsp.new(func(e *env, _ []string, args []any) (any, error) {
		n, err := dateArgs(args)
		if err != nil {
			return nil, err
		}
		for _, x := range n {
			if x > 1e7 || x < -1e7 {
				if len(n) == 1 {
					return time.Duration(x) * 100, nil
				}
				return nil, errRange("value")
			}
		}
		switch len(n) {
		case 1:
			return time.Duration(n[0]) * 100, nil
		case 3:
			return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, nil
		case 4, 5:
			d := time.Duration(n[0])*24*time.Hour + time.Duration(n[1])*time.Hour + time.Duration(n[2])*time.Minute + time.Duration(n[3])*time.Second
			if len(n) == 5 {
				d += time.Duration(n[4]) * time.Millisecond
			}
			return d, nil
		}
		return nil, errArgs("TimeSpan", len(args))
	})

	mt := static("Math")
	mt.konst("PI", "double", math.Pi).konst("E", "double", math.E)
	minmax := func(isMax bool) func(*env, []string, []any) (any, error) {
		return func(e *env, _ []string, args []any) (any, error) {
			if len(args) != 2 {
				return nil, errArgs("Min", len(args))
			}
			k, fs, is, err := mathArgs(args)
			if err != nil {
				return nil, err
			}
			pick := 0
			if k == kDouble {
				if (fs[1] > fs[0]) == isMax && fs[1] != fs[0] {
					pick = 1
				}
			} else if (is[1] > is[0]) == isMax && is[1] != is[0] {
				pick = 1
			}
			return numResult(k, fs[pick], is[pick]), nil
		}
	}
	mt.m("Min", "object", minmax(false)).m("Max", "object", minmax(true))
	mt.m("Abs", "object", func(e *env, _ []string, args []any) (any, error) {
		k, fs, is, err := mathArgs(args)
		if err != nil || len(fs) != 1 {
			return nil, errArgs("Abs", len(args))
		}
		return numResult(k, math.Abs(fs[0]), abs64(is[0])), nil
	})
	fm := func(name string, f func(float64) float64) {
		mt.m(name, "double", func(e *env, _ []string, args []any) (any, error) {
			_, fs, _, err := mathArgs(args)
			if err != nil || len(fs) != 1 {
				return nil, errArgs(name, len(args))
			}
			return f(fs[0]), nil
		})
	}
	fm("Floor", math.Floor)
	fm("Ceiling", math.Ceil)
	fm("Truncate", math.Trunc)
	fm("Sqrt", math.Sqrt)
	fm("Log10", math.Log10)
	fm("Exp", math.Exp)
	mt.m("Log", "double", func(e *env, _ []string, args []any) (any, error) {
		_, fs, _, err := mathArgs(args)
		if err != nil || len(fs) < 1 {
			return nil, errArgs("Log", len(args))
		}
		if len(fs) == 2 {
			return math.Log(fs[0]) / math.Log(fs[1]), nil
		}
		return math.Log(fs[0]), nil
	})
	mt.m("Pow", "double", func(e *env, _ []string, args []any) (any, error) {
		_, fs, _, err := mathArgs(args)
		if err != nil || len(fs) != 2 {
			return nil, errArgs("Pow", len(args))
		}
		return math.Pow(fs[0], fs[1]), nil
	})
	mt.m("Sign", "int", func(e *env, _ []string, args []any) (any, error) {
		_, fs, _, err := mathArgs(args)
		if err != nil || len(fs) != 1 {
			return nil, errArgs("Sign", len(args))
		}
		switch {
		case fs[0] > 0:
			return int32(1), nil
		case fs[0] < 0:
			return int32(-1), nil
		}
		return int32(0), nil
	})
	mt.m("Round", "double", func(e *env, _ []string, args []any) (any, error) {
		away := false
		var nums []any
		for _, a := range args {
			if ev, ok := a.(EnumValue); ok {
				away = ev.Name == "AwayFromZero"
				continue
			}
			nums = append(nums, a)
		}
		_, fs, _, err := mathArgs(nums)
		if err != nil || len(fs) < 1 || len(fs) > 2 {
			return nil, errArgs("Round", len(args))
		}
		p := 1.0
		if len(fs) == 2 {
			if fs[1] < 0 || fs[1] > 15 {
				return nil, errRange("digits")
			}
			p = math.Pow(10, fs[1])
		}
		x := fs[0] * p
		if away {
			x = math.Round(x)
		} else {
			x = math.RoundToEven(x)
		}
		return x / p, nil
	})
	enum("MidpointRounding", "ToEven", "AwayFromZero")

	enum("StringComparison", "CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase")
	enum("StringComparer", "CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase")
	enum("StringSplitOptions", "None", "RemoveEmptyEntries", "TrimEntries")
	enum("Formatting", "None", "Indented")
	enum("JTokenType", "None", "Object", "Array", "Constructor", "Property", "Comment", "Integer", "Float", "String",
		"Boolean", "Null", "Undefined", "Date", "Raw", "Bytes", "Guid", "Uri", "TimeSpan")
	enum("RegexOptions", "None=0", "IgnoreCase=1", "Multiline=2", "ExplicitCapture=4", "Compiled=8", "Singleline=16",
		"IgnorePatternWhitespace=32", "RightToLeft=64", "ECMAScript=256", "CultureInvariant=512")
	enum("UriKind", "RelativeOrAbsolute", "Absolute", "Relative")

	uri := static("Uri")
	uri.m("EscapeDataString", "string", s1(func(s string) (any, error) { return escapeDataString(s), nil }))
	uri.m("EscapeUriString", "string", s1(func(s string) (any, error) { return escapeUriString(s), nil }))
	uri.m("UnescapeDataString", "string", s1(func(s string) (any, error) { return unescape(s, false), nil }))
	uri.m("IsWellFormedUriString", "bool", func(e *env, _ []string, args []any) (any, error) {
		s, _ := argAt(args, 0).(string)
		u, err := url.Parse(s)
		abs := err == nil && u.Scheme != "" && u.Host != ""
		if k, ok := argAt(args, 1).(EnumValue); ok && k.Name == "Relative" {
			return err == nil && u.Scheme == "", nil
		}
		return abs, nil
	})
	uri.new(func(e *env, _ []string, args []any) (any, error) {
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		u, perr := url.Parse(s)
		if perr != nil || u.Scheme == "" {
			return nil, throwf("UriFormatException", "Invalid URI: The format of the URI could not be determined.")
		}
		return &uriVal{u}, nil
	})
	wu := static("WebUtility")
	alias("WebUtility", "HttpUtility")
	wu.m("UrlEncode", "string", a1(func(a any) (any, error) {
		if a == nil {
			return nil, nil
		}
		return url.QueryEscape(ToString(a)), nil
	}))
	wu.m("UrlDecode", "string", a1(func(a any) (any, error) {
		if a == nil {
			return nil, nil
		}
		return unescape(ToString(a), true), nil
	}))
	wu.m("HtmlEncode", "string", a1(func(a any) (any, error) {
		if a == nil {
			return nil, nil
		}
		return htmlEncode(ToString(a)), nil
	}))
	wu.m("HtmlDecode", "string", a1(func(a any) (any, error) {
		if a == nil {
			return nil, nil
		}
		return html.UnescapeString(ToString(a)), nil
	}))

	bc := static("BitConverter")
	bc.m("ToString", "string", func(e *env, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		if len(args) >= 2 {
			off, err := intArg(args, 1)
			if err != nil || off < 0 || off > len(b) {
				return nil, errRange("startIndex")
			}
			b = b[off:]
			if len(args) == 3 {
				n, err := intArg(args, 2)
				if err != nil || n < 0 || n > len(b) {
					return nil, errRange("length")
				}
				b = b[:n]
			}
		}
		parts := make([]string, len(b))
		for i, x := range b {
			parts[i] = strings.ToUpper(hexEncode([]byte{x}))
		}
		return strings.Join(parts, "-"), nil
	})
	bc.m("GetBytes", "byte[]", a1(func(a any) (any, error) {
		switch x := a.(type) {
		case int32:
			return binary.LittleEndian.AppendUint32(nil, uint32(x)), nil
		case int64:
			return binary.LittleEndian.AppendUint64(nil, uint64(x)), nil
		case bool:
			if x {
				return []byte{1}, nil
			}
			return []byte{0}, nil
		case float64:
			return binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)), nil
		}
		return nil, errArgs("GetBytes", 1)
	}))
	bc.m("ToInt32", "int", func(e *env, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		i, err := intArg(args, 1)
		if err != nil || i < 0 || i+4 > len(b) {
			return nil, errRange("startIndex")
		}
		return int32(binary.LittleEndian.Uint32(b[i:])), nil
	})
	bc.m("ToInt64", "long", func(e *env, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		i, err := intArg(args, 1)
		if err != nil || i < 0 || i+8 > len(b) {
			return nil, errRange("startIndex")
		}
		return int64(binary.LittleEndian.Uint64(b[i:])), nil
	})

	ar := static("Array")
	ar.m("Copy", "object", func(e *env, _ []string, args []any) (any, error) {
		var src, dst any
		var si, di, n int
		var err error
		switch len(args) {
		case 3:
			src, dst = args[0], args[1]
			n, err = intArg(args, 2)
		case 5:
			src, dst = args[0], args[2]
			if si, err = intArg(args, 1); err == nil {
				if di, err = intArg(args, 3); err == nil {
					n, err = intArg(args, 4)
				}
			}
		default:
			return nil, errArgs("Copy", len(args))
		}
		if err != nil {
			return nil, err
		}
		if src == nil || dst == nil {
			return nil, errArgNull("array")
		}
		if si < 0 || di < 0 || n < 0 || si+n > seqLen(src) || di+n > seqLen(dst) {
			return nil, throwf("ArgumentException", "Destination array was not long enough. Check the destination index, length, and the array's lower bounds.")
		}
		switch d := dst.(type) {
		case []byte:
			s, ok := src.([]byte)
			if !ok {
				return nil, throwf("ArrayTypeMismatchException", "Source array type cannot be assigned to destination array type.")
			}
			copy(d[di:di+n], s[si:si+n])
		case []string:
			s, ok := src.([]string)
			if !ok {
				return nil, throwf("ArrayTypeMismatchException", "Source array type cannot be assigned to destination array type.")
			}
			copy(d[di:di+n], s[si:si+n])
		case []any:
			items, _ := enumerate(src)
			copy(d[di:di+n], items[si:si+n])
		}
		return nil, nil
	})
	ar.m("IndexOf", "int", func(e *env, _ []string, args []any) (any, error) {
		items, err := enumerate(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			if equals(it, argAt(args, 1)) {
				return int32(i), nil
			}
		}
		return int32(-1), nil
	})
	ar.m("Reverse", "object", a1(func(a any) (any, error) {
		switch x := a.(type) {
		case []byte:
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
		case []string:
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
		case []any:
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
		}
		return nil, nil
	}))
	ar.m("Empty", "object[]", func(e *env, targs []string, _ []any) (any, error) {
		return newArray(firstOr(targs, tObject), 0), nil
	})
	en := static("Enumerable")
	en.m("Range", "object[]", func(e *env, _ []string, args []any) (any, error) {
		s, err1 := intArg(args, 0)
		n, err2 := intArg(args, 1)
		if err1 != nil || err2 != nil || n < 0 || n > maxArrayLen {
			return nil, errRange("count")
		}
		out := make([]any, n)
		for i := range out {
			out[i] = int32(s + i)
		}
		return out, nil
	})
	en.m("Repeat", "object[]", func(e *env, _ []string, args []any) (any, error) {
		n, err := intArg(args, 1)
		if err != nil || n < 0 || n > maxArrayLen {
			return nil, errRange("count")
		}
		out := make([]any, n)
		for i := range out {
			out[i] = args[0]
		}
		return out, nil
	})
	en.m("Empty", "object[]", func(*env, []string, []any) (any, error) { return []any{}, nil })

	rnd := static("Random")
	rnd.new(func(e *env, _ []string, args []any) (any, error) {
		if len(args) == 1 {
			n, err := intArg(args, 0)
			if err != nil {
				return nil, err
			}
			return &random{rand.New(rand.NewSource(int64(n)))}, nil
		}
		return &random{rand.New(rand.NewSource(time.Now().UnixNano()))}, nil
	})
	rt := typ("Random")
	rt.method("Next", "int", func(e *env, v any, _ []string, args []any) (any, error) {
		r := v.(*random).r
		switch len(args) {
		case 0:
			return int32(r.Int31()), nil
		case 1:
			n, err := intArg(args, 0)
			if err != nil || n < 0 {
				return nil, errRange("maxValue")
			}
			if n == 0 {
				return int32(0), nil
			}
			return int32(r.Int63n(int64(n))), nil
		}
		lo, err1 := intArg(args, 0)
		hi, err2 := intArg(args, 1)
		if err1 != nil || err2 != nil || lo > hi {
			return nil, errRange("minValue")
		}
		if lo == hi {
			return int32(lo), nil
		}
		return int32(int64(lo) + r.Int63n(int64(hi)-int64(lo))), nil
	})
	rt.method("NextDouble", "double", m0(func(v any) (any, error) { return v.(*random).r.Float64(), nil }))
	rt.method("NextBytes", "object", func(e *env, v any, _ []string, args []any) (any, error) {
		b, err := bytesArg(args, 0)
		if err != nil {
			return nil, err
		}
		v.(*random).r.Read(b)
		return nil, nil
	})

	// JSON statics
	jo := static("JObject")
	jo.m("Parse", "JObject", jsonParse(func(e *env, s string) (any, error) { return parseJObject(e, s) }))
	jo.m("FromObject", "JObject", a1(func(a any) (any, error) {
		t, err := ToJToken(a)
		if err != nil {
			return nil, err
		}
		if o, ok := t.(*JObject); ok {
			return o, nil
		}
		return nil, throwf("ArgumentException", "Object serialized to %s. JObject instance expected.", t.tokenType())
	}))
	jo.new(func(e *env, _ []string, args []any) (any, error) {
		o := &JObject{}
		for _, a := range args {
			if err := addContent(o, a); err != nil {
				return nil, err
			}
		}
		return o, nil
	})
	ja := static("JArray")
	ja.m("Parse", "JArray", jsonParse(func(e *env, s string) (any, error) { return parseJArray(e, s) }))
	ja.m("FromObject", "JArray", a1(func(a any) (any, error) {
		t, err := ToJToken(a)
		if err != nil {
			return nil, err
		}
		if o, ok := t.(*JArray); ok {
			return o, nil
		}
		return nil, throwf("ArgumentException", "Object serialized to %s. JArray instance expected.", t.tokenType())
	}))
	ja.new(func(e *env, _ []string, args []any) (any, error) {
		a := &JArray{}
		for _, x := range args {
			items := []any{x}
			switch x.(type) {
			case []any, []string, *List, *JArray:
				items, _ = enumerate(x)
			}
			for _, it := range items {
				t, err := ToJToken(it)
				if err != nil {
					return nil, err
				}
				a.Items = append(a.Items, t)
			}
		}
		return a, nil
	})
	jt := static("JToken")
	jt.m("Parse", "JToken", jsonParse(func(e *env, s string) (any, error) { return parseJSON(e, s) }))
	jt.m("FromObject", "JToken", a1(func(a any) (any, error) { return ToJToken(a) }))
	static("JProperty").new(func(e *env, _ []string, args []any) (any, error) {
		if len(args) < 1 {
			return nil, errArgs("JProperty", 0)
		}
		n, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		var val any
		if len(args) == 2 {
			val = args[1]
		} else if len(args) > 2 {
			val = args[1:]
		}
		t, err := ToJToken(val)
		if err != nil {
			return nil, err
		}
		return &JProperty{Name: n, Value: t}, nil
	})
	jv := static("JValue")
	jv.new(a1(func(a any) (any, error) {
		t, err := ToJToken(a)
		if err != nil {
			return nil, err
		}
		if v, ok := t.(*JValue); ok {
			return v, nil
		}
		return nil, throwf("ArgumentException", "Could not determine JSON object type for type %s.", dotnetTypeName(a))
	}))
	jv.m("CreateNull", "JValue", func(*env, []string, []any) (any, error) { return &JValue{}, nil })
	jv.m("CreateString", "JValue", a1(func(a any) (any, error) { return &JValue{Value: a}, nil }))
	jc := static("JsonConvert")
	jc.m("SerializeObject", "string", func(e *env, _ []string, args []any) (any, error) {
		if len(args) < 1 {
			return nil, errArgs("SerializeObject", 0)
		}
		indent := false
		if f, ok := argAt(args, 1).(EnumValue); ok && f.Type == "Formatting" {
			indent = f.Value == 1
		}
		t, err := ToJToken(args[0])
		if err != nil {
			return nil, err
		}
		return t.JSON(indent), nil
	})
	jc.m("DeserializeObject", "$T", func(e *env, targs []string, args []any) (any, error) {
		s, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		t, err := parseJSON(e, s)
		if err != nil {
			return nil, err
		}
		if len(targs) == 1 {
			return tokenValue(t, targs[0])
		}
		return t, nil
	})

	// exceptions
	for name := range exceptionParents {
		name := name
		static(name).new(func(e *env, _ []string, args []any) (any, error) {
			msg, _ := argAt(args, 0).(string)
			if msg == "" {
				msg = "Exception of type 'System." + name + "' was thrown."
			}
			return &csErr{typ: name, msg: msg}, nil
		})
	}
	static("Exception").new(func(e *env, _ []string, args []any) (any, error) {
		msg, _ := argAt(args, 0).(string)
		if msg == "" {
			msg = "Exception of type 'System.Exception' was thrown."
		}
		return &csErr{typ: "Exception", msg: msg}, nil
	})

	// collections
	static("List").new(func(e *env, targs []string, args []any) (any, error) {
		l := &List{Elem: firstOr(targs, tObject)}
		if len(args) == 1 {
			if _, isInt := args[0].(int32); !isInt {
				items, err := enumerate(args[0])
				if err != nil {
					return nil, err
				}
				l.Items = append([]any(nil), items...)
			}
		}
		return l, nil
	})
	alias("List", "HashSet")
	static("Dictionary").new(func(e *env, targs []string, args []any) (any, error) {
		k, v := tObject, tObject
		if len(targs) == 2 {
			k, v = targs[0], targs[1]
		}
		return NewDict(k, v), nil
	})
	static("KeyValuePair").new(func(e *env, _ []string, args []any) (any, error) {
		return KeyValuePair{Key: argAt(args, 0), Value: argAt(args, 1)}, nil
	})
	static("StringBuilder").new(func(e *env, _ []string, args []any) (any, error) {
		sb := &strBuilder{}
		if s, ok := argAt(args, 0).(string); ok {
			sb.b.WriteString(s)
		}
		return sb, nil
	})
	sbt := typ("StringBuilder")
	sbt.method("Append", "StringBuilder", func(e *env, v any, _ []string, args []any) (any, error) {
		sb := v.(*strBuilder)
		sb.b.WriteString(ToString(argAt(args, 0)))
		if sb.b.Len() > maxStringLen {
			return nil, errTooLarge()
		}
		return sb, nil
	})
	sbt.method("AppendLine", "StringBuilder", func(e *env, v any, _ []string, args []any) (any, error) {
		sb := v.(*strBuilder)
		sb.b.WriteString(ToString(argAt(args, 0)) + "\r\n")
		if sb.b.Len() > maxStringLen {
			return nil, errTooLarge()
		}
		return sb, nil
	})
	sbt.method("AppendFormat", "StringBuilder", func(e *env, v any, _ []string, args []any) (any, error) {
		sb := v.(*strBuilder)
		f, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		s, err := stringFormat(f, args[1:])
		if err != nil {
			return nil, err
		}
		sb.b.WriteString(s.(string))
		if sb.b.Len() > maxStringLen {
			return nil, errTooLarge()
		}
		return sb, nil
	})
	sbt.method("Clear", "StringBuilder", m0(func(v any) (any, error) { v.(*strBuilder).b.Reset(); return v, nil }))
	sbt.prop("Length", "int", get(func(s *strBuilder) any { return int32(strLen(s.b.String())) }))

	regexStatics()
	cryptoStatics()
}

func firstOr(ts []string, d string) string {
	if len(ts) > 0 {
		return ts[0]
	}
	return d
}

type random struct{ r *rand.Rand }

func (*random) csType() string { return "Random" }

type strBuilder struct{ b strings.Builder }

func (*strBuilder) csType() string { return "StringBuilder" }

type uriVal struct{ u *url.URL }

func (*uriVal) csType() string     { return "Uri" }
func (u *uriVal) csString() string { return u.u.String() }

func init() {
	ut := typ("Uri")
	ut.prop("Host", "string", get(func(u *uriVal) any { return u.u.Hostname() }))
	ut.prop("Scheme", "string", get(func(u *uriVal) any { return u.u.Scheme }))
	ut.prop("AbsolutePath", "string", get(func(u *uriVal) any {
		if u.u.EscapedPath() == "" {
			return "/"
		}
		return u.u.EscapedPath()
	}))
	ut.prop("AbsoluteUri", "string", get(func(u *uriVal) any { return u.u.String() }))
	ut.prop("Query", "string", get(func(u *uriVal) any {
		if u.u.RawQuery == "" {
			return ""
		}
		return "?" + u.u.RawQuery
	}))
	ut.prop("PathAndQuery", "string", get(func(u *uriVal) any { return u.u.RequestURI() }))
	ut.prop("Authority", "string", get(func(u *uriVal) any { return u.u.Host }))
	ut.prop("Port", "int", get(func(u *uriVal) any {
		if p := u.u.Port(); p != "" {
			n, _ := strconv.Atoi(p)
			return int32(n)
		}
		if u.u.Scheme == "https" {
			return int32(443)
		}
		return int32(80)
	}))
}

// encoding is an Encoding instance.
type encoding struct{ name string }

func (*encoding) csType() string { return "Encoding" }

func (c *encoding) encode(s string) []byte {
	switch c.name {
	case "ASCII":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 127 {
				r = '?'
			}
			b = append(b, byte(r))
		}
		return b
	case "Latin1":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 255 {
				r = '?'
			}
			b = append(b, byte(r))
		}
		return b
	case "Unicode", "BigEndianUnicode":
		u := utf16.Encode([]rune(s))
		b := make([]byte, 0, 2*len(u))
		for _, x := range u {
			if c.name == "Unicode" {
				b = binary.LittleEndian.AppendUint16(b, x)
			} else {
				b = binary.BigEndian.AppendUint16(b, x)
			}
		}
		return b
	case "UTF32":
		b := make([]byte, 0, 4*len(s))
		for _, r := range s {
			b = binary.LittleEndian.AppendUint32(b, uint32(r))
		}
		return b
	}
	return []byte(strings.ToValidUTF8(s, "\uFFFD"))
}

func (c *encoding) decode(b []byte) string {
	switch c.name {
	case "ASCII":
		r := make([]rune, len(b))
		for i, x := range b {
			if x > 127 {
				r[i] = '?'
			} else {
				r[i] = rune(x)
			}
		}
		return string(r)
	case "Latin1":
		r := make([]rune, len(b))
		for i, x := range b {
			r[i] = rune(x)
		}
		return string(r)
	case "Unicode", "BigEndianUnicode":
		u := make([]uint16, len(b)/2)
		for i := range u {
			if c.name == "Unicode" {
				u[i] = binary.LittleEndian.Uint16(b[2*i:])
			} else {
				u[i] = binary.BigEndian.Uint16(b[2*i:])
			}
		}
		return string(utf16.Decode(u))
	case "UTF32":
		r := make([]rune, len(b)/4)
		for i := range r {
			r[i] = rune(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// escapeDataString is Uri.EscapeDataString (RFC 3986 unreserved kept).
func escapeDataString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hexEncode([]byte{c})))
		}
	}
	return b.String()
}

func escapeUriString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~:/?#[]@!$&'()*+,;=%", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hexEncode([]byte{c})))
		}
	}
	return b.String()
}

// unescape decodes %XX sequences (and '+' as space for UrlDecode),
// leaving invalid sequences as they are, like .NET.
func unescape(s string, plus bool) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			x, _ := hexDecode(s[i+1 : i+3])
			b = append(b, x[0])
			i += 2
			continue
		}
		if c == '+' && plus {
			c = ' '
		}
		b = append(b, c)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func htmlEncode(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

func parseTimeSpan(s string) (any, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var days, h, m, sec int
	var frac time.Duration
	main := s
	if i := strings.IndexByte(s, '.'); i >= 0 && i < strings.IndexByte(s+":", ':') {
		d, err := strconv.Atoi(s[:i])
		if err != nil {
			return nil, errFormat("String '" + s + "' was not recognized as a valid TimeSpan.")
		}
		days, main = d, s[i+1:]
	}
	if i := strings.LastIndexByte(main, '.'); i >= 0 {
		f := main[i+1:]
		main = main[:i]
		for len(f) < 7 {
			f += "0"
		}
		n, err := strconv.Atoi(f[:7])
		if err != nil {
			return nil, errFormat("String '" + s + "' was not recognized as a valid TimeSpan.")
		}
		frac = time.Duration(n) * 100
	}
	parts := strings.Split(main, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, errFormat("String '" + s + "' was not recognized as a valid TimeSpan.")
		}
		nums[i] = n
	}
	switch len(nums) {
	case 1:
		days = nums[0]
	case 2:
		h, m = nums[0], nums[1]
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	default:
		return nil, errFormat("String '" + s + "' was not recognized as a valid TimeSpan.")
	}
	if h > 23 || m > 59 || sec > 59 || days > 10675199 {
		return nil, throwf("OverflowException", "The TimeSpan string '%s' could not be parsed because at least one of the numeric components is out of range or contains too many digits.", s)
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + frac
	if neg {
		d = -d
	}
	return d, nil
}

// stringFormat is string.Format with {index[,align][:format]} items.
func stringFormat(f string, args []any) (any, error) {
	out, err := dotnetfmt.Composite(f, len(args), func(i int, format string) (string, error) {
		if format == "" {
			return ToString(args[i]), nil
		}
		return formatValue(args[i], format)
	})
	switch {
	case errors.Is(err, dotnetfmt.ErrFormat):
		return nil, errFormat(dotnetfmt.MessageFormat)
	case errors.Is(err, dotnetfmt.ErrIndex):
		return nil, errFormat(dotnetfmt.MessageIndex)
	case err != nil:
		return nil, err
	case len(out) > maxStringLen:
		return nil, errTooLarge()
	}
	return out, nil
}

// newArray creates new T[n].
func newArray(elem string, n int) any {
	switch elem {
	case "string":
		return make([]string, n)
	case "byte":
		return make([]byte, n)
	}
	out := make([]any, n)
	z := zeroValue(elem)
	for i := range out {
		out[i] = z
	}
	return out
}
