package directory

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

const tenant = "contoso.onmicrosoft.com"

type env struct {
	t      *testing.T
	ctx    context.Context
	users  store.Users
	dir    *Directory
	hasher *password.Hasher
	mfa    pack // SocialAndLocalAccountsWithMfa's base
}

// newEnv opens a real SQLite store in a file (so concurrent writers use
// separate connections, as in production).
func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "users.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Small argon2 parameters: the tests check what is stored, not its cost.
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1}, 0)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &env{t: t, ctx: t.Context(), users: st.Users(), hasher: h,
		dir: &Directory{Users: st.Users(), Tenant: tenant, Now: func() time.Time { return now },
			HashPassword: func(pw string) (string, error) { return h.Hash(context.Background(), pw) }},
		mfa: loadPack(t, "../../../testdata/b2c-starterpack/SocialAndLocalAccountsWithMfa/TrustFrameworkBase.xml")}
}

func (e *env) run(id string, claims Claims) Claims {
	e.t.Helper()
	out, err := e.dir.Run(e.ctx, e.mfa.get(e.t, id), claims)
	if err != nil {
		e.t.Fatalf("%s: %v", id, err)
	}
	return out
}

func (e *env) runErr(p Profile, claims Claims, kind Kind) *Error {
	e.t.Helper()
	out, err := e.dir.Run(e.ctx, p, claims)
	var de *Error
	if !errors.As(err, &de) || de.Kind != kind {
		e.t.Fatalf("%s: got %v, %v; want an error of kind %d", p.ID, out, err, kind)
	}
	return de
}

func str(s string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: s} }

func want(t *testing.T, out Claims, name string, v any) {
	t.Helper()
	c, ok := out[name]
	if !ok {
		t.Errorf("claim %s absent, want %v", name, v)
		return
	}
	if !reflect.DeepEqual(c.Value, v) {
		t.Errorf("claim %s = %#v (%s), want %#v", name, c.Value, c.DataType, v)
	}
}

func absent(t *testing.T, out Claims, names ...string) {
	t.Helper()
	for _, n := range names {
		if c, ok := out[n]; ok {
			t.Errorf("claim %s = %#v, want absent", n, c.Value)
		}
	}
}

// signUp is the local-account sign-up's write (AAD-UserWriteUsingLogonEmail).
func (e *env) signUp(email string) Claims {
	e.t.Helper()
	return e.run("AAD-UserWriteUsingLogonEmail", Claims{
		"email": str(email), "newPassword": str("Passw0rd!"), "givenName": str("Ada"), "surname": str("Lovelace"),
	})
}

func TestLocalAccount(t *testing.T) {
	e := newEnv(t)
	out := e.signUp("Ada@Example.com")
	id, _ := out["objectId"].Value.(string)
	if len(id) != 36 {
		t.Fatalf("objectId %q is not a GUID", id)
	}
	want(t, out, "newUser", true)
	want(t, out, "authenticationSource", "localAccountAuthentication")
	want(t, out, "userPrincipalName", id+"@"+tenant)
	want(t, out, "signInNames.emailAddress", "ada@example.com")

	u, err := e.users.Get(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ada@example.com" || u.DisplayName != "unknown" || u.GivenName != "Ada" || u.Surname != "Lovelace" {
		t.Errorf("stored user %+v", u)
	}
	if want := []store.Identity{{SignInType: "emailAddress", Issuer: tenant, IssuerAssignedID: "ada@example.com"}}; !reflect.DeepEqual(u.Identities, want) {
		t.Errorf("identities %+v, want %+v", u.Identities, want)
	}
	if u.Attributes["passwordPolicies"] != "DisablePasswordExpiration" {
		t.Errorf("passwordPolicies %q", u.Attributes["passwordPolicies"])
	}
	if ok, _, err := e.hasher.Verify(e.ctx, u.PasswordHash, "Passw0rd!"); !ok || err != nil {
		t.Errorf("stored password does not verify: %v", err)
	}

	// Signing up again with the address in another case.
	de := e.runErr(e.mfa.get(t, "AAD-UserWriteUsingLogonEmail"), Claims{"email": str("ADA@example.com"), "newPassword": str("x")}, AlreadyExists)
	if de.Code != "AADB2C90001" || de.Message != "A user with the specified ID already exists. Please choose a different one." {
		t.Errorf("already exists: %+v", de)
	}
	if !strings.Contains(de.Error(), "AAD-UserWriteUsingLogonEmail") {
		t.Errorf("Error() %q does not name the profile", de.Error())
	}

	out = e.run("AAD-UserReadUsingEmailAddress", Claims{"email": str("ADA@EXAMPLE.COM")})
	want(t, out, "objectId", id)
	want(t, out, "accountEnabled", true)
	want(t, out, "displayName", "unknown")
	want(t, out, "signInNames.emailAddress", "ada@example.com")
	want(t, out, "authenticationSource", "localAccountAuthentication")
	absent(t, out, "otherMails", "strongAuthenticationPhoneNumber", "newUser")

	de = e.runErr(e.mfa.get(t, "AAD-UserReadUsingEmailAddress"), Claims{"email": str("nobody@example.com")}, NotFound)
	if de.Code != "AADB2C99002" || de.Message != "An account could not be found for the provided user ID." {
		t.Errorf("not found: %+v", de)
	}

	// Password reset, with the step-up phone number.
	before := u.PasswordHash
	out = e.run("AAD-UserWritePasswordUsingObjectId", Claims{"objectId": str(id), "newPassword": str("N3w-passw0rd"),
		"Verified.strongAuthenticationPhoneNumber": {DataType: claimstx.PhoneNumber, Value: "+14255550100"}})
	if len(out) != 0 {
		t.Errorf("password write outputs %v", out)
	}
	u, _ = e.users.Get(e.ctx, id)
	if ok, _, _ := e.hasher.Verify(e.ctx, u.PasswordHash, "N3w-passw0rd"); !ok || u.PasswordHash == before {
		t.Error("new password not stored")
	}

	e.run("AAD-UserWriteProfileUsingObjectId", Claims{"objectId": str(id), "givenName": str("Augusta")})
	out = e.run("AAD-UserReadUsingObjectId", Claims{"objectId": str(id)})
	want(t, out, "givenName", "Augusta")
	want(t, out, "surname", "Lovelace") // absent claims leave attributes alone
	want(t, out, "strongAuthenticationPhoneNumber", "+14255550100")
	want(t, out, "signInNames.emailAddress", "ada@example.com")

	e.runErr(e.mfa.get(t, "AAD-UserWritePasswordUsingObjectId"),
		Claims{"objectId": str("00000000-0000-0000-0000-000000000000"), "newPassword": str("x")}, NotFound)
	e.runErr(e.mfa.get(t, "AAD-UserReadUsingObjectId"), Claims{}, NotFound) // no key at all
}

// A disabled account reads with accountEnabled=false, which the starter
// pack's AssertAccountEnabledIsTrue output transformation refuses.
func TestDisabledAccount(t *testing.T) {
	e := newEnv(t)
	id := e.signUp("off@example.com")["objectId"].Value.(string)
	u, _ := e.users.Get(e.ctx, id)
	u.Attributes["accountEnabled"] = "false"
	if err := e.users.Update(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	out := e.run("AAD-UserReadUsingEmailAddress", Claims{"email": str("off@example.com")})
	want(t, out, "accountEnabled", false)
	_, err := claimstx.Run("AssertBooleanClaimIsEqualToValue", claimstx.Inputs{
		Claims: map[string]claimstx.Claim{"inputClaim": out["accountEnabled"]},
		Params: map[string]claimstx.Param{"valueToCompareTo": {ID: "valueToCompareTo", DataType: claimstx.Boolean, Value: "true"}},
	})
	if err == nil {
		t.Error("AssertAccountEnabledIsTrue accepted a disabled account")
	}
}

func TestSocialAccount(t *testing.T) {
	e := newEnv(t)
	altID := claimstx.AlternativeSecurityID("Facebook.com", "1234567890")
	in := Claims{"alternativeSecurityId": str(altID)}

	// First sign-in: the no-error read finds nobody and outputs nothing.
	if out := e.run("AAD-UserReadUsingAlternativeSecurityId-NoError", in); len(out) != 0 {
		t.Fatalf("read of an unknown social account: %v", out)
	}
	e.runErr(e.mfa.get(t, "AAD-UserReadUsingAlternativeSecurityId"), in, NotFound)

	w := Claims{"alternativeSecurityId": str(altID), "userPrincipalName": str("cpim_x@" + tenant),
		"otherMails": {DataType: claimstx.StringCollection, Value: []string{"ada@example.com"}}, "givenName": str("Ada")}
	out := e.run("AAD-UserWriteUsingAlternativeSecurityId", w)
	id := out["objectId"].Value.(string)
	want(t, out, "newUser", true)
	want(t, out, "otherMails", []string{"ada@example.com"})
	u, _ := e.users.Get(e.ctx, id)
	if want := []store.Identity{{SignInType: "federated", Issuer: "facebook.com", IssuerAssignedID: "1234567890"}}; !reflect.DeepEqual(u.Identities, want) {
		t.Errorf("identities %+v, want %+v", u.Identities, want)
	}
	if u.Email != "" || u.PasswordHash != "" || u.DisplayName != "unknown" || u.Attributes["mailNickName"] != "unknown" {
		t.Errorf("stored social user %+v", u)
	}

	e.runErr(e.mfa.get(t, "AAD-UserWriteUsingAlternativeSecurityId"), w, AlreadyExists)

	out = e.run("AAD-UserReadUsingAlternativeSecurityId", in)
	want(t, out, "objectId", id)
	want(t, out, "userPrincipalName", "cpim_x@"+tenant)
	want(t, out, "otherMails", []string{"ada@example.com"})
	want(t, out, "displayName", "unknown")
	want(t, out, "givenName", "Ada")
	absent(t, out, "surname", "strongAuthenticationPhoneNumber")

	// Graph's form of the same identity (a migrated user's claim) finds it too.
	graph := fmt.Sprintf(`{"type":6,"identityProvider":"facebook.com","key":%q}`, base64.StdEncoding.EncodeToString([]byte("1234567890")))
	out = e.run("AAD-UserReadUsingAlternativeSecurityId", Claims{"alternativeSecurityId": str(graph)})
	want(t, out, "objectId", id)

	// The MFA enrolment write, then the read.
	e.run("AAD-UserWritePhoneNumberUsingObjectId", Claims{"objectId": str(id), "Verified.strongAuthenticationPhoneNumber": str("+441234567890")})
	out = e.run("AAD-UserReadUsingAlternativeSecurityId", in)
	want(t, out, "strongAuthenticationPhoneNumber", "+441234567890")
}

func TestAlternativeSecurityID(t *testing.T) {
	s := EncodeAlternativeSecurityID("Google.com", "sub-ü")
	iss, id, err := DecodeAlternativeSecurityID(s)
	if err != nil || iss != "google.com" || id != "sub-ü" {
		t.Errorf("round trip of %s: %q %q %v", s, iss, id, err)
	}
	for _, bad := range []string{"", "x", `{"issuer":"a"}`, `{"issuer":"a","issuerUserId":"%%%"}`, `[1]`} {
		if _, _, err := DecodeAlternativeSecurityID(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

// The phone sign-up's profiles: a Read that raises AlreadyExists, and
// messages from the profile's metadata.
func TestPhoneSignInNames(t *testing.T) {
	e := newEnv(t)
	pk := loadPack(t, "../../../testdata/b2c-starterpack/scenarios/phone-number-passwordless/Phone_Email_Base.xml")
	phone := Claims{"signInNames.phoneNumber": {DataType: claimstx.String, Value: "+14255550123"}}
	de := e.runErr(pk.get(t, "AAD-UserDiscoveryUsingLogonPhoneNumber-Common"), phone, NotFound)
	if !strings.HasPrefix(de.Message, "That phone number doesn't exist in our system.") {
		t.Errorf("message %q", de.Message)
	}
	if out, err := e.dir.Run(e.ctx, pk.get(t, "AAD-UserDiscoveryUsingLogonPhoneNumber-RaiseErrorIfExists"), phone); err != nil || len(out) != 0 {
		t.Fatalf("free number: %v %v", out, err)
	}
	out, err := e.dir.Run(e.ctx, pk.get(t, "AAD-UserWriteUsingLogonPhoneNumber"), phone)
	if err != nil {
		t.Fatal(err)
	}
	id := out["objectId"].Value.(string)
	de = e.runErr(pk.get(t, "AAD-UserDiscoveryUsingLogonPhoneNumber-RaiseErrorIfExists"), phone, AlreadyExists)
	if de.Message != "You are already registered, please press the back button and sign in instead." {
		t.Errorf("message %q", de.Message)
	}
	out, err = e.dir.Run(e.ctx, pk.get(t, "AAD-UserDiscoveryUsingLogonPhoneNumber-FullProfile"), phone)
	if err != nil {
		t.Fatal(err)
	}
	want(t, out, "objectId", id)
	want(t, out, "signInNames.phoneNumber", "+14255550123")
	want(t, out, "hasFullProfile", true)
	want(t, out, "displayName", "unknown")
}

func TestUserPrincipalNameKey(t *testing.T) {
	e := newEnv(t)
	id := e.signUp("upn@example.com")["objectId"].Value.(string)
	p := Profile{ID: "ReadByUPN", Operation: Read, RaiseIfNotExist: true,
		InputClaims:  []Ref{{ClaimType: "upn", PartnerClaimType: "userPrincipalName"}},
		OutputClaims: []Ref{{ClaimType: "objectId"}}}
	out, err := e.dir.Run(e.ctx, p, Claims{"upn": str(strings.ToUpper(id) + "@" + tenant)})
	if err != nil {
		t.Fatal(err)
	}
	want(t, out, "objectId", id)
	p.Messages = map[string]string{MsgDoesNotExist: "No such user."}
	if de := e.runErr(p, Claims{"upn": str("someone@" + tenant)}, NotFound); de.Message != "No such user." {
		t.Errorf("message %q", de.Message)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	id := e.signUp("del@example.com")["objectId"].Value.(string)
	key := []Ref{{ClaimType: "objectId"}}
	e.run("AAD-UserWritePhoneNumberUsingObjectId", Claims{"objectId": str(id), "Verified.strongAuthenticationPhoneNumber": str("+14255550100")})

	delClaims := Profile{ID: "AAD-DeleteClaims", Operation: DeleteClaims, RaiseIfNotExist: true, InputClaims: key,
		PersistedClaims: []Ref{{ClaimType: "strongAuthenticationPhoneNumber"}, {ClaimType: "surname"}},
		OutputClaims:    []Ref{{ClaimType: "givenName"}, {ClaimType: "surname"}, {ClaimType: "strongAuthenticationPhoneNumber"}}}
	if probs := Check(delClaims); len(probs) != 0 {
		t.Fatal(probs)
	}
	out, err := e.dir.Run(e.ctx, delClaims, Claims{"objectId": str(id)})
	if err != nil {
		t.Fatal(err)
	}
	want(t, out, "givenName", "Ada")
	absent(t, out, "surname", "strongAuthenticationPhoneNumber")
	u, _ := e.users.Get(e.ctx, id)
	if _, ok := u.Attributes["strongAuthenticationPhoneNumber"]; ok || u.Surname != "" {
		t.Errorf("after DeleteClaims: %+v", u)
	}

	delUser := Profile{ID: "AAD-DeleteUser", Operation: DeleteClaimsPrincipal, RaiseIfNotExist: true, InputClaims: key}
	if _, err := e.dir.Run(e.ctx, delUser, Claims{"objectId": str(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.Get(e.ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted user: %v", err)
	}
	e.runErr(delUser, Claims{"objectId": str(id)}, NotFound)
}

// Extension attributes keep their DataType through the store, whether the
// profile names them short or with the b2c-extensions-app id.
func TestExtensionAttributesTyped(t *testing.T) {
	e := newEnv(t)
	const app = "0123456789abcdef0123456789abcdef"
	id := e.signUp("ext@example.com")["objectId"].Value.(string)
	when := time.Date(2025, 7, 14, 9, 30, 15, 0, time.UTC)
	write := Profile{ID: "AAD-WriteExt", Operation: Write, RaiseIfNotExist: true, IncludeExtensionApp: app,
		InputClaims: []Ref{{ClaimType: "objectId"}},
		PersistedClaims: []Ref{
			{ClaimType: "extension_member", DataType: claimstx.Boolean},
			{ClaimType: "extension_points", PartnerClaimType: "extension_" + app + "_points", DataType: claimstx.Int},
			{ClaimType: "extension_joined", DataType: claimstx.DateTime},
			{ClaimType: "extension_tags", DataType: claimstx.StringCollection},
			{ClaimType: "extension_tier", DataType: claimstx.String, DefaultValue: "gold"},
		}}
	read := Profile{ID: "AAD-ReadExt", Operation: Read, RaiseIfNotExist: true, IncludeExtensionApp: app,
		InputClaims: []Ref{{ClaimType: "objectId"}},
		OutputClaims: []Ref{
			{ClaimType: "extension_member", PartnerClaimType: "extension_" + app + "_member", DataType: claimstx.Boolean},
			{ClaimType: "extension_points", DataType: claimstx.Int},
			{ClaimType: "extension_joined", DataType: claimstx.DateTime},
			{ClaimType: "extension_tags", DataType: claimstx.StringCollection},
			{ClaimType: "extension_tier", DataType: claimstx.String},
			{ClaimType: "extension_missing", DataType: claimstx.Int},
		}}
	for _, p := range []Profile{write, read} {
		if probs := Check(p); len(probs) != 0 {
			t.Fatal(probs)
		}
	}
	_, err := e.dir.Run(e.ctx, write, Claims{"objectId": str(id),
		"extension_member": {DataType: claimstx.Boolean, Value: true},
		"extension_points": {DataType: claimstx.Int, Value: int64(-42)},
		"extension_joined": {DataType: claimstx.DateTime, Value: when},
		"extension_tags":   {DataType: claimstx.StringCollection, Value: []string{"a,b", `"q"`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := e.users.Get(e.ctx, id)
	stored := map[string]string{"extension_member": "true", "extension_points": "-42",
		"extension_joined": "2025-07-14T09:30:15.0000000Z", "extension_tags": `["a,b","\"q\""]`, "extension_tier": "gold"}
	for k, v := range stored {
		if u.Attributes[k] != v {
			t.Errorf("stored %s = %q, want %q", k, u.Attributes[k], v)
		}
	}
	out, err := e.dir.Run(e.ctx, read, Claims{"objectId": str(id)})
	if err != nil {
		t.Fatal(err)
	}
	want(t, out, "extension_member", true)
	want(t, out, "extension_points", int64(-42))
	want(t, out, "extension_joined", when)
	want(t, out, "extension_tags", []string{"a,b", `"q"`})
	want(t, out, "extension_tier", "gold")
	absent(t, out, "extension_missing")
	if out["extension_points"].DataType != claimstx.Int {
		t.Errorf("extension_points DataType %s", out["extension_points"].DataType)
	}

	// A stored value that is not the declared type is an error, not a
	// silently absent claim.
	bad := read
	bad.OutputClaims = []Ref{{ClaimType: "extension_tier", DataType: claimstx.Boolean}}
	if _, err := e.dir.Run(e.ctx, bad, Claims{"objectId": str(id)}); err == nil {
		t.Error("gold read as a boolean")
	}
}

// Concurrent sign-ups with one address: the store's unique email lets
// exactly one create the account; the others get AlreadyExists.
func TestConcurrentSignUp(t *testing.T) {
	e := newEnv(t)
	p := e.mfa.get(t, "AAD-UserWriteUsingLogonEmail")
	const n = 8
	e.dir.Users = lookupBarrier(e.users, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "race@example.com"
			if i%2 == 1 {
				email = "RACE@example.com"
			}
			_, errs[i] = e.dir.Run(e.ctx, p, Claims{"email": str(email), "newPassword": str("Passw0rd!")})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var de *Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &de) && de.Kind == AlreadyExists:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	all, err := e.users.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(all) != 1 {
		t.Errorf("%d writes succeeded, %d users exist; want exactly one", ok, len(all))
	}
}

func TestCheck(t *testing.T) {
	key := []Ref{{ClaimType: "objectId"}}
	for _, c := range []struct {
		p    Profile
		want string // a substring of the one problem; "" = none
	}{
		{Profile{Operation: Read, InputClaims: key, OutputClaims: []Ref{{ClaimType: "displayName"}}}, ""},
		{Profile{Operation: "Update", InputClaims: key}, `Operation "Update"`},
		{Profile{InputClaims: key}, "no Operation"},
		{Profile{Operation: Read}, "exactly one"},
		{Profile{Operation: Read, InputClaims: []Ref{{ClaimType: "objectId"}, {ClaimType: "email", PartnerClaimType: "signInNames.emailAddress"}}}, "exactly one"},
		{Profile{Operation: Read, InputClaims: []Ref{{ClaimType: "email"}}}, `"email" cannot identify`},
		{Profile{Operation: Read, InputClaims: []Ref{{ClaimType: "displayName"}}}, `"displayName" cannot identify`},
		{Profile{Operation: Write, InputClaims: key}, "needs PersistedClaims"},
		{Profile{Operation: DeleteClaims, InputClaims: key}, "needs PersistedClaims"},
		{Profile{Operation: Write, InputClaims: key, RaiseIfExists: true, RaiseIfNotExist: true, PersistedClaims: []Ref{{ClaimType: "givenName"}}}, "both true"},
		{Profile{Operation: Write, InputClaims: key, PersistedClaims: []Ref{{ClaimType: "favouriteColour"}}}, `"favouriteColour" is not a directory attribute`},
		{Profile{Operation: Write, InputClaims: key, PersistedClaims: []Ref{{ClaimType: "createdDateTime"}}}, "read-only"},
		{Profile{Operation: Write, InputClaims: key, PersistedClaims: []Ref{{ClaimType: "x", PartnerClaimType: "extension_"}}}, "not a valid extension"},
		{Profile{Operation: Write, InputClaims: key, PersistedClaims: []Ref{{ClaimType: "extension_a-b"}}}, "not a valid extension"},
		{Profile{Operation: Write, InputClaims: key, IncludeExtensionApp: "01234567-89ab-cdef-0123-456789abcdef",
			PersistedClaims: []Ref{{ClaimType: "extension_0123456789abcdef0123456789abcdef_ok"}}}, ""},
		{Profile{Operation: Write, InputClaims: key, IncludeExtensionApp: "01234567-89ab-cdef-0123-456789abcdef",
			PersistedClaims: []Ref{{ClaimType: "extension_ffffffffffffffffffffffffffffffff_x"}}}, "another application"},
		{Profile{Operation: Read, InputClaims: key, OutputClaims: []Ref{{ClaimType: "password"}}}, "cannot be read"},
		{Profile{Operation: Read, InputClaims: key, OutputClaims: []Ref{{ClaimType: "isForgotPassword"}}}, `"isForgotPassword" is not a directory attribute`},
		{Profile{Operation: Read, InputClaims: key, OutputClaims: []Ref{{ClaimType: "isForgotPassword", DefaultValue: "false"}}}, ""},
		{Profile{Operation: Read, InputClaims: key, OutputClaims: []Ref{{ClaimType: "newUser", PartnerClaimType: "newClaimsPrincipalCreated"}}}, ""},
	} {
		c.p.ID = "TP"
		probs := Check(c.p)
		switch {
		case c.want == "" && len(probs) != 0:
			t.Errorf("%+v: unexpected %q", c.p, probs)
		case c.want != "" && (len(probs) != 1 || !strings.Contains(probs[0], c.want)):
			t.Errorf("%+v: got %q, want one problem with %q", c.p, probs, c.want)
		}
	}
}

// Concurrent sign-ups with one social identity, which the store does not
// keep unique: at most one account survives, and only its writer succeeds.
func TestConcurrentSocialSignUp(t *testing.T) {
	e := newEnv(t)
	p := e.mfa.get(t, "AAD-UserWriteUsingAlternativeSecurityId")
	in := Claims{"alternativeSecurityId": str(EncodeAlternativeSecurityID("google.com", "sub-1"))}
	const n = 8
	e.dir.Users = lookupBarrier(e.users, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.dir.Run(e.ctx, p, in)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var de *Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &de) && de.Kind == AlreadyExists:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	all, _ := e.users.List(e.ctx)
	if ok > 1 || len(all) != ok {
		t.Fatalf("%d writes succeeded, %d users exist", ok, len(all))
	}
	if ok == 0 { // every writer backed off: the retry creates the account
		e.run("AAD-UserWriteUsingAlternativeSecurityId", in)
	}
	e.run("AAD-UserReadUsingAlternativeSecurityId", in)
}

// barrierUsers is the real store with the answers of its first n lookups
// held until all n have been answered: every concurrent writer then finds no account and
// creates one, the race the store (or the duplicate check) must decide.
type barrierUsers struct {
	store.Users
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

func lookupBarrier(u store.Users, n int) *barrierUsers {
	return &barrierUsers{Users: u, waiting: n, open: make(chan struct{})}
}

func (b *barrierUsers) wait() {
	b.mu.Lock()
	if b.waiting > 0 {
		b.waiting--
		if b.waiting == 0 {
			close(b.open)
		}
	}
	b.mu.Unlock()
	<-b.open
}

func (b *barrierUsers) GetByEmail(ctx context.Context, email string) (*store.User, error) {
	u, err := b.Users.GetByEmail(ctx, email)
	b.wait()
	return u, err
}

func (b *barrierUsers) GetByIdentity(ctx context.Context, typ, issuer, id string) (*store.User, error) {
	u, err := b.Users.GetByIdentity(ctx, typ, issuer, id)
	b.wait()
	return u, err
}

func (b *barrierUsers) List(ctx context.Context) ([]*store.User, error) {
	all, err := b.Users.List(ctx)
	b.wait()
	return all, err
}

func TestWriteConflicts(t *testing.T) {
	e := newEnv(t)
	e.signUp("taken@example.com")
	id := e.signUp("mine@example.com")["objectId"].Value.(string)
	// Changing the sign-in email to another account's: the store's unique
	// email refuses the update.
	p := Profile{ID: "AAD-ChangeEmail", Operation: Write, RaiseIfNotExist: true, InputClaims: []Ref{{ClaimType: "objectId"}},
		PersistedClaims: []Ref{{ClaimType: "email", PartnerClaimType: "signInNames.emailAddress"}}}
	e.runErr(p, Claims{"objectId": str(id), "email": str("Taken@example.com")}, AlreadyExists)
	if u, _ := e.users.Get(e.ctx, id); u.Email != "mine@example.com" {
		t.Errorf("email changed to %q", u.Email)
	}
	// A write whose key claim is missing creates no unreachable account.
	if _, err := e.dir.Run(e.ctx, e.mfa.get(t, "AAD-UserWriteUsingLogonEmail"), Claims{"newPassword": str("x")}); err == nil {
		t.Error("write without its key claim succeeded")
	}
	if all, _ := e.users.List(e.ctx); len(all) != 2 {
		t.Errorf("%d users", len(all))
	}
}

// A user-name local account (the username starter-pack variant's keys).
func TestUserNameAccount(t *testing.T) {
	e := newEnv(t)
	key := []Ref{{ClaimType: "signInName", PartnerClaimType: "signInNames.userName"}}
	write := Profile{ID: "AAD-UserWriteUsingLogonUserName", Operation: Write, RaiseIfExists: true, InputClaims: key,
		PersistedClaims: []Ref{{ClaimType: "signInName", PartnerClaimType: "signInNames.userName"},
			{ClaimType: "newPassword", PartnerClaimType: "password"},
			{ClaimType: "birthday", PartnerClaimType: "extension_birthday", DataType: claimstx.Date}},
		OutputClaims: []Ref{{ClaimType: "objectId"}, {ClaimType: "newUser", PartnerClaimType: "newClaimsPrincipalCreated", DataType: claimstx.Boolean}}}
	read := Profile{ID: "AAD-UserReadUsingUserName", Operation: Read, RaiseIfNotExist: true, InputClaims: key,
		OutputClaims: []Ref{{ClaimType: "objectId"}, {ClaimType: "signInName", PartnerClaimType: "signInNames.userName"},
			{ClaimType: "birthday", PartnerClaimType: "extension_birthday", DataType: claimstx.Date},
			{ClaimType: "createdDateTime", DataType: claimstx.DateTime}}}
	for _, p := range []Profile{write, read} {
		if probs := Check(p); len(probs) != 0 {
			t.Fatal(probs)
		}
	}
	day := time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)
	out, err := e.dir.Run(e.ctx, write, Claims{"signInName": str("Ada.L"), "newPassword": str("pw"),
		"birthday": {DataType: claimstx.Date, Value: day}})
	if err != nil {
		t.Fatal(err)
	}
	id := out["objectId"].Value.(string)
	want(t, out, "newUser", true)
	e.runErr(write, Claims{"signInName": str("ada.l"), "newPassword": str("pw")}, AlreadyExists)

	out, err = e.dir.Run(e.ctx, read, Claims{"signInName": str("ADA.L")})
	if err != nil {
		t.Fatal(err)
	}
	want(t, out, "objectId", id)
	want(t, out, "signInName", "Ada.L")
	want(t, out, "birthday", day)
	want(t, out, "createdDateTime", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	u, _ := e.users.Get(e.ctx, id)
	if want := []store.Identity{{SignInType: "userName", Issuer: tenant, IssuerAssignedID: "Ada.L"}}; !reflect.DeepEqual(u.Identities, want) || u.Email != "" {
		t.Errorf("identities %+v email %q", u.Identities, u.Email)
	}
}

// TestAccountLinking: alternativeSecurityIds read as a collection, written
// back with a second provider (linking) and without one (unlinking); an
// identity that signs in to another account is refused as AlreadyExists.
func TestAccountLinking(t *testing.T) {
	e := newEnv(t)
	google := EncodeAlternativeSecurityID("google.com", "g-1")
	fb := EncodeAlternativeSecurityID("facebook.com", "f-1")
	out := e.run("AAD-UserWriteUsingAlternativeSecurityId", Claims{"alternativeSecurityId": str(google), "displayName": str("Lin")})
	id := out["objectId"].Value.(string)
	coll := claimstx.AlternativeSecurityIDCollection
	ref := func(c string) Ref {
		return Ref{ClaimType: c, PartnerClaimType: "alternativeSecurityIds", DataType: coll}
	}
	read := Profile{ID: "read", Operation: "Read", InputClaims: []Ref{{ClaimType: "objectId", DataType: claimstx.String}},
		OutputClaims: []Ref{ref("ids")}}
	ids := func() []string {
		t.Helper()
		out, err := e.dir.Run(e.ctx, read, Claims{"objectId": str(id)})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := out["ids"].Value.([]string)
		return v
	}
	if got := ids(); len(got) != 1 || got[0] != google {
		t.Fatalf("read %v, want [%s]", got, google)
	}
	write := Profile{ID: "link", Operation: "Write", InputClaims: []Ref{{ClaimType: "objectId", DataType: claimstx.String}},
		PersistedClaims: []Ref{ref("ids")}}
	if _, err := e.dir.Run(e.ctx, write, Claims{"objectId": str(id), "ids": {DataType: coll, Value: []string{google, fb}}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(); len(got) != 2 || got[1] != fb {
		t.Fatalf("after linking %v", got)
	}
	e.run("AAD-UserReadUsingAlternativeSecurityId", Claims{"alternativeSecurityId": str(fb)}) // signs in to the same account
	// Another account may not take an identity that is linked here.
	other := e.run("AAD-UserWriteUsingAlternativeSecurityId", Claims{"alternativeSecurityId": str(EncodeAlternativeSecurityID("github.com", "h-1")), "displayName": str("Other")})
	e.runErr(write, Claims{"objectId": other["objectId"], "ids": {DataType: coll, Value: []string{fb}}}, AlreadyExists)
	// Unlinking: the list without Facebook.
	if _, err := e.dir.Run(e.ctx, write, Claims{"objectId": str(id), "ids": {DataType: coll, Value: []string{google}}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(); len(got) != 1 || got[0] != google {
		t.Fatalf("after unlinking %v", got)
	}
}
