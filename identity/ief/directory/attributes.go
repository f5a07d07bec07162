package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/store"
)

// attrUse says what a directory attribute can do.
type attrUse uint8

const (
	useKey       attrUse = 1 << iota // identifies an account (InputClaim)
	useRead                          // OutputClaim
	useWrite                         // PersistedClaim
	useReadWrite = useRead | useWrite
)

// attributes are the directory attributes B2C's provider knows (Graph's
// user properties as B2C names them), extension_* aside.
var attributes = map[string]attrUse{
	"objectId":                 useKey | useReadWrite, // persisting it is a no-op the starter packs do
	"signInNames.emailAddress": useKey | useReadWrite,
	"signInNames.userName":     useKey | useReadWrite,
	"signInNames.phoneNumber":  useKey | useReadWrite,
	"alternativeSecurityId":    useKey | useReadWrite,
	"userPrincipalName":        useKey | useReadWrite,

	"alternativeSecurityIds":    useReadWrite,
	"identities":                useRead,
	"userIdentities":            useRead,
	"createdDateTime":           useRead,
	"newClaimsPrincipalCreated": useRead,

	"refreshTokensValidFromDateTime": useReadWrite,
	"displayName":                    useReadWrite,
	"givenName":                      useReadWrite,
	"surname":                        useReadWrite,
	"password":                       useWrite,
	"passwordPolicies":               useReadWrite,
	// Graph's passwordProfile.forceChangePasswordNextSignIn ("true"):
	// user flows ask for a new password at the next sign-in.
	"forceChangePasswordNextSignIn":    useReadWrite,
	"accountEnabled":                   useReadWrite,
	"mail":                             useReadWrite,
	"otherMails":                       useReadWrite,
	"mailNickName":                     useReadWrite,
	"strongAuthenticationPhoneNumber":  useReadWrite,
	"strongAuthenticationEmailAddress": useReadWrite,
	"city":                             useReadWrite,
	"country":                          useReadWrite,
	"jobTitle":                         useReadWrite,
	"department":                       useReadWrite,
	"companyName":                      useReadWrite,
	"postalCode":                       useReadWrite,
	"state":                            useReadWrite,
	"streetAddress":                    useReadWrite,
	"telephoneNumber":                  useReadWrite,
	"mobile":                           useReadWrite,
	"facsimileTelephoneNumber":         useReadWrite,
	"physicalDeliveryOfficeName":       useReadWrite,
	"preferredLanguage":                useReadWrite,
	"usageLocation":                    useReadWrite,
	"employeeId":                       useReadWrite,
	"userType":                         useReadWrite,
	"creationType":                     useReadWrite,
}

// naturalType is the attribute's own DataType (what an OutputClaim without
// a declared DataType gets).
func naturalType(attr string) claimstx.DataType {
	switch attr {
	case "accountEnabled", "newClaimsPrincipalCreated":
		return claimstx.Boolean
	case "otherMails", "alternativeSecurityIds":
		return claimstx.StringCollection
	case "createdDateTime", "refreshTokensValidFromDateTime":
		return claimstx.DateTime
	}
	return claimstx.String
}

// signInNameType maps signInNames.* to the identity's signInType.
func signInNameType(attr string) (string, bool) {
	switch attr {
	case "signInNames.emailAddress":
		return "emailAddress", true
	case "signInNames.userName":
		return "userName", true
	case "signInNames.phoneNumber":
		return "phoneNumber", true
	}
	return "", false
}

// shortExtension drops the b2c-extensions-app id:
// extension_<32 hex>_name -> extension_name.
func shortExtension(name string) string {
	rest, ok := strings.CutPrefix(name, "extension_")
	if !ok {
		return name
	}
	if app, short, ok := strings.Cut(rest, "_"); ok && len(app) == 32 && isHex(app) {
		return "extension_" + short
	}
	return name
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// set writes one persisted claim into the user.
func (d *Directory) set(ctx context.Context, u *store.User, attr string, c claimstx.Claim) error {
	s := format(c.Value)
	switch attr {
	case "objectId":
		// The key: an account's objectId never changes.
	case "password":
		if s == "" {
			return nil
		}
		h, err := d.hash(ctx, s)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	case "signInNames.emailAddress":
		u.Email = strings.ToLower(s)
		setIdentity(u, store.Identity{SignInType: "emailAddress", Issuer: d.Tenant, IssuerAssignedID: u.Email})
	case "signInNames.userName", "signInNames.phoneNumber":
		typ, _ := signInNameType(attr)
		setIdentity(u, store.Identity{SignInType: typ, Issuer: d.Tenant, IssuerAssignedID: s})
	case "alternativeSecurityId", "alternativeSecurityIds":
		// One identity added, or the whole list (account linking and
		// unlinking) replacing the account's federated identities.
		items := []string{s}
		if attr == "alternativeSecurityIds" {
			var err error
			if items, err = claimstx.ParseAlternativeSecurityIDs(claimstx.FormatAltSecIDs(c.Value)); err != nil {
				return err
			}
		}
		var ids []store.Identity
		for _, item := range items {
			issuer, key, err := DecodeAlternativeSecurityID(item)
			if err != nil {
				return err
			}
			id := store.Identity{SignInType: "federated", Issuer: issuer, IssuerAssignedID: key}
			if hasFederated(u, id) {
				ids = append(ids, id)
				continue
			}
			// An identity belongs to one account: linking one that signs
			// in to another account would hand that account over.
			other, err := d.find(ctx, "alternativeSecurityId", item)
			if err == nil && other.ID != u.ID {
				return ErrIdentityInUse
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ids = append(ids, id)
		}
		if attr == "alternativeSecurityIds" {
			removeIdentities(u, "federated")
		}
		for _, id := range ids {
			if !hasFederated(u, id) {
				u.Identities = append(u.Identities, id)
			}
		}
	case "displayName":
		u.DisplayName = s
	case "givenName":
		u.GivenName = s
	case "surname":
		u.Surname = s
	case "refreshTokensValidFromDateTime":
		t, ok := c.Value.(time.Time)
		if !ok {
			var err error
			if t, err = claimstx.ParseDateTime(s); err != nil {
				return err
			}
		}
		u.RefreshTokensValidFrom = t.UTC()
	default:
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		u.Attributes[shortExtension(attr)] = s
	}
	return nil
}

// setIdentity replaces the user's identity of the same sign-in type (an
// account has one email sign-in name, one user name ...).
func setIdentity(u *store.User, id store.Identity) {
	for i := range u.Identities {
		if u.Identities[i].SignInType == id.SignInType {
			u.Identities[i] = id
			return
		}
	}
	u.Identities = append(u.Identities, id)
}

// hasFederated reports whether the account has the federated identity.
func hasFederated(u *store.User, id store.Identity) bool {
	for _, x := range u.Identities {
		if x.SignInType == "federated" && strings.EqualFold(x.Issuer, id.Issuer) && x.IssuerAssignedID == id.IssuerAssignedID {
			return true
		}
	}
	return false
}

func removeIdentities(u *store.User, signInType string) {
	kept := u.Identities[:0]
	for _, id := range u.Identities {
		if id.SignInType != signInType {
			kept = append(kept, id)
		}
	}
	u.Identities = kept
}

// clearAttribute is DeleteClaims for one attribute.
func clearAttribute(u *store.User, attr string) {
	switch attr {
	case "objectId":
	case "password":
		u.PasswordHash = ""
	case "signInNames.emailAddress":
		u.Email = ""
		removeIdentities(u, "emailAddress")
	case "signInNames.userName", "signInNames.phoneNumber":
		typ, _ := signInNameType(attr)
		removeIdentities(u, typ)
	case "alternativeSecurityId":
		removeIdentities(u, "federated")
	case "displayName":
		u.DisplayName = ""
	case "givenName":
		u.GivenName = ""
	case "surname":
		u.Surname = ""
	case "refreshTokensValidFromDateTime":
		u.RefreshTokensValidFrom = time.Time{}
	default:
		delete(u.Attributes, shortExtension(attr))
	}
}

// format renders a claim value as stored in User.Attributes so that parse
// reads it back as the same type.
func format(v any) string {
	switch x := v.(type) {
	case []string:
		b, _ := json.Marshal(x) // strings always marshal
		return string(b)
	case time.Time:
		return claimstx.FormatDateTime(x)
	}
	return claimstx.FormatValue(v)
}

// parse reads a stored attribute as the DataType dt.
func parse(dt claimstx.DataType, s string) (claimstx.Claim, error) {
	if dt == claimstx.StringCollection {
		if strings.HasPrefix(s, "[") {
			var list []string
			if err := json.Unmarshal([]byte(s), &list); err != nil {
				return claimstx.Claim{}, fmt.Errorf("%q is not a JSON array of strings", s)
			}
			return claimstx.Claim{DataType: dt, Value: list}, nil
		}
		// A single value written by a user flow or an import.
		return claimstx.Claim{DataType: dt, Value: []string{s}}, nil
	}
	if (dt == claimstx.String || dt == claimstx.PhoneNumber || dt == "") && strings.HasPrefix(s, "[") {
		// A collection read into a string claim: its values joined, as
		// FormatValue renders collections.
		var list []string
		if json.Unmarshal([]byte(s), &list) == nil {
			s = strings.Join(list, ",")
		}
	}
	return claimstx.Parse(dt, s)
}

// read returns the attribute as stored text; ok is false when the user
// has no value for it.
func (d *Directory) read(u *store.User, attr string, created bool) (s string, ok bool) {
	nonEmpty := func(s string) (string, bool) { return s, s != "" }
	switch attr {
	case "objectId":
		return u.ID, true
	case "userPrincipalName":
		if v := u.Attributes["userPrincipalName"]; v != "" {
			return v, true
		}
		// B2C gives every account one: objectId@tenant.
		return u.ID + "@" + d.Tenant, d.Tenant != ""
	case "signInNames.emailAddress":
		return nonEmpty(u.Email)
	case "signInNames.userName", "signInNames.phoneNumber":
		typ, _ := signInNameType(attr)
		for _, id := range u.Identities {
			if id.SignInType == typ {
				return id.IssuerAssignedID, true
			}
		}
		return "", false
	case "alternativeSecurityId", "alternativeSecurityIds":
		var all []string
		for _, id := range u.Identities {
			if id.SignInType == "federated" {
				all = append(all, EncodeAlternativeSecurityID(id.Issuer, id.IssuerAssignedID))
			}
		}
		if len(all) == 0 {
			return "", false
		}
		if attr == "alternativeSecurityId" {
			return all[0], true
		}
		return format(all), true
	case "identities", "userIdentities":
		if len(u.Identities) == 0 {
			return "", false
		}
		b, _ := json.Marshal(u.Identities) // plain strings always marshal
		return string(b), true
	case "createdDateTime":
		return claimstx.FormatDateTime(u.CreatedAt), !u.CreatedAt.IsZero()
	case "refreshTokensValidFromDateTime":
		return claimstx.FormatDateTime(u.RefreshTokensValidFrom), !u.RefreshTokensValidFrom.IsZero()
	case "newClaimsPrincipalCreated":
		return strconv.FormatBool(created), true
	case "displayName":
		return nonEmpty(u.DisplayName)
	case "givenName":
		return nonEmpty(u.GivenName)
	case "surname":
		return nonEmpty(u.Surname)
	case "password":
		return "", false // never read back
	case "accountEnabled":
		if v, ok := u.Attributes["accountEnabled"]; ok {
			return v, true
		}
		return "true", true // accounts are enabled unless disabled
	}
	if v, ok := u.Attributes[attr]; ok {
		return v, true
	}
	if short := shortExtension(attr); short != attr {
		v, ok := u.Attributes[short]
		return v, ok
	}
	return "", false
}

// outputs produces the profile's OutputClaims from the user.
func (d *Directory) outputs(p *Profile, u *store.User, created bool) (Claims, error) {
	out := Claims{}
	for _, r := range p.OutputClaims {
		dt := r.DataType
		if dt == "" {
			dt = naturalType(r.Attribute())
		}
		if !r.AlwaysUseDefault {
			if s, ok := d.read(u, r.Attribute(), created); ok {
				c, err := parse(dt, s)
				if err != nil {
					return nil, fmt.Errorf("directory: profile %s: user %s attribute %s: %w", p.ID, u.ID, r.Attribute(), err)
				}
				out[r.ClaimType] = c
				continue
			}
		}
		if r.DefaultValue != "" {
			c, err := claimstx.Parse(dt, r.DefaultValue)
			if err != nil {
				return nil, fmt.Errorf("directory: profile %s: output claim %s DefaultValue: %w", p.ID, r.ClaimType, err)
			}
			out[r.ClaimType] = c
		}
	}
	return out, nil
}
