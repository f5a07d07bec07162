package apim

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// quota (per subscription, product scope, api/operation children) and
// quota-by-key: fixed windows kept by Env.Limiter.Quota.
//
//   - quota periods are aligned to the subscription's StartDate (CreatedDate
//     when it has none); quota-by-key periods to first-period-start.
//   - Keys: "q:" + subscription id + ":" + product id (+ ":api:<id>",
//     ":op:<id>"); "qk:" + counter-key value. A key is counted at most once
//     per request however many policies name it.
//   - Bandwidth counts the request body at inbound and the response body once
//     the response exists (in KB, as the limiter does).
//   - The renewal time is formatted as .NET's TimeSpan: hh:mm:ss, with a
//     "d." day prefix past 24 hours.

func init() {
	Register(Spec{
		Name:     "quota",
		Sections: []Section{Inbound},
		Scopes:   []Scope{ScopeProduct},
		Compile:  compileQuota,
		// APIM: once per policy document.
		OncePerDocument: true,
	})
	Register(Spec{
		Name:     "quota-by-key",
		Sections: []Section{Inbound},
		Compile:  compileQuotaByKey,
	})
}

type qLimit struct {
	calls, kbytes int64
	period        time.Duration
}

type quotaPolicy struct {
	qLimit
	apis []rlTarget[qLimit]
}

func compileQLimit(b *Builder, n *rawxml.Node, policy string) (qLimit, error) {
	var l qLimit
	var err error
	if l.calls, err = acConstInt(b, n, policy, "calls", false, 0, 0, math.MaxInt32); err != nil {
		return l, err
	}
	if l.kbytes, err = acConstInt(b, n, policy, "bandwidth", false, 0, 0, math.MaxInt64/1024); err != nil {
		return l, err
	}
	if l.calls == 0 && l.kbytes == 0 {
		return l, b.Errorf(n.Pos, "%s: calls or bandwidth is required", policy)
	}
	period, err := acConstInt(b, n, policy, "renewal-period", true, 0, 0, math.MaxInt64/int64(time.Second))
	if err != nil {
		return l, err
	}
	l.period = time.Duration(period) * time.Second
	return l, nil
}

func compileQuota(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "quota"
	if err := b.Attrs(n, "calls", "bandwidth", "renewal-period"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "api"); err != nil {
		return nil, err
	}
	p := &quotaPolicy{}
	var err error
	if p.qLimit, err = compileQLimit(b, n, policy); err != nil {
		return nil, err
	}
	if p.apis, err = compileRLTargets(b, n, policy, []string{"calls", "bandwidth", "renewal-period"}, compileQLimit); err != nil {
		return nil, err
	}
	return p, nil
}

// qCount is one counter touched by a request.
type qCount struct {
	key   string
	l     qLimit
	start time.Time
}

func (p *quotaPolicy) Exec(x *Exec) error {
	const source = "quota"
	c := x.Ctx
	if c.Subscription == nil {
		return nil // applies only to calls made with a subscription key
	}
	start := c.Subscription.CreatedDate
	if c.Subscription.StartDate != nil {
		start = *c.Subscription.StartDate
	}
	base := "q:" + c.Subscription.Id + ":"
	if c.Product != nil {
		base += c.Product.Id
	}
	counts := []qCount{{base, p.qLimit, start}}
	if a, o := rlMatchTargets(p.apis, c); a != nil {
		akey := base + ":api:" + c.Api.Id
		counts = append(counts, qCount{akey, a.limit, start})
		if o != nil {
			counts = append(counts, qCount{akey + ":op:" + c.Operation.Id, o.limit, start})
		}
	}
	return quotaTake(x, source, counts, true)
}

// quotaTake checks each counter and, when count, counts one call against it
// and the request body (then, once the response exists, the response body)
// against its bandwidth.
func quotaTake(x *Exec, source string, counts []qCount, count bool) error {
	lim, err := rlLimiter(x, source)
	if err != nil {
		return err
	}
	ctx := x.Context()
	if count && len(counts) > 1 {
		// Check every counter first so that a call refused by one quota is
		// not counted by the others.
		for _, q := range counts {
			d, err := lim.Quota(ctx, q.key, q.l.calls, q.l.kbytes, q.l.period, q.start, 0, 0)
			if err != nil {
				return rlUnavailable(source, err)
			}
			if !d.Allowed {
				return quotaExceeded(x, source, d)
			}
		}
	}
	var bw []qCount
	for _, q := range counts {
		var addCalls int64
		if count {
			if !quotaFirstUse(x, q.key) {
				continue // counted (and checked) by an earlier policy of this request
			}
			addCalls = 1
			if q.l.kbytes > 0 {
				bw = append(bw, q)
			}
		}
		d, err := lim.Quota(ctx, q.key, q.l.calls, q.l.kbytes, q.l.period, q.start, addCalls, 0)
		if err != nil {
			return rlUnavailable(source, err)
		}
		if !d.Allowed {
			return quotaExceeded(x, source, d)
		}
	}
	if len(bw) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if n := quotaRequestBytes(x); n > 0 {
		for _, q := range bw {
			quotaAddBytes(ctx, x, lim, source, q, n)
		}
	}
	x.AfterResponse(func(x *Exec) {
		if n := quotaResponseBytes(x); n > 0 {
			for _, q := range bw {
				quotaAddBytes(ctx, x, lim, source, q, n)
			}
		}
	})
	return nil
}

// quotaAddBytes counts n bytes against q's bandwidth. The limiter counts
// nothing when an increment would cross the limit, so the increment is
// capped at what remains: a counter that reaches its limit stays there and
// the next call is refused.
func quotaAddBytes(ctx context.Context, x *Exec, lim ratelimit.Limiter, source string, q qCount, n int64) {
	d, err := lim.Quota(ctx, q.key, 0, q.l.kbytes, q.l.period, q.start, 0, 0)
	if err == nil {
		if n = min(n, d.BytesRemaining); n <= 0 {
			return
		}
		_, err = lim.Quota(ctx, q.key, 0, q.l.kbytes, q.l.period, q.start, 0, n)
	}
	if err != nil {
		rlLog(x, source, "counting bandwidth failed", err)
	}
}

func quotaRequestBytes(x *Exec) int64 {
	if x.streamedReq != nil {
		return x.streamedReq.n // sent to the backend unread
	}
	if x.Ctx.Request == nil || x.Ctx.Request.Body == nil {
		return 0
	}
	b := x.Ctx.Request.Body
	if !b.Loaded() {
		// Never read (refused before the backend): count what the caller
		// announced rather than read the body just to measure it.
		if x.HTTPRequest != nil && x.HTTPRequest.ContentLength > 0 {
			return x.HTTPRequest.ContentLength
		}
		return 0
	}
	return int64(len(b.Bytes()))
}

func quotaResponseBytes(x *Exec) int64 {
	if x.Ctx.Response == nil || x.Ctx.Response.Body == nil {
		return 0
	}
	return int64(len(x.Ctx.Response.Body.Bytes()))
}

func quotaExceeded(x *Exec, source string, d ratelimit.QuotaDecision) error {
	what := "call volume"
	if d.Bandwidth {
		what = "bandwidth"
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.FormatInt(rlCeilSeconds(d.Renewal), 10))
	return &PolicyError{Source: source, Reason: "QuotaExceeded",
		Message: "Out of " + what + " quota. Quota will be replenished in " + quotaTimeSpan(d.Renewal) + ".",
		Status:  http.StatusForbidden, Headers: h}
}

// quotaTimeSpan formats d, rounded up to a second, as .NET's TimeSpan
// ToString(): [d.]hh:mm:ss.
func quotaTimeSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64((d + time.Second - 1) / time.Second)
	days, s := s/86400, s%86400
	t := fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	if days > 0 {
		return strconv.FormatInt(days, 10) + "." + t
	}
	return t
}

// quotaSeen remembers, per request, the quota keys already counted. It is
// keyed by a weak pointer to the Exec and cleaned up when the Exec is
// collected, so nothing leaks whichever way the request ends.
var quotaSeen sync.Map // weak.Pointer[Exec] -> *quotaKeys

type quotaKeys struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// quotaFirstUse reports whether key is counted for the first time in x.
func quotaFirstUse(x *Exec, key string) bool {
	wp := weak.Make(x)
	v, loaded := quotaSeen.Load(wp)
	if !loaded {
		v, loaded = quotaSeen.LoadOrStore(wp, &quotaKeys{keys: map[string]struct{}{}})
		if !loaded {
			runtime.AddCleanup(x, func(wp weak.Pointer[Exec]) { quotaSeen.Delete(wp) }, wp)
		}
	}
	k := v.(*quotaKeys)
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.keys[key]; ok {
		return false
	}
	k.keys[key] = struct{}{}
	return true
}

// ---- quota-by-key

type quotaByKeyPolicy struct {
	qLimit
	start time.Time
	key   Value
	cond  Value
}

func compileQuotaByKey(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "quota-by-key"
	if err := b.Attrs(n, "calls", "bandwidth", "renewal-period", "counter-key", "increment-condition", "first-period-start"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &quotaByKeyPolicy{}
	var err error
	if p.qLimit, err = compileQLimit(b, n, policy); err != nil {
		return nil, err
	}
	if p.key, err = b.Attr(n, "counter-key"); err != nil {
		return nil, err
	}
	if !p.key.Set {
		return nil, b.Errorf(n.Pos, "%s: attribute \"counter-key\" is required", policy)
	}
	if p.cond, err = b.Attr(n, "increment-condition"); err != nil {
		return nil, err
	}
	if err := acCheckBool(b, p.cond, policy, "increment-condition"); err != nil {
		return nil, err
	}
	fps, err := b.ConstAttr(n, "first-period-start")
	if err != nil {
		return nil, err
	}
	p.start = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if fps.Set && !acUnresolved(fps.Lit) {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(fps.Lit))
		if err != nil {
			return nil, b.Errorf(fps.Pos, "%s: first-period-start must be an ISO 8601 time like 2024-01-01T00:00:00Z, not %q", policy, fps.Lit)
		}
		p.start = t.UTC()
	}
	return p, nil
}

func (p *quotaByKeyPolicy) Exec(x *Exec) error {
	const source = "quota-by-key"
	key, err := acStr(x, p.key)
	if err != nil {
		return err
	}
	q := qCount{"qk:" + key, p.qLimit, p.start}
	if !p.cond.Set {
		return quotaTake(x, source, []qCount{q}, true)
	}
	// Check now; count once the response exists if the condition holds.
	if err := quotaTake(x, source, []qCount{q}, false); err != nil {
		return err
	}
	lim := x.Env.Limiter
	ctx := context.WithoutCancel(x.Context())
	x.AfterResponse(func(x *Exec) {
		ok, err := acBool(x, p.cond, true)
		if err != nil {
			rlLog(x, source, "increment-condition failed; call not counted", err)
			return
		}
		if !ok || !quotaFirstUse(x, q.key) {
			return
		}
		if _, err := lim.Quota(ctx, q.key, q.l.calls, 0, q.l.period, q.start, 1, 0); err != nil {
			rlLog(x, source, "counting the call failed", err)
		}
		if q.l.kbytes > 0 {
			quotaAddBytes(ctx, x, lim, source, q, quotaRequestBytes(x)+quotaResponseBytes(x))
		}
	})
	return nil
}
