package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestFileModes: the database and its -wal and -shm files are readable by
// their owner only, whether Open creates the file or finds it readable by
// others (made by an older version or under a lax umask).
func TestFileModes(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, path string) {
		t.Helper()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// A write makes SQLite create -wal and -shm.
		if _, _, err := s.Throttles().Hit(ctx, "mode-test", 1, s.now(), 60e9); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Base(p), m)
			}
		}
	}
	t.Run("created", func(t *testing.T) {
		check(t, filepath.Join(t.TempDir(), "new.db"))
	})
	t.Run("existing world-readable", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "old.db")
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		check(t, path)
	})
}
