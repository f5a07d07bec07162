package password

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// LockedMessage is B2C's AADB2C90114 text.
const LockedMessage = "Your account is temporarily locked to prevent unauthorized use. Try again later."

// LockedCode is B2C's error code of a locked account.
const LockedCode = "AADB2C90114"

// MaxLockPeriod caps a single lock period (B2C: 5 hours).
const MaxLockPeriod = 5 * time.Hour

// Lockout is B2C's smart lockout over store.Lockouts.
//
// Rule: Threshold (default 10) counted failures lock the account for a
// period; while locked no password is checked. Once the account has been
// locked, the next counted failure before a success locks it again at
// once. Success while unlocked resets everything. A failure with the same
// wrong password as the previous failure is not counted (LastFailedHash, a
// keyed hash of key and password).
//
// Period formula: the n-th lock period (n = 0, 1, 2, ... lockouts so far)
// lasts Duration × 2^(n/10) (integer division), capped at 5 h. With the
// default 60 s: periods 1-10 last 1 min, 11-20 2 min, 21-30 4 min, ...,
// 81-90 256 min, then 5 h.
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

func (l *Lockout) failedHash(key, password string) string {
	m := hmac.New(sha256.New, l.Key)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Fail records a wrong password for key and reports whether the account is
// now locked (also when a concurrent failure locked it).
func (l *Lockout) Fail(ctx context.Context, key, password string) (locked bool, err error) {
	now := l.now()
	h := l.failedHash(key, password)
	st, err := l.Store.Update(ctx, key, func(s *store.Lockout) error {
		if s.LockedUntil.After(now) {
			return nil // locked meanwhile: nothing counts
		}
		if s.LastFailedHash != "" && hmac.Equal([]byte(s.LastFailedHash), []byte(h)) {
			return nil // the same wrong password again counts once
		}
		s.Key = key
		s.LastFailedHash = h
		s.Failures++
		if s.Failures >= l.threshold() || s.Lockouts > 0 {
			s.LockedUntil = now.Add(Period(l.Duration, s.Lockouts))
			s.Lockouts++
			s.Failures = 0
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return st.LockedUntil.After(now), nil
}

// Succeed resets the counters after a successful sign-in (callers check
// Locked first: success while locked is not possible).
func (l *Lockout) Succeed(ctx context.Context, key string) error {
	st, err := l.Store.Get(ctx, key)
	if err != nil {
		return err
	}
	if st == nil || (st.Failures == 0 && st.Lockouts == 0 && st.LastFailedHash == "" && st.LockedUntil.IsZero()) {
		return nil // nothing to reset: no write on the hot path
	}
	return l.Store.Reset(ctx, key)
}
