package claimstx

import (
	"strings"
	"time"
)

// Date claims transformations.

func init() {
	dt := []DataType{DateTime, Date, String} // the docs declare the assertion's operands as strings
	register(&Method{Name: "AssertDateTimeIsGreaterThan", Family: "date",
		Inputs: []Slot{req("leftOperand", dt...), opt("rightOperand", dt...)},
		Params: []Slot{opt("AssertIfEqualTo", Boolean), opt("AssertIfRightOperandIsNotPresent", Boolean),
			opt("TreatAsEqualIfWithinMillseconds", Int, Long)},
		Run: assertDateTimeIsGreaterThan})
	register(&Method{Name: "ConvertDateToDateTimeClaim", Family: "date",
		Inputs: []Slot{req("inputClaim", Date, DateTime, String)},
		Out:    []Slot{req("outputClaim", DateTime)},
		Run: func(in Inputs) (Outputs, error) {
			t, ok, err := in.datetime("ConvertDateToDateTimeClaim", "inputClaim")
			if err != nil || !ok {
				return Outputs{}, err
			}
			return one("outputClaim", Claim{DataType: DateTime, Value: midnight(t)}), nil
		}})
	register(&Method{Name: "ConvertDateTimeToDateClaim", Family: "date",
		Inputs: []Slot{req("inputClaim", DateTime, Date, String)},
		Out:    []Slot{req("outputClaim", Date)},
		Run: func(in Inputs) (Outputs, error) {
			t, ok, err := in.datetime("ConvertDateTimeToDateClaim", "inputClaim")
			if err != nil || !ok {
				return Outputs{}, err
			}
			return one("outputClaim", Claim{DataType: Date, Value: midnight(t)}), nil
		}})
	register(&Method{Name: "DateTimeComparison", Family: "date",
		Inputs: []Slot{req("firstDateTime", DateTime, Date), req("secondDateTime", DateTime, Date)},
		Params: []Slot{enum("operator", false, "same", "later than", "earlier than"), req("timeSpanInSeconds", Int, Long)},
		Out:    []Slot{req("result", Boolean)},
		Run:    dateTimeComparison})
	register(&Method{Name: "GetCurrentDateTime", Family: "date",
		Out: []Slot{req("currentDateTime", DateTime, Date, String)},
		Run: func(in Inputs) (Outputs, error) {
			now := in.now()
			switch dt := in.outType("currentDateTime", DateTime); dt {
			case String:
				return one("currentDateTime", str(FormatDateTime(now))), nil
			case Date:
				return one("currentDateTime", Claim{DataType: Date, Value: midnight(now)}), nil
			}
			return one("currentDateTime", Claim{DataType: DateTime, Value: now}), nil
		}})
	register(&Method{Name: "IsTermsOfUseConsentRequired", Family: "date",
		Inputs: []Slot{opt("termsOfUseConsentDateTime", DateTime, Date)},
		Params: []Slot{req("termsOfUseTextUpdateDateTime", DateTime, Date, String)},
		Out:    []Slot{req("result", Boolean)},
		Validate: func(_, params, _ []Decl) []string {
			for _, p := range params {
				if p.Name == "termsOfUseTextUpdateDateTime" {
					if _, err := ParseDateTime(p.Value); err != nil {
						return []string{"termsOfUseTextUpdateDateTime: " + err.Error()}
					}
				}
			}
			return nil
		},
		Run: func(in Inputs) (Outputs, error) {
			const m = "IsTermsOfUseConsentRequired"
			p, _ := in.param("termsOfUseTextUpdateDateTime")
			updated, err := ParseDateTime(p)
			if err != nil {
				return nil, fail(m, "termsOfUseTextUpdateDateTime: %v", err)
			}
			consent, ok, err := in.datetime(m, "termsOfUseConsentDateTime")
			if err != nil {
				return nil, err
			}
			return one("result", boolean(!ok || consent.Before(updated))), nil
		}})
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// assertDateTimeIsGreaterThan passes when leftOperand is later than
// rightOperand. Operands within TreatAsEqualIfWithinMillseconds of each other
// are equal, which passes unless AssertIfEqualTo is true; a missing
// rightOperand fails only when AssertIfRightOperandIsNotPresent is true.
// (This is what the method's name, its description and the starter pack's
// AssertRefreshTokenIssuedLaterThanValidFromDate rely on; the docs' example
// outcome, "left 15:00, right 14:00: error thrown", contradicts them.)
func assertDateTimeIsGreaterThan(in Inputs) (Outputs, error) {
	const m = "AssertDateTimeIsGreaterThan"
	ifEqual, err := in.paramBool(m, "AssertIfEqualTo", false)
	if err != nil {
		return nil, err
	}
	ifMissing, err := in.paramBool(m, "AssertIfRightOperandIsNotPresent", false)
	if err != nil {
		return nil, err
	}
	within, _, err := in.paramInt(m, "TreatAsEqualIfWithinMillseconds", 0)
	if err != nil {
		return nil, err
	}
	left, lok, err := in.datetime(m, "leftOperand")
	if err != nil {
		return nil, err
	}
	right, rok, err := in.datetime(m, "rightOperand")
	if err != nil {
		return nil, err
	}
	if !rok {
		if ifMissing {
			return nil, assertFail(m, KeyDateTimeNotGreater, "rightOperand is not present")
		}
		return Outputs{}, nil
	}
	if !lok {
		return nil, assertFail(m, KeyDateTimeNotGreater, "leftOperand is not present")
	}
	d := left.Sub(right)
	if d.Abs() <= time.Duration(within)*time.Millisecond {
		if ifEqual {
			return nil, assertFail(m, KeyDateTimeNotGreater, "leftOperand equals rightOperand")
		}
		return Outputs{}, nil
	}
	if d < 0 {
		return nil, assertFail(m, KeyDateTimeNotGreater, "leftOperand %s is earlier than rightOperand %s", FormatDateTime(left), FormatDateTime(right))
	}
	return Outputs{}, nil
}

// dateTimeComparison compares firstDateTime + timeSpanInSeconds with
// secondDateTime (null: now). A null firstDateTime is an error.
func dateTimeComparison(in Inputs) (Outputs, error) {
	const m = "DateTimeComparison"
	first, ok, err := in.datetime(m, "firstDateTime")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fail(m, "firstDateTime is null")
	}
	second, ok, err := in.datetime(m, "secondDateTime")
	if err != nil {
		return nil, err
	}
	if !ok {
		second = in.now()
	}
	span, _, err := in.paramInt(m, "timeSpanInSeconds", 0)
	if err != nil {
		return nil, err
	}
	first = first.Add(time.Duration(span) * time.Second)
	op, _ := in.param("operator")
	var r bool
	switch strings.ToLower(strings.TrimSpace(op)) {
	case "same":
		r = first.Equal(second)
	case "later than":
		r = first.After(second)
	case "earlier than":
		r = first.Before(second)
	default:
		return nil, fail(m, "operator %q: want same, later than or earlier than", op)
	}
	return one("result", boolean(r)), nil
}
