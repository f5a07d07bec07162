package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ---- users ----

type users struct{ s *Store }

const userCols = `id, email, display_name, given_name, surname, identities, password_hash,
	attributes, created_at, updated_at, refresh_tokens_valid_from`

func userArgs(u *store.User) ([]any, error) {
	idsJSON, attrsJSON, err := sqlcommon.EncodeUserJSON(u)
	if err != nil {
		return nil, err
	}
	return []any{u.ID, u.Email, u.DisplayName, u.GivenName, u.Surname, idsJSON, u.PasswordHash,
		attrsJSON, u.CreatedAt, u.UpdatedAt, nullTime(u.RefreshTokensValidFrom)}, nil
}

func scanUser(r pgx.Row) (*store.User, error) {
	var (
		u          store.User
		ids, attrs []byte
		validFrom  *time.Time
	)
	if err := r.Scan(&u.ID, &u.Email, &u.DisplayName, &u.GivenName, &u.Surname, &ids, &u.PasswordHash,
		&attrs, &u.CreatedAt, &u.UpdatedAt, &validFrom); err != nil {
		return nil, mapErr(err)
	}
	if err := sqlcommon.DecodeUserJSON(&u, ids, attrs, "postgres"); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.RefreshTokensValidFrom = fromNull(validFrom)
	return &u, nil
}

// Create inserts u; ErrConflict when the id or the email (any case)
// exists — the unique index on lower(email) decides, so concurrent
// sign-ups from several processes cannot both win.
func (x users) Create(ctx context.Context, u *store.User) error {
	sqlcommon.NormaliseUser(u, x.s.now(), true)
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO users ("+userCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", args...); err != nil {
			return mapErr(err)
		}
		return insertIdentities(ctx, tx, u)
	})
}

func insertIdentities(ctx context.Context, tx pgx.Tx, u *store.User) error {
	for _, k := range sqlcommon.IdentityKeys(u) {
		if _, err := tx.Exec(ctx, "INSERT INTO user_identities (key, user_id) VALUES ($1, $2)", k, u.ID); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// GetByIdentity finds the account with a sign-in identity.
func (x users) GetByIdentity(ctx context.Context, signInType, issuer, issuerAssignedID string) (*store.User, error) {
	return scanUser(x.s.pool.QueryRow(ctx, "SELECT "+sqlcommon.Prefixed("u.", userCols)+" FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.key = $1",
		sqlcommon.IdentityKey(signInType, issuer, issuerAssignedID)))
}

func (x users) Get(ctx context.Context, id string) (*store.User, error) {
	return scanUser(x.s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
}

// GetByEmail matches lower(email) (the unique index) with the argument
// lower-cased in Go, as Create stored it.
func (x users) GetByEmail(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		return nil, store.ErrNotFound
	}
	return scanUser(x.s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE lower(email) = $1 AND email <> ''",
		strings.ToLower(email)))
}

func (x users) List(ctx context.Context) ([]*store.User, error) {
	return x.query(ctx, "SELECT "+userCols+" FROM users ORDER BY created_at, id")
}

// Page lists users by ID after after (keyset paging).
func (x users) Page(ctx context.Context, after string, limit int) ([]*store.User, error) {
	return x.query(ctx, "SELECT "+userCols+" FROM users WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
}

func (x users) query(ctx context.Context, q string, args ...any) ([]*store.User, error) {
	rows, err := x.s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// Count is the number of users.
func (x users) Count(ctx context.Context) (int, error) {
	var n int
	err := x.s.pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, mapErr(err)
}

// Update replaces every field of the user u.ID; ErrNotFound when there is
// none, ErrConflict when the new email belongs to another user.
func (x users) Update(ctx context.Context, u *store.User) error {
	sqlcommon.NormaliseUser(u, x.s.now(), false)
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx, `UPDATE users SET email = $2, display_name = $3, given_name = $4,
		surname = $5, identities = $6, password_hash = $7, attributes = $8, created_at = $9,
		updated_at = $10, refresh_tokens_valid_from = $11 WHERE id = $1`, args...)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM user_identities WHERE user_id = $1", u.ID); err != nil {
			return mapErr(err)
		}
		return insertIdentities(ctx, tx, u)
	})
}

// Delete removes the user, its sessions (foreign key cascade) and its
// refresh-token families in one transaction; ErrNotFound when missing.
func (x users) Delete(ctx context.Context, id string) error {
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM refresh_families WHERE user_id = $1", id); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM user_identities WHERE user_id = $1", id); err != nil {
			return mapErr(err)
		}
		return affected(tx.Exec(ctx, "DELETE FROM users WHERE id = $1", id))
	})
}

// affected maps "no row changed" to ErrNotFound.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ---- sessions ----

type sessions struct{ s *Store }

// Create stores a session; ErrConflict when the hash exists, ErrNotFound
// when the user does not.
func (x sessions) Create(ctx context.Context, se *store.Session) error {
	_, err := x.s.pool.Exec(ctx, "INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1,$2,$3,$4)",
		se.IDHash, se.UserID, se.AuthTime, se.ExpiresAt)
	return mapErr(err)
}

// Get returns the session unless it is missing or expired (expired rows are
// left for Sweep). "Now" is this process's clock, not the server's, so both
// backends agree with the caller's idea of time.
func (x sessions) Get(ctx context.Context, idHash string) (*store.Session, error) {
	se := store.Session{IDHash: idHash}
	err := x.s.pool.QueryRow(ctx, "SELECT user_id, auth_time, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
		idHash, x.s.now()).Scan(&se.UserID, &se.AuthTime, &se.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	se.AuthTime, se.ExpiresAt = se.AuthTime.UTC(), se.ExpiresAt.UTC()
	return &se, nil
}

// Touch moves the expiry of a live session; ErrNotFound when missing or
// already expired (an expired session cannot be revived).
func (x sessions) Touch(ctx context.Context, idHash string, expiresAt time.Time) error {
	return affected(x.s.pool.Exec(ctx, "UPDATE sessions SET expires_at = $1 WHERE id_hash = $2 AND expires_at > $3",
		expiresAt, idHash, x.s.now()))
}

// Delete is idempotent: signing out twice is not an error.
func (x sessions) Delete(ctx context.Context, idHash string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM sessions WHERE id_hash = $1", idHash)
	return mapErr(err)
}

// DeleteUser removes every session of the user (idempotent).
func (x sessions) DeleteUser(ctx context.Context, userID string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return mapErr(err)
}

// ---- transactions ----

type transactions struct{ s *Store }

// Put creates or replaces.
func (x transactions) Put(ctx context.Context, t *store.Transaction) error {
	_, err := x.s.pool.Exec(ctx, `INSERT INTO transactions (id, data, expires_at) VALUES ($1,$2,$3)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		t.ID, t.Data, t.ExpiresAt)
	return mapErr(err)
}

// Get: ErrNotFound when missing or expired.
func (x transactions) Get(ctx context.Context, id string) (*store.Transaction, error) {
	t := store.Transaction{ID: id}
	err := x.s.pool.QueryRow(ctx, "SELECT data, expires_at FROM transactions WHERE id = $1 AND expires_at > $2",
		id, x.s.now()).Scan(&t.Data, &t.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	return &t, nil
}

// Delete is idempotent.
func (x transactions) Delete(ctx context.Context, id string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM transactions WHERE id = $1", id)
	return mapErr(err)
}

// ---- codes ----

type codes struct{ s *Store }

// Put stores a code; ErrConflict when the hash exists.
func (x codes) Put(ctx context.Context, c *store.Code) error {
	_, err := x.s.pool.Exec(ctx, "INSERT INTO codes (hash, data, expires_at) VALUES ($1,$2,$3)",
		c.Hash, c.Data, c.ExpiresAt)
	return mapErr(err)
}

// Consume is one DELETE ... RETURNING statement. Concurrent deletes of one
// row (from any process) queue on its row lock; when the first commits,
// the others re-check the row, find it gone and return nothing. So exactly
// one caller gets the code. An expired code is deleted too, and reported
// as ErrNotFound.
func (x codes) Consume(ctx context.Context, hash string) (*store.Code, error) {
	c := store.Code{Hash: hash}
	err := x.s.pool.QueryRow(ctx, "DELETE FROM codes WHERE hash = $1 RETURNING data, expires_at", hash).
		Scan(&c.Data, &c.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	c.ExpiresAt = c.ExpiresAt.UTC()
	if !c.ExpiresAt.After(x.s.now()) {
		return nil, store.ErrNotFound
	}
	return &c, nil
}

// ---- refresh tokens ----

type refresh struct{ s *Store }

// Create stores the family and its first token (seq 0, current).
func (x refresh) Create(ctx context.Context, f *store.RefreshFamily, tokenHash string, tokenExpires time.Time) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = x.s.now()
	}
	return x.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_families
			(id, user_id, client_id, data, created_at, expires_at, revoked, current_seq) VALUES ($1,$2,$3,$4,$5,$6,$7,0)`,
			f.ID, f.UserID, f.ClientID, f.Data, f.CreatedAt, f.ExpiresAt, f.Revoked); err != nil {
			return mapErr(err)
		}
		_, err := tx.Exec(ctx, "INSERT INTO refresh_tokens (hash, family_id, seq, expires_at) VALUES ($1,$2,0,$3)",
			tokenHash, f.ID, tokenExpires)
		return mapErr(err)
	})
}

// Rotate locks the token's family row (SELECT ... FOR UPDATE OF f) for the
// rest of its transaction, so rotations of one family are serialised across
// processes. Of two concurrent rotations of the current token, the second
// waits for the first's lock; at READ COMMITTED PostgreSQL then re-reads the
// locked family row as committed, with current_seq moved on, so the second
// sees its token is no longer current — reuse — revokes the family and
// returns ErrReused (RFC 9700 §4.14.2). Checks, in order: unknown token,
// revoked family or family past its end → ErrNotFound; not the current
// token → revoke, ErrReused; current token expired → ErrNotFound.
func (x refresh) Rotate(ctx context.Context, tokenHash, newHash string, newExpires time.Time) (*store.RefreshFamily, error) {
	var f store.RefreshFamily
	now := x.s.now()
	reused := false
	err := x.s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			seq, cur int64
			tokExp   time.Time
		)
		err := tx.QueryRow(ctx, `SELECT t.seq, t.expires_at, f.id, f.user_id, f.client_id, f.data,
			f.created_at, f.expires_at, f.revoked, f.current_seq
			FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
			WHERE t.hash = $1 FOR UPDATE OF f`, tokenHash).
			Scan(&seq, &tokExp, &f.ID, &f.UserID, &f.ClientID, &f.Data, &f.CreatedAt, &f.ExpiresAt, &f.Revoked, &cur)
		if err != nil {
			return mapErr(err)
		}
		if f.Revoked || !f.ExpiresAt.After(now) {
			return store.ErrNotFound
		}
		if seq != cur {
			if _, err := tx.Exec(ctx, "UPDATE refresh_families SET revoked = true WHERE id = $1", f.ID); err != nil {
				return mapErr(err)
			}
			reused = true
			return nil // commit the revocation
		}
		if !tokExp.After(now) {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "INSERT INTO refresh_tokens (hash, family_id, seq, expires_at) VALUES ($1,$2,$3,$4)",
			newHash, f.ID, cur+1, newExpires); err != nil {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, "UPDATE refresh_families SET current_seq = $1 WHERE id = $2", cur+1, f.ID)
		return mapErr(err)
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, store.ErrReused
	}
	f.CreatedAt, f.ExpiresAt = f.CreatedAt.UTC(), f.ExpiresAt.UTC()
	return &f, nil
}

// Revoke marks the family revoked; ErrNotFound when unknown.
func (x refresh) Revoke(ctx context.Context, familyID string) error {
	return affected(x.s.pool.Exec(ctx, "UPDATE refresh_families SET revoked = true WHERE id = $1", familyID))
}

// RevokeUser revokes every family of the user (idempotent).
func (x refresh) RevokeUser(ctx context.Context, userID string) error {
	if userID == "" {
		// Client-only families have no user; never revoke them all at once.
		return nil
	}
	_, err := x.s.pool.Exec(ctx, "UPDATE refresh_families SET revoked = true WHERE user_id = $1", userID)
	return mapErr(err)
}

// ---- lockouts ----

type lockouts struct{ s *Store }

func scanLockout(r pgx.Row, key string) (*store.Lockout, error) {
	l := store.Lockout{Key: key}
	var until, pendingUntil *time.Time
	err := r.Scan(&l.Failures, &l.Lockouts, &until, &l.LastFailedHash, &l.Pending, &pendingUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return &store.Lockout{Key: key}, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	l.LockedUntil = fromNull(until)
	l.PendingUntil = fromNull(pendingUntil)
	return &l, nil
}

const lockoutSelect = "SELECT failures, lockouts, locked_until, last_failed_hash, pending, pending_until FROM lockouts WHERE key = $1"

// Get returns the zero Lockout (with Key) when there is none.
func (x lockouts) Get(ctx context.Context, key string) (*store.Lockout, error) {
	return scanLockout(x.s.pool.QueryRow(ctx, lockoutSelect, key), key)
}

// Update is atomic per key across processes: it first makes sure the row
// exists (INSERT ... ON CONFLICT DO NOTHING, so there is something to lock
// even for a first failure; a concurrent first insert waits for ours), then
// SELECT ... FOR UPDATE holds the row until commit while fn runs and the
// result is written. When fn fails the transaction rolls back (including
// the placeholder row) and fn's error is returned. fn should be quick: it
// runs while the row is locked.
func (x lockouts) Update(ctx context.Context, key string, fn func(l *store.Lockout) error) (*store.Lockout, error) {
	var out *store.Lockout
	err := x.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO lockouts (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", key); err != nil {
			return mapErr(err)
		}
		l, err := scanLockout(tx.QueryRow(ctx, lockoutSelect+" FOR UPDATE", key), key)
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
		l.Key = key
		if _, err := tx.Exec(ctx, `UPDATE lockouts SET failures = $2, lockouts = $3, locked_until = $4,
			last_failed_hash = $5, pending = $6, pending_until = $7 WHERE key = $1`,
			key, l.Failures, l.Lockouts, nullTime(l.LockedUntil), l.LastFailedHash, l.Pending, nullTime(l.PendingUntil)); err != nil {
			return mapErr(err)
		}
		out = l
		return nil
	})
	return out, err
}

// Reset forgets the key (idempotent).
func (x lockouts) Reset(ctx context.Context, key string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM lockouts WHERE key = $1", key)
	return mapErr(err)
}

// ---- verifications ----

type verifications struct{ s *Store }

// Put creates or replaces (a resend replaces the code).
func (x verifications) Put(ctx context.Context, v *store.Verification) error {
	_, err := x.s.pool.Exec(ctx, `INSERT INTO verifications (id, email, code_hash, attempts, expires_at)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT (id) DO UPDATE SET email = excluded.email, code_hash = excluded.code_hash,
		attempts = excluded.attempts, expires_at = excluded.expires_at`,
		v.ID, v.Email, v.CodeHash, v.Attempts, v.ExpiresAt)
	return mapErr(err)
}

func scanVerification(r pgx.Row) (*store.Verification, error) {
	var v store.Verification
	if err := r.Scan(&v.ID, &v.Email, &v.CodeHash, &v.Attempts, &v.ExpiresAt); err != nil {
		return nil, mapErr(err)
	}
	v.ExpiresAt = v.ExpiresAt.UTC()
	return &v, nil
}

// Get: ErrNotFound when missing or expired.
func (x verifications) Get(ctx context.Context, id string) (*store.Verification, error) {
	return scanVerification(x.s.pool.QueryRow(ctx,
		"SELECT id, email, code_hash, attempts, expires_at FROM verifications WHERE id = $1 AND expires_at > $2",
		id, x.s.now()))
}

// Attempt is one UPDATE ... RETURNING (the row lock serialises concurrent
// ones), so every attempt counts.
func (x verifications) Attempt(ctx context.Context, id string) (*store.Verification, error) {
	return scanVerification(x.s.pool.QueryRow(ctx,
		`UPDATE verifications SET attempts = attempts + 1 WHERE id = $1 AND expires_at > $2
		RETURNING id, email, code_hash, attempts, expires_at`, id, x.s.now()))
}

// Delete is idempotent.
func (x verifications) Delete(ctx context.Context, id string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM verifications WHERE id = $1", id)
	return mapErr(err)
}

// ---- signing keys ----

type signingKeys struct{ s *Store }

// Put creates or replaces by ID.
func (x signingKeys) Put(ctx context.Context, k *store.SigningKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = x.s.now()
	}
	_, err := x.s.pool.Exec(ctx, `INSERT INTO signing_keys
		(id, algorithm, private, public, not_before, retired_at, expires_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (id) DO UPDATE SET algorithm = excluded.algorithm, private = excluded.private,
		public = excluded.public, not_before = excluded.not_before, retired_at = excluded.retired_at,
		expires_at = excluded.expires_at, created_at = excluded.created_at`,
		k.ID, k.Algorithm, k.Private, k.Public, k.NotBefore, nullTime(k.RetiredAt), nullTime(k.ExpiresAt), k.CreatedAt)
	return mapErr(err)
}

// List returns every key, oldest first.
func (x signingKeys) List(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := x.s.pool.Query(ctx, `SELECT id, algorithm, private, public, not_before, retired_at,
		expires_at, created_at FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k                store.SigningKey
			retired, expires *time.Time
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &k.Public, &k.NotBefore, &retired, &expires, &k.CreatedAt); err != nil {
			return nil, mapErr(err)
		}
		k.NotBefore, k.CreatedAt = k.NotBefore.UTC(), k.CreatedAt.UTC()
		k.RetiredAt, k.ExpiresAt = fromNull(retired), fromNull(expires)
		out = append(out, &k)
	}
	return out, mapErr(rows.Err())
}

// Delete removes a key; ErrNotFound when unknown.
func (x signingKeys) Delete(ctx context.Context, id string) error {
	return affected(x.s.pool.Exec(ctx, "DELETE FROM signing_keys WHERE id = $1", id))
}

// ---- throttles ----

type throttles struct{ s *Store }

// Hit is one upsert: PostgreSQL locks the row for the ON CONFLICT update, so
// concurrent Hits from any process serialise on it and none is lost. The
// CASEs read the row's old values, so a window that has ended restarts
// with n.
func (x throttles) Hit(ctx context.Context, key string, n int, now time.Time, window time.Duration) (int, time.Time, error) {
	var count int
	var end time.Time
	var err error
	if n <= 0 {
		err = x.s.pool.QueryRow(ctx, "SELECT count, expires_at FROM throttles WHERE key = $1 AND expires_at > $2", key, now).Scan(&count, &end)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, time.Time{}, nil
		}
	} else {
		err = x.s.pool.QueryRow(ctx, `INSERT INTO throttles (key, count, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET
				count = CASE WHEN throttles.expires_at <= $4 THEN excluded.count ELSE throttles.count + excluded.count END,
				expires_at = CASE WHEN throttles.expires_at <= $4 THEN excluded.expires_at ELSE throttles.expires_at END
			RETURNING count, expires_at`,
			key, n, now.Add(window), now).Scan(&count, &end)
	}
	if err != nil {
		return 0, time.Time{}, mapErr(err)
	}
	return count, end.UTC(), nil
}

// Refund is one UPDATE (the row lock serialises it with concurrent Hits),
// limited to the current window.
func (x throttles) Refund(ctx context.Context, key string, n int, now time.Time) error {
	if n <= 0 {
		return nil
	}
	_, err := x.s.pool.Exec(ctx, "UPDATE throttles SET count = GREATEST(count - $1, 0) WHERE key = $2 AND expires_at > $3", n, key, now)
	return mapErr(err)
}

// Reset forgets the key (idempotent).
func (x throttles) Reset(ctx context.Context, key string) error {
	_, err := x.s.pool.Exec(ctx, "DELETE FROM throttles WHERE key = $1", key)
	return mapErr(err)
}

// ---- audit log ----

type auditLog struct{ s *Store }

// Append stores an event.
func (x auditLog) Append(ctx context.Context, e *store.AuditEvent) error {
	attrs, err := json.Marshal(e.Attrs)
	if err != nil {
		return err
	}
	_, err = x.s.pool.Exec(ctx, "INSERT INTO audit_events (id, time, kind, attrs) VALUES ($1, $2, $3, $4)", e.ID, e.Time, e.Kind, attrs)
	return mapErr(err)
}

// Page lists events newest first, by ID.
func (x auditLog) Page(ctx context.Context, kinds []string, before string, limit int) ([]*store.AuditEvent, error) {
	rows, err := x.s.pool.Query(ctx, `SELECT id, time, kind, attrs FROM audit_events
		WHERE ($1 = '' OR id < $1) AND (coalesce(cardinality($2::text[]), 0) = 0 OR kind = ANY($2))
		ORDER BY id DESC LIMIT $3`, before, kinds, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var attrs []byte
		if err := rows.Scan(&e.ID, &e.Time, &e.Kind, &attrs); err != nil {
			return nil, mapErr(err)
		}
		e.Time = e.Time.UTC()
		if err := json.Unmarshal(attrs, &e.Attrs); err != nil {
			return nil, fmt.Errorf("postgres: audit event %s: %w", e.ID, err)
		}
		out = append(out, &e)
	}
	return out, mapErr(rows.Err())
}

// Purge deletes the events older than t.
func (x auditLog) Purge(ctx context.Context, t time.Time) (int, error) {
	tag, err := x.s.pool.Exec(ctx, "DELETE FROM audit_events WHERE time < $1", t)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// ---- deleted users ----

type deletedUsers struct{ s *Store }

// Put keeps a deleted account (replacing an older deletion of the id).
func (x deletedUsers) Put(ctx context.Context, u *store.User, at time.Time) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = x.s.pool.Exec(ctx, `INSERT INTO deleted_users (id, deleted_at, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at, data = excluded.data`, u.ID, at, b)
	return mapErr(err)
}

func (x deletedUsers) scan(row pgx.Row) (*store.DeletedUser, error) {
	var d store.DeletedUser
	var data []byte
	if err := row.Scan(&d.DeletedAt, &data); err != nil {
		return nil, mapErr(err)
	}
	d.DeletedAt = d.DeletedAt.UTC()
	if err := json.Unmarshal(data, &d.User); err != nil {
		return nil, fmt.Errorf("postgres: deleted user: %w", err)
	}
	return &d, nil
}

// Get is one deleted account.
func (x deletedUsers) Get(ctx context.Context, id string) (*store.DeletedUser, error) {
	return x.scan(x.s.pool.QueryRow(ctx, "SELECT deleted_at, data FROM deleted_users WHERE id = $1", id))
}

// Page lists deleted accounts by ID.
func (x deletedUsers) Page(ctx context.Context, after string, limit int) ([]*store.DeletedUser, error) {
	rows, err := x.s.pool.Query(ctx, "SELECT deleted_at, data FROM deleted_users WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.DeletedUser
	for rows.Next() {
		d, err := x.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err())
}

// Delete removes a deleted account for good.
func (x deletedUsers) Delete(ctx context.Context, id string) error {
	tag, err := x.s.pool.Exec(ctx, "DELETE FROM deleted_users WHERE id = $1", id)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Purge removes the accounts deleted before t.
func (x deletedUsers) Purge(ctx context.Context, t time.Time) (int, error) {
	tag, err := x.s.pool.Exec(ctx, "DELETE FROM deleted_users WHERE deleted_at < $1", t)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
