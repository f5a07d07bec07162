package expr

import "fmt"

// csErr is an exception raised while evaluating: the .NET exception type
// (for catch clauses) and its message. Eval reports it as *RuntimeError.
type csErr struct {
	typ string // short .NET type name, e.g. "NullReferenceException"
	msg string
}

func (e *csErr) Error() string { return e.msg }

// exceptionParents maps exception types to their base type (for catch).
var exceptionParents = map[string]string{
	"SystemException":                     "Exception",
	"ArgumentException":                   "SystemException",
	"ArgumentNullException":               "ArgumentException",
	"ArgumentOutOfRangeException":         "ArgumentException",
	"FormatException":                     "SystemException",
	"InvalidCastException":                "SystemException",
	"InvalidOperationException":           "SystemException",
	"NullReferenceException":              "SystemException",
	"KeyNotFoundException":                "SystemException",
	"IndexOutOfRangeException":            "SystemException",
	"DivideByZeroException":               "ArithmeticException",
	"OverflowException":                   "ArithmeticException",
	"ArithmeticException":                 "SystemException",
	"NotSupportedException":               "SystemException",
	"NotImplementedException":             "SystemException",
	"JsonReaderException":                 "JsonException",
	"JsonException":                       "Exception",
	"UriFormatException":                  "FormatException",
	"CryptographicException":              "SystemException",
	"RegexMatchTimeoutException":          "TimeoutException",
	"TimeoutException":                    "SystemException",
	"ApplicationException":                "Exception",
	"OutOfMemoryException":                "SystemException",
	"InsufficientExecutionStackException": "SystemException",
}

// isA reports whether exception type typ is, or derives from, base.
func isA(typ, base string) bool {
	for t := typ; t != ""; t = exceptionParents[t] {
		if t == base {
			return true
		}
		if t == "Exception" {
			break
		}
	}
	return base == "Exception"
}

func throwf(typ, format string, args ...any) error {
	return &csErr{typ: typ, msg: fmt.Sprintf(format, args...)}
}

func errNullRef() error {
	return &csErr{typ: "NullReferenceException", msg: "Object reference not set to an instance of an object."}
}

func errCast(v any, to string) error {
	return throwf("InvalidCastException", "Unable to cast object of type '%s' to type '%s'.", dotnetTypeName(v), dotnetName(to))
}

func errKey(k any) error {
	return throwf("KeyNotFoundException", "The given key '%s' was not present in the dictionary.", ToString(k))
}

func errIndex() error {
	return throwf("IndexOutOfRangeException", "Index was outside the bounds of the array.")
}

func errRange(param string) error {
	return throwf("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter '%s')", param)
}

func errFormat(msg string) error { return throwf("FormatException", "%s", msg) }

func errArgNull(param string) error {
	return throwf("ArgumentNullException", "Value cannot be null. (Parameter '%s')", param)
}

func errNoMember(v any, name string) error {
	return throwf("RuntimeBinderException", "'%s' does not contain a definition for '%s'", dotnetTypeName(v), name)
}

func errArgs(name string, n int) error {
	return throwf("ArgumentException", "No overload for method '%s' takes %d arguments", name, n)
}

func errTooLarge() error {
	return throwf("OutOfMemoryException", "Insufficient memory to continue the execution of the program (value exceeds Gatehouse's size limit).")
}

// limits that keep hostile expressions bounded.
const (
	maxSteps     = 1_000_000 // loop iterations and lambda calls per evaluation
	maxStringLen = 16 << 20  // bytes in one string
	maxArrayLen  = 1 << 20   // elements in one array
)

func checkLen(s string) (string, error) {
	if len(s) > maxStringLen {
		return "", errTooLarge()
	}
	return s, nil
}
