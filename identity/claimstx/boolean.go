package claimstx

// Boolean claims transformations.

func init() {
	b := []DataType{Boolean}
	register(&Method{Name: "AndClaims", Family: "boolean",
		Inputs: []Slot{req("inputClaim1", b...), req("inputClaim2", b...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			return binaryBool(in, "AndClaims", func(x, y bool) bool { return x && y })
		}})
	register(&Method{Name: "OrClaims", Family: "boolean",
		Inputs: []Slot{req("inputClaim1", b...), req("inputClaim2", b...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			return binaryBool(in, "OrClaims", func(x, y bool) bool { return x || y })
		}})
	register(&Method{Name: "NotClaims", Family: "boolean",
		Inputs: []Slot{req("inputClaim", b...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok, err := in.boolean("NotClaims", "inputClaim")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fail("NotClaims", "inputClaim has no value")
			}
			return one("outputClaim", boolean(!v)), nil
		}})
	register(&Method{Name: "AssertBooleanClaimIsEqualToValue", Family: "boolean",
		Inputs: []Slot{req("inputClaim", b...)},
		Params: []Slot{req("valueToCompareTo", b...)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "AssertBooleanClaimIsEqualToValue"
			want, err := in.paramBool(m, "valueToCompareTo", false)
			if err != nil {
				return nil, err
			}
			v, ok, err := in.boolean(m, "inputClaim")
			if err != nil {
				return nil, err
			}
			if !ok || v != want {
				return nil, assertFail(m, KeyBooleanNotEqual, "inputClaim is %s, not %s", boolText(ok, v), FormatValue(want))
			}
			return Outputs{}, nil
		}})
	register(&Method{Name: "CompareBooleanClaimToValue", Family: "boolean",
		Inputs: []Slot{req("inputClaim", b...)},
		Params: []Slot{req("valueToCompareTo", b...)},
		Out:    []Slot{req("compareResult", b...)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "CompareBooleanClaimToValue"
			want, err := in.paramBool(m, "valueToCompareTo", false)
			if err != nil {
				return nil, err
			}
			v, ok, err := in.boolean(m, "inputClaim")
			if err != nil {
				return nil, err
			}
			return one("compareResult", boolean(ok && v == want)), nil
		}})
}

func boolText(ok, v bool) string {
	if !ok {
		return "null"
	}
	return FormatValue(v)
}

func binaryBool(in Inputs, m string, f func(x, y bool) bool) (Outputs, error) {
	x, ok1, err := in.boolean(m, "inputClaim1")
	if err != nil {
		return nil, err
	}
	y, ok2, err := in.boolean(m, "inputClaim2")
	if err != nil {
		return nil, err
	}
	if !ok1 || !ok2 {
		return nil, fail(m, "both input claims need a value")
	}
	return one("outputClaim", boolean(f(x, y))), nil
}
