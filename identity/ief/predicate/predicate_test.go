package predicate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// docsPredicates are the examples of B2C's "Predicates and
// PredicateValidations" page and its password-complexity article, as the
// loader would hand them over.
func docsPredicates() []Predicate {
	p := func(id, method, help string, kv ...string) Predicate {
		params := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			params[kv[i]] = kv[i+1]
		}
		return Predicate{ID: id, Method: method, HelpText: help, Params: params}
	}
	return []Predicate{
		p("IsLengthBetween8And64", IsLengthRange, "The password must be between 8 and 64 characters.", "Minimum", "8", "Maximum", "64"),
		p("Lowercase", IncludesCharacters, "a lowercase letter", "CharacterSet", "a-z"),
		p("Uppercase", IncludesCharacters, "an uppercase letter", "CharacterSet", "A-Z"),
		p("Number", IncludesCharacters, "a digit", "CharacterSet", "0-9"),
		p("Symbol", IncludesCharacters, "a symbol", "CharacterSet", "@#$%^&*\\-_+=[]{}|\\\\:',?/`~\"();!"),
		p("PIN", MatchesRegex, "The password must be numbers only.", "RegularExpression", "^[0-9]+$"),
		p("IsLength8", IsLengthRange, "The PIN must be 8 digits.", "Minimum", "8", "Maximum", "8"),
		p("AllowedCharacters", MatchesRegex, "An invalid character was provided.", "RegularExpression", "(^([0-9A-Za-z\\d@#$%^&*\\-_+=[\\]{}|\\\\:',?/`~\"();! ]|(\\.(?!@)))+$)|(^$)"),
		p("DisallowedWhitespace", MatchesRegex, "The password must not begin or end with a whitespace character.", "RegularExpression", "(^\\S.*\\S$)|(^\\S+$)|(^$)"),
		p("DateRange", IsDateRange, "The date must be between 1970-01-01 and today.", "Minimum", "1970-01-01", "Maximum", "Today"),
	}
}

func refs(ids ...string) []Ref {
	r := make([]Ref, len(ids))
	for i, id := range ids {
		r[i] = Ref{id}
	}
	return r
}

func docsValidations() []PredicateValidation {
	return []PredicateValidation{
		{ID: "StrongPassword", Groups: []Group{
			{ID: "LengthGroup", HelpText: "The password must be between 8 and 64 characters.", PredicateRefs: refs("IsLengthBetween8And64")},
			{ID: "CharacterClasses", HelpText: "The password must have at least 3 of the following:", MatchAtLeast: 3,
				PredicateRefs: refs("Lowercase", "Uppercase", "Number", "Symbol")},
		}},
		{ID: "CustomPassword", Groups: []Group{
			{ID: "AllowedCharacters", PredicateRefs: refs("AllowedCharacters")},
			{ID: "DisallowedWhitespace", PredicateRefs: refs("DisallowedWhitespace")},
		}},
		{ID: "PINValidation", Groups: []Group{
			{ID: "PINGroup", HelpText: "8 digits", PredicateRefs: refs("IsLength8", "PIN")},
		}},
		{ID: "BirthDate", Groups: []Group{{ID: "Range", PredicateRefs: refs("DateRange")}}},
	}
}

func docsSet(t testing.TB) *Set {
	t.Helper()
	s, err := Compile(docsPredicates(), docsValidations())
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC) }
	return s
}

func TestDocsExamples(t *testing.T) {
	s := docsSet(t)
	for _, c := range []struct {
		val, value string
		ok         bool
		failed     []string // "group:pred,pred"
	}{
		{"StrongPassword", "Passw0rd", true, nil},
		{"StrongPassword", "password1!", true, nil},  // lower, digit, symbol
		{"StrongPassword", "pass[word]X", true, nil}, // brackets are symbols
		{"StrongPassword", "p{a}ssword", false, []string{"CharacterClasses:Uppercase,Number"}},
		{"StrongPassword", "password", false, []string{"CharacterClasses:Uppercase,Number,Symbol"}},
		{"StrongPassword", "Pa1!", false, []string{"LengthGroup:IsLengthBetween8And64"}},
		{"StrongPassword", "pa1", false, []string{"LengthGroup:IsLengthBetween8And64", "CharacterClasses:Uppercase,Symbol"}},
		{"StrongPassword", `back\slash-pw`, false, []string{"CharacterClasses:Uppercase,Number"}},
		{"StrongPassword", strings.Repeat("aA1", 21) + "x", true, nil}, // 64
		{"StrongPassword", strings.Repeat("aA1", 21) + "xy", false, []string{"LengthGroup:IsLengthBetween8And64"}},
		{"CustomPassword", "Good pass.word", true, nil},
		{"CustomPassword", "", true, nil},
		{"CustomPassword", " leading", false, []string{"DisallowedWhitespace:DisallowedWhitespace"}},
		{"CustomPassword", "a.@b", false, []string{"AllowedCharacters:AllowedCharacters"}},
		{"CustomPassword", "naïve", false, []string{"AllowedCharacters:AllowedCharacters"}},
		{"PINValidation", "12345678", true, nil},
		{"PINValidation", "1234567", false, []string{"PINGroup:IsLength8"}},
		{"PINValidation", "1234567a", false, []string{"PINGroup:PIN"}},
		{"PINValidation", "123456789", false, []string{"PINGroup:IsLength8"}},
		{"BirthDate", "1970-01-01", true, nil},
		{"BirthDate", "2026-12-03", true, nil},
		{"BirthDate", "2026-12-04", false, []string{"Range:DateRange"}},
		{"BirthDate", "1969-12-31", false, []string{"Range:DateRange"}},
		{"BirthDate", "1985-06-15T10:00:00Z", true, nil},
		{"BirthDate", "15.06.1985", false, []string{"Range:DateRange"}},
	} {
		ok, fails, err := s.Validate(c.val, c.value)
		if err != nil {
			t.Fatalf("%s %q: %v", c.val, c.value, err)
		}
		var got []string
		for _, f := range fails {
			var ids []string
			for _, p := range f.Failed {
				ids = append(ids, p.PredicateID)
			}
			got = append(got, f.GroupID+":"+strings.Join(ids, ","))
		}
		if ok != c.ok || !reflect.DeepEqual(got, c.failed) {
			t.Errorf("%s %q: ok %v failures %q, want %v %q", c.val, c.value, ok, got, c.ok, c.failed)
		}
	}
}

func TestFailureTexts(t *testing.T) {
	s := docsSet(t)
	_, fails, _ := s.Validate("StrongPassword", "short")
	want := []Failure{
		{"LengthGroup", "The password must be between 8 and 64 characters.", []Failed{{"IsLengthBetween8And64", "The password must be between 8 and 64 characters."}}},
		{"CharacterClasses", "The password must have at least 3 of the following:", []Failed{
			{"Uppercase", "an uppercase letter"}, {"Number", "a digit"}, {"Symbol", "a symbol"}}},
	}
	if !reflect.DeepEqual(fails, want) {
		t.Errorf("got %+v\nwant %+v", fails, want)
	}
}

func TestLengthCountsUTF16(t *testing.T) {
	s, err := Compile([]Predicate{{ID: "L", Method: IsLengthRange, Params: map[string]string{"Minimum": "2", "Maximum": "3"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{"a", false}, {"ab", true}, {"abc", true}, {"abcd", false},
		{"é", false},  // one code unit, even as two UTF-8 bytes
		{"éé", true},  // two
		{"😀", true},   // a surrogate pair: two, though one rune
		{"😀😀", false}, // four
		{"a😀", true},  // three
		{"", false},
	} {
		if ok, err := s.ValidatePredicate("L", c.v); err != nil || ok != c.ok {
			t.Errorf("%q: %v %v, want %v", c.v, ok, err, c.ok)
		}
	}
}

func TestTodayOffset(t *testing.T) {
	s, err := Compile([]Predicate{{ID: "Adult", Method: IsDateRange, Params: map[string]string{"Minimum": "1900-01-01", "Maximum": "Today-6574"}}}, nil) // 18 years before 2026-12-03
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) }
	for v, want := range map[string]bool{"2008-12-03": true, "2008-12-04": false, "1900-01-01": true} {
		if ok, _ := s.ValidatePredicate("Adult", v); ok != want {
			t.Errorf("%s: %v, want %v", v, ok, want)
		}
	}
}

func TestCompileProblems(t *testing.T) {
	_, err := Compile([]Predicate{
		{ID: "A", Method: "IsShort"},
		{ID: "B", Method: IsLengthRange, Params: map[string]string{"Minimum": "x", "Maximum": "-1"}},
		{ID: "C", Method: IsLengthRange, Params: map[string]string{"Minimum": "9", "Maximum": "8"}},
		{ID: "D", Method: MatchesRegex, Params: map[string]string{"RegularExpression": "(a"}},
		{ID: "E", Method: MatchesRegex, Params: map[string]string{"Pattern": "a"}},
		{ID: "F", Method: IsDateRange, Params: map[string]string{"Minimum": "2020-13-01", "Maximum": "Tomorrow"}},
		{ID: "G", Method: IncludesCharacters, Params: map[string]string{"CharacterSet": ""}},
		{ID: "G", Method: IncludesCharacters, Params: map[string]string{"CharacterSet": "a"}},
		{ID: "H", Method: IsDateRange, Params: map[string]string{"Minimum": "2020-01-02", "Maximum": "2020-01-01"}},
		{ID: "I", Method: IncludesCharacters, Params: map[string]string{"CharacterSet": "z-a"}},
	}, []PredicateValidation{
		{ID: "V", Groups: []Group{{ID: "g", MatchAtLeast: 2, PredicateRefs: refs("A", "Nope")}, {ID: "h", MatchAtLeast: 3, PredicateRefs: refs("C")}, {ID: "e"}}},
		{ID: "W"},
		{ID: "V", Groups: []Group{{ID: "g", PredicateRefs: refs("A")}}},
	})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("%v is not Problems", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Element+"/"+p.ID+"/"+p.Param)
	}
	want := []string{
		"Predicate/A/", "Predicate/B/Minimum", "Predicate/B/Maximum", "Predicate/C/Maximum",
		"Predicate/D/RegularExpression", "Predicate/E/Pattern", "Predicate/E/RegularExpression",
		"Predicate/F/Minimum", "Predicate/F/Maximum", "Predicate/G/CharacterSet", "Predicate/G/",
		"Predicate/H/Maximum", "Predicate/I/CharacterSet",
		`PredicateValidation/V/group "g"`, `PredicateValidation/V/group "h"`,
		`PredicateValidation/V/group "e"`, "PredicateValidation/W/", "PredicateValidation/V/",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(err.Error(), `Predicate "A": unknown Method "IsShort"`) {
		t.Errorf("message: %v", err)
	}
}

func TestUnknownIDs(t *testing.T) {
	s := docsSet(t)
	if _, _, err := s.Validate("Nope", "x"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Validate: %v", err)
	}
	if _, err := s.ValidatePredicate("Nope", "x"); !errors.Is(err, ErrUnknown) {
		t.Errorf("ValidatePredicate: %v", err)
	}
}

func TestCatastrophicRegexTimesOut(t *testing.T) {
	s, err := Compile([]Predicate{{ID: "Evil", Method: MatchesRegex, Params: map[string]string{"RegularExpression": `^(a+)+$`}}},
		[]PredicateValidation{{ID: "V", Groups: []Group{{ID: "g", PredicateRefs: refs("Evil")}}}})
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := s.Validate("V", strings.Repeat("a", 40)+"!")
	if ok || !errors.Is(err, dotnetregex.ErrTimeout) {
		t.Fatalf("ok %v err %v, want a timeout", ok, err)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("Passw0rd!", "1985-01-01")
	f.Add("", "Today")
	f.Add("😀\x00\xff", "2020-02-30")
	s := docsSet(f)
	vals := docsValidations()
	f.Fuzz(func(t *testing.T, value, date string) {
		for _, v := range vals {
			ok, fails, err := s.Validate(v.ID, value)
			if err == nil && ok != (len(fails) == 0) {
				t.Fatalf("%s %q: ok %v with %d failures", v.ID, value, ok, len(fails))
			}
		}
		// Arbitrary parameters must be rejected or compiled, never panic.
		Compile([]Predicate{
			{ID: "d", Method: IsDateRange, Params: map[string]string{"Minimum": date, "Maximum": "Today"}},
			{ID: "c", Method: IncludesCharacters, Params: map[string]string{"CharacterSet": value}},
			{ID: "r", Method: MatchesRegex, Params: map[string]string{"RegularExpression": value}},
		}, nil)
	})
}
