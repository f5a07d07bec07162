package ief

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packDir is where the starter packs are kept, unchanged.
const packDir = "../../testdata/b2c-starterpack"

// fillPlaceholders does what B2C's guide tells a tenant to do with the
// starter pack before uploading: its tenant name, the two
// IdentityExperienceFramework app registrations' ids.
var fillPlaceholders = strings.NewReplacer(
	"yourtenant.onmicrosoft.com", "contoso.onmicrosoft.com",
	"ProxyIdentityExperienceFrameworkAppId", "9c6c3f55-6fa4-4b3b-93a2-0e7f0f2d8d11",
	"IdentityExperienceFrameworkAppId", "b7a2e3b4-51a0-4f7e-9a2c-6d1c7e8f9a22",
)

func packSources(t testing.TB, dir string) []Source {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(packDir, dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policy files in %s: %v", dir, err)
	}
	var srcs []Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, Source{Path: filepath.Base(f), Data: []byte(fillPlaceholders.Replace(string(data)))})
	}
	return srcs
}

// The local-account packs load whole; the social packs fail only on what
// issue 12 adds, each error naming the provider.
func TestStarterPacksLoad(t *testing.T) {
	for _, dir := range []string{"LocalAccounts", "Display Controls Starterpack/LocalAccounts"} {
		t.Run(dir, func(t *testing.T) {
			set, err := Load(packSources(t, dir), Options{HasKey: func(string) bool { return true }})
			if err != nil {
				t.Fatalf("%v", err)
			}
			if got := strings.Join(set.IDs(), " "); got != "B2C_1A_PasswordReset B2C_1A_ProfileEdit B2C_1A_signup_signin" {
				t.Errorf("relying parties %s", got)
			}
			p := set.Policy("b2c_1a_SIGNUP_signin")
			if want := "B2C_1A_TrustFrameworkBase B2C_1A_TrustFrameworkLocalization B2C_1A_TrustFrameworkExtensions B2C_1A_signup_signin"; strings.Join(p.Chain, " ") != want {
				t.Errorf("chain %v", p.Chain)
			}
			// The extensions file's login-NonInteractive sets client_id over
			// the base's profile of the same id; the base's items stay.
			li := p.Profiles["login-NonInteractive"]
			if li.Metadata["client_id"] != "9c6c3f55-6fa4-4b3b-93a2-0e7f0f2d8d11" || li.Metadata["response_types"] != "id_token" {
				t.Errorf("login-NonInteractive metadata not merged: %v", li.Metadata)
			}
			if li.Provider == nil || !strings.HasPrefix(li.Provider.Name, "LocalCredentials") {
				t.Errorf("login-NonInteractive provider %+v", li.Provider)
			}
			// IncludeTechnicalProfile: AAD-UserReadUsingObjectId includes
			// AAD-Common and so has its protocol handler.
			if aad := p.Profiles["AAD-UserReadUsingObjectId"]; aad.Handler != "Web.TPEngine.Providers.AzureActiveDirectoryProvider" || aad.Metadata["Operation"] != "Read" {
				t.Errorf("AAD-UserReadUsingObjectId after include: %q %v", aad.Handler, aad.Metadata)
			}
			if p.Claim("surName") == nil || p.Claim("surName") != p.Claim("surname") {
				t.Error("claim types are not found without regard to case")
			}
			j := p.Journeys[p.RP.Journey]
			if j == nil || j.Steps[len(j.Steps)-1].Type != "SendClaims" {
				t.Errorf("journey %s", p.RP.Journey)
			}
			if p.RP.Profile.SubjectNaming != "sub" || len(p.RP.Profile.OutputClaims) == 0 {
				t.Errorf("relying party profile %+v", p.RP.Profile)
			}
		})
	}
	// The social packs load: Facebook is an OAuth2 identity provider.
	for _, dir := range []string{"SocialAccounts", "SocialAndLocalAccounts",
		"Display Controls Starterpack/SocialAccounts", "Display Controls Starterpack/SocialAndLocalAccounts"} {
		t.Run(dir, func(t *testing.T) {
			set, err := Load(packSources(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			fb := set.Policy("B2C_1A_signup_signin").Profiles["Facebook-OAUTH"]
			if fb == nil || fb.Provider == nil || !fb.Provider.Federated || fb.Metadata["ClaimsEndpoint"] == "" {
				t.Errorf("Facebook-OAUTH %+v", fb)
			}
		})
	}
	// The MFA packs load: PhoneFactor is the phone MFA page.
	for _, dir := range []string{"SocialAndLocalAccountsWithMfa", "Display Controls Starterpack/SocialAndLocalAccountsWithMfa"} {
		t.Run(dir, func(t *testing.T) {
			set, err := Load(packSources(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			pf := set.Policy("B2C_1A_signup_signin").Profiles["PhoneFactor-InputOrVerify"]
			if pf == nil || pf.Provider == nil || pf.Provider.Name != ProviderPhoneFactor {
				t.Errorf("PhoneFactor-InputOrVerify %+v", pf)
			}
		})
	}
}

// Extension and relying-party files alone run on the starter pack's base
// and localization, built in, for their tenant.
func TestBuiltinBase(t *testing.T) {
	var srcs []Source
	for _, s := range packSources(t, "LocalAccounts") {
		if s.Path != "TrustFrameworkBase.xml" && s.Path != "TrustFrameworkLocalization.xml" {
			srcs = append(srcs, s)
		}
	}
	set, err := Load(srcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := set.Policy("B2C_1A_signup_signin")
	if p.Chain[0] != "B2C_1A_TrustFrameworkBase" || p.Profiles["login-NonInteractive"].Metadata["client_id"] != "9c6c3f55-6fa4-4b3b-93a2-0e7f0f2d8d11" {
		t.Errorf("chain %v", p.Chain)
	}
	if p.Profiles["JwtIssuer"].Pos.File != "builtin:TrustFrameworkBase.xml" {
		t.Errorf("JwtIssuer at %v", p.Profiles["JwtIssuer"].Pos)
	}
	// A base Gatehouse does not have is still an error.
	for i := range srcs {
		if srcs[i].Path == "TrustFrameworkExtensions.xml" {
			srcs[i].Data = []byte(strings.Replace(string(srcs[i].Data), "<PolicyId>B2C_1A_TrustFrameworkLocalization</PolicyId>", "<PolicyId>B2C_1A_Other</PolicyId>", 1))
		}
	}
	if _, err := Load(srcs, Options{}); err == nil || !strings.Contains(err.Error(), "base policy B2C_1A_Other is not among the policy files") {
		t.Errorf("%v", err)
	}
}
