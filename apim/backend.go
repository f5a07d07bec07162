package apim

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// BackendEntity is an APIM backend entity, the target of set-backend-service
// backend-id: a URL, or a load-balanced pool of other backends; either may
// have a circuit breaker. Circuit state is kept in this process (as each
// APIM gateway instance keeps its own) and starts closed on every load.
type BackendEntity struct {
	ID      string
	URL     string
	Pool    []PoolMember // a pool: its members (single backends)
	Breaker *CircuitBreaker
}

// PoolMember is a backend in a pool: lower Priority first; within a
// priority, requests are spread by Weight.
type PoolMember struct {
	Backend  *BackendEntity
	Priority int
	Weight   int
}

// CircuitBreaker trips when Failures failures happen within Interval: for
// TripDuration (or, with AcceptRetryAfter, the backend's Retry-After) the
// backend gets no request. A failure is an answer whose status is in
// StatusCodes, or no answer at all.
type CircuitBreaker struct {
	Failures         int
	Interval         time.Duration
	StatusCodes      []StatusRange
	TripDuration     time.Duration
	AcceptRetryAfter bool

	mu        sync.Mutex
	failed    []time.Time // the recent failures, oldest first (at most Failures)
	openUntil time.Time
}

// StatusRange is an inclusive range of status codes.
type StatusRange struct{ Min, Max int }

func (cb *CircuitBreaker) open(now time.Time) bool {
	if cb == nil {
		return false
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return now.Before(cb.openUntil)
}

// record counts the outcome of a call: status 0 is no answer.
func (cb *CircuitBreaker) record(now time.Time, status int, header http.Header) {
	if cb == nil || cb.Failures <= 0 {
		return
	}
	failure := status == 0
	for _, r := range cb.StatusCodes {
		failure = failure || status >= r.Min && status <= r.Max
	}
	if !failure {
		return
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cutoff := now.Add(-cb.Interval)
	kept := cb.failed[:0]
	for _, t := range cb.failed {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	cb.failed = append(kept, now)
	if len(cb.failed) > cb.Failures {
		cb.failed = cb.failed[len(cb.failed)-cb.Failures:]
	}
	if len(cb.failed) < cb.Failures {
		return
	}
	trip := cb.TripDuration
	if cb.AcceptRetryAfter && header != nil {
		if secs, err := strconv.Atoi(header.Get("Retry-After")); err == nil && secs > 0 {
			trip = time.Duration(secs) * time.Second
		}
	}
	cb.openUntil = now.Add(trip)
	cb.failed = cb.failed[:0]
}

// pick chooses the backend a request goes to: the backend itself, or a
// pool member of the lowest priority whose circuit is closed, by weight.
// nil when every candidate's circuit is open.
func (b *BackendEntity) pick(now time.Time) *BackendEntity {
	if len(b.Pool) == 0 {
		if b.Breaker.open(now) {
			return nil
		}
		return b
	}
	best := -1
	var group []PoolMember
	total := 0
	for _, m := range b.Pool {
		if m.Backend.Breaker.open(now) {
			continue
		}
		switch {
		case best == -1 || m.Priority < best:
			best, group, total = m.Priority, []PoolMember{m}, max(m.Weight, 1)
		case m.Priority == best:
			group = append(group, m)
			total += max(m.Weight, 1)
		}
	}
	if len(group) == 0 {
		return nil
	}
	n := rand.IntN(total)
	for _, m := range group {
		if n -= max(m.Weight, 1); n < 0 {
			return m.Backend
		}
	}
	return group[len(group)-1].Backend
}
