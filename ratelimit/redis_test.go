package ratelimit

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/redis/go-redis/v9"
)

func newTestRedis(t *testing.T) (*Redis, *redis.Client, string) {
	c := testutil.Redis(t)
	prefix := testutil.RedisPrefix(t, c)
	return NewRedis(c, prefix), c, prefix
}

func TestRedisConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) Limiter {
		l, _, _ := newTestRedis(t)
		return l
	})
}

// Several gateway processes (separate clients, separate connection pools)
// hammering one key: exactly limit calls pass.
func TestRedisExactAcrossClients(t *testing.T) {
	_, c, prefix := newTestRedis(t)
	const limit, clients, workers, each = 50, 4, 6, 10
	ctx := context.Background()
	var allowed, calls atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		l := NewRedis(testutil.RedisClient(t), prefix)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					n := int64(1 + (w+j)%3) // batches of 1, 2 and 3
					d, err := l.Take(ctx, "shared", limit, time.Minute, n)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(n)
						calls.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	got := allowed.Load()
	if got > limit || got < limit/2 {
		t.Fatalf("allowed %d calls, want at most %d (and the store agreeing)", got, limit)
	}
	// The store agrees with what was handed out.
	d, err := NewRedis(c, prefix).Peek(ctx, "shared", limit, time.Minute)
	if err != nil || d.Remaining != limit-got {
		t.Fatalf("peek = %+v, %v; want remaining %d", d, err, limit-got)
	}
	// n = 1 only: exactly limit.
	var ones atomic.Int64
	for i := 0; i < clients; i++ {
		l := NewRedis(testutil.RedisClient(t), prefix)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					if d, err := l.Take(ctx, "ones", limit, time.Minute, 1); err == nil && d.Allowed {
						ones.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	if ones.Load() != limit {
		t.Fatalf("allowed %d of %d single calls, want exactly %d", ones.Load(), clients*workers*each, limit)
	}
}

func TestRedisRetryAfterAndExpiry(t *testing.T) {
	l, c, _ := newTestRedis(t)
	ctx := context.Background()
	const win = 1500 * time.Millisecond
	t0 := time.Now()
	if d, err := l.Take(ctx, "k", 2, win, 2); err != nil || !d.Allowed {
		t.Fatalf("%+v, %v", d, err)
	}
	// Both keys carry TTL = window and an eighth (refreshed once per
	// eighth of a window).
	keys := l.windowKeys("k")
	for _, k := range keys {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= win || ttl > win+win/8+time.Millisecond { // whole ms, rounded up
			t.Fatalf("PTTL %s = %v, want in (%v, %v]", k, ttl, win, win+win/8)
		}
	}
	d, err := l.Take(ctx, "k", 2, win, 1)
	t1 := time.Now()
	if err != nil || d.Allowed || d.Remaining != 0 {
		t.Fatalf("%+v, %v", d, err)
	}
	// Same host clock: the counted call happened in [t0, t1], Redis answered
	// in [t0, t1], so RetryAfter is in [win-(t1-t0), win].
	if d.RetryAfter > win || d.RetryAfter < win-t1.Sub(t0) {
		t.Fatalf("RetryAfter = %v, want in [%v, %v]", d.RetryAfter, win-t1.Sub(t0), win)
	}
	// Poll until the window lets a call through: never before t0+win.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := l.Take(ctx, "k", 2, win, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			if el := time.Since(t0); el < win {
				t.Fatalf("allowed after %v, before the window of %v passed", el, win)
			}
			if d.Remaining != 1 {
				t.Fatalf("after expiry remaining = %d, want 1", d.Remaining)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("window never slid")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	// The expired member was removed from the log.
	if n := c.ZCard(ctx, keys[0]).Val(); n != 1 {
		t.Fatalf("ZCARD = %d, want 1", n)
	}
}

func TestRedisQuotaRollover(t *testing.T) {
	l, c, prefix := newTestRedis(t)
	ctx := context.Background()
	const period = 2 * time.Second
	start := time.Now().Add(-100 * time.Millisecond) // 100ms into a 2s period
	q := func() QuotaDecision {
		t.Helper()
		d, err := l.Quota(ctx, "q", 2, 0, period, start, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	q()
	q()
	before := time.Now()
	d := q()
	if d.Allowed || d.Renewal <= 0 || d.Renewal > period {
		t.Fatalf("3rd call = %+v, want denied with Renewal in (0, %v]", d, period)
	}
	if ttl := c.PTTL(ctx, prefix+"q:q").Val(); ttl <= 0 || ttl > period {
		t.Fatalf("quota PTTL = %v", ttl)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d2 := q()
		if d2.Allowed {
			if el := time.Since(before); el < d.Renewal {
				t.Fatalf("renewed after %v, before the announced %v", el, d.Renewal)
			}
			if d2.CallsRemaining != 1 {
				t.Fatalf("new period = %+v", d2)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("quota never renewed")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	// Never-renewing quotas have no TTL.
	l.Quota(ctx, "forever", 5, 0, 0, start, 1, 0)
	if ttl := c.PTTL(ctx, prefix+"q:forever").Val(); ttl != -1 {
		t.Fatalf("never-renewing quota PTTL = %v, want -1 (no TTL)", ttl)
	}
}

// EVALSHA falls back to EVAL after SCRIPT FLUSH (on a throwaway server so
// the shared Redis keeps its script cache).
func TestRedisScriptFlush(t *testing.T) {
	srv := testutil.StartRedisServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	l := NewRedis(c, "t:")
	ctx := context.Background()
	if err := l.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 3; i++ {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if d, err := l.Take(ctx, "k", 10, time.Minute, 1); err != nil || d.Remaining != int64(9-i) {
			t.Fatalf("take after flush = %+v, %v", d, err)
		}
		if d, err := l.Quota(ctx, "q", 10, 0, time.Minute, start, 1, 0); err != nil || d.CallsRemaining != int64(9-i) {
			t.Fatalf("quota after flush = %+v, %v", d, err)
		}
	}
}

func TestRedisKeysWithBraces(t *testing.T) {
	l, _, _ := newTestRedis(t)
	ctx := context.Background()
	for _, k := range []string{"", "}", "{", "}{x}", "a{b}c", "ip:10.0.0.1"} {
		if d, err := l.Take(ctx, k, 1, time.Minute, 1); err != nil || !d.Allowed {
			t.Fatalf("key %q: %+v, %v", k, d, err)
		}
		if d, _ := l.Take(ctx, k, 1, time.Minute, 1); d.Allowed {
			t.Fatalf("key %q allowed twice", k)
		}
	}
}

func BenchmarkRedisTake(b *testing.B) {
	c := testutil.Redis(b)
	l := NewRedis(c, testutil.RedisPrefix(b, c))
	ctx := context.Background()
	b.ReportAllocs()
	var id atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		key := "bench-" + strconv.FormatInt(id.Add(1), 10)
		for pb.Next() {
			if _, err := l.Take(ctx, key, 1000, time.Second, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// scriptGate holds the first hold script calls a client sends until
// released, and counts the script calls.
type scriptGate struct {
	calls   atomic.Int64
	hold    int64
	held    sync.WaitGroup // done once per held call
	release chan struct{}
}

func (g *scriptGate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *scriptGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (g *scriptGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			if g.calls.Add(1) <= g.hold {
				g.held.Done()
				<-g.release
			}
		}
		return next(ctx, cmd)
	}
}

// Callers arriving while a script call is on its way go together in the
// next one, and each still gets exactly its own decision.
func TestRedisCoalescesConcurrentCallers(t *testing.T) {
	_, c, prefix := newTestRedis(t)
	windowScript.Load(context.Background(), c) // no NOSCRIPT retry below
	gate := &scriptGate{hold: 1, release: make(chan struct{})}
	gate.held.Add(1)
	c.AddHook(gate)
	l := NewRedis(c, prefix)
	ctx := context.Background()
	const callers, limit = 40, 25
	type result struct {
		ds  []Decision
		err error
	}
	results := make(chan result, callers+1)
	go func() {
		ds, err := l.TakeEach(ctx, []Check{{"shared", limit, time.Minute, 1}})
		results <- result{ds, err}
	}()
	gate.held.Wait() // the first call is held on its way
	for i := 0; i < callers; i++ {
		go func() {
			ds, err := l.TakeEach(ctx, []Check{{"shared", limit, time.Minute, 1}, {"own" + strconv.Itoa(i), 1, time.Minute, 1}})
			results <- result{ds, err}
		}()
	}
	for l.batch.queued() < callers {
		runtime.Gosched()
	}
	close(gate.release)
	allowed := 0
	for i := 0; i < callers+1; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.ds[0].Allowed {
			allowed++
			if len(r.ds) == 2 && (!r.ds[1].Allowed || r.ds[1].Remaining != 0) {
				t.Fatalf("own counter: %+v", r.ds[1])
			}
		} else if len(r.ds) != 1 {
			t.Fatalf("a refused first window still decided the second: %+v", r.ds)
		}
	}
	if allowed != limit {
		t.Fatalf("%d callers allowed, want exactly %d", allowed, limit)
	}
	if n := gate.calls.Load(); n != 2 {
		t.Fatalf("%d script calls for %d callers, want 2 (the held one, then all the others)", n, callers+1)
	}
	// The second call counted its 24 calls as one member of the log.
	keys := l.windowKeys("shared")
	if n, sum := c.ZCard(ctx, keys[0]).Val(), c.HGet(ctx, keys[1], "s").Val(); n != 2 || sum != strconv.Itoa(limit) {
		t.Fatalf("log of the shared key: %d members, sum %s; want 2 members, sum %d", n, sum, limit)
	}
}

// Part of the log leaves the window during a call that counts nothing (a
// peek, or a refusal): the stored sum must drop with it, or later calls
// would see calls that left long ago.
func TestRedisPartialExpiryWithoutCounting(t *testing.T) {
	l, c, _ := newTestRedis(t)
	ctx := context.Background()
	const win = time.Minute
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	keys := l.windowKeys("k")
	c.ZAdd(ctx, keys[0], redis.Z{Score: float64(now.Add(-2 * win).UnixMicro()), Member: "1:1"},
		redis.Z{Score: float64(now.UnixMicro()), Member: "2:1"})
	c.HSet(ctx, keys[1], "s", 2, "q", 2)
	if d, err := l.Peek(ctx, "k", 2, win); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Fatalf("peek after one call left the window: %+v, %v", d, err)
	}
	if d, err := l.Take(ctx, "k", 2, win, 1); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("take after the peek pruned the log: %+v, %v; want allowed, 0 left", d, err)
	}
}

// A key's TTL is refreshed once per eighth of its window, not per call,
// and always covers the window of its newest call.
func TestRedisTTLRefresh(t *testing.T) {
	l, c, _ := newTestRedis(t)
	ctx := context.Background()
	const win = time.Hour
	l.Take(ctx, "k", 10, win, 1)
	z := l.windowKeys("k")[0]
	first := c.PTTL(ctx, z).Val()
	if first <= win {
		t.Fatalf("PTTL after the first call %v, want over the window %v", first, win)
	}
	// The second call within the horizon leaves the TTL and its horizon
	// (the hash's x) as they were.
	h := l.windowKeys("k")[1]
	c.PExpire(ctx, z, 2*win) // a TTL the call would lower if it refreshed
	x1 := c.HGet(ctx, h, "x").Val()
	l.Take(ctx, "k", 10, win, 1)
	if ttl, x2 := c.PTTL(ctx, z).Val(), c.HGet(ctx, h, "x").Val(); ttl <= win+win/8+time.Millisecond || x2 != x1 {
		t.Fatalf("second call: PTTL %v, horizon %s → %s; want no refresh", ttl, x1, x2)
	}
	// Once the refresh horizon has passed, the next call refreshes.
	c.HSet(ctx, h, "x", 0)
	c.PExpire(ctx, z, time.Minute)
	l.Take(ctx, "k", 10, win, 1)
	if ttl := c.PTTL(ctx, z).Val(); ttl <= win || ttl > win+win/8+time.Millisecond {
		t.Fatalf("PTTL after the horizon %v, want refreshed to %v", ttl, win+win/8)
	}
}
