package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
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

// loadMigrations reads the embedded migrations, sorted by version.
func loadMigrations(fsys fs.FS) ([]sqlcommon.Migration, error) {
	return sqlcommon.LoadMigrations(fsys, "postgres")
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
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, mapErr(err))
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("postgres: recording migration %s: %w", m.Name, mapErr(err))
			}
		}
		return nil
	})
}
