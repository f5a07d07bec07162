package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const memoryShards = 64

// MemoryOption configures NewMemory.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	now   func() time.Time
	sweep time.Duration
}

// WithClock makes the memory limiter read time from now instead of
// time.Now (for tests). Time must not go backwards.
func WithClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) { c.now = now }
}

// WithSweepInterval sets how often the janitor goroutine removes idle keys
// (default one minute). d <= 0 starts no goroutine; idle keys are then only
// removed by Sweep.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(c *memoryConfig) { c.sweep = d }
}

// Memory is the in-process Limiter: an exact sliding log per key (one entry
// per counted call batch, so memory per key is bounded by the batches in one
// window), fixed-window quotas, sharded locks, and a janitor that forgets
// keys once their window (or quota period) has passed.
type Memory struct {
	now    func() time.Time
	base   time.Time // monotonic origin of log timestamps
	seed   maphash.Seed
	shards [memoryShards]memShard

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memShard struct {
	mu     sync.Mutex
	logs   map[string]*slidingLog
	quotas map[string]*quotaState
}

type logEntry struct {
	ts int64 // ns since Memory.base
	n  int64
}

type slidingLog struct {
	entries []logEntry
	head    int
	sum     int64
	expires int64 // ns since base: when the newest entry leaves the window
}

type quotaState struct {
	periodStart int64 // µs since epoch; identifies the period
	periodUS    int64
	calls       int64
	bytes       int64
	expires     time.Time // zero: never
}

// NewMemory returns an in-process limiter. Close stops its janitor.
func NewMemory(opts ...MemoryOption) *Memory {
	cfg := memoryConfig{now: time.Now, sweep: time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Memory{now: cfg.now, seed: maphash.MakeSeed()}
	m.base = m.now()
	for i := range m.shards {
		m.shards[i].logs = make(map[string]*slidingLog)
		m.shards[i].quotas = make(map[string]*quotaState)
	}
	if cfg.sweep > 0 {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.janitor(cfg.sweep)
	}
	return m
}

func (m *Memory) janitor(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

// Close stops the janitor and waits for it. The limiter stays usable.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		if m.stop != nil {
			close(m.stop)
			<-m.done
		}
	})
	return nil
}

// Sweep removes keys whose calls have all left their window and quotas
// whose period has ended. The janitor calls it periodically.
func (m *Memory) Sweep() {
	now := m.now()
	t := now.Sub(m.base).Nanoseconds()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, l := range s.logs {
			if l.expires <= t {
				delete(s.logs, k)
			}
		}
		for k, q := range s.quotas {
			if !q.expires.IsZero() && !now.Before(q.expires) {
				delete(s.quotas, k)
			}
		}
		s.mu.Unlock()
	}
}

// Len returns the number of rate-limit and quota keys held (for metrics and
// tests).
func (m *Memory) Len() (logs, quotas int) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		logs += len(s.logs)
		quotas += len(s.quotas)
		s.mu.Unlock()
	}
	return logs, quotas
}

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// prune drops entries that left the window ending at t.
func (l *slidingLog) prune(t, win int64) {
	cutoff := t - win
	for l.head < len(l.entries) && l.entries[l.head].ts <= cutoff {
		l.sum -= l.entries[l.head].n
		l.head++
	}
	if l.head == len(l.entries) {
		l.entries = l.entries[:0]
		l.head = 0
	} else if l.head >= 32 && l.head*2 >= len(l.entries) {
		n := copy(l.entries, l.entries[l.head:])
		l.entries = l.entries[:n]
		l.head = 0
	}
}

func (l *slidingLog) add(t, win, n int64) {
	if k := len(l.entries); k > l.head && l.entries[k-1].ts == t {
		l.entries[k-1].n += n
	} else {
		l.entries = append(l.entries, logEntry{ts: t, n: n})
	}
	l.sum += n
	l.expires = t + win
}

// retryAfter is the time until the calls in the log drop to limit-n.
func (l *slidingLog) retryAfter(t, win, limit, n int64) time.Duration {
	if n > limit || limit <= 0 {
		return time.Duration(win)
	}
	need := l.sum + n - limit
	var freed int64
	for _, e := range l.entries[l.head:] {
		freed += e.n
		if freed >= need {
			return time.Duration(e.ts + win - t)
		}
	}
	return 0
}

func (m *Memory) decide(key string, limit int64, window time.Duration, n int64, count bool) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	t := m.now().Sub(m.base).Nanoseconds()
	win := window.Nanoseconds()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logs[key]
	var used int64
	if l != nil {
		l.prune(t, win)
		used = l.sum
	}
	if used+n <= limit && limit > 0 {
		if count {
			if l == nil {
				l = &slidingLog{}
				s.logs[key] = l
			}
			l.add(t, win, n)
			used += n
		}
		return Decision{Allowed: true, Remaining: limit - used}, nil
	}
	d := Decision{Remaining: max(limit-used, 0), RetryAfter: time.Duration(win)}
	if l != nil {
		d.RetryAfter = l.retryAfter(t, win, limit, n)
	}
	return d, nil
}

// Take implements Limiter.
func (m *Memory) Take(_ context.Context, key string, limit int64, window time.Duration, n int64) (Decision, error) {
	if n <= 0 {
		return m.decide(key, limit, window, 1, false)
	}
	return m.decide(key, limit, window, n, true)
}

// Peek implements Limiter.
func (m *Memory) Peek(_ context.Context, key string, limit int64, window time.Duration) (Decision, error) {
	return m.decide(key, limit, window, 1, false)
}

// Add implements Limiter.
func (m *Memory) Add(_ context.Context, key string, window time.Duration, n int64) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	t := m.now().Sub(m.base).Nanoseconds()
	win := window.Nanoseconds()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logs[key]
	if l == nil {
		l = &slidingLog{}
		s.logs[key] = l
	} else {
		l.prune(t, win)
	}
	l.add(t, win, n)
	return nil
}

// Quota implements Limiter.
func (m *Memory) Quota(_ context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error) {
	if period < 0 {
		return QuotaDecision{}, ErrInvalidWindow
	}
	calls, addCalls, addBytes = max(calls, 0), max(addCalls, 0), max(addBytes, 0)
	byteLimit := max(kbytes, 0) * 1024
	now := m.now()
	nowUS, periodUS := now.UnixMicro(), period.Microseconds()
	cur, end := quotaPeriod(nowUS, start.UnixMicro(), periodUS)

	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.quotas[key]
	var uc, ub int64
	if q != nil && q.periodStart == cur && q.periodUS == periodUS {
		uc, ub = q.calls, q.bytes
	}
	cx, bx := overQuota(uc, addCalls, calls), overQuota(ub, addBytes, byteLimit)
	d := QuotaDecision{Allowed: !cx && !bx, Bandwidth: bx && !cx}
	if d.Allowed && (addCalls > 0 || addBytes > 0) {
		uc += addCalls
		ub += addBytes
		if q == nil {
			q = &quotaState{}
			s.quotas[key] = q
		}
		*q = quotaState{periodStart: cur, periodUS: periodUS, calls: uc, bytes: ub}
		if end >= 0 {
			q.expires = time.UnixMicro(end)
		}
	}
	d.CallsRemaining = remainingQuota(uc, calls)
	d.BytesRemaining = remainingQuota(ub, byteLimit)
	if end >= 0 {
		d.Renewal = time.Duration(end-nowUS) * time.Microsecond
	}
	return d, nil
}
