// Package directory is Azure AD B2C's AzureActiveDirectory technical-profile
// provider (Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.
// AzureActiveDirectoryProvider") over Gatehouse's user store: the AAD-*
// profiles of the custom-policy starter packs read, create, update and
// delete accounts through it.
//
// The journey runtime resolves IncludeTechnicalProfile, the input claims
// transformations and each claim's declared DataType before it calls Run;
// Check validates a resolved profile at load time.
//
// Directory attribute names (PartnerClaimType, else ClaimTypeReferenceId)
// map onto store.User: objectId is the ID, signInNames.* and
// alternativeSecurityId are identities, displayName/givenName/surname and
// password (hashed) have fields, refreshTokensValidFromDateTime is
// RefreshTokensValidFrom; every other attribute (accountEnabled,
// otherMails, passwordPolicies, strongAuthenticationPhoneNumber, city,
// extension_* ...) is a string in User.Attributes, written so that it reads
// back as the same type: booleans "true"/"false", integers in decimal,
// dateTimes ISO 8601 UTC, collections as JSON arrays. Extension attributes
// are kept under their short name (extension_loyaltyId, without the
// b2c-extensions-app id), as Gatehouse's token code reads them.
package directory

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/store"
)

// Claims are a journey's claims by ClaimType id.
type Claims map[string]claimstx.Claim

// The Operation metadata values.
const (
	Read                  = "Read"
	Write                 = "Write"
	DeleteClaims          = "DeleteClaims"
	DeleteClaimsPrincipal = "DeleteClaimsPrincipal"
)

// The metadata keys of the user-visible messages (Profile.Messages).
const (
	MsgAlreadyExists = "UserMessageIfClaimsPrincipalAlreadyExists"
	MsgDoesNotExist  = "UserMessageIfClaimsPrincipalDoesNotExist"
)

// Ref is an InputClaim, PersistedClaim or OutputClaim.
type Ref struct {
	ClaimType        string // ClaimTypeReferenceId
	PartnerClaimType string // the directory attribute; "" = ClaimType
	DefaultValue     string
	AlwaysUseDefault bool // AlwaysUseDefaultValue
	// DataType is the ClaimType's declared DataType (from ClaimsSchema).
	// Output claims are produced in it; "" means the attribute's own type
	// (boolean for accountEnabled, stringCollection for otherMails ...,
	// string for the rest).
	DataType claimstx.DataType
}

// Attribute is the directory attribute the claim maps to.
func (r Ref) Attribute() string {
	if r.PartnerClaimType != "" {
		return r.PartnerClaimType
	}
	return r.ClaimType
}

// Profile is a resolved AzureActiveDirectory technical profile.
type Profile struct {
	ID              string
	Operation       string // Read, Write, DeleteClaims, DeleteClaimsPrincipal
	RaiseIfNotExist bool   // RaiseErrorIfClaimsPrincipalDoesNotExist
	RaiseIfExists   bool   // RaiseErrorIfClaimsPrincipalAlreadyExists
	InputClaims     []Ref
	PersistedClaims []Ref
	OutputClaims    []Ref
	// Messages are the UserMessageIf* metadata (and localized strings) by
	// key (MsgAlreadyExists, MsgDoesNotExist); missing ones get B2C's
	// defaults.
	Messages map[string]string
	// IncludeExtensionApp is the ClientId metadata, the b2c-extensions-app
	// whose extension attributes the profile names in their long form
	// (extension_<app id without dashes>_name). Gatehouse does not need it
	// (it stores extension attributes itself); when set, Check refuses
	// long-form names of other applications.
	IncludeExtensionApp string
}

// Kind distinguishes the errors a journey shows on the page.
type Kind int

// Error kinds.
const (
	NotFound      Kind = iota + 1 // RaiseErrorIfClaimsPrincipalDoesNotExist
	AlreadyExists                 // RaiseErrorIfClaimsPrincipalAlreadyExists, or a sign-in name taken
)

// Error is an expected, user-visible failure: the runtime shows Message on
// the self-asserted page that ran the profile as a validation profile (or
// the error page).
type Error struct {
	Kind    Kind
	Code    string // AADB2C99002 (not found) or AADB2C90001 (already exists)
	Profile string
	Message string // user-visible: the profile's UserMessageIf* or B2C's default
}

func (e *Error) Error() string {
	switch e.Kind {
	case NotFound:
		return fmt.Sprintf("%s: This user does not exist and profile '%s' requires the user to have already been created.", e.Code, e.Profile)
	case AlreadyExists:
		return fmt.Sprintf("%s: This user already exists, and profile '%s' does not allow the same user to be created again.", e.Code, e.Profile)
	}
	return e.Code + ": " + e.Message
}

func (p *Profile) fail(k Kind) *Error {
	e := &Error{Kind: k, Profile: p.ID}
	switch k {
	case NotFound:
		e.Code, e.Message = "AADB2C99002", "An account could not be found for the provided user ID."
		if m := p.Messages[MsgDoesNotExist]; m != "" {
			e.Message = m
		}
	case AlreadyExists:
		e.Code, e.Message = "AADB2C90001", "A user with the specified ID already exists. Please choose a different one."
		if m := p.Messages[MsgAlreadyExists]; m != "" {
			e.Message = m
		}
	}
	return e
}

// Directory runs AzureActiveDirectory profiles against a user store.
type Directory struct {
	Users store.Users
	// Tenant is the issuer of local identities and the domain of derived
	// userPrincipalNames, e.g. contoso.onmicrosoft.com.
	Tenant string
	Now    func() time.Time // nil = time.Now
	NewID  func() string    // new objectIds; nil = random GUIDs
	// HashPassword hashes the password attribute; nil = the process-wide
	// argon2id hasher (password.DefaultHasher).
	HashPassword func(string) (string, error)
}

// Run executes the profile's Operation with the journey's claims and
// returns the OutputClaims it produces. Expected failures are *Error; a
// claims principal that does not exist, when the profile does not raise an
// error for it, produces no output claims at all (so objectId stays absent,
// which is how journeys test for an account).
func (d *Directory) Run(ctx context.Context, p Profile, claims Claims) (Claims, error) {
	if len(p.InputClaims) == 0 {
		return nil, fmt.Errorf("directory: profile %s has no InputClaim", p.ID)
	}
	key := p.InputClaims[0]
	keyValue, err := lookupValue(p.ID, key, claims)
	if err != nil {
		return nil, err
	}
	u, err := d.find(ctx, key.Attribute(), keyValue)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("directory: profile %s: %w", p.ID, err)
	}
	if u == nil && p.RaiseIfNotExist {
		return nil, p.fail(NotFound)
	}
	// Not only Write: a Read that raises it checks that a sign-up name is
	// free (the phone sign-up's AAD-UserDiscoveryUsingLogonPhoneNumber-
	// RaiseErrorIfExists).
	if u != nil && p.RaiseIfExists {
		return nil, p.fail(AlreadyExists)
	}
	switch p.Operation {
	case Read:
		if u == nil {
			return Claims{}, nil
		}
		return d.outputs(&p, u, false)
	case Write:
		if keyValue == "" {
			// Creating an account nobody can find again: the journey
			// lacks the (Required) key claim.
			return nil, fmt.Errorf("directory: profile %s: input claim %s has no value", p.ID, key.ClaimType)
		}
		return d.write(ctx, &p, claims, u, key.Attribute(), keyValue)
	case DeleteClaims:
		if u == nil {
			return Claims{}, nil
		}
		for _, r := range p.PersistedClaims {
			clearAttribute(u, r.Attribute())
		}
		u.UpdatedAt = d.now()
		if err := d.Users.Update(ctx, u); err != nil {
			return nil, d.storeErr(&p, err)
		}
		return d.outputs(&p, u, false)
	case DeleteClaimsPrincipal:
		if u == nil {
			return Claims{}, nil
		}
		if err := d.Users.Delete(ctx, u.ID); err != nil {
			return nil, d.storeErr(&p, err)
		}
		return Claims{}, nil
	}
	return nil, fmt.Errorf("directory: profile %s: unknown Operation %q", p.ID, p.Operation)
}

// write creates the user (u == nil) or updates it from the PersistedClaims,
// then reads the OutputClaims back from what was written.
func (d *Directory) write(ctx context.Context, p *Profile, claims Claims, u *store.User, keyAttr, keyValue string) (Claims, error) {
	created := u == nil
	now := d.now()
	if created {
		u = &store.User{ID: d.newID(), CreatedAt: now}
		// The key names the new account even if the profile does not
		// persist it again.
		if keyAttr != "objectId" {
			if err := d.set(ctx, u, keyAttr, claimstx.Claim{DataType: claimstx.String, Value: keyValue}); err != nil {
				if errors.Is(err, ErrIdentityInUse) {
					return nil, p.fail(AlreadyExists)
				}
				return nil, fmt.Errorf("directory: profile %s: %s: %w", p.ID, keyAttr, err)
			}
		}
	}
	for _, r := range p.PersistedClaims {
		c, ok, err := value(r, claims)
		if err != nil {
			return nil, fmt.Errorf("directory: profile %s: persisted claim %s: %w", p.ID, r.ClaimType, err)
		}
		if !ok {
			// An absent claim leaves the attribute alone (B2C does not
			// persist nulls; DeleteClaims removes attributes).
			continue
		}
		if err := d.set(ctx, u, r.Attribute(), c); err != nil {
			if errors.Is(err, ErrIdentityInUse) {
				return nil, p.fail(AlreadyExists)
			}
			return nil, fmt.Errorf("directory: profile %s: persisted claim %s: %w", p.ID, r.ClaimType, err)
		}
	}
	u.UpdatedAt = now
	var err error
	if created {
		// The store's unique email decides between concurrent sign-ups
		// with one address: the losers get ErrConflict.
		err = d.Users.Create(ctx, u)
	} else {
		// Update replaces the whole record: a concurrent write of the same
		// account between our read and this update is lost (the store has
		// no version check); journeys write one account at a time.
		err = d.Users.Update(ctx, u)
	}
	if err != nil {
		return nil, d.storeErr(p, err)
	}
	if created {
		dup, err := d.duplicated(ctx, u, keyAttr, keyValue)
		if err != nil {
			return nil, fmt.Errorf("directory: profile %s: %w", p.ID, err)
		}
		if dup {
			if err := d.Users.Delete(ctx, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("directory: profile %s: removing duplicate account %s: %w", p.ID, u.ID, err)
			}
			return nil, p.fail(AlreadyExists)
		}
	}
	return d.outputs(p, u, created)
}

func (d *Directory) storeErr(p *Profile, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return p.fail(AlreadyExists)
	case errors.Is(err, store.ErrNotFound):
		// Deleted between our read and the write.
		return p.fail(NotFound)
	}
	return fmt.Errorf("directory: profile %s: %w", p.ID, err)
}

// ErrIdentityInUse: a federated identity being written to an account
// signs in to another one (the write fails as AlreadyExists).
var ErrIdentityInUse = errors.New("directory: the federated identity belongs to another account")

// Find looks an account up by a key attribute (objectId,
// userPrincipalName, signInNames.*, alternativeSecurityId).
func (d *Directory) Find(ctx context.Context, attr, v string) (*store.User, error) {
	return d.find(ctx, attr, v)
}

// find looks the user up by the input claim's attribute; (nil,
// store.ErrNotFound) when there is none.
func (d *Directory) find(ctx context.Context, attr, v string) (*store.User, error) {
	if v == "" {
		return nil, store.ErrNotFound
	}
	switch attr {
	case "objectId":
		return d.Users.Get(ctx, v)
	case "signInNames.emailAddress":
		return d.Users.GetByEmail(ctx, v)
	case "alternativeSecurityId":
		// The store's identity index: a federated sign-in is one lookup.
		issuer, key, err := DecodeAlternativeSecurityID(v)
		if err != nil {
			return nil, err
		}
		return d.Users.GetByIdentity(ctx, "federated", issuer, key)
	case "signInNames.userName", "signInNames.phoneNumber":
		typ, _ := signInNameType(attr)
		return d.Users.GetByIdentity(ctx, typ, d.Tenant, v)
	case "userPrincipalName":
		// The derived objectId@tenant of an account without a stored one.
		if id, ok := strings.CutSuffix(strings.ToLower(v), "@"+strings.ToLower(d.Tenant)); ok && d.Tenant != "" {
			u, err := d.Users.Get(ctx, id)
			if err == nil && u.Attributes["userPrincipalName"] == "" {
				return u, nil
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	match, err := d.matcher(attr, v)
	if err != nil {
		return nil, err
	}
	all, err := d.scan(ctx, match)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, store.ErrNotFound
	}
	return all[0], nil
}

// matcher tests users for the keys the store cannot look up, which need a
// scan; nil for the store's own unique keys.
func (d *Directory) matcher(attr, v string) (func(*store.User) bool, error) {
	hasIdentity := func(typ, issuer, id string, fold bool) func(*store.User) bool {
		return func(u *store.User) bool {
			for _, x := range u.Identities {
				if x.SignInType == typ && (issuer == "" || strings.EqualFold(x.Issuer, issuer)) &&
					(x.IssuerAssignedID == id || fold && strings.EqualFold(x.IssuerAssignedID, id)) {
					return true
				}
			}
			return false
		}
	}
	switch attr {
	case "objectId", "signInNames.emailAddress":
		return nil, nil
	case "userPrincipalName":
		return func(u *store.User) bool { return strings.EqualFold(u.Attributes["userPrincipalName"], v) }, nil
	case "alternativeSecurityId":
		issuer, key, err := DecodeAlternativeSecurityID(v)
		if err != nil {
			return nil, err
		}
		return hasIdentity("federated", issuer, key, false), nil
	}
	if typ, ok := signInNameType(attr); ok {
		return hasIdentity(typ, "", v, true), nil
	}
	return nil, fmt.Errorf("%s cannot identify an account", attr)
}

// scan finds users by reading every user: only a stored (not derived)
// userPrincipalName has no index in the store, so that lookup costs a full
// List (O(users)); identities and email addresses are indexed. Matches
// come in creation order.
func (d *Directory) scan(ctx context.Context, match func(*store.User) bool) ([]*store.User, error) {
	all, err := d.Users.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*store.User
	for _, u := range all {
		if match(u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// duplicated reports whether another account has the key of the account
// u just created. The store enforces unique emails and objectIds only, so
// two concurrent sign-ups with one social identity (or user name, phone
// number) can both create an account; each creator checks afterwards and
// the loser removes its own. The creator that checks last always sees the
// other, so at most one account survives; when both see each other both
// back off and the user's retry creates it.
func (d *Directory) duplicated(ctx context.Context, u *store.User, keyAttr, keyValue string) (bool, error) {
	if keyAttr != "userPrincipalName" {
		// Email addresses and identities are unique in the store itself:
		// of concurrent creations only one got through.
		return false, nil
	}
	match, err := d.matcher(keyAttr, keyValue)
	if err != nil || match == nil {
		return false, err
	}
	all, err := d.scan(ctx, match)
	if err != nil {
		return false, err
	}
	for _, o := range all {
		if o.ID != u.ID {
			return true, nil
		}
	}
	return false, nil
}

// lookupValue is the input claim's value as a string ("" when absent).
func lookupValue(profile string, r Ref, claims Claims) (string, error) {
	c, ok, err := value(r, claims)
	if err != nil {
		return "", fmt.Errorf("directory: profile %s: input claim %s: %w", profile, r.ClaimType, err)
	}
	if !ok {
		return "", nil
	}
	return claimstx.FormatValue(c.Value), nil
}

// value resolves a claim reference: AlwaysUseDefaultValue, else the claim,
// else its DefaultValue. ok is false when it has no value.
func value(r Ref, claims Claims) (c claimstx.Claim, ok bool, err error) {
	if !r.AlwaysUseDefault {
		if c, ok := claims[r.ClaimType]; ok && c.Value != nil {
			return c, true, nil
		}
	}
	if r.DefaultValue == "" {
		return claimstx.Claim{}, false, nil
	}
	dt := r.DataType
	if dt == "" {
		dt = naturalType(r.Attribute())
	}
	c, err = claimstx.Parse(dt, r.DefaultValue)
	return c, err == nil, err
}

func (d *Directory) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Directory) newID() string {
	if d.NewID != nil {
		return d.NewID()
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (d *Directory) hash(ctx context.Context, pw string) (string, error) {
	if d.HashPassword != nil {
		return d.HashPassword(pw)
	}
	return password.DefaultHasher().Hash(ctx, pw)
}
