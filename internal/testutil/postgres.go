package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresAddr is where tests expect a PostgreSQL (15) with trust auth for
// the user postgres and a database named test.
const PostgresAddr = "127.0.0.1:5432"

// PostgresAdminURL is the connection used to create and drop the per-test
// databases.
const PostgresAdminURL = "postgres://postgres@" + PostgresAddr + "/test?sslmode=disable"

const postgresHint = "PostgreSQL not reachable at " + PostgresAddr +
	"; start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// Postgres creates a fresh, uniquely named database (through the test
// database) and returns its URL; the database is dropped when the test
// ends, even if connections are still open. When PostgreSQL does not
// answer the test is skipped, or failed when the environment variable CI
// is "true".
func Postgres(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, PostgresAdminURL+"&connect_timeout=2")
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (%v)", postgresHint, err)
		}
		t.Skip(postgresHint)
	}
	defer admin.Close(context.Background())

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := strings.ToLower(unsafeChars.ReplaceAllString(t.Name(), "_"))
	if len(name) > 30 {
		name = name[:30]
	}
	// A PostgreSQL identifier is at most 63 bytes.
	db := "gatehouse_test_" + name + "_" + hex.EncodeToString(b)
	ident := pgx.Identifier{db}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("creating database %s: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, PostgresAdminURL)
		if err != nil {
			t.Logf("dropping database %s: %v", db, err)
			return
		}
		defer c.Close(context.Background())
		// FORCE (PostgreSQL 13+) ends sessions a test left open.
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", db, err)
		}
	})
	return "postgres://postgres@" + PostgresAddr + "/" + db + "?sslmode=disable"
}
