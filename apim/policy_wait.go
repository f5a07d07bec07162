package apim

import (
	"context"
	"maps"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// wait for="all|any" (default all): runs its send-request,
// cache-lookup-value and choose children concurrently and continues when all
// (or the first) have finished; with "any" the others are canceled. Each
// branch runs on its own copy of the context so branches cannot race: only
// the variables a branch sets flow back (for "all" in document order), other
// changes (headers of a choose branch, say) stay in the branch. The first
// failing branch's error is returned.

func init() {
	Register(Spec{Name: "wait", Compile: compileWait})
}

type wait struct {
	any      bool
	policies []Policy
}

func compileWait(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "for"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "send-request", "cache-lookup-value", "choose"); err != nil {
		return nil, err
	}
	f, err := b.ConstAttr(n, "for")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, f, "for", "all", "any"); err != nil {
		return nil, err
	}
	ps, err := b.Policies(n.Children)
	if err != nil {
		return nil, err
	}
	return &wait{any: f.Lit == "any", policies: ps}, nil
}

type branchResult struct {
	i    int
	vars expr.Variables
	err  error
}

func (p *wait) Exec(x *Exec) error {
	// Buffer the caller's body now: mode="copy" branches read it.
	if _, err := x.requestBody(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(x.Context())
	defer cancel()
	results := make(chan branchResult, len(p.policies))
	for i, pol := range p.policies {
		bx := x.branch(ctx)
		go func() {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = x.exprError(errString("wait branch panicked"))
					}
				}()
				err = pol.Exec(bx)
			}()
			results <- branchResult{i, bx.Ctx.Variables, err}
		}()
	}
	got := make([]*branchResult, len(p.policies))
	for range p.policies {
		r := <-results
		got[r.i] = &r
		if r.err != nil {
			cancel()
			return r.err
		}
		if p.any {
			maps.Copy(x.Ctx.Variables, r.vars)
			cancel()
			return nil
		}
	}
	for _, r := range got {
		maps.Copy(x.Ctx.Variables, r.vars)
	}
	return nil
}

// branch copies x for a concurrent wait branch.
func (x *Exec) branch(ctx context.Context) *Exec {
	bx := *x
	c := *x.Ctx
	c.Variables = maps.Clone(x.Ctx.Variables)
	req := *x.Ctx.Request
	req.Headers = req.Headers.Clone()
	if req.Url != nil {
		u := *req.Url
		u.Query = maps.Clone(u.Query)
		req.Url = &u
	}
	c.Request = &req
	if x.Ctx.Response != nil {
		r := cloneResponse(x.Ctx.Response)
		c.Response = r
	}
	bx.Ctx = &c
	bx.ctx = ctx
	bx.afterResponse = nil
	bx.respStream = nil
	return &bx
}
