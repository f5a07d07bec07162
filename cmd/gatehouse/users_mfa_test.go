package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store/sqlite"
)

// TestUsersResetMFA: the administrator's recovery of a lost second factor
// removes the account's authenticator app and phone number (the next
// sign-in enrols again) and keeps everything else.
func TestUsersResetMFA(t *testing.T) {
	data := t.TempDir()
	if _, errOut, code := gatehouse(t, nil, "users", "create", "--data", data, "--email", "kim@example.com", "--password", "Correct-Horse-9"); code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	ctx := context.Background()
	edit := func(f func(st *sqlite.Store)) {
		st, err := sqlite.Open(ctx, filepath.Join(data, "gatehouse.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(st)
	}
	edit(func(st *sqlite.Store) {
		u, _ := st.Users().GetByEmail(ctx, "kim@example.com")
		u.Attributes = map[string]string{"totpSecret": "v1.sealed", "totpLastStep": "42", "strongAuthenticationPhoneNumber": "+4740000111", "city": "Oslo"}
		if err := st.Users().Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	})
	out, errOut, code := gatehouse(t, nil, "users", "reset-mfa", "--data", data, "--email", "kim@example.com")
	if code != 0 || !strings.Contains(out, "enrols again") || !strings.Contains(errOut, `"action":"users.reset-mfa"`) {
		t.Fatalf("reset-mfa: %d %s %s", code, out, errOut)
	}
	edit(func(st *sqlite.Store) {
		u, _ := st.Users().GetByEmail(ctx, "kim@example.com")
		if len(u.Attributes) != 1 || u.Attributes["city"] != "Oslo" {
			t.Fatalf("attributes after reset: %v", u.Attributes)
		}
	})
	if _, _, code := gatehouse(t, nil, "users", "reset-mfa", "--data", data, "--email", "nobody@example.com"); code != 1 {
		t.Errorf("unknown user: exit %d", code)
	}
}
