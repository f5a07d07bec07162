// Package storemetrics wraps a store.Store so that every call reports its
// latency: one observation per call, labelled "<part>.<method>" (for
// example "users.get_by_email", "throttles.hit", "ping"). The backends are
// untouched; the identity role wraps whichever one it opened.
package storemetrics

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Observer receives one observation per store call (op names the call).
type Observer func(op string, d time.Duration)

// Wrap returns st reporting to obs (nil obs: st itself). The result also
// implements store.Sweeper when st does.
func Wrap(st store.Store, obs Observer) store.Store {
	if obs == nil || st == nil {
		return st
	}
	w := &wrapped{st: st, o: obs}
	if sw, ok := st.(store.Sweeper); ok {
		return &sweeping{wrapped: w, sw: sw}
	}
	return w
}

// Unwrap returns the store Wrap was given (st itself when not wrapped).
func Unwrap(st store.Store) store.Store {
	switch w := st.(type) {
	case *wrapped:
		return w.st
	case *sweeping:
		return w.st
	}
	return st
}

type wrapped struct {
	st store.Store
	o  Observer
}

type sweeping struct {
	*wrapped
	sw store.Sweeper
}

func (s *sweeping) Sweep(ctx context.Context) error {
	defer s.o.since("sweep", time.Now())
	return s.sw.Sweep(ctx)
}

func (o Observer) since(op string, start time.Time) { o(op, time.Since(start)) }

func (w *wrapped) Users() store.Users               { return users{w.st.Users(), w.o} }
func (w *wrapped) Sessions() store.Sessions         { return sessions{w.st.Sessions(), w.o} }
func (w *wrapped) Transactions() store.Transactions { return transactions{w.st.Transactions(), w.o} }
func (w *wrapped) Codes() store.Codes               { return codes{w.st.Codes(), w.o} }
func (w *wrapped) Refresh() store.RefreshTokens     { return refresh{w.st.Refresh(), w.o} }
func (w *wrapped) Lockouts() store.Lockouts         { return lockouts{w.st.Lockouts(), w.o} }
func (w *wrapped) Verifications() store.Verifications {
	return verifications{w.st.Verifications(), w.o}
}
func (w *wrapped) SigningKeys() store.SigningKeys   { return signingKeys{w.st.SigningKeys(), w.o} }
func (w *wrapped) PolicyKeys() store.PolicyKeys     { return policyKeys{w.st.PolicyKeys(), w.o} }
func (w *wrapped) Throttles() store.Throttles       { return throttles{w.st.Throttles(), w.o} }
func (w *wrapped) Audit() store.AuditLog            { return w.st.Audit() }
func (w *wrapped) DeletedUsers() store.DeletedUsers { return w.st.DeletedUsers() }

func (w *wrapped) Ping(ctx context.Context) error {
	defer w.o.since("ping", time.Now())
	return w.st.Ping(ctx)
}

func (w *wrapped) Close() error { return w.st.Close() }

type users struct {
	s store.Users
	o Observer
}

func (u users) Create(ctx context.Context, x *store.User) error {
	defer u.o.since("users.create", time.Now())
	return u.s.Create(ctx, x)
}

func (u users) Get(ctx context.Context, id string) (*store.User, error) {
	defer u.o.since("users.get", time.Now())
	return u.s.Get(ctx, id)
}

func (u users) GetByEmail(ctx context.Context, email string) (*store.User, error) {
	defer u.o.since("users.get_by_email", time.Now())
	return u.s.GetByEmail(ctx, email)
}

func (u users) GetByIdentity(ctx context.Context, signInType, issuer, issuerAssignedID string) (*store.User, error) {
	defer u.o.since("users.get_by_identity", time.Now())
	return u.s.GetByIdentity(ctx, signInType, issuer, issuerAssignedID)
}

func (u users) List(ctx context.Context) ([]*store.User, error) {
	defer u.o.since("users.list", time.Now())
	return u.s.List(ctx)
}

func (u users) Page(ctx context.Context, after string, limit int) ([]*store.User, error) {
	defer u.o.since("users.page", time.Now())
	return u.s.Page(ctx, after, limit)
}

func (u users) Count(ctx context.Context) (int, error) {
	defer u.o.since("users.count", time.Now())
	return u.s.Count(ctx)
}

func (u users) Update(ctx context.Context, x *store.User) error {
	defer u.o.since("users.update", time.Now())
	return u.s.Update(ctx, x)
}

func (u users) Delete(ctx context.Context, id string) error {
	defer u.o.since("users.delete", time.Now())
	return u.s.Delete(ctx, id)
}

type sessions struct {
	s store.Sessions
	o Observer
}

func (s sessions) Create(ctx context.Context, x *store.Session) error {
	defer s.o.since("sessions.create", time.Now())
	return s.s.Create(ctx, x)
}

func (s sessions) Get(ctx context.Context, idHash string) (*store.Session, error) {
	defer s.o.since("sessions.get", time.Now())
	return s.s.Get(ctx, idHash)
}

func (s sessions) Touch(ctx context.Context, idHash string, expiresAt time.Time) error {
	defer s.o.since("sessions.touch", time.Now())
	return s.s.Touch(ctx, idHash, expiresAt)
}

func (s sessions) Delete(ctx context.Context, idHash string) error {
	defer s.o.since("sessions.delete", time.Now())
	return s.s.Delete(ctx, idHash)
}

func (s sessions) DeleteUser(ctx context.Context, userID string) error {
	defer s.o.since("sessions.delete_user", time.Now())
	return s.s.DeleteUser(ctx, userID)
}

type transactions struct {
	s store.Transactions
	o Observer
}

func (t transactions) Put(ctx context.Context, x *store.Transaction) error {
	defer t.o.since("transactions.put", time.Now())
	return t.s.Put(ctx, x)
}

func (t transactions) Get(ctx context.Context, id string) (*store.Transaction, error) {
	defer t.o.since("transactions.get", time.Now())
	return t.s.Get(ctx, id)
}

func (t transactions) Delete(ctx context.Context, id string) error {
	defer t.o.since("transactions.delete", time.Now())
	return t.s.Delete(ctx, id)
}

type codes struct {
	s store.Codes
	o Observer
}

func (c codes) Put(ctx context.Context, x *store.Code) error {
	defer c.o.since("codes.put", time.Now())
	return c.s.Put(ctx, x)
}

func (c codes) Consume(ctx context.Context, hash string) (*store.Code, error) {
	defer c.o.since("codes.consume", time.Now())
	return c.s.Consume(ctx, hash)
}

type refresh struct {
	s store.RefreshTokens
	o Observer
}

func (r refresh) Create(ctx context.Context, f *store.RefreshFamily, tokenHash string, tokenExpires time.Time) error {
	defer r.o.since("refresh.create", time.Now())
	return r.s.Create(ctx, f, tokenHash, tokenExpires)
}

func (r refresh) Rotate(ctx context.Context, tokenHash, newHash string, newExpires time.Time) (*store.RefreshFamily, error) {
	defer r.o.since("refresh.rotate", time.Now())
	return r.s.Rotate(ctx, tokenHash, newHash, newExpires)
}

func (r refresh) Revoke(ctx context.Context, familyID string) error {
	defer r.o.since("refresh.revoke", time.Now())
	return r.s.Revoke(ctx, familyID)
}

func (r refresh) RevokeUser(ctx context.Context, userID string) error {
	defer r.o.since("refresh.revoke_user", time.Now())
	return r.s.RevokeUser(ctx, userID)
}

type lockouts struct {
	s store.Lockouts
	o Observer
}

func (l lockouts) Get(ctx context.Context, key string) (*store.Lockout, error) {
	defer l.o.since("lockouts.get", time.Now())
	return l.s.Get(ctx, key)
}

func (l lockouts) Update(ctx context.Context, key string, fn func(l *store.Lockout) error) (*store.Lockout, error) {
	defer l.o.since("lockouts.update", time.Now())
	return l.s.Update(ctx, key, fn)
}

func (l lockouts) Reset(ctx context.Context, key string) error {
	defer l.o.since("lockouts.reset", time.Now())
	return l.s.Reset(ctx, key)
}

type verifications struct {
	s store.Verifications
	o Observer
}

func (v verifications) Put(ctx context.Context, x *store.Verification) error {
	defer v.o.since("verifications.put", time.Now())
	return v.s.Put(ctx, x)
}

func (v verifications) Get(ctx context.Context, id string) (*store.Verification, error) {
	defer v.o.since("verifications.get", time.Now())
	return v.s.Get(ctx, id)
}

func (v verifications) Attempt(ctx context.Context, id string) (*store.Verification, error) {
	defer v.o.since("verifications.attempt", time.Now())
	return v.s.Attempt(ctx, id)
}

func (v verifications) Delete(ctx context.Context, id string) error {
	defer v.o.since("verifications.delete", time.Now())
	return v.s.Delete(ctx, id)
}

type signingKeys struct {
	s store.SigningKeys
	o Observer
}

func (k signingKeys) Put(ctx context.Context, x *store.SigningKey) error {
	defer k.o.since("signing_keys.put", time.Now())
	return k.s.Put(ctx, x)
}

func (k signingKeys) List(ctx context.Context) ([]*store.SigningKey, error) {
	defer k.o.since("signing_keys.list", time.Now())
	return k.s.List(ctx)
}

func (k signingKeys) Delete(ctx context.Context, id string) error {
	defer k.o.since("signing_keys.delete", time.Now())
	return k.s.Delete(ctx, id)
}

type policyKeys struct {
	s store.PolicyKeys
	o Observer
}

func (k policyKeys) Add(ctx context.Context, x *store.PolicyKey) error {
	defer k.o.since("policy_keys.add", time.Now())
	return k.s.Add(ctx, x)
}

func (k policyKeys) List(ctx context.Context, container string) ([]*store.PolicyKey, error) {
	defer k.o.since("policy_keys.list", time.Now())
	return k.s.List(ctx, container)
}

func (k policyKeys) Containers(ctx context.Context) ([]string, error) {
	defer k.o.since("policy_keys.containers", time.Now())
	return k.s.Containers(ctx)
}

func (k policyKeys) Rename(ctx context.Context, from, to string) error {
	defer k.o.since("policy_keys.rename", time.Now())
	return k.s.Rename(ctx, from, to)
}

func (k policyKeys) Delete(ctx context.Context, container string) error {
	defer k.o.since("policy_keys.delete", time.Now())
	return k.s.Delete(ctx, container)
}

type throttles struct {
	s store.Throttles
	o Observer
}

func (t throttles) Hit(ctx context.Context, key string, n int, now time.Time, window time.Duration) (int, time.Time, error) {
	defer t.o.since("throttles.hit", time.Now())
	return t.s.Hit(ctx, key, n, now, window)
}

func (t throttles) Refund(ctx context.Context, key string, n int, now time.Time) error {
	defer t.o.since("throttles.refund", time.Now())
	return t.s.Refund(ctx, key, n, now)
}

func (t throttles) Reset(ctx context.Context, key string) error {
	defer t.o.since("throttles.reset", time.Now())
	return t.s.Reset(ctx, key)
}
