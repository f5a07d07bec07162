package claimstx

import (
	"fmt"
	"strings"
)

// Decl is one InputClaim, InputParameter or OutputClaim of a
// ClaimsTransformation element as written in a policy. For claims, Name is
// the TransformationClaimType and DataType the referenced ClaimType's
// DataType (empty if unknown); for parameters, Name is the Id and Value the
// Value attribute.
type Decl struct {
	Name     string
	DataType DataType
	Value    string
}

// Where says which list a Problem is in.
type Where string

// The lists of a ClaimsTransformation element.
const (
	InMethod       Where = "TransformationMethod"
	InInputClaims  Where = "InputClaims"
	InInputParams  Where = "InputParameters"
	InOutputClaims Where = "OutputClaims"
)

// Problem is one load-time error. Index is the position of the offending
// element in its list (-1 when the element is missing), so the loader can
// report its file:line:col.
type Problem struct {
	Where Where
	Index int
	Name  string
	Msg   string
}

func (p Problem) Error() string {
	if p.Name != "" {
		return fmt.Sprintf("%s %q: %s", p.Where, p.Name, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Where, p.Msg)
}

// CheckError lists every problem Check found.
type CheckError struct {
	Method   string
	Problems []Problem
}

func (e *CheckError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("claims transformation method %s: %s", e.Method, strings.Join(msgs, "; "))
}

// Check validates a ClaimsTransformation element: the method exists, every
// required InputClaim, InputParameter and OutputClaim is there, none is
// unknown or repeated, DataTypes fit, and parameter values parse (boolean,
// int, documented enumerations). It returns nil or a *CheckError.
func Check(method string, inputClaims, inputParams, outputClaims []Decl) error {
	m, ok := registry[method]
	if !ok {
		return &CheckError{Method: method, Problems: []Problem{{Where: InMethod, Index: -1, Name: method, Msg: "unknown TransformationMethod"}}}
	}
	var ps []Problem
	checkList := func(where Where, decls []Decl, slots []Slot, anyExtra, isParam bool) {
		seen := map[string]bool{}
		for i, d := range decls {
			if seen[d.Name] && !(isParam && m.AnyParams) {
				ps = append(ps, Problem{where, i, d.Name, "repeated"})
				continue
			}
			seen[d.Name] = true
			s := findSlot(slots, d.Name)
			if s == nil {
				if !anyExtra {
					ps = append(ps, Problem{where, i, d.Name, "unknown for " + method + expected(slots)})
				}
				continue
			}
			// A parameter written DataType="string" may carry a boolean or a
			// number (B2C converts it, the unit-test policies do it); its
			// value is checked against the slot's type below.
			lenientParam := isParam && strings.EqualFold(string(d.DataType), string(String))
			if d.DataType != "" && len(s.Types) > 0 && !hasType(s.Types, d.DataType) && !lenientParam {
				ps = append(ps, Problem{where, i, d.Name, fmt.Sprintf("DataType %s, want %s", d.DataType, typeList(s.Types))})
			}
			if isParam {
				if msg := checkParamValue(*s, d); msg != "" {
					ps = append(ps, Problem{where, i, d.Name, msg})
				}
			}
		}
		for _, s := range slots {
			if !s.Optional && !seen[s.Name] {
				ps = append(ps, Problem{where, -1, s.Name, "missing (required by " + method + ")"})
			}
		}
	}
	checkList(InInputClaims, inputClaims, m.Inputs, m.AnyInputs, false)
	checkList(InInputParams, inputParams, m.Params, m.AnyParams, true)
	checkList(InOutputClaims, outputClaims, m.Out, m.AnyOutputs, false)
	if m.Validate != nil {
		for _, msg := range m.Validate(inputClaims, inputParams, outputClaims) {
			ps = append(ps, Problem{Where: InMethod, Index: -1, Name: method, Msg: msg})
		}
	}
	if len(ps) > 0 {
		return &CheckError{Method: method, Problems: ps}
	}
	return nil
}

func findSlot(slots []Slot, name string) *Slot {
	for i := range slots {
		if slots[i].Name == name {
			return &slots[i]
		}
	}
	return nil
}

func hasType(ts []DataType, t DataType) bool {
	for _, x := range ts {
		if strings.EqualFold(string(x), string(t)) {
			return true
		}
	}
	return false
}

func typeList(ts []DataType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " or ")
}

func expected(slots []Slot) string {
	if len(slots) == 0 {
		return " (it takes none)"
	}
	names := make([]string, len(slots))
	for i, s := range slots {
		names[i] = s.Name
	}
	return " (expected " + strings.Join(names, ", ") + ")"
}

func checkParamValue(s Slot, d Decl) string {
	dt := d.DataType
	if len(s.Types) > 0 && (dt == "" || !hasType(s.Types, dt)) {
		dt = s.Types[0]
	}
	switch dt {
	case Boolean:
		if _, err := parseBool(d.Value); err != nil {
			return err.Error()
		}
	case Int, Long:
		if _, err := parseInt(d.Value); err != nil {
			return err.Error()
		}
	}
	if len(s.Enum) > 0 {
		for _, e := range s.Enum {
			if strings.EqualFold(e, strings.TrimSpace(d.Value)) {
				return ""
			}
		}
		return fmt.Sprintf("value %q, want one of %s", d.Value, strings.Join(s.Enum, ", "))
	}
	return ""
}

// slot helpers for the registrations
func req(name string, ts ...DataType) Slot { return Slot{Name: name, Types: ts} }
func opt(name string, ts ...DataType) Slot { return Slot{Name: name, Types: ts, Optional: true} }
func enum(name string, optional bool, values ...string) Slot {
	return Slot{Name: name, Types: []DataType{String}, Optional: optional, Enum: values}
}
