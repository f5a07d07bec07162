// Package dotnetfmt is .NET's composite formatting — String.Format's
// {index[,alignment][:formatString]} items with {{ and }} escapes — shared
// by APIM's policy expressions and B2C's claims transformations, which both
// promise .NET's behaviour (and its FormatExceptions) to policies written
// for Azure.
package dotnetfmt

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// The two FormatExceptions of composite formatting (callers that show
// .NET's exact texts map them: MessageFormat, MessageIndex).
var (
	ErrFormat = errors.New("input string was not in a correct format")
	ErrIndex  = errors.New("index (zero based) must be greater than or equal to zero and less than the size of the argument list")
)

// .NET's texts of ErrFormat and ErrIndex.
const (
	MessageFormat = "Input string was not in a correct format."
	MessageIndex  = "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
)

// maxNumber bounds an index or alignment (.NET refuses values past
// 1,000,000 the same way), so a format string cannot ask for a
// gigabyte of padding.
const maxNumber = 1_000_000

// Composite formats format with n arguments; arg renders argument i with
// the item's format string ("" when the item has none). Errors are ErrFormat
// for a malformed format, ErrIndex for an index past the arguments, or
// arg's own error.
func Composite(format string, n int, arg func(i int, itemFormat string) (string, error)) (string, error) {
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
			return "", ErrFormat
		case '{':
			if i+1 < len(format) && format[i+1] == '{' {
				b.WriteByte('{')
				i += 2
				continue
			}
			i++
			idx, next, ok := number(format, i)
			if !ok {
				return "", ErrFormat
			}
			i = skipSpaces(format, next)
			align := 0
			if i < len(format) && format[i] == ',' {
				i = skipSpaces(format, i+1)
				neg := i < len(format) && format[i] == '-'
				if neg {
					i++
				}
				if align, i, ok = number(format, i); !ok {
					return "", ErrFormat
				}
				if neg {
					align = -align
				}
				i = skipSpaces(format, i)
			}
			itemFormat := ""
			if i < len(format) && format[i] == ':' {
				start := i + 1
				for i < len(format) && format[i] != '}' {
					if format[i] == '{' {
						return "", ErrFormat
					}
					i++
				}
				itemFormat = format[start:i]
			}
			if i >= len(format) || format[i] != '}' {
				return "", ErrFormat
			}
			i++
			if idx >= n {
				return "", ErrIndex
			}
			v, err := arg(idx, itemFormat)
			if err != nil {
				return "", err
			}
			pad := max(align, -align) - utf8.RuneCountInString(v)
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

// number reads decimal digits at s[i:] (at least one, at most maxNumber).
func number(s string, i int) (n, next int, ok bool) {
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		if n > maxNumber {
			return 0, i, false
		}
		i++
	}
	return n, i, i > start
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
