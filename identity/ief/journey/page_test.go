package journey_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// submitPage answers profile's page with values.
func (f *fixture) submitPage(st *journey.State, profile string, values map[string]string) *journey.Outcome {
	f.t.Helper()
	return f.next(st, &journey.Input{Profile: profile, Values: values})
}

func fieldError(t *testing.T, p *journey.Page, claim string) string {
	t.Helper()
	fl := p.Field(claim)
	if fl == nil {
		t.Fatalf("page %s has no field %s (%v)", p.Profile, claim, fieldIDs(p))
	}
	return fl.Error
}

func TestSelfAssertedFields(t *testing.T) {
	profiles := page("P", "", `<InputClaims><InputClaim ClaimTypeReferenceId="email"/></InputClaims>
<OutputClaims>
 <OutputClaim ClaimTypeReferenceId="email" Required="true"/>
 <OutputClaim ClaimTypeReferenceId="objectId"/>
 <OutputClaim ClaimTypeReferenceId="hidden" DefaultValue="set"/>
 <OutputClaim ClaimTypeReferenceId="displayName"/>
 <OutputClaim ClaimTypeReferenceId="country"/>
</OutputClaims>`) + rest("Seed", `<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Seed"), ex(2, "P"), send(3)), "", `<OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="hidden"/><OutputClaim ClaimTypeReferenceId="country"/>`)
	f.out["Seed"] = journey.Bag{"email": str("seed@example.com")}
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "P")
	// Only claims with a UserInputType and without a DefaultValue are asked.
	if got := strings.Join(fieldIDs(p), ","); got != "email,displayName,country" {
		t.Fatalf("fields %s", got)
	}
	if fl := p.Field("email"); !fl.Required || fl.Value != "seed@example.com" {
		t.Errorf("email field %+v: required, prefilled from the input claim", fl)
	}
	if p.Field("displayName").Required {
		t.Error("displayName is not Required")
	}

	p = wantPage(t, f.submitPage(st, "P", map[string]string{"email": "  ", "country": "NO"}), "P")
	if got := fieldError(t, p, "email"); got != "This information is required." {
		t.Errorf("required: %q", got)
	}
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"email": "not an email", "country": "NO"}), "P")
	if got := fieldError(t, p, "email"); got != "Please enter a valid email address." {
		t.Errorf("pattern: %q", got)
	}
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"email": "ada@example.com", "country": "DK"}), "P")
	if got := fieldError(t, p, "country"); got != "Please select a value from the list." || fieldError(t, p, "email") != "" {
		t.Errorf("enumeration: %q, email %q", got, fieldError(t, p, "email"))
	}
	if st.Claims.String("email") != "seed@example.com" || st.Claims.Has("country") {
		t.Errorf("a refused page changes no claims: %v", st.Claims)
	}
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"email": " ada@example.com ", "country": "SE"}))
	if claims["email"] != "ada@example.com" || claims["country"] != "SE" || claims["hidden"] != "set" {
		t.Errorf("claims %v", claims)
	}
	if _, ok := claims["displayName"]; ok {
		t.Errorf("an empty optional field is not a claim: %v", claims)
	}
}

func TestDisplayClaimsOrderThePage(t *testing.T) {
	profiles := page("P", "", `<DisplayClaims>
 <DisplayClaim ClaimTypeReferenceId="readOnly"/>
 <DisplayClaim ClaimTypeReferenceId="givenName" Required="true"/>
 <DisplayClaim ClaimTypeReferenceId="email"/>
</DisplayClaims>
<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="givenName"/><OutputClaim ClaimTypeReferenceId="displayName"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", `<OutputClaim ClaimTypeReferenceId="givenName"/>`)
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "P")
	if got := strings.Join(fieldIDs(p), ","); got != "readOnly,givenName,email" {
		t.Fatalf("fields %s: DisplayClaims, in their order, and only they", got)
	}
	if !p.Field("readOnly").ReadOnly || !p.Field("givenName").Required || p.Field("email").Required {
		t.Errorf("fields %+v %+v %+v", p.Field("readOnly"), p.Field("givenName"), p.Field("email"))
	}
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"email": "a@b.c"}), "P")
	if fieldError(t, p, "givenName") != "This information is required." {
		t.Errorf("givenName: %q", fieldError(t, p, "givenName"))
	}
	// A read-only field is never taken from the form.
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"givenName": "Ada", "readOnly": "forged"}))
	if claims["givenName"] != "Ada" || st.Claims.Has("readOnly") {
		t.Errorf("claims %v, bag %v", claims, st.Claims)
	}
}

func TestPasswordsMustMatch(t *testing.T) {
	profiles := page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="newPassword" Required="true"/><OutputClaim ClaimTypeReferenceId="reenterPassword" Required="true"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", "")
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	p := wantPage(t, f.submitPage(st, "P", map[string]string{"newPassword": "Passw0rd!", "reenterPassword": "Passw0rd?"}), "P")
	if got := fieldError(t, p, "reenterPassword"); !strings.HasPrefix(got, "The password entry fields do not match.") {
		t.Errorf("mismatch: %q", got)
	}
	if p.Field("newPassword").Value != "" || p.Field("reenterPassword").Value != "" {
		t.Error("a password is echoed back")
	}
	// Passwords are taken as typed: spaces count.
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"newPassword": "Passw0rd! ", "reenterPassword": "Passw0rd!"}), "P")
	if fieldError(t, p, "reenterPassword") == "" {
		t.Error("a trailing space makes another password")
	}
	wantDone(t, st, f.submitPage(st, "P", map[string]string{"newPassword": "Passw0rd! ", "reenterPassword": "Passw0rd! "}))
	if st.Claims.String("newPassword") != "Passw0rd! " {
		t.Errorf("newPassword %q", st.Claims.String("newPassword"))
	}
}

func TestPredicateValidationOnThePage(t *testing.T) {
	profiles := page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="password" Required="true"/><OutputClaim ClaimTypeReferenceId="pin"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", "")
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	for _, c := range []struct{ pw, want string }{
		{"passw0rd", "The password must have at least 3 of the following: an uppercase letter, a symbol"},
		{"Pa", "The password must be between 8 and 64 characters. The password must have at least 3 of the following: a digit, a symbol"},
		{"PASSWORD1234", "The password must have at least 3 of the following: a lowercase letter, a symbol"},
	} {
		p := wantPage(t, f.submitPage(st, "P", map[string]string{"password": c.pw}), "P")
		if got := fieldError(t, p, "password"); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.pw, got, c.want)
		}
	}
	// A regular expression that runs out of time is the field's error,
	// not the journey's.
	p := wantPage(t, f.submitPage(st, "P", map[string]string{"password": "Passw0rd", "pin": strings.Repeat("a", 40) + "!"}), "P")
	if got := fieldError(t, p, "pin"); got != "Please enter a valid value." || fieldError(t, p, "password") != "" {
		t.Errorf("timeout: pin %q, password %q", got, fieldError(t, p, "password"))
	}
	wantDone(t, st, f.submitPage(st, "P", map[string]string{"password": "Passw0rd", "pin": "aaaa"}))
	if st.Claims.String("password") != "Passw0rd" || st.Claims.String("pin") != "aaaa" {
		t.Errorf("claims %v", st.Claims)
	}
}

// validation is a ValidationTechnicalProfile: attrs are extra attributes
// (ContinueOnError, ContinueOnSuccess), pres its preconditions.
func validation(id, attrs string, pres ...string) string {
	s := `<ValidationTechnicalProfile ReferenceId="` + id + `"` + attrs + `>`
	if len(pres) > 0 {
		s += "<Preconditions>" + strings.Join(pres, "") + "</Preconditions>"
	}
	return s + "</ValidationTechnicalProfile>"
}

func TestValidationProfiles(t *testing.T) {
	profiles := page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles>`+
		validation("V1", "")+
		validation("V2", ` ContinueOnError="true"`)+
		validation("V3", "", pre("ClaimsExist", true, "SkipThisValidationTechnicalProfile", "givenName"))+
		validation("V4", ` ContinueOnSuccess="false"`)+
		validation("V5", "")+
		`</ValidationTechnicalProfiles>`) +
		rest("V1", outObjectID) + rest("V2", "") + rest("V3", "") + rest("V4", "") + rest("V5", "")
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", "")
	f.out["V1"] = journey.Bag{"objectId": str("u1")}
	f.errs["V2"] = &journey.UserError{Code: "AADB2C90000", Message: "ignored"}
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"givenName": "Ada"}))
	// V2's error is let through, V3 is skipped (givenName exists), V4
	// succeeds and stops the list.
	callsAre(t, f.calls, "V1", "V2", "V4")
	if claims["sub"] != "u1" {
		t.Errorf("claims %v", claims)
	}

	// Without givenName, V3 runs.
	f.calls = nil
	st = f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	wantDone(t, st, f.submitPage(st, "P", nil))
	callsAre(t, f.calls, "V1", "V2", "V3", "V4")
}

func TestValidationErrorRollsBack(t *testing.T) {
	profiles := page("P", "", `<InputClaims><InputClaim ClaimTypeReferenceId="displayName"/></InputClaims>
<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/><OutputClaim ClaimTypeReferenceId="givenName"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles>`+validation("Out", "")+validation("Check", "")+`</ValidationTechnicalProfiles>`) +
		rest("Seed", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/></OutputClaims>`) +
		rest("Out", outObjectID) + rest("Check", `<InputClaims><InputClaim ClaimTypeReferenceId="objectId"/></InputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Seed"), ex(2, "P"), send(3)), "", `<OutputClaim ClaimTypeReferenceId="displayName"/>`)
	f.out["Seed"] = journey.Bag{"displayName": str("before")}
	f.out["Out"] = journey.Bag{"objectId": str("u1")}
	f.errs["Check"] = &journey.UserError{Code: "AADB2C90225", Message: "The username or password provided in the request are invalid.", Status: 400}
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	p := wantPage(t, f.submitPage(st, "P", map[string]string{"displayName": "after"}), "P")
	if p.Error != "The username or password provided in the request are invalid." || p.Status != 400 {
		t.Errorf("page error %q status %d", p.Error, p.Status)
	}
	if f.in["Check"].String("objectId") != "u1" || f.in["Check"].String("displayName") != "after" {
		t.Errorf("Check saw %v: the page's claims and the earlier validation's output", f.in["Check"])
	}
	if st.Claims.String("displayName") != "before" || st.Claims.Has("objectId") {
		t.Errorf("bag after a failed validation %v: rolled back", st.Claims)
	}
	if p.Field("displayName").Value != "after" {
		t.Errorf("the form keeps what was typed: %q", p.Field("displayName").Value)
	}

	// An error about a field is shown on it.
	f.errs["Check"] = &journey.UserError{Code: "AADB2C90000", Message: "Given name taken.", Field: "givenName"}
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"displayName": "after", "givenName": "x"}), "P")
	if p.Error != "" || fieldError(t, p, "givenName") != "Given name taken." {
		t.Errorf("page %q field %q", p.Error, fieldError(t, p, "givenName"))
	}

	// Any other error ends the journey.
	f.errs["Check"] = errBoom
	if _, err := f.engine.Next(ctxb, st, &journey.Input{Profile: "P", Values: map[string]string{"displayName": "x"}}); err != errBoom {
		t.Errorf("err %v", err)
	}

	delete(f.errs, "Check")
	st = f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"displayName": "after"}))
	if claims["name"] != "after" || claims["sub"] != "u1" {
		t.Errorf("claims %v", claims)
	}
}

func TestClaimsTransformations(t *testing.T) {
	profiles := rest("T", `<InputClaimsTransformations><InputClaimsTransformation ReferenceId="CreateMessage"/></InputClaimsTransformations>
<InputClaims><InputClaim ClaimTypeReferenceId="message"/></InputClaims>
<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/></OutputClaims>
<OutputClaimsTransformations><OutputClaimsTransformation ReferenceId="CopyEmail"/></OutputClaimsTransformations>`) +
		rest("Seed", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/><OutputClaim ClaimTypeReferenceId="flag"/></OutputClaims>`) +
		ctp("Assert", `<OutputClaimsTransformations><OutputClaimsTransformation ReferenceId="AssertFlag"/></OutputClaimsTransformations>`) +
		page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>
<ValidationTechnicalProfiles>`+validation("Assert", "")+`</ValidationTechnicalProfiles>`)
	journeys := uj("J", ex(1, "Seed"), ex(2, "T"), send(3)) +
		uj("J2", ex(1, "Seed"), ex(2, "Assert"), send(3)) +
		uj("J3", ex(1, "Seed"), ex(2, "P"), send(3))
	f := newFixture(t, profiles, journeys, "", `<OutputClaim ClaimTypeReferenceId="copy"/><OutputClaim ClaimTypeReferenceId="message"/>`)
	f.out["Seed"] = journey.Bag{"displayName": str("Ada"), "flag": {DataType: claimstx.Boolean, Value: false}}
	f.out["T"] = journey.Bag{"email": str("ada@example.com")}
	st := f.start("J", nil, nil)
	claims := wantDone(t, st, f.next(st, nil))
	if got := f.inputs["T"]["message"]; got.Value != "Hello Ada" {
		t.Errorf("the input transformation ran before the provider: %v", got)
	}
	if claims["copy"] != "ada@example.com" || claims["message"] != "Hello Ada" {
		t.Errorf("claims %v", claims)
	}

	// A failed assertion in a step ends the journey with a UserError.
	st = f.start("J2", nil, nil)
	_, err := f.engine.Next(ctxb, st, nil)
	ue, ok := err.(*journey.UserError)
	if !ok || ue.Code != "AADB2C90000" {
		t.Errorf("assertion in a step: %v", err)
	}

	// In a validation profile, it is the page's error.
	st = f.start("J3", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	p := wantPage(t, f.submitPage(st, "P", map[string]string{"givenName": "x"}), "P")
	if p.Error == "" || st.Claims.Has("givenName") {
		t.Errorf("page error %q, bag %v", p.Error, st.Claims)
	}
	f.out["Seed"] = journey.Bag{"displayName": str("Ada"), "flag": {DataType: claimstx.Boolean, Value: true}}
	st = f.start("J3", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	wantDone(t, st, f.submitPage(st, "P", map[string]string{"givenName": "x"}))
}

func TestInputClaimsDefaultsAndResolvers(t *testing.T) {
	profiles := rest("Seed", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/><OutputClaim ClaimTypeReferenceId="givenName"/><OutputClaim ClaimTypeReferenceId="message"/></OutputClaims>`) +
		rest("R", `<InputClaims>
 <InputClaim ClaimTypeReferenceId="clientId" PartnerClaimType="client_id" DefaultValue="{OIDC:ClientId}"/>
 <InputClaim ClaimTypeReferenceId="givenName" DefaultValue="unused"/>
 <InputClaim ClaimTypeReferenceId="message" DefaultValue="hi {Claim:displayName} from {OIDC:ClientId} {Unknown:x}" AlwaysUseDefaultValue="true"/>
 <InputClaim ClaimTypeReferenceId="count" DefaultValue="42"/>
</InputClaims>`) +
		rest("Req", `<InputClaims><InputClaim ClaimTypeReferenceId="objectId" Required="true"/></InputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Seed"), ex(2, "R"), send(3))+uj("J2", ex(1, "Req"), send(2)), "", "")
	f.out["Seed"] = journey.Bag{"displayName": str("Ada"), "givenName": str("Augusta"), "message": str("old")}
	st := f.start("J", map[string]string{"OIDC:ClientId": "app-1"}, nil)
	wantDone(t, st, f.next(st, nil))
	in := f.inputs["R"]
	if in["client_id"].Value != "app-1" || in["givenName"].Value != "Augusta" ||
		in["message"].Value != "hi Ada from app-1 {Unknown:x}" || in["count"].Value != int64(42) {
		t.Errorf("inputs %v", in)
	}
	if _, ok := in["clientId"]; ok {
		t.Error("an input claim goes by its PartnerClaimType")
	}
	// Input claims are the call's, not the journey's.
	if st.Claims.Has("clientId") || st.Claims.String("message") != "old" {
		t.Errorf("bag %v", st.Claims)
	}

	st = f.start("J2", nil, nil)
	_, err := f.engine.Next(ctxb, st, nil)
	if ue, ok := err.(*journey.UserError); !ok || ue.Code != "AADB2C90080" || !strings.Contains(ue.Message, "'objectId'") {
		t.Errorf("required input: %v", err)
	}
}

func TestOutputClaimsDefaults(t *testing.T) {
	profiles := rest("O", `<OutputClaims>
 <OutputClaim ClaimTypeReferenceId="displayName" DefaultValue="anonymous"/>
 <OutputClaim ClaimTypeReferenceId="givenName" DefaultValue="unused"/>
 <OutputClaim ClaimTypeReferenceId="tenantId" DefaultValue="{Claim:givenName}-t" AlwaysUseDefaultValue="true"/>
 <OutputClaim ClaimTypeReferenceId="flag" DefaultValue="true"/>
</OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "O"), send(2)), "", "")
	f.out["O"] = journey.Bag{"givenName": str("Ada"), "tenantId": str("from-api"), "copy": str("not an output claim")}
	st := f.start("J", nil, nil)
	wantDone(t, st, f.next(st, nil))
	want := map[string]any{"displayName": "anonymous", "givenName": "Ada", "tenantId": "Ada-t", "flag": true}
	for k, v := range want {
		if st.Claims[k].Value != v {
			t.Errorf("%s = %v, want %v", k, st.Claims[k].Value, v)
		}
	}
	if st.Claims.Has("copy") {
		t.Error("a value the profile does not list as an output claim is dropped")
	}
}

func TestEnabledForUserJourneys(t *testing.T) {
	profiles := rest("Never", `<EnabledForUserJourneys>Never</EnabledForUserJourneys>`) +
		rest("IfGiven1", `<InputClaims><InputClaim ClaimTypeReferenceId="givenName"/></InputClaims><EnabledForUserJourneys>OnClaimsExistence</EnabledForUserJourneys>`) +
		rest("Given", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>`) +
		rest("IfGiven2", `<InputClaims><InputClaim ClaimTypeReferenceId="givenName"/></InputClaims><EnabledForUserJourneys>OnClaimsExistence</EnabledForUserJourneys>`) +
		page("NeverPage", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/></OutputClaims><EnabledForUserJourneys>Never</EnabledForUserJourneys>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Never"), ex(2, "IfGiven1"), ex(3, "Given"), ex(4, "IfGiven2"), ex(5, "NeverPage"), send(6)), "", "")
	f.out["Given"] = journey.Bag{"givenName": str("Ada")}
	st := f.start("J", nil, nil)
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "Given", "IfGiven2")
}

func TestSendClaimsNames(t *testing.T) {
	profiles := rest("Seed", `<OutputClaims>
 <OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="displayName"/><OutputClaim ClaimTypeReferenceId="tenantId"/>
 <OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="message"/><OutputClaim ClaimTypeReferenceId="when"/>
</OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Seed"), send(2)), "", `
 <OutputClaim ClaimTypeReferenceId="displayName"/>
 <OutputClaim ClaimTypeReferenceId="tenantId"/>
 <OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="emails"/>
 <OutputClaim ClaimTypeReferenceId="message"/>
 <OutputClaim ClaimTypeReferenceId="when"/>
 <OutputClaim ClaimTypeReferenceId="givenName"/>
 <OutputClaim ClaimTypeReferenceId="clientId" DefaultValue="{OIDC:ClientId}"/>
 <OutputClaim ClaimTypeReferenceId="country" DefaultValue="NO" AlwaysUseDefaultValue="true"/>`)
	when, _ := claimstx.Parse(claimstx.DateTime, "2026-01-02T03:04:05Z")
	f.out["Seed"] = journey.Bag{"objectId": str("u1"), "displayName": str("Ada"), "tenantId": str("t1"), "email": str("a@b.c"),
		"message": str("m"), "when": when}
	st := f.start("J", map[string]string{"OIDC:ClientId": "app-1"}, nil)
	out := f.next(st, nil)
	claims := wantDone(t, st, out)
	want := map[string]any{"sub": "u1", "name": "Ada", "tid": "t1", "emails": "a@b.c", "message": "m",
		"when": when.Value.(interface{ Unix() int64 }).Unix(), "clientId": "app-1", "country": "NO"}
	if len(claims) != len(want) {
		t.Errorf("claims %v, want %v", claims, want)
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("%s = %#v, want %#v", k, claims[k], v)
		}
	}
	if out.Subject != "u1" {
		t.Errorf("subject %q", out.Subject)
	}
}

// ContinueOnError lets a validation's user error through, not a failure
// of the provider itself.
func TestContinueOnErrorIsForUserErrors(t *testing.T) {
	profiles := page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>
<ValidationTechnicalProfiles>`+validation("V", ` ContinueOnError="true"`)+`</ValidationTechnicalProfiles>`) + rest("V", "")
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", "")
	f.errs["V"] = errBoom
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "P")
	if _, err := f.engine.Next(ctxb, st, &journey.Input{Profile: "P"}); err != errBoom {
		t.Errorf("err %v", err)
	}
}

// A Paragraph shows text; it is never taken from the form. A
// CheckboxMultiSelect's value is its checked items, comma-separated, each
// from the list.
func TestParagraphAndMultiSelect(t *testing.T) {
	profiles := rest("Seed", `<OutputClaims><OutputClaim ClaimTypeReferenceId="notice"/></OutputClaims>`) +
		page("P", "", `<InputClaims><InputClaim ClaimTypeReferenceId="notice"/></InputClaims>
<OutputClaims><OutputClaim ClaimTypeReferenceId="notice"/><OutputClaim ClaimTypeReferenceId="colors"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Seed"), ex(2, "P"), send(3)), "", `<OutputClaim ClaimTypeReferenceId="notice"/><OutputClaim ClaimTypeReferenceId="colors"/>`)
	f.out["Seed"] = journey.Bag{"notice": str("Terms changed.")}
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "P")
	if p.Field("notice") == nil || p.Field("notice").Value != "Terms changed." {
		t.Fatalf("notice field %+v", p.Field("notice"))
	}
	p = wantPage(t, f.submitPage(st, "P", map[string]string{"colors": "red,green"}), "P")
	if fieldError(t, p, "colors") != "Please select a value from the list." {
		t.Errorf("colors: %q", fieldError(t, p, "colors"))
	}
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"colors": "red,blue", "notice": "forged"}))
	if claims["colors"] != "red,blue" || claims["notice"] != "Terms changed." {
		t.Errorf("claims %v", claims)
	}
}
