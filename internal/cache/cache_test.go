package cache

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

func runConformance(t *testing.T, s Store) {
	ctx := context.Background()
	get := func(k string) ([]byte, bool) {
		t.Helper()
		v, ok, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return v, ok
	}
	if _, ok := get("missing"); ok {
		t.Fatal("missing key found")
	}
	val := []byte("v1\x00\xff")
	if err := s.Set(ctx, "k", val, time.Minute); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store kept its own copy
	if v, ok := get("k"); !ok || !bytes.Equal(v, []byte("v1\x00\xff")) {
		t.Fatalf("get = %q, %v", v, ok)
	}
	s.Set(ctx, "k", []byte("v2"), time.Minute)
	if v, _ := get("k"); string(v) != "v2" {
		t.Fatalf("overwrite: %q", v)
	}
	if err := s.Set(ctx, "empty", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := get("empty"); !ok || len(v) != 0 {
		t.Fatalf("empty value: %q, %v", v, ok)
	}
	// ttl <= 0 stores nothing and drops the old value.
	if err := s.Set(ctx, "k", []byte("v3"), 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := get("k"); ok {
		t.Fatal("ttl 0 left a value")
	}
	s.Set(ctx, "neg", []byte("x"), -time.Second)
	if _, ok := get("neg"); ok {
		t.Fatal("negative ttl stored")
	}
	s.Set(ctx, "d", []byte("x"), time.Minute)
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, ok := get("d"); ok {
		t.Fatal("deleted key found")
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := fmt.Sprintf("c%d", i%5)
				s.Set(ctx, k, []byte(k), time.Minute)
				if v, ok, err := s.Get(ctx, k); err != nil || (ok && string(v) != k) {
					t.Errorf("concurrent get %s = %q, %v", k, v, err)
				}
			}
		}()
	}
	wg.Wait()
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestMemoryConformance(t *testing.T) { runConformance(t, NewMemory(100)) }

func TestMemoryExpiryAndEviction(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMemory(3, WithClock(clk.Now))
	m.Set(ctx, "a", []byte("a"), 10*time.Second)
	m.Set(ctx, "b", []byte("b"), 5*time.Second)
	m.Set(ctx, "c", []byte("c"), 20*time.Second)
	clk.t = clk.t.Add(5*time.Second - time.Nanosecond)
	if _, ok, _ := m.Get(ctx, "b"); !ok {
		t.Fatal("b expired early")
	}
	clk.t = clk.t.Add(time.Nanosecond)
	if _, ok, _ := m.Get(ctx, "b"); ok {
		t.Fatal("b not expired at its ttl")
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d", m.Len())
	}
	// Full: the soonest to expire (a, at 10s) goes.
	m.Set(ctx, "d", []byte("d"), time.Minute)
	m.Set(ctx, "e", []byte("e"), time.Minute)
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	if _, ok, _ := m.Get(ctx, "a"); ok {
		t.Fatal("a not evicted")
	}
	for _, k := range []string{"c", "d", "e"} {
		if _, ok, _ := m.Get(ctx, k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
	// Overwriting an existing key never evicts another.
	m.Set(ctx, "c", []byte("c2"), time.Second)
	if m.Len() != 3 {
		t.Fatalf("Len = %d", m.Len())
	}
	// Expired entries are evicted before live ones.
	clk.t = clk.t.Add(2 * time.Second) // c expired, still held
	m.Set(ctx, "f", []byte("f"), time.Hour)
	for _, k := range []string{"d", "e", "f"} {
		if _, ok, _ := m.Get(ctx, k); !ok {
			t.Fatalf("%s missing", k)
		}
	}
}

func TestRedisConformance(t *testing.T) {
	c := testutil.Redis(t)
	runConformance(t, NewRedis(c, testutil.RedisPrefix(t, c)))
}

func TestRedisTTL(t *testing.T) {
	c := testutil.Redis(t)
	prefix := testutil.RedisPrefix(t, c)
	r := NewRedis(c, prefix)
	ctx := context.Background()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r.Set(ctx, "k", []byte("v"), 90*time.Second)
	if ttl := c.PTTL(ctx, prefix+"k").Val(); ttl <= 89*time.Second || ttl > 90*time.Second {
		t.Fatalf("PTTL = %v", ttl)
	}
	r.Set(ctx, "short", []byte("v"), 50*time.Millisecond)
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, ok, err := r.Get(ctx, "short"); err != nil {
			t.Fatal(err)
		} else if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("value never expired")
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	// Errors are reported, not swallowed.
	dead := NewRedis(deadClient(t), "x:")
	if _, _, err := dead.Get(ctx, "k"); err == nil {
		t.Fatal("get on dead Redis: nil error")
	}
	if err := dead.Set(ctx, "k", nil, time.Second); err == nil {
		t.Fatal("set on dead Redis: nil error")
	}
}

// WithMaxBytes: entries are evicted to stay under the byte bound, and a
// value larger than the bound is not kept at all.
func TestMemoryMaxBytes(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1000, WithMaxBytes(100))
	for i := range 10 {
		m.Set(ctx, fmt.Sprintf("k%d", i), make([]byte, 30), time.Duration(i+1)*time.Minute)
	}
	if m.Len() != 3 || m.bytes > 100 {
		t.Fatalf("%d entries, %d bytes", m.Len(), m.bytes)
	}
	if _, ok, _ := m.Get(ctx, "k9"); !ok {
		t.Fatal("the latest-expiring entry was evicted")
	}
	m.Set(ctx, "huge", make([]byte, 200), time.Hour)
	if _, ok, _ := m.Get(ctx, "huge"); ok {
		t.Fatal("a value over the bound was kept")
	}
	m.Delete(ctx, "k9")
	if m.bytes != 2*32 {
		t.Fatalf("bytes after delete: %d", m.bytes)
	}
}
