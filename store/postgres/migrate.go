package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Migrations are numbered files NNNN_name.sql, applied in order. They only
// ever add (tables, columns, indexes): an older binary must keep working on
// a schema a newer one has not yet changed, and nothing is ever lost by an
// upgrade. TestMigrationsNotDestructive enforces it.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLockKey is the advisory lock that serialises migrations. Advisory
// locks are per database, so processes on other databases do not wait.
const migrateLockKey int64 = 0x6761746568736531 // "gatehse1"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: name must be NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migrations must be numbered 1, 2, 3 ... without gaps; found %s", m.name)
		}
	}
	return ms, nil
}

// migrate applies the pending migrations in one transaction holding a
// transaction-scoped advisory lock: when several processes start at once,
// one migrates and the others wait, then find nothing left to do. The lock
// is taken before schema_migrations is even created, because concurrent
// CREATE TABLE IF NOT EXISTS can itself fail. A schema newer than this
// binary knows is refused.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("postgres: taking the migration lock: %w", mapErr(err))
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: creating schema_migrations: %w", mapErr(err))
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("postgres: reading schema version: %w", mapErr(err))
		}
		if current > len(ms) {
			return fmt.Errorf("postgres: database schema version %d is newer than this binary supports (%d): upgrade gatehouse", current, len(ms))
		}
		for _, m := range ms[current:] {
			// No arguments: the simple protocol, which runs the file's
			// several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, mapErr(err))
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return fmt.Errorf("postgres: recording migration %s: %w", m.name, mapErr(err))
			}
		}
		return nil
	})
}
