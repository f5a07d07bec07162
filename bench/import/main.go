// Command import measures `gatehouse users import` (the migration of a
// directory: one Graph user per line, ids and password hashes kept) on
// SQLite and on PostgreSQL in one run, against the target of 100,000
// users in under a minute, and prints users/s and the ratio to that
// target.
//
// It builds ./cmd/gatehouse and needs PostgreSQL at 127.0.0.1:5432 with
// trust auth (a scratch database is created and dropped).
//
//	go run ./bench/import [-n 100000]
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/bench/internal/benchkit"
)

const pgAdmin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func main() {
	n := flag.Int("n", 100000, "users to import")
	flag.Parse()
	dir, err := os.MkdirTemp("", "gatehouse-import-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := benchkit.BuildGatehouse(dir)
	users := filepath.Join(dir, "users.jsonl")
	if err := writeUsers(users, *n); err != nil {
		log.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(os.Environ(), "GH_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgAdmin)
	if err != nil {
		log.Fatalf("PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	db := "gatehouse_import_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		log.Fatal(err)
	}
	defer admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)")

	fmt.Printf("gatehouse users import, %d users with bcrypt hashes, %s, %d CPUs\n", *n, time.Now().Format("2006-01-02"), benchkit.NumCPU())
	for _, c := range []struct{ name, storage string }{
		{"SQLite", "sqlite://" + filepath.Join(dir, "data", "gatehouse.db")},
		{"PostgreSQL", "postgres://postgres@127.0.0.1:5432/" + db + "?sslmode=disable"},
	} {
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			log.Fatal(err)
		}
		cfg := filepath.Join(dir, "gatehouse-"+strings.ToLower(c.name)+".yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`identity:
  listen: 127.0.0.1:0
  publicUrl: http://127.0.0.1:9
  tenant: { name: contoso, id: 8d2f6a4e-0000-4000-8000-000000000001 }
  storage: %s
  masterKey: env:GH_MASTER_KEY
`, c.storage)), 0o600); err != nil {
			log.Fatal(err)
		}
		cmd := exec.Command(bin, "users", "import", "--config", cfg, "--file", users)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			log.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		fmt.Printf("  %-10s %8.1f s  %8.0f users/s  %.2f of the minute the target allows\n", c.name, d.Seconds(), float64(*n)/d.Seconds(), d.Seconds()/60)
	}
}

// writeUsers writes n Graph users as B2C's export has them, each with a
// bcrypt hash brought from an older system.
func writeUsers(file string, n int) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	const hash = "$2a$04$abcdefghijklmnopqrstuu5Gf1TqPq7P8E0yH/6n6W5vYwC3cU3gm"
	enc := json.NewEncoder(f)
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		if err := enc.Encode(map[string]any{"id": id, "displayName": fmt.Sprintf("User %d", i), "accountEnabled": true,
			"createdDateTime": "2021-05-04T03:02:01Z",
			"identities":      []map[string]string{{"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": fmt.Sprintf("user%d@example.com", i)}},
			"passwordHash":    map[string]string{"algorithm": "bcrypt", "value": hash}}); err != nil {
			return err
		}
	}
	return nil
}
