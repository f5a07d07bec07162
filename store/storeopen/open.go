// Package storeopen opens a store.Store from a database URL. It lives in
// its own package, not in package store, because it imports both drivers
// (store/sqlite and store/postgres) and they import package store for its
// interfaces and errors: store.Open would be an import cycle. Code that only
// uses a store imports package store; the one place that opens it (the
// serve command) imports storeopen.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

// Option tunes Open.
type Option func(*config)

type config struct {
	maxConns  int
	mustExist bool
}

// WithMustExist opens an existing database only: a missing SQLite file is
// an error wrapping os.ErrNotExist instead of a new empty database. (A
// PostgreSQL database always has to exist.)
func WithMustExist() Option { return func(c *config) { c.mustExist = true } }

// WithMaxConns caps the connections of the pool: the PostgreSQL pool size,
// or the SQLite read pool (SQLite always has exactly one writer).
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// Open opens the database named by url and brings its schema up to date
// (an older binary refuses a newer schema). Accepted forms:
//
//	sqlite:///var/lib/gatehouse/gatehouse.db  absolute path
//	sqlite://./gatehouse.db, sqlite://data/g.db  relative to the process's working directory
//	sqlite::memory:                            a private in-memory database (tests)
//	postgres://user:pass@host:5432/db?sslmode=disable, postgresql://...
//
// The SQLite directory must exist (the file is created). PostgreSQL URLs
// take every pgx/libpq parameter (sslmode, pool_max_conns, search_path ...).
// The returned store also implements store.Sweeper.
func Open(ctx context.Context, url string, opts ...Option) (store.Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	switch {
	case url == "sqlite::memory:" || url == "sqlite://:memory:":
		return sqlite.Open(ctx, sqlite.Memory, sqlite.Options{ReadConns: c.maxConns})
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" || path == "/" {
			return nil, errors.New("storeopen: sqlite URL has no path: want sqlite:///abs/path.db or sqlite://./rel.db")
		}
		return sqlite.Open(ctx, path, sqlite.Options{ReadConns: c.maxConns, MustExist: c.mustExist})
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url, c)
	}
	return nil, schemeError(url)
}

// CheckURL reports whether Open accepts url's form, without opening
// anything (validation).
func CheckURL(url string) error {
	switch {
	case url == "sqlite::memory:" || url == "sqlite://:memory:":
		return nil
	case strings.HasPrefix(url, "sqlite://"):
		if path := strings.TrimPrefix(url, "sqlite://"); path == "" || path == "/" {
			return errors.New("storeopen: sqlite URL has no path: want sqlite:///abs/path.db or sqlite://./rel.db")
		}
		return nil
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		return nil
	}
	return schemeError(url)
}

func schemeError(url string) error {
	// Only the scheme is quoted: the rest may hold a password.
	scheme, _, ok := strings.Cut(url, ":")
	if !ok {
		scheme = url
		if len(scheme) > 20 {
			scheme = scheme[:20] + "..."
		}
	}
	return fmt.Errorf("storeopen: unsupported database URL scheme %q: want sqlite:///abs/path.db, sqlite://./rel.db, sqlite::memory: or postgres://", scheme)
}
