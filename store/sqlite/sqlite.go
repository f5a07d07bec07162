// Package sqlite is the embedded store.Store: one SQLite file (pure Go,
// modernc.org/sqlite), the default for single-process deployments.
//
// Connection design. SQLite allows one writer at a time; when several
// connections of one process race for the write lock, SQLite answers
// SQLITE_BUSY (a deferred transaction that read first cannot even wait for
// it). To avoid that the store keeps two pools:
//
//   - the writer: exactly one connection. Every write, and every
//     read-modify-write (Consume, Rotate, Lockouts.Update, Attempt), goes
//     through it, so this process's writers queue in database/sql instead
//     of fighting inside SQLite. Its transactions are BEGIN IMMEDIATE
//     (_txlock=immediate): the write lock is taken up front, so a
//     transaction never has to upgrade a read lock, which is what causes
//     unrecoverable SQLITE_BUSY.
//   - the readers: a few read-only connections (query_only). In WAL mode
//     they read a consistent snapshot while the writer writes.
//
// Other processes opening the same file (not recommended; use PostgreSQL
// for several processes) are handled by busy_timeout: SQLite waits for the
// lock instead of failing at once.
//
// An in-memory database (":memory:") exists only inside one connection, so
// it uses a single connection for both roles; it is for tests.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Memory is the path that opens a private in-memory database.
const Memory = ":memory:"

// Options tune Open. The zero value is good.
type Options struct {
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by
	// another process before failing with store.ErrUnavailable
	// (default 5s).
	BusyTimeout time.Duration
	// MustExist refuses to create the database file: a missing file is an
	// error wrapping os.ErrNotExist (maintenance commands use it, so a
	// mistyped path does not leave an empty database behind).
	MustExist bool
}

// Store is the SQLite store.Store. It also implements store.Sweeper.
type Store struct {
	w   *sql.DB // one connection: all writes
	r   *sql.DB // read-only connections (== w in memory)
	now func() time.Time
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
)

// Open opens (creating if needed) the database file at path, or a private
// in-memory database when path is Memory, and migrates its schema. A
// relative path is relative to the process's working directory. The
// directory must exist.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsAny(path, "?#") {
		// The driver splits its DSN at '?': such a path would be misread.
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	s := &Store{now: time.Now}
	if path == Memory {
		q := common
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", Memory+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		// One connection that never closes: closing it would drop the data.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.w, s.r = db, db
	} else {
		if opts.MustExist {
			if _, err := os.Stat(path); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("sqlite: the database %s does not exist: %w", path, os.ErrNotExist)
				}
				return nil, fmt.Errorf("sqlite: %w", err)
			}
		}
		if err := ownerOnly(path); err != nil {
			// As a failed open would be: the database cannot be reached.
			return nil, fmt.Errorf("sqlite: %w: %w", store.ErrUnavailable, err)
		}
		wq := url.Values{}
		for k, v := range common {
			wq[k] = append([]string(nil), v...)
		}
		wq.Add("_pragma", "journal_mode(WAL)")
		// NORMAL is durable in WAL mode except for the last transactions
		// on power loss; a lost code or session only means signing in
		// again.
		wq.Add("_pragma", "synchronous(NORMAL)")
		wq.Set("_txlock", "immediate")
		w, err := sql.Open("sqlite", path+"?"+wq.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)

		rq := common
		rq.Add("_pragma", "query_only(1)")
		r, err := sql.Open("sqlite", path+"?"+rq.Encode())
		if err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		r.SetMaxOpenConns(opts.ReadConns)
		r.SetMaxIdleConns(opts.ReadConns)
		s.w, s.r = w, r
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// ownerOnly makes the database file 0600 before SQLite opens it: created
// with that mode when missing (SQLite then creates -wal and -shm with the
// database's mode), tightened when an older version or a umask left it
// readable by others. The store holds password hashes, sessions and
// encrypted keys.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != 0o600 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return mapErr(err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Sweep deletes expired rows (see store.Sweeper). Lockout rows are kept:
// their counters have no expiry of their own.
func (s *Store) Sweep(ctx context.Context) error {
	now := s.now().UnixMicro()
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		for _, table := range sqlcommon.SweepTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE expires_at <= ?", now); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) Users() store.Users                 { return users{s} }
func (s *Store) Sessions() store.Sessions           { return sessions{s} }
func (s *Store) Transactions() store.Transactions   { return transactions{s} }
func (s *Store) Codes() store.Codes                 { return codes{s} }
func (s *Store) Refresh() store.RefreshTokens       { return refresh{s} }
func (s *Store) Lockouts() store.Lockouts           { return lockouts{s} }
func (s *Store) Verifications() store.Verifications { return verifications{s} }
func (s *Store) SigningKeys() store.SigningKeys     { return signingKeys{s} }
func (s *Store) PolicyKeys() store.PolicyKeys       { return policyKeys{s} }
func (s *Store) Throttles() store.Throttles         { return throttles{s} }
func (s *Store) Audit() store.AuditLog              { return auditLog{s} }
func (s *Store) DeletedUsers() store.DeletedUsers   { return deletedUsers{s} }

// writeTx runs fn in an immediate transaction on the writer connection and
// commits when fn returns nil. fn's errors are returned as they are (fn
// maps database errors itself).
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	return nil
}

// mapErr turns driver errors into the store's sentinel errors (wrapping
// both, so errors.Is works for either).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// The row refers to one that does not exist (a session of an
			// unknown user).
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			// The file cannot be used right now: callers answer 503.
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// Times are stored as Unix microseconds; zero optional times as NULL.

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// blob keeps nil opaque data nil and everything else a copy-free []byte.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
