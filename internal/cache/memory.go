package cache

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Option configures NewMemory.
type Option func(*Memory)

// WithClock makes the memory cache read time from now (for tests).
func WithClock(now func() time.Time) Option { return func(m *Memory) { m.now = now } }

// WithMaxBytes bounds the bytes of keys and values held (0: no bound but
// the entry count). Set evicts as it does for the entry count.
func WithMaxBytes(n int) Option { return func(m *Memory) { m.maxBytes = n } }

// Memory is an in-process Store holding at most maxEntries values (and,
// with WithMaxBytes, at most that many bytes). When full, Set evicts the
// entry that expires soonest (expired entries first). Expired entries are
// dropped lazily (on Get, or when evicted); memory is bounded by the
// limits, so no janitor goroutine is needed.
type Memory struct {
	mu       sync.Mutex
	now      func() time.Time
	max      int
	maxBytes int
	bytes    int
	m        map[string]*entry
	heap     expiryHeap
}

type entry struct {
	key     string
	value   []byte
	expires time.Time
	index   int // in heap
}

// NewMemory returns a cache of at most maxEntries values (minimum 1).
func NewMemory(maxEntries int, opts ...Option) *Memory {
	m := &Memory{now: time.Now, max: max(maxEntries, 1), m: make(map[string]*entry)}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.m[key]
	if e == nil {
		return nil, false, nil
	}
	if !m.now().Before(e.expires) {
		m.remove(e)
		return nil, false, nil
	}
	return append([]byte(nil), e.value...), true, nil
}

// Set implements Store; ttl <= 0 deletes key instead.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.m[key]; e != nil {
		m.remove(e)
	}
	size := len(key) + len(value)
	if ttl <= 0 || m.maxBytes > 0 && size > m.maxBytes {
		return nil
	}
	for len(m.m) >= m.max || m.maxBytes > 0 && m.bytes+size > m.maxBytes {
		m.remove(m.heap[0])
	}
	e := &entry{key: key, value: append([]byte(nil), value...), expires: m.now().Add(ttl)}
	m.m[key] = e
	m.bytes += size
	heap.Push(&m.heap, e)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.m[key]; e != nil {
		m.remove(e)
	}
	return nil
}

// Len returns the number of entries held, expired ones included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

func (m *Memory) remove(e *entry) {
	m.bytes -= len(e.key) + len(e.value)
	delete(m.m, e.key)
	heap.Remove(&m.heap, e.index)
}

type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
