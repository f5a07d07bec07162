package roles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

const testNS = `xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0" TenantId="contoso.onmicrosoft.com"`

// A relying party's JwtIssuer metadata become its flow's token lifetimes
// and claim pattern; objectId without a partner name asks for oid.
func TestEnginePolicyFlows(t *testing.T) {
	dir := t.TempDir()
	base := `<TrustFrameworkPolicy ` + testNS + ` PolicyId="B2C_1A_Base" PublicPolicyUri="http://x/B2C_1A_Base">
<BuildingBlocks><ClaimsSchema><ClaimType Id="objectId"><DataType>string</DataType>
<DefaultPartnerClaimTypes><Protocol Name="OpenIdConnect" PartnerClaimType="oid"/></DefaultPartnerClaimTypes></ClaimType></ClaimsSchema></BuildingBlocks>
<ClaimsProviders><ClaimsProvider><DisplayName>Issuer</DisplayName><TechnicalProfiles>
 <TechnicalProfile Id="JwtIssuer"><Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat>
  <Metadata><Item Key="token_lifetime_secs">1200</Item><Item Key="id_token_lifetime_secs">900</Item>
   <Item Key="refresh_token_lifetime_secs">86400</Item><Item Key="AuthenticationContextReferenceClaimPattern">PolicyId</Item>
   <Item Key="IssuanceClaimPattern">AuthorityWithTfp</Item></Metadata>
 </TechnicalProfile></TechnicalProfiles></ClaimsProvider></ClaimsProviders>
<UserJourneys><UserJourney Id="J"><OrchestrationSteps>
 <OrchestrationStep Order="1" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/></OrchestrationSteps></UserJourney></UserJourneys>
</TrustFrameworkPolicy>`
	rp := `<TrustFrameworkPolicy ` + testNS + ` PolicyId="B2C_1A_rp" PublicPolicyUri="http://x/B2C_1A_rp">
<BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Base</PolicyId></BasePolicy>
<RelyingParty><DefaultUserJourney ReferenceId="J"/><TechnicalProfile Id="P"><Protocol Name="OpenIdConnect"/>
 <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims></TechnicalProfile></RelyingParty>
</TrustFrameworkPolicy>`
	var paths []config.Path
	for _, f := range [][2]string{{"base.xml", base}, {"rp.xml", rp}} {
		p := filepath.Join(dir, f[0])
		if err := os.WriteFile(p, []byte(f[1]), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, config.Path{Raw: p, Abs: p})
	}
	set, _, err := enginePolicies(paths)
	if err != nil {
		t.Fatal(err)
	}
	flows := policyFlows{set}.CustomFlows()
	if len(flows) != 1 {
		t.Fatalf("%+v", flows)
	}
	f := flows[0]
	if f.PolicyID != "B2C_1A_rp" || f.AccessTokenTTL != 20*time.Minute || f.IDTokenTTL != 15*time.Minute ||
		f.RefreshTokenTTL != 24*time.Hour || f.RollingRefreshTTL != 0 || !f.ACR || !f.IssuerTfp || strings.Join(f.Claims, ",") != "objectId" {
		t.Errorf("%+v", f)
	}
	// A relying party whose base is missing (and not built in) is an error.
	if _, _, err := enginePolicies(paths[1:]); err == nil || !strings.Contains(err.Error(), "base policy B2C_1A_Base is not among the policy files") {
		t.Errorf("%v", err)
	}
}

// The starter pack verifies email addresses at sign-up: a config without
// identity.email is refused at start-up instead of failing at the first
// code.
func TestPoliciesNeedMail(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "b2c-starterpack", "LocalAccounts")
	var paths []config.Path
	for _, n := range []string{"TrustFrameworkBase.xml", "TrustFrameworkLocalization.xml", "TrustFrameworkExtensions.xml", "SignUpOrSignin.xml"} {
		p := filepath.Join(dir, n)
		paths = append(paths, config.Path{Raw: p, Abs: p})
	}
	set, _, err := enginePolicies(paths)
	if err != nil {
		t.Fatal(err)
	}
	if !policiesNeedMail(set) || policiesNeedMail(nil) {
		t.Error("the starter pack's sign-up verifies email addresses")
	}
}

// The contract's `customPolicies: [policies/TrustFrameworkExtensions.xml]`:
// an extensions file alone (over the built-in base) loads, is checked, and
// makes no flows — and, sending no codes, needs no identity.email.
func TestExtensionsFileAlone(t *testing.T) {
	p := filepath.Join("..", "..", "testdata", "b2c-starterpack", "LocalAccounts", "TrustFrameworkExtensions.xml")
	set, _, err := enginePolicies([]config.Path{{Raw: p, Abs: p}})
	if err != nil {
		t.Fatal(err)
	}
	if flows := (policyFlows{set}).CustomFlows(); len(flows) != 0 || policiesNeedMail(set) {
		t.Errorf("flows %v, needs mail %v", flows, policiesNeedMail(set))
	}
}
