package expr

import (
	"strings"
	"testing"
)

// TestRegexDotNet: Regex is .NET's engine (internal/dotnetregex), not RE2.
func TestRegexDotNet(t *testing.T) {
	runCases(t, []evalCase{
		// lookahead, lookbehind, backreferences
		{`@(Regex.IsMatch("Passw0rd", "^(?=.*\\d)(?=.*[a-z])(?=.*[A-Z]).{8,}$"))`, true},
		{`@(Regex.IsMatch("password", "^(?=.*\\d)(?=.*[a-z])(?=.*[A-Z]).{8,}$"))`, false},
		{`@(Regex.Match("price: $42", "(?<=\\$)\\d+").Value)`, "42"},
		{`@(Regex.IsMatch("$42", "(?<!\\$)\\b\\d+"))`, false},
		{`@(Regex.IsMatch("hey hey", "^(\\w+) \\1$"))`, true},
		{`@(Regex.IsMatch("ab-ab", "^(?<w>\\w+)-\\k<w>$"))`, true},
		// named groups
		{`@(Regex.Match("id=42;", "id=(?<id>\\d+)").Groups["id"].Value)`, "42"},
		{`@(Regex.Match("id=42;", "id=(?<id>\\d+)").Groups["nope"].Success)`, false},
		{`@(Regex.Match("id=42;", "id=(?<id>\\d+)").Groups[1].Index)`, int32(3)},
		{`@(Regex.Match("id=42;", "id=(?<id>\\d+)").Groups.Count)`, int32(2)},
		{`@(new Regex("(?<k>\\w+)=(?<v>\\w+)").Match("a=1").Groups["v"].Value)`, "1"},
		// Matches, NextMatch, Result
		{`@(Regex.Matches("a1b22c333", "\\d+").Count)`, int32(3)},
		{`@(Regex.Matches("a1b22c333", "\\d+")[2].Value)`, "333"},
		{`@{ var s = ""; foreach (Match m in Regex.Matches("k1=v1;k2=v2", "(?<k>\\w+)=(?<v>\\w+)")) { s += m.Groups["k"].Value + ":" + m.Groups["v"].Value + ","; } return s; }`, "k1:v1,k2:v2,"},
		{`@(Regex.Match("a1b22", "\\d+").NextMatch().Value)`, "22"},
		{`@(Regex.Match("a1b22", "\\d+").NextMatch().NextMatch().Success)`, false},
		{`@(Regex.Match("john smith", "(?<f>\\w+) (?<l>\\w+)").Result("${l}, $1 [$$]"))`, "smith, john [$]"},
		// Replace with $1 / ${name} / $0 / $$
		{`@(Regex.Replace("john smith", "(?<first>\\w+) (?<last>\\w+)", "${last} $1"))`, "smith john"},
		{`@(Regex.Replace("a1b2", "\\d", "<$0>$$"))`, "a<1>$b<2>$"},
		{`@(new Regex("\\s+").Replace("a  b   c", " "))`, "a b c"},
		// Split (captures included), Escape, Unescape
		{`@(string.Join("|", Regex.Split("a1b2c", "\\d")))`, "a|b|c"},
		{`@(string.Join("|", Regex.Split("a1b2c", "(\\d)")))`, "a|1|b|2|c"},
		{`@(string.Join("|", new Regex(",").Split("x,y")))`, "x|y"},
		{`@(Regex.Escape("a.b*c (d)"))`, "a\\.b\\*c\\ \\(d\\)"},
		{`@(Regex.Unescape("a\\.b\\n"))`, "a.b\n"},
		{`@(Regex.IsMatch("a.b", Regex.Escape("a.b")) && !Regex.IsMatch("axb", Regex.Escape("a.b")))`, true},
		// RegexOptions
		{`@(Regex.IsMatch("ABC", "^abc$", RegexOptions.IgnoreCase))`, true},
		{`@(Regex.IsMatch("a\nb", "^b$", RegexOptions.Multiline))`, true},
		{`@(Regex.IsMatch("a\nb", "^b$"))`, false},
		{`@(Regex.IsMatch("a\nB", "^a.b$", RegexOptions.Singleline | RegexOptions.IgnoreCase))`, true},
		{`@(Regex.IsMatch("ab", "a b # comment", RegexOptions.IgnorePatternWhitespace))`, true},
		{`@(Regex.Match("a1", "(\\w)(?<d>\\d)", RegexOptions.ExplicitCapture).Groups.Count)`, int32(2)},
		{`@(Regex.Match("12 345", "\\d+", RegexOptions.RightToLeft).Value)`, "345"},
		{`@(new Regex("^X", RegexOptions.IgnoreCase | RegexOptions.Compiled).IsMatch("xy"))`, true},
		{`@(System.Text.RegularExpressions.Regex.IsMatch("ab", "AB", System.Text.RegularExpressions.RegexOptions.IgnoreCase))`, true},
		// .NET semantics where RE2 differs
		{`@(Regex.IsMatch("abc\n", "^abc$"))`, true},
		{`@(Regex.IsMatch("١٢٣", "^\\d+$"))`, true},
		{`@(Regex.Match("éb", "b").Index)`, int32(1)},
		{`@(new Regex("a+b").ToString())`, "a+b"},
	})
}

func TestRegexErrors(t *testing.T) {
	// A constant pattern that does not compile fails the expression's
	// compilation at the pattern.
	for _, c := range []struct {
		src       string
		line, col int
	}{
		{`@(Regex.IsMatch("x", "(abc"))`, 1, 22},
		{"@{\n  return Regex.Replace(\"x\", \"[a-\", \"y\");\n}", 2, 29},
		{`@(new Regex("a{2,1}").IsMatch("aa"))`, 1, 13},
		{`@(Regex.IsMatch("x", "(?<=a", RegexOptions.IgnoreCase))`, 1, 22},
	} {
		_, err := Compile(c.src)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: err = %v, want SyntaxError", c.src, err)
			continue
		}
		if !strings.Contains(se.Msg, "Invalid pattern") || se.Line != c.line || se.Col != c.col {
			t.Errorf("%q: got %d:%d %q, want %d:%d Invalid pattern", c.src, se.Line, se.Col, se.Msg, c.line, c.col)
		}
	}

	runtimeErr := func(src, want string) {
		t.Helper()
		p, err := Compile(src)
		if err != nil {
			t.Fatalf("%s: compile: %v", src, err)
		}
		_, err = p.Eval(testContext())
		re, ok := err.(*RuntimeError)
		if !ok || !strings.Contains(re.Msg, want) {
			t.Errorf("%s: err = %v, want RuntimeError containing %q", src, err, want)
		}
	}
	// A pattern known only at run time: ArgumentException when evaluated.
	runtimeErr(`@(Regex.IsMatch("x", (string)context.Variables["str"] + "("))`, "Invalid pattern")

	// Catastrophic backtracking ends with RegexMatchTimeoutException (the
	// test asserts the error, not the time); uncaught, the expression
	// fails (the gateway runs on-error).
	evil := `"` + strings.Repeat("a", 40) + `b"`
	runtimeErr(`@(Regex.IsMatch(`+evil+`, "^(a+)+$"))`, "timed out")
	runtimeErr(`@(Regex.Replace(`+evil+`, "^(a+)+$", "x"))`, "timed out")
	runtimeErr(`@(new Regex("^(a+)+$").Matches(`+evil+`).Count)`, "timed out")
	// A matchTimeout argument lowers the limit; a longer one is capped.
	runtimeErr(`@(Regex.IsMatch(`+evil+`, "^(a+)+$", RegexOptions.None, TimeSpan.FromMilliseconds(5)))`, "timed out")
	runtimeErr(`@(new Regex("^(a+)+$", RegexOptions.None, TimeSpan.FromMinutes(10)).IsMatch(`+evil+`))`, "timed out")
	// As in .NET, a policy can catch it.
	if got := eval(t, `@{ try { return Regex.IsMatch(`+evil+`, "^(a+)+$").ToString(); } catch (RegexMatchTimeoutException) { return "timeout"; } }`); got != "timeout" {
		t.Errorf("catch RegexMatchTimeoutException = %v", got)
	}
}
