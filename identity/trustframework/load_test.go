package trustframework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

func loadString(t *testing.T, xml string) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Ext.xml")
	if err := os.WriteFile(p, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]config.Path{{Raw: "Ext.xml", Abs: p}})
	return err
}

const head = `<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" TenantId="t" PolicyId="B2C_1A_X">
<BasePolicy><TenantId>t</TenantId><PolicyId>B2C_1A_TrustFrameworkBase</PolicyId></BasePolicy>
`

const rest = `<ClaimsProviders><ClaimsProvider><DisplayName>REST</DisplayName><TechnicalProfiles>
<TechnicalProfile Id="REST-A">
<Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider, Web.TPEngine" />
<Metadata>
<Item Key="ServiceUrl">https://api.example.com/x</Item>
<Item Key="AuthenticationType">Basic</Item>
%s
</Metadata>
<CryptographicKeys>
<Key Id="BasicAuthenticationUsername" StorageReferenceId="B2C_1A_U" />
<Key Id="BasicAuthenticationPassword" StorageReferenceId="B2C_1A_P" />
</CryptographicKeys>
<InputClaims><InputClaim ClaimTypeReferenceId="%s" /></InputClaims>
</TechnicalProfile>
</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
`

func restXML(extra, claim string) string {
	return head + strings.Replace(strings.Replace(rest, "%s", extra, 1), "%s", claim, 1) + "</TrustFrameworkPolicy>"
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ name, xml, want string }{
		{"ok", restXML("", "email"), ""},
		{"unknown claim", restXML("", "loyaltyNumber"), `Ext.xml:15:14: technical profile REST-A: unknown claim type "loyaltyNumber"`},
		{"metadata key", restXML(`<Item Key="Timeout">5</Item>`, "email"), `Ext.xml:9:1: technical profile REST-A: not supported: Metadata key Timeout`},
		{"bad bool", restXML(`<Item Key="DebugMode">yes</Item>`, "email"), `Ext.xml:9:1: technical profile REST-A: Metadata DebugMode must be true or false`},
		{"element", head + "<BuildingBlocks>\n<ContentDefinitions/>\n</BuildingBlocks></TrustFrameworkPolicy>",
			"Ext.xml:4:1: not supported: <ContentDefinitions> in <BuildingBlocks>: Gatehouse does not implement content definitions"},
		{"attribute", head + "<BuildingBlocks><ClaimsSchema>\n<ClaimType Id=\"a\" Foo=\"1\"><DataType>string</DataType></ClaimType></ClaimsSchema></BuildingBlocks></TrustFrameworkPolicy>",
			"Ext.xml:4:1: not supported: attribute Foo on <ClaimType>"},
		{"seed placeholder", head + `<ClaimsProviders><ClaimsProvider><DisplayName>x</DisplayName><TechnicalProfiles>
<TechnicalProfile Id="LocalAccountSignUpWithLogonEmail">
      ...
</TechnicalProfile></TechnicalProfiles></ClaimsProvider></ClaimsProviders></TrustFrameworkPolicy>`,
			`Ext.xml:4:1: unexpected text "..." in <TechnicalProfile>`},
		{"protocol", head + `<ClaimsProviders><ClaimsProvider><DisplayName>x</DisplayName><TechnicalProfiles>
<TechnicalProfile Id="Facebook-OAUTH"><Protocol Name="OAuth2" /></TechnicalProfile></TechnicalProfiles></ClaimsProvider></ClaimsProviders></TrustFrameworkPolicy>`,
			`Ext.xml:4:39: not supported: technical profile Facebook-OAUTH: Protocol Name="OAuth2"`},
		{"unknown validation profile", head + `<ClaimsProviders><ClaimsProvider><DisplayName>x</DisplayName><TechnicalProfiles>
<TechnicalProfile Id="LocalAccountSignUpWithLogonEmail"><ValidationTechnicalProfiles>
<ValidationTechnicalProfile ReferenceId="REST-Nope" /></ValidationTechnicalProfiles></TechnicalProfile></TechnicalProfiles></ClaimsProvider></ClaimsProviders></TrustFrameworkPolicy>`,
			`Ext.xml:5:1: technical profile LocalAccountSignUpWithLogonEmail: unknown validation technical profile "REST-Nope"`},
		{"unknown journey profile", head + `<UserJourneys><UserJourney Id="J"><OrchestrationSteps>
<OrchestrationStep Order="1" Type="ClaimsExchange"><ClaimsExchanges><ClaimsExchange Id="x" TechnicalProfileReferenceId="REST-Nope" /></ClaimsExchanges></OrchestrationStep>
<OrchestrationStep Order="2" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer" />
</OrchestrationSteps></UserJourney></UserJourneys></TrustFrameworkPolicy>`,
			`Ext.xml:4:1: user journey J: step 1: unknown technical profile "REST-Nope"`},
		{"bearer claim not input", restXML(`<Item Key="UseClaimAsBearerToken">bearerToken</Item>`, "email"),
			`UseClaimAsBearerToken needs AuthenticationType Bearer`},
		{"resolver off", head + strings.Replace(strings.Replace(rest, "%s", "", 1), `<InputClaim ClaimTypeReferenceId="%s" />`,
			`<InputClaim ClaimTypeReferenceId="client_id" DefaultValue="{OIDC:ClientId}" />`, 1) + "</TrustFrameworkPolicy>",
			`claim resolver {OIDC:ClientId} needs Metadata IncludeClaimResolvingInClaimsHandling=true`},
		{"missing base", strings.Replace(restXML("", "email"), "B2C_1A_TrustFrameworkBase", "B2C_1A_Mine", 1),
			"base policy B2C_1A_Mine is not among customPolicies"},
		{"xml", head + "<BuildingBlocks>\n</TrustFrameworkPolicy>", "Ext.xml:4:1: not well-formed XML"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := loadString(t, c.xml)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}
