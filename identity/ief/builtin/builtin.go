// Package builtin holds the base policies Gatehouse provides when a
// tenant's policy files inherit from them without bringing them: the
// LocalAccounts starter pack's TrustFrameworkBase.xml and
// TrustFrameworkLocalization.xml, unchanged from Microsoft's
// active-directory-b2c-custom-policy-starterpack (MIT, see LICENSE). A
// tenant that moved with only its TrustFrameworkExtensions.xml and
// relying-party files runs on exactly what B2C's guide had it upload.
package builtin

import (
	_ "embed"
	"strings"
)

var (
	//go:embed TrustFrameworkBase.xml
	base []byte
	//go:embed TrustFrameworkLocalization.xml
	localization []byte
)

// placeholder is the tenant name the starter pack is written for.
const placeholder = "yourtenant.onmicrosoft.com"

// Policy returns a built-in policy by id (case-insensitive) with the
// tenant filled in, as B2C's guide tells a tenant to do before uploading;
// false when Gatehouse has no such policy.
func Policy(id, tenant string) (name string, data []byte, ok bool) {
	var src []byte
	switch strings.ToUpper(id) {
	case "B2C_1A_TRUSTFRAMEWORKBASE":
		name, src = "builtin:TrustFrameworkBase.xml", base
	case "B2C_1A_TRUSTFRAMEWORKLOCALIZATION":
		name, src = "builtin:TrustFrameworkLocalization.xml", localization
	default:
		return "", nil, false
	}
	return name, []byte(strings.ReplaceAll(string(src), placeholder, tenant)), true
}
