// Package store is where the identity role keeps its state: users, SSO
// sessions, pending sign-in transactions, authorization codes, refresh-token
// families, lockout counters, email verification codes and signing keys.
// Two implementations sit behind these interfaces — SQLite (embedded, the
// default) and PostgreSQL (several processes) — and one conformance suite
// (store/storetest) runs against both.
//
// Secrets are never stored in the clear: codes, refresh tokens, session ids
// and verification codes are stored as SHA-256 hashes (they are high-entropy
// random values, so a fast hash is enough); passwords as argon2id hashes made
// by the caller; private keys encrypted by the caller.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors every implementation returns (wrapped is fine; test with errors.Is).
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique value (user email, key id) already exists.
	ErrConflict = errors.New("store: already exists")
	// ErrUnavailable: the database cannot be reached; callers answer 503.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrKeyType: a policy key of another type than the keys already in
	// its container (B2C's AADB2C90089).
	ErrKeyType = errors.New("store: the key container holds keys of another type")
)

// Store is one database.
type Store interface {
	Users() Users
	Sessions() Sessions
	Transactions() Transactions
	Codes() Codes
	Refresh() RefreshTokens
	Lockouts() Lockouts
	Verifications() Verifications
	SigningKeys() SigningKeys
	PolicyKeys() PolicyKeys
	Throttles() Throttles
	Audit() AuditLog
	DeletedUsers() DeletedUsers
	// Ping checks the database (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// Identity is one way a user signs in (Graph's objectIdentity).
type Identity struct {
	SignInType       string `json:"signInType"` // emailAddress, userName, federated
	Issuer           string `json:"issuer"`     // e.g. contoso.onmicrosoft.com
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// User is a local or federated account.
type User struct {
	ID           string // objectId, a GUID
	DisplayName  string
	GivenName    string
	Surname      string
	Email        string // the emailAddress identity, lower-cased; unique
	Identities   []Identity
	PasswordHash string // argon2id PHC string; empty for federated-only users
	// Attributes are the other user-flow attributes (city, country,
	// jobTitle, postalCode, state, streetAddress, extension_* ...).
	Attributes map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// RefreshTokensValidFrom revokes refresh tokens issued before it
	// (Graph's signInSessionsValidFromDateTime).
	RefreshTokensValidFrom time.Time
}

// RolesAttribute is the User.Attributes entry holding an account's
// Gatehouse roles, comma-separated ("admin" signs in to the admin
// console). The directory API neither shows nor writes it: only the
// command line (`gatehouse users create --admin`) and the console grant it.
const RolesAttribute = "gatehouseRoles"

// HasRole reports whether the account holds a Gatehouse role.
func (u *User) HasRole(role string) bool {
	for _, r := range strings.Split(u.Attributes[RolesAttribute], ",") {
		if strings.TrimSpace(r) == role {
			return true
		}
	}
	return false
}

// DeleteUser deletes an account as every caller must (the command line,
// the directory API, the console): kept restorable in deleted (nil: the
// deletion is final), removed, then its SSO sessions and refresh tokens
// ended, so a restored account signs in again rather than carrying on.
func DeleteUser(ctx context.Context, u *User, now time.Time, users Users, deleted DeletedUsers, sessions Sessions, refresh RefreshTokens) error {
	if deleted != nil {
		if err := deleted.Put(ctx, u, now); err != nil {
			return err
		}
	}
	if err := users.Delete(ctx, u.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := sessions.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	return refresh.RevokeUser(ctx, u.ID)
}

// Users manages accounts.
type Users interface {
	Create(ctx context.Context, u *User) error // ErrConflict when the email exists
	Get(ctx context.Context, id string) (*User, error)
	GetByEmail(ctx context.Context, email string) (*User, error) // case-insensitive
	// GetByIdentity finds the account with a sign-in identity (issuer
	// case-insensitive; the id too, except for federated identities).
	// Identities are unique: Create and Update answer ErrConflict for one
	// another account has.
	GetByIdentity(ctx context.Context, signInType, issuer, issuerAssignedID string) (*User, error)
	List(ctx context.Context) ([]*User, error) // by creation time
	// Page is at most limit users with an ID after after ("" = from the
	// start), by ID: keyset paging, stable under concurrent writes (a
	// page never repeats or skips an account that existed throughout).
	Page(ctx context.Context, after string, limit int) ([]*User, error)
	Count(ctx context.Context) (int, error)
	Update(ctx context.Context, u *User) error // all fields by ID
	Delete(ctx context.Context, id string) error
}

// Session is an SSO session (the cookie holds the id; the store its hash).
type Session struct {
	IDHash    string
	UserID    string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// Sessions manages SSO sessions.
type Sessions interface {
	Create(ctx context.Context, s *Session) error
	Get(ctx context.Context, idHash string) (*Session, error) // ErrNotFound when missing or expired
	Touch(ctx context.Context, idHash string, expiresAt time.Time) error
	Delete(ctx context.Context, idHash string) error
	DeleteUser(ctx context.Context, userID string) error
}

// Transaction is a sign-in in progress: the validated authorization request
// waiting for the user to finish the hosted pages. Data is opaque JSON owned
// by the identity package.
type Transaction struct {
	ID        string
	Data      []byte
	ExpiresAt time.Time
}

// Transactions keeps pending sign-ins (so any process can continue them).
type Transactions interface {
	Put(ctx context.Context, t *Transaction) error // create or replace
	Get(ctx context.Context, id string) (*Transaction, error)
	Delete(ctx context.Context, id string) error
}

// Code is an authorization code. Data is opaque JSON (client, redirect URI,
// scopes, PKCE challenge, nonce, user, auth time ...) owned by the identity
// package.
type Code struct {
	Hash      string
	Data      []byte
	ExpiresAt time.Time
}

// Codes keeps authorization codes.
type Codes interface {
	Put(ctx context.Context, c *Code) error
	// Consume returns the code and deletes it in one atomic step: of any
	// number of concurrent calls with one hash (from any process), exactly
	// one gets the code; the others get ErrNotFound. Expired codes are
	// ErrNotFound.
	Consume(ctx context.Context, hash string) (*Code, error)
}

// RefreshFamily is the chain of refresh tokens that descend from one
// sign-in. Rotation replaces the current token; presenting an earlier one
// again (reuse) revokes the whole family.
type RefreshFamily struct {
	ID        string
	UserID    string // empty for client-credentials (never has refresh tokens)
	ClientID  string
	Data      []byte    // opaque JSON: policy, scopes, auth time, claims ...
	CreatedAt time.Time // the sign-in; the sliding window is measured from it
	ExpiresAt time.Time // absolute end of the family
	Revoked   bool
}

// RefreshTokens keeps refresh-token families.
type RefreshTokens interface {
	// Create stores a new family with its first token.
	Create(ctx context.Context, f *RefreshFamily, tokenHash string, tokenExpires time.Time) error
	// Rotate exchanges the token tokenHash for newHash in one atomic step.
	// It returns the family when tokenHash is the family's current,
	// unexpired token. When tokenHash is an earlier token of the family
	// (reuse), it revokes the family and returns ErrReused. Unknown tokens,
	// expired ones and revoked families are ErrNotFound.
	Rotate(ctx context.Context, tokenHash, newHash string, newExpires time.Time) (*RefreshFamily, error)
	Revoke(ctx context.Context, familyID string) error
	RevokeUser(ctx context.Context, userID string) error
}

// ErrReused is returned by Rotate when a rotated-away token is presented.
var ErrReused = errors.New("store: refresh token reused; family revoked")

// Lockout is the smart-lockout state of one account.
type Lockout struct {
	Key         string // the user id (or normalised sign-in name)
	Failures    int    // failures since the last success or lockout
	Lockouts    int    // lockout periods so far (the duration grows with it)
	LockedUntil time.Time
	// LastFailedHash remembers the last wrong password (a keyed hash) so
	// repeating the same wrong password counts once, as B2C does.
	LastFailedHash string
	// Pending counts attempts reserved and not yet finished (their
	// passwords are being verified); PendingUntil is the lease of the
	// reservations: once it has passed, Pending is stale (a process died
	// holding one) and counts as zero.
	Pending      int
	PendingUntil time.Time
}

// Lockouts keeps lockout counters. Update runs fn on the current state
// (zero value when none) and saves what it returns, atomically with respect
// to concurrent Updates of the same key from any process.
type Lockouts interface {
	Get(ctx context.Context, key string) (*Lockout, error) // zero Lockout when none
	Update(ctx context.Context, key string, fn func(l *Lockout) error) (*Lockout, error)
	Reset(ctx context.Context, key string) error
}

// Throttles count events per key in fixed windows: sign-in attempts per
// client address, verification codes sent per email address, client-secret
// guesses per client... Every identity-role limit that must hold across
// processes counts here, so the same numbers apply whether one process or
// ten serve the tenant.
type Throttles interface {
	// Hit adds n (>= 0) to key's count and returns the count after adding
	// and when the window ends, in one atomic statement: of concurrent Hits
	// from any process none is lost, and each sees a distinct total. The
	// window starts with the first hit after the previous one ended
	// (now >= end) and lasts window. Hit with n = 0 reads the count.
	Hit(ctx context.Context, key string, n int, now time.Time, window time.Duration) (count int, ends time.Time, err error)
	// Refund takes n (>= 0) back from key's count in its current window
	// (never below zero), atomically as Hit: a caller that reserved with
	// Hit before doing the work returns the reservation when the work
	// turned out not to count (a successful sign-in). Nothing happens when
	// the window has ended or the key has none.
	Refund(ctx context.Context, key string, n int, now time.Time) error
	// Reset forgets key (idempotent).
	Reset(ctx context.Context, key string) error
}

// Verification is an email one-time code.
type Verification struct {
	ID        string // random id carried by the page
	Email     string
	CodeHash  string
	Attempts  int
	ExpiresAt time.Time
}

// Verifications keeps email verification codes.
type Verifications interface {
	Put(ctx context.Context, v *Verification) error
	Get(ctx context.Context, id string) (*Verification, error)
	// Attempt increments the attempt counter and returns the updated record.
	Attempt(ctx context.Context, id string) (*Verification, error)
	Delete(ctx context.Context, id string) error
}

// SigningKey is a token-signing key. Private is encrypted by the caller.
type SigningKey struct {
	ID        string // kid
	Algorithm string // RS256, ES256
	Private   []byte // encrypted private key
	Public    []byte // public JWK JSON
	// NotBefore: published in JWKS from creation, used for signing from
	// NotBefore on (so caches pick it up before it signs).
	NotBefore time.Time
	// RetiredAt: no longer signs from then; stays in JWKS until
	// RetiredAt + the longest token lifetime.
	RetiredAt time.Time
	// ExpiresAt: removed from JWKS after it (zero = not yet scheduled).
	ExpiresAt time.Time
	CreatedAt time.Time
}

// SigningKeys keeps signing keys.
type SigningKeys interface {
	Put(ctx context.Context, k *SigningKey) error // create or replace by ID
	List(ctx context.Context) ([]*SigningKey, error)
	Delete(ctx context.Context, id string) error
}

// PolicyKey is one key of a policy key container (B2C's keyset, named
// B2C_1A_...). Material is encrypted by the caller; Public holds what is
// not secret (the PEM certificate chain of an uploaded certificate, the
// PEM public key of a generated pair; nil for secrets).
type PolicyKey struct {
	Container string // the container name, exact (the caller normalises it)
	KID       string // unique within the container
	Type      string // JWK kty: oct, RSA, EC; one type per container
	Use       string // sig | enc
	Material  []byte // encrypted secret material
	Public    []byte
	// Origin says who added the key: "config", "cli", ... (informational;
	// start-up config loading compares against its own versions).
	Origin    string
	NotBefore time.Time // zero = no activation date
	ExpiresAt time.Time // zero = no expiry
	CreatedAt time.Time
}

// PolicyKeys keeps policy keys. Keys are never updated: a container is
// rotated by adding a key, as in B2C.
type PolicyKeys interface {
	// Add stores a key: ErrConflict when its container already has the
	// kid, ErrKeyType when the container holds keys of another Type
	// (checked atomically with the insert).
	Add(ctx context.Context, k *PolicyKey) error
	// List returns the keys of one container, oldest first (by CreatedAt,
	// then kid); empty when the container does not exist.
	List(ctx context.Context, container string) ([]*PolicyKey, error)
	// Containers returns the names of the containers that hold keys,
	// sorted.
	Containers(ctx context.Context) ([]string, error)
	// Rename moves every key of container from to container to, first
	// deleting whatever to held, in one transaction (B2C's .bak copy on
	// delete); ErrNotFound when from holds no key.
	Rename(ctx context.Context, from, to string) error
	// Delete removes a container and its keys; ErrNotFound when it holds
	// no key.
	Delete(ctx context.Context, container string) error
}

// AuditEvent is one entry of the audit log: a security or administrative
// event (a sign-in, a lockout, a user changed through the directory API).
type AuditEvent struct {
	// ID orders events: a later event has a greater ID.
	ID    string
	Time  time.Time
	Kind  string            // the security event's kind: signin_failed, admin_action, ...
	Attrs map[string]string // actor, target, ip, flow, reason ...
}

// AuditLog keeps audit events for the retention the operator chose.
type AuditLog interface {
	Append(ctx context.Context, e *AuditEvent) error
	// Page is at most limit events of the kinds (all without any) with
	// an ID before before ("" = the newest), newest first.
	Page(ctx context.Context, kinds []string, before string, limit int) ([]*AuditEvent, error)
	// Purge deletes the events older than t and says how many.
	Purge(ctx context.Context, t time.Time) (int, error)
}

// DeletedUser is an account deleted through the directory API, kept for
// restoring (Graph's deletedItems) until it is purged.
type DeletedUser struct {
	User      *User
	DeletedAt time.Time
}

// DeletedUsers keeps deleted accounts (their identities are free for new
// accounts meanwhile).
type DeletedUsers interface {
	Put(ctx context.Context, u *User, deletedAt time.Time) error
	Get(ctx context.Context, id string) (*DeletedUser, error) // ErrNotFound when missing
	// Page is at most limit deleted accounts with an ID after after, by ID.
	Page(ctx context.Context, after string, limit int) ([]*DeletedUser, error)
	Delete(ctx context.Context, id string) error // ErrNotFound when missing
	// Purge deletes those deleted before t and says how many.
	Purge(ctx context.Context, t time.Time) (int, error)
}
