package expr

// System.String instance members. Indices count Unicode code points (C#
// counts UTF-16 code units; they agree for text without astral-plane
// characters).

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// indexArg is argument 0 as an index into n items; out of [0, n) it is an
// ArgumentOutOfRangeException.
func indexArg(args []any, n int) (int, error) {
	i, err := intArg(args, 0)
	if err == nil && (i < 0 || i >= n) {
		err = errRange("index")
	}
	return i, err
}

func intArg(args []any, i int) (int, error) {
	if i >= len(args) {
		return 0, errArgs("?", len(args))
	}
	v := args[i]
	if jv, ok := v.(*JValue); ok {
		v = jv.Value
	}
	k, n, _ := num(v)
	if k == kInt || k == kLong {
		return int(n), nil
	}
	return 0, throwf("ArgumentException", "Argument %d: cannot convert from '%s' to 'int'", i+1, dotnetTypeName(args[i]))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// runeIndex converts a byte index of s into a code point index.
func runeIndex(s string, i int) int {
	if i < 0 || isASCII(s[:i]) {
		return i
	}
	return utf8.RuneCountInString(s[:i])
}

// byteOffset converts a code point index into a byte index (-1 if out of
// range).
func byteOffset(s string, n int) int {
	if n < 0 {
		return -1
	}
	if isASCII(s) {
		if n > len(s) {
			return -1
		}
		return n
	}
	i := 0
	for c := 0; c < n; c++ {
		if i >= len(s) {
			return -1
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}

func strLen(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// ignoreCase reads an optional StringComparison argument.
func ignoreCase(args []any) bool {
	for _, a := range args {
		if e, ok := a.(EnumValue); ok && e.Type == "StringComparison" {
			return e.Value%2 == 1
		}
	}
	return false
}

func needleArg(args []any, i int) (string, error) {
	if i >= len(args) {
		return "", errArgs("?", len(args))
	}
	switch x := args[i].(type) {
	case string:
		return x, nil
	case Char:
		return string(rune(x)), nil
	case nil:
		return "", errArgNull("value")
	}
	return strArg(args, i)
}

func indexOf(s string, args []any, last bool) (any, error) {
	needle, err := needleArg(args, 0)
	if err != nil {
		return nil, err
	}
	ic := ignoreCase(args)
	start := 0
	hasStart := false
	if len(args) > 1 {
		if _, ok := args[1].(EnumValue); !ok {
			if start, err = intArg(args, 1); err != nil {
				return nil, err
			}
			hasStart = true
		}
	}
	hay := s
	if ic {
		hay, needle = strings.ToLower(s), strings.ToLower(needle)
	}
	if last {
		if hasStart {
			b := byteOffset(hay, start+1)
			if b < 0 {
				b = len(hay)
			}
			hay = hay[:b]
		}
		return int32(runeIndex(hay, strings.LastIndex(hay, needle))), nil
	}
	b := byteOffset(hay, start)
	if b < 0 {
		return nil, errRange("startIndex")
	}
	i := strings.Index(hay[b:], needle)
	if i < 0 {
		return int32(-1), nil
	}
	return int32(runeIndex(hay, b+i)), nil
}

func substring(s string, args []any) (any, error) {
	start, err := intArg(args, 0)
	if err != nil {
		return nil, err
	}
	b := byteOffset(s, start)
	if b < 0 {
		return nil, throwf("ArgumentOutOfRangeException", "startIndex cannot be larger than length of string. (Parameter 'startIndex')")
	}
	if len(args) == 1 {
		return s[b:], nil
	}
	n, err := intArg(args, 1)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, throwf("ArgumentOutOfRangeException", "Length cannot be less than zero. (Parameter 'length')")
	}
	e := byteOffset(s[b:], n)
	if e < 0 {
		return nil, throwf("ArgumentOutOfRangeException", "Index and length must refer to a location within the string. (Parameter 'length')")
	}
	return s[b : b+e], nil
}

// split implements the String.Split overloads.
func split(s string, args []any) (any, error) {
	var seps []string
	opts := 0
	count := -1
	for _, a := range args {
		switch x := a.(type) {
		case Char:
			seps = append(seps, string(rune(x)))
		case string:
			seps = append(seps, x)
		case []string:
			seps = append(seps, x...)
		case []any:
			for _, y := range x {
				seps = append(seps, ToString(y))
			}
		case nil:
		case EnumValue:
			opts = x.Value
		case int32:
			count = int(x)
		default:
			return nil, throwf("ArgumentException", "String.Split: unsupported argument of type '%s'", dotnetTypeName(a))
		}
	}
	var parts []string
	if len(seps) == 0 {
		parts = strings.FieldsFunc(s, unicode.IsSpace)
		if opts&1 == 0 {
			parts = splitFunc(s, func(r rune) bool { return unicode.IsSpace(r) })
		}
	} else {
		for i, start := 0, 0; ; {
			if count > 0 && len(parts) == count-1 {
				parts = append(parts, s[start:])
				break
			}
			best, blen := -1, 0
			for j := i; j < len(s) && best < 0; j++ {
				for _, sep := range seps {
					if sep != "" && strings.HasPrefix(s[j:], sep) {
						best, blen = j, len(sep)
						break
					}
				}
			}
			if best < 0 {
				parts = append(parts, s[start:])
				break
			}
			parts = append(parts, s[start:best])
			i = best + blen
			start = i
		}
	}
	if opts&2 != 0 {
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
	}
	if opts&1 != 0 {
		out := parts[:0]
		for _, p := range parts {
			if p != "" {
				out = append(out, p)
			}
		}
		parts = out
	}
	if parts == nil {
		parts = []string{}
	}
	return parts, nil
}

func splitFunc(s string, f func(rune) bool) []string {
	var out []string
	start := 0
	for i, r := range s {
		if f(r) {
			out = append(out, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	return append(out, s[start:])
}

// trimSet reads Trim's char arguments ("" = white space).
func trimSet(args []any) string {
	var b strings.Builder
	for _, a := range args {
		switch x := a.(type) {
		case Char:
			b.WriteRune(rune(x))
		case []any:
			for _, y := range x {
				if c, ok := y.(Char); ok {
					b.WriteRune(rune(c))
				}
			}
		case string:
			b.WriteString(x)
		}
	}
	return b.String()
}

func trim(s string, args []any, left, right bool) string {
	set := trimSet(args)
	if set == "" {
		if left {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
		}
		if right {
			s = strings.TrimRightFunc(s, unicode.IsSpace)
		}
		return s
	}
	if left {
		s = strings.TrimLeft(s, set)
	}
	if right {
		s = strings.TrimRight(s, set)
	}
	return s
}

func padString(s string, args []any, left bool) (any, error) {
	n, err := intArg(args, 0)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errRange("totalWidth")
	}
	if n > maxStringLen {
		return nil, errTooLarge()
	}
	c := " "
	if len(args) > 1 {
		ch, ok := args[1].(Char)
		if !ok {
			return nil, errArgs("PadLeft", len(args))
		}
		c = string(rune(ch))
	}
	w := strLen(s)
	if w >= n {
		return s, nil
	}
	p := strings.Repeat(c, n-w)
	if left {
		return p + s, nil
	}
	return s + p, nil
}

func strMethod(name, t string, f func(s string, args []any) (any, error)) {
	typ("string").method(name, t, func(e *env, v any, _ []string, args []any) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, errCast(v, "string")
		}
		return f(s, args)
	})
}

func compareArg(s string, args []any, f func(a, b string) bool) (any, error) {
	x, err := needleArg(args, 0)
	if err != nil {
		return nil, err
	}
	if ignoreCase(args) {
		return f(strings.ToLower(s), strings.ToLower(x)), nil
	}
	return f(s, x), nil
}

func init() {
	ti := checked("string", "string", "IEnumerable")
	ti.prop("Length", "int", func(e *env, v any) (any, error) { return int32(strLen(v.(string))), nil })
	ti.indexT = "char"
	ti.index = func(e *env, v any, args []any) (any, error) {
		i, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		s := v.(string)
		b := byteOffset(s, i)
		if b < 0 || b >= len(s) {
			return nil, errIndex()
		}
		r, _ := utf8.DecodeRuneInString(s[b:])
		return Char(r), nil
	}
	strMethod("Substring", "string", substring)
	strMethod("IndexOf", "int", func(s string, a []any) (any, error) { return indexOf(s, a, false) })
	strMethod("LastIndexOf", "int", func(s string, a []any) (any, error) { return indexOf(s, a, true) })
	strMethod("Replace", "string", func(s string, a []any) (any, error) {
		if len(a) != 2 {
			return nil, errArgs("Replace", len(a))
		}
		old, err := needleArg(a, 0)
		if err != nil {
			return nil, err
		}
		if old == "" {
			return nil, throwf("ArgumentException", "String cannot be of zero length. (Parameter 'oldValue')")
		}
		nw := ""
		if a[1] != nil {
			if nw, err = needleArg(a, 1); err != nil {
				return nil, err
			}
		}
		if len(nw) > len(old) && strings.Count(s, old)*(len(nw)-len(old))+len(s) > maxStringLen {
			return nil, errTooLarge()
		}
		return strings.ReplaceAll(s, old, nw), nil
	})
	strMethod("Split", "string[]", split)
	strMethod("Trim", "string", func(s string, a []any) (any, error) { return trim(s, a, true, true), nil })
	strMethod("TrimStart", "string", func(s string, a []any) (any, error) { return trim(s, a, true, false), nil })
	strMethod("TrimEnd", "string", func(s string, a []any) (any, error) { return trim(s, a, false, true), nil })
	for _, n := range []string{"ToLower", "ToLowerInvariant"} {
		strMethod(n, "string", func(s string, a []any) (any, error) { return strings.ToLower(s), nil })
	}
	for _, n := range []string{"ToUpper", "ToUpperInvariant"} {
		strMethod(n, "string", func(s string, a []any) (any, error) { return strings.ToUpper(s), nil })
	}
	strMethod("StartsWith", "bool", func(s string, a []any) (any, error) { return compareArg(s, a, strings.HasPrefix) })
	strMethod("EndsWith", "bool", func(s string, a []any) (any, error) { return compareArg(s, a, strings.HasSuffix) })
	strMethod("Contains", "bool", func(s string, a []any) (any, error) { return compareArg(s, a, strings.Contains) })
	strMethod("Equals", "bool", func(s string, a []any) (any, error) {
		if len(a) > 0 && a[0] == nil {
			return false, nil
		}
		if len(a) > 0 && !isString(a[0]) {
			return false, nil
		}
		return compareArg(s, a, func(x, y string) bool { return x == y })
	})
	strMethod("CompareTo", "int", func(s string, a []any) (any, error) {
		x, err := strArg(a, 0)
		if err != nil {
			return nil, err
		}
		return int32(compareStrings(s, x)), nil
	})
	strMethod("PadLeft", "string", func(s string, a []any) (any, error) { return padString(s, a, true) })
	strMethod("PadRight", "string", func(s string, a []any) (any, error) { return padString(s, a, false) })
	strMethod("ToString", "string", func(s string, a []any) (any, error) { return s, nil })
	strMethod("ToCharArray", "object[]", func(s string, a []any) (any, error) { return enumerate(s) })
	strMethod("Insert", "string", func(s string, a []any) (any, error) {
		i, err := intArg(a, 0)
		if err != nil {
			return nil, err
		}
		x, err := strArg(a, 1)
		if err != nil {
			return nil, err
		}
		b := byteOffset(s, i)
		if b < 0 {
			return nil, errRange("startIndex")
		}
		return checkLen(s[:b] + x + s[b:])
	})
	strMethod("Remove", "string", func(s string, a []any) (any, error) {
		i, err := intArg(a, 0)
		if err != nil {
			return nil, err
		}
		b := byteOffset(s, i)
		if b < 0 {
			return nil, errRange("startIndex")
		}
		if len(a) == 1 {
			return s[:b], nil
		}
		n, err := intArg(a, 1)
		if err != nil {
			return nil, err
		}
		e := byteOffset(s[b:], n)
		if e < 0 {
			return nil, errRange("count")
		}
		return s[:b] + s[b+e:], nil
	})
	strMethod("GetHashCode", "int", func(s string, a []any) (any, error) { return stringHash(s), nil })
	strMethod("AsJwt", "Jwt", func(s string, a []any) (any, error) {
		if j := AsJwt(s); j != nil {
			return j, nil
		}
		return nil, nil
	})
	strMethod("AsBasic", "BasicAuthCredentials", func(s string, a []any) (any, error) {
		if b := AsBasic(s); b != nil {
			return b, nil
		}
		return nil, nil
	})
	typ("string").method("TryParseJwt", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		ref, ok := argAt(args, 0).(*outRef)
		if !ok {
			return nil, errArgs("TryParseJwt", len(args))
		}
		j := AsJwt(v.(string))
		if j == nil {
			e.locals[ref.slot] = nil
			return false, nil
		}
		e.locals[ref.slot] = j
		return true, nil
	})
	typ("string").method("TryParseBasic", "bool", func(e *env, v any, _ []string, args []any) (any, error) {
		ref, ok := argAt(args, 0).(*outRef)
		if !ok {
			return nil, errArgs("TryParseBasic", len(args))
		}
		b := AsBasic(v.(string))
		if b == nil {
			e.locals[ref.slot] = nil
			return false, nil
		}
		e.locals[ref.slot] = b
		return true, nil
	})
}

// stringHash is a deterministic 32-bit hash (FNV-1a); .NET randomizes
// string hashes per process, so any stable value is acceptable.
func stringHash(s string) int32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return int32(h)
}
