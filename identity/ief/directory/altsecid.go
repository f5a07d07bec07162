package directory

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/identity/claimstx"
)

// EncodeAlternativeSecurityID is the alternativeSecurityId claim of a
// federated identity, as B2C's CreateAlternativeSecurityId transformation
// writes it: {"issuer":"facebook.com","issuerUserId":"<base64 of the id>"}.
func EncodeAlternativeSecurityID(issuer, issuerAssignedID string) string {
	return claimstx.AlternativeSecurityID(issuer, issuerAssignedID)
}

// DecodeAlternativeSecurityID reads an alternativeSecurityId claim: the
// transformation's {"issuer","issuerUserId"} form, or Graph's
// alternativeSecurityIds entry {"type":6,"identityProvider","key"} (what
// migrated B2C users carry). The issuer comes back lower-cased and the id
// base64-decoded.
func DecodeAlternativeSecurityID(s string) (issuer, issuerAssignedID string, err error) {
	var v struct {
		Issuer           string `json:"issuer"`
		IssuerUserID     string `json:"issuerUserId"`
		IdentityProvider string `json:"identityProvider"`
		Key              string `json:"key"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", "", errors.New("alternativeSecurityId is not a JSON object")
	}
	issuer, key := v.Issuer, v.IssuerUserID
	if issuer == "" && key == "" {
		issuer, key = v.IdentityProvider, v.Key
	}
	if issuer == "" || key == "" {
		return "", "", errors.New("alternativeSecurityId needs an issuer and an issuerUserId")
	}
	id, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", "", errors.New("alternativeSecurityId's issuerUserId is not base64")
	}
	return strings.ToLower(issuer), string(id), nil
}
