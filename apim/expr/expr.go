// Package expr compiles and runs the C# subset that APIM policy expressions
// use: @(expression) and @{ statements }. Source is compiled once, at load,
// into Go closures; the request path never parses expression text.
package expr

// Program is a compiled expression.
type Program struct {
	src string
}

// SyntaxError is a compile error. Line and Col are 1-based and relative to the
// start of the expression source given to Compile.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return e.Msg }

// RuntimeError is an evaluation failure (null dereference, bad cast, missing
// variable ...). The gateway turns it into APIM's
// ExpressionValueEvaluationFailure and runs on-error.
type RuntimeError struct {
	Msg string
}

func (e *RuntimeError) Error() string { return e.Msg }

// IsExpression reports whether a policy value is an expression: after leading
// white space it starts with "@(" or "@{".
func IsExpression(s string) bool { return false }

// Compile compiles the full expression text, "@(...)" or "@{...}".
func Compile(src string) (*Program, error) {
	return nil, &SyntaxError{1, 1, "expr: not implemented yet"}
}

// Eval runs the program against c.
func (p *Program) Eval(c *Context) (any, error) {
	return nil, &RuntimeError{"expr: not implemented yet"}
}

// ToString converts a value as C#'s ToString() does (bools are "True"/"False",
// null is "").
func ToString(v any) string { return "" }

// ToBool converts a condition result; strings "true"/"false" are accepted
// (case-insensitive) as APIM accepts constant conditions.
func ToBool(v any) (bool, error) { return false, nil }

// ToInt converts to an integer (ints, integral floats, numeric strings).
func ToInt(v any) (int64, error) { return 0, nil }

// AsJwt parses a token as string.AsJwt() does (a leading "Bearer " is
// tolerated); nil when the text is not a JWT.
func AsJwt(s string) *Jwt { return nil }
