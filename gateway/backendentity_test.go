package gateway

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// countingBackend answers status (settable) and counts its calls.
type countingBackend struct {
	*httptest.Server
	mu     sync.Mutex
	calls  int
	status int
	retry  string
}

func newCountingBackend(t *testing.T) *countingBackend {
	b := &countingBackend{status: 200}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.calls++
		status, retry := b.status, b.retry
		b.mu.Unlock()
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *countingBackend) set(status int, retry string) {
	b.mu.Lock()
	b.status, b.retry = status, retry
	b.mu.Unlock()
}

func (b *countingBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// Backend entities: a pool spreads requests over its lowest priority by
// weight; a member whose circuit breaker tripped gets nothing and the next
// priority takes over; when every circuit is open the gateway answers 503
// without calling anyone. A single backend's breaker honours Retry-After.
func TestBackendPoolsAndCircuitBreakers(t *testing.T) {
	a, b, c, single := newCountingBackend(t), newCountingBackend(t), newCountingBackend(t), newCountingBackend(t)
	breaker := `circuitBreaker: { failures: 3, interval: 1m, statusCodes: ["500-599"], tripDuration: 1h }`
	cfg := loadConfig(t, t.TempDir(), `  backends:
    a: { url: "`+a.URL+`", `+breaker+` }
    b: { url: "`+b.URL+`", `+breaker+` }
    c: { url: "`+c.URL+`", `+breaker+` }
    pool: { pool: [{ id: a, priority: 1, weight: 1 }, { id: b, priority: 1, weight: 3 }, { id: c, priority: 2 }] }
    single: { url: "`+single.URL+`", circuitBreaker: { failures: 2, interval: 1m, statusCodes: ["429", "503"], tripDuration: 1s, acceptRetryAfter: true } }
  apis:
    - { name: p, path: p, serviceUrl: "http://unused.invalid", subscriptionRequired: false, policy: pool.xml }
    - { name: s, path: s, serviceUrl: "http://unused.invalid", subscriptionRequired: false, policy: single.xml }
`, map[string]string{
		"pool.xml":   `<policies><inbound><base/><set-backend-service backend-id="pool"/></inbound></policies>`,
		"single.xml": `<policies><inbound><base/><set-backend-service backend-id="single"/></inbound></policies>`,
	})
	_, srv := start(t, cfg, Options{})
	call := func(path string) int {
		t.Helper()
		return get(t, srv.URL+path).status
	}
	for range 400 {
		if s := call("/p/x"); s != 200 {
			t.Fatalf("pool: %d", s)
		}
	}
	if c.count() != 0 || a.count()+b.count() != 400 || b.count() < 220 || b.count() > 370 {
		t.Fatalf("priority 1 by weight 1:3: a %d, b %d, c %d", a.count(), b.count(), c.count())
	}
	// failThrice makes m fail until it has had three failures (its
	// breaker's threshold); bounded, so a broken breaker fails the test.
	failThrice := func(m *countingBackend, status int) {
		t.Helper()
		m.set(status, "")
		start := m.count()
		for i := 0; m.count() < start+3; i++ {
			if i > 1000 {
				t.Fatalf("the backend got %d requests in 1,000", m.count()-start)
			}
			call("/p/x")
		}
	}
	// a fails three times: its circuit opens; priority 1 is b alone.
	failThrice(a, 500)
	before := a.count()
	for range 50 {
		call("/p/x")
	}
	if a.count() != before {
		t.Fatalf("a got %d requests with its circuit open", a.count()-before)
	}
	// b trips too: priority 2 (c) takes over.
	failThrice(b, 502)
	cBefore := c.count()
	for range 10 {
		if s := call("/p/x"); s != 200 {
			t.Fatalf("priority 2: %d", s)
		}
	}
	if c.count() != cBefore+10 {
		t.Fatalf("c answered %d of 10", c.count()-cBefore)
	}
	// c trips: nobody is left.
	failThrice(c, 500)
	total := a.count() + b.count() + c.count()
	resp := get(t, srv.URL+"/p/x")
	if resp.status != 503 || a.count()+b.count()+c.count() != total {
		t.Fatalf("every circuit open: %d (%d backend calls more)", resp.status, a.count()+b.count()+c.count()-total)
	}

	// A single backend: 503 with Retry-After twice trips it for that long.
	single.set(503, "3600")
	call("/s/x")
	call("/s/x")
	n := single.count()
	if s := call("/s/x"); s != 503 || single.count() != n {
		t.Fatalf("single backend with an open circuit: %d, %d calls more", s, single.count()-n)
	}
}
