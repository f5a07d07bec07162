package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func openURL(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the shared suite on a fresh database; each open is
// a separate pool, as separate processes would have.
func TestConformance(t *testing.T) {
	url := testutil.Postgres(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openURL(t, url, Options{MaxConns: 8}) })
}

// TestConcurrentMigrations: processes starting at once on an empty
// database migrate it once (the advisory lock), and all start.
func TestConcurrentMigrations(t *testing.T) {
	url := testutil.Postgres(t)
	const n = 6
	errs := make([]error, n)
	stores := make([]*Store, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = Open(t.Context(), url, Options{MaxConns: 2})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := stores[0].pool.QueryRow(t.Context(), "SELECT COUNT(*) FROM schema_migrations").Scan(&rows); err != nil || rows != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", rows, err, len(ms))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	url := testutil.Postgres(t)
	s := openURL(t, url, Options{})
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), url, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestMigrationsNotDestructive: migrations only add.
func TestMigrationsNotDestructive(t *testing.T) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`(?i)\b(DROP|DELETE\s+FROM|TRUNCATE|RENAME)\b`)
	for _, m := range ms {
		for _, line := range strings.Split(m.SQL, "\n") {
			code, _, _ := strings.Cut(line, "--")
			if bad.MatchString(code) {
				t.Errorf("%s: destructive statement: %s", m.Name, strings.TrimSpace(line))
			}
		}
	}
}

// TestUnreachableIsUnavailable: with nothing listening every operation
// fails with store.ErrUnavailable (callers answer 503), and so does Open.
func TestUnreachableIsUnavailable(t *testing.T) {
	url := "postgres://postgres@" + testutil.ClosedAddr(t) + "/test?sslmode=disable&connect_timeout=2"
	if _, err := Open(t.Context(), url, Options{}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open: %v, want ErrUnavailable", err)
	}
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	s := New(pool)
	defer s.Close()
	ctx := t.Context()
	checks := map[string]func() error{
		"Ping":    func() error { return s.Ping(ctx) },
		"Sweep":   func() error { return s.Sweep(ctx) },
		"Get":     func() error { _, err := s.Users().Get(ctx, "u"); return err },
		"Create":  func() error { return s.Users().Create(ctx, &store.User{ID: "u"}) },
		"Consume": func() error { _, err := s.Codes().Consume(ctx, "c"); return err },
		"Rotate":  func() error { _, err := s.Refresh().Rotate(ctx, "a", "b", time.Now()); return err },
		"Update": func() error {
			_, err := s.Lockouts().Update(ctx, "k", func(*store.Lockout) error { return nil })
			return err
		},
		"List": func() error { _, err := s.SigningKeys().List(ctx); return err },
	}
	for name, f := range checks {
		if err := f(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}

// proxy is a TCP relay to PostgreSQL that the test can cut and restore, to
// simulate an outage without stopping the shared server.
type proxy struct {
	t     *testing.T
	addr  string
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t *testing.T) *proxy {
	p := &proxy{t: t, addr: testutil.ClosedAddr(t)}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", testutil.PostgresAddr)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
}

// stop closes the listener and every relayed connection: the database
// "goes away" for the pool.
func (p *proxy) stop() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
		p.wg.Wait()
	}
}

// TestOutageAndRecovery: while the database is unreachable operations fail
// with ErrUnavailable; when it is back the same Store works again, without
// reopening (pgxpool discards broken connections and dials new ones). A
// real server restart is covered by the scale-out tests.
func TestOutageAndRecovery(t *testing.T) {
	url := testutil.Postgres(t)
	p := startProxy(t)
	proxied := strings.Replace(url, testutil.PostgresAddr, p.addr, 1) + "&connect_timeout=2"
	s := openURL(t, proxied, Options{MaxConns: 3})
	ctx := t.Context()

	code := &store.Code{Hash: "c-outage", Data: []byte("x"), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.Codes().Put(ctx, code); err != nil {
		t.Fatal(err)
	}
	// Fill the pool with connections that the outage will break.
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- s.Ping(ctx) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	p.stop()
	for i := range 5 {
		if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Ping %d during outage: %v, want ErrUnavailable", i, err)
		}
		if _, err := s.Codes().Consume(ctx, code.Hash); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Consume %d during outage: %v, want ErrUnavailable", i, err)
		}
	}

	p.start()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after recovery: %v", err)
	}
	got, err := s.Codes().Consume(ctx, code.Hash)
	if err != nil || string(got.Data) != "x" {
		t.Fatalf("Consume after recovery: %v, %v", got, err)
	}
}

func BenchmarkCodeConsume(b *testing.B) {
	storetest.BenchmarkCodeConsume(b, openURL(b, testutil.Postgres(b), Options{}))
}

func BenchmarkRefreshRotate(b *testing.B) {
	storetest.BenchmarkRefreshRotate(b, openURL(b, testutil.Postgres(b), Options{}))
}

// TestIdentitiesBackfill: upgrading a database made before the identity
// index fills it from the users' identities; of two accounts that share
// one (nothing prevented it then) the older keeps it.
func TestIdentitiesBackfill(t *testing.T) {
	url := testutil.Postgres(t)
	s := openURL(t, url, Options{})
	ctx := t.Context()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"older", "newer"} {
		u := &store.User{ID: id, Email: id + "@example.com", CreatedAt: old.Add(time.Duration(i) * time.Hour),
			Identities: []store.Identity{{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: id + "@example.com"}}}
		if err := s.Users().Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`UPDATE users SET identities = identities || '[{"signInType":"federated","issuer":"Facebook.com","issuerAssignedId":"Fb-7"}]'::jsonb`,
		"DROP TABLE user_identities", "DELETE FROM schema_migrations WHERE version >= 7"} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s2 := openURL(t, url, Options{})
	u, err := s2.Users().GetByIdentity(ctx, "federated", "facebook.com", "Fb-7")
	if err != nil || u.ID != "older" {
		t.Fatalf("the shared identity: %v %v", u, err)
	}
	if u, err := s2.Users().GetByIdentity(ctx, "emailAddress", "contoso.onmicrosoft.com", "NEWER@example.com"); err != nil || u.ID != "newer" {
		t.Fatalf("the newer account's own identity: %v %v", u, err)
	}
}
