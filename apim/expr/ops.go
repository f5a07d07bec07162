package expr

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// numeric kinds in C# binary numeric promotion order.
const (
	kNone = iota
	kInt
	kLong
	kDouble
)

// num classifies a numeric value (byte and char promote to int).
func num(v any) (k int, i int64, f float64) {
	switch x := v.(type) {
	case int32:
		return kInt, int64(x), float64(x)
	case int64:
		return kLong, x, float64(x)
	case float64:
		return kDouble, int64(x), x
	case byte:
		return kInt, int64(x), float64(x)
	case Char:
		return kInt, int64(x), float64(x)
	case int:
		return kLong, int64(x), float64(x)
	}
	return kNone, 0, 0
}

func errOperator(op string, a, b any) error {
	return throwf("RuntimeBinderException", "Operator '%s' cannot be applied to operands of type '%s' and '%s'", op, dotnetTypeName(a), dotnetTypeName(b))
}

// concat is string + x (null is "").
func concat(a, b any) (any, error) {
	if ns, ok := a.(XNamespace); ok {
		if local, ok := b.(string); ok {
			if local == "" {
				return nil, throwf("ArgumentException", "The empty string '' is not a valid local name.")
			}
			return XName{Space: ns.URI, Local: local}, nil
		}
	}
	s := ToString(a) + ToString(b)
	return checkLen(s)
}

// binaryOp applies an arithmetic, comparison, shift or bitwise operator.
func binaryOp(op string, a, b any) (any, error) {
	if op == "+" && (isString(a) || isString(b)) {
		return concat(a, b)
	}
	if a == nil || b == nil {
		// lifted operators: null in, null out; comparisons are false.
		switch op {
		case "<", ">", "<=", ">=":
			return false, nil
		}
		if op == "+" {
			return nil, nil
		}
		return nil, nil
	}
	if a, ok := a.(*JValue); ok {
		return binaryOp(op, a.Value, b)
	}
	if bv, ok := b.(*JValue); ok {
		return binaryOp(op, a, bv.Value)
	}
	ka, ia, fa := num(a)
	kb, ib, fb := num(b)
	if ka != kNone && kb != kNone {
		k := max(ka, kb)
		switch op {
		case "<<", ">>":
			if kb == kDouble || ka == kDouble {
				return nil, errOperator(op, a, b)
			}
			if ka == kInt {
				x := int32(ia)
				if op == "<<" {
					return x << (uint(ib) & 31), nil
				}
				return x >> (uint(ib) & 31), nil
			}
			if op == "<<" {
				return ia << (uint(ib) & 63), nil
			}
			return ia >> (uint(ib) & 63), nil
		case "<":
			if k == kDouble {
				return fa < fb, nil
			}
			return ia < ib, nil
		case ">":
			if k == kDouble {
				return fa > fb, nil
			}
			return ia > ib, nil
		case "<=":
			if k == kDouble {
				return fa <= fb, nil
			}
			return ia <= ib, nil
		case ">=":
			if k == kDouble {
				return fa >= fb, nil
			}
			return ia >= ib, nil
		}
		switch k {
		case kDouble:
			switch op {
			case "+":
				return fa + fb, nil
			case "-":
				return fa - fb, nil
			case "*":
				return fa * fb, nil
			case "/":
				return fa / fb, nil
			case "%":
				return math.Mod(fa, fb), nil
			}
			return nil, errOperator(op, a, b)
		case kInt:
			x, y := int32(ia), int32(ib)
			switch op {
			case "+":
				return x + y, nil
			case "-":
				return x - y, nil
			case "*":
				return x * y, nil
			case "/", "%":
				if y == 0 {
					return nil, throwf("DivideByZeroException", "Attempted to divide by zero.")
				}
				if op == "/" {
					return x / y, nil
				}
				return x % y, nil
			case "&":
				return x & y, nil
			case "|":
				return x | y, nil
			case "^":
				return x ^ y, nil
			}
		default:
			switch op {
			case "+":
				return ia + ib, nil
			case "-":
				return ia - ib, nil
			case "*":
				return ia * ib, nil
			case "/", "%":
				if ib == 0 {
					return nil, throwf("DivideByZeroException", "Attempted to divide by zero.")
				}
				if op == "/" {
					return ia / ib, nil
				}
				return ia % ib, nil
			case "&":
				return ia & ib, nil
			case "|":
				return ia | ib, nil
			case "^":
				return ia ^ ib, nil
			}
		}
		return nil, errOperator(op, a, b)
	}
	switch x := a.(type) {
	case EnumValue:
		// [Flags] enums (RegexOptions.IgnoreCase | RegexOptions.Multiline).
		if y, ok := b.(EnumValue); ok && x.Type == y.Type {
			switch op {
			case "|":
				return EnumValue{Type: x.Type, Name: x.Name + ", " + y.Name, Value: x.Value | y.Value}, nil
			case "&":
				return EnumValue{Type: x.Type, Name: strconv.Itoa(x.Value & y.Value), Value: x.Value & y.Value}, nil
			case "^":
				return EnumValue{Type: x.Type, Name: strconv.Itoa(x.Value ^ y.Value), Value: x.Value ^ y.Value}, nil
			}
		}
	case bool:
		y, ok := b.(bool)
		if !ok {
			break
		}
		switch op {
		case "&":
			return x && y, nil
		case "|":
			return x || y, nil
		case "^":
			return x != y, nil
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			switch op {
			case "-":
				return x.Sub(y), nil
			case "<":
				return x.Before(y), nil
			case ">":
				return x.After(y), nil
			case "<=":
				return !x.After(y), nil
			case ">=":
				return !x.Before(y), nil
			}
		case time.Duration:
			switch op {
			case "+":
				return x.Add(y), nil
			case "-":
				return x.Add(-y), nil
			}
		}
	case DateTimeOffset:
		switch y := b.(type) {
		case DateTimeOffset:
			return binaryOp(op, x.T, y.T)
		case time.Duration:
			r, err := binaryOp(op, x.T, y)
			if t, ok := r.(time.Time); ok {
				return DateTimeOffset{t}, err
			}
			return r, err
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			switch op {
			case "+":
				return x + y, nil
			case "-":
				return x - y, nil
			case "<":
				return x < y, nil
			case ">":
				return x > y, nil
			case "<=":
				return x <= y, nil
			case ">=":
				return x >= y, nil
			}
		}
	}
	return nil, errOperator(op, a, b)
}

// narrowTo keeps the type of the target of a compound assignment or ++ for
// byte and char (C# converts back implicitly).
func narrowTo(v, cur any) any {
	switch cur.(type) {
	case byte:
		if _, i, _ := num(v); true {
			return byte(i)
		}
	case Char:
		if _, i, _ := num(v); true {
			return Char(i)
		}
	}
	return v
}

func unaryOp(op string, v any) (any, error) {
	if jv, ok := v.(*JValue); ok {
		v = jv.Value
	}
	switch op {
	case "!":
		b, ok := v.(bool)
		if !ok {
			if v == nil {
				return nil, nil
			}
			return nil, throwf("RuntimeBinderException", "Operator '!' cannot be applied to operand of type '%s'", dotnetTypeName(v))
		}
		return !b, nil
	case "-", "+", "~":
		if v == nil {
			return nil, nil
		}
		if d, ok := v.(time.Duration); ok && op != "~" {
			if op == "-" {
				return -d, nil
			}
			return d, nil
		}
		k, i, f := num(v)
		switch {
		case k == kNone:
		case op == "+":
			if k == kDouble {
				return f, nil
			}
			if k == kInt {
				return int32(i), nil
			}
			return i, nil
		case op == "-" && k == kDouble:
			return -f, nil
		case op == "-" && k == kInt:
			return -int32(i), nil
		case op == "-":
			return -i, nil
		case op == "~" && k == kInt:
			return ^int32(i), nil
		case op == "~" && k == kLong:
			return ^i, nil
		}
		return nil, throwf("RuntimeBinderException", "Operator '%s' cannot be applied to operand of type '%s'", op, dotnetTypeName(v))
	}
	return nil, fmt.Errorf("bad unary operator %s", op)
}

// condBool converts a condition value.
func condBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, throwf("InvalidOperationException", "Nullable object must have a value.")
	case *JValue:
		if b, ok := x.Value.(bool); ok {
			return b, nil
		}
	}
	return false, errCast(v, "bool")
}

// equals is == : numbers by value across types, strings ordinally, JValue
// by its value (lenient; C# would compare references), other reference
// types by identity.
func equals(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.(*JValue); ok {
		if _, ok := b.(*JValue); !ok {
			return x.Value != nil && equals(x.Value, b)
		}
	}
	if y, ok := b.(*JValue); ok {
		if _, ok := a.(*JValue); !ok {
			return y.Value != nil && equals(a, y.Value)
		}
	}
	ka, ia, fa := num(a)
	kb, ib, fb := num(b)
	if ka != kNone && kb != kNone {
		if ka == kDouble || kb == kDouble {
			return fa == fb
		}
		return ia == ib
	}
	if eq, ok := xnameEquals(a, b); ok {
		return eq
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case DateTimeOffset:
		y, ok := b.(DateTimeOffset)
		return ok && x.T.Equal(y.T)
	}
	return refEqual(a, b)
}

// refEqual is identity comparison that never panics on slices or maps.
func refEqual(a, b any) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta.Comparable() {
		return a == b
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch va.Kind() {
	case reflect.Slice, reflect.Map, reflect.Func:
		return va.Pointer() == vb.Pointer() && (va.Kind() != reflect.Slice || va.Len() == vb.Len())
	}
	return false
}

// compareValues orders two values (for OrderBy, Max ...).
func compareValues(a, b any) (int, error) {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0, nil
		case a == nil:
			return -1, nil
		}
		return 1, nil
	}
	if x, ok := a.(*JValue); ok {
		a = x.Value
	}
	if y, ok := b.(*JValue); ok {
		b = y.Value
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return compareStrings(x, y), nil
		}
	}
	lt, err := binaryOp("<", a, b)
	if err != nil {
		return 0, throwf("InvalidOperationException", "Failed to compare two elements in the array.")
	}
	if lt == true {
		return -1, nil
	}
	gt, _ := binaryOp(">", a, b)
	if gt == true {
		return 1, nil
	}
	return 0, nil
}

// compareStrings approximates culture-aware comparison: case-insensitive
// first, lower case before upper case on ties (as .NET's invariant culture).
func compareStrings(x, y string) int {
	if c := strings.Compare(strings.ToLower(x), strings.ToLower(y)); c != 0 {
		return c
	}
	return -strings.Compare(x, y)
}
