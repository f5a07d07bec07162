package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
)

// Migrations are numbered files NNNN_name.sql, applied in order. They only
// ever add (tables, columns, indexes): an older binary must keep working on
// a schema a newer one has not yet changed, and nothing is ever lost by an
// upgrade. TestMigrationsNotDestructive enforces it.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// loadMigrations reads the embedded migrations, sorted by version.
func loadMigrations(fsys fs.FS) ([]sqlcommon.Migration, error) {
	return sqlcommon.LoadMigrations(fsys, "sqlite")
}

// migrate applies the pending migrations in one immediate transaction (so a
// second process opening the same file at once waits, then finds nothing
// left to do), and refuses a database whose schema is newer than this
// binary knows.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("sqlite: creating schema_migrations: %w", mapErr(err))
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("sqlite: reading schema version: %w", mapErr(err))
		}
		if current > len(ms) {
			return fmt.Errorf("sqlite: database schema version %d is newer than this binary supports (%d): upgrade gatehouse, or restore a backup made for this version", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("sqlite: migration %s: %w", m.Name, mapErr(err))
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, s.now().UnixMicro()); err != nil {
				return fmt.Errorf("sqlite: recording migration %s: %w", m.Name, mapErr(err))
			}
		}
		return nil
	})
}
