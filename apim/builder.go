package apim

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// Builder is handed to each CompileFunc. It knows the file, scope and section
// being compiled, substitutes named values and compiles expressions.
type Builder struct {
	File    string
	Scope   Scope
	Section Section

	ld *loader
	// anySection is set while a <fragment> is compiled on its own: the
	// section it will be included in is not known yet, so section checks
	// wait until include-fragment compiles it again in place.
	anySection bool
	// liquid makes Text substitute only named values that exist, because
	// {{ ... }} is also Liquid's output syntax.
	liquid bool
}

// loader is the state shared by every Builder of one Parse* call.
type loader struct {
	opts     *LoadOptions
	problems Problems
	// paths holds each policy element's LastError.Path, computed once per
	// tree in XPath style: name[i] where i counts same-named siblings.
	paths map[*rawxml.Node]string
	// fragStack is the chain of include-fragment ids being expanded, to
	// report cycles instead of recursing forever.
	fragStack []string
	// secrets are the secret named values this document substituted; they
	// are scrubbed from every message.
	secrets []string
	// once records where each OncePerDocument policy first appeared.
	once map[string]rawxml.Pos
}

// errReported means the problems were already recorded in the loader; it
// keeps nested compilers from recording the same problem twice.
var errReported = errors.New("apim: problems reported")

func newLoader(opts *LoadOptions) *loader {
	if opts == nil {
		opts = &LoadOptions{}
	}
	return &loader{opts: opts, paths: map[*rawxml.Node]string{}}
}

// add records err (a Problem, Problems, errReported or anything else, which
// is placed at pos).
func (b *Builder) add(pos rawxml.Pos, err error) {
	var p Problem
	var ps Problems
	switch {
	case err == nil, errors.Is(err, errReported):
	case errors.As(err, &ps):
		b.ld.problems = append(b.ld.problems, ps...)
	case errors.As(err, &p):
		b.ld.problems = append(b.ld.problems, p)
	default:
		b.ld.problems = append(b.ld.problems, Problem{b.File, pos, b.scrub(err.Error())})
	}
}

// scrub removes secret named values from a message (defence in depth: the
// expression compiler may quote source text).
func (b *Builder) scrub(s string) string {
	if b.ld == nil {
		return s
	}
	for _, v := range b.ld.secrets {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

// Errorf returns a load error at pos ("file:line:col: message").
func (b *Builder) Errorf(pos rawxml.Pos, format string, args ...any) error {
	return Problem{File: b.File, Pos: pos, Msg: b.scrub(fmt.Sprintf(format, args...))}
}

// Attrs rejects any attribute of n not in allowed (the common "id" attribute
// every policy may carry is always allowed).
func (b *Builder) Attrs(n *rawxml.Node, allowed ...string) error {
	for _, a := range n.Attrs {
		if a.Name != "id" && !slices.Contains(allowed, a.Name) {
			return b.Errorf(a.Pos, "unknown attribute %q on <%s>", a.Name, n.Name)
		}
	}
	return nil
}

// Children rejects any child element of n not in allowed.
func (b *Builder) Children(n *rawxml.Node, allowed ...string) error {
	for _, c := range n.Children {
		if !slices.Contains(allowed, c.Name) {
			if len(allowed) == 0 {
				return b.Errorf(c.Pos, "<%s> takes no child elements, found <%s>", n.Name, c.Name)
			}
			return b.Errorf(c.Pos, "unknown element <%s> inside <%s> (allowed: %s)", c.Name, n.Name, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Attr returns attribute name of n with named values substituted and an
// expression compiled; Value.Set is false when absent.
func (b *Builder) Attr(n *rawxml.Node, name string) (Value, error) {
	a, ok := n.Attr(name)
	if !ok {
		return Value{Pos: n.Pos}, nil
	}
	return b.value(a.Value, a.ValuePos)
}

// ConstAttr is Attr for attributes where APIM allows no expression: an
// expression is a load error.
func (b *Builder) ConstAttr(n *rawxml.Node, name string) (Value, error) {
	v, err := b.Attr(n, name)
	if err != nil {
		return v, err
	}
	if v.IsExpr() {
		return v, b.Errorf(v.Pos, "attribute %q of <%s> does not accept expressions", name, n.Name)
	}
	return v, nil
}

// Text returns the element text of n as a Value (named values substituted,
// expression compiled).
func (b *Builder) Text(n *rawxml.Node) (Value, error) {
	pos := n.TextPos
	if pos.Line == 0 {
		pos = n.Pos
	}
	return b.value(n.Text, pos)
}

// leafText is Text for an element that takes no attributes (but id) and no
// child elements.
func (b *Builder) leafText(n *rawxml.Node) (Value, error) {
	if err := b.Attrs(n); err != nil {
		return Value{}, err
	}
	if err := b.Children(n); err != nil {
		return Value{}, err
	}
	return b.Text(n)
}

// Policies compiles nested policy elements (the bodies of when, otherwise,
// retry ...) in the builder's section and scope. Problems of every element
// are recorded; the error is non-nil when there was any.
func (b *Builder) Policies(nodes []*rawxml.Node) ([]Policy, error) {
	var out []Policy
	failed := false
	for _, n := range nodes {
		p, err := b.compile(n, false)
		if err != nil {
			b.add(n.Pos, err)
			failed = true
			continue
		}
		out = append(out, p)
	}
	if failed {
		return out, errReported
	}
	linkRateLimits(out)
	return out, nil
}

// baseMarker stands for <base/> in a compiled section until NewPipeline
// replaces it with the broader scope's section.
type baseMarker struct{}

func (baseMarker) Exec(*Exec) error { return nil }

// compile compiles one policy element; top is true for direct children of a
// section, the only place <base/> may appear.
func (b *Builder) compile(n *rawxml.Node, top bool) (Policy, error) {
	if n.Name == "base" {
		if !top || b.Scope == ScopeFragment {
			return nil, b.Errorf(n.Pos, "<base/> may only appear directly inside a section of a <policies> document")
		}
		if len(n.Attrs) > 0 || len(n.Children) > 0 {
			return nil, b.Errorf(n.Pos, "<base/> takes no attributes or children")
		}
		return baseMarker{}, nil
	}
	spec, ok := registry[n.Name]
	if !ok {
		return nil, b.Errorf(n.Pos, "unknown policy <%s>", n.Name)
	}
	if spec.AzureOnly != "" {
		return nil, b.Errorf(n.Pos, "policy %s is not available self-hosted: %s", n.Name, spec.AzureOnly)
	}
	if spec.Unsupported != "" {
		return nil, b.Errorf(n.Pos, "policy %s is not supported yet: %s", n.Name, spec.Unsupported)
	}
	if !b.anySection && spec.Sections != nil && !slices.Contains(spec.Sections, b.Section) {
		return nil, b.Errorf(n.Pos, "policy %s is not allowed in section %s (allowed: %s)", n.Name, b.Section, joinSections(spec.Sections))
	}
	if spec.Scopes != nil && b.Scope != ScopeFragment && !slices.Contains(spec.Scopes, b.Scope) {
		return nil, b.Errorf(n.Pos, "policy %s is not allowed at %s scope", n.Name, b.Scope)
	}
	if spec.OncePerDocument {
		if b.ld.once == nil {
			b.ld.once = map[string]rawxml.Pos{}
		}
		if first, dup := b.ld.once[n.Name]; dup {
			return nil, b.Errorf(n.Pos, "policy %s may appear only once per policy document (first at %s)", n.Name, first)
		}
		b.ld.once[n.Name] = n.Pos
	}
	p, err := spec.Compile(b, n)
	if err != nil {
		return nil, err
	}
	id, _ := n.Attr("id")
	return &step{p: p, name: n.Name, id: id.Value, path: b.path(n), scope: b.Scope, section: b.Section}, nil
}

func joinSections(ss []Section) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ", ")
}

// path returns n's LastError.Path.
func (b *Builder) path(n *rawxml.Node) string {
	if p, ok := b.ld.paths[n]; ok {
		return p
	}
	return n.Name + "[1]"
}

// indexPaths records the path of every element below a section (or
// fragment) element; prefix is the parent's path.
func (l *loader) indexPaths(parent *rawxml.Node, prefix string) {
	count := map[string]int{}
	for _, c := range parent.Children {
		count[c.Name]++
		p := fmt.Sprintf("%s[%d]", c.Name, count[c.Name])
		if prefix != "" {
			p = prefix + "/" + p
		}
		l.paths[c] = p
		l.indexPaths(c, p)
	}
}

// namedRef matches {{name}}; APIM names use letters, digits, '.', '-', '_'.
var namedRef = regexp.MustCompile(`\{\{([A-Za-z0-9._\-]+)\}\}`)

// seg maps a substituted region of a value back to its source.
type seg struct{ outStart, outEnd, inStart, inEnd int }

// substitute replaces named-value references in s. Undefined names are an
// error unless the load is lenient (they are then left as written) or the
// text is a Liquid template (where {{x}} is Liquid's own syntax).
func (b *Builder) substitute(s string, pos rawxml.Pos) (string, []seg, bool, error) {
	if !strings.Contains(s, "{{") {
		return s, nil, false, nil
	}
	var out strings.Builder
	var segs []seg
	secret := false
	last := 0
	for _, m := range namedRef.FindAllStringSubmatchIndex(s, -1) {
		name := s[m[2]:m[3]]
		nv, ok := b.ld.opts.NamedValues[name]
		if !ok {
			if b.liquid || b.ld.opts.Lenient {
				continue
			}
			return "", nil, false, b.Errorf(posAt(s, pos, m[0]), "named value '%s' is not defined", name)
		}
		if nv.Secret {
			secret = true
			if !slices.Contains(b.ld.secrets, nv.Value) {
				b.ld.secrets = append(b.ld.secrets, nv.Value)
			}
		}
		out.WriteString(s[last:m[0]])
		start := out.Len()
		out.WriteString(nv.Value)
		segs = append(segs, seg{start, out.Len(), m[0], m[1]})
		last = m[1]
	}
	out.WriteString(s[last:])
	return out.String(), segs, secret, nil
}

// mapBack converts a byte offset in substituted text to one in the source.
func mapBack(segs []seg, off int) int {
	shift := 0
	for _, g := range segs {
		if off < g.outStart {
			return off - shift
		}
		if off < g.outEnd {
			return g.inStart
		}
		shift = g.outEnd - g.inEnd
	}
	return off - shift
}

// posAt returns the position of byte offset off of s, where s starts at start.
func posAt(s string, start rawxml.Pos, off int) rawxml.Pos {
	return start.Advance(s[:min(off, len(s))])
}

// offsetOf converts a 1-based line and rune column in s to a byte offset.
func offsetOf(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return len(s)
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(s); c++ {
		if s[off] == '\n' {
			break
		}
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// value substitutes named values in raw (found at pos) and compiles it when
// it is an expression.
func (b *Builder) value(raw string, pos rawxml.Pos) (Value, error) {
	s, segs, secret, err := b.substitute(raw, pos)
	if err != nil {
		return Value{}, err
	}
	v := Value{Set: true, Lit: s, Pos: pos}
	if !expr.IsExpression(s) {
		return v, nil
	}
	src := strings.TrimSpace(s)
	lead := strings.Index(s, src)
	prog, err := expr.Compile(src)
	if err != nil && b.ld.opts.Lenient && namedRef.MatchString(src) {
		// Lenient check: an undefined named value spliced into code
		// (AddSeconds({{ttl}})) is a placeholder of another environment;
		// compile with a neutral literal in its place to check the rest.
		if p2, err2 := expr.Compile(namedRef.ReplaceAllString(src, "0")); err2 == nil {
			prog, err = p2, nil
		}
	}
	if err != nil {
		var se *expr.SyntaxError
		at := pos
		msg := err.Error()
		if errors.As(err, &se) {
			at = posAt(raw, pos, mapBack(segs, lead+offsetOf(src, se.Line, se.Col)))
			msg = se.Msg
		}
		if secret {
			// The message may quote the offending source, which contains
			// a secret: give only the position.
			return v, b.Errorf(at, "expression does not compile (details withheld: it uses a secret named value)")
		}
		return v, b.Errorf(at, "expression: %s", msg)
	}
	v.Prog = prog
	return v, nil
}
