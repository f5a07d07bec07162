package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/internal/sqlcommon"
)

// ---- users ----

type users struct{ s *Store }

const userCols = `id, email, display_name, given_name, surname, identities, password_hash,
	attributes, created_at, updated_at, refresh_tokens_valid_from`

func userArgs(u *store.User) ([]any, error) {
	ids, attrs, err := sqlcommon.EncodeUserJSON(u)
	if err != nil {
		return nil, err
	}
	return []any{u.ID, u.Email, u.DisplayName, u.GivenName, u.Surname, string(ids), u.PasswordHash,
		string(attrs), micros(u.CreatedAt), micros(u.UpdatedAt), nullMicros(u.RefreshTokensValidFrom)}, nil
}

type scanner interface{ Scan(...any) error }

func scanUser(r scanner) (*store.User, error) {
	var (
		u                store.User
		ids, attrs       string
		created, updated int64
		validFrom        sql.NullInt64
	)
	if err := r.Scan(&u.ID, &u.Email, &u.DisplayName, &u.GivenName, &u.Surname, &ids, &u.PasswordHash,
		&attrs, &created, &updated, &validFrom); err != nil {
		return nil, mapErr(err)
	}
	if err := sqlcommon.DecodeUserJSON(&u, []byte(ids), []byte(attrs), "sqlite"); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	u.RefreshTokensValidFrom = fromNullMicros(validFrom)
	return &u, nil
}

// Create inserts u and its identities; ErrConflict when the id, the email
// (any case) or one of the identities exists.
func (x users) Create(ctx context.Context, u *store.User) error {
	sqlcommon.NormaliseUser(u, x.s.now(), true)
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO users ("+userCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?)", args...); err != nil {
			return mapErr(err)
		}
		return insertIdentities(ctx, tx, u)
	})
}

func insertIdentities(ctx context.Context, tx *sql.Tx, u *store.User) error {
	for _, k := range sqlcommon.IdentityKeys(u) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_identities (key, user_id) VALUES (?, ?)", k, u.ID); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// GetByIdentity finds the account with a sign-in identity.
func (x users) GetByIdentity(ctx context.Context, signInType, issuer, issuerAssignedID string) (*store.User, error) {
	return scanUser(x.s.r.QueryRowContext(ctx, "SELECT "+sqlcommon.Prefixed("u.", userCols)+" FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.key = ?",
		sqlcommon.IdentityKey(signInType, issuer, issuerAssignedID)))
}

func (x users) Get(ctx context.Context, id string) (*store.User, error) {
	return scanUser(x.s.r.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
}

// GetByEmail matches lower(email), the unique index, with the argument
// lower-cased in Go (SQLite's lower() folds ASCII only).
func (x users) GetByEmail(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		return nil, store.ErrNotFound
	}
	return scanUser(x.s.r.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE lower(email) = ? AND email <> ''",
		strings.ToLower(email)))
}

func (x users) List(ctx context.Context) ([]*store.User, error) {
	return x.query(ctx, "SELECT "+userCols+" FROM users ORDER BY created_at, id")
}

// Page lists users by ID after after (keyset paging).
func (x users) Page(ctx context.Context, after string, limit int) ([]*store.User, error) {
	return x.query(ctx, "SELECT "+userCols+" FROM users WHERE id > ?1 ORDER BY id LIMIT ?2", after, limit)
}

func (x users) query(ctx context.Context, q string, args ...any) ([]*store.User, error) {
	rows, err := x.s.r.QueryContext(ctx, q, args...)
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
	err := x.s.r.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
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
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := affected(tx.ExecContext(ctx, `UPDATE users SET email = ?2, display_name = ?3, given_name = ?4,
		surname = ?5, identities = ?6, password_hash = ?7, attributes = ?8, created_at = ?9,
		updated_at = ?10, refresh_tokens_valid_from = ?11 WHERE id = ?1`, args...)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_identities WHERE user_id = ?", u.ID); err != nil {
			return mapErr(err)
		}
		return insertIdentities(ctx, tx, u)
	})
}

// Delete removes the user, its sessions (foreign key cascade) and its
// refresh-token families, in one transaction; ErrNotFound when missing.
func (x users) Delete(ctx context.Context, id string) error {
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM refresh_families WHERE user_id = ?", id); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_identities WHERE user_id = ?", id); err != nil {
			return mapErr(err)
		}
		return affected(tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id))
	})
}

// affected maps "no row changed" to ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ---- sessions ----

type sessions struct{ s *Store }

// Create stores a session; ErrConflict when the hash exists, ErrNotFound
// when the user does not.
func (x sessions) Create(ctx context.Context, se *store.Session) error {
	_, err := x.s.w.ExecContext(ctx, "INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES (?,?,?,?)",
		se.IDHash, se.UserID, micros(se.AuthTime), micros(se.ExpiresAt))
	return mapErr(err)
}

// Get returns the session unless it is missing or expired (expired rows are
// left for Sweep).
func (x sessions) Get(ctx context.Context, idHash string) (*store.Session, error) {
	var (
		se            = store.Session{IDHash: idHash}
		auth, expires int64
	)
	err := x.s.r.QueryRowContext(ctx, "SELECT user_id, auth_time, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?",
		idHash, micros(x.s.now())).Scan(&se.UserID, &auth, &expires)
	if err != nil {
		return nil, mapErr(err)
	}
	se.AuthTime, se.ExpiresAt = fromMicros(auth), fromMicros(expires)
	return &se, nil
}

// Touch moves the expiry of a live session; ErrNotFound when missing or
// already expired (an expired session cannot be revived).
func (x sessions) Touch(ctx context.Context, idHash string, expiresAt time.Time) error {
	return affected(x.s.w.ExecContext(ctx, "UPDATE sessions SET expires_at = ? WHERE id_hash = ? AND expires_at > ?",
		micros(expiresAt), idHash, micros(x.s.now())))
}

// Delete is idempotent: signing out twice is not an error.
func (x sessions) Delete(ctx context.Context, idHash string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash)
	return mapErr(err)
}

// DeleteUser removes every session of the user (idempotent).
func (x sessions) DeleteUser(ctx context.Context, userID string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	return mapErr(err)
}

// ---- transactions ----

type transactions struct{ s *Store }

// Put creates or replaces.
func (x transactions) Put(ctx context.Context, t *store.Transaction) error {
	_, err := x.s.w.ExecContext(ctx, `INSERT INTO transactions (id, data, expires_at) VALUES (?,?,?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		t.ID, blob(t.Data), micros(t.ExpiresAt))
	return mapErr(err)
}

// Get: ErrNotFound when missing or expired.
func (x transactions) Get(ctx context.Context, id string) (*store.Transaction, error) {
	t := store.Transaction{ID: id}
	var expires int64
	err := x.s.r.QueryRowContext(ctx, "SELECT data, expires_at FROM transactions WHERE id = ? AND expires_at > ?",
		id, micros(x.s.now())).Scan(&t.Data, &expires)
	if err != nil {
		return nil, mapErr(err)
	}
	t.ExpiresAt = fromMicros(expires)
	return &t, nil
}

// Delete is idempotent.
func (x transactions) Delete(ctx context.Context, id string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM transactions WHERE id = ?", id)
	return mapErr(err)
}

// ---- codes ----

type codes struct{ s *Store }

// Put stores a code; ErrConflict when the hash exists.
func (x codes) Put(ctx context.Context, c *store.Code) error {
	_, err := x.s.w.ExecContext(ctx, "INSERT INTO codes (hash, data, expires_at) VALUES (?,?,?)",
		c.Hash, blob(c.Data), micros(c.ExpiresAt))
	return mapErr(err)
}

// Consume is single-use: one DELETE ... RETURNING statement, run on the
// single writer connection inside BEGIN IMMEDIATE, so of any number of
// concurrent calls (from this process or, through the file lock, others)
// exactly one deletes the row and sees it; the rest find nothing. An
// expired code is deleted too, and reported as ErrNotFound.
func (x codes) Consume(ctx context.Context, hash string) (*store.Code, error) {
	c := store.Code{Hash: hash}
	var expires int64
	err := x.s.writeTx(ctx, func(tx *sql.Tx) error {
		return mapErr(tx.QueryRowContext(ctx, "DELETE FROM codes WHERE hash = ? RETURNING data, expires_at", hash).
			Scan(&c.Data, &expires))
	})
	if err != nil {
		return nil, err
	}
	c.ExpiresAt = fromMicros(expires)
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
	return x.s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_families
			(id, user_id, client_id, data, created_at, expires_at, revoked, current_seq) VALUES (?,?,?,?,?,?,?,0)`,
			f.ID, f.UserID, f.ClientID, blob(f.Data), micros(f.CreatedAt), micros(f.ExpiresAt), f.Revoked); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO refresh_tokens (hash, family_id, seq, expires_at) VALUES (?,?,0,?)",
			tokenHash, f.ID, micros(tokenExpires))
		return mapErr(err)
	})
}

// Rotate runs in one immediate transaction on the single writer
// connection, so rotations are serialised: of two concurrent rotations of
// the current token the first moves current_seq on, and the second then
// finds its token is no longer current — reuse — revokes the family and
// returns ErrReused (RFC 9700 §4.14.2). Checks, in order: unknown token,
// revoked family or family past its end → ErrNotFound; not the current
// token → revoke, ErrReused; current token expired → ErrNotFound.
func (x refresh) Rotate(ctx context.Context, tokenHash, newHash string, newExpires time.Time) (*store.RefreshFamily, error) {
	var f store.RefreshFamily
	now := micros(x.s.now())
	tx, err := x.s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		seq, tokExp, created, famExp, cur int64
	)
	err = tx.QueryRowContext(ctx, `SELECT t.seq, t.expires_at, f.id, f.user_id, f.client_id, f.data,
		f.created_at, f.expires_at, f.revoked, f.current_seq
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`, tokenHash).
		Scan(&seq, &tokExp, &f.ID, &f.UserID, &f.ClientID, &f.Data, &created, &famExp, &f.Revoked, &cur)
	if err != nil {
		return nil, mapErr(err)
	}
	if f.Revoked || famExp <= now {
		return nil, store.ErrNotFound
	}
	if seq != cur {
		if _, err := tx.ExecContext(ctx, "UPDATE refresh_families SET revoked = 1 WHERE id = ?", f.ID); err != nil {
			return nil, mapErr(err)
		}
		if err := tx.Commit(); err != nil {
			return nil, mapErr(err)
		}
		return nil, store.ErrReused
	}
	if tokExp <= now {
		return nil, store.ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO refresh_tokens (hash, family_id, seq, expires_at) VALUES (?,?,?,?)",
		newHash, f.ID, cur+1, micros(newExpires)); err != nil {
		return nil, mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE refresh_families SET current_seq = ? WHERE id = ?", cur+1, f.ID); err != nil {
		return nil, mapErr(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(err)
	}
	f.CreatedAt, f.ExpiresAt = fromMicros(created), fromMicros(famExp)
	return &f, nil
}

// Revoke marks the family revoked; ErrNotFound when unknown.
func (x refresh) Revoke(ctx context.Context, familyID string) error {
	return affected(x.s.w.ExecContext(ctx, "UPDATE refresh_families SET revoked = 1 WHERE id = ?", familyID))
}

// RevokeUser revokes every family of the user (idempotent).
func (x refresh) RevokeUser(ctx context.Context, userID string) error {
	if userID == "" {
		// Client-only families have no user; never revoke them all at once.
		return nil
	}
	_, err := x.s.w.ExecContext(ctx, "UPDATE refresh_families SET revoked = 1 WHERE user_id = ?", userID)
	return mapErr(err)
}

// ---- lockouts ----

type lockouts struct{ s *Store }

func scanLockout(r scanner, key string) (*store.Lockout, error) {
	l := store.Lockout{Key: key}
	var until, pendingUntil sql.NullInt64
	err := r.Scan(&l.Failures, &l.Lockouts, &until, &l.LastFailedHash, &l.Pending, &pendingUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return &store.Lockout{Key: key}, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	l.LockedUntil = fromNullMicros(until)
	l.PendingUntil = fromNullMicros(pendingUntil)
	return &l, nil
}

const lockoutSelect = "SELECT failures, lockouts, locked_until, last_failed_hash, pending, pending_until FROM lockouts WHERE key = ?"

// Get returns the zero Lockout (with Key) when there is none.
func (x lockouts) Get(ctx context.Context, key string) (*store.Lockout, error) {
	return scanLockout(x.s.r.QueryRowContext(ctx, lockoutSelect, key), key)
}

// Update reads, applies fn and writes in one immediate transaction on the
// single writer connection: concurrent Updates of a key (from any
// goroutine, or another process through the file lock) never interleave.
// fn must not use the store (the writer connection is held) and should be
// quick. When fn fails nothing is saved and its error is returned.
func (x lockouts) Update(ctx context.Context, key string, fn func(l *store.Lockout) error) (*store.Lockout, error) {
	var out *store.Lockout
	err := x.s.writeTx(ctx, func(tx *sql.Tx) error {
		l, err := scanLockout(tx.QueryRowContext(ctx, lockoutSelect, key), key)
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
		l.Key = key
		if _, err := tx.ExecContext(ctx, `INSERT INTO lockouts (key, failures, lockouts, locked_until, last_failed_hash, pending, pending_until)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
			lockouts = excluded.lockouts, locked_until = excluded.locked_until,
			last_failed_hash = excluded.last_failed_hash, pending = excluded.pending,
			pending_until = excluded.pending_until`,
			key, l.Failures, l.Lockouts, nullMicros(l.LockedUntil), l.LastFailedHash, l.Pending, nullMicros(l.PendingUntil)); err != nil {
			return mapErr(err)
		}
		out = l
		return nil
	})
	return out, err
}

// Reset forgets the key (idempotent).
func (x lockouts) Reset(ctx context.Context, key string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM lockouts WHERE key = ?", key)
	return mapErr(err)
}

// ---- verifications ----

type verifications struct{ s *Store }

// Put creates or replaces (a resend replaces the code).
func (x verifications) Put(ctx context.Context, v *store.Verification) error {
	_, err := x.s.w.ExecContext(ctx, `INSERT INTO verifications (id, email, code_hash, attempts, expires_at)
		VALUES (?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET email = excluded.email, code_hash = excluded.code_hash,
		attempts = excluded.attempts, expires_at = excluded.expires_at`,
		v.ID, v.Email, v.CodeHash, v.Attempts, micros(v.ExpiresAt))
	return mapErr(err)
}

func scanVerification(r scanner) (*store.Verification, error) {
	var (
		v       store.Verification
		expires int64
	)
	if err := r.Scan(&v.ID, &v.Email, &v.CodeHash, &v.Attempts, &expires); err != nil {
		return nil, mapErr(err)
	}
	v.ExpiresAt = fromMicros(expires)
	return &v, nil
}

// Get: ErrNotFound when missing or expired.
func (x verifications) Get(ctx context.Context, id string) (*store.Verification, error) {
	return scanVerification(x.s.r.QueryRowContext(ctx,
		"SELECT id, email, code_hash, attempts, expires_at FROM verifications WHERE id = ? AND expires_at > ?",
		id, micros(x.s.now())))
}

// Attempt is one UPDATE ... RETURNING, so concurrent attempts each count.
func (x verifications) Attempt(ctx context.Context, id string) (*store.Verification, error) {
	return scanVerification(x.s.w.QueryRowContext(ctx,
		`UPDATE verifications SET attempts = attempts + 1 WHERE id = ? AND expires_at > ?
		RETURNING id, email, code_hash, attempts, expires_at`, id, micros(x.s.now())))
}

// Delete is idempotent.
func (x verifications) Delete(ctx context.Context, id string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM verifications WHERE id = ?", id)
	return mapErr(err)
}

// ---- signing keys ----

type signingKeys struct{ s *Store }

// Put creates or replaces by ID.
func (x signingKeys) Put(ctx context.Context, k *store.SigningKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = x.s.now()
	}
	_, err := x.s.w.ExecContext(ctx, `INSERT INTO signing_keys
		(id, algorithm, private, public, not_before, retired_at, expires_at, created_at) VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET algorithm = excluded.algorithm, private = excluded.private,
		public = excluded.public, not_before = excluded.not_before, retired_at = excluded.retired_at,
		expires_at = excluded.expires_at, created_at = excluded.created_at`,
		k.ID, k.Algorithm, blob(k.Private), blob(k.Public), micros(k.NotBefore), nullMicros(k.RetiredAt),
		nullMicros(k.ExpiresAt), micros(k.CreatedAt))
	return mapErr(err)
}

// List returns every key, oldest first.
func (x signingKeys) List(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := x.s.r.QueryContext(ctx, `SELECT id, algorithm, private, public, not_before, retired_at,
		expires_at, created_at FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k                store.SigningKey
			nb, created      int64
			retired, expires sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &k.Public, &nb, &retired, &expires, &created); err != nil {
			return nil, mapErr(err)
		}
		k.NotBefore, k.CreatedAt = fromMicros(nb), fromMicros(created)
		k.RetiredAt, k.ExpiresAt = fromNullMicros(retired), fromNullMicros(expires)
		out = append(out, &k)
	}
	return out, mapErr(rows.Err())
}

// Delete removes a key; ErrNotFound when unknown.
func (x signingKeys) Delete(ctx context.Context, id string) error {
	return affected(x.s.w.ExecContext(ctx, "DELETE FROM signing_keys WHERE id = ?", id))
}

// ---- throttles ----

type throttles struct{ s *Store }

// Hit is one upsert on the writer connection: the row's old values are what
// the CASEs read, so a window that has ended restarts with n.
func (x throttles) Hit(ctx context.Context, key string, n int, now time.Time, window time.Duration) (int, time.Time, error) {
	if n <= 0 {
		var count int
		var end int64
		err := x.s.r.QueryRowContext(ctx, "SELECT count, expires_at FROM throttles WHERE key = ? AND expires_at > ?", key, micros(now)).Scan(&count, &end)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, time.Time{}, nil
		}
		if err != nil {
			return 0, time.Time{}, mapErr(err)
		}
		return count, fromMicros(end), nil
	}
	var count int
	var end int64
	err := x.s.w.QueryRowContext(ctx, `INSERT INTO throttles (key, count, expires_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.expires_at <= ?4 THEN excluded.count ELSE throttles.count + excluded.count END,
			expires_at = CASE WHEN throttles.expires_at <= ?4 THEN excluded.expires_at ELSE throttles.expires_at END
		RETURNING count, expires_at`,
		key, n, micros(now.Add(window)), micros(now)).Scan(&count, &end)
	if err != nil {
		return 0, time.Time{}, mapErr(err)
	}
	return count, fromMicros(end), nil
}

// Refund is one UPDATE on the writer connection, limited to the current
// window.
func (x throttles) Refund(ctx context.Context, key string, n int, now time.Time) error {
	if n <= 0 {
		return nil
	}
	_, err := x.s.w.ExecContext(ctx, "UPDATE throttles SET count = MAX(count - ?, 0) WHERE key = ? AND expires_at > ?", n, key, micros(now))
	return mapErr(err)
}

// Reset forgets the key (idempotent).
func (x throttles) Reset(ctx context.Context, key string) error {
	_, err := x.s.w.ExecContext(ctx, "DELETE FROM throttles WHERE key = ?", key)
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
	_, err = x.s.w.ExecContext(ctx, "INSERT INTO audit_events (id, time, kind, attrs) VALUES (?, ?, ?, ?)", e.ID, micros(e.Time), e.Kind, string(attrs))
	return mapErr(err)
}

// Page lists events newest first, by ID.
func (x auditLog) Page(ctx context.Context, kinds []string, before string, limit int) ([]*store.AuditEvent, error) {
	q := "SELECT id, time, kind, attrs FROM audit_events WHERE (? = '' OR id < ?)"
	args := []any{before, before}
	if len(kinds) > 0 {
		q += " AND kind IN (?" + strings.Repeat(", ?", len(kinds)-1) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	rows, err := x.s.r.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var t int64
		var attrs string
		if err := rows.Scan(&e.ID, &t, &e.Kind, &attrs); err != nil {
			return nil, mapErr(err)
		}
		e.Time = fromMicros(t)
		if err := json.Unmarshal([]byte(attrs), &e.Attrs); err != nil {
			return nil, fmt.Errorf("sqlite: audit event %s: %w", e.ID, err)
		}
		out = append(out, &e)
	}
	return out, mapErr(rows.Err())
}

// Purge deletes the events older than t.
func (x auditLog) Purge(ctx context.Context, t time.Time) (int, error) {
	res, err := x.s.w.ExecContext(ctx, "DELETE FROM audit_events WHERE time < ?", micros(t))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

// ---- deleted users ----

type deletedUsers struct{ s *Store }

// Put keeps a deleted account (replacing an older deletion of the id).
func (x deletedUsers) Put(ctx context.Context, u *store.User, at time.Time) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = x.s.w.ExecContext(ctx, `INSERT INTO deleted_users (id, deleted_at, data) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at, data = excluded.data`, u.ID, micros(at), string(b))
	return mapErr(err)
}

func (x deletedUsers) scan(rows interface{ Scan(...any) error }) (*store.DeletedUser, error) {
	var at int64
	var data string
	if err := rows.Scan(&at, &data); err != nil {
		return nil, mapErr(err)
	}
	d := &store.DeletedUser{DeletedAt: fromMicros(at)}
	if err := json.Unmarshal([]byte(data), &d.User); err != nil {
		return nil, fmt.Errorf("sqlite: deleted user: %w", err)
	}
	return d, nil
}

// Get is one deleted account.
func (x deletedUsers) Get(ctx context.Context, id string) (*store.DeletedUser, error) {
	d, err := x.scan(x.s.r.QueryRowContext(ctx, "SELECT deleted_at, data FROM deleted_users WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, store.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	return d, err
}

// Page lists deleted accounts by ID.
func (x deletedUsers) Page(ctx context.Context, after string, limit int) ([]*store.DeletedUser, error) {
	rows, err := x.s.r.QueryContext(ctx, "SELECT deleted_at, data FROM deleted_users WHERE id > ? ORDER BY id LIMIT ?", after, limit)
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
	return affected(x.s.w.ExecContext(ctx, "DELETE FROM deleted_users WHERE id = ?", id))
}

// Purge removes the accounts deleted before t.
func (x deletedUsers) Purge(ctx context.Context, t time.Time) (int, error) {
	res, err := x.s.w.ExecContext(ctx, "DELETE FROM deleted_users WHERE deleted_at < ?", micros(t))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
