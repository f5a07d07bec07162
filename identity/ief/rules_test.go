package ief

import (
	"strings"
	"testing"
)

const ns = `xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0" TenantId="contoso.onmicrosoft.com"`

// A minimal family: a base with one claim, a self-asserted page, an issuer
// and a journey; an extension that overrides; a relying party.
const miniBase = `<TrustFrameworkPolicy ` + ns + ` PolicyId="B2C_1A_Base" PublicPolicyUri="http://x/B2C_1A_Base">
<BuildingBlocks>
 <ClaimsSchema>
  <ClaimType Id="email"><DisplayName>Email</DisplayName><DataType>string</DataType></ClaimType>
  <ClaimType Id="objectId"><DataType>string</DataType></ClaimType>
 </ClaimsSchema>
 <ClaimsTransformations>
  <ClaimsTransformation Id="CopyEmail" TransformationMethod="CopyClaim">
   <InputClaims><InputClaim ClaimTypeReferenceId="email" TransformationClaimType="inputClaim"/></InputClaims>
   <OutputClaims><OutputClaim ClaimTypeReferenceId="email" TransformationClaimType="outputClaim"/></OutputClaims>
  </ClaimsTransformation>
 </ClaimsTransformations>
</BuildingBlocks>
<ClaimsProviders>
 <ClaimsProvider><DisplayName>Pages</DisplayName><TechnicalProfiles>
  <TechnicalProfile Id="Page-Common">
   <Metadata><Item Key="setting.showCancelButton">true</Item></Metadata>
  </TechnicalProfile>
  <TechnicalProfile Id="Page">
   <DisplayName>Page</DisplayName>
   <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.SelfAssertedAttributeProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null"/>
   <Metadata><Item Key="setting.showContinueButton">true</Item></Metadata>
   <OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/></OutputClaims>
   <IncludeTechnicalProfile ReferenceId="Page-Common"/>
  </TechnicalProfile>
  <TechnicalProfile Id="JwtIssuer">
   <Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat>
  </TechnicalProfile>
 </TechnicalProfiles></ClaimsProvider>
</ClaimsProviders>
<UserJourneys>
 <UserJourney Id="J">
  <OrchestrationSteps>
   <OrchestrationStep Order="1" Type="ClaimsExchange"><ClaimsExchanges><ClaimsExchange Id="P" TechnicalProfileReferenceId="Page"/></ClaimsExchanges></OrchestrationStep>
   <OrchestrationStep Order="2" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>
  </OrchestrationSteps>
 </UserJourney>
</UserJourneys>
</TrustFrameworkPolicy>`

const miniExt = `<TrustFrameworkPolicy ` + ns + ` PolicyId="B2C_1A_Ext" PublicPolicyUri="http://x/B2C_1A_Ext">
<BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Base</PolicyId></BasePolicy>
<ClaimsProviders><ClaimsProvider><DisplayName>Mine</DisplayName><TechnicalProfiles>
 <TechnicalProfile Id="Page">
  <Metadata><Item Key="setting.showContinueButton">false</Item></Metadata>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
 </TechnicalProfile>
</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
</TrustFrameworkPolicy>`

const miniRP = `<TrustFrameworkPolicy ` + ns + ` PolicyId="B2C_1A_rp" PublicPolicyUri="http://x/B2C_1A_rp">
<BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Ext</PolicyId></BasePolicy>
<RelyingParty><DefaultUserJourney ReferenceId="J"/>
 <TechnicalProfile Id="PolicyProfile"><Protocol Name="OpenIdConnect"/>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/></OutputClaims>
  <SubjectNamingInfo ClaimType="sub"/>
 </TechnicalProfile>
</RelyingParty>
</TrustFrameworkPolicy>`

func loadMini(base, ext, rp string) (*Set, error) {
	return Load([]Source{{Path: "rp.xml", Data: []byte(rp)}, {Path: "ext.xml", Data: []byte(ext)}, {Path: "base.xml", Data: []byte(base)}}, Options{})
}

func TestInheritanceMerges(t *testing.T) {
	set, err := loadMini(miniBase, miniExt, miniRP)
	if err != nil {
		t.Fatal(err)
	}
	p := set.Policy("B2C_1A_RP")
	page := p.Profiles["Page"]
	if page.Metadata["setting.showContinueButton"] != "false" || page.Metadata["setting.showCancelButton"] != "true" {
		t.Errorf("metadata: the extension overrides by Key and the included profile's items stay: %v", page.Metadata)
	}
	if len(page.OutputClaims) != 2 || page.OutputClaims[0].ClaimType != "email" || !page.OutputClaims[0].Required || page.OutputClaims[1].ClaimType != "objectId" {
		t.Errorf("output claims: base's kept, extension's added: %+v", page.OutputClaims)
	}
	if page.Provider == nil || page.Provider.Name != "SelfAsserted" {
		t.Errorf("provider %+v", page.Provider)
	}
	if page.Pos.File != "base.xml" {
		t.Errorf("a merged profile is where it was declared first: %v", page.Pos)
	}
}

func TestRuleViolationsNameFileLineAndRule(t *testing.T) {
	cases := []struct {
		name, base, ext, rp, want string
	}{
		{"unknown claim", miniBase, strings.Replace(miniExt, `ClaimTypeReferenceId="objectId"`, `ClaimTypeReferenceId="objectID2"`, 1), miniRP,
			"ext.xml:6:17: technical profile Page: claim type objectID2 is not declared in ClaimsSchema (B2C rule"},
		{"missing base", miniBase, strings.Replace(miniExt, "<PolicyId>B2C_1A_Base", "<PolicyId>B2C_1A_Nope", 1), miniRP,
			"ext.xml:2:1: base policy B2C_1A_Nope is not among the policy files"},
		{"tenant mismatch", miniBase, strings.Replace(miniExt, "<TenantId>contoso", "<TenantId>fabrikam", 1), miniRP,
			"BasePolicy TenantId fabrikam.onmicrosoft.com is not B2C_1A_Base's tenant"},
		{"inheritance loop", strings.Replace(miniBase, `PublicPolicyUri="http://x/B2C_1A_Base">`, `PublicPolicyUri="http://x/B2C_1A_Base"><BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Ext</PolicyId></BasePolicy>`, 1), miniExt, miniRP,
			"inherits from itself"},
		{"step gap", strings.Replace(miniBase, `Order="2"`, `Order="3"`, 1), miniExt, miniRP,
			"orchestration step Order 3: steps are numbered 1, 2, 3, ... without gaps or repeats (B2C rule), expected 2"},
		{"last step", strings.Replace(miniBase, `<OrchestrationStep Order="2" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>`, "", 1), miniExt, miniRP,
			"the last orchestration step must be SendClaims (B2C rule)"},
		{"metadata typo", miniBase, strings.Replace(miniExt, "setting.showContinueButton", "settings.showContinueButton", 1), miniRP,
			"ext.xml:5:13: technical profile Page: the SelfAsserted provider has no metadata key settings.showContinueButton"},
		{"include loop", strings.Replace(miniBase, `<TechnicalProfile Id="Page-Common">`, `<TechnicalProfile Id="Page-Common"><IncludeTechnicalProfile ReferenceId="Page"/>`, 1), miniExt, miniRP,
			"includes itself through"},
		{"transformation slots", strings.Replace(miniBase, `TransformationClaimType="outputClaim"`, `TransformationClaimType="output"`, 1), miniExt, miniRP,
			"claims transformation CopyEmail: "},
		{"unknown journey", miniBase, miniExt, strings.Replace(miniRP, `ReferenceId="J"`, `ReferenceId="K"`, 1),
			"DefaultUserJourney K is not defined in UserJourneys"},
		{"subject", miniBase, miniExt, strings.Replace(miniRP, `SubjectNamingInfo ClaimType="sub"`, `SubjectNamingInfo ClaimType="oid"`, 1),
			"SubjectNamingInfo ClaimType oid is not one of the output claims' names"},
		{"bad regex", strings.Replace(miniBase, `<DisplayName>Email</DisplayName>`, `<DisplayName>Email</DisplayName><Restriction><Pattern RegularExpression="(?&lt;=a" HelpText="x"/></Restriction>`, 1), miniExt, miniRP,
			"ClaimType email: RegularExpression: "},
		{"not yet", strings.Replace(miniBase, `<Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat>`, `<Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile><TechnicalProfile Id="Mfa"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.AzureMfaProtocolProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null"/>`, 1), miniExt, miniRP,
			"technical profile Mfa: AzureMfa Operation is OneWaySMS, Verify, GetAvailableDevices, BeginVerifyOTP or VerifyOTP, not \"\""},
		{"oauth2 without endpoints", strings.Replace(miniBase, `<Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat>`, `<Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile><TechnicalProfile Id="Google"><Protocol Name="OAuth2"/>`, 1), miniExt, miniRP,
			"technical profile Google: an OAuth2 identity provider needs the authorization_endpoint metadata"},
	}
	for _, c := range cases {
		_, err := loadMini(c.base, c.ext, c.rp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %q", c.name, err, c.want)
		}
	}
}

// Files without a relying party (an extensions file listed alone, as the
// first round's configs do) load and are checked, and make no flows.
func TestNoRelyingParty(t *testing.T) {
	set, err := Load([]Source{{Path: "base.xml", Data: []byte(miniBase)}, {Path: "ext.xml", Data: []byte(miniExt)}}, Options{})
	if err != nil || len(set.Policies) != 0 {
		t.Errorf("%v %v", err, set)
	}
	bad := strings.Replace(miniExt, `ClaimTypeReferenceId="objectId"`, `ClaimTypeReferenceId="nope"`, 1)
	if _, err := Load([]Source{{Path: "base.xml", Data: []byte(miniBase)}, {Path: "ext.xml", Data: []byte(bad)}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "claim type nope is not declared") {
		t.Errorf("an extensions file's rules are not checked: %v", err)
	}
}

func TestMissingPolicyKey(t *testing.T) {
	base := strings.Replace(miniBase, `<OutputTokenFormat>JWT</OutputTokenFormat>`, `<OutputTokenFormat>JWT</OutputTokenFormat><CryptographicKeys><Key Id="issuer_secret" StorageReferenceId="B2C_1A_TokenSigningKeyContainer"/><Key Id="x" StorageReferenceId="B2C_1A_Other"/></CryptographicKeys>`, 1)
	_, err := Load([]Source{{Path: "rp.xml", Data: []byte(miniRP)}, {Path: "ext.xml", Data: []byte(miniExt)}, {Path: "base.xml", Data: []byte(base)}},
		Options{HasKey: func(string) bool { return false }})
	if err == nil || !strings.Contains(err.Error(), "policy key B2C_1A_Other does not exist") || strings.Contains(err.Error(), "TokenSigningKeyContainer") {
		t.Errorf("%v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(miniBase), []byte(miniExt), []byte(miniRP))
	f.Fuzz(func(t *testing.T, base, ext, rp []byte) {
		_, _ = Load([]Source{{Path: "rp.xml", Data: rp}, {Path: "ext.xml", Data: ext}, {Path: "base.xml", Data: base}}, Options{})
	})
}

// B2C's merge puts an inheriting policy's validation profiles first, and
// a page's claims in the inheriting policy's order when it lists them.
func TestMergeOrder(t *testing.T) {
	base := strings.Replace(miniBase, `<OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/></OutputClaims>`,
		`<OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
   <ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="JwtIssuer"/></ValidationTechnicalProfiles>`, 1)
	ext := strings.Replace(miniExt, `<OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>`,
		`<OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="email"/></OutputClaims>
  <ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Check"/></ValidationTechnicalProfiles>
 </TechnicalProfile>
 <TechnicalProfile Id="Check">
  <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.ClaimsTransformationProtocolProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null"/>`, 1)
	set, err := loadMini(base, ext, miniRP)
	if err != nil {
		t.Fatal(err)
	}
	page := set.Policy("B2C_1A_rp").Profiles["Page"]
	if len(page.Validations) != 2 || page.Validations[0].Profile != "Check" || page.Validations[1].Profile != "JwtIssuer" {
		t.Errorf("validation order %+v", page.Validations)
	}
	if len(page.OutputClaims) != 2 || page.OutputClaims[0].ClaimType != "objectId" || page.OutputClaims[1].ClaimType != "email" || !page.OutputClaims[1].Required {
		t.Errorf("output claim order %+v", page.OutputClaims)
	}
}

// An element of B2C's schema Gatehouse does not implement is refused with
// its name and place, not ignored.
func TestUnsupportedElements(t *testing.T) {
	base := strings.Replace(miniBase, `<OutputTokenFormat>JWT</OutputTokenFormat>`,
		`<OutputTokenFormat>JWT</OutputTokenFormat>
   <ErrorHandlers><ErrorHandler><ErrorResponseFormat>json</ErrorResponseFormat><ResponseMatch>x</ResponseMatch><Action>Reauthenticate</Action></ErrorHandler></ErrorHandlers>`, 1)
	_, err := loadMini(base, miniExt, miniRP)
	if err == nil || !strings.Contains(err.Error(), "base.xml:28:4: not supported: <ErrorHandlers>: Gatehouse does not implement technical profile error handlers yet") {
		t.Errorf("%v", err)
	}
}
