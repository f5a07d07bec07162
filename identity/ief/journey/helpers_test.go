package journey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// The test policies: one base file with a fixed ClaimsSchema, predicates,
// claims transformations, the token issuer and the session managers; each
// test adds its technical profiles and journeys, and a relying party lists
// its output claims.

const tfNS = `xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0" TenantId="contoso.onmicrosoft.com"`

const buildingBlocks = `<BuildingBlocks>
<ClaimsSchema>
 <ClaimType Id="objectId"><DisplayName>Object ID</DisplayName><DataType>string</DataType></ClaimType>
 <ClaimType Id="email"><DisplayName>Email</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType>
  <Restriction><Pattern RegularExpression="^[a-z0-9.]+@[a-z0-9.]+$" HelpText="Please enter a valid email address."/></Restriction></ClaimType>
 <ClaimType Id="displayName"><DisplayName>Display name</DisplayName><DataType>string</DataType>
  <DefaultPartnerClaimTypes><Protocol Name="OpenIdConnect" PartnerClaimType="name"/></DefaultPartnerClaimTypes><UserInputType>TextBox</UserInputType></ClaimType>
 <ClaimType Id="givenName"><DisplayName>Given name</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType></ClaimType>
 <ClaimType Id="hidden"><DisplayName>Hidden</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType></ClaimType>
 <ClaimType Id="country"><DisplayName>Country</DisplayName><DataType>string</DataType><UserInputType>DropdownSingleSelect</UserInputType>
  <Restriction><Enumeration Text="Norway" Value="NO" SelectByDefault="false"/><Enumeration Text="Sweden" Value="SE" SelectByDefault="false"/></Restriction></ClaimType>
 <ClaimType Id="newPassword"><DisplayName>New password</DisplayName><DataType>string</DataType><UserInputType>Password</UserInputType></ClaimType>
 <ClaimType Id="reenterPassword"><DisplayName>Confirm</DisplayName><DataType>string</DataType><UserInputType>Password</UserInputType></ClaimType>
 <ClaimType Id="password"><DisplayName>Password</DisplayName><DataType>string</DataType><UserInputType>Password</UserInputType><PredicateValidationReference Id="StrongPassword"/></ClaimType>
 <ClaimType Id="pin"><DisplayName>PIN</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType><PredicateValidationReference Id="Evil"/></ClaimType>
 <ClaimType Id="readOnly"><DisplayName>Read only</DisplayName><DataType>string</DataType><UserInputType>Readonly</UserInputType></ClaimType>
 <ClaimType Id="flag"><DataType>boolean</DataType></ClaimType>
 <ClaimType Id="count"><DataType>int</DataType></ClaimType>
 <ClaimType Id="big"><DataType>long</DataType></ClaimType>
 <ClaimType Id="when"><DataType>dateTime</DataType></ClaimType>
 <ClaimType Id="day"><DataType>date</DataType></ClaimType>
 <ClaimType Id="groups"><DataType>stringCollection</DataType></ClaimType>
 <ClaimType Id="phone"><DataType>phoneNumber</DataType></ClaimType>
 <ClaimType Id="clientId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="tenantId"><DataType>string</DataType><DefaultPartnerClaimTypes><Protocol Name="OpenIdConnect" PartnerClaimType="tid"/></DefaultPartnerClaimTypes></ClaimType>
 <ClaimType Id="message"><DataType>string</DataType></ClaimType>
 <ClaimType Id="copy"><DataType>string</DataType></ClaimType>
 <ClaimType Id="fromSession"><DataType>boolean</DataType></ClaimType>
 <ClaimType Id="notice"><DisplayName>Notice</DisplayName><DataType>string</DataType><UserInputType>Paragraph</UserInputType></ClaimType>
 <ClaimType Id="colors"><DisplayName>Colors</DisplayName><DataType>string</DataType><UserInputType>CheckboxMultiSelect</UserInputType>
  <Restriction><Enumeration Text="Red" Value="red" SelectByDefault="false"/><Enumeration Text="Blue" Value="blue" SelectByDefault="false"/></Restriction></ClaimType>
 <ClaimType Id="verificationCode"><DisplayName>Code</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType></ClaimType>
</ClaimsSchema>
<Predicates>
 <Predicate Id="IsLengthBetween8And64" Method="IsLengthRange" HelpText="The password must be between 8 and 64 characters.">
  <Parameters><Parameter Id="Minimum">8</Parameter><Parameter Id="Maximum">64</Parameter></Parameters>
 </Predicate>
 <Predicate Id="Lowercase" Method="IncludesCharacters"><UserHelpText>a lowercase letter</UserHelpText>
  <Parameters><Parameter Id="CharacterSet">a-z</Parameter></Parameters></Predicate>
 <Predicate Id="Uppercase" Method="IncludesCharacters"><UserHelpText>an uppercase letter</UserHelpText>
  <Parameters><Parameter Id="CharacterSet">A-Z</Parameter></Parameters></Predicate>
 <Predicate Id="Number" Method="IncludesCharacters"><UserHelpText>a digit</UserHelpText>
  <Parameters><Parameter Id="CharacterSet">0-9</Parameter></Parameters></Predicate>
 <Predicate Id="Symbol" Method="IncludesCharacters"><UserHelpText>a symbol</UserHelpText>
  <Parameters><Parameter Id="CharacterSet">@#$%^&amp;*\-_+=[]{}|\\:',?/~"();!</Parameter></Parameters></Predicate>
 <Predicate Id="Evil" Method="MatchesRegex"><Parameters><Parameter Id="RegularExpression">^(a+)+$</Parameter></Parameters></Predicate>
</Predicates>
<PredicateValidations>
 <PredicateValidation Id="StrongPassword"><PredicateGroups>
  <PredicateGroup Id="LengthGroup"><PredicateReferences MatchAtLeast="1"><PredicateReference Id="IsLengthBetween8And64"/></PredicateReferences></PredicateGroup>
  <PredicateGroup Id="CharacterClasses"><UserHelpText>The password must have at least 3 of the following:</UserHelpText>
   <PredicateReferences MatchAtLeast="3">
    <PredicateReference Id="Lowercase"/><PredicateReference Id="Uppercase"/><PredicateReference Id="Number"/><PredicateReference Id="Symbol"/>
   </PredicateReferences></PredicateGroup>
 </PredicateGroups></PredicateValidation>
 <PredicateValidation Id="Evil"><PredicateGroups><PredicateGroup Id="EvilGroup"><PredicateReferences><PredicateReference Id="Evil"/></PredicateReferences></PredicateGroup></PredicateGroups></PredicateValidation>
</PredicateValidations>
<ClaimsTransformations>
 <ClaimsTransformation Id="CreateMessage" TransformationMethod="CreateStringClaim">
  <InputParameters><InputParameter Id="value" DataType="string" Value="Hello {Claim:displayName}"/></InputParameters>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="message" TransformationClaimType="createdClaim"/></OutputClaims>
 </ClaimsTransformation>
 <ClaimsTransformation Id="CopyEmail" TransformationMethod="CopyClaim">
  <InputClaims><InputClaim ClaimTypeReferenceId="email" TransformationClaimType="inputClaim"/></InputClaims>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="copy" TransformationClaimType="outputClaim"/></OutputClaims>
 </ClaimsTransformation>
 <ClaimsTransformation Id="AssertFlag" TransformationMethod="AssertBooleanClaimIsEqualToValue">
  <InputClaims><InputClaim ClaimTypeReferenceId="flag" TransformationClaimType="inputClaim"/></InputClaims>
  <InputParameters><InputParameter Id="valueToCompareTo" DataType="boolean" Value="true"/></InputParameters>
 </ClaimsTransformation>
</ClaimsTransformations>
<ContentDefinitions><ContentDefinition Id="api.signuporsignin"><LoadUri>~/unified.html</LoadUri></ContentDefinition></ContentDefinitions>
</BuildingBlocks>`

const handler = `, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null`

const commonProfiles = `
 <TechnicalProfile Id="JwtIssuer"><Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile>
 <TechnicalProfile Id="SM-AAD"><Protocol Name="Proprietary" Handler="Web.TPEngine.SSO.DefaultSSOSessionProvider` + handler + `"/>
  <PersistedClaims><PersistedClaim ClaimTypeReferenceId="objectId"/></PersistedClaims>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="fromSession" DefaultValue="true"/></OutputClaims></TechnicalProfile>
 <TechnicalProfile Id="SM-Noop"><Protocol Name="Proprietary" Handler="Web.TPEngine.SSO.NoopSSOSessionProvider` + handler + `"/></TechnicalProfile>`

// rest is a RESTful technical profile (the runner stands in for the API);
// inner is its elements after Metadata, in schema order.
func rest(id, inner string) string {
	return `<TechnicalProfile Id="` + id + `"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider` + handler + `"/>
  <Metadata><Item Key="ServiceUrl">https://api.example.com/` + id + `</Item><Item Key="AuthenticationType">None</Item><Item Key="AllowInsecureAuthInProduction">true</Item></Metadata>` + inner + `</TechnicalProfile>
`
}

// ctx is a ClaimsTransformation-provider profile.
func ctp(id, inner string) string {
	return `<TechnicalProfile Id="` + id + `"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.ClaimsTransformationProtocolProvider` + handler + `"/>` + inner + `</TechnicalProfile>
`
}

// page is a self-asserted profile; metadata is Item elements.
func page(id, metadata, inner string) string {
	if metadata != "" {
		metadata = "<Metadata>" + metadata + "</Metadata>"
	}
	return `<TechnicalProfile Id="` + id + `"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.SelfAssertedAttributeProvider` + handler + `"/>` +
		metadata + inner + `</TechnicalProfile>
`
}

// pre is a Precondition.
func pre(typ string, executeIf bool, action string, values ...string) string {
	s := fmt.Sprintf(`<Precondition Type="%s" ExecuteActionsIf="%v">`, typ, executeIf)
	for _, v := range values {
		s += "<Value>" + v + "</Value>"
	}
	return s + "<Action>" + action + "</Action></Precondition>"
}

// ex is a ClaimsExchange step running profile (exchange id profile+"X"),
// with optional preconditions.
func ex(order int, profile string, pres ...string) string {
	p := ""
	if len(pres) > 0 {
		p = "<Preconditions>" + strings.Join(pres, "") + "</Preconditions>"
	}
	return fmt.Sprintf(`<OrchestrationStep Order="%d" Type="ClaimsExchange">%s<ClaimsExchanges><ClaimsExchange Id="%sX" TechnicalProfileReferenceId="%s"/></ClaimsExchanges></OrchestrationStep>
`, order, p, profile, profile)
}

func send(order int) string {
	return fmt.Sprintf(`<OrchestrationStep Order="%d" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>
`, order)
}

func invoke(order int, sub string) string {
	return fmt.Sprintf(`<OrchestrationStep Order="%d" Type="InvokeSubJourney"><JourneyList><Candidate SubJourneyReferenceId="%s"/></JourneyList></OrchestrationStep>
`, order, sub)
}

func uj(id string, steps ...string) string {
	return `<UserJourney Id="` + id + `"><OrchestrationSteps>` + strings.Join(steps, "") + `</OrchestrationSteps></UserJourney>
`
}

func sj(id, typ string, steps ...string) string {
	return `<SubJourney Id="` + id + `" Type="` + typ + `"><OrchestrationSteps>` + strings.Join(steps, "") + `</OrchestrationSteps></SubJourney>
`
}

// policyXML is the base and relying-party files. rpOut is the relying
// party's output claims besides objectId as sub.
// blocks are extra BuildingBlocks elements (DisplayControls).
func policyXML(profiles, journeys, subJourneys, rpOut string, blocks ...string) (string, string) {
	if subJourneys != "" {
		subJourneys = "<SubJourneys>" + subJourneys + "</SubJourneys>"
	}
	base := `<TrustFrameworkPolicy ` + tfNS + ` PolicyId="B2C_1A_Base" PublicPolicyUri="http://x/B2C_1A_Base">
` + strings.Replace(buildingBlocks, "</BuildingBlocks>", strings.Join(blocks, "")+"</BuildingBlocks>", 1) + `
<ClaimsProviders><ClaimsProvider><DisplayName>Test</DisplayName><TechnicalProfiles>` + commonProfiles + profiles + `</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
<UserJourneys>` + journeys + `</UserJourneys>
` + subJourneys + `
</TrustFrameworkPolicy>`
	rp := `<TrustFrameworkPolicy ` + tfNS + ` PolicyId="B2C_1A_rp" PublicPolicyUri="http://x/B2C_1A_rp">
<BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Base</PolicyId></BasePolicy>
<RelyingParty><DefaultUserJourney ReferenceId="J"/>
 <TechnicalProfile Id="PolicyProfile"><Protocol Name="OpenIdConnect"/>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/>` + rpOut + `</OutputClaims>
  <SubjectNamingInfo ClaimType="sub"/>
 </TechnicalProfile>
</RelyingParty>
</TrustFrameworkPolicy>`
	return base, rp
}

func loadPolicy(t *testing.T, profiles, journeys, subJourneys, rpOut string, blocks ...string) *ief.Policy {
	t.Helper()
	base, rp := policyXML(profiles, journeys, subJourneys, rpOut, blocks...)
	set, err := ief.Load([]ief.Source{{Path: "base.xml", Data: []byte(base)}, {Path: "rp.xml", Data: []byte(rp)}}, ief.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set.Policy("B2C_1A_rp")
}

// codes is the email verification's code store: it records the
// addresses sent to and accepts one code.
type codes struct {
	sent []string
	code string
}

func (c *codes) Send(_ context.Context, _ *journey.State, address string) error {
	c.sent = append(c.sent, address)
	return nil
}

func (c *codes) Verify(_ context.Context, _ *journey.State, address, code string) error {
	if code != c.code || len(c.sent) == 0 || c.sent[len(c.sent)-1] != address {
		return &journey.UserError{Code: "AADB2C90126", Message: "The verification code you have entered does not match our records."}
	}
	return nil
}

// fixture is an engine over a test policy whose runners record each call
// and answer from out/errs by technical profile id.
type fixture struct {
	t      *testing.T
	policy *ief.Policy
	engine *journey.Engine
	codes  *codes
	calls  []string
	out    map[string]journey.Bag
	errs   map[string]error
	inputs map[string]map[string]claimstx.Claim // by profile: Call.Inputs
	in     map[string]journey.Bag               // by profile: Call.In
}

func newFixture(t *testing.T, profiles, journeys, subJourneys, rpOut string, blocks ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, policy: loadPolicy(t, profiles, journeys, subJourneys, rpOut, blocks...), codes: &codes{code: "123456"},
		out: map[string]journey.Bag{}, errs: map[string]error{}, inputs: map[string]map[string]claimstx.Claim{}, in: map[string]journey.Bag{}}
	run := journey.RunnerFunc(func(_ context.Context, c *journey.Call) (journey.Bag, error) {
		f.calls = append(f.calls, c.Profile.ID)
		f.inputs[c.Profile.ID] = c.Inputs
		f.in[c.Profile.ID] = c.In
		if err := f.errs[c.Profile.ID]; err != nil {
			return nil, err
		}
		return f.out[c.Profile.ID], nil
	})
	e, err := journey.New(journey.Env{Policy: f.policy, Codes: f.codes,
		Runners: map[string]journey.Runner{"RESTful": run, "ClaimsTransformation": run, "None": run}})
	if err != nil {
		t.Fatal(err)
	}
	f.engine = e
	return f
}

func (f *fixture) start(journeyID string, values map[string]string, sso *journey.Session) *journey.State {
	f.t.Helper()
	st, err := f.engine.Start(journeyID, values, sso)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// next runs the journey and fails the test on an error.
func (f *fixture) next(st *journey.State, in *journey.Input) *journey.Outcome {
	f.t.Helper()
	out, err := f.engine.Next(context.Background(), st, in)
	if err != nil {
		f.t.Fatalf("next: %v", err)
	}
	return out
}

// wantPage checks the outcome is the profile's page.
func wantPage(t *testing.T, out *journey.Outcome, profile string) *journey.Page {
	t.Helper()
	if out == nil || out.Page == nil {
		t.Fatalf("want page %s, got %+v", profile, out)
	}
	if out.Page.Profile != profile {
		t.Fatalf("want page %s, got page %s", profile, out.Page.Profile)
	}
	return out.Page
}

// wantDone checks the journey reached SendClaims.
func wantDone(t *testing.T, st *journey.State, out *journey.Outcome) map[string]any {
	t.Helper()
	if out == nil || out.Page != nil || !st.Done {
		t.Fatalf("want SendClaims, got %+v (done %v)", out, st.Done)
	}
	return out.Claims
}

func str(v string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: v} }

func fieldIDs(p *journey.Page) []string {
	var ids []string
	for _, f := range p.Fields {
		ids = append(ids, f.Claim.ID)
	}
	return ids
}

func callsAre(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls %v, want %v", got, want)
	}
}

var ctxb = context.Background()

var errBoom = errors.New("boom")
