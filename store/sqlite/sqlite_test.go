package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
	"github.com/gatehouse/gatehouse/store/storetest"
)

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the shared suite on a temporary file; each open is a
// separate Store (its own pools) on that file, as separate processes would
// be.
func TestConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, path) })
}

// TestConformanceMemory runs the suite on an in-memory database with one
// store only (all concurrency inside one process).
func TestConformanceMemory(t *testing.T) {
	s := openAt(t, Memory)
	storetest.Run(t, func(t *testing.T) store.Store { return s })
}

func TestWALAndForeignKeys(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "g.db"))
	var mode string
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.r.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("reader foreign_keys = %d, %v", fk, err)
	}
	if err := s.w.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("writer foreign_keys = %d, %v", fk, err)
	}
	// Readers are read-only.
	if _, err := s.r.Exec("DELETE FROM codes"); err == nil {
		t.Fatal("a reader connection could write")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s := openAt(t, path)
	u := &store.User{ID: "u1", Email: "a@example.com"}
	if err := s.Users().Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s2 := openAt(t, path) // migrations already applied: nothing to do
	if _, err := s2.Users().GetByEmail(t.Context(), "A@example.com"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	var n int
	if err := s2.r.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(mustMigrations(t)) {
		t.Fatalf("schema_migrations rows = %d, %v", n, err)
	}
}

func mustMigrations(t *testing.T) []sqlcommon.Migration {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestNewerSchemaRefused: a database migrated by a newer binary is not
// touched by an older one.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s := openAt(t, path)
	if _, err := s.w.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err := Open(t.Context(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestMigrationsNotDestructive: migrations only add.
func TestMigrationsNotDestructive(t *testing.T) {
	bad := regexp.MustCompile(`(?i)\b(DROP|DELETE\s+FROM|TRUNCATE|RENAME)\b`)
	for _, m := range mustMigrations(t) {
		for _, line := range strings.Split(m.SQL, "\n") {
			code, _, _ := strings.Cut(line, "--")
			if bad.MatchString(code) {
				t.Errorf("%s: destructive statement: %s", m.Name, strings.TrimSpace(line))
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "g.db"), Options{}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open in a missing directory: %v, want ErrUnavailable", err)
	}
	if _, err := Open(t.Context(), "a?b.db", Options{}); err == nil {
		t.Fatal("Open accepted a path with '?'")
	}
	if _, err := Open(t.Context(), "", Options{}); err == nil {
		t.Fatal("Open accepted an empty path")
	}
}

func TestClosedStoreUnavailable(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "g.db"))
	_ = s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping after Close: %v, want ErrUnavailable", err)
	}
}

func BenchmarkCodeConsume(b *testing.B) {
	storetest.BenchmarkCodeConsume(b, openAt(b, filepath.Join(b.TempDir(), "bench.db")))
}

func BenchmarkRefreshRotate(b *testing.B) {
	storetest.BenchmarkRefreshRotate(b, openAt(b, filepath.Join(b.TempDir(), "bench.db")))
}

// TestIdentitiesBackfill: upgrading a database made before the identity
// index fills it from the users' identities; of two accounts that share
// one (nothing prevented it then) the older keeps it.
func TestIdentitiesBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s := openAt(t, path)
	ctx := t.Context()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"older", "newer"} {
		u := &store.User{ID: id, Email: id + "@example.com", CreatedAt: old.Add(time.Duration(i) * time.Hour),
			Identities: []store.Identity{{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: id + "@example.com"}}}
		if err := s.Users().Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// As an older binary left it: both with one federated identity, no
	// index, migration 7 not applied.
	for _, q := range []string{
		`UPDATE users SET identities = json_insert(identities, '$[#]', json('{"signInType":"federated","issuer":"Facebook.com","issuerAssignedId":"Fb-7"}'))`,
		"DROP TABLE user_identities", "DELETE FROM schema_migrations WHERE version >= 7"} {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = s.Close()
	s2 := openAt(t, path)
	u, err := s2.Users().GetByIdentity(ctx, "federated", "facebook.com", "Fb-7")
	if err != nil || u.ID != "older" {
		t.Fatalf("the shared identity: %v %v", u, err)
	}
	if u, err := s2.Users().GetByIdentity(ctx, "emailAddress", "contoso.onmicrosoft.com", "NEWER@example.com"); err != nil || u.ID != "newer" {
		t.Fatalf("the newer account's own identity: %v %v", u, err)
	}
}
