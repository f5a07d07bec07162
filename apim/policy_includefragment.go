package apim

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// include-fragment fragment-id: the fragment's policies are compiled in
// place, in the including section and scope, so section rules, LastError
// Scope and <base/> merging work as if they were written there. Fragments may
// include fragments; a cycle is a load error. An unknown fragment id is a
// load error unless the load is lenient (the include then does nothing).

func init() {
	Register(Spec{Name: "include-fragment", Compile: compileIncludeFragment})
}

type includeFragment struct {
	id       string
	policies []Policy
}

func compileIncludeFragment(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "fragment-id"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	v, err := b.ConstAttr(n, "fragment-id")
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(v.Lit)
	if id == "" {
		return nil, b.Errorf(n.Pos, "include-fragment: attribute \"fragment-id\" is required")
	}
	frag := b.ld.opts.Fragments[id]
	if frag == nil || frag.root == nil {
		if b.ld.opts.Lenient {
			return &includeFragment{id: id}, nil
		}
		return nil, b.Errorf(v.Pos, "fragment '%s' is not defined", id)
	}
	if slices.Contains(b.ld.fragStack, id) {
		return nil, b.Errorf(n.Pos, "fragment cycle: %s -> %s", strings.Join(b.ld.fragStack, " -> "), id)
	}
	b.ld.fragStack = append(b.ld.fragStack, id)
	defer func() { b.ld.fragStack = b.ld.fragStack[:len(b.ld.fragStack)-1] }()
	if _, ok := b.ld.paths[frag.root]; !ok {
		b.ld.paths[frag.root] = ""
		b.ld.indexPaths(frag.root, "")
	}
	fb := *b
	fb.File = frag.file
	ps, err := fb.Policies(frag.root.Children)
	if err != nil {
		return nil, err
	}
	return &includeFragment{id: id, policies: ps}, nil
}

func (p *includeFragment) Exec(x *Exec) error { return Run(x, p.policies) }
