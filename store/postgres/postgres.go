// Package postgres is the store.Store for several processes: PostgreSQL
// through a pgx/v5 connection pool.
//
// Concurrency comes from PostgreSQL's row locks, so it holds across
// processes: single-statement DELETE/UPDATE ... RETURNING where one
// statement is enough (Codes.Consume, Verifications.Attempt), and
// SELECT ... FOR UPDATE inside a transaction for read-modify-write
// (Refresh.Rotate, Lockouts.Update). Transactions run at READ COMMITTED:
// a statement that waited for a row lock sees the row as the other
// transaction committed it.
//
// Outages: errors that mean the database cannot be reached (refused or
// dropped connections, timeouts, server shutting down, too many clients)
// are returned wrapped with store.ErrUnavailable, so callers answer 503.
// The pool needs no reopening afterwards: pgxpool drops broken connections,
// pings connections that sat idle before handing them out, and dials anew.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune Open. The zero value is good.
type Options struct {
	// MaxConns caps the pool (default: pgxpool's, max(4, CPUs), or the
	// URL's pool_max_conns).
	MaxConns int
}

// Store is the PostgreSQL store.Store. It also implements store.Sweeper.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
)

// Open connects to the database named by url (postgres:// or
// postgresql://, any libpq/pgx parameter) and migrates its schema. Several
// processes may Open at once: migrations run under an advisory lock.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without it an unreachable host hangs until the caller's
		// context ends; a readiness probe wants a prompt 503.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", mapErr(err))
	}
	s := New(pool)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New wraps a pool without migrating (tests; Open is the normal way).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: time.Now} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return mapErr(s.pool.Ping(ctx)) }

// Close closes the pool.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Sweep deletes expired rows (see store.Sweeper). Each DELETE is its own
// statement: concurrent sweeps from several processes just find less to
// do. Lockout rows are kept: their counters have no expiry of their own.
func (s *Store) Sweep(ctx context.Context) error {
	now := s.now()
	for _, table := range sqlcommon.SweepTables {
		if _, err := s.pool.Exec(ctx, "DELETE FROM "+table+" WHERE expires_at <= $1", now); err != nil {
			return mapErr(err)
		}
	}
	return nil
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

// inTx runs fn in a READ COMMITTED transaction and commits when fn returns
// nil; fn maps its own errors.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return mapErr(tx.Commit(ctx))
}

// mapErr turns pgx errors into the store's sentinel errors (wrapping both,
// so errors.Is works for either).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case pe.Code == "23503": // foreign_key_violation: refers to a missing row
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, starting up
			pe.Code == "53300": // too_many_connections
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailable reports whether err means "cannot talk to the database" (as
// opposed to a bad query, or the caller giving up).
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// pgxpool's closed-pool error is not exported.
	return strings.Contains(err.Error(), "closed pool")
}

// Zero optional times are NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
