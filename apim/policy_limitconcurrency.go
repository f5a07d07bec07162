package apim

import (
	"sync"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// limit-concurrency key max-count: at most max-count requests with the same
// key run the enclosed policies at once in this process; more fail at once
// with 429 (Reason ConcurrencyLimitExceeded — APIM documents the status, not
// the reason). Counters are per policy element and per gateway process; an
// idle key's counter is deleted.

func init() {
	Register(Spec{Name: "limit-concurrency", Compile: compileLimitConcurrency})
}

type limitConcurrency struct {
	key      Value
	max      int
	policies []Policy

	mu     sync.Mutex
	active map[string]int
}

func compileLimitConcurrency(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "key", "max-count"); err != nil {
		return nil, err
	}
	key, err := b.Attr(n, "key")
	if err != nil {
		return nil, err
	}
	mc, err := b.ConstAttr(n, "max-count")
	if err != nil {
		return nil, err
	}
	if !key.Set || !mc.Set {
		return nil, b.Errorf(n.Pos, "limit-concurrency: attributes \"key\" and \"max-count\" are required")
	}
	max := atoiDefault(mc.Lit, 0)
	if max <= 0 {
		return nil, b.Errorf(mc.Pos, "limit-concurrency: max-count must be a positive integer")
	}
	ps, err := b.Policies(n.Children)
	if err != nil {
		return nil, err
	}
	return &limitConcurrency{key: key, max: max, policies: ps, active: map[string]int{}}, nil
}

func (p *limitConcurrency) Exec(x *Exec) error {
	key, err := x.String(p.key)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.active[key] >= p.max {
		p.mu.Unlock()
		return &PolicyError{Source: "limit-concurrency", Reason: "ConcurrencyLimitExceeded", Message: "Too many concurrent requests.", Status: 429}
	}
	p.active[key]++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.active[key]--; p.active[key] <= 0 {
			delete(p.active, key)
		}
		p.mu.Unlock()
	}()
	return Run(x, p.policies)
}
