package password

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// LockedMessage is B2C's AADB2C90114 text.
const LockedMessage = "Your account is temporarily locked to prevent unauthorized use. Try again later."

// LockedCode is B2C's error code of a locked account.
const LockedCode = "AADB2C90114"

// MaxLockPeriod caps a single lock period (B2C: 5 hours).
const MaxLockPeriod = 5 * time.Hour

// ReservationLease bounds how long a reserved attempt holds its slot when
// its process dies before finishing it (requests are bounded to 10 s, so a
// live reservation never outlasts it).
const ReservationLease = time.Minute

// Lockout is B2C's smart lockout over store.Lockouts.
//
// Rule: Threshold (default 10) counted failures lock the account for a
// period; while locked no password is checked. Once the account has been
// locked, the next counted failure before a success locks it again at
// once. Success while unlocked resets everything. A failure with the same
// wrong password as the previous failure is not counted (LastFailedHash, a
// keyed hash of key, the account's current password hash and the
// password).
//
// Period formula: the n-th lock period (n = 0, 1, 2, ... lockouts so far)
// lasts Duration × 2^(n/10) (integer division), capped at 5 h. With the
// default 60 s: periods 1-10 last 1 min, 11-20 2 min, 21-30 4 min, ...,
// 81-90 256 min, then 5 h.
//
// Reservation (the concurrency rule): an attempt is reserved before its
// password is hashed (Begin), in the same atomic store.Lockouts.Update as
// the lock check, and verified only when the reservation is granted. A
// reservation is an in-flight count (Pending), not a failure counted up
// front: it is granted only while counted failures plus attempts in flight
// stay below what may still fail before a lock (Threshold − Failures; 1
// once the account has been locked before, since one more failure
// re-locks). So at most Threshold passwords are verified per lock window
// whatever the concurrency, across processes sharing the store. Finishing
// an attempt (Fail, Succeed, Cancel) releases its slot in the same Update
// that records the result; a slot whose process died is freed when the
// lease (ReservationLease) runs out. A success is refused when the account
// was locked while its password was being verified.
//
// Same wrong password (B2C counts it once), with reservations: an attempt
// whose password is the last counted wrong one is answered "invalid" at
// Begin, before any reservation or hashing (Repeated): it is known wrong
// without verifying (the hash is bound to the account's current password
// hash, so it cannot match after a password change), it counts nothing and
// it costs no argon2 run, so repeating a wrong password can neither lock
// the account nor occupy the slots. The first concurrent copies of a new
// wrong password each take a slot (they are not yet known to be one
// password); when they finish they count once, so they never lock sooner
// than distinct passwords would — but they can make other attempts wait
// ("Busy") while in flight. We chose this over counting failures up front
// and refunding repeats: up-front counting would lock the account on a
// burst of one repeated password before any of its copies was known to be
// the same, which B2C does not do.
type Lockout struct {
	Store     store.Lockouts
	Threshold int           // default 10
	Duration  time.Duration // first period, default 60 s
	// Key keys the hash of the last wrong password (so the store never
	// holds a fast unkeyed hash of a near-password).
	Key []byte
	Now func() time.Time
}

func (l *Lockout) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Lockout) threshold() int {
	if l.Threshold > 0 {
		return l.Threshold
	}
	return 10
}

// Period is the length of the lock period after n earlier ones.
func Period(base time.Duration, n int) time.Duration {
	if base <= 0 {
		base = time.Minute
	}
	d := base
	for i := 0; i < n/10; i++ {
		d *= 2
		if d >= MaxLockPeriod {
			return MaxLockPeriod
		}
	}
	return min(d, MaxLockPeriod)
}

// Locked reports whether key is locked now, and until when.
func (l *Lockout) Locked(ctx context.Context, key string) (time.Time, bool, error) {
	st, err := l.Store.Get(ctx, key)
	if err != nil {
		return time.Time{}, false, err
	}
	if st != nil && st.LockedUntil.After(l.now()) {
		return st.LockedUntil, true, nil
	}
	return time.Time{}, false, nil
}

func (l *Lockout) failedHash(key, binding, password string) string {
	m := hmac.New(sha256.New, l.Key)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Outcome is what Begin decided.
type Outcome int

// Begin's outcomes.
const (
	// Granted: verify the password, then finish the Attempt.
	Granted Outcome = iota
	// Locked: the account is locked; verify nothing.
	Locked
	// Busy: every attempt allowed before a lock is in flight; verify
	// nothing and answer as locked (those attempts may lock it).
	Busy
	// Repeated: the same wrong password as the last counted failure;
	// verify nothing, answer "invalid", nothing is counted.
	Repeated
)

// errSkip aborts an Update without writing.
var errSkip = errors.New("lockout: nothing to write")

// Attempt is a granted reservation. Finish it with exactly one of Fail,
// Succeed or Cancel.
type Attempt struct {
	l           *Lockout
	key, hash   string
	LockedUntil time.Time // set by Fail when the failure locked the account
}

// Begin reserves an attempt at key's password. binding is the account's
// current password hash ("" for unknown accounts): it binds the
// remembered wrong password to it. The returned Attempt is non-nil only
// with Granted.
func (l *Lockout) Begin(ctx context.Context, key, password, binding string) (*Attempt, Outcome, error) {
	now := l.now()
	h := l.failedHash(key, binding, password)
	out := Granted
	_, err := l.Store.Update(ctx, key, func(s *store.Lockout) error {
		if s.LockedUntil.After(now) {
			out = Locked
			return errSkip
		}
		if s.LastFailedHash != "" && hmac.Equal([]byte(s.LastFailedHash), []byte(h)) {
			out = Repeated
			return errSkip
		}
		if !s.PendingUntil.After(now) {
			s.Pending = 0 // a stale lease: its process died
		}
		room := l.threshold() - s.Failures
		if s.Lockouts > 0 {
			room = 1 // one more failure re-locks
		}
		if s.Pending >= room {
			out = Busy
			return errSkip
		}
		s.Pending++
		s.PendingUntil = now.Add(ReservationLease)
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil, out, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return &Attempt{l: l, key: key, hash: h}, Granted, nil
}

// finishCtx keeps a release from being lost to a request that timed out
// (the lease frees it anyway, but only later).
func finishCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

func release(s *store.Lockout) {
	if s.Pending > 0 {
		s.Pending--
	}
	if s.Pending == 0 {
		s.PendingUntil = time.Time{}
	}
}

// Fail records that the password was wrong and releases the slot. It
// reports whether the account is now locked (also when a concurrent
// failure locked it).
func (a *Attempt) Fail(ctx context.Context) (locked bool, err error) {
	ctx, cancel := finishCtx(ctx)
	defer cancel()
	l := a.l
	now := l.now()
	var lockedNow time.Time
	st, err := l.Store.Update(ctx, a.key, func(s *store.Lockout) error {
		lockedNow = time.Time{}
		release(s)
		if s.LockedUntil.After(now) {
			return nil // locked meanwhile: nothing more counts
		}
		if s.LastFailedHash != "" && hmac.Equal([]byte(s.LastFailedHash), []byte(a.hash)) {
			return nil // the same wrong password again counts once
		}
		s.LastFailedHash = a.hash
		s.Failures++
		if s.Failures >= l.threshold() || s.Lockouts > 0 {
			s.LockedUntil = now.Add(Period(l.Duration, s.Lockouts))
			s.Lockouts++
			s.Failures = 0
			lockedNow = s.LockedUntil
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	a.LockedUntil = lockedNow
	return st.LockedUntil.After(now), nil
}

// Succeed releases the slot after a correct password and resets the
// counters — unless the account was locked while the password was being
// verified: then ok is false and the sign-in must be refused as locked.
func (a *Attempt) Succeed(ctx context.Context) (ok bool, err error) {
	ctx, cancel := finishCtx(ctx)
	defer cancel()
	now := a.l.now()
	ok = true
	_, err = a.l.Store.Update(ctx, a.key, func(s *store.Lockout) error {
		release(s)
		if s.LockedUntil.After(now) {
			ok = false
			return nil
		}
		s.Failures, s.Lockouts, s.LastFailedHash, s.LockedUntil = 0, 0, "", time.Time{}
		return nil
	})
	if err != nil {
		return false, err
	}
	return ok, nil
}

// Cancel releases the slot without counting anything (the password could
// not be verified: store or context error).
func (a *Attempt) Cancel(ctx context.Context) error {
	ctx, cancel := finishCtx(ctx)
	defer cancel()
	_, err := a.l.Store.Update(ctx, a.key, func(s *store.Lockout) error {
		release(s)
		return nil
	})
	return err
}
