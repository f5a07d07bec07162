package storeopen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/store"
)

var seq int

func check(t *testing.T, url string) {
	t.Helper()
	st, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open(%q): %v", url, err)
	}
	defer st.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, ok := st.(store.Sweeper); !ok {
		t.Fatalf("%T is not a store.Sweeper", st)
	}
	seq++
	id := fmt.Sprint("u", seq)
	if err := st.Users().Create(t.Context(), &store.User{ID: id, Email: id + "@example.com"}); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	check(t, "sqlite://"+filepath.Join(dir, "abs.db")) // sqlite:///tmp/.../abs.db
	if _, err := os.Stat(filepath.Join(dir, "abs.db")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	check(t, "sqlite://./rel.db")
	check(t, "sqlite://rel2.db")
	for _, name := range []string{"rel.db", "rel2.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("relative path not under the working directory: %v", err)
		}
	}
	check(t, "sqlite::memory:")
	check(t, "sqlite://:memory:")
}

func TestOpenPostgres(t *testing.T) {
	url := testutil.Postgres(t)
	check(t, url)
	check(t, "postgresql://"+strings.TrimPrefix(url, "postgres://")+"&pool_max_conns=2")
}

func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{"", "mysql://root:secret@db/x", "sqlite://", "sqlite:///", "/var/lib/g.db", "redis://x", "postgres://u:secret@127.0.0.1:notaport/db"} {
		_, err := Open(t.Context(), url)
		if err == nil {
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error leaks the password: %v", url, err)
		}
	}
	_, err := Open(t.Context(), "mysql://x")
	if err == nil || !strings.Contains(err.Error(), `"mysql"`) {
		t.Errorf("unknown scheme error = %v", err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Error("a bad URL is not an outage")
	}
}

// TestMustExist: WithMustExist refuses a missing SQLite file and leaves
// nothing behind; without it the file is created.
func TestMustExist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	if _, err := Open(ctx, "sqlite://"+path, WithMustExist()); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("MustExist created %s: %v", path, err)
	}
	st, err := Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, "sqlite://"+path, WithMustExist())
	if err != nil {
		t.Fatalf("existing file: %v", err)
	}
	st.Close()
	if CheckURL("sqlite://"+path) != nil || CheckURL("postgres://h/db") != nil || CheckURL("mysql://x") == nil || CheckURL("sqlite://") == nil {
		t.Error("CheckURL")
	}
}
