package apim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// rate-limit (per subscription, with api/operation children) and
// rate-limit-by-key: sliding windows kept by Env.Limiter.
//
// Counter keys:
//   - rate-limit: "rl:" + subscription id + ":" + document scope + ":" +
//     product/API/operation id, then ":api:<id>" and ":op:<id>" for the
//     limits of <api>/<operation> children. Product-, API- and operation-level
//     limits are therefore counted independently, as in APIM.
//   - rate-limit-by-key: "rlk:" + the counter-key value, so every policy using
//     the same key value shares one counter (APIM behaviour, azure-docs#95252).
//     A null or empty counter-key counts every such request under the one
//     empty key (as APIM does).
//
// Without increment-condition a call is checked and counted atomically
// (Limiter.Take). With one, the window is checked at inbound (Limiter.Peek)
// and counted once the response exists (Limiter.Add) if the condition holds;
// a condition that fails to evaluate does not count.
//
// A limiter error that survives the ratelimit package's failure policy
// answers 503 (Reason RateLimitUnavailable).

func init() {
	Register(Spec{
		Name:     "rate-limit",
		Sections: []Section{Inbound},
		Scopes:   []Scope{ScopeProduct, ScopeAPI, ScopeOperation},
		Compile:  compileRateLimit,
		// APIM: once per policy document.
		OncePerDocument: true,
	})
	Register(Spec{
		Name:     "rate-limit-by-key",
		Sections: []Section{Inbound},
		Compile:  compileRateLimitByKey,
	})
}

const rlMaxPeriod = 300

var rlOutputAttrs = []string{
	"retry-after-header-name", "retry-after-variable-name",
	"remaining-calls-header-name", "remaining-calls-variable-name",
	"total-calls-header-name",
}

// rlOutput is where a throttling policy reports its state.
type rlOutput struct {
	retryAfterHeader string // default Retry-After
	retryAfterVar    string
	remainingHeader  string
	remainingVar     string
	totalHeader      string
}

func compileRLOutput(b *Builder, n *rawxml.Node) (rlOutput, error) {
	var o rlOutput
	dst := []*string{&o.retryAfterHeader, &o.retryAfterVar, &o.remainingHeader, &o.remainingVar, &o.totalHeader}
	for i, a := range rlOutputAttrs {
		s, err := acConstStr(b, n, a)
		if err != nil {
			return o, err
		}
		*dst[i] = s
	}
	if o.retryAfterHeader == "" {
		o.retryAfterHeader = "Retry-After"
	}
	return o, nil
}

// rlLimit is one sliding window of rate-limit.
type rlLimit struct {
	calls  int64
	period time.Duration
}

// rlTarget is an <api> child of rate-limit or quota, or an <operation>
// child of one, with its own limit.
type rlTarget[L any] struct {
	id, name string
	limit    L
	ops      []rlTarget[L]
}

type rateLimitPolicy struct {
	rlLimit
	apis []rlTarget[rlLimit]
	out  rlOutput
}

func compileRLLimit(b *Builder, n *rawxml.Node, policy string) (rlLimit, error) {
	calls, err := acConstInt(b, n, policy, "calls", true, 0, 1, math.MaxInt32)
	if err != nil {
		return rlLimit{}, err
	}
	period, err := acConstInt(b, n, policy, "renewal-period", true, 0, 1, rlMaxPeriod)
	if err != nil {
		return rlLimit{}, err
	}
	return rlLimit{calls, time.Duration(period) * time.Second}, nil
}

// compileRLTargets compiles the <api> children of n and their <operation>
// children; limitAttrs are the attributes compileLimit reads.
func compileRLTargets[L any](b *Builder, n *rawxml.Node, policy string, limitAttrs []string,
	compileLimit func(*Builder, *rawxml.Node, string) (L, error)) ([]rlTarget[L], error) {
	attrs := append([]string{"name", "id"}, limitAttrs...)
	compile := func(n *rawxml.Node, children ...string) (t rlTarget[L], err error) {
		if err = b.Attrs(n, attrs...); err != nil {
			return
		}
		if err = b.Children(n, children...); err != nil {
			return
		}
		if t.id, t.name, err = rlCompileNameID(b, n, policy); err != nil {
			return
		}
		t.limit, err = compileLimit(b, n, policy)
		return
	}
	var apis []rlTarget[L]
	for _, c := range n.Children {
		a, err := compile(c, "operation")
		if err != nil {
			return nil, err
		}
		for _, oc := range c.Children {
			o, err := compile(oc)
			if err != nil {
				return nil, err
			}
			a.ops = append(a.ops, o)
		}
		apis = append(apis, a)
	}
	return apis, nil
}

// rlMatchTargets returns the target matching the request's API and, within
// it, the one matching its operation (nil where none does).
func rlMatchTargets[L any](apis []rlTarget[L], c *expr.Context) (api, op *rlTarget[L]) {
	if c.Api == nil {
		return nil, nil
	}
	for i := range apis {
		a := &apis[i]
		if !rlMatchNameID(a.id, a.name, c.Api.Id, c.Api.Name) {
			continue
		}
		if c.Operation != nil {
			for j := range a.ops {
				o := &a.ops[j]
				if rlMatchNameID(o.id, o.name, c.Operation.Id, c.Operation.Name) {
					return a, o
				}
			}
		}
		return a, nil
	}
	return nil, nil
}

// rlCompileNameID reads the name/id of an <api> or <operation> child.
func rlCompileNameID(b *Builder, n *rawxml.Node, policy string) (id, name string, err error) {
	if id, err = acConstStr(b, n, "id"); err != nil {
		return
	}
	if name, err = acConstStr(b, n, "name"); err != nil {
		return
	}
	if id == "" && name == "" {
		err = b.Errorf(n.Pos, "%s: %s needs a name or an id", policy, n.Name)
	}
	return
}

func compileRateLimit(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "rate-limit"
	if err := b.Attrs(n, append([]string{"calls", "renewal-period"}, rlOutputAttrs...)...); err != nil {
		return nil, err
	}
	if err := b.Children(n, "api"); err != nil {
		return nil, err
	}
	p := &rateLimitPolicy{}
	var err error
	if p.rlLimit, err = compileRLLimit(b, n, policy); err != nil {
		return nil, err
	}
	if p.out, err = compileRLOutput(b, n); err != nil {
		return nil, err
	}
	if p.apis, err = compileRLTargets(b, n, policy, []string{"calls", "renewal-period"}, compileRLLimit); err != nil {
		return nil, err
	}
	return p, nil
}

// rlMatchNameID matches an <api>/<operation> child: the id wins over the name.
func rlMatchNameID(id, name, ctxID, ctxName string) bool {
	if id != "" {
		return id == ctxID || (len(ctxID) > len(id) && ctxID[len(ctxID)-len(id)-1] == '/' && ctxID[len(ctxID)-len(id):] == id)
	}
	return name == ctxName
}

// rlScopeEntity names the product, API or operation whose document holds the
// policy, so that limits of different scopes count independently.
func rlScopeEntity(x *Exec) string {
	c := x.Ctx
	switch x.Scope {
	case ScopeProduct:
		if c.Product != nil {
			return "product:" + c.Product.Id
		}
	case ScopeAPI:
		if c.Api != nil {
			return "api:" + c.Api.Id
		}
	case ScopeOperation:
		if c.Api != nil && c.Operation != nil {
			return "operation:" + c.Api.Id + "/" + c.Operation.Id
		}
	}
	s := x.Scope.String() + ":"
	if c.Product != nil {
		s += c.Product.Id
	}
	return s
}

func rlLimiter(x *Exec, source string) (ratelimit.Limiter, error) {
	if x.Env == nil || x.Env.Limiter == nil {
		return nil, &PolicyError{Source: source, Reason: "RateLimitUnavailable",
			Message: "No rate limit store is configured.", Status: http.StatusServiceUnavailable}
	}
	return x.Env.Limiter, nil
}

func rlUnavailable(source string, err error) error {
	return &PolicyError{Source: source, Reason: "RateLimitUnavailable",
		Message: "Rate limit store is unavailable: " + err.Error(), Status: http.StatusServiceUnavailable}
}

// rlCeilSeconds rounds d up to whole seconds, at least 1.
func rlCeilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

func acSetVar(x *Exec, name string, v any) {
	if name == "" {
		return
	}
	if x.Ctx.Variables == nil {
		x.Ctx.Variables = map[string]any{}
	}
	x.Ctx.Variables[name] = v
}

// exceeded builds the 429.
func (o *rlOutput) exceeded(x *Exec, source string, d ratelimit.Decision, total int64) error {
	n := rlCeilSeconds(d.RetryAfter)
	ns := strconv.FormatInt(n, 10)
	acSetVar(x, o.retryAfterVar, int32(n))
	acSetVar(x, o.remainingVar, int32(0))
	h := http.Header{}
	h.Set(o.retryAfterHeader, ns)
	if o.remainingHeader != "" {
		h.Set(o.remainingHeader, "0")
	}
	if o.totalHeader != "" {
		h.Set(o.totalHeader, strconv.FormatInt(total, 10))
	}
	return &PolicyError{Source: source, Reason: "RateLimitExceeded",
		Message: "Rate limit is exceeded. Try again in " + ns + " seconds.",
		Status:  http.StatusTooManyRequests, Headers: h}
}

// passed records the remaining calls: the variable now, the headers on the
// response the caller receives.
func (o *rlOutput) passed(x *Exec, remaining, total int64) {
	if remaining < 0 {
		remaining = 0
	}
	acSetVar(x, o.remainingVar, int32(remaining))
	if o.remainingHeader == "" && o.totalHeader == "" {
		return
	}
	x.AfterResponse(func(x *Exec) { o.headers(x, remaining, total) })
}

func (o *rlOutput) headers(x *Exec, remaining, total int64) {
	if o.remainingHeader != "" {
		acSetResponseHeader(x, o.remainingHeader, strconv.FormatInt(max(remaining, 0), 10))
	}
	if o.totalHeader != "" {
		acSetResponseHeader(x, o.totalHeader, strconv.FormatInt(total, 10))
	}
}

func (p *rateLimitPolicy) Exec(x *Exec) error {
	const source = "rate-limit"
	c := x.Ctx
	if c.Subscription == nil {
		return nil // applies only to calls made with a subscription key
	}
	lim, err := rlLimiter(x, source)
	if err != nil {
		return err
	}
	base := "rl:" + c.Subscription.Id + ":" + rlScopeEntity(x)
	check := func(key string, l rlLimit) ratelimit.Check {
		return ratelimit.Check{Key: key, Limit: l.calls, Window: l.period, N: 1}
	}
	// One limiter step for all windows (one Redis script call): a call
	// refused by one limit is not counted by the others.
	var buf [3]ratelimit.Check
	checks := append(buf[:0], check(base, p.rlLimit))
	if a, o := rlMatchTargets(p.apis, c); a != nil {
		akey := base + ":api:" + c.Api.Id
		checks = append(checks, check(akey, a.limit))
		if o != nil {
			checks = append(checks, check(akey+":op:"+c.Operation.Id, o.limit))
		}
	}
	ds, err := ratelimit.TakeAll(x.Context(), lim, checks)
	if err != nil {
		return rlUnavailable(source, err)
	}
	remaining, total := int64(math.MaxInt64), p.calls
	var worst ratelimit.Decision
	var worstCalls int64
	for i, d := range ds {
		if !d.Allowed && d.RetryAfter >= worst.RetryAfter {
			worst, worstCalls = d, checks[i].Limit
		}
		if d.Remaining < remaining {
			remaining, total = d.Remaining, checks[i].Limit
		}
	}
	if worstCalls > 0 {
		return p.out.exceeded(x, source, worst, worstCalls)
	}
	p.out.passed(x, remaining, total)
	return nil
}

// ---- rate-limit-by-key

type rateLimitByKeyPolicy struct {
	calls, period, key, cond, count Value
	// constant values of calls, renewal-period, increment-count, parsed at load
	nCalls, nPeriod, nCount int64
	out                     rlOutput
	// followers are the rate-limit-by-key policies right after this one
	// that it decides with its own counter in one limiter step (see
	// linkRateLimits).
	followers []*rateLimitByKeyPolicy
}

// linkRateLimits gives the first of each run of adjacent rate-limit-by-key
// policies in ps the others as followers: it evaluates their keys too and
// takes all counters in one limiter step (one Redis script call instead
// of one round trip per policy), in order and stopping at the first
// refusal, exactly as the policies one after the other would; each
// follower then finds its decision made. A run ends at a policy with an
// increment-condition (counted after the response) and after one that sets
// remaining-calls-variable-name (the next one's expressions may read it).
func linkRateLimits(ps []Policy) {
	var lead *rateLimitByKeyPolicy
	for _, p := range ps {
		var r *rateLimitByKeyPolicy
		if s, ok := p.(*step); ok {
			r, _ = s.p.(*rateLimitByKeyPolicy)
		}
		switch {
		case r == nil || r.cond.Set:
			lead = nil
			continue
		case lead == nil:
			lead = r
		default:
			lead.followers = append(lead.followers, r)
		}
		if r.out.remainingVar != "" {
			lead = nil
		}
	}
}

// rlDecided is a follower's decision, made by the first of its run.
type rlDecided struct {
	p     *rateLimitByKeyPolicy
	calls int64
	d     ratelimit.Decision
}

// decided takes p's decision if the first of its run made it.
func (x *Exec) decided(p *rateLimitByKeyPolicy) (rlDecided, bool) {
	for i, d := range x.rlDecided {
		if d.p == p {
			x.rlDecided = append(x.rlDecided[:i], x.rlDecided[i+1:]...)
			return d, true
		}
	}
	return rlDecided{}, false
}

// rlInt is v's value: the constant parsed at load, or the expression's.
func rlInt(x *Exec, v Value, constant int64) (int64, error) {
	if !v.IsExpr() {
		return constant, nil
	}
	return x.Int(v, constant)
}

func compileRateLimitByKey(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "rate-limit-by-key"
	if err := b.Attrs(n, append([]string{"calls", "renewal-period", "counter-key", "increment-condition", "increment-count"}, rlOutputAttrs...)...); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &rateLimitByKeyPolicy{nCount: 1}
	var err error
	for _, a := range []struct {
		name     string
		v        *Value
		n        *int64
		required bool
		min, max int64
	}{
		{"calls", &p.calls, &p.nCalls, true, 1, math.MaxInt32},
		{"renewal-period", &p.period, &p.nPeriod, true, 1, rlMaxPeriod},
		{"counter-key", &p.key, nil, true, 0, 0},
		{"increment-condition", &p.cond, nil, false, 0, 0},
		{"increment-count", &p.count, &p.nCount, false, 0, math.MaxInt32},
	} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return nil, err
		}
		v := *a.v
		if !v.Set {
			if a.required {
				return nil, b.Errorf(n.Pos, "%s: attribute %q is required", policy, a.name)
			}
			continue
		}
		if v.IsExpr() || a.max == 0 || acUnresolved(v.Lit) {
			continue
		}
		i, err := strconv.ParseInt(strings.TrimSpace(v.Lit), 10, 64)
		if err != nil || i < a.min || i > a.max {
			return nil, b.Errorf(v.Pos, "%s: %s must be an integer between %d and %d, not %q", policy, a.name, a.min, a.max, v.Lit)
		}
		*a.n = i
	}
	if err := acCheckBool(b, p.cond, policy, "increment-condition"); err != nil {
		return nil, err
	}
	if p.out, err = compileRLOutput(b, n); err != nil {
		return nil, err
	}
	return p, nil
}

// check evaluates the policy's attributes into the window it takes.
func (p *rateLimitByKeyPolicy) check(x *Exec) (ratelimit.Check, error) {
	const source = "rate-limit-by-key"
	calls, err := rlInt(x, p.calls, p.nCalls)
	if err != nil {
		return ratelimit.Check{}, err
	}
	period, err := rlInt(x, p.period, p.nPeriod)
	if err != nil {
		return ratelimit.Check{}, err
	}
	count, err := rlInt(x, p.count, p.nCount)
	if err != nil {
		return ratelimit.Check{}, err
	}
	if calls < 1 || period < 1 || period > rlMaxPeriod || count < 0 {
		return ratelimit.Check{}, acExprError(source, fmt.Sprintf("invalid calls=%d renewal-period=%d increment-count=%d", calls, period, count))
	}
	key, err := acStr(x, p.key)
	if err != nil {
		return ratelimit.Check{}, err
	}
	return ratelimit.Check{Key: "rlk:" + key, Limit: calls, Window: time.Duration(period) * time.Second, N: count}, nil
}

// outcome applies a decision: 429, or the remaining calls recorded.
func (p *rateLimitByKeyPolicy) outcome(x *Exec, d ratelimit.Decision, calls int64) error {
	if !d.Allowed {
		return p.out.exceeded(x, "rate-limit-by-key", d, calls)
	}
	p.out.passed(x, d.Remaining, calls)
	return nil
}

func (p *rateLimitByKeyPolicy) Exec(x *Exec) error {
	const source = "rate-limit-by-key"
	if d, ok := x.decided(p); ok {
		return p.outcome(x, d.d, d.calls)
	}
	c, err := p.check(x)
	if err != nil {
		return err
	}
	key, calls, window, count := c.Key, c.Limit, c.Window, c.N
	lim, err := rlLimiter(x, source)
	if err != nil {
		return err
	}
	ctx := x.Context()
	if !p.cond.Set {
		checks := []ratelimit.Check{c}
		for _, f := range p.followers {
			fc, err := f.check(x)
			if err != nil {
				break // f reports it when its turn comes
			}
			checks = append(checks, fc)
		}
		ds, err := ratelimit.TakeEach(ctx, lim, checks)
		if err != nil || len(ds) == 0 {
			return rlUnavailable(source, cmp.Or(err, errors.New("no decision")))
		}
		for i := 1; i < len(ds); i++ {
			x.rlDecided = append(x.rlDecided, rlDecided{p.followers[i-1], checks[i].Limit, ds[i]})
		}
		return p.outcome(x, ds[0], calls)
	}
	d, err := lim.Peek(ctx, key, calls, window)
	if err != nil {
		return rlUnavailable(source, err)
	}
	if !d.Allowed {
		return p.out.exceeded(x, source, d, calls)
	}
	acSetVar(x, p.out.remainingVar, int32(max(d.Remaining, 0)))
	x.AfterResponse(func(x *Exec) {
		remaining := d.Remaining
		ok, err := acBool(x, p.cond, true)
		if err != nil {
			rlLog(x, source, "increment-condition failed; call not counted", err)
		} else if ok && count > 0 {
			if err := lim.Add(context.WithoutCancel(ctx), key, window, count); err != nil {
				rlLog(x, source, "counting the call failed", err)
			} else {
				remaining -= count
			}
		}
		acSetVar(x, p.out.remainingVar, int32(max(remaining, 0)))
		p.out.headers(x, remaining, calls)
	})
	return nil
}

func rlLog(x *Exec, source, msg string, err error) {
	if x.Env != nil && x.Env.Logger != nil {
		x.Env.Logger.Warn(source+": "+msg, "error", err, "request_id", x.Ctx.RequestId)
	}
}
