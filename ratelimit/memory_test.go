package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestMemory(t *testing.T, opts ...MemoryOption) *Memory {
	m := NewMemory(opts...)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) Limiter { return newTestMemory(t) })
}

func TestMemorySlidingWindow(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	m := newTestMemory(t, WithClock(clk.Now), WithSweepInterval(0))
	const win = 10 * time.Second
	take := func(n int64) Decision {
		t.Helper()
		d, err := m.Take(ctx, "k", 3, win, n)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	take(1) // t=0
	clk.Advance(time.Second)
	if d := take(2); !d.Allowed || d.Remaining != 0 { // t=1s
		t.Fatalf("t=1s take 2 = %+v", d)
	}
	clk.Advance(time.Second) // t=2s
	if d := take(1); d.Allowed || d.RetryAfter != 8*time.Second {
		t.Fatalf("t=2s = %+v, want denied, RetryAfter 8s (call of t=0 leaves at t=10s)", d)
	}
	// Two calls need both batches gone: the t=1s batch leaves at t=11s.
	if d := take(2); d.Allowed || d.RetryAfter != 9*time.Second {
		t.Fatalf("t=2s take 2 = %+v, want RetryAfter 9s", d)
	}
	clk.Advance(8*time.Second - time.Nanosecond) // just before t=10s
	if d := take(1); d.Allowed || d.RetryAfter != time.Nanosecond {
		t.Fatalf("t=10s-1ns = %+v, want denied, RetryAfter 1ns", d)
	}
	clk.Advance(time.Nanosecond) // t=10s: the t=0 call has left
	if d := take(1); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("t=10s = %+v, want allowed, remaining 0", d)
	}
	if d, _ := m.Peek(ctx, "k", 3, win); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("peek t=10s = %+v, want RetryAfter 1s", d)
	}
	clk.Advance(time.Second) // t=11s: the t=1s batch (2 calls) has left
	if d, _ := m.Peek(ctx, "k", 3, win); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("peek t=11s = %+v, want remaining 2", d)
	}
	clk.Advance(win) // everything left
	if d := take(3); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after a full window = %+v", d)
	}
}

func TestMemorySweepAndClose(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	m := NewMemory(WithClock(clk.Now), WithSweepInterval(time.Millisecond))
	m.Take(ctx, "a", 5, time.Second, 1)
	m.Take(ctx, "b", 5, 3*time.Second, 1)
	m.Quota(ctx, "q", 5, 0, time.Minute, clk.Now(), 1, 0)
	m.Quota(ctx, "forever", 5, 0, 0, clk.Now(), 1, 0)
	if logs, quotas := m.Len(); logs != 2 || quotas != 2 {
		t.Fatalf("Len = %d, %d", logs, quotas)
	}
	if err := m.Close(); err != nil { // stops the janitor and waits for it
		t.Fatal(err)
	}
	if err := m.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	m.Sweep()
	if logs, quotas := m.Len(); logs != 1 || quotas != 2 {
		t.Fatalf("after 1s Len = %d, %d; want 1, 2", logs, quotas)
	}
	clk.Advance(time.Minute)
	m.Sweep()
	if logs, quotas := m.Len(); logs != 0 || quotas != 1 {
		t.Fatalf("after 1m Len = %d, %d; want 0, 1 (never-renewing quota kept)", logs, quotas)
	}
	// Still usable after Close.
	if d, _ := m.Take(ctx, "a", 5, time.Second, 1); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("after sweep: %+v", d)
	}
}

func TestMemoryLogStaysBounded(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	m := newTestMemory(t, WithClock(clk.Now), WithSweepInterval(0))
	for i := 0; i < 10000; i++ {
		m.Take(ctx, "k", 10, time.Second, 1)
		clk.Advance(10 * time.Millisecond)
	}
	l := m.shard("k").logs["k"]
	if live := len(l.entries) - l.head; live != 10 || cap(l.entries) > 256 {
		t.Fatalf("live entries %d, cap %d", live, cap(l.entries))
	}
}

func TestMemoryQuotaRollover(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	m := newTestMemory(t, WithClock(clk.Now), WithSweepInterval(0))
	start := clk.Now().Add(-10 * time.Minute) // periods of 1h from here
	q := func() QuotaDecision {
		d, err := m.Quota(ctx, "q", 2, 0, time.Hour, start, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	q()
	q()
	if d := q(); d.Allowed || d.Renewal != 50*time.Minute {
		t.Fatalf("3rd call = %+v, want denied, Renewal 50m", d)
	}
	clk.Advance(50*time.Minute - time.Microsecond)
	if d := q(); d.Allowed || d.Renewal != time.Microsecond {
		t.Fatalf("just before renewal = %+v", d)
	}
	clk.Advance(time.Microsecond)
	if d := q(); !d.Allowed || d.CallsRemaining != 1 || d.Renewal != time.Hour {
		t.Fatalf("new period = %+v, want allowed, remaining 1, Renewal 1h", d)
	}
	// A start in the future aligns backwards: periods [start-1h, start).
	future := clk.Now().Add(90 * time.Minute)
	if d, _ := m.Quota(ctx, "f", 1, 0, time.Hour, future, 1, 0); !d.Allowed || d.Renewal != 30*time.Minute {
		t.Fatalf("future start = %+v, want Renewal 30m", d)
	}
	// A different period on the same key starts afresh.
	if d, _ := m.Quota(ctx, "q", 2, 0, 2*time.Hour, start, 1, 0); !d.Allowed || d.CallsRemaining != 1 {
		t.Fatalf("changed period = %+v", d)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	m := NewMemory()
	defer m.Close()
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "bench-key-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Take(ctx, keys[i%len(keys)], 100, time.Second, 1)
			i += 7
		}
	})
}
