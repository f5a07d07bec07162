package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The same suite runs against every Limiter. Windows and periods are long
// (minutes) so nothing expires while it runs; expiry is tested per store.
func runConformance(t *testing.T, newLimiter func(t *testing.T) Limiter) {
	ctx := context.Background()
	const win = time.Minute

	t.Run("ExactCounts", func(t *testing.T) {
		l := newLimiter(t)
		for i := int64(1); i <= 5; i++ {
			d, err := l.Take(ctx, "k", 5, win, 1)
			if err != nil || !d.Allowed || d.Remaining != 5-i {
				t.Fatalf("take %d = %+v, %v; want allowed, remaining %d", i, d, err, 5-i)
			}
		}
		d, err := l.Take(ctx, "k", 5, win, 1)
		if err != nil || d.Allowed || d.Remaining != 0 {
			t.Fatalf("6th take = %+v, %v; want denied, remaining 0", d, err)
		}
		if d.RetryAfter <= 0 || d.RetryAfter > win {
			t.Fatalf("RetryAfter = %v, want in (0, %v]", d.RetryAfter, win)
		}
		// Keys are independent.
		if d, _ := l.Take(ctx, "other", 5, win, 1); !d.Allowed || d.Remaining != 4 {
			t.Fatalf("other key = %+v", d)
		}
	})

	t.Run("Batches", func(t *testing.T) {
		l := newLimiter(t)
		// In order, stopping at the first refusal: "b" (1 left after the
		// first batch) refuses the second batch, so "c" is not counted.
		checks := []Check{{"a", 5, win, 1}, {"b", 2, win, 1}, {"c", 5, win, 1}}
		for round, want := range [][]Decision{
			{{Allowed: true, Remaining: 4}, {Allowed: true, Remaining: 1}, {Allowed: true, Remaining: 4}},
			{{Allowed: true, Remaining: 3}, {Allowed: true, Remaining: 0}, {Allowed: true, Remaining: 3}},
			{{Allowed: true, Remaining: 2}, {Allowed: false, Remaining: 0}},
		} {
			ds, err := TakeEach(ctx, l, checks)
			if err != nil || len(ds) != len(want) {
				t.Fatalf("round %d: %+v, %v; want %d decisions", round, ds, err, len(want))
			}
			for i := range want {
				if ds[i].Allowed != want[i].Allowed || ds[i].Remaining != want[i].Remaining {
					t.Fatalf("round %d check %d: %+v, want %+v", round, i, ds[i], want[i])
				}
			}
		}
		if d, _ := l.Peek(ctx, "c", 5, win); d.Remaining != 3 {
			t.Fatalf("c after a refusal before it: %+v, want 3 left (not counted)", d)
		}
		// All or nothing: "b" is full, so "a" and "c" are not counted.
		ds, err := TakeAll(ctx, l, checks)
		if err != nil || ds[1].Allowed || ds[1].RetryAfter <= 0 {
			t.Fatalf("TakeAll with b full: %+v, %v", ds, err)
		}
		if d, _ := l.Peek(ctx, "a", 5, win); d.Remaining != 2 {
			t.Fatalf("a after a refused TakeAll: %+v, want 2 left", d)
		}
		ds, err = TakeAll(ctx, l, []Check{{"a", 5, win, 2}, {"c", 5, win, 1}})
		if err != nil || len(ds) != 2 || !ds[0].Allowed || ds[0].Remaining != 0 || ds[1].Remaining != 2 {
			t.Fatalf("TakeAll that fits: %+v, %v", ds, err)
		}
		// One key twice in a batch: the second sees the first's calls, and
		// a refusal freed only by them waits for the whole window.
		ds, err = TakeEach(ctx, l, []Check{{"r", 2, win, 2}, {"r", 2, win, 1}})
		if err != nil || len(ds) != 2 || !ds[0].Allowed || ds[1].Allowed || ds[1].RetryAfter <= win-time.Second || ds[1].RetryAfter > win {
			t.Fatalf("a key twice, the second refused: %+v, %v", ds, err)
		}
		// The same counter with two windows in a batch.
		ds, err = TakeEach(ctx, l, []Check{{"m", 5, win, 1}, {"m", 5, 2 * win, 1}})
		if err != nil || len(ds) != 2 || ds[1].Remaining != 3 {
			t.Fatalf("a key with two windows: %+v, %v", ds, err)
		}
	})

	t.Run("IncrementN", func(t *testing.T) {
		l := newLimiter(t)
		if d, err := l.Take(ctx, "k", 10, win, 4); err != nil || !d.Allowed || d.Remaining != 6 {
			t.Fatalf("take 4 = %+v, %v", d, err)
		}
		if d, err := l.Take(ctx, "k", 10, win, 6); err != nil || !d.Allowed || d.Remaining != 0 {
			t.Fatalf("take 6 = %+v, %v", d, err)
		}
		if d, _ := l.Take(ctx, "k", 10, win, 1); d.Allowed {
			t.Fatalf("take 1 over the limit allowed: %+v", d)
		}
		// A denied batch counts nothing.
		l2 := newLimiter(t)
		l2.Take(ctx, "k", 10, win, 7)
		if d, _ := l2.Take(ctx, "k", 10, win, 4); d.Allowed || d.Remaining != 3 {
			t.Fatalf("take 4 with 3 left = %+v, want denied with remaining 3", d)
		}
		if d, _ := l2.Take(ctx, "k", 10, win, 3); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("take 3 with 3 left = %+v, want allowed", d)
		}
		// n > limit can never pass: RetryAfter is the window.
		if d, _ := l.Take(ctx, "big", 3, win, 4); d.Allowed || d.RetryAfter != win {
			t.Fatalf("n > limit = %+v, want denied with RetryAfter %v", d, win)
		}
		// n <= 0 counts nothing.
		if d, _ := l.Take(ctx, "zero", 3, win, 0); !d.Allowed || d.Remaining != 3 {
			t.Fatalf("n = 0: %+v", d)
		}
		if d, _ := l.Peek(ctx, "zero", 3, win); d.Remaining != 3 {
			t.Fatalf("n = 0 counted: %+v", d)
		}
		// limit 0 denies everything.
		if d, _ := l.Take(ctx, "nolimit", 0, win, 1); d.Allowed || d.Remaining != 0 || d.RetryAfter != win {
			t.Fatalf("limit 0: %+v", d)
		}
	})

	t.Run("PeekThenAdd", func(t *testing.T) {
		l := newLimiter(t)
		for i := 0; i < 3; i++ {
			d, err := l.Peek(ctx, "k", 3, win)
			if err != nil || !d.Allowed || d.Remaining != int64(3-i) {
				t.Fatalf("peek %d = %+v, %v", i, d, err)
			}
			// Peek alone counts nothing.
			if d2, _ := l.Peek(ctx, "k", 3, win); d2.Remaining != d.Remaining {
				t.Fatalf("peek counted: %+v then %+v", d, d2)
			}
			if err := l.Add(ctx, "k", win, 1); err != nil {
				t.Fatal(err)
			}
		}
		d, _ := l.Peek(ctx, "k", 3, win)
		if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 {
			t.Fatalf("peek after 3 adds = %+v, want denied", d)
		}
		// Add counts past the limit (the response already went out).
		if err := l.Add(ctx, "k", win, 5); err != nil {
			t.Fatal(err)
		}
		if d, _ := l.Take(ctx, "k", 100, win, 1); !d.Allowed || d.Remaining != 100-9 {
			t.Fatalf("take after adds = %+v, want remaining 91", d)
		}
		if err := l.Add(ctx, "k", 0, 1); err == nil {
			t.Fatal("Add with window 0: no error")
		}
		if _, err := l.Take(ctx, "k", 1, 0, 1); err == nil {
			t.Fatal("Take with window 0: no error")
		}
	})

	t.Run("ConcurrentExact", func(t *testing.T) {
		l := newLimiter(t)
		const limit, workers, each = 40, 16, 10
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					d, err := l.Take(ctx, "hot", limit, win, 1)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if got := allowed.Load(); got != limit {
			t.Fatalf("allowed %d of %d, want exactly %d", got, workers*each, limit)
		}
	})

	t.Run("QuotaCalls", func(t *testing.T) {
		l := newLimiter(t)
		start := time.Now().Add(-time.Minute)
		for i := int64(1); i <= 3; i++ {
			d, err := l.Quota(ctx, "q", 3, 0, time.Hour, start, 1, 0)
			if err != nil || !d.Allowed || d.CallsRemaining != 3-i || d.BytesRemaining != -1 {
				t.Fatalf("call %d = %+v, %v", i, d, err)
			}
			if d.Renewal <= 58*time.Minute || d.Renewal > 59*time.Minute+time.Second {
				t.Fatalf("Renewal = %v, want about 59m", d.Renewal)
			}
		}
		d, err := l.Quota(ctx, "q", 3, 0, time.Hour, start, 1, 0)
		if err != nil || d.Allowed || d.Bandwidth || d.CallsRemaining != 0 {
			t.Fatalf("4th call = %+v, %v; want denied (calls)", d, err)
		}
		// Check without counting: exhausted.
		if d, _ := l.Quota(ctx, "q", 3, 0, time.Hour, start, 0, 0); d.Allowed {
			t.Fatalf("check on exhausted quota allowed: %+v", d)
		}
		// A fresh key with no limits always passes and counts.
		if d, _ := l.Quota(ctx, "free", 0, 0, time.Hour, start, 1, 100); !d.Allowed || d.CallsRemaining != -1 || d.BytesRemaining != -1 {
			t.Fatalf("no limits: %+v", d)
		}
	})

	t.Run("QuotaBandwidth", func(t *testing.T) {
		l := newLimiter(t)
		start := time.Now().Add(-time.Minute)
		q := func(calls, add int64) QuotaDecision {
			t.Helper()
			d, err := l.Quota(ctx, "bw", 100, 1, time.Hour, start, calls, add) // 1 KB = 1024 bytes
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := q(1, 600); !d.Allowed || d.BytesRemaining != 424 || d.CallsRemaining != 99 {
			t.Fatalf("600 bytes: %+v", d)
		}
		if d := q(1, 500); d.Allowed || !d.Bandwidth || d.BytesRemaining != 424 || d.CallsRemaining != 99 {
			t.Fatalf("500 more bytes (1100 > 1024): %+v, want denied on bandwidth, nothing counted", d)
		}
		if d := q(0, 424); !d.Allowed || d.BytesRemaining != 0 {
			t.Fatalf("424 bytes (exactly 1024): %+v", d)
		}
		if d := q(1, 0); d.Allowed || !d.Bandwidth {
			t.Fatalf("call after bandwidth exhausted: %+v", d)
		}
		// Recording response bytes after the fact: no limits, always counts.
		if d, _ := l.Quota(ctx, "bw", 0, 0, time.Hour, start, 0, 10); !d.Allowed {
			t.Fatalf("unconditional count: %+v", d)
		}
		if d := q(0, 0); d.Allowed || d.BytesRemaining != 0 {
			t.Fatalf("after 1034 bytes: %+v", d)
		}
	})

	t.Run("QuotaNeverRenews", func(t *testing.T) {
		l := newLimiter(t)
		start := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		if d, _ := l.Quota(ctx, "forever", 1, 0, 0, start, 1, 0); !d.Allowed || d.Renewal != 0 {
			t.Fatalf("first = %+v", d)
		}
		if d, _ := l.Quota(ctx, "forever", 1, 0, 0, start, 1, 0); d.Allowed || d.Renewal != 0 {
			t.Fatalf("second = %+v", d)
		}
		if _, err := l.Quota(ctx, "forever", 1, 0, -time.Second, start, 1, 0); err == nil {
			t.Fatal("negative period: no error")
		}
	})

	t.Run("QuotaAlignedToStart", func(t *testing.T) {
		l := newLimiter(t)
		// Periods of one day from 0001-01-01: the current period ends at
		// the next UTC midnight.
		start := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		d, err := l.Quota(ctx, "daily", 10, 0, 24*time.Hour, start, 1, 0)
		if err != nil || !d.Allowed {
			t.Fatalf("%+v, %v", d, err)
		}
		now := time.Now().UTC()
		want := now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now)
		if diff := d.Renewal - want; diff < -2*time.Second || diff > 2*time.Second {
			t.Fatalf("Renewal = %v, want about %v", d.Renewal, want)
		}
	})

	t.Run("ManyKeys", func(t *testing.T) {
		l := newLimiter(t)
		for i := 0; i < 50; i++ {
			if d, _ := l.Take(ctx, fmt.Sprintf("k%d", i), 1, win, 1); !d.Allowed {
				t.Fatalf("key %d denied", i)
			}
		}
		for i := 0; i < 50; i++ {
			if d, _ := l.Take(ctx, fmt.Sprintf("k%d", i), 1, win, 1); d.Allowed {
				t.Fatalf("key %d allowed twice", i)
			}
		}
	})
}
