// Package dotnetregex is the one place Gatehouse evaluates .NET regular
// expressions: APIM policy expressions' System.Text.RegularExpressions.Regex
// and B2C's claim Restriction patterns. It wraps github.com/dlclark/regexp2,
// a port of .NET's backtracking engine (lookahead, lookbehind,
// backreferences, named groups, balancing groups, RegexOptions, .NET's
// \d, \w, $ and replacement syntax), and bounds every match with a
// timeout: a pattern that backtracks catastrophically ends with a
// *TimeoutError instead of holding a core.
//
// Indexes and lengths (Match.Index, Group.Length, MatchAt's start) count
// code points, as the rest of Gatehouse's C# string model does.
package dotnetregex

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// Options are .NET's RegexOptions, with .NET's values.
type Options int

// RegexOptions members (the values System.Text.RegularExpressions uses).
const (
	None                    Options = 0
	IgnoreCase              Options = 1
	Multiline               Options = 2
	ExplicitCapture         Options = 4
	Compiled                Options = 8 // accepted, no effect
	Singleline              Options = 16
	IgnorePatternWhitespace Options = 32
	RightToLeft             Options = 64
	ECMAScript              Options = 256
	CultureInvariant        Options = 512 // accepted, no effect (regexp2's 512 is its RE2 mode: never passed on)
)

// supported is the set of options passed on to regexp2.
const supported = IgnoreCase | Multiline | ExplicitCapture | Singleline | IgnorePatternWhitespace | RightToLeft | ECMAScript

// DefaultTimeout bounds one match (one IsMatch, one Match, one step of
// Matches/Replace/Split). Neither APIM's nor B2C's documentation states
// the timeout they apply; .NET's own default is none. 100 ms is Gatehouse's
// choice: far above what a sane pattern on a header or a claim needs
// (microseconds), low enough that a hostile input cannot hold a core.
const DefaultTimeout = 100 * time.Millisecond

// TimeoutError is a match that ran out of time (.NET's
// RegexMatchTimeoutException). Its message names the pattern and the
// timeout, never the input (a password, a token).
type TimeoutError struct {
	Pattern string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("regular expression %q timed out after %v (catastrophic backtracking?)", e.Pattern, e.Timeout)
}

// ErrTimeout matches any *TimeoutError with errors.Is.
var ErrTimeout = errors.New("regular expression timed out")

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// SyntaxError is a pattern that does not compile.
type SyntaxError struct {
	Pattern string
	Msg     string // regexp2's reason, without the pattern
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid regular expression %q: %s", e.Pattern, e.Msg)
}

// Regex is a compiled pattern. It is safe for concurrent use.
type Regex struct {
	re      *regexp2.Regexp
	pattern string
	opts    Options
	timeout time.Duration
}

// Compile compiles pattern with .NET's syntax and options and the
// DefaultTimeout.
func Compile(pattern string, opts Options) (*Regex, error) {
	return CompileTimeout(pattern, opts, DefaultTimeout)
}

// CompileTimeout is Compile with a per-match timeout (<= 0: DefaultTimeout).
func CompileTimeout(pattern string, opts Options, timeout time.Duration) (*Regex, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if opts&^(supported|Compiled|CultureInvariant) != 0 {
		return nil, &SyntaxError{Pattern: pattern, Msg: fmt.Sprintf("unsupported RegexOptions value %d", int(opts))}
	}
	if opts&ECMAScript != 0 && opts&^(ECMAScript|IgnoreCase|Multiline|Compiled|CultureInvariant) != 0 {
		// .NET: ECMAScript combines only with IgnoreCase and Multiline.
		return nil, &SyntaxError{Pattern: pattern, Msg: "RegexOptions.ECMAScript can only be combined with IgnoreCase and Multiline"}
	}
	re, err := regexp2.Compile(pattern, regexp2.RegexOptions(opts&supported))
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		if i := strings.LastIndex(msg, " in `"); i >= 0 {
			msg = msg[:i]
		}
		return nil, &SyntaxError{Pattern: pattern, Msg: msg}
	}
	re.MatchTimeout = timeout
	return &Regex{re: re, pattern: pattern, opts: opts, timeout: timeout}, nil
}

// MustCompile is Compile that panics on an invalid pattern (for constants).
func MustCompile(pattern string, opts Options) *Regex {
	r, err := Compile(pattern, opts)
	if err != nil {
		panic(err)
	}
	return r
}

// String is the pattern.
func (r *Regex) String() string { return r.pattern }

// Options are the options the pattern was compiled with.
func (r *Regex) Options() Options { return r.opts }

// RightToLeft reports whether the pattern matches from the end.
func (r *Regex) RightToLeft() bool { return r.opts&RightToLeft != 0 }

// err turns a regexp2 match error (only ever its timeout, whose message
// quotes the input) into a *TimeoutError.
func (r *Regex) err(err error) error {
	if err == nil {
		return nil
	}
	return &TimeoutError{Pattern: r.pattern, Timeout: r.timeout}
}

// IsMatch reports whether s contains a match.
func (r *Regex) IsMatch(s string) (bool, error) {
	ok, err := r.re.MatchString(s)
	return ok, r.err(err)
}

// Match is the first match in s (nil when none).
func (r *Regex) Match(s string) (*Match, error) {
	m, err := r.re.FindStringMatch(s)
	return r.wrap(m, s, err)
}

// MatchAt is the first match starting the scan at code point start (for
// RightToLeft, scanning leftwards from start).
func (r *Regex) MatchAt(s string, start int) (*Match, error) {
	m, err := r.re.FindStringMatchStartingAt(s, start)
	return r.wrap(m, s, err)
}

func (r *Regex) wrap(m *regexp2.Match, s string, err error) (*Match, error) {
	if err != nil {
		return nil, r.err(err)
	}
	if m == nil {
		return nil, nil
	}
	return &Match{m: m, r: r, s: s}, nil
}

// Matches are the successive matches in s, at most max (max < 0: all).
func (r *Regex) Matches(s string, max int) ([]*Match, error) {
	var out []*Match
	m, err := r.re.FindStringMatch(s)
	for m != nil && err == nil && (max < 0 || len(out) < max) {
		out = append(out, &Match{m: m, r: r, s: s})
		m, err = r.re.FindNextMatch(m)
	}
	return out, r.err(err)
}

// Replace replaces every match in s with replacement, in .NET's
// substitution syntax ($1, ${name}, $$, $&, $`, $', $+, $_).
func (r *Regex) Replace(s, replacement string) (string, error) {
	out, err := r.re.Replace(s, replacement, -1, -1)
	return out, r.err(err)
}

// Split splits s at the matches, as .NET's Regex.Split: captured groups
// are included in the result (in group-number order); a RightToLeft
// pattern splits from the end, the pieces still in input order.
func (r *Regex) Split(s string) ([]string, error) {
	ms, err := r.Matches(s, -1)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return []string{s}, nil
	}
	rs := []rune(s)
	if r.RightToLeft() {
		// Matches come rightmost first; .NET builds the pieces from the
		// end and reverses them.
		var rev []string
		prev := len(rs)
		for _, m := range ms {
			rev = append(rev, string(rs[m.Index()+m.Length():prev]))
			prev = m.Index()
			gs := m.m.Groups()
			for i := len(gs) - 1; i >= 1; i-- {
				if len(gs[i].Captures) > 0 {
					rev = append(rev, gs[i].String())
				}
			}
		}
		rev = append(rev, string(rs[:prev]))
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		return rev, nil
	}
	var out []string
	prev := 0
	for _, m := range ms {
		out = append(out, string(rs[prev:m.Index()]))
		prev = m.Index() + m.Length()
		gs := m.m.Groups()
		for i := 1; i < len(gs); i++ {
			if len(gs[i].Captures) > 0 {
				out = append(out, gs[i].String())
			}
		}
	}
	return append(out, string(rs[prev:])), nil
}

// GroupCount is the number of groups, group 0 included.
func (r *Regex) GroupCount() int { return len(r.re.GetGroupNumbers()) }

// GroupNumber is the number of the group named name (-1 when none). A
// numeric name ("1") is that group's number.
func (r *Regex) GroupNumber(name string) int { return r.re.GroupNumberFromName(name) }

// GroupNames are the group names in number order ("0", "1", "name"...).
func (r *Regex) GroupNames() []string { return r.re.GetGroupNames() }

// Match is one match.
type Match struct {
	m *regexp2.Match
	r *Regex
	s string
}

// Value is the matched text.
func (m *Match) Value() string { return m.m.String() }

// Index is the match's start in code points.
func (m *Match) Index() int { return m.m.Index }

// Length is the match's length in code points.
func (m *Match) Length() int { return m.m.Length }

// Group is group i's last capture (ok false when the group did not
// participate or does not exist).
func (m *Match) Group(i int) (g Group, ok bool) {
	return group(m.m.GroupByNumber(i))
}

// Named is the named group's last capture.
func (m *Match) Named(name string) (g Group, ok bool) {
	return group(m.m.GroupByName(name))
}

func group(g *regexp2.Group) (Group, bool) {
	if g == nil || len(g.Captures) == 0 {
		return Group{}, false
	}
	out := Group{Value: g.String(), Index: g.Index, Length: g.Length}
	for _, c := range g.Captures {
		out.Captures = append(out.Captures, Group{Value: c.String(), Index: c.Index, Length: c.Length})
	}
	return out, true
}

// Next is the next match after m (nil when none), .NET's NextMatch.
func (m *Match) Next() (*Match, error) {
	n, err := m.r.re.FindNextMatch(m.m)
	return m.r.wrap(n, m.s, err)
}

// Result expands replacement ($1, ${name}, $$, $&, $`, $', $+, $_) for
// this match, .NET's Match.Result.
func (m *Match) Result(replacement string) string {
	var b strings.Builder
	text := []rune(m.input())
	for i := 0; i < len(replacement); i++ {
		c := replacement[i]
		if c != '$' || i+1 == len(replacement) {
			b.WriteByte(c)
			continue
		}
		n := replacement[i+1]
		switch {
		case n == '$':
			b.WriteByte('$')
			i++
		case n == '&':
			b.WriteString(m.Value())
			i++
		case n == '`':
			b.WriteString(string(text[:m.Index()]))
			i++
		case n == '\'':
			b.WriteString(string(text[m.Index()+m.Length():]))
			i++
		case n == '_':
			b.WriteString(string(text))
			i++
		case n == '+':
			gs := m.m.Groups()
			if len(gs) > 1 {
				if g, ok := group(&gs[len(gs)-1]); ok {
					b.WriteString(g.Value)
				}
			}
			i++
		case n >= '0' && n <= '9':
			// .NET takes the longest digit run that names a group.
			j := i + 1
			for j < len(replacement) && replacement[j] >= '0' && replacement[j] <= '9' {
				j++
			}
			k := j
			for ; k > i+1; k-- {
				if num := atoi(replacement[i+1 : k]); num >= 0 && m.m.GroupByNumber(num) != nil {
					break
				}
			}
			if k == i+1 {
				b.WriteByte('$')
				continue
			}
			g, _ := m.Group(atoi(replacement[i+1 : k]))
			b.WriteString(g.Value)
			i = k - 1
		case n == '{':
			end := strings.IndexByte(replacement[i+2:], '}')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := replacement[i+2 : i+2+end]
			num := m.r.re.GroupNumberFromName(name)
			if num < 0 {
				b.WriteByte('$')
				continue
			}
			g, _ := m.Group(num)
			b.WriteString(g.Value)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// input is the whole text the match was found in.
func (m *Match) input() string { return m.s }

func atoi(s string) int {
	if len(s) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Group is one group's capture.
type Group struct {
	Value  string
	Index  int // code points
	Length int // code points
	// Captures are every capture of the group, first to last (.NET's
	// Group.Captures: a quantified group captures more than once).
	Captures []Group
}

// Escape escapes the metacharacters of s (.NET's Regex.Escape).
func Escape(s string) string { return regexp2.Escape(s) }

// Unescape undoes Escape and expands \n, \t, \uXXXX... (.NET's
// Regex.Unescape).
func Unescape(s string) (string, error) { return regexp2.Unescape(s) }
