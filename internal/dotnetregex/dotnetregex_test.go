package dotnetregex

import (
	"encoding/xml"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustMatch(t *testing.T, pattern string, opts Options, s string, want bool) {
	t.Helper()
	r, err := Compile(pattern, opts)
	if err != nil {
		t.Fatalf("Compile(%q): %v", pattern, err)
	}
	got, err := r.IsMatch(s)
	if err != nil {
		t.Fatalf("IsMatch(%q, %q): %v", pattern, s, err)
	}
	if got != want {
		t.Errorf("IsMatch(%q, %q) = %v, want %v", pattern, s, got, want)
	}
}

func TestDotNetFeatures(t *testing.T) {
	for _, c := range []struct {
		pattern string
		opts    Options
		s       string
		want    bool
	}{
		{`^(?=.*\d)(?=.*[a-z]).{4,}$`, 0, "abc1", true},        // lookahead
		{`^(?=.*\d)(?=.*[a-z]).{4,}$`, 0, "abcd", false},       // lookahead
		{`(?<=\$)\d+`, 0, "cost $42", true},                    // lookbehind
		{`(?<!\$)\b\d+`, 0, "$42", false},                      // negative lookbehind
		{`^(\w+) \1$`, 0, "hey hey", true},                     // backreference
		{`^(\w+) \1$`, 0, "hey you", false},                    // backreference
		{`^(?<w>\w+)-\k<w>$`, 0, "ab-ab", true},                // named backreference
		{`^abc$`, IgnoreCase, "ABC", true},                     // RegexOptions.IgnoreCase
		{`^b$`, Multiline, "a\nb\nc", true},                    // RegexOptions.Multiline
		{`^b$`, 0, "a\nb\nc", false},                           // no Multiline
		{`a.c`, Singleline, "a\nc", true},                      // RegexOptions.Singleline
		{`a.c`, 0, "a\nc", false},                              // . excludes \n
		{`a b # comment`, IgnorePatternWhitespace, "ab", true}, // IgnorePatternWhitespace
		{`^abc$`, 0, "abc\n", true},                            // .NET: $ matches before a final \n
		{`^\d+$`, 0, "١٢٣", true},                              // .NET: \d is Unicode Nd
		{`^\d+$`, ECMAScript, "١٢٣", false},                    // ECMAScript: \d is [0-9]
		{`(?i)ABC`, 0, "abc", true},                            // inline options
		{`^(?>a+)b`, 0, "aaab", true},                          // atomic group
		{`^(?<o>\()*(?<-o>\))*(?(o)(?!))$`, 0, "(())", true},   // balancing groups
		{`^(?<o>\()*(?<-o>\))*(?(o)(?!))$`, 0, "(()", false},   // balancing groups
	} {
		mustMatch(t, c.pattern, c.opts, c.s, c.want)
	}
}

func TestGroupsMatchesReplaceSplit(t *testing.T) {
	r := MustCompile(`(?<key>\w+)=(?<val>\d+)`, 0)
	m, err := r.Match("a=1; bb=22")
	if err != nil || m == nil {
		t.Fatal(m, err)
	}
	if g, ok := m.Named("key"); !ok || g.Value != "a" {
		t.Errorf("key = %+v %v", g, ok)
	}
	if g, ok := m.Group(2); !ok || g.Value != "1" || g.Index != 2 || g.Length != 1 {
		t.Errorf("group 2 = %+v %v", g, ok)
	}
	if _, ok := m.Named("nope"); ok {
		t.Error("unknown group succeeded")
	}
	if r.GroupNumber("val") != 2 || r.GroupCount() != 3 {
		t.Errorf("GroupNumber(val) = %d, GroupCount = %d", r.GroupNumber("val"), r.GroupCount())
	}
	n, err := m.Next()
	if err != nil || n == nil || n.Value() != "bb=22" || n.Index() != 5 {
		t.Fatalf("Next = %v %v", n, err)
	}
	if got := n.Result("${val}:$1:$$:$&"); got != "22:bb:$:bb=22" {
		t.Errorf("Result = %q", got)
	}
	if n, _ := n.Next(); n != nil {
		t.Errorf("third match %q", n.Value())
	}
	ms, err := r.Matches("a=1; bb=22; c=3", -1)
	if err != nil || len(ms) != 3 {
		t.Fatalf("Matches = %d %v", len(ms), err)
	}
	got, err := r.Replace("a=1; bb=22", "${val}=$1")
	if err != nil || got != "1=a; 22=bb" {
		t.Errorf("Replace = %q %v", got, err)
	}
	got, _ = MustCompile(`(\w+) (\w+)`, 0).Replace("john smith", "$2 $1 [$0] $$")
	if got != "smith john [john smith] $" {
		t.Errorf("Replace = %q", got)
	}

	for _, c := range []struct {
		pattern string
		opts    Options
		s       string
		want    []string
	}{
		{`,`, 0, "a,b,,c", []string{"a", "b", "", "c"}},
		{`(,)`, 0, "a,b", []string{"a", ",", "b"}},
		{`;`, 0, "abc", []string{"abc"}},
		{`,`, RightToLeft, "a,b,c", []string{"a", "b", "c"}},
		{`(?<n>\d)`, ExplicitCapture, "a1b", []string{"a", "1", "b"}},
		{`(\d)`, ExplicitCapture, "a1b", []string{"a", "b"}}, // unnamed groups do not capture
	} {
		got, err := MustCompile(c.pattern, c.opts).Split(c.s)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q, %q) = %q %v, want %q", c.pattern, c.s, got, err, c.want)
		}
	}

	// RightToLeft: the match nearest the end comes first.
	m, _ = MustCompile(`\d+`, RightToLeft).Match("12 345")
	if m == nil || m.Value() != "345" {
		t.Errorf("RightToLeft Match = %v", m)
	}
	// Code point indexes.
	m, _ = MustCompile(`b`, 0).Match("éb")
	if m.Index() != 1 {
		t.Errorf("Index = %d, want 1 (code points)", m.Index())
	}
	if got := Escape(`a.b*c (d) #`); got != `a\.b\*c\ \(d\)\ \#` {
		t.Errorf("Escape = %q", got)
	}
	if got, err := Unescape(`a\.b\n`); err != nil || got != "a.b\n" {
		t.Errorf("Unescape = %q %v", got, err)
	}
}

func TestSyntaxError(t *testing.T) {
	for _, p := range []string{`(abc`, `[a-`, `a{2,1}`, `\k<nope>`, `(?<=a+`} {
		_, err := Compile(p, 0)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Pattern != p || se.Msg == "" || strings.Contains(se.Msg, "error parsing") {
			t.Errorf("Compile(%q) = %v", p, err)
		}
	}
	if _, err := Compile(`a`, 1<<20); err == nil {
		t.Error("unknown option accepted")
	}
	if _, err := Compile(`a`, ECMAScript|Singleline); err == nil {
		t.Error("ECMAScript|Singleline accepted")
	}
}

// TestTimeout: catastrophic backtracking ends with the timeout error (the
// test asserts the error, not the time), and the error does not quote the
// input.
func TestTimeout(t *testing.T) {
	r, err := CompileTimeout(`^(a+)+$`, 0, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	input := strings.Repeat("a", 40) + "b"
	for _, f := range []func() error{
		func() error { _, err := r.IsMatch(input); return err },
		func() error { _, err := r.Match(input); return err },
		func() error { _, err := r.Matches(input, -1); return err },
		func() error { _, err := r.Replace(input, "x"); return err },
		func() error { _, err := r.Split(input); return err },
	} {
		err := f()
		var te *TimeoutError
		if !errors.Is(err, ErrTimeout) || !errors.As(err, &te) || te.Pattern != `^(a+)+$` {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if strings.Contains(err.Error(), input) {
			t.Errorf("error quotes the input: %v", err)
		}
	}
	if r, _ := Compile(`x`, 0); r.timeout != DefaultTimeout {
		t.Errorf("default timeout %v", r.timeout)
	}
}

// starterPackPattern reads the newPassword claim's Restriction pattern
// from the starter pack's TrustFrameworkBase.xml (testdata copy).
func starterPackPattern(t testing.TB) string {
	b, err := os.ReadFile("../../testdata/b2c-starterpack/LocalAccounts/TrustFrameworkBase.xml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Claims []struct {
			ID      string `xml:"Id,attr"`
			Pattern struct {
				RE string `xml:"RegularExpression,attr"`
			} `xml:"Restriction>Pattern"`
		} `xml:"BuildingBlocks>ClaimsSchema>ClaimType"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Claims {
		if c.ID == "newPassword" {
			return c.Pattern.RE
		}
	}
	t.Fatal("no newPassword claim type")
	return ""
}

func TestStarterPackPasswordPattern(t *testing.T) {
	p := starterPackPattern(t)
	if !strings.Contains(p, "(?=") || !strings.Contains(p, `\.(?!@)`) {
		t.Fatalf("unexpected pattern %q", p)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"Passw0rd", true},           // lower, upper, digit
		{"password1!", true},         // lower, digit, symbol
		{"PASSWORD1!", true},         // upper, digit, symbol
		{"Password!", true},          // lower, upper, symbol
		{"Pa.ss.w0rd", true},         // . not followed by @
		{"Abcdefg1234567~\"", true},  // 16 characters
		{"password", false},          // one class
		{"password1", false},         // two classes
		{"Pass1!", false},            // too short
		{"Abcdefg1234567890", false}, // 17 characters
		{"Passw0rd.@x", false},       // . followed by @
		{"Passw0rd<>", false},        // < and > are not allowed
		{"Pässw0rd", false},          // non-ASCII letter
		{"Passw0rd\n", true},         // as in .NET: $ matches before a final \n
		{"Passw0rd 1", false},        // space
		{"pass word1!", false},       // space
		{"ABCDEFGH12345678", false},  // two classes
		{"\\Passw0rd\\", true},       // backslash is a symbol
	} {
		mustMatch(t, p, 0, c.pw, c.want)
	}
}

// BenchmarkIsMatch is a simple IsMatch, the kind an APIM policy runs per
// request; compare with BenchmarkIsMatchRE2 (Go's regexp).
func BenchmarkIsMatch(b *testing.B) {
	r := MustCompile(`^Bearer [A-Za-z0-9._-]+$`, 0)
	s := "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := r.IsMatch(s); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkStarterPackPassword(b *testing.B) {
	r := MustCompile(starterPackPattern(b), 0)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := r.IsMatch("Passw0rd!x"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
