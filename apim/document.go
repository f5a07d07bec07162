package apim

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// Problem is one load error.
type Problem struct {
	File string
	Pos  rawxml.Pos
	Msg  string
}

func (p Problem) Error() string { return p.File + ":" + p.Pos.String() + ": " + p.Msg }

// Problems is every load error of a document; it is the error type returned
// by Parse*.
type Problems []Problem

func (ps Problems) Error() string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += "\n"
		}
		s += p.Error()
	}
	return s
}

// NamedValue is a gateway named value; secret values are never logged.
type NamedValue struct {
	Value  string
	Secret bool
}

// LoadOptions are what a document may refer to.
type LoadOptions struct {
	NamedValues map[string]NamedValue
	Fragments   map[string]*Document // by fragment id, already parsed with ParseFragment
	// Lenient is for `gatehouse policy check`: unknown named values and
	// fragments are not errors (they are placeholders of another environment).
	Lenient bool
	// ManagedIdentity lists the identities of the gateway's token source
	// (gateway.managedIdentity); nil when none is configured.
	ManagedIdentity *ManagedIdentityOptions
	// Backends are the backend entities by id (gateway.backends), for
	// set-backend-service backend-id.
	Backends map[string]*BackendEntity
	// Spec is the OpenAPI specification of the API whose documents are
	// loaded (nil: none), for the validation policies.
	Spec *OpenAPISpec
	// Schemas are the gateway's named schemas (gateway.schemas) by id,
	// for validate-content's schema-id.
	Schemas map[string]*NamedSchema
}

// Document is a compiled <policies> or <fragment>.
type Document struct {
	file  string
	scope Scope
	// sections[s] is nil when the document has no such section element;
	// it then behaves as a section holding only <base/> (see NewPipeline).
	sections [4]*[]Policy
	// root is kept for fragments: include-fragment compiles the fragment's
	// elements again in the section and scope that include it, so that
	// section rules and LastError.Scope are those of the including document.
	root *rawxml.Node
}

var sectionNames = map[string]Section{"inbound": Inbound, "backend": Backend, "outbound": Outbound, "on-error": OnError}

func parseRoot(file string, src []byte) (*rawxml.Node, error) {
	root, err := rawxml.Parse(src)
	if err != nil {
		var xe *rawxml.Error
		if errors.As(err, &xe) {
			return nil, Problems{{File: file, Pos: xe.Pos, Msg: xe.Msg}}
		}
		return nil, Problems{{File: file, Pos: rawxml.Pos{Line: 1, Col: 1}, Msg: err.Error()}}
	}
	return root, nil
}

// ParseDocument compiles a <policies> document at scope.
func ParseDocument(file string, src []byte, scope Scope, opts *LoadOptions) (*Document, error) {
	root, err := parseRoot(file, src)
	if err != nil {
		return nil, err
	}
	ld := newLoader(opts)
	b := &Builder{File: file, Scope: scope, ld: ld}
	if root.Name != "policies" {
		return nil, Problems{{file, root.Pos, "root element must be <policies>, found <" + root.Name + ">"}}
	}
	if len(root.Attrs) > 0 {
		b.add(root.Pos, b.Errorf(root.Attrs[0].Pos, "unknown attribute %q on <policies>", root.Attrs[0].Name))
	}
	d := &Document{file: file, scope: scope}
	for _, sn := range root.Children {
		sec, ok := sectionNames[sn.Name]
		if !ok {
			b.add(sn.Pos, b.Errorf(sn.Pos, "unknown section <%s> (allowed: inbound, backend, outbound, on-error)", sn.Name))
			continue
		}
		if d.sections[sec] != nil {
			b.add(sn.Pos, b.Errorf(sn.Pos, "section <%s> appears twice", sn.Name))
			continue
		}
		if len(sn.Attrs) > 0 {
			b.add(sn.Pos, b.Errorf(sn.Attrs[0].Pos, "unknown attribute %q on <%s>", sn.Attrs[0].Name, sn.Name))
		}
		ld.indexPaths(sn, "")
		sb := &Builder{File: file, Scope: scope, Section: sec, ld: ld}
		ps := []Policy{}
		for _, n := range sn.Children {
			p, err := sb.compile(n, true)
			if err != nil {
				sb.add(n.Pos, err)
				continue
			}
			ps = append(ps, p)
		}
		linkRateLimits(ps)
		d.sections[sec] = &ps
	}
	if len(ld.problems) > 0 {
		return nil, ld.problems
	}
	return d, nil
}

// ParseFragment compiles a <fragment> document. Its policies are checked
// here with section rules relaxed (a fragment does not know where it will be
// included) and compiled again, with full checks, by each include-fragment.
func ParseFragment(file string, src []byte, opts *LoadOptions) (*Document, error) {
	root, err := parseRoot(file, src)
	if err != nil {
		return nil, err
	}
	if root.Name != "fragment" {
		return nil, Problems{{file, root.Pos, "root element must be <fragment>, found <" + root.Name + ">"}}
	}
	ld := newLoader(opts)
	b := &Builder{File: file, Scope: ScopeFragment, ld: ld, anySection: true}
	if err := b.Attrs(root); err != nil {
		b.add(root.Pos, err)
	}
	ld.indexPaths(root, "")
	if _, err := b.Policies(root.Children); err != nil {
		b.add(root.Pos, err)
	}
	if len(ld.problems) > 0 {
		return nil, ld.problems
	}
	return &Document{file: file, scope: ScopeFragment, root: root}, nil
}

// Pipeline is the effective policy for one route: the documents of every
// scope merged through <base/>.
type Pipeline struct {
	sections  [4][]Policy
	preflight []*step // inbound policies that answer CORS preflights
}

// NewPipeline merges documents from the broadest scope to the narrowest;
// nil documents are skipped (a missing scope behaves as <base/> everywhere).
// A document without some section element also inherits that section whole:
// APIM's tooling always writes all four sections, and dropping the global
// forward-request because an API file omitted <backend> would silently stop
// every backend call.
func NewPipeline(docs ...*Document) *Pipeline {
	p := &Pipeline{}
	for s := range p.sections {
		p.sections[s] = effective(docs, len(docs)-1, Section(s))
	}
	for _, pol := range p.sections[Inbound] {
		if st, ok := pol.(*step); ok {
			if _, ok := st.p.(Preflighter); ok {
				p.preflight = append(p.preflight, st)
			}
		}
	}
	return p
}

// effective returns section s of docs[i] with <base/> replaced by the
// broader scopes' section, and top-level include-fragment inlined (so a cors
// inside a fragment still answers preflights).
func effective(docs []*Document, i int, s Section) []Policy {
	if i < 0 {
		return nil
	}
	d := docs[i]
	if d == nil || d.sections[s] == nil {
		return effective(docs, i-1, s)
	}
	var out []Policy
	for _, pol := range *d.sections[s] {
		if _, ok := pol.(baseMarker); ok {
			out = append(out, effective(docs, i-1, s)...)
			continue
		}
		out = append(out, flatten(pol)...)
	}
	return out
}

func flatten(pol Policy) []Policy {
	if st, ok := pol.(*step); ok {
		if inc, ok := st.p.(*includeFragment); ok {
			var out []Policy
			for _, q := range inc.policies {
				out = append(out, flatten(q)...)
			}
			return out
		}
	}
	return []Policy{pol}
}

// NewExec prepares the state for one request.
func NewExec(env *Env, r *http.Request, c *expr.Context) *Exec {
	return &Exec{Ctx: c, Env: env, HTTPRequest: r}
}

func defaultLogger() *slog.Logger { return slog.Default() }
