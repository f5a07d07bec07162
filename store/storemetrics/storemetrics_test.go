package storemetrics_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
	"github.com/gatehouse/gatehouse/store/storemetrics"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// TestConformance runs the store suite through the decorator: it must
// change nothing but report every call.
func TestConformance(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var mu sync.Mutex
	ops := map[string]int{}
	w := storemetrics.Wrap(s, func(op string, d time.Duration) {
		mu.Lock()
		ops[op]++
		mu.Unlock()
	})
	if _, ok := w.(store.Sweeper); !ok {
		t.Fatal("the wrapped SQLite store lost its Sweep method")
	}
	if storemetrics.Unwrap(w) != store.Store(s) {
		t.Fatal("Unwrap does not return the backend")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return w })
	mu.Lock()
	defer mu.Unlock()
	for _, op := range []string{"users.create", "users.get_by_email", "throttles.hit", "refresh.rotate", "codes.consume", "lockouts.update", "sweep"} {
		if ops[op] == 0 {
			t.Errorf("no observation for %s (got %v)", op, ops)
		}
	}
}
