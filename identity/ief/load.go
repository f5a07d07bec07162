package ief

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/builtin"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
	"github.com/gatehouse/gatehouse/internal/config"
)

// Source is one policy file as the configuration lists it.
type Source struct {
	Path string // as reported in errors
	Data []byte
}

// Options are what the loader checks against outside the files.
type Options struct {
	// HasKey reports whether a policy key (StorageReferenceId, B2C_1A_...)
	// exists. nil skips the check.
	HasKey func(name string) bool
}

// Set is the loaded relying-party policies by upper-case PolicyId.
type Set struct {
	Policies map[string]*Policy
}

// Policy returns a relying-party policy by id (case-insensitive).
func (s *Set) Policy(id string) *Policy { return s.Policies[strings.ToUpper(id)] }

// IDs lists the relying-party policy ids, sorted.
func (s *Set) IDs() []string {
	ids := make([]string, 0, len(s.Policies))
	for _, p := range s.Policies {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}

// file is one parsed policy file.
type file struct {
	path             string
	root             *tfxml.Node
	id, tenant, mode string
	base, baseTenant string
	basePos          config.Pos
}

// builtinKeys are the policy keys Gatehouse always has: its own token
// signing and encryption keys stand in for the containers B2C's guide has
// a tenant create first.
var builtinKeys = map[string]bool{"B2C_1A_TOKENSIGNINGKEYCONTAINER": true, "B2C_1A_TOKENENCRYPTIONKEYCONTAINER": true}

// Load reads, merges and checks policy files. Every problem of every file
// is returned together (config.Errors), each at its position.
func Load(srcs []Source, opts Options) (*Set, error) {
	c := &checker{seen: map[string]bool{}}
	byID := map[string]*file{}
	var order []*file
	for _, s := range srcs {
		root, err := tfxml.Parse(s.Path, s.Data)
		if err != nil {
			c.addErr(err)
			continue
		}
		if errs := tfxml.Check(root); len(errs) > 0 {
			for _, e := range errs {
				c.addErr(e)
			}
			continue
		}
		c.refuseUnsupported(root)
		f := &file{path: s.Path, root: root, id: root.Attr("PolicyId"), tenant: root.Attr("TenantId"),
			mode: root.Attr("DeploymentMode")}
		if bp := root.Kid("BasePolicy"); bp != nil {
			f.base, f.baseTenant, f.basePos = bp.KidText("PolicyId"), bp.KidText("TenantId"), bp.Pos
		}
		key := strings.ToUpper(f.id)
		if old := byID[key]; old != nil {
			c.add(root.Pos, "policy %s is also defined in %s (B2C rule: PolicyId is unique in a tenant)", f.id, old.path)
			continue
		}
		byID[key] = f
		order = append(order, f)
	}
	c.builtins(byID, order)
	// Every relying party is built and checked; so is every other file no
	// file inherits from (an extensions file listed without its relying
	// parties, as B2C accepts uploads of), so its rules are checked too.
	isBase := map[string]bool{}
	for _, f := range order {
		isBase[strings.ToUpper(f.base)] = true
	}
	set := &Set{Policies: map[string]*Policy{}}
	for _, f := range order {
		rp := f.root.Kid("RelyingParty") != nil
		if !rp && isBase[strings.ToUpper(f.id)] {
			continue
		}
		chain := c.chain(f, byID)
		if chain == nil {
			continue
		}
		merged := chain[0].root.Clone()
		ids := []string{chain[0].id}
		for _, g := range chain[1:] {
			mergeInto(merged, g.root)
			ids = append(ids, g.id)
		}
		p := c.build(merged)
		p.ID, p.TenantID, p.DeploymentMode, p.Chain, p.Pos = f.id, f.tenant, f.mode, ids, f.root.Pos
		c.checkPolicy(p, opts)
		if rp {
			set.Policies[strings.ToUpper(f.id)] = p
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return set, nil
}

// builtins adds the starter pack's base and localization policies when
// the files inherit from them without bringing them (package builtin),
// for the tenant of the file that names them.
func (c *checker) builtins(byID map[string]*file, order []*file) {
	for i := 0; i < len(order); i++ {
		f := order[i]
		if f.base == "" || byID[strings.ToUpper(f.base)] != nil {
			continue
		}
		tenant := f.baseTenant
		if tenant == "" {
			tenant = f.tenant
		}
		name, data, ok := builtin.Policy(f.base, tenant)
		if !ok {
			continue
		}
		root, err := tfxml.Parse(name, data)
		if err != nil {
			c.addErr(err)
			continue
		}
		b := &file{path: name, root: root, id: root.Attr("PolicyId"), tenant: root.Attr("TenantId"), mode: root.Attr("DeploymentMode")}
		if bp := root.Kid("BasePolicy"); bp != nil {
			b.base, b.baseTenant, b.basePos = bp.KidText("PolicyId"), bp.KidText("TenantId"), bp.Pos
		}
		byID[strings.ToUpper(b.id)] = b
		order = append(order, b) // its own base may be built in too
	}
}

// chain is f's inheritance chain, root first.
func (c *checker) chain(f *file, byID map[string]*file) []*file {
	var rev []*file
	seen := map[string]bool{}
	for g := f; g != nil; {
		if seen[strings.ToUpper(g.id)] {
			c.add(g.basePos, "policy %s inherits from itself through %s (B2C rule: BasePolicy chains end at a policy without a base)", f.id, g.id)
			return nil
		}
		seen[strings.ToUpper(g.id)] = true
		rev = append(rev, g)
		if g.base == "" {
			break
		}
		b := byID[strings.ToUpper(g.base)]
		if b == nil {
			c.add(g.basePos, "base policy %s is not among the policy files (list it in identity.customPolicies, base first)", g.base)
			return nil
		}
		if g.baseTenant != "" && !strings.EqualFold(g.baseTenant, b.tenant) {
			c.add(g.basePos, "BasePolicy TenantId %s is not %s's tenant %s (B2C rule: a policy inherits from its own tenant's policies)", g.baseTenant, b.id, b.tenant)
		}
		g = b
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// checker collects problems once each (a base's problem would otherwise
// repeat for every relying party built on it).
type checker struct {
	errs config.Errors
	seen map[string]bool
}

func (c *checker) add(pos config.Pos, format string, a ...any) {
	e := &config.Error{Pos: pos, Msg: fmt.Sprintf(format, a...)}
	if k := e.Error(); !c.seen[k] {
		c.seen[k] = true
		c.errs = append(c.errs, e)
	}
}

func (c *checker) addErr(err error) {
	if ce, ok := err.(*config.Error); ok {
		c.add(ce.Pos, "%s", ce.Msg)
		return
	}
	c.add(config.Pos{}, "%v", err)
}

func (c *checker) intMetadata(tp *TechnicalProfile, key string) {
	if v, ok := tp.Metadata[key]; ok {
		if _, err := strconv.Atoi(v); err != nil {
			c.add(tp.itemPos[key], "technical profile %s: %s must be a number of seconds, not %q", tp.ID, key, v)
		}
	}
}

func (c *checker) contentDefRef(p *Policy, tp *TechnicalProfile, id string) {
	if id != "" && p.ContentDefs[id] == nil {
		c.add(tp.itemPos["ContentDefinitionReferenceId"], "technical profile %s: content definition %s is not defined in ContentDefinitions", tp.ID, id)
	}
}

func parseBool(v string) bool { return v == "true" || v == "1" }
