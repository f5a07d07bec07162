// Package claimstx implements Azure AD B2C's ClaimsTransformation methods
// (the Identity Experience Framework's TransformationMethod values) as pure
// functions over typed claims.
//
// It is a leaf package: the custom policy engine (identity/ief/journey)
// resolves ClaimTypeReferenceIds, claim resolvers in parameter values (for
// example {RelyingPartyTenantId}) and policy keys (Hash's randomizerSecret)
// before it calls Run, and maps the TransformationClaimType-keyed Outputs back
// onto claims. Check validates a ClaimsTransformation element at load time.
//
// Values are typed by the claim's declared DataType:
//
//	string, phoneNumber        string
//	boolean                    bool
//	int, long                  int64
//	dateTime, date             time.Time (UTC; a date is midnight UTC)
//	stringCollection           []string
//
// A nil Value is an absent (or null) claim.
package claimstx

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// DataType is a ClaimType's DataType as written in a policy.
type DataType string

// The DataTypes claims transformations read and write.
const (
	String           DataType = "string"
	Boolean          DataType = "boolean"
	Int              DataType = "int"
	Long             DataType = "long"
	DateTime         DataType = "dateTime"
	Date             DataType = "date"
	StringCollection DataType = "stringCollection"
	// AlternativeSecurityIDCollection is B2C's list of federated
	// identities (alternativeSecurityIds); its Value is a []string of
	// alternativeSecurityId JSON objects.
	AlternativeSecurityIDCollection DataType = "alternativeSecurityIdCollection"
	PhoneNumber                     DataType = "phoneNumber"
)

// Claim is one typed claim value. Value is string, bool, int64, time.Time or
// []string according to DataType; nil means absent or null.
type Claim struct {
	DataType DataType
	Value    any
}

// Param is an InputParameter: its Id, DataType and Value as written in the
// policy (claim resolvers already resolved by the caller).
type Param struct {
	ID       string
	DataType DataType
	Value    string
}

// Inputs is what a transformation method reads.
type Inputs struct {
	// Claims by TransformationClaimType. A missing entry is an absent claim.
	Claims map[string]Claim
	// ClaimOrder is the InputClaims' document order (GenerateJson uses it);
	// nil means sorted names.
	ClaimOrder []string
	// Params by Id.
	Params map[string]Param
	// ParamOrder is the InputParameters' document order; nil means sorted.
	ParamOrder []string
	// Outputs are the declared DataTypes of the OutputClaims, by
	// TransformationClaimType (GetClaimsFromJsonArray: by claim name). Methods
	// convert to them where B2C does (JSON extraction, CopyClaim).
	Outputs map[string]DataType
	// Now is the clock (GetCurrentDateTime, DateTimeComparison); nil = time.Now.
	Now func() time.Time
	// Rand is the randomness source (CreateRandomString); nil = crypto/rand.
	Rand io.Reader
	// Predicate reports whether value satisfies the predicate validation of
	// the output claim's ClaimType (CopyClaimIfPredicateMatch); nil = no
	// predicate, everything matches.
	Predicate func(outputClaim string, value string) (bool, error)
}

// Outputs are the produced OutputClaims by TransformationClaimType. A Claim
// with a nil Value sets the claim to null; a missing entry leaves it alone.
type Outputs map[string]Claim

// Func is a transformation method.
type Func func(in Inputs) (Outputs, error)

// Slot is one documented InputClaim, InputParameter or OutputClaim.
type Slot struct {
	Name     string
	Types    []DataType // accepted DataTypes; empty = any
	Optional bool
	Enum     []string // parameters: accepted values (case-insensitive); empty = any
}

// Method is a registered transformation method.
type Method struct {
	Name   string
	Family string // string, boolean, date, integer, stringCollection, json, phone, general, social, totp
	Inputs []Slot
	Params []Slot
	Out    []Slot
	// AnyInputs, AnyParams, AnyOutputs accept TransformationClaimTypes / Ids
	// beyond the documented slots (GenerateJson, LookupValue,
	// GetClaimsFromJsonArray, SetClaimsIfRegexMatch's groups).
	AnyInputs, AnyParams, AnyOutputs bool
	// Validate runs after the slot checks (method-specific rules).
	Validate func(in, params, out []Decl) []string
	Run      Func
}

var registry = map[string]*Method{}

func register(m *Method) {
	if _, dup := registry[m.Name]; dup {
		panic("claimstx: duplicate method " + m.Name)
	}
	registry[m.Name] = m
}

// Lookup returns a registered method.
func Lookup(name string) (*Method, bool) {
	m, ok := registry[name]
	return m, ok
}

// Methods lists the registered method names, sorted.
func Methods() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownMethod is returned for a TransformationMethod no one registered.
var ErrUnknownMethod = errors.New("unknown claims transformation method")

// Run runs method over in. Bad input gives an error, never a panic.
func Run(method string, in Inputs) (out Outputs, err error) {
	m, ok := registry[method]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownMethod, method)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("claimstx: %s: internal error: %v", method, r)
		}
	}()
	return m.Run(in)
}

// AssertionError is returned by the assertion methods (and the phone number
// validations) when the assertion fails. MessageKey is the self-asserted
// technical profile's metadata item whose text the user sees.
type AssertionError struct {
	Method     string
	MessageKey string
	Detail     string
}

func (e *AssertionError) Error() string {
	return fmt.Sprintf("claims transformation %s: %s (%s)", e.Method, e.Detail, e.MessageKey)
}

// The metadata keys of the assertion messages.
const (
	KeyBooleanNotEqual    = "UserMessageIfClaimsTransformationBooleanValueIsNotEqual"
	KeyStringsNotEqual    = "UserMessageIfClaimsTransformationStringsAreNotEqual"
	KeyDateTimeNotGreater = "DateTimeGreaterThan"
	KeyAssertNumber       = "AssertNumberError"
	KeyInvalidPhoneNumber = "UserMessageIfClaimsTransformationInvalidPhoneNumber"
	KeyPhoneParseFailure  = "UserMessageIfPhoneNumberParseFailure"
)

func assertFail(method, key, format string, args ...any) error {
	return &AssertionError{Method: method, MessageKey: key, Detail: fmt.Sprintf(format, args...)}
}

// Error is a transformation failure that is not an assertion (bad value,
// missing required claim, malformed JSON...).
type Error struct {
	Method string
	Msg    string
}

func (e *Error) Error() string { return "claims transformation " + e.Method + ": " + e.Msg }

func fail(method, format string, args ...any) error {
	return &Error{Method: method, Msg: fmt.Sprintf(format, args...)}
}

// ---- typed access ----

func (in Inputs) claim(name string) (any, bool) {
	c, ok := in.Claims[name]
	if !ok || c.Value == nil {
		return nil, false
	}
	return c.Value, true
}

// str returns a claim as a string ("" and false when absent).
func (in Inputs) str(name string) (string, bool) {
	v, ok := in.claim(name)
	if !ok {
		return "", false
	}
	return FormatValue(v), true
}

func (in Inputs) boolean(method, name string) (bool, bool, error) {
	v, ok := in.claim(name)
	if !ok {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		b, err := parseBool(x)
		if err != nil {
			return false, false, fail(method, "%s: %v", name, err)
		}
		return b, true, nil
	}
	return false, false, fail(method, "%s is %T, not a boolean", name, v)
}

func (in Inputs) integer(method, name string) (int64, bool, error) {
	v, ok := in.claim(name)
	if !ok {
		return 0, false, nil
	}
	switch x := v.(type) {
	case int64:
		return x, true, nil
	case int:
		return int64(x), true, nil
	case string:
		n, err := parseInt(x)
		if err != nil {
			return 0, false, fail(method, "%s: %v", name, err)
		}
		return n, true, nil
	}
	return 0, false, fail(method, "%s is %T, not a number", name, v)
}

func (in Inputs) datetime(method, name string) (time.Time, bool, error) {
	v, ok := in.claim(name)
	if !ok {
		return time.Time{}, false, nil
	}
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true, nil
	case string:
		t, err := ParseDateTime(x)
		if err != nil {
			return time.Time{}, false, fail(method, "%s: %v", name, err)
		}
		return t, true, nil
	}
	return time.Time{}, false, fail(method, "%s is %T, not a dateTime", name, v)
}

func (in Inputs) collection(method, name string) ([]string, bool, error) {
	v, ok := in.claim(name)
	if !ok {
		return nil, false, nil
	}
	switch x := v.(type) {
	case []string:
		return x, true, nil
	case string:
		return []string{x}, true, nil
	}
	return nil, false, fail(method, "%s is %T, not a stringCollection", name, v)
}

func (in Inputs) param(name string) (string, bool) {
	p, ok := in.Params[name]
	return p.Value, ok
}

func (in Inputs) paramBool(method, name string, def bool) (bool, error) {
	p, ok := in.Params[name]
	if !ok {
		return def, nil
	}
	b, err := parseBool(p.Value)
	if err != nil {
		return false, fail(method, "input parameter %s: %v", name, err)
	}
	return b, nil
}

func (in Inputs) paramInt(method, name string, def int64) (int64, bool, error) {
	p, ok := in.Params[name]
	if !ok {
		return def, false, nil
	}
	n, err := parseInt(p.Value)
	if err != nil {
		return 0, false, fail(method, "input parameter %s: %v", name, err)
	}
	return n, true, nil
}

func (in Inputs) now() time.Time {
	if in.Now != nil {
		return in.Now().UTC()
	}
	return time.Now().UTC()
}

func (in Inputs) order(names []string, m map[string]Claim) []string {
	if names != nil {
		return names
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// paramOrder is the InputParameters' order: as written, else by Id.
func (in Inputs) paramOrder() []string {
	if in.ParamOrder != nil {
		return in.ParamOrder
	}
	return slices.Sorted(maps.Keys(in.Params))
}

// ---- value formatting ----

// FormatValue renders a claim value as B2C does in string contexts: booleans
// "true"/"false", numbers in invariant culture, dateTimes ISO 8601 UTC with
// seven fractional digits (.NET's "o"), collections joined by ",".
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return fmt.Sprint(x)
	case int:
		return fmt.Sprint(x)
	case time.Time:
		return FormatDateTime(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

// FormatDateTime is .NET's round-trip ("o") format of a UTC DateTime:
// 2006-01-02T15:04:05.0000000Z.
func FormatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// ParseDateTime reads an ISO 8601 date or dateTime (with any fractional
// digits, Z or an offset, or none meaning UTC) and returns it in UTC.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 dateTime", s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", s)
}

func parseInt(s string) (int64, error) {
	var n int64
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, nil
}

// convert turns a string (as extracted from JSON, or copied) into the
// declared output DataType; an empty DataType leaves it a string.
func convert(method, name string, dt DataType, s string) (Claim, error) {
	switch dt {
	case "", String, PhoneNumber:
		return Claim{DataType: orString(dt), Value: s}, nil
	case Boolean:
		b, err := parseBool(s)
		if err != nil {
			return Claim{}, fail(method, "%s: %v", name, err)
		}
		return Claim{DataType: dt, Value: b}, nil
	case Int, Long:
		n, err := parseInt(s)
		if err != nil {
			return Claim{}, fail(method, "%s: %v", name, err)
		}
		if dt == Int && (n > 1<<31-1 || n < -1<<31) {
			return Claim{}, fail(method, "%s: %d is out of range for int", name, n)
		}
		return Claim{DataType: dt, Value: n}, nil
	case DateTime, Date:
		t, err := ParseDateTime(s)
		if err != nil {
			return Claim{}, fail(method, "%s: %v", name, err)
		}
		if dt == Date {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return Claim{DataType: dt, Value: t}, nil
	case StringCollection:
		return Claim{DataType: dt, Value: []string{s}}, nil
	case AlternativeSecurityIDCollection:
		items, err := ParseAlternativeSecurityIDs(s)
		if err != nil {
			return Claim{}, fail(method, "%s: %v", name, err)
		}
		return Claim{DataType: dt, Value: items}, nil
	}
	return Claim{DataType: dt, Value: s}, nil
}

func orString(dt DataType) DataType {
	if dt == "" {
		return String
	}
	return dt
}

func (in Inputs) outType(name string, def DataType) DataType {
	if dt, ok := in.Outputs[name]; ok && dt != "" {
		return dt
	}
	return def
}

func str(v string) Claim            { return Claim{DataType: String, Value: v} }
func boolean(v bool) Claim          { return Claim{DataType: Boolean, Value: v} }
func one(k string, c Claim) Outputs { return Outputs{k: c} }

// Parse reads a claim value written as text (a form field, a DefaultValue,
// a REST answer) as the DataType: the same conversions the methods use.
func Parse(dt DataType, s string) (Claim, error) { return convert("", "value", dt, s) }
