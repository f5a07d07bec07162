package claimstx

import (
	"strconv"
	"strings"
)

// Integer claims transformations.

func init() {
	n := []DataType{Int, Long}
	register(&Method{Name: "AdjustNumber", Family: "integer",
		Inputs: []Slot{req("inputClaim", n...)},
		Params: []Slot{enum("Operator", true, "INCREMENT", "DECREMENT")},
		Out:    []Slot{req("outputClaim", n...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _, err := in.integer("AdjustNumber", "inputClaim") // null counts as 0
			if err != nil {
				return nil, err
			}
			op, _ := in.param("Operator")
			if strings.EqualFold(strings.TrimSpace(op), "DECREMENT") {
				v--
			} else {
				v++
			}
			return one("outputClaim", Claim{DataType: in.outType("outputClaim", Int), Value: v}), nil
		}})
	register(&Method{Name: "AssertNumber", Family: "integer",
		Inputs: []Slot{req("inputClaim", n...)},
		Params: []Slot{req("CompareToValue", n...),
			enum("Operator", false, "LessThan", "GreaterThan", "GreaterThanOrEqual", "LessThanOrEqual", "Equal", "NotEqual"),
			opt("throwError", Boolean)},
		Out: []Slot{opt("outputClaim", Boolean)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "AssertNumber"
			v, ok, err := in.integer(m, "inputClaim")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fail(m, "inputClaim is null")
			}
			to, _, err := in.paramInt(m, "CompareToValue", 0)
			if err != nil {
				return nil, err
			}
			throw, err := in.paramBool(m, "throwError", true)
			if err != nil {
				return nil, err
			}
			op, _ := in.param("Operator")
			var r bool
			switch strings.ToLower(strings.TrimSpace(op)) {
			case "lessthan":
				r = v < to
			case "greaterthan":
				r = v > to
			case "greaterthanorequal":
				r = v >= to
			case "lessthanorequal":
				r = v <= to
			case "equal":
				r = v == to
			case "notequal":
				r = v != to
			default:
				return nil, fail(m, "unknown Operator %q", op)
			}
			if throw {
				if r {
					return nil, assertFail(m, KeyAssertNumber, "%d %s %d", v, op, to)
				}
				return Outputs{}, nil
			}
			return one("outputClaim", boolean(r)), nil
		}})
	register(&Method{Name: "ConvertNumberToStringClaim", Family: "integer",
		Inputs: []Slot{req("inputClaim", n...)},
		Out:    []Slot{req("outputClaim", String)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok, err := in.integer("ConvertNumberToStringClaim", "inputClaim")
			if err != nil || !ok {
				return Outputs{}, err
			}
			return one("outputClaim", str(strconv.FormatInt(v, 10))), nil
		}})
}
