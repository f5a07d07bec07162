package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/store"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Default, 2)
	enc, err := h.Hash(ctx, "Correct horse 1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("format: %s", enc)
	}
	ok, re, err := h.Verify(ctx, enc, "Correct horse 1")
	if err != nil || !ok || re {
		t.Fatalf("verify: %v %v %v", ok, re, err)
	}
	ok, _, err = h.Verify(ctx, enc, "Correct horse 2")
	if err != nil || ok {
		t.Fatalf("wrong password verified: %v %v", ok, err)
	}
	// Older parameters still verify and ask for a rehash.
	old := NewHasher(Params{Memory: 4096, Time: 1, Threads: 1}, 1)
	enc2, _ := old.Hash(ctx, "pw")
	ok, re, err = h.Verify(ctx, enc2, "pw")
	if err != nil || !ok || !re {
		t.Fatalf("old params: %v %v %v", ok, re, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, _, err := h.Verify(ctx, bad, "x"); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// A known vector from another implementation's output format round-trips through Decode.
	p, _, _, err := Decode(enc)
	if err != nil || p.Memory != 19456 || p.Time != 2 || p.Threads != 1 || p.KeyLen != 32 {
		t.Fatalf("decode: %+v %v", p, err)
	}
}

func TestSemaphoreHonoursContext(t *testing.T) {
	h := NewHasher(Default, 1)
	h.sem <- struct{}{} // occupied
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	custom := identity.PasswordRules{MinLength: 4, MaxLength: 6, DigitsOnly: true}
	custom2 := identity.PasswordRules{MinLength: 10, MaxLength: 256, Classes: 4}
	cases := []struct {
		r    identity.PasswordRules
		pw   string
		want string // substring of error; "" = ok
	}{
		{Simple, "abcdefgh", ""},
		{Simple, "abcdefg", "between 8 and 64"},
		{Simple, strings.Repeat("a", 65), "between 8 and 64"},
		{Strong, "abcdefgh", "at least 3"},
		{Strong, "abcdEFGH", "at least 3"},
		{Strong, "abcdEFG1", ""},
		{Strong, "abcd!fg1", ""},
		{identity.PasswordRules{}, "abcdefgh", "at least 3"},
		{custom, "1234", ""},
		{custom, "12a4", "only numbers"},
		{custom, "123", "between 4 and 6"},
		{custom2, "abcdEFGH12", "at least 4"},
		{custom2, "abcdEFGH1!", ""},
		{Strong, "Ab1\x00defgh", "not allowed"},
		{Strong, "Äbcdéfg1", ""},
	}
	for _, c := range cases {
		err := Check(c.r, c.pw)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v %q: %v", c.r, c.pw, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v %q: got %v want %q", c.r, c.pw, err, c.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	for n, want := range map[int]time.Duration{0: time.Minute, 9: time.Minute, 10: 2 * time.Minute,
		19: 2 * time.Minute, 20: 4 * time.Minute, 80: 256 * time.Minute, 90: 5 * time.Hour, 1000: 5 * time.Hour} {
		if got := Period(time.Minute, n); got != want {
			t.Errorf("Period(%d) = %v want %v", n, got, want)
		}
	}
}

// memLockouts is a minimal atomic Lockouts for the unit test of the rule.
type memLockouts struct {
	mu sync.Mutex
	m  map[string]store.Lockout
}

func (s *memLockouts) Get(_ context.Context, k string) (*store.Lockout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[k]
	return &l, nil
}
func (s *memLockouts) Update(_ context.Context, k string, fn func(*store.Lockout) error) (*store.Lockout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[k]
	if err := fn(&l); err != nil {
		return nil, err
	}
	s.m[k] = l
	return &l, nil
}
func (s *memLockouts) Reset(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func TestLockoutRule(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Lockout{Store: &memLockouts{m: map[string]store.Lockout{}}, Key: []byte("k"), Now: func() time.Time { return now }}
	for i := 0; i < 9; i++ {
		if locked, _ := l.Fail(ctx, "u", "wrong"+string(rune('a'+i))); locked {
			t.Fatalf("locked after %d", i+1)
		}
	}
	// Same wrong password again: not counted.
	if locked, _ := l.Fail(ctx, "u", "wrongi"); locked {
		t.Fatal("repeat counted")
	}
	if locked, _ := l.Fail(ctx, "u", "wrong10"); !locked {
		t.Fatal("not locked after 10")
	}
	// Lock periods: 10 × 1 min, then 2 min.
	for i := 1; i <= 12; i++ {
		until, locked, _ := l.Locked(ctx, "u")
		want := Period(time.Minute, i-1)
		if !locked || until.Sub(now) != want {
			t.Fatalf("period %d: %v %v want %v", i, locked, until.Sub(now), want)
		}
		now = until
		if _, locked, _ := l.Locked(ctx, "u"); locked {
			t.Fatal("still locked at until")
		}
		if locked, _ := l.Fail(ctx, "u", "again"+string(rune('a'+i))); !locked {
			t.Fatalf("failure after unlock %d did not re-lock", i)
		}
	}
	// Success while unlocked resets.
	until, _, _ := l.Locked(ctx, "u")
	now = until
	if err := l.Succeed(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if locked, _ := l.Fail(ctx, "u", "x"); locked {
		t.Fatal("not reset")
	}
}

// BenchmarkHash measures one argon2id hash at the default parameters
// (a sign-in costs one verification, i.e. one hash).
func BenchmarkHash(b *testing.B) {
	h := NewHasher(Default, 0)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "Correct horse 1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
