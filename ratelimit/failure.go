package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// FailurePolicy wraps a Limiter and decides what happens when its backing
// store fails (see WithFailurePolicy).
type FailurePolicy struct {
	l        Limiter
	failOpen bool
	log      *slog.Logger
	down     atomic.Bool
	probe    time.Duration
	now      func() time.Time
	lastFail atomic.Int64 // UnixNano of the last store failure
}

// FailureOption configures WithFailurePolicy.
type FailureOption func(*FailurePolicy)

// ProbeInterval makes a limiter whose store is down skip the store for d
// after each failure, answering with the failure decision at once (a
// circuit breaker: no dial timeouts piling up on the request path); after
// d one call probes the store again. Default 0: every call tries the store.
func ProbeInterval(d time.Duration) FailureOption {
	return func(f *FailurePolicy) { f.probe = d }
}

// errSkipped is the store error reported while ProbeInterval skips the store.
var errSkipped = errors.New("store skipped after a recent failure")

// WithFailurePolicy returns l wrapped so that a store error never reaches
// the request path as a plain error:
//
//   - fail-open: the call is allowed. Take/Peek return Decision{Allowed:
//     true, Remaining: -1} and a nil error; Quota returns QuotaDecision{
//     Allowed: true, CallsRemaining: -1, BytesRemaining: -1} and nil; Add
//     returns nil (the count is lost).
//   - fail-closed: the call is denied. Take/Peek return Decision{Allowed:
//     false, Remaining: -1} and Quota QuotaDecision{Allowed: false,
//     CallsRemaining: -1, BytesRemaining: -1}, each with an error wrapping
//     ErrStoreUnavailable and the store error; Add returns such an error
//     too. The gateway answers 503 for errors.Is(err, ErrStoreUnavailable).
//
// Errors that are not store failures pass through unchanged: the caller's
// context ending (client gone, deadline) and ErrInvalidWindow.
//
// It logs one Warn line when the store starts failing and one Info line
// when it answers again, not one per request. log nil means slog.Default().
func WithFailurePolicy(l Limiter, failOpen bool, log *slog.Logger, opts ...FailureOption) *FailurePolicy {
	if log == nil {
		log = slog.Default()
	}
	f := &FailurePolicy{l: l, failOpen: failOpen, log: log, now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return f
}

// skip reports whether the store should be skipped now (ProbeInterval);
// the first caller after the interval claims the probe.
func (f *FailurePolicy) skip() bool {
	if f.probe <= 0 || !f.down.Load() {
		return false
	}
	last := f.lastFail.Load()
	now := f.now().UnixNano()
	if now-last < int64(f.probe) {
		return true
	}
	return !f.lastFail.CompareAndSwap(last, now) // others keep skipping during the probe
}

// Unwrap returns the wrapped limiter.
func (f *FailurePolicy) Unwrap() Limiter { return f.l }

// Down reports whether the last store operation failed.
func (f *FailurePolicy) Down() bool { return f.down.Load() }

// Ping checks the wrapped store when it is a Pinger (nil otherwise) and
// updates the up/down state like any other operation.
func (f *FailurePolicy) Ping(ctx context.Context) error {
	p, ok := f.l.(Pinger)
	if !ok {
		return nil
	}
	err := p.Ping(ctx)
	if err != nil && f.isStoreErr(ctx, err) {
		f.failed(err)
		return err
	}
	if err == nil {
		f.ok()
	}
	return err
}

func (f *FailurePolicy) isStoreErr(ctx context.Context, err error) bool {
	if errors.Is(err, ErrInvalidWindow) {
		return false
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return false
	}
	return true
}

func (f *FailurePolicy) failed(err error) {
	if err != errSkipped {
		f.lastFail.Store(f.now().UnixNano())
	}
	if f.down.CompareAndSwap(false, true) {
		mode := "fail-closed: denying requests with 503"
		if f.failOpen {
			mode = "fail-open: allowing requests without counting"
		}
		f.log.Warn("rate-limit store unavailable; "+mode+" until it recovers", "error", err)
	}
}

func (f *FailurePolicy) ok() {
	if f.down.CompareAndSwap(true, false) {
		f.log.Info("rate-limit store recovered; counting again")
	}
}

// handle classifies err; it returns handled=false when err must be passed
// through unchanged.
func (f *FailurePolicy) handle(ctx context.Context, err error) (storeErr error, handled bool) {
	if err == nil {
		f.ok()
		return nil, true
	}
	if !f.isStoreErr(ctx, err) {
		return err, false
	}
	f.failed(err)
	if f.failOpen {
		return nil, true
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err), true
}

func (f *FailurePolicy) decision(ctx context.Context, d Decision, err error) (Decision, error) {
	e, handled := f.handle(ctx, err)
	if err == nil || !handled {
		return d, e
	}
	return Decision{Allowed: f.failOpen, Remaining: -1}, e
}

// Take implements Limiter.
func (f *FailurePolicy) Take(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Decision, error) {
	if f.skip() {
		return f.decision(ctx, Decision{}, errSkipped)
	}
	d, err := f.l.Take(ctx, key, limit, window, n)
	return f.decision(ctx, d, err)
}

// TakeEach implements Batcher (one step when the wrapped limiter is one).
func (f *FailurePolicy) TakeEach(ctx context.Context, checks []Check) ([]Decision, error) {
	return f.batch(ctx, checks, TakeEach)
}

// TakeAll implements Batcher (one step when the wrapped limiter is one).
func (f *FailurePolicy) TakeAll(ctx context.Context, checks []Check) ([]Decision, error) {
	return f.batch(ctx, checks, TakeAll)
}

// batch applies the failure policy to a batch: a store failure answers
// every check as Take would.
func (f *FailurePolicy) batch(ctx context.Context, checks []Check, take func(context.Context, Limiter, []Check) ([]Decision, error)) ([]Decision, error) {
	var ds []Decision
	err := errSkipped
	if !f.skip() {
		ds, err = take(ctx, f.l, checks)
	}
	e, handled := f.handle(ctx, err)
	if err == nil || !handled {
		return ds, e
	}
	ds = make([]Decision, len(checks))
	for i := range ds {
		ds[i] = Decision{Allowed: f.failOpen, Remaining: -1}
	}
	if !f.failOpen {
		ds = ds[:1]
	}
	return ds, e
}

// Peek implements Limiter.
func (f *FailurePolicy) Peek(ctx context.Context, key string, limit int64, window time.Duration) (Decision, error) {
	if f.skip() {
		return f.decision(ctx, Decision{}, errSkipped)
	}
	d, err := f.l.Peek(ctx, key, limit, window)
	return f.decision(ctx, d, err)
}

// Add implements Limiter.
func (f *FailurePolicy) Add(ctx context.Context, key string, window time.Duration, n int64) error {
	if f.skip() {
		e, _ := f.handle(ctx, errSkipped)
		return e
	}
	e, _ := f.handle(ctx, f.l.Add(ctx, key, window, n))
	return e
}

// Quota implements Limiter.
func (f *FailurePolicy) Quota(ctx context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error) {
	var d QuotaDecision
	var err error
	if f.skip() {
		err = errSkipped
	} else {
		d, err = f.l.Quota(ctx, key, calls, kbytes, period, start, addCalls, addBytes)
	}
	e, handled := f.handle(ctx, err)
	if err == nil || !handled {
		return d, e
	}
	return QuotaDecision{Allowed: f.failOpen, CallsRemaining: -1, BytesRemaining: -1}, e
}

// Close closes the wrapped limiter.
func (f *FailurePolicy) Close() error { return f.l.Close() }
