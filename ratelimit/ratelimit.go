// Package ratelimit keeps the counters of APIM's rate-limit and quota
// policies: in memory for one process, or in Redis where every decision is
// one atomic script so several gateways sharing one Redis enforce a limit
// exactly.
package ratelimit

import (
	"context"
	"time"
)

// Decision is the outcome of a sliding-window check.
type Decision struct {
	Allowed    bool
	Remaining  int64         // calls left in the window after this decision
	RetryAfter time.Duration // when not allowed: until enough calls leave the window
}

// QuotaDecision is the outcome of a fixed-window quota check.
type QuotaDecision struct {
	Allowed        bool
	CallsRemaining int64
	BytesRemaining int64
	Renewal        time.Duration // until the current period ends
	Bandwidth      bool          // the bandwidth quota (not the call quota) is exhausted
}

// Limiter is implemented by the memory and Redis stores.
type Limiter interface {
	// Take checks the sliding window of key (limit calls per window) and,
	// when allowed, counts n calls, in one atomic step.
	Take(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Decision, error)
	// Peek checks without counting (for increment-condition evaluated later).
	Peek(ctx context.Context, key string, limit int64, window time.Duration) (Decision, error)
	// Add counts n calls without checking (the deferred half of Peek).
	Add(ctx context.Context, key string, window time.Duration, n int64) error
	// Quota checks a fixed-window quota whose periods start at start and last
	// period (0 = never renews); calls/kbytes of 0 mean no such limit.
	// It counts addCalls calls and addBytes bytes when allowed.
	Quota(ctx context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error)
	// Close releases connections.
	Close() error
}
