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
}

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
func WithFailurePolicy(l Limiter, failOpen bool, log *slog.Logger) *FailurePolicy {
	if log == nil {
		log = slog.Default()
	}
	return &FailurePolicy{l: l, failOpen: failOpen, log: log}
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
	d, err := f.l.Take(ctx, key, limit, window, n)
	return f.decision(ctx, d, err)
}

// Peek implements Limiter.
func (f *FailurePolicy) Peek(ctx context.Context, key string, limit int64, window time.Duration) (Decision, error) {
	d, err := f.l.Peek(ctx, key, limit, window)
	return f.decision(ctx, d, err)
}

// Add implements Limiter.
func (f *FailurePolicy) Add(ctx context.Context, key string, window time.Duration, n int64) error {
	e, _ := f.handle(ctx, f.l.Add(ctx, key, window, n))
	return e
}

// Quota implements Limiter.
func (f *FailurePolicy) Quota(ctx context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error) {
	d, err := f.l.Quota(ctx, key, calls, kbytes, period, start, addCalls, addBytes)
	e, handled := f.handle(ctx, err)
	if err == nil || !handled {
		return d, e
	}
	return QuotaDecision{Allowed: f.failOpen, CallsRemaining: -1, BytesRemaining: -1}, e
}

// Close closes the wrapped limiter.
func (f *FailurePolicy) Close() error { return f.l.Close() }
