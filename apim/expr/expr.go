// Package expr compiles and runs the C# subset that APIM policy expressions
// use: @(expression) and @{ statements }. Source is compiled once, at load,
// into Go closures; the request path never parses expression text.
//
// Values are Go values: string, bool, int32 (C# int), int64 (long),
// float64 (double; also float and decimal), Char, byte, time.Time
// (DateTime), DateTimeOffset, time.Duration (TimeSpan), Guid, EnumValue,
// []byte, []string, []any (other arrays), *List, *Dict, KeyValuePair, the
// JSON tokens (*JObject, *JArray, *JValue, *JProperty), the System.Xml.Linq
// nodes (*XDocument, *XElement, *XAttribute, XName, XNamespace ...), the
// context model types (*Response, *Jwt, ...) and nil.
//
// Deliberate differences from C#:
//   - numeric casts are lenient: (int) of a boxed long or double converts
//     instead of throwing InvalidCastException ((string) of an int still
//     fails, as in C#);
//   - == on two objects compares values (strings ordinally, numbers across
//     types, a JValue by its value) rather than references;
//   - string indices count Unicode code points, not UTF-16 units;
//   - Regex is .NET's engine (internal/dotnetregex) with a 100 ms
//     timeout per match; indexes count code points;
//   - LINQ operators are eager; anonymous objects are JObjects;
//   - named arguments are matched by position;
//   - DateTime.Now is UTC; DateTime default formatting is en-US
//     ("M/d/yyyy h:mm:ss tt");
//   - LINQ to XML is read-only (no constructors or mutation); XNode and
//     XDocument ToString() break lines with "\n"; an XML body is parsed as
//     UTF-8 text (a declared encoding is not applied); As<XNode>() gives the
//     root XElement.
package expr

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Program is a compiled expression. It is safe for concurrent use.
type Program struct {
	src    string
	fn     evalFn
	nslots int
	block  bool
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

// MaxSourceLen bounds the expression text Compile accepts.
const MaxSourceLen = 256 << 10

// IsExpression reports whether a policy value is an expression: after leading
// white space it starts with "@(" or "@{".
func IsExpression(s string) bool {
	t := strings.TrimLeft(s, " \t\r\n\uFEFF")
	return strings.HasPrefix(t, "@(") || strings.HasPrefix(t, "@{")
}

// Compile compiles the full expression text, "@(...)" or "@{...}".
func Compile(src string) (prog *Program, err error) {
	if len(src) > MaxSourceLen {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: fmt.Sprintf("expression is longer than %d bytes", MaxSourceLen)}
	}
	if !utf8.ValidString(src) {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: "expression is not valid UTF-8"}
	}
	start := len(src) - len(strings.TrimLeft(src, " \t\r\n\uFEFF"))
	if !IsExpression(src) {
		return nil, toSyntax(src, &posErr{off: start, msg: "expression must start with '@(' or '@{'"})
	}
	toks, err := lex(src[start+1:], start+1)
	if err != nil {
		return nil, toSyntax(src, err)
	}
	root, isBlock, err := parseProgram(toks)
	if err != nil {
		return nil, toSyntax(src, err)
	}
	c := &compiler{}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*posErr)
			if !ok {
				panic(r)
			}
			prog, err = nil, toSyntax(src, pe)
		}
	}()
	c.push()
	p := &Program{src: src, block: isBlock}
	if isBlock {
		body := c.block(root.(*blockSt))
		if !alwaysReturns(root) {
			end := toks[len(toks)-1].off
			if len(toks) > 1 {
				end = toks[len(toks)-2].off
			}
			c.fail(end, "not all code paths return a value")
		}
		p.fn = func(e *env) (any, error) {
			fl, err := body(e)
			if err != nil {
				return nil, err
			}
			if fl != flowReturn {
				return nil, &csErr{typ: "InvalidOperationException", msg: "The expression did not return a value."}
			}
			return e.ret, nil
		}
	} else {
		x := root.(*exprSt).x
		if ln, ok := x.(*lambdaNode); ok {
			c.fail(ln.p, "a lambda expression is only supported as a method argument")
		}
		p.fn = c.expr(x).fn
	}
	p.nslots = c.nslots
	return p, nil
}

// MustCompile is Compile that panics on error (for tests and constants).
func MustCompile(src string) *Program {
	p, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return p
}

// toSyntax converts an internal positioned error to *SyntaxError.
func toSyntax(src string, err error) error {
	pe, ok := err.(*posErr)
	if !ok {
		return &SyntaxError{Line: 1, Col: 1, Msg: err.Error()}
	}
	off := min(max(pe.off, 0), len(src))
	line := 1 + strings.Count(src[:off], "\n")
	ls := strings.LastIndexByte(src[:off], '\n') + 1
	col := utf8.RuneCountInString(src[ls:off]) + 1
	return &SyntaxError{Line: line, Col: col, Msg: pe.msg}
}

// Source returns the expression text the program was compiled from.
func (p *Program) Source() string { return p.src }

var envPool = sync.Pool{New: func() any { return &env{} }}

// Eval runs the program against c. Evaluation errors are *RuntimeError.
func (p *Program) Eval(c *Context) (v any, err error) {
	e := envPool.Get().(*env)
	e.ctx, e.steps, e.ret = c, 0, nil
	e.done, e.nextCheck = nil, 0
	if c != nil && c.Cancel != nil {
		e.done = c.Cancel.Done()
	}
	if cap(e.locals) < p.nslots {
		e.locals = make([]any, p.nslots)
	} else {
		e.locals = e.locals[:p.nslots]
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, &RuntimeError{Msg: fmt.Sprintf("internal error evaluating expression: %v", r)}
		}
		clear(e.locals)
		e.ctx, e.ret, e.done = nil, nil, nil
		envPool.Put(e)
	}()
	v, err = p.fn(e)
	if err != nil {
		return nil, runtimeErr(err)
	}
	return v, nil
}

func runtimeErr(err error) error {
	switch x := err.(type) {
	case *csErr:
		return &RuntimeError{Msg: x.msg}
	case *RuntimeError:
		return x
	case *BodyError:
		return x // the host's failure (413, 503 ...), not an expression's
	}
	if err == errNullShort {
		return nil
	}
	return &RuntimeError{Msg: err.Error()}
}

// ToBool converts a condition result; strings "true"/"false" are accepted
// (case-insensitive) as APIM accepts constant conditions.
func ToBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := parseBool(x)
		if err != nil {
			return false, &RuntimeError{Msg: fmt.Sprintf("String '%s' was not recognized as a valid Boolean.", x)}
		}
		return b.(bool), nil
	case *JValue:
		return ToBool(x.Value)
	}
	return false, &RuntimeError{Msg: fmt.Sprintf("Unable to cast object of type '%s' to type 'System.Boolean'.", dotnetTypeName(v))}
}

// ToInt converts to an integer (ints, integral floats, numeric strings).
func ToInt(v any) (int64, error) {
	switch x := v.(type) {
	case *JValue:
		return ToInt(x.Value)
	case string:
		n, err := parseInt(64)(x)
		if err != nil {
			return 0, runtimeErr(err)
		}
		return n.(int64), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, &RuntimeError{Msg: fmt.Sprintf("Value '%s' is not an integer.", formatDouble(x))}
		}
		return int64(x), nil
	}
	k, i, _ := num(v)
	if k == kInt || k == kLong {
		return i, nil
	}
	return 0, &RuntimeError{Msg: fmt.Sprintf("Unable to cast object of type '%s' to type 'System.Int64'.", dotnetTypeName(v))}
}
