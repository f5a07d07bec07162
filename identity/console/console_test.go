package console

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
)

// Sealed cookies open only under their own name and key, and not at all
// once a byte changed.
func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	in := session{UserID: "u1", Expires: time.Unix(1700000000, 0).UTC(), CSRF: "tok"}
	v, err := s.seal(sessionCookie, in)
	if err != nil {
		t.Fatal(err)
	}
	var out session
	if !s.open(sessionCookie, v, &out) || out != in {
		t.Fatalf("round trip: %+v", out)
	}
	if s.open(signInCookie, v, &out) {
		t.Fatal("a session opened as a sign-in transaction")
	}
	other, _ := newSealer(bytes.Repeat([]byte{8}, 32))
	if other.open(sessionCookie, v, &out) {
		t.Fatal("opened under another key")
	}
	for i := range len(v) - 1 { // the last character may carry padding bits only
		b := []byte(v)
		b[i] ^= 1
		if s.open(sessionCookie, string(b), &out) {
			t.Fatalf("opened with character %d changed", i)
		}
	}
	if _, err := newSealer(key[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestDefaultFlowAndClientID(t *testing.T) {
	reg := &tenant.Registry{Flows: map[string]*tenant.Flow{
		"b2c_1a_signup_signin": {Name: "B2C_1A_signup_signin", Type: "journey", Custom: true},
		"b2c_1_reset":          {Name: "B2C_1_reset", Type: "passwordReset"},
	}}
	if f := DefaultFlow(reg); f != "B2C_1A_signup_signin" {
		t.Fatalf("custom policies only: %q", f)
	}
	reg.Flows["b2c_1_social"] = &tenant.Flow{Name: "B2C_1_social", Type: "signUpOrSignIn", IdentityProviders: []string{"google"}}
	if f := DefaultFlow(reg); f != "B2C_1_social" {
		t.Fatalf("a user flow beats a custom policy: %q", f)
	}
	reg.Flows["b2c_1_susi"] = &tenant.Flow{Name: "B2C_1_susi", Type: "signUpOrSignIn", IdentityProviders: []string{tenant.LocalProvider}}
	if f := DefaultFlow(reg); f != "B2C_1_susi" {
		t.Fatalf("local accounts first: %q", f)
	}
	if DefaultFlow(&tenant.Registry{}) != "" {
		t.Fatal("a flow from nothing")
	}
	a, b := ClientID("11111111-1111-1111-1111-111111111111"), ClientID("22222222-2222-2222-2222-222222222222")
	if a == b || a != ClientID("11111111-1111-1111-1111-111111111111") || len(a) != 36 || strings.Count(a, "-") != 4 || a[14] != '5' {
		t.Fatalf("client ids %s %s", a, b)
	}
}
