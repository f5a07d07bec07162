package userflows

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/internal/config"

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
	set, err := Load(registry(flows...))
	if err != nil {
		s, _ := Source(flows[0], registry())
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
	set, err := Load(registry(flows...))
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
	if _, err := Source(&tenant.Flow{Name: "B2C_1_x", Type: "journey"}, registry()); err == nil {
		t.Error("a journey compiled as a user flow")
	}
}

func registry(flows ...*tenant.Flow) *tenant.Registry {
	reg := &tenant.Registry{TenantName: "contoso", PublicURL: "https://login.contoso.example", Flows: map[string]*tenant.Flow{},
		IdentityProviders: map[string]*tenant.IdentityProvider{}}
	for _, f := range flows {
		reg.Flows[strings.ToLower(f.Name)] = f
	}
	return reg
}

// TestCompiledIdentityProviders: a flow's identity providers become
// OpenID Connect and OAuth2 profiles, buttons of the first step, and the
// federated account steps (read, postFederationSignup, attributes, write).
func TestCompiledIdentityProviders(t *testing.T) {
	reg := registry(
		&tenant.Flow{Name: "B2C_1_social", Type: "signUpOrSignIn", Attributes: []string{"displayName", "city"},
			IdentityProviders: []string{"local", "partner", "facebook"}, APIConnectors: map[string]string{"postFederationSignup": "check"}},
		&tenant.Flow{Name: "B2C_1_only", Type: "signUpOrSignIn", IdentityProviders: []string{"partner"}})
	reg.IdentityProviders["partner"] = &tenant.IdentityProvider{Name: "partner", Protocol: "OpenIdConnect", DisplayName: "Contoso & Partner",
		ClientID: "p-client", ClientSecret: config.NewSecret("s"), Scope: "openid email", ResponseType: "code",
		MetadataURL: "https://partner.example/.well-known/openid-configuration", Claims: map[string]string{"userId": "sub", "email": "email"}}
	reg.IdentityProviders["facebook"] = &tenant.IdentityProvider{Name: "facebook", Protocol: "OAuth2", DisplayName: "Facebook", Domain: "facebook.com",
		ClientID: "fb", ClientSecret: config.NewSecret("s"), AuthorizationEndpoint: "https://www.facebook.com/dialog/oauth",
		TokenEndpoint: "https://graph.facebook.com/oauth/access_token", ClaimsEndpoint: "https://graph.facebook.com/me?fields=id,name&x=1",
		TokenGET: true, Claims: map[string]string{"userId": "id", "displayName": "name"}}
	set, err := Load(reg)
	if err != nil {
		s, _ := Source(reg.Flows["b2c_1_social"], reg)
		t.Fatalf("%v\n%s", err, s.Data)
	}
	p := set.Policy("B2C_1_social")
	partner := p.Profiles["partner"]
	if partner == nil || partner.Provider.Name != ief.ProviderOIDC || partner.Keys["client_secret"] != SecretRef("partner") ||
		partner.DisplayName != "Contoso & Partner" || partner.Metadata["METADATA"] == "" {
		t.Fatalf("partner profile %+v", partner)
	}
	fb := p.Profiles["facebook"]
	if fb == nil || fb.Provider.Name != ief.ProviderOAuth2 || fb.Metadata["HttpBinding"] != "GET" || fb.Metadata["ClaimsEndpoint"] != "https://graph.facebook.com/me?fields=id,name&x=1" {
		t.Fatalf("facebook profile %+v", fb)
	}
	steps := p.Journeys[Journey].Steps
	var targets []string
	for _, s := range steps[0].Selections {
		targets = append(targets, s.TargetExchange)
	}
	if steps[0].Type != "CombinedSignInAndSignUp" || strings.Join(targets, ",") != "partner,facebook,ForgotPasswordExchange," {
		t.Errorf("first step %s %v", steps[0].Type, targets)
	}
	var ids []string
	for _, s := range steps {
		for _, x := range s.Exchanges {
			ids = append(ids, x.Profile)
		}
	}
	if got := strings.Join(ids, ","); got != "SelfAsserted-LocalAccountSignin-Email,LocalAccountSignUpWithLogonEmail,ForgotPassword,partner,facebook,"+
		"AAD-UserReadForceChangePassword,SelfAsserted-ForcePasswordChange,"+
		"AAD-UserReadUsingAlternativeSecurityId-NoError,ApiConnector-PostFederationSignup,SelfAsserted-Social" {
		t.Errorf("journey runs %s", got)
	}
	// Without local accounts: a provider selection (one provider: no page).
	only := set.Policy("B2C_1_only").Journeys[Journey].Steps[0]
	if only.Type != "ClaimsProviderSelection" || len(only.Selections) != 1 {
		t.Errorf("provider-only first step %+v", only)
	}
}
