package journey_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

const outObjectID = `<OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>`

func TestStepOrderAndPreconditions(t *testing.T) {
	profiles := rest("A", `<OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="flag"/></OutputClaims>`) +
		rest("B", "") + rest("C", "") + rest("D", "") + rest("E", "") + rest("F", "") + rest("G", "")
	journeys := uj("J",
		ex(1, "A"),
		ex(2, "B", pre("ClaimsExist", true, "SkipThisOrchestrationStep", "objectId")),        // objectId exists: skipped
		ex(3, "C", pre("ClaimsExist", false, "SkipThisOrchestrationStep", "givenName")),      // givenName absent: skipped
		ex(4, "D", pre("ClaimEquals", true, "SkipThisOrchestrationStep", "flag", "True")),    // flag is false: runs
		ex(5, "E", pre("ClaimEquals", true, "SkipThisOrchestrationStep", "objectId", "u1")),  // equal: skipped
		ex(6, "F", pre("ClaimEquals", false, "SkipThisOrchestrationStep", "objectId", "u2")), // not equal: skipped
		ex(7, "G", pre("ClaimsExist", false, "SkipThisOrchestrationStep", "objectId")),       // exists: runs
		send(8))
	f := newFixture(t, profiles, journeys, "", "")
	f.out["A"] = journey.Bag{"objectId": str("u1"), "flag": {DataType: "boolean", Value: false}}
	st := f.start("J", nil, nil)
	claims := wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "A", "D", "G")
	if claims["sub"] != "u1" {
		t.Errorf("claims %v", claims)
	}
}

func TestSubJourneyCallReturnsAndTransferDoesNot(t *testing.T) {
	profiles := rest("A", "") + rest("B", "") + rest("C", "") + rest("D", "")
	journeys := uj("J", ex(1, "A"), invoke(2, "Called"), ex(3, "C"), send(4)) +
		uj("J2", ex(1, "A"), invoke(2, "Moved"), ex(3, "C"), send(4))
	subs := sj("Called", "Call", ex(1, "B")) + sj("Moved", "Transfer", ex(1, "D"), send(2))
	f := newFixture(t, profiles, journeys, subs, "")
	st := f.start("J", nil, nil)
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "A", "B", "C")
	if len(st.Stack) != 1 || st.Stack[0].Journey != "J" {
		t.Errorf("stack %+v: the called sub journey returned", st.Stack)
	}

	f.calls = nil
	st = f.start("J2", nil, nil)
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "A", "D")
	if len(st.Stack) != 1 || st.Stack[0].Journey != "Moved" || !st.Stack[0].Sub {
		t.Errorf("stack %+v: a transfer replaces the caller", st.Stack)
	}
}

func selection(order int, targets ...string) string {
	s := `<OrchestrationStep Order="` + itoa(order) + `" Type="ClaimsProviderSelection"><ClaimsProviderSelections>`
	for _, x := range targets {
		s += `<ClaimsProviderSelection TargetClaimsExchangeId="` + x + `"/>`
	}
	return s + "</ClaimsProviderSelections></OrchestrationStep>\n"
}

func exchanges(order int, profiles ...string) string {
	s := `<OrchestrationStep Order="` + itoa(order) + `" Type="ClaimsExchange"><ClaimsExchanges>`
	for _, p := range profiles {
		s += `<ClaimsExchange Id="` + p + `X" TechnicalProfileReferenceId="` + p + `"/>`
	}
	return s + "</ClaimsExchanges></OrchestrationStep>\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestClaimsProviderSelection(t *testing.T) {
	profiles := rest("A", "") + rest("B", "")
	journeys := uj("J", selection(1, "AX"), exchanges(2, "A", "B"), send(3)) +
		uj("J2", selection(1, "AX", "BX"), exchanges(2, "A", "B"), send(3))
	f := newFixture(t, profiles, journeys, "", "")

	// One choice is taken without asking.
	st := f.start("J", nil, nil)
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "A")

	// Two: a page with both, then the one picked runs (and only it).
	f.calls = nil
	st = f.start("J2", nil, nil)
	p := wantPage(t, f.next(st, nil), "selection")
	if p.Kind != "selection" || strings.Join(p.Choices, ",") != "AX,BX" {
		t.Errorf("selection page %+v", p)
	}
	// An exchange that is not among the choices shows the page again.
	wantPage(t, f.next(st, &journey.Input{Profile: "selection", Action: "select"}), "selection")
	wantPage(t, f.next(st, &journey.Input{Profile: "selection", Action: "select", Exchange: "CX"}), "selection")
	callsAre(t, f.calls)
	wantDone(t, st, f.next(st, &journey.Input{Profile: "selection", Action: "select", Exchange: "BX"}))
	callsAre(t, f.calls, "B")
}

func combined(order int, profile string) string {
	return `<OrchestrationStep Order="` + itoa(order) + `" Type="CombinedSignInAndSignUp" ContentDefinitionReferenceId="api.signuporsignin">
<ClaimsProviderSelections><ClaimsProviderSelection ValidationClaimsExchangeId="` + profile + `X"/></ClaimsProviderSelections>
<ClaimsExchanges><ClaimsExchange Id="` + profile + `X" TechnicalProfileReferenceId="` + profile + `"/></ClaimsExchanges></OrchestrationStep>
`
}

func TestCombinedSignInAndSignUp(t *testing.T) {
	profiles := page("SignIn", `<Item Key="SignUpTarget">SignUpX</Item>`,
		`<OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/><OutputClaim ClaimTypeReferenceId="password" Required="true"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Login"/></ValidationTechnicalProfiles>`) +
		rest("Login", `<InputClaims><InputClaim ClaimTypeReferenceId="email"/></InputClaims>`+outObjectID) +
		page("SignUp", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName" Required="true"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Write"/></ValidationTechnicalProfiles>`) +
		rest("Write", outObjectID)
	journeys := uj("J", combined(1, "SignIn"),
		`<OrchestrationStep Order="2" Type="ClaimsExchange"><Preconditions>`+pre("ClaimsExist", true, "SkipThisOrchestrationStep", "objectId")+
			`</Preconditions><ClaimsExchanges><ClaimsExchange Id="SignUpX" TechnicalProfileReferenceId="SignUp"/></ClaimsExchanges></OrchestrationStep>`,
		send(3))
	f := newFixture(t, profiles, journeys, "", "")
	f.out["Login"] = journey.Bag{"objectId": str("u-in")}
	f.out["Write"] = journey.Bag{"objectId": str("u-new")}

	// Sign-up link.
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "SignIn")
	if p.Kind != "unified" || p.SignUp != "SignUpX" || strings.Join(fieldIDs(p), ",") != "email,password" {
		t.Errorf("unified page %+v fields %v", p, fieldIDs(p))
	}
	// The step's selection has no TargetClaimsExchangeId: an empty
	// exchange selects nothing.
	wantPage(t, f.next(st, &journey.Input{Profile: "SignIn", Action: "select", Exchange: ""}), "SignIn")
	p = wantPage(t, f.next(st, &journey.Input{Profile: "SignIn", Action: "select", Exchange: "SignUpX"}), "SignUp")
	if p.Kind != "selfasserted" || strings.Join(fieldIDs(p), ",") != "displayName" {
		t.Errorf("sign-up page %+v", p)
	}
	claims := wantDone(t, st, f.next(st, &journey.Input{Profile: "SignUp", Values: map[string]string{"displayName": "Ada"}}))
	callsAre(t, f.calls, "Write")
	if claims["sub"] != "u-new" {
		t.Errorf("claims %v", claims)
	}

	// Sign-in: the validation profile finds the account; sign-up is skipped.
	f.calls = nil
	st = f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "SignIn")
	claims = wantDone(t, st, f.next(st, &journey.Input{Profile: "SignIn", Values: map[string]string{"email": "ada@example.com", "password": "Passw0rd!"}}))
	callsAre(t, f.calls, "Login")
	if claims["sub"] != "u-in" || f.in["Login"].String("email") != "ada@example.com" {
		t.Errorf("claims %v, Login saw %v", claims, f.in["Login"])
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>`), uj("J", ex(1, "P"), send(2)), "", "")
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	// A stale form (another profile's) shows the page again.
	wantPage(t, f.next(st, &journey.Input{Profile: "Other", Action: "cancel"}), "P")
	_, err := f.engine.Next(context.Background(), st, &journey.Input{Profile: "P", Action: "cancel"})
	if !errors.Is(err, journey.ErrCancelled) {
		t.Errorf("cancel: %v", err)
	}
	var ue *journey.UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90091" {
		t.Errorf("cancel: %v", err)
	}
}

func TestLoopGuard(t *testing.T) {
	f := newFixture(t, rest("A", ""), uj("J", invoke(1, "Loop"), send(2)), sj("Loop", "Call", invoke(1, "Loop")), "")
	st := f.start("J", nil, nil)
	_, err := f.engine.Next(context.Background(), st, nil)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 steps") {
		t.Errorf("loop: %v", err)
	}
	if len(st.Stack) > 1010 {
		t.Errorf("the guard stopped after %d frames", len(st.Stack))
	}
}

func TestNewNeedsARunnerForEveryUsedProvider(t *testing.T) {
	p := loadPolicy(t, rest("A", "")+ctp("Unused", ""), uj("J", ex(1, "A"), send(2)), "", "")
	_, err := journey.New(journey.Env{Policy: p, Runners: map[string]journey.Runner{"ClaimsTransformation": journey.RunnerFunc(nil)}})
	if err == nil || !strings.Contains(err.Error(), "no runner for the RESTful provider (technical profile A)") {
		t.Errorf("New: %v", err)
	}
	// A provider no journey uses needs none (nor do the issuer and the
	// session managers).
	if _, err := journey.New(journey.Env{Policy: p, Runners: map[string]journey.Runner{"RESTful": journey.RunnerFunc(nil)}}); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestStartUnknownJourney(t *testing.T) {
	f := newFixture(t, rest("A", ""), uj("J", ex(1, "A"), send(2)), "", "")
	if _, err := f.engine.Start("Nope", nil, nil); err == nil || !strings.Contains(err.Error(), "Nope is not a user journey") {
		t.Errorf("start: %v", err)
	}
}

// A "select" answer names an exchange the page offers; an empty or
// unknown one does not skip the page (a profile without a sign-up link
// has SignUpTarget "").
func TestSelectCannotSkipAPage(t *testing.T) {
	f := newFixture(t, page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName" Required="true"/></OutputClaims>`), uj("J", ex(1, "P"), send(2)), "", "")
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	for _, x := range []string{"", "PX", "Elsewhere"} {
		p := wantPage(t, f.next(st, &journey.Input{Profile: "P", Action: "select", Exchange: x}), "P")
		if st.Done || st.Claims.Has("givenName") || p.Error == "" && fieldError(t, p, "givenName") == "" {
			t.Errorf("select %q: page %+v, done %v", x, p, st.Done)
		}
	}
	wantDone(t, st, f.submitPage(st, "P", map[string]string{"givenName": "Ada"}))
}

// Env.Resolve answers claim resolvers before State.Values; {Claim:x}
// is always the bag's.
func TestEnvResolve(t *testing.T) {
	p := loadPolicy(t, rest("R", `<InputClaims>
 <InputClaim ClaimTypeReferenceId="clientId" DefaultValue="{OIDC:ClientId}"/>
 <InputClaim ClaimTypeReferenceId="message" DefaultValue="{Culture:LanguageName}/{Claim:objectId}"/>
</InputClaims>`), uj("J", ex(1, "R"), send(2)), "", "")
	var got map[string]string
	var asked []string
	e, err := journey.New(journey.Env{Policy: p,
		Runners: map[string]journey.Runner{"RESTful": journey.RunnerFunc(func(_ context.Context, c *journey.Call) (journey.Bag, error) {
			got = map[string]string{"clientId": c.In.String("clientId"), "message": c.In.String("message")}
			return nil, nil
		})},
		Resolve: func(_ *journey.State, name string) (string, bool) {
			asked = append(asked, name)
			if name == "OIDC:ClientId" {
				return "from-env", true
			}
			return "", false
		}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.Start("J", map[string]string{"OIDC:ClientId": "from-values", "Culture:LanguageName": "nb"}, nil)
	if _, err := e.Next(ctxb, st, nil); err != nil {
		t.Fatal(err)
	}
	if got["clientId"] != "from-env" || got["message"] != "nb/" || strings.Join(asked, ",") != "OIDC:ClientId,Culture:LanguageName" {
		t.Errorf("got %v, asked %v", got, asked)
	}
}

// A ClaimsExchange step with several exchanges runs the one a selection
// chose; with none chosen it runs nothing.
func TestSeveralExchangesWithoutASelection(t *testing.T) {
	f := newFixture(t, rest("A", "")+rest("B", ""), uj("J", exchanges(1, "A", "B"), send(2)), "", "")
	st := f.start("J", nil, nil)
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls)
}

// GetClaims puts the relying party's InputClaims in the bag: here the
// app's own authorize parameter through {OAUTH-KV:name}.
func TestGetClaimsStep(t *testing.T) {
	base, rp := policyXML("", uj("J", `<OrchestrationStep Order="1" Type="GetClaims"/>`, send(2)), "", `<OutputClaim ClaimTypeReferenceId="email"/>`)
	rp = strings.Replace(rp, `<Protocol Name="OpenIdConnect"/>`, `<Protocol Name="OpenIdConnect"/>
  <InputClaims><InputClaim ClaimTypeReferenceId="email" DefaultValue="{OAUTH-KV:login}"/></InputClaims>`, 1)
	set, err := ief.Load([]ief.Source{{Path: "base.xml", Data: []byte(base)}, {Path: "rp.xml", Data: []byte(rp)}}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := journey.New(journey.Env{Policy: set.Policy("B2C_1A_rp")})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := eng.Start("J", map[string]string{"OAUTH-KV:login": "ada@example.com"}, nil)
	out, err := eng.Next(context.Background(), st, nil)
	if err != nil || !st.Done || out.Claims["email"] != "ada@example.com" {
		t.Errorf("%v %+v", err, out)
	}
}

// A step with several exchanges keeps running the chosen one while its
// page is answered again (a validation error, a resubmission), and the
// forgot-password link's exchange (setting.forgotPasswordLinkOverride) is
// the link's, not a provider button.
func TestChosenExchangePageResubmitted(t *testing.T) {
	profiles := page("SignIn", `<Item Key="SignUpTarget">SignUpX</Item><Item Key="setting.forgotPasswordLinkOverride">ForgotX</Item>`,
		`<OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>`) +
		page("SignUp", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName" Required="true"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Write"/></ValidationTechnicalProfiles>`) +
		page("Forgot", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName" Required="true"/></OutputClaims>`) +
		rest("Write", outObjectID)
	journeys := uj("J", `<OrchestrationStep Order="1" Type="CombinedSignInAndSignUp" ContentDefinitionReferenceId="api.signuporsignin">
<ClaimsProviderSelections><ClaimsProviderSelection TargetClaimsExchangeId="ForgotX"/><ClaimsProviderSelection ValidationClaimsExchangeId="SignInX"/></ClaimsProviderSelections>
<ClaimsExchanges><ClaimsExchange Id="SignInX" TechnicalProfileReferenceId="SignIn"/></ClaimsExchanges></OrchestrationStep>
<OrchestrationStep Order="2" Type="ClaimsExchange"><ClaimsExchanges>
<ClaimsExchange Id="SignUpX" TechnicalProfileReferenceId="SignUp"/><ClaimsExchange Id="ForgotX" TechnicalProfileReferenceId="Forgot"/></ClaimsExchanges></OrchestrationStep>
`, send(3))
	f := newFixture(t, profiles, journeys, "", "")
	f.out["Write"] = journey.Bag{"objectId": str("u-new")}
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "SignIn")
	if p.ForgotPassword != "ForgotX" || len(p.Choices) != 0 {
		t.Errorf("forgot-password link %q, buttons %v", p.ForgotPassword, p.Choices)
	}
	wantPage(t, f.next(st, &journey.Input{Profile: "SignIn", Action: "select", Exchange: "SignUpX"}), "SignUp")
	// A missing field: the sign-up page again, not the next step.
	wantPage(t, f.next(st, &journey.Input{Profile: "SignUp", Values: map[string]string{}}), "SignUp")
	claims := wantDone(t, st, f.next(st, &journey.Input{Profile: "SignUp", Values: map[string]string{"displayName": "Ada"}}))
	if claims["sub"] != "u-new" {
		t.Errorf("claims %v", claims)
	}
	// The link's exchange runs the other profile of step 2.
	st = f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "SignIn")
	wantPage(t, f.next(st, &journey.Input{Profile: "SignIn", Action: "select", Exchange: "ForgotX"}), "Forgot")
	wantPage(t, f.next(st, &journey.Input{Profile: "Forgot", Values: map[string]string{}}), "Forgot")
}
