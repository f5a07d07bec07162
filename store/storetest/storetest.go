// Package storetest is the conformance suite every store.Store
// implementation runs (store/sqlite, store/postgres): one definition of the
// behaviour the identity role relies on, including the concurrency
// guarantees (single-use codes, atomic refresh rotation with reuse
// detection, atomic lockout updates) exercised by many goroutines over
// several stores opened on one database — several stores stand for several
// processes.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Goroutines is how many goroutines the concurrency cases run.
const Goroutines = 24

// Processes is how many stores (pools) the concurrency cases spread the
// goroutines over.
const Processes = 4

// Run runs the suite. open returns a new store on one database each time it
// is called during the run (the first call may create the database); the
// suite closes nothing itself, so open should register t.Cleanup(Close).
// Subtests share the database and use random keys.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	st := open(t)
	stores := []store.Store{st}
	for range Processes - 1 {
		stores = append(stores, open(t))
	}
	s := &suite{st: st, stores: stores}
	t.Run("Ping", s.ping)
	t.Run("Users", s.users)
	t.Run("UsersConcurrentCreate", s.usersConcurrentCreate)
	t.Run("Sessions", s.sessions)
	t.Run("Transactions", s.transactions)
	t.Run("Codes", s.codes)
	t.Run("CodesConcurrentConsume", s.codesConcurrent)
	t.Run("Refresh", s.refresh)
	t.Run("RefreshConcurrentPair", s.refreshConcurrentPair)
	t.Run("RefreshConcurrentMany", s.refreshConcurrentMany)
	t.Run("Lockouts", s.lockouts)
	t.Run("LockoutsConcurrent", s.lockoutsConcurrent)
	t.Run("LockoutsConcurrentReserve", s.lockoutsConcurrentReserve)
	t.Run("Throttles", s.throttles)
	t.Run("ThrottlesConcurrent", s.throttlesConcurrent)
	t.Run("Verifications", s.verifications)
	t.Run("VerificationsConcurrentAttempt", s.verificationsConcurrent)
	t.Run("SigningKeys", s.signingKeys)
	t.Run("PolicyKeys", s.policyKeys)
	t.Run("PolicyKeysConcurrentTypes", s.policyKeysConcurrentTypes)
	t.Run("Sweep", s.sweep)
	t.Run("Audit", s.audit)
	t.Run("DeletedUsers", s.deletedUsers)
	t.Run("Identities", s.identities)
}

type suite struct {
	st     store.Store
	stores []store.Store
}

// storeFor spreads goroutine i over the stores.
func (s *suite) storeFor(i int) store.Store { return s.stores[i%len(s.stores)] }

func rnd(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// now is truncated to the stores' precision (microseconds) so round trips
// compare equal.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func eqTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// parallel runs fn(i) on n goroutines released together (a closed
// channel, not a sleep) and returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func (s *suite) ping(t *testing.T) {
	for i, st := range s.stores {
		noErr(t, fmt.Sprint("Ping store ", i), st.Ping(t.Context()))
	}
}

// ---- users ----

func newUser() *store.User {
	id := rnd("u-")
	return &store.User{
		ID:          id,
		DisplayName: "Alice " + id,
		GivenName:   "Alice",
		Surname:     "Liddell",
		Email:       id + "@example.com",
		Identities: []store.Identity{
			{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: id + "@example.com"},
			{SignInType: "federated", Issuer: "https://accounts.example", IssuerAssignedID: "sub-" + id},
		},
		PasswordHash:           "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Attributes:             map[string]string{"city": "Oxford", "extension_abc_tier": "gold"},
		CreatedAt:              now().Add(-time.Hour),
		UpdatedAt:              now().Add(-time.Minute),
		RefreshTokensValidFrom: now().Add(-30 * time.Minute),
	}
}

func checkUser(t *testing.T, got, want *store.User) {
	t.Helper()
	if got.ID != want.ID || got.DisplayName != want.DisplayName || got.GivenName != want.GivenName ||
		got.Surname != want.Surname || got.Email != want.Email || got.PasswordHash != want.PasswordHash ||
		!slices.Equal(got.Identities, want.Identities) || len(got.Attributes) != len(want.Attributes) ||
		!eqTime(got.CreatedAt, want.CreatedAt) || !eqTime(got.UpdatedAt, want.UpdatedAt) ||
		!eqTime(got.RefreshTokensValidFrom, want.RefreshTokensValidFrom) {
		t.Fatalf("user mismatch:\n got %+v\nwant %+v", got, want)
	}
	for k, v := range want.Attributes {
		if got.Attributes[k] != v {
			t.Fatalf("user attribute %s = %q, want %q", k, got.Attributes[k], v)
		}
	}
}

func (s *suite) users(t *testing.T) {
	ctx := t.Context()
	us := s.st.Users()

	u := newUser()
	noErr(t, "Create", us.Create(ctx, u))
	got, err := us.Get(ctx, u.ID)
	noErr(t, "Get", err)
	checkUser(t, got, u)

	t.Run("GetMissing", func(t *testing.T) {
		_, err := us.Get(ctx, rnd("nobody-"))
		wantErr(t, "Get missing", err, store.ErrNotFound)
		_, err = us.GetByEmail(ctx, rnd("nobody-")+"@example.com")
		wantErr(t, "GetByEmail missing", err, store.ErrNotFound)
		_, err = us.GetByEmail(ctx, "")
		wantErr(t, "GetByEmail empty", err, store.ErrNotFound)
	})

	t.Run("EmailCaseInsensitive", func(t *testing.T) {
		v := newUser()
		v.Email = "Mixed.Case-" + v.ID + "@Example.COM"
		noErr(t, "Create", us.Create(ctx, v))
		for _, e := range []string{v.Email, "mixed.case-" + v.ID + "@example.com", "MIXED.CASE-" + v.ID + "@EXAMPLE.COM"} {
			got, err := us.GetByEmail(ctx, e)
			noErr(t, "GetByEmail "+e, err)
			if got.ID != v.ID {
				t.Fatalf("GetByEmail(%s) = %s, want %s", e, got.ID, v.ID)
			}
			if got.Email != "mixed.case-"+v.ID+"@example.com" {
				t.Fatalf("stored email %q, want it lower-cased", got.Email)
			}
		}
		dup := newUser()
		dup.Email = "MIXED.case-" + v.ID + "@example.com"
		wantErr(t, "Create duplicate email (other case)", us.Create(ctx, dup), store.ErrConflict)
		dupID := newUser()
		dupID.ID = v.ID
		wantErr(t, "Create duplicate id", us.Create(ctx, dupID), store.ErrConflict)
	})

	t.Run("EmptyEmailNotUnique", func(t *testing.T) {
		// Federated-only users may have no email address.
		for range 2 {
			v := newUser()
			v.Email = ""
			noErr(t, "Create without email", us.Create(ctx, v))
		}
	})

	t.Run("CreateFillsTimes", func(t *testing.T) {
		v := newUser()
		v.CreatedAt, v.UpdatedAt, v.RefreshTokensValidFrom = time.Time{}, time.Time{}, time.Time{}
		v.Identities, v.Attributes = nil, nil
		noErr(t, "Create", us.Create(ctx, v))
		if v.CreatedAt.IsZero() || v.UpdatedAt.IsZero() {
			t.Fatal("Create did not set CreatedAt/UpdatedAt")
		}
		got, err := us.Get(ctx, v.ID)
		noErr(t, "Get", err)
		if !got.RefreshTokensValidFrom.IsZero() {
			t.Fatalf("zero RefreshTokensValidFrom came back as %v", got.RefreshTokensValidFrom)
		}
		if len(got.Identities) != 0 || len(got.Attributes) != 0 {
			t.Fatalf("empty identities/attributes came back as %v %v", got.Identities, got.Attributes)
		}
	})

	t.Run("List", func(t *testing.T) {
		base := now().Add(-24 * time.Hour)
		var ids []string
		for i := range 3 {
			v := newUser()
			v.CreatedAt = base.Add(time.Duration(2-i) * time.Second) // created in reverse order
			noErr(t, "Create", us.Create(ctx, v))
			ids = append(ids, v.ID)
		}
		all, err := us.List(ctx)
		noErr(t, "List", err)
		var order []string
		for i, v := range all {
			if i > 0 && v.CreatedAt.Before(all[i-1].CreatedAt) {
				t.Fatalf("List not ordered by creation time at %d", i)
			}
			if slices.Contains(ids, v.ID) {
				order = append(order, v.ID)
			}
		}
		if want := []string{ids[2], ids[1], ids[0]}; !slices.Equal(order, want) {
			t.Fatalf("List order %v, want %v", order, want)
		}
	})

	t.Run("PageAndCount", func(t *testing.T) {
		all, err := us.List(ctx)
		noErr(t, "List", err)
		n, err := us.Count(ctx)
		noErr(t, "Count", err)
		if n != len(all) {
			t.Fatalf("Count %d, List %d", n, len(all))
		}
		// Pages of two, by ID; a user created ahead of the cursor while
		// paging is seen, nothing repeats or goes missing.
		var got []string
		after, added := "", false
		for {
			page, err := us.Page(ctx, after, 2)
			noErr(t, "Page", err)
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("page of %d, limit 2", len(page))
			}
			for _, v := range page {
				if v.ID <= after {
					t.Fatalf("page out of order: %s after %s", v.ID, after)
				}
				got = append(got, v.ID)
				after = v.ID
			}
			if !added {
				added = true
				ahead := newUser()
				ahead.ID = "~" + ahead.ID // sorts after every GUID
				noErr(t, "Create", us.Create(ctx, ahead))
				all = append(all, ahead)
			}
		}
		want := make([]string, 0, len(all))
		for _, v := range all {
			want = append(want, v.ID)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
	})

	t.Run("Update", func(t *testing.T) {
		v := newUser()
		noErr(t, "Create", us.Create(ctx, v))
		v.DisplayName = "Changed"
		v.Email = "Changed-" + v.ID + "@example.com"
		v.Attributes = map[string]string{"country": "NZ"}
		v.Identities = v.Identities[:1]
		v.PasswordHash = ""
		v.UpdatedAt = now()
		v.RefreshTokensValidFrom = now()
		noErr(t, "Update", us.Update(ctx, v))
		got, err := us.Get(ctx, v.ID)
		noErr(t, "Get", err)
		v.Email = "changed-" + v.ID + "@example.com"
		checkUser(t, got, v)
		if _, err := us.GetByEmail(ctx, v.Email); err != nil {
			t.Fatalf("GetByEmail new email: %v", err)
		}

		other := newUser()
		other.ID = rnd("nobody-")
		wantErr(t, "Update missing", us.Update(ctx, other), store.ErrNotFound)
		other2 := newUser()
		noErr(t, "Create", us.Create(ctx, other2))
		other2.Email = v.Email
		wantErr(t, "Update to taken email", us.Update(ctx, other2), store.ErrConflict)
	})

	t.Run("Delete", func(t *testing.T) {
		v := newUser()
		noErr(t, "Create", us.Create(ctx, v))
		sess := &store.Session{IDHash: rnd("s-"), UserID: v.ID, AuthTime: now(), ExpiresAt: now().Add(time.Hour)}
		noErr(t, "Sessions.Create", s.st.Sessions().Create(ctx, sess))
		fam := newFamily(v.ID)
		tok := rnd("rt-")
		noErr(t, "Refresh.Create", s.st.Refresh().Create(ctx, fam, tok, now().Add(time.Hour)))

		noErr(t, "Delete", us.Delete(ctx, v.ID))
		_, err := us.Get(ctx, v.ID)
		wantErr(t, "Get deleted", err, store.ErrNotFound)
		_, err = us.GetByEmail(ctx, v.Email)
		wantErr(t, "GetByEmail deleted", err, store.ErrNotFound)
		_, err = s.st.Sessions().Get(ctx, sess.IDHash)
		wantErr(t, "session of deleted user", err, store.ErrNotFound)
		_, err = s.st.Refresh().Rotate(ctx, tok, rnd("rt-"), now().Add(time.Hour))
		wantErr(t, "refresh token of deleted user", err, store.ErrNotFound)
		wantErr(t, "Delete again", us.Delete(ctx, v.ID), store.ErrNotFound)
		// The email is free again.
		w := newUser()
		w.Email = v.Email
		noErr(t, "Create with the deleted user's email", us.Create(ctx, w))
	})
}

// usersConcurrentCreate: of many concurrent sign-ups with one email (any
// case) exactly one succeeds.
func (s *suite) usersConcurrentCreate(t *testing.T) {
	email := rnd("race-") + "@example.com"
	errs := parallel(Goroutines, func(i int) error {
		u := newUser()
		if i%2 == 1 {
			u.Email = "RACE" + email[4:]
		} else {
			u.Email = email
		}
		return s.storeFor(i).Users().Create(t.Context(), u)
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("concurrent Create: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent Creates with one email succeeded, want 1", ok)
	}
}

// ---- sessions ----

func (s *suite) sessions(t *testing.T) {
	ctx := t.Context()
	ss := s.st.Sessions()
	u := newUser()
	noErr(t, "Users.Create", s.st.Users().Create(ctx, u))

	se := &store.Session{IDHash: rnd("s-"), UserID: u.ID, AuthTime: now().Add(-time.Minute), ExpiresAt: now().Add(time.Hour)}
	noErr(t, "Create", ss.Create(ctx, se))
	got, err := ss.Get(ctx, se.IDHash)
	noErr(t, "Get", err)
	if got.IDHash != se.IDHash || got.UserID != u.ID || !eqTime(got.AuthTime, se.AuthTime) || !eqTime(got.ExpiresAt, se.ExpiresAt) {
		t.Fatalf("Get = %+v, want %+v", got, se)
	}
	wantErr(t, "Create duplicate", ss.Create(ctx, se), store.ErrConflict)
	_, err = ss.Get(ctx, rnd("s-"))
	wantErr(t, "Get missing", err, store.ErrNotFound)
	wantErr(t, "Create for unknown user",
		ss.Create(ctx, &store.Session{IDHash: rnd("s-"), UserID: rnd("nobody-"), AuthTime: now(), ExpiresAt: now().Add(time.Hour)}),
		store.ErrNotFound)

	// Touch slides the expiry.
	later := now().Add(3 * time.Hour)
	noErr(t, "Touch", ss.Touch(ctx, se.IDHash, later))
	got, err = ss.Get(ctx, se.IDHash)
	noErr(t, "Get after Touch", err)
	if !eqTime(got.ExpiresAt, later) {
		t.Fatalf("ExpiresAt after Touch = %v, want %v", got.ExpiresAt, later)
	}
	wantErr(t, "Touch missing", ss.Touch(ctx, rnd("s-"), later), store.ErrNotFound)

	// Expired sessions are gone, and cannot be revived.
	old := &store.Session{IDHash: rnd("s-"), UserID: u.ID, AuthTime: now().Add(-2 * time.Hour), ExpiresAt: now().Add(-time.Second)}
	noErr(t, "Create expired", ss.Create(ctx, old))
	_, err = ss.Get(ctx, old.IDHash)
	wantErr(t, "Get expired", err, store.ErrNotFound)
	wantErr(t, "Touch expired", ss.Touch(ctx, old.IDHash, later), store.ErrNotFound)

	noErr(t, "Delete", ss.Delete(ctx, se.IDHash))
	_, err = ss.Get(ctx, se.IDHash)
	wantErr(t, "Get deleted", err, store.ErrNotFound)
	noErr(t, "Delete again (idempotent)", ss.Delete(ctx, se.IDHash))

	// DeleteUser removes that user's sessions only.
	other := newUser()
	noErr(t, "Users.Create", s.st.Users().Create(ctx, other))
	var mine []string
	for range 3 {
		h := rnd("s-")
		mine = append(mine, h)
		noErr(t, "Create", ss.Create(ctx, &store.Session{IDHash: h, UserID: u.ID, AuthTime: now(), ExpiresAt: now().Add(time.Hour)}))
	}
	theirs := &store.Session{IDHash: rnd("s-"), UserID: other.ID, AuthTime: now(), ExpiresAt: now().Add(time.Hour)}
	noErr(t, "Create", ss.Create(ctx, theirs))
	noErr(t, "DeleteUser", ss.DeleteUser(ctx, u.ID))
	for _, h := range mine {
		_, err := ss.Get(ctx, h)
		wantErr(t, "Get after DeleteUser", err, store.ErrNotFound)
	}
	_, err = ss.Get(ctx, theirs.IDHash)
	noErr(t, "other user's session after DeleteUser", err)
	noErr(t, "DeleteUser with none", ss.DeleteUser(ctx, rnd("nobody-")))
}

// ---- transactions ----

func (s *suite) transactions(t *testing.T) {
	ctx := t.Context()
	ts := s.st.Transactions()
	tr := &store.Transaction{ID: rnd("tx-"), Data: []byte(`{"client_id":"a"}`), ExpiresAt: now().Add(10 * time.Minute)}
	noErr(t, "Put", ts.Put(ctx, tr))
	got, err := ts.Get(ctx, tr.ID)
	noErr(t, "Get", err)
	if string(got.Data) != string(tr.Data) || !eqTime(got.ExpiresAt, tr.ExpiresAt) || got.ID != tr.ID {
		t.Fatalf("Get = %+v, want %+v", got, tr)
	}
	// Put replaces.
	tr2 := &store.Transaction{ID: tr.ID, Data: []byte(`{"client_id":"b"}`), ExpiresAt: now().Add(20 * time.Minute)}
	noErr(t, "Put replace", ts.Put(ctx, tr2))
	got, err = ts.Get(ctx, tr.ID)
	noErr(t, "Get", err)
	if string(got.Data) != string(tr2.Data) || !eqTime(got.ExpiresAt, tr2.ExpiresAt) {
		t.Fatalf("after replace Get = %+v, want %+v", got, tr2)
	}
	_, err = ts.Get(ctx, rnd("tx-"))
	wantErr(t, "Get missing", err, store.ErrNotFound)

	exp := &store.Transaction{ID: rnd("tx-"), Data: []byte(`{}`), ExpiresAt: now().Add(-time.Second)}
	noErr(t, "Put expired", ts.Put(ctx, exp))
	_, err = ts.Get(ctx, exp.ID)
	wantErr(t, "Get expired", err, store.ErrNotFound)

	noErr(t, "Delete", ts.Delete(ctx, tr.ID))
	_, err = ts.Get(ctx, tr.ID)
	wantErr(t, "Get deleted", err, store.ErrNotFound)
	noErr(t, "Delete again (idempotent)", ts.Delete(ctx, tr.ID))
}

// ---- codes ----

func (s *suite) codes(t *testing.T) {
	ctx := t.Context()
	cs := s.st.Codes()
	c := &store.Code{Hash: rnd("c-"), Data: []byte(`{"scope":"openid"}`), ExpiresAt: now().Add(time.Minute)}
	noErr(t, "Put", cs.Put(ctx, c))
	wantErr(t, "Put duplicate", cs.Put(ctx, c), store.ErrConflict)
	got, err := cs.Consume(ctx, c.Hash)
	noErr(t, "Consume", err)
	if got.Hash != c.Hash || string(got.Data) != string(c.Data) || !eqTime(got.ExpiresAt, c.ExpiresAt) {
		t.Fatalf("Consume = %+v, want %+v", got, c)
	}
	_, err = cs.Consume(ctx, c.Hash)
	wantErr(t, "Consume twice", err, store.ErrNotFound)
	_, err = cs.Consume(ctx, rnd("c-"))
	wantErr(t, "Consume unknown", err, store.ErrNotFound)

	exp := &store.Code{Hash: rnd("c-"), Data: []byte(`{}`), ExpiresAt: now().Add(-time.Millisecond)}
	noErr(t, "Put expired", cs.Put(ctx, exp))
	_, err = cs.Consume(ctx, exp.Hash)
	wantErr(t, "Consume expired", err, store.ErrNotFound)

	// A code consumed through one process is gone for the others.
	c2 := &store.Code{Hash: rnd("c-"), Data: []byte(`{}`), ExpiresAt: now().Add(time.Minute)}
	noErr(t, "Put", s.stores[1].Codes().Put(ctx, c2))
	_, err = s.stores[2].Codes().Consume(ctx, c2.Hash)
	noErr(t, "Consume through another store", err)
	_, err = s.stores[3].Codes().Consume(ctx, c2.Hash)
	wantErr(t, "Consume again through a third store", err, store.ErrNotFound)
}

// codesConcurrent: of Goroutines concurrent Consumes of one code spread
// over Processes stores, exactly one gets it.
func (s *suite) codesConcurrent(t *testing.T) {
	ctx := t.Context()
	for round := range 5 {
		c := &store.Code{Hash: rnd("c-"), Data: []byte(fmt.Sprint(round)), ExpiresAt: now().Add(time.Minute)}
		noErr(t, "Put", s.st.Codes().Put(ctx, c))
		errs := parallel(Goroutines, func(i int) error {
			got, err := s.storeFor(i).Codes().Consume(ctx, c.Hash)
			if err == nil && string(got.Data) != fmt.Sprint(round) {
				return fmt.Errorf("wrong data %q", got.Data)
			}
			return err
		})
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrNotFound):
				t.Fatalf("round %d: Consume: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d concurrent Consumes got the code, want exactly 1", round, ok, Goroutines)
		}
	}
}

// ---- refresh tokens ----

func newFamily(userID string) *store.RefreshFamily {
	return &store.RefreshFamily{
		ID:        rnd("fam-"),
		UserID:    userID,
		ClientID:  "client-1",
		Data:      []byte(`{"scope":"openid offline_access"}`),
		CreatedAt: now().Add(-time.Minute),
		ExpiresAt: now().Add(24 * time.Hour),
	}
}

func checkFamily(t *testing.T, got, want *store.RefreshFamily) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.ClientID != want.ClientID ||
		string(got.Data) != string(want.Data) || !eqTime(got.CreatedAt, want.CreatedAt) ||
		!eqTime(got.ExpiresAt, want.ExpiresAt) || got.Revoked {
		t.Fatalf("family = %+v, want %+v", got, want)
	}
}

func (s *suite) refresh(t *testing.T) {
	ctx := t.Context()
	rs := s.st.Refresh()
	exp := now().Add(time.Hour)

	t.Run("RotateChain", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		tok := rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, tok, exp))
		wantErr(t, "Create duplicate family", rs.Create(ctx, f, rnd("rt-"), exp), store.ErrConflict)
		for i := range 5 {
			next := rnd("rt-")
			got, err := s.storeFor(i).Refresh().Rotate(ctx, tok, next, exp)
			noErr(t, fmt.Sprint("Rotate ", i), err)
			checkFamily(t, got, f)
			tok = next
		}
	})

	t.Run("Reuse", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		t0, t1, t2 := rnd("rt-"), rnd("rt-"), rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, t0, exp))
		_, err := rs.Rotate(ctx, t0, t1, exp)
		noErr(t, "Rotate t0", err)
		// t0 again: reuse; the family is revoked.
		_, err = rs.Rotate(ctx, t0, t2, exp)
		wantErr(t, "Rotate t0 again", err, store.ErrReused)
		// The current token died with the family.
		_, err = rs.Rotate(ctx, t1, t2, exp)
		wantErr(t, "Rotate current token of revoked family", err, store.ErrNotFound)
		_, err = rs.Rotate(ctx, t0, t2, exp)
		wantErr(t, "Rotate reused token of revoked family", err, store.ErrNotFound)
	})

	t.Run("Unknown", func(t *testing.T) {
		_, err := rs.Rotate(ctx, rnd("rt-"), rnd("rt-"), exp)
		wantErr(t, "Rotate unknown", err, store.ErrNotFound)
	})

	t.Run("ExpiredToken", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		tok := rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, tok, now().Add(-time.Second)))
		_, err := rs.Rotate(ctx, tok, rnd("rt-"), exp)
		wantErr(t, "Rotate expired token", err, store.ErrNotFound)
	})

	t.Run("ExpiredFamily", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		f.ExpiresAt = now().Add(-time.Second)
		tok := rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, tok, exp))
		_, err := rs.Rotate(ctx, tok, rnd("rt-"), exp)
		wantErr(t, "Rotate in expired family", err, store.ErrNotFound)
	})

	t.Run("NewHashTaken", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		t0, t1 := rnd("rt-"), rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, t0, exp))
		_, err := rs.Rotate(ctx, t0, t0, exp)
		wantErr(t, "Rotate to an existing hash", err, store.ErrConflict)
		// Nothing changed: t0 is still current.
		_, err = rs.Rotate(ctx, t0, t1, exp)
		noErr(t, "Rotate after failed rotation", err)
	})

	t.Run("Revoke", func(t *testing.T) {
		f := newFamily(rnd("u-"))
		tok := rnd("rt-")
		noErr(t, "Create", rs.Create(ctx, f, tok, exp))
		noErr(t, "Revoke", rs.Revoke(ctx, f.ID))
		_, err := rs.Rotate(ctx, tok, rnd("rt-"), exp)
		wantErr(t, "Rotate after Revoke", err, store.ErrNotFound)
		wantErr(t, "Revoke unknown", rs.Revoke(ctx, rnd("fam-")), store.ErrNotFound)
	})

	t.Run("RevokeUser", func(t *testing.T) {
		uid := rnd("u-")
		var toks []string
		for range 3 {
			tok := rnd("rt-")
			noErr(t, "Create", rs.Create(ctx, newFamily(uid), tok, exp))
			toks = append(toks, tok)
		}
		otherTok := rnd("rt-")
		noErr(t, "Create other", rs.Create(ctx, newFamily(rnd("u-")), otherTok, exp))
		clientTok := rnd("rt-")
		noErr(t, "Create client-only", rs.Create(ctx, newFamily(""), clientTok, exp))
		noErr(t, "RevokeUser", rs.RevokeUser(ctx, uid))
		noErr(t, "RevokeUser empty", rs.RevokeUser(ctx, ""))
		for _, tok := range toks {
			_, err := rs.Rotate(ctx, tok, rnd("rt-"), exp)
			wantErr(t, "Rotate after RevokeUser", err, store.ErrNotFound)
		}
		_, err := rs.Rotate(ctx, otherTok, rnd("rt-"), exp)
		noErr(t, "Rotate other user's token", err)
		_, err = rs.Rotate(ctx, clientTok, rnd("rt-"), exp)
		noErr(t, "Rotate client-only token", err)
	})
}

// rotateRace has n goroutines (over all stores) rotate the family's current
// token at once and returns how many succeeded, saw reuse, and saw not
// found; afterwards it checks that the family is revoked.
func (s *suite) rotateRace(t *testing.T, n int) (ok, reused, notFound int) {
	ctx := t.Context()
	f := newFamily(rnd("u-"))
	tok := rnd("rt-")
	exp := now().Add(time.Hour)
	noErr(t, "Create", s.st.Refresh().Create(ctx, f, tok, exp))
	news := make([]string, n)
	for i := range news {
		news[i] = rnd("rt-")
	}
	errs := parallel(n, func(i int) error {
		_, err := s.storeFor(i).Refresh().Rotate(ctx, tok, news[i], exp)
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			winner = i
		case errors.Is(err, store.ErrReused):
			reused++
		case errors.Is(err, store.ErrNotFound):
			notFound++
		default:
			t.Fatalf("concurrent Rotate: %v", err)
		}
	}
	if winner >= 0 {
		// The family must end revoked: the winner's new token is dead.
		_, err := s.st.Refresh().Rotate(ctx, news[winner], rnd("rt-"), exp)
		wantErr(t, "Rotate winner's token after the race", err, store.ErrNotFound)
	}
	return ok, reused, notFound
}

// refreshConcurrentPair: two concurrent rotations of the current token —
// exactly one succeeds, the other sees reuse, and the family is revoked
// (RFC 9700 §4.14.2). Repeated to give the race a chance.
func (s *suite) refreshConcurrentPair(t *testing.T) {
	for round := range 10 {
		ok, reused, notFound := s.rotateRace(t, 2)
		if ok != 1 || reused != 1 || notFound != 0 {
			t.Fatalf("round %d: %d succeeded, %d reused, %d not found; want 1, 1, 0", round, ok, reused, notFound)
		}
	}
}

// refreshConcurrentMany: with many rotations at once exactly one succeeds;
// the first loser sees reuse and revokes the family, later ones may find it
// revoked (ErrNotFound).
func (s *suite) refreshConcurrentMany(t *testing.T) {
	for round := range 3 {
		ok, reused, notFound := s.rotateRace(t, Goroutines)
		if ok != 1 || reused < 1 || ok+reused+notFound != Goroutines {
			t.Fatalf("round %d: %d succeeded, %d reused, %d not found; want exactly 1 success and at least 1 reuse",
				round, ok, reused, notFound)
		}
	}
}

// ---- lockouts ----

func (s *suite) lockouts(t *testing.T) {
	ctx := t.Context()
	ls := s.st.Lockouts()
	key := rnd("lk-")
	l, err := ls.Get(ctx, key)
	noErr(t, "Get none", err)
	if l.Key != key || l.Failures != 0 || l.Lockouts != 0 || !l.LockedUntil.IsZero() || l.LastFailedHash != "" {
		t.Fatalf("Get none = %+v, want zero", l)
	}
	until := now().Add(time.Minute)
	got, err := ls.Update(ctx, key, func(l *store.Lockout) error {
		if l.Failures != 0 {
			return fmt.Errorf("first Update sees %+v", l)
		}
		l.Failures, l.Lockouts, l.LockedUntil, l.LastFailedHash = 3, 1, until, "h1"
		return nil
	})
	noErr(t, "Update", err)
	if got.Key != key || got.Failures != 3 || got.Lockouts != 1 || !eqTime(got.LockedUntil, until) || got.LastFailedHash != "h1" {
		t.Fatalf("Update = %+v", got)
	}
	l, err = ls.Get(ctx, key)
	noErr(t, "Get", err)
	if l.Failures != 3 || l.Lockouts != 1 || !eqTime(l.LockedUntil, until) || l.LastFailedHash != "h1" {
		t.Fatalf("Get after Update = %+v", l)
	}

	// Pending reservations round-trip with their lease.
	lease := now().Add(30 * time.Second)
	got, err = ls.Update(ctx, key, func(l *store.Lockout) error { l.Pending, l.PendingUntil = 2, lease; return nil })
	noErr(t, "Update pending", err)
	if got.Pending != 2 || !eqTime(got.PendingUntil, lease) || got.Failures != 3 {
		t.Fatalf("Update pending = %+v", got)
	}
	l, err = ls.Get(ctx, key)
	noErr(t, "Get", err)
	if l.Pending != 2 || !eqTime(l.PendingUntil, lease) {
		t.Fatalf("Get after Update pending = %+v", l)
	}

	// An error from fn saves nothing and comes back.
	boom := errors.New("boom")
	_, err = ls.Update(ctx, key, func(l *store.Lockout) error { l.Failures = 99; return boom })
	wantErr(t, "Update with failing fn", err, boom)
	l, err = ls.Get(ctx, key)
	noErr(t, "Get", err)
	if l.Failures != 3 {
		t.Fatalf("failed Update saved Failures = %d", l.Failures)
	}

	// Clearing LockedUntil stores zero.
	_, err = ls.Update(ctx, key, func(l *store.Lockout) error { l.LockedUntil = time.Time{}; return nil })
	noErr(t, "Update", err)
	l, err = ls.Get(ctx, key)
	noErr(t, "Get", err)
	if !l.LockedUntil.IsZero() {
		t.Fatalf("LockedUntil = %v, want zero", l.LockedUntil)
	}

	noErr(t, "Reset", ls.Reset(ctx, key))
	l, err = ls.Get(ctx, key)
	noErr(t, "Get after Reset", err)
	if l.Failures != 0 || l.Lockouts != 0 || l.LastFailedHash != "" {
		t.Fatalf("Get after Reset = %+v", l)
	}
	noErr(t, "Reset again (idempotent)", ls.Reset(ctx, key))
}

// lockoutsConcurrent: increments from many goroutines over several stores
// are never lost.
func (s *suite) lockoutsConcurrent(t *testing.T) {
	ctx := t.Context()
	key := rnd("lk-")
	const each = 5
	errs := parallel(Goroutines, func(i int) error {
		for range each {
			if _, err := s.storeFor(i).Lockouts().Update(ctx, key, func(l *store.Lockout) error {
				l.Failures++
				if l.Failures%10 == 0 {
					l.Lockouts++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		noErr(t, "concurrent Update", err)
	}
	l, err := s.st.Lockouts().Get(ctx, key)
	noErr(t, "Get", err)
	if l.Failures != Goroutines*each || l.Lockouts != Goroutines*each/10 {
		t.Fatalf("after %d concurrent increments: Failures %d, Lockouts %d", Goroutines*each, l.Failures, l.Lockouts)
	}
}

// lockoutsConcurrentReserve: a reservation made in Update (grant while
// Pending < limit) is granted exactly limit times, whatever the
// concurrency over several stores (processes) — smart lockout's bound on
// passwords verified per lock window.
func (s *suite) lockoutsConcurrentReserve(t *testing.T) {
	ctx := t.Context()
	key := rnd("lkr-")
	const limit = 3
	var granted atomic.Int32
	errs := parallel(Goroutines, func(i int) error {
		_, err := s.storeFor(i).Lockouts().Update(ctx, key, func(l *store.Lockout) error {
			if l.Pending >= limit {
				return errBusy
			}
			l.Pending++
			granted.Add(1)
			return nil
		})
		if errors.Is(err, errBusy) {
			return nil
		}
		return err
	})
	for _, err := range errs {
		noErr(t, "concurrent reserve", err)
	}
	l, err := s.st.Lockouts().Get(ctx, key)
	noErr(t, "Get", err)
	if granted.Load() != limit || l.Pending != limit {
		t.Fatalf("%d concurrent reservations with limit %d: %d granted, Pending %d", Goroutines, limit, granted.Load(), l.Pending)
	}
}

var errBusy = errors.New("busy")

// ---- throttles ----

func (s *suite) throttles(t *testing.T) {
	ctx := t.Context()
	th := s.st.Throttles()
	key := rnd("th-")
	t0 := now()
	c, end, err := th.Hit(ctx, key, 0, t0, time.Minute)
	noErr(t, "read missing", err)
	if c != 0 || !end.IsZero() {
		t.Fatalf("missing key: count %d ends %v, want 0 and zero time", c, end)
	}
	for i := 1; i <= 3; i++ {
		c, end, err = th.Hit(ctx, key, 1, t0.Add(time.Duration(i)*time.Second), time.Minute)
		noErr(t, "Hit", err)
		if c != i || !eqTime(end, t0.Add(time.Second+time.Minute)) {
			t.Fatalf("hit %d: count %d ends %v; want %d ending %v (the first hit's window)", i, c, end, i, t0.Add(time.Second+time.Minute))
		}
	}
	c, _, err = th.Hit(ctx, key, 5, t0.Add(30*time.Second), time.Minute)
	noErr(t, "Hit 5", err)
	if c != 8 {
		t.Fatalf("Hit n=5 after 3: %d, want 8", c)
	}
	c, _, err = th.Hit(ctx, key, 0, t0.Add(30*time.Second), time.Minute)
	noErr(t, "read", err)
	if c != 8 {
		t.Fatalf("read: %d, want 8", c)
	}
	// At the window's end a new one starts with this hit's n.
	after := t0.Add(time.Second + time.Minute)
	if c, _, _ = th.Hit(ctx, key, 0, after, time.Minute); c != 0 {
		t.Fatalf("read after the window ended: %d, want 0", c)
	}
	c, end, err = th.Hit(ctx, key, 2, after, time.Minute)
	noErr(t, "Hit in a new window", err)
	if c != 2 || !eqTime(end, after.Add(time.Minute)) {
		t.Fatalf("new window: count %d ends %v; want 2 ending %v", c, end, after.Add(time.Minute))
	}
	// Refund takes back within the window, never below zero.
	noErr(t, "Refund", th.Refund(ctx, key, 1, after))
	if c, _, _ = th.Hit(ctx, key, 0, after, time.Minute); c != 1 {
		t.Fatalf("after Refund 1 of 2: %d, want 1", c)
	}
	noErr(t, "Refund more than the count", th.Refund(ctx, key, 5, after))
	if c, _, _ = th.Hit(ctx, key, 0, after, time.Minute); c != 0 {
		t.Fatalf("after Refund 5 of 1: %d, want 0", c)
	}
	c, _, err = th.Hit(ctx, key, 1, after, time.Minute)
	noErr(t, "Hit after Refund", err)
	if c != 1 {
		t.Fatalf("Hit after Refund to zero: %d, want 1", c)
	}
	// Refund after the window ended does nothing (and creates nothing).
	noErr(t, "Refund after the window", th.Refund(ctx, key, 1, after.Add(2*time.Minute)))
	if c, _, _ = th.Hit(ctx, key, 0, after, time.Minute); c != 1 {
		t.Fatalf("a Refund after the window changed the old window: %d, want 1", c)
	}
	noErr(t, "Refund missing", th.Refund(ctx, rnd("th-none-"), 1, after))

	noErr(t, "Reset", th.Reset(ctx, key))
	if c, _, _ = th.Hit(ctx, key, 0, after, time.Minute); c != 0 {
		t.Fatalf("after Reset: %d, want 0", c)
	}
	noErr(t, "Reset missing", th.Reset(ctx, key))
}

// throttlesConcurrent: every concurrent Hit (from all the stores, so from
// several connections or processes) is counted once and sees its own total.
func (s *suite) throttlesConcurrent(t *testing.T) {
	ctx := t.Context()
	key := rnd("thc-")
	const each = 5
	t0 := now()
	var mu sync.Mutex
	seen := map[int]bool{}
	errs := parallel(Goroutines, func(i int) error {
		for range each {
			c, _, err := s.storeFor(i).Throttles().Hit(ctx, key, 1, t0, time.Hour)
			if err != nil {
				return err
			}
			mu.Lock()
			dup := seen[c]
			seen[c] = true
			mu.Unlock()
			if dup {
				return fmt.Errorf("two hits saw the same total %d", c)
			}
		}
		return nil
	})
	for _, err := range errs {
		noErr(t, "concurrent Hit", err)
	}
	c, _, err := s.st.Throttles().Hit(ctx, key, 0, t0, time.Hour)
	noErr(t, "read", err)
	if c != Goroutines*each {
		t.Fatalf("after %d concurrent hits the count is %d", Goroutines*each, c)
	}
}

// ---- verifications ----

func (s *suite) verifications(t *testing.T) {
	ctx := t.Context()
	vs := s.st.Verifications()
	v := &store.Verification{ID: rnd("v-"), Email: "a@example.com", CodeHash: "h1", ExpiresAt: now().Add(5 * time.Minute)}
	noErr(t, "Put", vs.Put(ctx, v))
	got, err := vs.Get(ctx, v.ID)
	noErr(t, "Get", err)
	if got.ID != v.ID || got.Email != v.Email || got.CodeHash != "h1" || got.Attempts != 0 || !eqTime(got.ExpiresAt, v.ExpiresAt) {
		t.Fatalf("Get = %+v, want %+v", got, v)
	}
	for i := 1; i <= 3; i++ {
		got, err = vs.Attempt(ctx, v.ID)
		noErr(t, "Attempt", err)
		if got.Attempts != i || got.CodeHash != "h1" {
			t.Fatalf("Attempt %d = %+v", i, got)
		}
	}
	// Put replaces (a resent code).
	v2 := &store.Verification{ID: v.ID, Email: "a@example.com", CodeHash: "h2", ExpiresAt: now().Add(10 * time.Minute)}
	noErr(t, "Put replace", vs.Put(ctx, v2))
	got, err = vs.Get(ctx, v.ID)
	noErr(t, "Get", err)
	if got.CodeHash != "h2" || got.Attempts != 0 {
		t.Fatalf("after replace Get = %+v", got)
	}
	_, err = vs.Get(ctx, rnd("v-"))
	wantErr(t, "Get missing", err, store.ErrNotFound)
	_, err = vs.Attempt(ctx, rnd("v-"))
	wantErr(t, "Attempt missing", err, store.ErrNotFound)

	exp := &store.Verification{ID: rnd("v-"), Email: "b@example.com", CodeHash: "h", ExpiresAt: now().Add(-time.Second)}
	noErr(t, "Put expired", vs.Put(ctx, exp))
	_, err = vs.Get(ctx, exp.ID)
	wantErr(t, "Get expired", err, store.ErrNotFound)
	_, err = vs.Attempt(ctx, exp.ID)
	wantErr(t, "Attempt expired", err, store.ErrNotFound)

	noErr(t, "Delete", vs.Delete(ctx, v.ID))
	_, err = vs.Get(ctx, v.ID)
	wantErr(t, "Get deleted", err, store.ErrNotFound)
	noErr(t, "Delete again (idempotent)", vs.Delete(ctx, v.ID))
}

// verificationsConcurrent: every concurrent Attempt counts (so the attempt
// limit cannot be dodged by guessing in parallel).
func (s *suite) verificationsConcurrent(t *testing.T) {
	ctx := t.Context()
	v := &store.Verification{ID: rnd("v-"), Email: "c@example.com", CodeHash: "h", ExpiresAt: now().Add(5 * time.Minute)}
	noErr(t, "Put", s.st.Verifications().Put(ctx, v))
	seen := make([]int, Goroutines)
	errs := parallel(Goroutines, func(i int) error {
		got, err := s.storeFor(i).Verifications().Attempt(ctx, v.ID)
		if err == nil {
			seen[i] = got.Attempts
		}
		return err
	})
	for _, err := range errs {
		noErr(t, "concurrent Attempt", err)
	}
	slices.Sort(seen)
	for i, n := range seen {
		if n != i+1 {
			t.Fatalf("concurrent Attempts returned counts %v, want 1..%d each once", seen, Goroutines)
		}
	}
}

// ---- signing keys ----

func (s *suite) signingKeys(t *testing.T) {
	ctx := t.Context()
	ks := s.st.SigningKeys()
	base := now().Add(-time.Hour)
	k1 := &store.SigningKey{ID: rnd("kid-"), Algorithm: "RS256", Private: []byte("enc1"), Public: []byte(`{"kty":"RSA"}`),
		NotBefore: base, CreatedAt: base}
	k2 := &store.SigningKey{ID: rnd("kid-"), Algorithm: "ES256", Private: []byte("enc2"), Public: []byte(`{"kty":"EC"}`),
		NotBefore: base.Add(time.Hour), RetiredAt: base.Add(2 * time.Hour), ExpiresAt: base.Add(3 * time.Hour),
		CreatedAt: base.Add(time.Second)}
	noErr(t, "Put k2", ks.Put(ctx, k2))
	noErr(t, "Put k1", ks.Put(ctx, k1))
	list := func() []*store.SigningKey {
		all, err := ks.List(ctx)
		noErr(t, "List", err)
		var mine []*store.SigningKey
		for _, k := range all {
			if k.ID == k1.ID || k.ID == k2.ID {
				mine = append(mine, k)
			}
		}
		return mine
	}
	check := func(got, want *store.SigningKey) {
		t.Helper()
		if got.ID != want.ID || got.Algorithm != want.Algorithm || string(got.Private) != string(want.Private) ||
			string(got.Public) != string(want.Public) || !eqTime(got.NotBefore, want.NotBefore) ||
			!eqTime(got.RetiredAt, want.RetiredAt) || !eqTime(got.ExpiresAt, want.ExpiresAt) ||
			!eqTime(got.CreatedAt, want.CreatedAt) || got.RetiredAt.IsZero() != want.RetiredAt.IsZero() {
			t.Fatalf("key = %+v, want %+v", got, want)
		}
	}
	mine := list()
	if len(mine) != 2 {
		t.Fatalf("List has %d of our keys, want 2", len(mine))
	}
	check(mine[0], k1) // oldest first
	check(mine[1], k2)

	// Put replaces (retiring a key).
	k1.RetiredAt = now()
	k1.ExpiresAt = now().Add(time.Hour)
	noErr(t, "Put replace", ks.Put(ctx, k1))
	mine = list()
	check(mine[0], k1)

	noErr(t, "Delete", ks.Delete(ctx, k1.ID))
	mine = list()
	if len(mine) != 1 || mine[0].ID != k2.ID {
		t.Fatalf("after Delete List = %v", mine)
	}
	wantErr(t, "Delete again", ks.Delete(ctx, k1.ID), store.ErrNotFound)
}

// ---- policy keys ----

func (s *suite) policyKeys(t *testing.T) {
	ctx := t.Context()
	pk := s.st.PolicyKeys()
	c := rnd("B2C_1A_c")
	base := now().Add(-time.Hour)
	k1 := &store.PolicyKey{Container: c, KID: rnd("kid-"), Type: "oct", Use: "enc", Material: []byte("ct1"),
		Origin: "config", CreatedAt: base}
	k2 := &store.PolicyKey{Container: c, KID: rnd("kid-"), Type: "oct", Use: "sig", Material: []byte("ct2"),
		Public: []byte("pub"), Origin: "cli", NotBefore: base.Add(time.Hour), ExpiresAt: base.Add(48 * time.Hour),
		CreatedAt: base.Add(time.Second)}
	noErr(t, "Add k2", pk.Add(ctx, k2))
	noErr(t, "Add k1", pk.Add(ctx, k1))
	check := func(got, want *store.PolicyKey) {
		t.Helper()
		if got.Container != want.Container || got.KID != want.KID || got.Type != want.Type || got.Use != want.Use ||
			string(got.Material) != string(want.Material) || string(got.Public) != string(want.Public) ||
			got.Origin != want.Origin || !eqTime(got.NotBefore, want.NotBefore) || got.NotBefore.IsZero() != want.NotBefore.IsZero() ||
			!eqTime(got.ExpiresAt, want.ExpiresAt) || got.ExpiresAt.IsZero() != want.ExpiresAt.IsZero() ||
			!eqTime(got.CreatedAt, want.CreatedAt) {
			t.Fatalf("key = %+v, want %+v", got, want)
		}
	}
	list, err := pk.List(ctx, c)
	noErr(t, "List", err)
	if len(list) != 2 {
		t.Fatalf("List has %d keys, want 2", len(list))
	}
	check(list[0], k1) // oldest first
	check(list[1], k2)
	if list[0].Public != nil {
		t.Fatalf("nil Public came back as %q", list[0].Public)
	}

	// CreatedAt is filled in.
	k3 := &store.PolicyKey{Container: c, KID: rnd("kid-"), Type: "oct", Use: "sig", Material: []byte("ct3")}
	noErr(t, "Add k3", pk.Add(ctx, k3))
	if k3.CreatedAt.IsZero() {
		t.Fatal("Add left CreatedAt zero")
	}

	wantErr(t, "Add same kid", pk.Add(ctx, &store.PolicyKey{Container: c, KID: k1.KID, Type: "oct", Use: "sig",
		Material: []byte("x")}), store.ErrConflict)
	wantErr(t, "Add other type", pk.Add(ctx, &store.PolicyKey{Container: c, KID: rnd("kid-"), Type: "RSA", Use: "sig",
		Material: []byte("x")}), store.ErrKeyType)
	// The same kid in another container is fine.
	other := rnd("B2C_1A_o")
	noErr(t, "Add other container", pk.Add(ctx, &store.PolicyKey{Container: other, KID: k1.KID, Type: "RSA",
		Use: "sig", Material: []byte("x")}))

	names, err := pk.Containers(ctx)
	noErr(t, "Containers", err)
	if !slices.Contains(names, c) || !slices.Contains(names, other) || !slices.IsSorted(names) {
		t.Fatalf("Containers = %v", names)
	}
	empty, err := pk.List(ctx, rnd("B2C_1A_none"))
	noErr(t, "List missing", err)
	if len(empty) != 0 {
		t.Fatalf("List of a missing container = %v", empty)
	}

	// Rename (the .bak copy): replaces the target, keeps the keys.
	bak := c + ".bak"
	noErr(t, "Add old bak", pk.Add(ctx, &store.PolicyKey{Container: bak, KID: rnd("kid-"), Type: "EC", Use: "sig",
		Material: []byte("old")}))
	noErr(t, "Rename", pk.Rename(ctx, c, bak))
	moved, err := pk.List(ctx, bak)
	noErr(t, "List bak", err)
	if len(moved) != 3 || moved[0].KID != k1.KID || moved[0].Container != bak || string(moved[0].Material) != "ct1" {
		t.Fatalf("after Rename the backup holds %+v", moved)
	}
	gone, err := pk.List(ctx, c)
	noErr(t, "List renamed", err)
	if len(gone) != 0 {
		t.Fatalf("renamed container still has %d keys", len(gone))
	}
	wantErr(t, "Rename missing", pk.Rename(ctx, c, bak), store.ErrNotFound)

	noErr(t, "Delete", pk.Delete(ctx, bak))
	wantErr(t, "Delete again", pk.Delete(ctx, bak), store.ErrNotFound)
	names, err = pk.Containers(ctx)
	noErr(t, "Containers after Delete", err)
	if slices.Contains(names, bak) || slices.Contains(names, c) {
		t.Fatalf("Containers after Delete = %v", names)
	}
}

// policyKeysConcurrentTypes: processes adding keys of different types to
// one empty container at once end with one type only.
func (s *suite) policyKeysConcurrentTypes(t *testing.T) {
	ctx := t.Context()
	c := rnd("B2C_1A_race")
	types := []string{"oct", "RSA", "EC"}
	errs := parallel(Goroutines, func(i int) error {
		return s.storeFor(i).PolicyKeys().Add(ctx, &store.PolicyKey{Container: c, KID: fmt.Sprint("k", i),
			Type: types[i%len(types)], Use: "sig", Material: []byte("x")})
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrKeyType):
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	list, err := s.st.PolicyKeys().List(ctx, c)
	noErr(t, "List", err)
	if len(list) != ok || ok == 0 {
		t.Fatalf("%d adds succeeded, List has %d", ok, len(list))
	}
	for _, k := range list {
		if k.Type != list[0].Type {
			t.Fatalf("container holds %s and %s keys", list[0].Type, k.Type)
		}
	}
}

// ---- sweep ----

// sweep: expired rows are deleted (observable because their keys can be
// reused without ErrConflict); live rows stay.
func (s *suite) sweep(t *testing.T) {
	ctx := t.Context()
	sw, ok := s.st.(store.Sweeper)
	if !ok {
		t.Fatalf("%T does not implement store.Sweeper", s.st)
	}
	u := newUser()
	noErr(t, "Users.Create", s.st.Users().Create(ctx, u))
	past, future := now().Add(-time.Second), now().Add(time.Hour)

	deadSess := &store.Session{IDHash: rnd("s-"), UserID: u.ID, AuthTime: past, ExpiresAt: past}
	liveSess := &store.Session{IDHash: rnd("s-"), UserID: u.ID, AuthTime: past, ExpiresAt: future}
	deadCode := &store.Code{Hash: rnd("c-"), ExpiresAt: past}
	liveCode := &store.Code{Hash: rnd("c-"), ExpiresAt: future}
	deadFam, liveFam := newFamily(u.ID), newFamily(u.ID)
	deadFam.ExpiresAt = past
	deadTok, liveTok := rnd("rt-"), rnd("rt-")
	liveTr := &store.Transaction{ID: rnd("tx-"), ExpiresAt: future}
	liveVer := &store.Verification{ID: rnd("v-"), ExpiresAt: future}

	noErr(t, "create", errors.Join(
		s.st.Sessions().Create(ctx, deadSess), s.st.Sessions().Create(ctx, liveSess),
		s.st.Codes().Put(ctx, deadCode), s.st.Codes().Put(ctx, liveCode),
		s.st.Refresh().Create(ctx, deadFam, deadTok, past), s.st.Refresh().Create(ctx, liveFam, liveTok, future),
		s.st.Transactions().Put(ctx, &store.Transaction{ID: rnd("tx-"), ExpiresAt: past}),
		s.st.Transactions().Put(ctx, liveTr),
		s.st.Verifications().Put(ctx, &store.Verification{ID: rnd("v-"), ExpiresAt: past}),
		s.st.Verifications().Put(ctx, liveVer),
	))
	noErr(t, "Sweep", sw.Sweep(ctx))
	noErr(t, "Sweep again", sw.Sweep(ctx))

	noErr(t, "re-create swept session", s.st.Sessions().Create(ctx, deadSess))
	noErr(t, "re-put swept code", s.st.Codes().Put(ctx, deadCode))
	noErr(t, "re-create swept family and token", s.st.Refresh().Create(ctx, deadFam, deadTok, past))

	_, err := s.st.Sessions().Get(ctx, liveSess.IDHash)
	noErr(t, "live session after Sweep", err)
	_, err = s.st.Codes().Consume(ctx, liveCode.Hash)
	noErr(t, "live code after Sweep", err)
	_, err = s.st.Refresh().Rotate(ctx, liveTok, rnd("rt-"), future)
	noErr(t, "live family after Sweep", err)
	_, err = s.st.Transactions().Get(ctx, liveTr.ID)
	noErr(t, "live transaction after Sweep", err)
	_, err = s.st.Verifications().Get(ctx, liveVer.ID)
	noErr(t, "live verification after Sweep", err)
}

// ---- benchmarks ----

// BenchmarkCodeConsume measures Put + Consume of one authorization code
// (the token endpoint's write path), from parallel goroutines.
func BenchmarkCodeConsume(b *testing.B, st store.Store) {
	ctx := context.Background()
	data := []byte(`{"client_id":"c","redirect_uri":"https://app.example/cb","scope":"openid","code_challenge":"x"}`)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := rnd("bc-")
			if err := st.Codes().Put(ctx, &store.Code{Hash: h, Data: data, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
				b.Error(err)
				return
			}
			if _, err := st.Codes().Consume(ctx, h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRefreshRotate measures one Rotate (each goroutine walks its own
// family's chain).
func BenchmarkRefreshRotate(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		f := newFamily(rnd("u-"))
		tok := rnd("rt-")
		if err := st.Refresh().Create(ctx, f, tok, time.Now().Add(time.Hour)); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			next := rnd("rt-")
			if _, err := st.Refresh().Rotate(ctx, tok, next, time.Now().Add(time.Hour)); err != nil {
				b.Error(err)
				return
			}
			tok = next
		}
	})
}

func (s *suite) audit(t *testing.T) {
	ctx := t.Context()
	al := s.st.Audit()
	base := now().Add(-48 * time.Hour).Truncate(time.Microsecond)
	for i := range 5 {
		kind := "signin_failed"
		if i%2 == 1 {
			kind = "admin_action"
		}
		noErr(t, "Append", al.Append(ctx, &store.AuditEvent{ID: fmt.Sprintf("evt-%03d", i), Time: base.Add(time.Duration(i) * time.Hour),
			Kind: kind, Attrs: map[string]string{"n": fmt.Sprint(i), "ip": "192.0.2.1"}}))
	}
	page, err := al.Page(ctx, nil, "", 2)
	noErr(t, "Page", err)
	if len(page) != 2 || page[0].ID != "evt-004" || page[1].ID != "evt-003" || page[0].Attrs["n"] != "4" || !page[0].Time.Equal(base.Add(4*time.Hour)) {
		t.Fatalf("newest page %+v", page)
	}
	page, err = al.Page(ctx, []string{"signin_failed"}, "evt-004", 10)
	noErr(t, "Page", err)
	if len(page) != 2 || page[0].ID != "evt-002" || page[1].ID != "evt-000" {
		t.Fatalf("signin_failed before evt-004: %+v", page)
	}
	n, err := al.Purge(ctx, base.Add(2*time.Hour))
	noErr(t, "Purge", err)
	if n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	page, err = al.Page(ctx, []string{"signin_failed", "admin_action"}, "", 10)
	noErr(t, "Page", err)
	if len(page) != 3 || page[2].ID != "evt-002" {
		t.Fatalf("after purge %+v", page)
	}
}

func (s *suite) deletedUsers(t *testing.T) {
	ctx := t.Context()
	du := s.st.DeletedUsers()
	at := now().Add(-time.Hour).Truncate(time.Microsecond)
	u := newUser()
	u.Attributes = map[string]string{"city": "Oslo"}
	noErr(t, "Put", du.Put(ctx, u, at))
	got, err := du.Get(ctx, u.ID)
	noErr(t, "Get", err)
	if !got.DeletedAt.Equal(at) || got.User.ID != u.ID || got.User.Email != u.Email || got.User.Attributes["city"] != "Oslo" || got.User.PasswordHash != u.PasswordHash {
		t.Fatalf("Get %+v %+v", got, got.User)
	}
	if _, err := du.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	old := newUser()
	noErr(t, "Put", du.Put(ctx, old, at.Add(-40*24*time.Hour)))
	page, err := du.Page(ctx, "", 10)
	noErr(t, "Page", err)
	if len(page) != 2 || page[0].User.ID > page[1].User.ID {
		t.Fatalf("Page %+v", page)
	}
	n, err := du.Purge(ctx, at.Add(-30*24*time.Hour))
	noErr(t, "Purge", err)
	if n != 1 {
		t.Fatalf("purged %d", n)
	}
	noErr(t, "Delete", du.Delete(ctx, u.ID))
	if err := du.Delete(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
}

func (s *suite) identities(t *testing.T) {
	ctx := t.Context()
	us := s.st.Users()
	a := newUser()
	a.Identities = append(a.Identities, store.Identity{SignInType: "federated", Issuer: "Facebook.com", IssuerAssignedID: "Fb-1"},
		store.Identity{SignInType: "userName", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "Alice.W"})
	noErr(t, "Create", us.Create(ctx, a))
	got, err := us.GetByIdentity(ctx, "federated", "facebook.com", "Fb-1")
	noErr(t, "GetByIdentity", err)
	if got.ID != a.ID {
		t.Fatalf("federated identity found %s", got.ID)
	}
	if _, err := us.GetByIdentity(ctx, "federated", "facebook.com", "fb-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a federated id is exact: %v", err)
	}
	if got, err := us.GetByIdentity(ctx, "userName", "CONTOSO.onmicrosoft.com", "alice.w"); err != nil || got.ID != a.ID {
		t.Fatalf("a user name is case-insensitive: %v", err)
	}
	// Another account may not have them.
	b := newUser()
	b.Identities = append(b.Identities, store.Identity{SignInType: "federated", Issuer: "facebook.com", IssuerAssignedID: "Fb-1"})
	if err := us.Create(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create with a taken identity: %v", err)
	}
	if _, err := us.Get(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused account was stored: %v", err)
	}
	b.Identities = b.Identities[:len(b.Identities)-1]
	noErr(t, "Create", us.Create(ctx, b))
	b.Identities = append(b.Identities, store.Identity{SignInType: "userName", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "ALICE.W"})
	if err := us.Update(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update with a taken identity: %v", err)
	}
	// Unlinked or deleted, an identity is free again.
	a.Identities = a.Identities[:len(a.Identities)-1]
	noErr(t, "Update", us.Update(ctx, a))
	noErr(t, "Update", us.Update(ctx, b))
	noErr(t, "Delete", us.Delete(ctx, a.ID))
	if _, err := us.GetByIdentity(ctx, "federated", "facebook.com", "Fb-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted account's identity: %v", err)
	}
}
