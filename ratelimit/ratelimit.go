// Package ratelimit keeps the counters of APIM's rate-limit and quota
// policies: in memory for one process, or in Redis where every decision is
// one atomic script so several gateways sharing one Redis enforce a limit
// exactly.
//
// Rate limits (rate-limit, rate-limit-by-key) are exact sliding windows: a
// call counted at time t occupies the window of its key until t+window, and
// a request for n calls is allowed when the calls still in the window plus n
// do not exceed the limit. This is stricter than APIM, whose distributed
// counters are documented as "never completely accurate".
//
// Quotas (quota, quota-by-key) are fixed windows aligned to a start time.
//
// A key is meant to be used with one window (and one quota period/start):
// mixing windows on one key is allowed but the shortest window prunes the log.
package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Decision is the outcome of a sliding-window check.
type Decision struct {
	Allowed bool
	// Remaining is the number of calls left in the window after this
	// decision (never negative), or -1 when unknown (store down, fail-open).
	Remaining int64
	// RetryAfter, when not allowed, is the exact time until enough calls
	// leave the window for the request to succeed (rounding up to whole
	// seconds for the Retry-After header is the caller's job). When the
	// request can never succeed (n > limit, limit <= 0) it is the window.
	RetryAfter time.Duration
}

// QuotaDecision is the outcome of a fixed-window quota check.
type QuotaDecision struct {
	Allowed bool
	// CallsRemaining and BytesRemaining are what is left in the current
	// period after this decision; -1 when there is no such limit (calls or
	// kbytes 0) or when unknown (store down, fail-open).
	CallsRemaining int64
	BytesRemaining int64
	// Renewal is the time until the current period ends; 0 when the quota
	// never renews (period 0).
	Renewal   time.Duration
	Bandwidth bool // the bandwidth quota (not the call quota) is exhausted
}

// Limiter is implemented by the memory and Redis stores.
type Limiter interface {
	// Take checks the sliding window of key (limit calls per window) and,
	// when allowed, counts n calls, in one atomic step. n <= 0 behaves as
	// Peek.
	Take(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Decision, error)
	// Peek checks without counting (for increment-condition evaluated later):
	// Allowed reports whether one more call fits, Remaining is what is left
	// now, RetryAfter (when not allowed) is the time until one call fits.
	Peek(ctx context.Context, key string, limit int64, window time.Duration) (Decision, error)
	// Add counts n calls without checking (the deferred half of Peek).
	Add(ctx context.Context, key string, window time.Duration, n int64) error
	// Quota checks a fixed-window quota whose periods start at start and last
	// period (0 = never renews); calls/kbytes of 0 mean no such limit.
	// It counts addCalls calls and addBytes bytes when allowed.
	//
	// A dimension with limit L, current use U and increment A is exceeded
	// when U+A > L, or when A == 0 and U >= L (nothing left). To record
	// response bandwidth unconditionally after the fact, call Quota with
	// calls = kbytes = 0 (no limits: always allowed, always counted).
	Quota(ctx context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error)
	// Close releases resources (the memory janitor; see each type for
	// whether it closes a client it was given).
	Close() error
}

// Check is one sliding window of a batch: n calls of key, limit calls
// per window.
type Check struct {
	Key    string
	Limit  int64
	Window time.Duration
	N      int64
}

// Batcher is implemented by limiters that decide several windows in one
// atomic step (Redis: one script call, one round trip, whatever the number
// of counters a request has).
type Batcher interface {
	// TakeEach decides checks in order as consecutive Take calls would,
	// and stops after the first refused one: the decisions are those of
	// checks[:len(decisions)], the last one refused when shorter.
	TakeEach(ctx context.Context, checks []Check) ([]Decision, error)
	// TakeAll counts every check only when all of them fit; otherwise
	// nothing is counted and each decision says whether its own window
	// had room. (Without a Batcher a refusal may also come after some
	// windows were counted; the decisions then end at it.)
	TakeAll(ctx context.Context, checks []Check) ([]Decision, error)
}

// TakeEach is Batcher.TakeEach on any limiter: one step where it is a
// Batcher, else one Take per check.
func TakeEach(ctx context.Context, l Limiter, checks []Check) ([]Decision, error) {
	if b, ok := l.(Batcher); ok {
		return b.TakeEach(ctx, checks)
	}
	out := make([]Decision, 0, len(checks))
	for _, c := range checks {
		d, err := l.Take(ctx, c.Key, c.Limit, c.Window, c.N)
		if err != nil {
			return out, err
		}
		out = append(out, d)
		if !d.Allowed {
			break
		}
	}
	return out, nil
}

// TakeAll is Batcher.TakeAll on any limiter: one step where it is a
// Batcher, else Peek on every window and then Take on every one (two
// steps: another caller may count in between).
func TakeAll(ctx context.Context, l Limiter, checks []Check) ([]Decision, error) {
	if b, ok := l.(Batcher); ok {
		return b.TakeAll(ctx, checks)
	}
	out := make([]Decision, len(checks))
	refused := false
	if len(checks) > 1 {
		for i, c := range checks {
			d, err := l.Peek(ctx, c.Key, c.Limit, c.Window)
			if err != nil {
				return nil, err
			}
			out[i], refused = d, refused || !d.Allowed
		}
		if refused {
			return out, nil
		}
	}
	for i, c := range checks {
		d, err := l.Take(ctx, c.Key, c.Limit, c.Window, c.N)
		if err != nil {
			return nil, err
		}
		out[i] = d
		if !d.Allowed {
			return out[:i+1], nil
		}
	}
	return out, nil
}

// Pinger is implemented by limiters with a backing store that can be
// checked (Redis, and the failure-policy wrapper around it); readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// ErrStoreUnavailable is wrapped by the errors a fail-closed limiter (see
// WithFailurePolicy) returns when its backing store fails. The gateway
// should answer 503 Service Unavailable.
var ErrStoreUnavailable = errors.New("ratelimit: counter store unavailable")

// ErrInvalidWindow is returned for a window or quota period that cannot be
// used (window <= 0 or below one microsecond, period < 0).
var ErrInvalidWindow = errors.New("ratelimit: invalid window")

func checkWindow(window time.Duration) error {
	if window < time.Microsecond {
		return ErrInvalidWindow
	}
	return nil
}

// quotaPeriod returns, for a quota with the given start and period at
// time now (all in microseconds since the Unix epoch), the start of the
// current period and its end (end = -1 when period is 0: never renews).
// Floor division keeps times before start aligned too.
func quotaPeriod(nowUS, startUS, periodUS int64) (cur, end int64) {
	if periodUS <= 0 {
		return startUS, -1
	}
	d := nowUS - startUS
	k := d / periodUS
	if d%periodUS < 0 {
		k--
	}
	cur = startUS + k*periodUS
	return cur, cur + periodUS
}

// overQuota reports whether a dimension with limit l (0 = none), use u and
// increment a is exceeded.
func overQuota(u, a, l int64) bool {
	return l > 0 && (u+a > l || (a == 0 && u >= l))
}

func remainingQuota(u, l int64) int64 {
	if l <= 0 {
		return -1
	}
	return max(l-u, 0)
}
