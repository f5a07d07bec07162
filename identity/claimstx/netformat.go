package claimstx

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// errFormat is .NET's FormatException ("Input string was not in a correct format.").
var errFormat = errors.New("input string was not in a correct format")

// netFormat is .NET's String.Format(format, args) for string arguments:
// {index[,alignment][:formatString]} items, {{ and }} escapes. A format
// string on a string argument has no effect (System.String is not
// IFormattable); a positive alignment pads on the left, a negative one on the
// right. An index past the arguments, or an unescaped brace, is an error, as
// in .NET.
func netFormat(format string, args ...string) (string, error) {
	var b strings.Builder
	i := 0
	for i < len(format) {
		c := format[i]
		switch c {
		case '}':
			if i+1 < len(format) && format[i+1] == '}' {
				b.WriteByte('}')
				i += 2
				continue
			}
			return "", errFormat
		case '{':
			if i+1 < len(format) && format[i+1] == '{' {
				b.WriteByte('{')
				i += 2
				continue
			}
			i++
			// index
			start := i
			idx := 0
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				idx = idx*10 + int(format[i]-'0')
				if idx > 1000000 {
					return "", errFormat
				}
				i++
			}
			if i == start {
				return "", errFormat
			}
			for i < len(format) && format[i] == ' ' {
				i++
			}
			align := 0
			if i < len(format) && format[i] == ',' {
				i++
				for i < len(format) && format[i] == ' ' {
					i++
				}
				neg := false
				if i < len(format) && format[i] == '-' {
					neg = true
					i++
				}
				s := i
				for i < len(format) && format[i] >= '0' && format[i] <= '9' {
					align = align*10 + int(format[i]-'0')
					if align > 1000000 {
						return "", errFormat
					}
					i++
				}
				if i == s {
					return "", errFormat
				}
				if neg {
					align = -align
				}
				for i < len(format) && format[i] == ' ' {
					i++
				}
			}
			if i < len(format) && format[i] == ':' {
				// format string: up to the closing brace; ignored for strings
				for i < len(format) && format[i] != '}' {
					if format[i] == '{' {
						return "", errFormat
					}
					i++
				}
			}
			if i >= len(format) || format[i] != '}' {
				return "", errFormat
			}
			i++
			if idx >= len(args) {
				return "", errors.New("index (zero based) must be greater than or equal to zero and less than the size of the argument list")
			}
			v := args[idx]
			pad := abs(align) - utf8.RuneCountInString(v)
			if pad > 0 && align > 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
			b.WriteString(v)
			if pad > 0 && align < 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
