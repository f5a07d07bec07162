package userflows

import (
	"strings"
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

// TestCompiledPolicies: what each setting becomes.
func TestCompiledPolicies(t *testing.T) {
	flows := []*tenant.Flow{
		{Name: "B2C_1_api", Type: "signUpOrSignIn", Attributes: []string{"displayName", "postalCode", "email", "bad name", "<x>"},
			APIConnectors: map[string]string{"postAttributeCollection": "validate", "PreTokenIssuance": "enrich"},
			Languages:     []string{"de", "fr"}, DefaultLanguage: "fr"},
		{Name: "B2C_1_reset", Type: "passwordReset", Attributes: []string{"city"}},
		{Name: "B2C_1_edit", Type: "profileEdit", Attributes: []string{"city"}, APIConnectors: map[string]string{"postAttributeCollection": "ignored"}},
		{Name: "B2C_1A_custom", Type: "journey", Custom: true},
	}
	set, err := Load(flows, "contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Policies) != 3 || set.Policy("B2C_1A_custom") != nil {
		t.Fatalf("policies %v", set.IDs())
	}
	api := set.Policy("B2C_1_api")
	signUp := api.Profiles["LocalAccountSignUpWithLogonEmail"]
	var outs []string
	for _, r := range signUp.OutputClaims {
		if r.Required {
			outs = append(outs, r.ClaimType)
		}
	}
	if got := strings.Join(outs, ","); got != "email,newPassword,reenterPassword,displayName,postalCode" {
		t.Errorf("sign-up collects %s (invalid names and email must be skipped)", got)
	}
	if v := signUp.Validations; len(v) != 2 || v[0].Profile != "ApiConnector-PostAttributeCollection" || v[1].Profile != "AAD-UserWriteUsingLogonEmail" {
		t.Errorf("validations %+v", v)
	}
	if tp := api.Profiles["ApiConnector-PreTokenIssuance"]; tp == nil || tp.Metadata["Connector"] != "enrich" || tp.Provider.Name != "APIConnector" {
		t.Errorf("token connector %+v", tp)
	}
	if l := api.Localization; l == nil || !l.Enabled || strings.Join(l.Languages, ",") != "de,fr" || l.Default != "fr" {
		t.Errorf("localization %+v", l)
	}
	if api.Profiles["SelfAsserted-LocalAccountSignin-Email"].Metadata["setting.forgotPasswordLinkOverride"] != "ForgotPasswordExchange" {
		t.Error("embedded password reset missing")
	}
	reset := set.Policy("B2C_1_reset")
	if reset.Profiles["SelfAsserted-LocalAccountSignin-Email"] != nil || reset.Profiles["LocalAccountPasswordReset"] == nil {
		t.Error("password reset flow has a sign-in page or no reset page")
	}
	edit := set.Policy("B2C_1_edit")
	if edit.Profiles["ApiConnector-PostAttributeCollection"] != nil || edit.Claim("email").UserInputType != "Readonly" {
		t.Error("profile edit: connector or editable email")
	}
	if edit.Profiles["SelfAsserted-LocalAccountSignin-Email"].Metadata["SignUpTarget"] != "" {
		t.Error("profile edit offers sign-up")
	}
	if _, err := Source(&tenant.Flow{Name: "B2C_1_x", Type: "journey"}, "contoso.onmicrosoft.com"); err == nil {
		t.Error("a journey compiled as a user flow")
	}
}
