package userflow

import (
	"strings"
	"testing"
	"time"
)

// TestSessionCookieTerms: the terms and the MFA mark round-trip through
// the cookie value; values Gatehouse does not make are refused.
func TestSessionCookieTerms(t *testing.T) {
	const def = 24 * time.Hour
	id := strings.Repeat("a", 43)
	for _, terms := range []sessionTerms{{lifetime: def}, {lifetime: def, mfa: true}, {lifetime: 900 * time.Second},
		{lifetime: 900 * time.Second, absolute: true, mfa: true}, {lifetime: 86400 * time.Second, mfa: true}} {
		v := terms.cookieValue(id, def)
		got, ok := parseSessionCookie(v, def)
		if !ok || got != terms {
			t.Errorf("%+v -> %q -> %+v %v", terms, v, got, ok)
		}
	}
	if v := (sessionTerms{lifetime: def}).cookieValue(id, def); v != id {
		t.Errorf("default terms: %q, want the bare id", v)
	}
	for _, bad := range []string{"", id[:42], "X900." + id, "R." + id, "R-5." + id, "MM." + id, "R900MX." + id, "R12345678." + id, "." + id} {
		if _, ok := parseSessionCookie(bad, def); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzSessionCookie: any cookie value either is refused or has terms that
// survive being written again.
func FuzzSessionCookie(f *testing.F) {
	id := strings.Repeat("b", 43)
	for _, s := range []string{id, "M." + id, "R900." + id, "A86400M." + id, "R0900." + id, "X." + id} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		terms, ok := parseSessionCookie(v, time.Hour)
		if !ok {
			return
		}
		if terms.lifetime <= 0 {
			t.Fatalf("%q: lifetime %v", v, terms.lifetime)
		}
		again, ok := parseSessionCookie(terms.cookieValue(id, time.Hour), time.Hour)
		if !ok || again != terms {
			t.Fatalf("%q: %+v, written again %+v %v", v, terms, again, ok)
		}
	})
}
