package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/jackc/pgx/v5"
)

// ---- policy keys ----

// policyKeyLockClass is the first half of the transaction-scoped advisory
// lock that serialises writes to one container (the second half is
// hashtext(container)): READ COMMITTED alone would let two processes add
// keys of different types to an empty container at once.
const policyKeyLockClass int32 = 0x676b6579 // "gkey"

type policyKeys struct{ s *Store }

func lockContainer(ctx context.Context, tx pgx.Tx, container string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", policyKeyLockClass, container)
	return mapErr(err)
}

// Add inserts a key; the type check and the insert run under the
// container's lock.
func (x policyKeys) Add(ctx context.Context, k *store.PolicyKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = x.s.now()
	}
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockContainer(ctx, tx, k.Container); err != nil {
			return err
		}
		var kty string
		err := tx.QueryRow(ctx, "SELECT kty FROM policy_keys WHERE container = $1 LIMIT 1", k.Container).Scan(&kty)
		if err == nil && kty != k.Type {
			return fmt.Errorf("%w: %s holds %s keys, not %s", store.ErrKeyType, k.Container, kty, k.Type)
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO policy_keys
			(container, kid, kty, key_use, material, public, origin, not_before, expires_at, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			k.Container, k.KID, k.Type, k.Use, k.Material, k.Public, k.Origin,
			nullTime(k.NotBefore), nullTime(k.ExpiresAt), k.CreatedAt)
		return mapErr(err)
	})
}

// List returns a container's keys, oldest first.
func (x policyKeys) List(ctx context.Context, container string) ([]*store.PolicyKey, error) {
	rows, err := x.s.pool.Query(ctx, `SELECT container, kid, kty, key_use, material, public, origin,
		not_before, expires_at, created_at FROM policy_keys WHERE container = $1 ORDER BY created_at, kid`, container)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.PolicyKey
	for rows.Next() {
		var (
			k           store.PolicyKey
			nb, expires *time.Time
		)
		if err := rows.Scan(&k.Container, &k.KID, &k.Type, &k.Use, &k.Material, &k.Public, &k.Origin,
			&nb, &expires, &k.CreatedAt); err != nil {
			return nil, mapErr(err)
		}
		k.NotBefore, k.ExpiresAt, k.CreatedAt = fromNull(nb), fromNull(expires), k.CreatedAt.UTC()
		out = append(out, &k)
	}
	return out, mapErr(rows.Err())
}

// Containers returns the container names, sorted (byte order, as SQLite).
func (x policyKeys) Containers(ctx context.Context) ([]string, error) {
	rows, err := x.s.pool.Query(ctx, `SELECT container FROM policy_keys GROUP BY container ORDER BY container COLLATE "C"`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, n)
	}
	return out, mapErr(rows.Err())
}

// Rename replaces container to with the keys of from, in one transaction
// holding both containers' locks (taken in a fixed order).
func (x policyKeys) Rename(ctx context.Context, from, to string) error {
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		first, second := from, to
		if second < first {
			first, second = second, first
		}
		if err := lockContainer(ctx, tx, first); err != nil {
			return err
		}
		if err := lockContainer(ctx, tx, second); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM policy_keys WHERE container = $1", from).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "DELETE FROM policy_keys WHERE container = $1", to); err != nil {
			return mapErr(err)
		}
		_, err := tx.Exec(ctx, "UPDATE policy_keys SET container = $1 WHERE container = $2", to, from)
		return mapErr(err)
	})
}

// Delete removes a container; ErrNotFound when it holds no key.
func (x policyKeys) Delete(ctx context.Context, container string) error {
	return affected(x.s.pool.Exec(ctx, "DELETE FROM policy_keys WHERE container = $1", container))
}
