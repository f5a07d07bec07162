package identity

import (
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// tokenClaimName maps a user flow's application claim to its token claim.
func tokenClaimName(c string) string {
	switch c {
	case "objectId":
		return "oid"
	case "displayName":
		return "name"
	case "givenName":
		return "given_name"
	case "surname":
		return "family_name"
	case "identityProvider":
		return "idp"
	case "identityProviderAccessToken":
		return "idp_access_token"
	}
	if strings.HasPrefix(c, "extension_") {
		return shortExtension(c)
	}
	return c
}

// shortExtension drops the b2c-extensions-app infix:
// extension_<appid>_Name -> extension_Name (as B2C's tokens name them).
func shortExtension(name string) string {
	rest := strings.TrimPrefix(name, "extension_")
	if i := strings.IndexByte(rest, '_'); i == 32 {
		return "extension_" + rest[i+1:]
	}
	return name
}

// reserved claims are never taken from Result.Claims.
var reservedClaims = claimSet("iss", "sub", "aud", "exp", "nbf", "iat", "auth_time", "ver", "tfp", "nonce",
	"at_hash", "c_hash", "azp", "scp", "oid", "newUser")

// userClaims are the user's claims chosen by the flow's application claims,
// computed at sign-in; refresh redemptions re-use them (as B2C does).
func userClaims(f *Flow, u *store.User, res *Result) map[string]any {
	c := map[string]any{}
	attr := func(name string) (string, bool) {
		if u.Attributes == nil {
			return "", false
		}
		if v, ok := u.Attributes[name]; ok {
			return v, true
		}
		if strings.HasPrefix(name, "extension_") {
			short := shortExtension(name)
			for k, v := range u.Attributes {
				if shortExtension(k) == short {
					return v, true
				}
			}
		}
		return "", false
	}
	for _, cl := range f.Claims {
		switch cl {
		case "objectId":
			c["oid"] = u.ID
		case "displayName":
			if u.DisplayName != "" {
				c["name"] = u.DisplayName
			}
		case "givenName":
			if u.GivenName != "" {
				c["given_name"] = u.GivenName
			}
		case "surname":
			if u.Surname != "" {
				c["family_name"] = u.Surname
			}
		case "emails":
			// A local account's sign-in address, else the address a
			// federated account brought (mail: not unique, not a sign-in name).
			if u.Email != "" {
				c["emails"] = []string{u.Email}
			} else if m := u.Attributes["mail"]; m != "" {
				c["emails"] = []string{m}
			}
		case "identityProvider":
			if res.IdentityProvider != "" {
				c["idp"] = res.IdentityProvider
			}
		case "newUser", "identityProviderAccessToken", "legalAgeGroupClassification":
			// newUser is added per issue; the others need federation.
		default:
			if v, ok := attr(cl); ok && v != "" {
				c[tokenClaimName(cl)] = v
			}
		}
	}
	for k, v := range res.Claims {
		if !reservedClaims[k] {
			c[tokenClaimName(k)] = v
		}
	}
	return c
}

func claimSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
