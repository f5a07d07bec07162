package keyring

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func kidOf(t *testing.T, jws string) string {
	t.Helper()
	var h struct{ Kid string }
	b, _ := b64(strings.Split(jws, ".")[0])
	_ = json.Unmarshal(b, &h)
	return h.Kid
}

func jwksKids(t *testing.T, k *Keyring) []string {
	var s struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(k.JWKS(), &s); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range s.Keys {
		ids = append(ids, x.Kid)
	}
	return ids
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var master = []byte("0123456789abcdef0123456789abcdef")

func openStore(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRotation: a successor is published PublishAhead before it signs;
// the retired key stays until its last token expired; two processes
// sharing the store agree.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{Algorithm: "ES256", RotateEvery: 30 * 24 * time.Hour, MaxTokenLifetime: 2 * time.Hour, Now: c.Now}
	a, err := New(ctx, st.SigningKeys(), master, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, st.SigningKeys(), master, opts) // a second process
	if err != nil {
		t.Fatal(err)
	}
	k1 := a.SigningKeyID()
	if b.SigningKeyID() != k1 {
		t.Fatalf("processes disagree: %s %s", k1, b.SigningKeyID())
	}
	tok, _ := a.Sign([]byte(`{"x":1}`))
	if kidOf(t, tok) != k1 {
		t.Fatal("token not signed by the current key")
	}
	// 29 days later: the successor is created and published, not signing.
	c.Add(29*24*time.Hour + time.Minute)
	for _, k := range []*Keyring{a, b} {
		if err := k.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	kids := jwksKids(t, a)
	if len(kids) != 2 || !has(kids, k1) {
		t.Fatalf("JWKS after successor: %v", kids)
	}
	if a.SigningKeyID() != k1 || b.SigningKeyID() != k1 {
		t.Fatal("successor signs before its NotBefore")
	}
	var k2 string
	for _, k := range kids {
		if k != k1 {
			k2 = k
		}
	}
	if got := jwksKids(t, b); len(got) != 2 || !has(got, k2) {
		t.Fatalf("second process sees %v (want one successor, no duplicate)", got)
	}
	// Day 30: the successor signs (even before the next refresh); the
	// old key is still published.
	c.Add(24 * time.Hour)
	if a.SigningKeyID() != k2 {
		t.Fatalf("signing %s, want successor %s", a.SigningKeyID(), k2)
	}
	if tok, _ := b.Sign([]byte(`{}`)); kidOf(t, tok) != k2 {
		t.Fatal("process b does not sign with the successor")
	}
	_ = a.Refresh(ctx)
	if kids := jwksKids(t, a); !has(kids, k1) {
		t.Fatal("retired key left the JWKS before its tokens expired")
	}
	// After the longest token lifetime the retired key is gone.
	c.Add(2*time.Hour + time.Second)
	_ = a.Refresh(ctx)
	if kids := jwksKids(t, a); has(kids, k1) || !has(kids, k2) {
		t.Fatalf("JWKS after retirement: %v", kids)
	}
	rows, _ := st.SigningKeys().List(ctx)
	if len(rows) != 1 {
		t.Errorf("store holds %d keys, want 1", len(rows))
	}
}

// TestRacingCreation: two processes both create a successor; the tie-break
// makes them agree and the extra key is deleted.
func TestRacingCreation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{Algorithm: "ES256", RotateEvery: 10 * 24 * time.Hour, Now: c.Now}
	a, _ := New(ctx, st.SigningKeys(), master, opts)
	b, _ := New(ctx, st.SigningKeys(), master, opts)
	k1 := a.SigningKeyID()
	c.Add(9*24*time.Hour + time.Minute)
	// Both decide from the same old view: simulate by creating twice.
	cur := &store.SigningKey{}
	rows, _ := st.SigningKeys().List(ctx)
	for _, r := range rows {
		if r.ID == k1 {
			cur = r
		}
	}
	nb := cur.NotBefore.Add(opts.RotateEvery)
	if _, err := a.create(ctx, c.Now(), nb); err != nil {
		t.Fatal(err)
	}
	if _, err := b.create(ctx, c.Now(), nb); err != nil {
		t.Fatal(err)
	}
	_ = a.Refresh(ctx)
	_ = b.Refresh(ctx)
	if got := jwksKids(t, b); len(got) != 2 {
		t.Fatalf("duplicate successor kept: %v", got)
	}
	c.Add(24 * time.Hour)
	if a.SigningKeyID() != b.SigningKeyID() || a.SigningKeyID() == k1 {
		t.Fatalf("processes disagree after rotation: %s %s", a.SigningKeyID(), b.SigningKeyID())
	}
}

func TestMasterKeyRequired(t *testing.T) {
	st := openStore(t)
	if _, err := New(context.Background(), st.SigningKeys(), []byte("short"), Options{}); err == nil {
		t.Fatal("short master key accepted")
	}
	a, err := New(context.Background(), st.SigningKeys(), master, Options{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	_ = a
	other := []byte("ffffffffffffffffffffffffffffffff")
	if _, err := New(context.Background(), st.SigningKeys(), other, Options{Algorithm: "ES256"}); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("wrong master key: %v", err)
	}
}

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestRotateNow(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kr, err := New(context.Background(), st.SigningKeys(), master, Options{Now: clock, MaxTokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	first := kr.SigningKeyID()
	next, err := kr.RotateNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == first || !next.NotBefore.Equal(now.Add(DefaultPublishAhead)) {
		t.Fatalf("successor %s signs from %v", next.ID, next.NotBefore)
	}
	again, err := kr.RotateNow(context.Background())
	if err != nil || again.ID != next.ID {
		t.Fatalf("a second RotateNow made another key: %v %v", again, err)
	}
	if err := kr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kr.SigningKeyID() != first {
		t.Error("the successor signs before its publish-ahead period")
	}
	if kids := jwksKids(t, kr); !has(kids, first) || !has(kids, next.ID) {
		t.Errorf("JWKS = %v, want both keys", kids)
	}
	now = now.Add(DefaultPublishAhead)
	if err := kr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kr.SigningKeyID() != next.ID {
		t.Error("the successor does not sign after its publish-ahead period")
	}
}
