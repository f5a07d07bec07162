package claimstx

import "github.com/gatehouse/gatehouse/internal/dotnetfmt"

// netFormat is .NET's String.Format(format, args) for string arguments. A
// format string on a string argument has no effect (System.String is not
// IFormattable).
func netFormat(format string, args ...string) (string, error) {
	return dotnetfmt.Composite(format, len(args), func(i int, _ string) (string, error) { return args[i], nil })
}
