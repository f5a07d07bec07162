package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse/store"
)

// ---- policy keys ----

type policyKeys struct{ s *Store }

// Add inserts a key. The type check and the insert share one immediate
// transaction, so concurrent Adds cannot mix types in a container.
func (x policyKeys) Add(ctx context.Context, k *store.PolicyKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = x.s.now()
	}
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		var kty string
		err := tx.QueryRowContext(ctx, "SELECT kty FROM policy_keys WHERE container = ? LIMIT 1", k.Container).Scan(&kty)
		if err == nil && kty != k.Type {
			return fmt.Errorf("%w: %s holds %s keys, not %s", store.ErrKeyType, k.Container, kty, k.Type)
		}
		if err != nil && err != sql.ErrNoRows {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO policy_keys
			(container, kid, kty, key_use, material, public, origin, not_before, expires_at, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`,
			k.Container, k.KID, k.Type, k.Use, k.Material, blob(k.Public), k.Origin,
			nullMicros(k.NotBefore), nullMicros(k.ExpiresAt), micros(k.CreatedAt))
		return mapErr(err)
	})
}

// List returns a container's keys, oldest first.
func (x policyKeys) List(ctx context.Context, container string) ([]*store.PolicyKey, error) {
	rows, err := x.s.r.QueryContext(ctx, `SELECT container, kid, kty, key_use, material, public, origin,
		not_before, expires_at, created_at FROM policy_keys WHERE container = ? ORDER BY created_at, kid`, container)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.PolicyKey
	for rows.Next() {
		var (
			k           store.PolicyKey
			created     int64
			nb, expires sql.NullInt64
		)
		if err := rows.Scan(&k.Container, &k.KID, &k.Type, &k.Use, &k.Material, &k.Public, &k.Origin,
			&nb, &expires, &created); err != nil {
			return nil, mapErr(err)
		}
		k.NotBefore, k.ExpiresAt, k.CreatedAt = fromNullMicros(nb), fromNullMicros(expires), fromMicros(created)
		out = append(out, &k)
	}
	return out, mapErr(rows.Err())
}

// Containers returns the container names, sorted.
func (x policyKeys) Containers(ctx context.Context) ([]string, error) {
	rows, err := x.s.r.QueryContext(ctx, "SELECT DISTINCT container FROM policy_keys ORDER BY container")
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

// Rename replaces container to with the keys of from, in one transaction.
func (x policyKeys) Rename(ctx context.Context, from, to string) error {
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM policy_keys WHERE container = ?", from).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM policy_keys WHERE container = ?", to); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, "UPDATE policy_keys SET container = ? WHERE container = ?", to, from)
		return mapErr(err)
	})
}

// Delete removes a container; ErrNotFound when it holds no key.
func (x policyKeys) Delete(ctx context.Context, container string) error {
	return affected(x.s.w.ExecContext(ctx, "DELETE FROM policy_keys WHERE container = ?", container))
}
