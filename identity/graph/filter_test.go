package graph

import (
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

func TestFilter(t *testing.T) {
	a := New("/graph", Options{Tenant: "contoso.onmicrosoft.com"})
	alice := &store.User{ID: "0a1b2c3d-0000-4000-8000-00000000abcd", DisplayName: "Alice O'Hara", Email: "alice@example.com",
		Identities: []store.Identity{{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "alice@example.com"},
			{SignInType: "federated", Issuer: "facebook.com", IssuerAssignedID: "10101"}},
		Attributes: map[string]string{"mail": "alice@work.example", "accountEnabled": "false", "extension_loyaltyId": "L-42"}}
	for _, c := range []struct {
		filter      string
		match       bool
		id          string
		lookup      bool
		unsupported bool
	}{
		{filter: "identities/any(c:c/issuerAssignedId eq 'alice@example.com' and c/issuer eq 'contoso.onmicrosoft.com')", match: true, lookup: true},
		{filter: "identities/any(x:x/issuer eq 'facebook.com' and x/issuerAssignedId eq '10101')", match: true, lookup: true},
		// Both conditions on one identity, not spread over two.
		{filter: "identities/any(c:c/issuerAssignedId eq '10101' and c/issuer eq 'contoso.onmicrosoft.com')", match: false, lookup: true},
		{filter: "startswith(displayName,'alice o''h')", match: true},
		{filter: "id eq '0A1B2C3D-0000-4000-8000-00000000ABCD'", match: true, id: "0A1B2C3D-0000-4000-8000-00000000ABCD"},
		{filter: "mail eq 'ALICE@work.example' and accountEnabled eq false", match: true},
		{filter: "accountEnabled eq true", match: false},
		{filter: "extension_0123456789abcdef0123456789abcdef_loyaltyId eq 'L-42'", match: true},
		{filter: "jobTitle eq 'x'", unsupported: true},
		{filter: "id eq 'a' or id eq 'b'", unsupported: true},
		{filter: "startswith(displayName,'x'", unsupported: true},
		{filter: "displayName eq 'unterminated", unsupported: true},
		{filter: "identities/any(c:c/phone eq '1')", unsupported: true},
	} {
		f, err := parseFilter(c.filter, a)
		if c.unsupported {
			if err == nil {
				t.Errorf("%s: accepted", c.filter)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if f.match(alice) != c.match || f.id != c.id || (f.identity != nil) != c.lookup {
			t.Errorf("%s: match %v id %q lookup %v", c.filter, f.match(alice), f.id, f.identity)
		}
	}
}

// FuzzFilter: any $filter (of users or of the audit logs) parses or is
// refused, never panics.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{"identities/any(c:c/issuerAssignedId eq 'a@b' and c/issuer eq 'c')", "startswith(displayName,'A')",
		"accountEnabled eq true and id eq 'x'", "'''", "((((", "identities/any(", "displayName eq"} {
		f.Add(s)
	}
	a := New("/graph", Options{Tenant: "contoso.onmicrosoft.com"})
	u := &store.User{ID: "x", Identities: []store.Identity{{SignInType: "emailAddress", Issuer: "c", IssuerAssignedID: "a@b"}}}
	f.Add("createdDateTime ge 2026-01-01T00:00:00Z and userId eq 'u'")
	f.Fuzz(func(t *testing.T, s string) {
		if flt, err := parseFilter(s, a); err == nil {
			flt.match(u)
		}
		if af, err := parseAuditFilter(s); err == nil {
			af.match(&store.AuditEvent{Attrs: map[string]string{"user": "x"}})
		}
	})
}
