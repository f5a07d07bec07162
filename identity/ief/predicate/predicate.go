// Package predicate evaluates Azure AD B2C Predicates and PredicateValidations
// (BuildingBlocks/Predicates, BuildingBlocks/PredicateValidations) against a
// claim value, the check a self-asserted page runs on a password or any claim
// whose ClaimType has a PredicateValidationReference.
//
// The package knows nothing of XML: the policy loader fills Predicate and
// PredicateValidation from the document and calls Compile once per policy;
// Compile reports every problem at once, each naming the element's Id and
// parameter so the loader can add the file position. The runtime then calls
// (*Set).Validate per submitted value.
package predicate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// The predicate methods B2C supports.
const (
	IsLengthRange      = "IsLengthRange"
	MatchesRegex       = "MatchesRegex"
	IncludesCharacters = "IncludesCharacters"
	IsDateRange        = "IsDateRange"
)

// Predicate is one Predicate element. HelpText is what the loader found in
// the UserHelpText element or, failing that, the HelpText attribute (B2C
// accepts either).
type Predicate struct {
	ID       string
	Method   string
	HelpText string
	Params   map[string]string // Parameter Id -> text
}

// PredicateValidation is one PredicateValidation element.
type PredicateValidation struct {
	ID     string
	Groups []Group
}

// Group is one set of predicate references with its quorum. In the schema a
// PredicateGroup (Id, UserHelpText) holds PredicateReferences elements, and
// MatchAtLeast sits on PredicateReferences; a group almost always has one.
// The loader makes one Group per PredicateReferences element, with the
// PredicateGroup's Id and help text (the PredicateReferences' own Id and
// HelpText attributes when the group has none).
type Group struct {
	ID            string
	HelpText      string
	MatchAtLeast  int // 0: every reference must match
	PredicateRefs []Ref
}

// Ref is a PredicateReference. The schema gives it only an Id: help texts
// belong to the Predicate and the group, not the reference.
type Ref struct {
	ID string
}

// Problem is one thing wrong with the predicates or validations. Element is
// "Predicate" or "PredicateValidation"; ID its Id; Param, when set, the
// Parameter Id, group Id or reference Id the problem is about.
type Problem struct {
	Element string
	ID      string
	Param   string
	Msg     string
}

func (p Problem) Error() string {
	s := p.Element + " " + strconv.Quote(p.ID)
	if p.Param != "" {
		s += " " + p.Param
	}
	return s + ": " + p.Msg
}

// Problems is Compile's error: every problem found, in document order.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Set is a policy's compiled predicates and validations. It is safe for
// concurrent use once compiled.
type Set struct {
	preds map[string]*compiled
	vals  map[string]*PredicateValidation
	// Now is the clock IsDateRange's "Today" reads (time.Now when nil).
	// Set it before use, not concurrently with Validate.
	Now func() time.Time
}

type compiled struct {
	Predicate
	minLen, maxLen int
	re             *dotnetregex.Regex // MatchesRegex and IncludesCharacters
	minDate        dateBound
	maxDate        dateBound
}

// Failure is one group whose quorum was not met, with the predicates in it
// that failed, both in document order: what a page lists as unmet rules.
type Failure struct {
	GroupID  string
	HelpText string
	Failed   []Failed
}

// Failed is one failing predicate.
type Failed struct {
	PredicateID string
	HelpText    string
}

// Compile checks and compiles the predicates and validations. On problems
// it returns a nil Set and a Problems error.
func Compile(preds []Predicate, vals []PredicateValidation) (*Set, error) {
	s := &Set{preds: map[string]*compiled{}, vals: map[string]*PredicateValidation{}}
	var ps Problems
	for _, p := range preds {
		if _, dup := s.preds[p.ID]; dup {
			ps = append(ps, Problem{"Predicate", p.ID, "", "duplicate Id"})
			continue
		}
		c, probs := compile(p)
		ps = append(ps, probs...)
		s.preds[p.ID] = c // also when broken, so references to it are not reported twice
	}
	for i := range vals {
		v := &vals[i]
		if _, dup := s.vals[v.ID]; dup {
			ps = append(ps, Problem{"PredicateValidation", v.ID, "", "duplicate Id"})
			continue
		}
		ps = append(ps, s.checkValidation(v)...)
		s.vals[v.ID] = v
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return s, nil
}

func (s *Set) checkValidation(v *PredicateValidation) Problems {
	var ps Problems
	bad := func(param, format string, args ...any) {
		ps = append(ps, Problem{"PredicateValidation", v.ID, param, fmt.Sprintf(format, args...)})
	}
	if len(v.Groups) == 0 {
		bad("", "no predicate groups")
	}
	for _, g := range v.Groups {
		name := "group " + strconv.Quote(g.ID)
		if len(g.PredicateRefs) == 0 {
			bad(name, "no predicate references")
		}
		if g.MatchAtLeast < 0 || g.MatchAtLeast > len(g.PredicateRefs) {
			bad(name, "MatchAtLeast %d with %d predicate references", g.MatchAtLeast, len(g.PredicateRefs))
		}
		for _, r := range g.PredicateRefs {
			if _, ok := s.preds[r.ID]; !ok {
				bad(name, "PredicateReference %q names no Predicate", r.ID)
			}
		}
	}
	return ps
}

// The parameters each method takes; all are required.
var methodParams = map[string][]string{
	IsLengthRange:      {"Minimum", "Maximum"},
	MatchesRegex:       {"RegularExpression"},
	IncludesCharacters: {"CharacterSet"},
	IsDateRange:        {"Minimum", "Maximum"},
}

func compile(p Predicate) (*compiled, Problems) {
	c := &compiled{Predicate: p}
	var ps Problems
	bad := func(param, format string, args ...any) {
		ps = append(ps, Problem{"Predicate", p.ID, param, fmt.Sprintf(format, args...)})
	}
	want, ok := methodParams[p.Method]
	if !ok {
		bad("", "unknown Method %q (B2C has IsLengthRange, MatchesRegex, IncludesCharacters, IsDateRange)", p.Method)
		return c, ps
	}
	for id := range p.Params {
		if !contains(want, id) {
			bad(id, "%s takes no parameter %q", p.Method, id)
		}
	}
	for _, id := range want {
		if _, ok := p.Params[id]; !ok {
			bad(id, "missing")
		}
	}
	if len(ps) > 0 {
		return c, ps
	}
	param := func(id string) string { return strings.TrimSpace(p.Params[id]) }
	switch p.Method {
	case IsLengthRange:
		var err error
		if c.minLen, err = strconv.Atoi(param("Minimum")); err != nil || c.minLen < 0 {
			bad("Minimum", "not a non-negative integer: %q", p.Params["Minimum"])
		}
		if c.maxLen, err = strconv.Atoi(param("Maximum")); err != nil || c.maxLen < 0 {
			bad("Maximum", "not a non-negative integer: %q", p.Params["Maximum"])
		}
		if len(ps) == 0 && c.minLen > c.maxLen {
			bad("Maximum", "%d is less than Minimum %d", c.maxLen, c.minLen)
		}
	case MatchesRegex:
		// Not trimmed: spaces may be part of the pattern.
		re, err := dotnetregex.Compile(p.Params["RegularExpression"], dotnetregex.None)
		if err != nil {
			bad("RegularExpression", "%v", err)
		}
		c.re = re
	case IncludesCharacters:
		set := p.Params["CharacterSet"]
		if set == "" {
			bad("CharacterSet", "empty")
			break
		}
		re, err := dotnetregex.Compile("["+classBody(set)+"]", dotnetregex.None)
		if err != nil {
			bad("CharacterSet", "%v", err)
		}
		c.re = re
	case IsDateRange:
		var err error
		if c.minDate, err = parseBound(param("Minimum")); err != nil {
			bad("Minimum", "%v", err)
		}
		if c.maxDate, err = parseBound(param("Maximum")); err != nil {
			bad("Maximum", "%v", err)
		}
		if len(ps) == 0 && !c.minDate.today && !c.maxDate.today && c.minDate.date.After(c.maxDate.date) {
			bad("Maximum", "is before Minimum")
		}
	}
	return c, ps
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// classBody makes an IncludesCharacters CharacterSet into a .NET character
// class body. B2C treats the set as a class body (ranges like a-z, escapes
// like \- and \\), but its own documented symbol set,
// @#$%^&*\-_+=[]{}|\\:',?/`~"();! , holds bare [ and ]: verbatim, the ] would
// close the class and leave the rest as a pattern that almost never matches.
// The set is a list of characters that may be entered, so bare brackets are
// taken literally, and so is a leading ^ (a negated "set of allowed
// characters" is not what anyone writes); everything else keeps its class
// meaning.
func classBody(set string) string {
	var b strings.Builder
	for i := 0; i < len(set); i++ {
		switch ch := set[i]; {
		case ch == '\\' && i+1 < len(set):
			b.WriteByte(ch)
			i++
			b.WriteByte(set[i])
		case ch == '[' || ch == ']' || (ch == '^' && i == 0):
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// dateBound is an IsDateRange limit: a fixed date, or today plus days.
type dateBound struct {
	today bool
	days  int
	date  time.Time
}

const dateLayout = "2006-01-02"

// parseBound reads yyyy-MM-dd or Today. Today may carry a day offset
// (Today-6570, Today+30), so "at least 18 years old" needs no claims
// transformation.
func parseBound(s string) (dateBound, error) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "Today") {
		rest := strings.TrimSpace(s[5:])
		if rest == "" {
			return dateBound{today: true}, nil
		}
		if rest[0] == '+' || rest[0] == '-' {
			if n, err := strconv.Atoi(strings.TrimSpace(rest[1:])); err == nil && n >= 0 && n < 1e6 {
				if rest[0] == '-' {
					n = -n
				}
				return dateBound{today: true, days: n}, nil
			}
		}
		return dateBound{}, fmt.Errorf("%q: want Today, Today+N or Today-N (days)", s)
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return dateBound{}, fmt.Errorf("%q: want a date as yyyy-MM-dd or Today", s)
	}
	return dateBound{date: d}, nil
}

func (b dateBound) resolve(now time.Time) time.Time {
	if !b.today {
		return b.date
	}
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+b.days, 0, 0, 0, 0, time.UTC)
}

// parseDate reads a date claim's value: yyyy-MM-dd, or a date-time of which
// only the date counts.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if d, err := time.Parse(dateLayout, v); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// ErrUnknown is returned for a validation or predicate id the Set lacks.
var ErrUnknown = errors.New("predicate: unknown id")

// ValidatePredicate evaluates one predicate. The error is ErrUnknown or a
// regular expression timeout (dotnetregex.ErrTimeout).
func (s *Set) ValidatePredicate(predicateID, value string) (bool, error) {
	c, ok := s.preds[predicateID]
	if !ok {
		return false, fmt.Errorf("%w: Predicate %q", ErrUnknown, predicateID)
	}
	return s.eval(c, value)
}

func (s *Set) eval(c *compiled, v string) (bool, error) {
	switch c.Method {
	case IsLengthRange:
		// B2C counts .NET string length: UTF-16 code units, so an emoji is 2.
		n := 0
		for _, r := range v {
			n += max(utf16.RuneLen(r), 1)
		}
		return n >= c.minLen && n <= c.maxLen, nil
	case MatchesRegex, IncludesCharacters:
		ok, err := c.re.IsMatch(v)
		if err != nil {
			return false, fmt.Errorf("Predicate %q: %w", c.ID, err)
		}
		return ok, nil
	case IsDateRange:
		d, ok := parseDate(v)
		if !ok {
			return false, nil
		}
		now := time.Now()
		if s.Now != nil {
			now = s.Now()
		}
		return !d.Before(c.minDate.resolve(now)) && !d.After(c.maxDate.resolve(now)), nil
	}
	return false, fmt.Errorf("Predicate %q: method %q", c.ID, c.Method) // Compile rejects these
}

// Validate evaluates a PredicateValidation: every group must have at least
// MatchAtLeast (0: all) of its predicates match. failures lists the groups
// that fell short, in document order, each with its failed predicates. err
// is ErrUnknown or a regular expression timeout; the value is then not
// valid either.
func (s *Set) Validate(validationID, value string) (ok bool, failures []Failure, err error) {
	v, found := s.vals[validationID]
	if !found {
		return false, nil, fmt.Errorf("%w: PredicateValidation %q", ErrUnknown, validationID)
	}
	for _, g := range v.Groups {
		var failed []Failed
		for _, r := range g.PredicateRefs {
			c := s.preds[r.ID]
			match, err := s.eval(c, value)
			if err != nil {
				return false, nil, fmt.Errorf("PredicateValidation %q: %w", validationID, err)
			}
			if !match {
				failed = append(failed, Failed{c.ID, c.HelpText})
			}
		}
		need := g.MatchAtLeast
		if need == 0 {
			need = len(g.PredicateRefs)
		}
		if len(g.PredicateRefs)-len(failed) < need {
			failures = append(failures, Failure{g.ID, g.HelpText, failed})
		}
	}
	return len(failures) == 0, failures, nil
}
