package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/redis/go-redis/v9"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(level string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), "level="+level)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*logBuf, *slog.Logger) {
	b := &logBuf{}
	return b, slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func deadClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1,
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// hammer runs f from 8 goroutines, 10 times each.
func hammer(f func()) {
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				f()
			}
		}()
	}
	wg.Wait()
}

func TestFailOpen(t *testing.T) {
	logs, log := newLog()
	l := WithFailurePolicy(NewRedis(deadClient(t, testutil.ClosedAddr(t)), "x:"), true, log)
	ctx := context.Background()
	var mu sync.Mutex
	var bad []string
	hammer(func() {
		d, err := l.Take(ctx, "k", 1, time.Minute, 1)
		if err != nil || !d.Allowed || d.Remaining != -1 {
			mu.Lock()
			bad = append(bad, "take")
			mu.Unlock()
		}
	})
	if len(bad) > 0 {
		t.Fatalf("%d fail-open takes not allowed", len(bad))
	}
	if d, err := l.Peek(ctx, "k", 1, time.Minute); err != nil || !d.Allowed || d.Remaining != -1 {
		t.Fatalf("peek = %+v, %v", d, err)
	}
	if err := l.Add(ctx, "k", time.Minute, 1); err != nil {
		t.Fatalf("add = %v", err)
	}
	if d, err := l.Quota(ctx, "q", 1, 1, time.Hour, time.Now(), 1, 1); err != nil || !d.Allowed || d.CallsRemaining != -1 || d.BytesRemaining != -1 {
		t.Fatalf("quota = %+v, %v", d, err)
	}
	if n := logs.count("WARN"); n != 1 {
		t.Fatalf("%d WARN lines for 83 failures, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "fail-open") || !l.Down() {
		t.Fatalf("log: %s", logs)
	}
	if l.Ping(ctx) == nil {
		t.Fatal("Ping on a dead store: nil")
	}
	// Argument errors are not store failures and pass through.
	if _, err := l.Take(ctx, "k", 1, 0, 1); !errors.Is(err, ErrInvalidWindow) {
		t.Fatalf("window 0: %v", err)
	}
}

func TestFailClosed(t *testing.T) {
	logs, log := newLog()
	l := WithFailurePolicy(NewRedis(deadClient(t, testutil.ClosedAddr(t)), "x:"), false, log)
	ctx := context.Background()
	hammer(func() {
		d, err := l.Take(ctx, "k", 100, time.Minute, 1)
		if d.Allowed || d.Remaining != -1 || !errors.Is(err, ErrStoreUnavailable) {
			t.Errorf("fail-closed take = %+v, %v", d, err)
		}
	})
	if d, err := l.Peek(ctx, "k", 1, time.Minute); d.Allowed || !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("peek = %+v, %v", d, err)
	}
	if err := l.Add(ctx, "k", time.Minute, 1); !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("add = %v", err)
	}
	d, err := l.Quota(ctx, "q", 1, 0, time.Hour, time.Now(), 1, 0)
	if d.Allowed || !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("quota = %+v, %v", d, err)
	}
	// The store's error is kept for the log.
	if !strings.Contains(err.Error(), "refused") {
		t.Fatalf("store error lost: %v", err)
	}
	if n := logs.count("WARN"); n != 1 {
		t.Fatalf("%d WARN lines, want 1:\n%s", n, logs)
	}
	if n := logs.count("INFO"); n != 0 {
		t.Fatalf("INFO while down:\n%s", logs)
	}
}

func TestFailurePolicyContextCanceled(t *testing.T) {
	logs, log := newLog()
	l := WithFailurePolicy(NewMemory(WithSweepInterval(0)), false, log)
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The memory store ignores ctx; a canceled Redis call must not flip
	// the state either.
	l2 := WithFailurePolicy(NewRedis(testutil.Redis(t), "x:"), false, log)
	if _, err := l2.Take(ctx, "k", 1, time.Minute, 1); !errors.Is(err, context.Canceled) || errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("canceled: %v", err)
	}
	if l2.Down() || logs.count("WARN") != 0 {
		t.Fatalf("canceled request marked the store down:\n%s", logs)
	}
	if d, err := l.Take(context.Background(), "k", 1, time.Minute, 1); err != nil || !d.Allowed {
		t.Fatalf("memory through policy: %+v, %v", d, err)
	}
}

// Redis goes away and comes back: one WARN, one INFO, correct decisions
// on both sides.
func TestFailurePolicyRecovery(t *testing.T) {
	srv := testutil.StartRedisServer(t)
	logs, log := newLog()
	c := deadClient(t, srv.Addr)
	l := WithFailurePolicy(NewRedis(c, "t:"), false, log)
	ctx := context.Background()
	if err := l.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := l.Take(ctx, "k", 5, time.Minute, 1); err != nil || !d.Allowed || d.Remaining != 4 {
		t.Fatalf("before outage: %+v, %v", d, err)
	}
	srv.Stop()
	hammer(func() {
		if _, err := l.Take(ctx, "k", 5, time.Minute, 1); !errors.Is(err, ErrStoreUnavailable) {
			t.Errorf("during outage: %v", err)
		}
	})
	if logs.count("WARN") != 1 || !l.Down() {
		t.Fatalf("after outage:\n%s", logs)
	}
	srv.Start() // same port, empty (no persistence)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := l.Take(ctx, "k", 5, time.Minute, 1)
		if err == nil {
			if !d.Allowed || d.Remaining != 4 {
				t.Fatalf("after recovery: %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never recovered: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	hammer(func() {
		if _, err := l.Take(ctx, "k2", 1000, time.Minute, 1); err != nil {
			t.Errorf("after recovery: %v", err)
		}
	})
	if w, i := logs.count("WARN"), logs.count("INFO"); w != 1 || i != 1 || l.Down() {
		t.Fatalf("WARN %d, INFO %d, want 1 and 1:\n%s", w, i, logs)
	}
	if !strings.Contains(logs.String(), "recovered") {
		t.Fatalf("log:\n%s", logs)
	}
}

// flaky is a Limiter whose store fails while down is set, counting calls.
type flaky struct {
	mu    sync.Mutex
	down  bool
	calls int
}

var errFlaky = errors.New("connection refused")

func (f *flaky) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return errFlaky
	}
	return nil
}

func (f *flaky) Take(context.Context, string, int64, time.Duration, int64) (Decision, error) {
	return Decision{Allowed: true, Remaining: 7}, f.err()
}
func (f *flaky) Peek(context.Context, string, int64, time.Duration) (Decision, error) {
	return Decision{Allowed: true, Remaining: 7}, f.err()
}
func (f *flaky) Add(context.Context, string, time.Duration, int64) error { return f.err() }
func (f *flaky) Quota(context.Context, string, int64, int64, time.Duration, time.Time, int64, int64) (QuotaDecision, error) {
	return QuotaDecision{Allowed: true}, f.err()
}
func (f *flaky) Close() error                   { return nil }
func (f *flaky) Ping(ctx context.Context) error { return f.err() }

func TestProbeInterval(t *testing.T) {
	logs, log := newLog()
	st := &flaky{down: true}
	clk := newFakeClock()
	l := WithFailurePolicy(st, false, log, ProbeInterval(time.Second))
	l.now = clk.Now
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if d, err := l.Take(ctx, "k", 1, time.Minute, 1); d.Allowed || !errors.Is(err, ErrStoreUnavailable) {
			t.Fatalf("take %d = %+v, %v", i, d, err)
		}
	}
	if _, err := l.Quota(ctx, "q", 1, 0, 0, time.Time{}, 1, 0); !errors.Is(err, ErrStoreUnavailable) {
		t.Fatal(err)
	}
	if st.calls != 1 {
		t.Fatalf("store called %d times within the probe interval, want 1", st.calls)
	}
	clk.Advance(time.Second)
	l.Take(ctx, "k", 1, time.Minute, 1) // the probe
	l.Take(ctx, "k", 1, time.Minute, 1) // skipped again
	if st.calls != 2 {
		t.Fatalf("store called %d times, want 2", st.calls)
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	// readyz's Ping always reaches the store and detects the recovery.
	if err := l.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := l.Take(ctx, "k", 1, time.Minute, 1); err != nil || d.Remaining != 7 {
		t.Fatalf("after recovery: %+v, %v", d, err)
	}
	if w, i := logs.count("WARN"), logs.count("INFO"); w != 1 || i != 1 {
		t.Fatalf("WARN %d INFO %d:\n%s", w, i, logs)
	}
	// Fail-open during the interval allows without calling the store.
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	open := WithFailurePolicy(st, true, log, ProbeInterval(time.Second))
	open.now = clk.Now
	before := st.calls
	for i := 0; i < 10; i++ {
		if d, err := open.Take(ctx, "k", 1, time.Minute, 1); err != nil || !d.Allowed || d.Remaining != -1 {
			t.Fatalf("fail-open = %+v, %v", d, err)
		}
	}
	if err := open.Add(ctx, "k", time.Minute, 1); err != nil || st.calls != before+1 {
		t.Fatalf("add = %v, calls %d", err, st.calls-before)
	}
}
