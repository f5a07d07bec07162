package userflows

import (
	"testing"

	"github.com/gatehouse/gatehouse/identity/tenant"
)

func TestCompileLoads(t *testing.T) {
	flows := []*tenant.Flow{
		{Name: "B2C_1_susi", Type: "signUpOrSignIn", Attributes: []string{"displayName", "givenName", "city", "extension_loyalty"}, EmailVerification: true},
		{Name: "B2C_1_susi_nover", Type: "signUpOrSignIn", Attributes: []string{"displayName"}},
		{Name: "B2C_1_custom", Type: "signUpOrSignIn", Password: tenant.PasswordRules{MinLength: 4, MaxLength: 6, DigitsOnly: true}},
		{Name: "B2C_1_reset", Type: "passwordReset"},
		{Name: "B2C_1_edit", Type: "profileEdit", Attributes: []string{"displayName", "city"}, Languages: []string{"en", "de"}},
		{Name: "B2C_1_api", Type: "signUpOrSignIn", Attributes: []string{"displayName", "postalCode"},
			APIConnectors: map[string]string{"postAttributeCollection": "validate", "preTokenIssuance": "enrich"}},
	}
	set, err := Load(flows, "contoso.onmicrosoft.com")
	if err != nil {
		s, _ := Source(flows[0], "contoso.onmicrosoft.com")
		t.Fatalf("%v\n%s", err, s.Data)
	}
	if len(set.Policies) != len(flows) {
		t.Fatalf("%d policies", len(set.Policies))
	}
}
