package directory

import (
	"fmt"
	"strings"
)

// Check reports load-time problems of a resolved profile (after
// IncludeTechnicalProfile): the ones B2C refuses at upload. An abstract
// profile that no step runs (AAD-Common) need not be checked.
func Check(p Profile) []string {
	var probs []string
	add := func(format string, args ...any) {
		probs = append(probs, fmt.Sprintf("technical profile %s: ", p.ID)+fmt.Sprintf(format, args...))
	}
	switch p.Operation {
	case Read, Write, DeleteClaims, DeleteClaimsPrincipal:
	case "":
		add("no Operation metadata (Read, Write, DeleteClaims or DeleteClaimsPrincipal)")
	default:
		add("Operation %q is not Read, Write, DeleteClaims or DeleteClaimsPrincipal", p.Operation)
	}
	// B2C looks the account up by exactly one InputClaim.
	if len(p.InputClaims) != 1 {
		add("has %d InputClaims; an Azure AD profile needs exactly one, the account's key", len(p.InputClaims))
	}
	for _, r := range p.InputClaims {
		if attributes[r.Attribute()]&useKey == 0 {
			add("InputClaim %s: %q cannot identify an account (objectId, signInNames.emailAddress, signInNames.userName, signInNames.phoneNumber, alternativeSecurityId or userPrincipalName)",
				r.ClaimType, r.Attribute())
		}
	}
	if (p.Operation == Write || p.Operation == DeleteClaims) && len(p.PersistedClaims) == 0 {
		add("Operation %s needs PersistedClaims", p.Operation)
	}
	if p.Operation == Write && p.RaiseIfExists && p.RaiseIfNotExist {
		add("RaiseErrorIfClaimsPrincipalAlreadyExists and RaiseErrorIfClaimsPrincipalDoesNotExist are both true: every Write fails")
	}
	for _, r := range p.PersistedClaims {
		if msg := checkName(p, r.Attribute(), useWrite); msg != "" {
			add("PersistedClaim %s: %s", r.ClaimType, msg)
		}
	}
	for _, r := range p.OutputClaims {
		if r.DefaultValue != "" || r.AlwaysUseDefault {
			// Not read from the directory when it is not an attribute:
			// B2C allows such output claims (authenticationSource).
			continue
		}
		if msg := checkName(p, r.Attribute(), useRead); msg != "" {
			add("OutputClaim %s: %s", r.ClaimType, msg)
		}
	}
	return probs
}

// checkName reports why attr cannot be used so ("" = it can).
func checkName(p Profile, attr string, use attrUse) string {
	if rest, ok := strings.CutPrefix(attr, "extension_"); ok {
		if rest == "" || !isIdent(rest) {
			return fmt.Sprintf("%q is not a valid extension attribute name", attr)
		}
		if short := shortExtension(attr); short != attr && p.IncludeExtensionApp != "" {
			app := strings.TrimSuffix(strings.TrimPrefix(attr, "extension_"), strings.TrimPrefix(short, "extension_"))
			if !strings.EqualFold(strings.TrimSuffix(app, "_"), strings.ReplaceAll(p.IncludeExtensionApp, "-", "")) {
				return fmt.Sprintf("%q belongs to another application than ClientId %s", attr, p.IncludeExtensionApp)
			}
		}
		return ""
	}
	u, known := attributes[attr]
	switch {
	case !known:
		return fmt.Sprintf("%q is not a directory attribute", attr)
	case use == useWrite && u&useWrite == 0:
		return fmt.Sprintf("%q is read-only", attr)
	case use == useRead && u&useRead == 0:
		return fmt.Sprintf("%q cannot be read", attr)
	}
	return ""
}

func isIdent(s string) bool {
	for _, c := range s {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
