package store

import "context"

// Sweeper is implemented by every Store in this module (SQLite and
// PostgreSQL). Sweep deletes rows whose expiry has passed: sessions,
// transactions, codes, verifications and refresh-token families past their
// absolute end (their tokens go with them). Reads already treat expired rows
// as missing, so Sweep only reclaims space; the identity role calls it every
// few minutes, from any number of processes (it is idempotent).
//
// It is not part of Store because Store is the contract the identity
// package codes against; use it with a type assertion:
//
//	if sw, ok := st.(store.Sweeper); ok { err = sw.Sweep(ctx) }
type Sweeper interface {
	Sweep(ctx context.Context) error
}
