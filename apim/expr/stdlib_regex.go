package expr

// System.Text.RegularExpressions on internal/dotnetregex (a port of .NET's
// engine): lookaround, backreferences, named groups, RegexOptions, .NET's
// replacement syntax. Every match is bounded by dotnetregex.DefaultTimeout (a
// matchTimeout argument may lower it, not raise it);
// running out raises RegexMatchTimeoutException (uncaught: the expression
// fails and the policy goes to on-error). A pattern that does not compile
// raises ArgumentException; a constant one is reported when the
// expression compiles, at the pattern's line:col.

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

type regexVal struct{ re *dotnetregex.Regex }

func (*regexVal) csType() string     { return "Regex" }
func (r *regexVal) csString() string { return r.re.String() }

// regexMatch is a Match; m is nil for a failed match.
type regexMatch struct {
	re *dotnetregex.Regex
	m  *dotnetregex.Match
}

func (*regexMatch) csType() string { return "Match" }
func (m *regexMatch) value() string {
	if m.m == nil {
		return ""
	}
	return m.m.Value()
}

type regexGroup struct {
	g   dotnetregex.Group
	hit bool
}

func (*regexGroup) csType() string     { return "Group" }
func (g *regexGroup) csString() string { return g.value() }
func (g *regexGroup) value() string    { return g.g.Value }

type groupColl struct{ m *regexMatch }

func (*groupColl) csType() string { return "GroupCollection" }

// captureColl is a Group's CaptureCollection.
type captureColl struct{ cs []any }

func (*captureColl) csType() string { return "CaptureCollection" }
func (c *captureColl) items() []any { return c.cs }

type matchColl struct{ ms []any }

func (*matchColl) csType() string { return "MatchCollection" }
func (c *matchColl) items() []any { return c.ms }

// regexCache holds compiled patterns by options and pattern; it stops
// growing at maxCachedRegexes (patterns built from request data would
// otherwise fill it).
var (
	regexCache  sync.Map // string -> *dotnetregex.Regex
	regexCached atomic.Int32
)

const (
	maxCachedRegexes = 4096
	maxCachedLen     = 1024
)

func compileRegex(pattern string, opts int) (*dotnetregex.Regex, error) {
	return compileRegexTimeout(pattern, opts, 0)
}

// compileRegexTimeout is compileRegex with a matchTimeout argument (0:
// the default). A policy may lower the timeout, not raise it: a longer
// one is dotnetregex.DefaultTimeout.
func compileRegexTimeout(pattern string, opts int, timeout time.Duration) (*dotnetregex.Regex, error) {
	if timeout <= 0 || timeout > dotnetregex.DefaultTimeout {
		timeout = dotnetregex.DefaultTimeout
	}
	key := strconv.Itoa(opts) + ":" + strconv.FormatInt(int64(timeout), 10) + ":" + pattern
	if r, ok := regexCache.Load(key); ok {
		return r.(*dotnetregex.Regex), nil
	}
	re, err := dotnetregex.CompileTimeout(pattern, dotnetregex.Options(opts), timeout)
	if err != nil {
		var se *dotnetregex.SyntaxError
		if errors.As(err, &se) {
			return nil, throwf("ArgumentException", "Invalid pattern '%s': %s", pattern, se.Msg)
		}
		return nil, throwf("ArgumentException", "%v", err)
	}
	if len(pattern) < maxCachedLen && regexCached.Load() < maxCachedRegexes {
		if _, loaded := regexCache.LoadOrStore(key, re); !loaded {
			regexCached.Add(1)
		}
	}
	return re, nil
}

// regexErr turns a match error (a timeout) into .NET's exception.
func regexErr(err error) error {
	var te *dotnetregex.TimeoutError
	if errors.As(err, &te) {
		return throwf("RegexMatchTimeoutException", "The Regex engine has timed out while trying to match a pattern to an input string (pattern '%s', timeout %v). This can occur for many reasons, including very large inputs or excessive backtracking caused by nested quantifiers, back-references and other factors.", te.Pattern, te.Timeout)
	}
	return err
}

// regexTimeout is a TimeSpan matchTimeout argument (0 when none).
func regexTimeout(args []any) time.Duration {
	for _, a := range args {
		if d, ok := a.(time.Duration); ok {
			return d
		}
	}
	return 0
}

func regexOpts(args []any) int {
	for _, a := range args {
		if e, ok := a.(EnumValue); ok && e.Type == "RegexOptions" {
			return e.Value
		}
	}
	return 0
}

// regexPatternArg is the index of the pattern among the arguments of the
// static Regex methods (input, pattern, ...).
var regexStaticMethods = map[string]bool{"IsMatch": true, "Match": true, "Matches": true, "Split": true, "Replace": true}

// checkRegexArgs compiles a constant pattern when the expression compiles:
// Regex.M(input, "pattern"[, ..., RegexOptions.X | ...]) (ctor false) or
// new Regex("pattern"[, options]) (ctor true). An invalid pattern fails the
// compilation at the pattern's position; a valid one is cached.
func (c *compiler) checkRegexArgs(method string, ctor bool, args []argNode) {
	pi := 1
	if ctor {
		pi = 0
	} else if !regexStaticMethods[method] {
		return
	}
	if len(args) <= pi || args[pi].out || args[pi].name != "" {
		return
	}
	lit, ok := args[pi].x.(*litNode)
	if !ok {
		return
	}
	pattern, ok := lit.v.(string)
	if !ok {
		return
	}
	opts := 0
	for _, a := range args[pi+1:] {
		v, known, isOpt := c.constRegexOptions(a.x)
		if !known {
			return // options only known at run time
		}
		if isOpt {
			opts = v
		}
	}
	if _, err := compileRegex(pattern, opts); err != nil {
		msg := err.Error()
		var ce *csErr
		if errors.As(err, &ce) {
			msg = ce.msg
		}
		c.fail(lit.p, "%s", msg)
	}
}

// constRegexOptions evaluates a RegexOptions.X [| RegexOptions.Y ...]
// argument; known is false for anything else but a literal (a string
// replacement, a TimeSpan: isOpt false).
func (c *compiler) constRegexOptions(n node) (v int, known, isOpt bool) {
	switch x := n.(type) {
	case *litNode:
		return 0, true, false
	case *binaryNode:
		if x.op != "|" {
			return 0, false, false
		}
		a, ka, oa := c.constRegexOptions(x.l)
		b, kb, ob := c.constRegexOptions(x.r)
		return a | b, ka && kb && oa && ob, true
	case *memberNode:
		d, ok := c.dotted(x)
		if !ok {
			return 0, false, false
		}
		t, name := d, ""
		for i := len(d) - 1; i >= 0; i-- {
			if d[i] == '.' {
				t, name = d[:i], d[i+1:]
				break
			}
		}
		if canonType(t) != "RegexOptions" {
			return 0, false, false
		}
		p, ok := statics["RegexOptions"].props[name]
		if !ok {
			return 0, false, false
		}
		ev, err := p.get(nil)
		if e, isEnum := ev.(EnumValue); err == nil && isEnum {
			return e.Value, true, true
		}
	}
	return 0, false, false
}

func newMatch(re *dotnetregex.Regex, m *dotnetregex.Match, err error) (any, error) {
	if err != nil {
		return nil, regexErr(err)
	}
	return &regexMatch{re: re, m: m}, nil
}

func allMatches(re *dotnetregex.Regex, s string) (any, error) {
	ms, err := re.Matches(s, maxArrayLen)
	if err != nil {
		return nil, regexErr(err)
	}
	c := &matchColl{}
	for _, m := range ms {
		c.ms = append(c.ms, &regexMatch{re: re, m: m})
	}
	return c, nil
}

func isMatch(re *dotnetregex.Regex, s string, _ []any) (any, error) {
	ok, err := re.IsMatch(s)
	return ok, regexErr(err)
}

func firstMatch(re *dotnetregex.Regex, s string, _ []any) (any, error) {
	m, err := re.Match(s)
	return newMatch(re, m, err)
}

func matchesOf(re *dotnetregex.Regex, s string, _ []any) (any, error) { return allMatches(re, s) }

func splitOf(re *dotnetregex.Regex, s string, _ []any) (any, error) {
	parts, err := re.Split(s)
	if err != nil {
		return nil, regexErr(err)
	}
	return parts, nil
}

func replaceOf(re *dotnetregex.Regex, s string, rest []any) (any, error) {
	r, err := strArg(rest, 0)
	if err != nil {
		return nil, err
	}
	out, err := re.Replace(s, r)
	if err != nil {
		return nil, regexErr(err)
	}
	return checkLen(out)
}

func regexStatics() {
	rx := static("Regex")
	// input, pattern[, replacement][, options]
	withRe := func(n int, f func(re *dotnetregex.Regex, s string, rest []any) (any, error)) func(*env, []string, []any) (any, error) {
		return func(e *env, _ []string, args []any) (any, error) {
			if len(args) < n {
				return nil, errArgs("Regex", len(args))
			}
			s, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			if args[0] == nil {
				return nil, errArgNull("input")
			}
			p, err := strArg(args, 1)
			if err != nil {
				return nil, err
			}
			re, err := compileRegexTimeout(p, regexOpts(args[2:]), regexTimeout(args[2:]))
			if err != nil {
				return nil, err
			}
			return f(re, s, args[2:])
		}
	}
	rx.m("IsMatch", "bool", withRe(2, isMatch))
	rx.m("Match", "Match", withRe(2, firstMatch))
	rx.m("Matches", "MatchCollection", withRe(2, matchesOf))
	rx.m("Split", "string[]", withRe(2, splitOf))
	rx.m("Replace", "string", withRe(3, replaceOf))
	rx.m("Escape", "string", s1(func(s string) (any, error) { return dotnetregex.Escape(s), nil }))
	rx.m("Unescape", "string", s1(func(s string) (any, error) {
		u, err := dotnetregex.Unescape(s)
		if err != nil {
			return nil, throwf("ArgumentException", "Invalid pattern '%s': %v", s, err)
		}
		return u, nil
	}))
	rx.new(func(e *env, _ []string, args []any) (any, error) {
		p, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		re, err := compileRegexTimeout(p, regexOpts(args[1:]), regexTimeout(args[1:]))
		if err != nil {
			return nil, err
		}
		return &regexVal{re}, nil
	})
	rt := typ("Regex")
	inst := func(name, t string, f func(re *dotnetregex.Regex, s string, rest []any) (any, error)) {
		rt.method(name, t, func(e *env, v any, _ []string, args []any) (any, error) {
			s, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			if len(args) == 0 || args[0] == nil {
				return nil, errArgNull("input")
			}
			return f(v.(*regexVal).re, s, args[1:])
		})
	}
	inst("IsMatch", "bool", isMatch)
	inst("Match", "Match", firstMatch)
	inst("Matches", "MatchCollection", matchesOf)
	inst("Split", "string[]", splitOf)
	inst("Replace", "string", replaceOf)

	mt := typ("Match", "Group")
	mt.prop("Groups", "GroupCollection", get(func(m *regexMatch) any { return &groupColl{m} }))
	mt.method("NextMatch", "Match", m0(func(v any) (any, error) {
		m := v.(*regexMatch)
		if m.m == nil {
			return m, nil
		}
		n, err := m.m.Next()
		return newMatch(m.re, n, err)
	}))
	mt.method("Result", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		m := v.(*regexMatch)
		r, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if m.m == nil {
			return nil, throwf("NotSupportedException", "Result cannot be called on a failed Match.")
		}
		return checkLen(m.m.Result(r))
	})
	gt := typ("Group")
	gt.prop("Success", "bool", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			return x.m != nil, nil
		case *regexGroup:
			return x.hit, nil
		}
		return false, nil
	})
	gt.prop("Value", "string", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			return x.value(), nil
		case *regexGroup:
			return x.value(), nil
		}
		return "", nil
	})
	gt.prop("Index", "int", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			if x.m == nil {
				return int32(0), nil
			}
			return int32(x.m.Index()), nil
		case *regexGroup:
			return int32(x.g.Index), nil
		}
		return int32(0), nil
	})
	gt.prop("Length", "int", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			if x.m == nil {
				return int32(0), nil
			}
			return int32(x.m.Length()), nil
		case *regexGroup:
			return int32(x.g.Length), nil
		}
		return int32(0), nil
	})
	gt.prop("Captures", "CaptureCollection", func(e *env, v any) (any, error) {
		var g dotnetregex.Group
		switch x := v.(type) {
		case *regexMatch:
			if x.m != nil {
				g, _ = x.m.Group(0)
			}
		case *regexGroup:
			g = x.g
		}
		c := &captureColl{cs: []any{}}
		for _, cp := range g.Captures {
			c.cs = append(c.cs, &regexGroup{g: cp, hit: true})
		}
		return c, nil
	})
	typ("Capture", "Group")
	cc := typ("CaptureCollection", "IEnumerable")
	cc.prop("Count", "int", get(func(c *captureColl) any { return int32(len(c.cs)) }))
	cc.index = func(e *env, v any, args []any) (any, error) {
		c := v.(*captureColl)
		i, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(c.cs) {
			return nil, errRange("i")
		}
		return c.cs[i], nil
	}
	gc := typ("GroupCollection")
	gc.prop("Count", "int", get(func(g *groupColl) any { return int32(g.m.re.GroupCount()) }))
	gc.index = func(e *env, v any, args []any) (any, error) {
		m := v.(*groupColl).m
		if m.m == nil {
			return &regexGroup{}, nil
		}
		var g dotnetregex.Group
		var ok bool
		if s, isStr := argAt(args, 0).(string); isStr {
			g, ok = m.m.Named(s)
		} else if n, err := intArg(args, 0); err == nil {
			g, ok = m.m.Group(n)
		}
		if !ok {
			return &regexGroup{}, nil
		}
		return &regexGroup{g: g, hit: true}, nil
	}
	gc.indexT = "Group"
	mc := typ("MatchCollection", "IEnumerable")
	mc.prop("Count", "int", get(func(c *matchColl) any { return int32(len(c.ms)) }))
	mc.index = func(e *env, v any, args []any) (any, error) {
		c := v.(*matchColl)
		i, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(c.ms) {
			return nil, errRange("i")
		}
		return c.ms[i], nil
	}
}
