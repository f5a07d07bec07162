package expr

// System.Text.RegularExpressions on Go's regexp (RE2): no backreferences
// or lookaround; patterns that RE2 rejects raise ArgumentException.
// Named groups (?<name>...) are accepted and rewritten to (?P<name>...).

import (
	"regexp"
	"strings"
	"sync"
)

type regexVal struct{ re *regexp.Regexp }

func (*regexVal) csType() string { return "Regex" }

type regexMatch struct {
	re   *regexp.Regexp
	s    string
	idx  []int // submatch byte offsets; nil when no match
	from int
}

func (*regexMatch) csType() string { return "Match" }
func (m *regexMatch) value() string {
	if m.idx == nil {
		return ""
	}
	return m.s[m.idx[0]:m.idx[1]]
}

type regexGroup struct {
	s   string
	lo  int
	hi  int
	hit bool
}

func (*regexGroup) csType() string     { return "Group" }
func (g *regexGroup) csString() string { return g.value() }
func (g *regexGroup) value() string {
	if !g.hit {
		return ""
	}
	return g.s[g.lo:g.hi]
}

type groupColl struct{ m *regexMatch }

func (*groupColl) csType() string { return "GroupCollection" }

type matchColl struct{ ms []any }

func (*matchColl) csType() string { return "MatchCollection" }
func (c *matchColl) items() []any { return c.ms }

var regexCache sync.Map // pattern+flags -> *regexp.Regexp

func compileRegex(pattern string, opts int) (*regexp.Regexp, error) {
	key := string(rune('0'+opts%64)) + pattern
	if r, ok := regexCache.Load(key); ok {
		return r.(*regexp.Regexp), nil
	}
	p := strings.ReplaceAll(pattern, "(?<", "(?P<")
	p = strings.ReplaceAll(p, "(?P<=", "(?<=")
	p = strings.ReplaceAll(p, "(?P<!", "(?<!")
	flags := ""
	if opts&1 != 0 {
		flags += "i"
	}
	if opts&2 != 0 {
		flags += "m"
	}
	if opts&16 != 0 {
		flags += "s"
	}
	if flags != "" {
		p = "(?" + flags + ")" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, throwf("ArgumentException", "Invalid pattern '%s': %s", pattern, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if len(pattern) < 1024 {
		regexCache.Store(key, re)
	}
	return re, nil
}

func regexOpts(args []any) int {
	for _, a := range args {
		if e, ok := a.(EnumValue); ok && e.Type == "RegexOptions" {
			return e.Value
		}
	}
	return 0
}

func newMatch(re *regexp.Regexp, s string, from int) *regexMatch {
	idx := re.FindStringSubmatchIndex(s[from:])
	for i := range idx {
		if idx[i] >= 0 {
			idx[i] += from
		}
	}
	return &regexMatch{re: re, s: s, idx: idx, from: from}
}

func allMatches(re *regexp.Regexp, s string) *matchColl {
	c := &matchColl{}
	for _, idx := range re.FindAllStringSubmatchIndex(s, maxArrayLen) {
		c.ms = append(c.ms, &regexMatch{re: re, s: s, idx: idx})
	}
	return c
}

func regexStatics() {
	rx := static("Regex")
	// input, pattern[, replacement][, options]
	withRe := func(n int, f func(re *regexp.Regexp, s string, rest []any) (any, error)) func(*env, []string, []any) (any, error) {
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
			re, err := compileRegex(p, regexOpts(args[2:]))
			if err != nil {
				return nil, err
			}
			return f(re, s, args[2:])
		}
	}
	rx.m("IsMatch", "bool", withRe(2, func(re *regexp.Regexp, s string, _ []any) (any, error) { return re.MatchString(s), nil }))
	rx.m("Match", "Match", withRe(2, func(re *regexp.Regexp, s string, _ []any) (any, error) { return newMatch(re, s, 0), nil }))
	rx.m("Matches", "MatchCollection", withRe(2, func(re *regexp.Regexp, s string, _ []any) (any, error) { return allMatches(re, s), nil }))
	rx.m("Split", "string[]", withRe(2, func(re *regexp.Regexp, s string, _ []any) (any, error) { return re.Split(s, -1), nil }))
	rx.m("Replace", "string", withRe(3, func(re *regexp.Regexp, s string, rest []any) (any, error) {
		r, err := strArg(rest, 0)
		if err != nil {
			return nil, err
		}
		return checkLen(re.ReplaceAllString(s, netReplacement(r)))
	}))
	rx.m("Escape", "string", s1(func(s string) (any, error) { return regexp.QuoteMeta(s), nil }))
	rx.m("Unescape", "string", s1(func(s string) (any, error) { return unescapeRegex(s), nil }))
	rx.new(func(e *env, _ []string, args []any) (any, error) {
		p, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		re, err := compileRegex(p, regexOpts(args[1:]))
		if err != nil {
			return nil, err
		}
		return &regexVal{re}, nil
	})
	rt := typ("Regex")
	inst := func(name, t string, f func(re *regexp.Regexp, s string, rest []any) (any, error)) {
		rt.method(name, t, func(e *env, v any, _ []string, args []any) (any, error) {
			s, err := strArg(args, 0)
			if err != nil {
				return nil, err
			}
			return f(v.(*regexVal).re, s, args[1:])
		})
	}
	inst("IsMatch", "bool", func(re *regexp.Regexp, s string, _ []any) (any, error) { return re.MatchString(s), nil })
	inst("Match", "Match", func(re *regexp.Regexp, s string, _ []any) (any, error) { return newMatch(re, s, 0), nil })
	inst("Matches", "MatchCollection", func(re *regexp.Regexp, s string, _ []any) (any, error) { return allMatches(re, s), nil })
	inst("Split", "string[]", func(re *regexp.Regexp, s string, _ []any) (any, error) { return re.Split(s, -1), nil })
	inst("Replace", "string", func(re *regexp.Regexp, s string, rest []any) (any, error) {
		r, err := strArg(rest, 0)
		if err != nil {
			return nil, err
		}
		return checkLen(re.ReplaceAllString(s, netReplacement(r)))
	})

	mt := typ("Match", "Group")
	mt.prop("Groups", "GroupCollection", get(func(m *regexMatch) any { return &groupColl{m} }))
	mt.method("NextMatch", "Match", m0(func(v any) (any, error) {
		m := v.(*regexMatch)
		if m.idx == nil {
			return m, nil
		}
		from := m.idx[1]
		if m.idx[1] == m.idx[0] {
			from++
		}
		if from > len(m.s) {
			return &regexMatch{re: m.re, s: m.s}, nil
		}
		return newMatch(m.re, m.s, from), nil
	}))
	mt.method("Result", "string", func(e *env, v any, _ []string, args []any) (any, error) {
		m := v.(*regexMatch)
		r, err := strArg(args, 0)
		if err != nil {
			return nil, err
		}
		if m.idx == nil {
			return nil, throwf("NotSupportedException", "Result cannot be called on a failed Match.")
		}
		return string(m.re.ExpandString(nil, netReplacement(r), m.s, m.idx)), nil
	})
	gt := typ("Group")
	gt.prop("Success", "bool", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			return x.idx != nil, nil
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
			if x.idx == nil {
				return int32(0), nil
			}
			return int32(runeIndex(x.s, x.idx[0])), nil
		case *regexGroup:
			return int32(runeIndex(x.s, x.lo)), nil
		}
		return int32(0), nil
	})
	gt.prop("Length", "int", func(e *env, v any) (any, error) {
		switch x := v.(type) {
		case *regexMatch:
			return int32(strLen(x.value())), nil
		case *regexGroup:
			return int32(strLen(x.value())), nil
		}
		return int32(0), nil
	})
	gc := typ("GroupCollection")
	gc.prop("Count", "int", get(func(g *groupColl) any { return int32(g.m.re.NumSubexp() + 1) }))
	gc.index = func(e *env, v any, args []any) (any, error) {
		m := v.(*groupColl).m
		i := -1
		if s, ok := argAt(args, 0).(string); ok {
			i = m.re.SubexpIndex(s)
		} else if n, err := intArg(args, 0); err == nil {
			i = n
		}
		if m.idx == nil || i < 0 || 2*i+1 >= len(m.idx) || m.idx[2*i] < 0 {
			return &regexGroup{s: m.s}, nil
		}
		return &regexGroup{s: m.s, lo: m.idx[2*i], hi: m.idx[2*i+1], hit: true}, nil
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

func unescapeRegex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
