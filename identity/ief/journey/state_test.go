package journey_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

func TestSSOSessionSkipsProfiles(t *testing.T) {
	profiles := rest("Login", `<OutputClaims><OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="displayName"/></OutputClaims>
<UseTechnicalProfileForSessionManagement ReferenceId="SM-AAD"/>`) +
		rest("Noop", `<UseTechnicalProfileForSessionManagement ReferenceId="SM-Noop"/>`)
	f := newFixture(t, profiles, uj("J", ex(1, "Login"), ex(2, "Noop"), send(3)), "", `<OutputClaim ClaimTypeReferenceId="fromSession"/>`)
	f.out["Login"] = journey.Bag{"objectId": str("u1"), "displayName": str("Ada")}
	st := f.start("J", nil, nil)
	claims := wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "Login", "Noop")
	if _, ok := claims["fromSession"]; ok {
		t.Errorf("no session yet: %v", claims)
	}
	ns := st.NewSession
	if ns == nil || strings.Join(ns.Profiles, ",") != "Login" {
		t.Fatalf("new session %+v: Login under SM-AAD, Noop not", ns)
	}
	// SM-AAD persists objectId only.
	if len(ns.Claims) != 1 || ns.Claims.String("objectId") != "u1" {
		t.Errorf("session claims %v", ns.Claims)
	}

	// The session, as stored and brought back.
	raw, err := json.Marshal(ns)
	if err != nil {
		t.Fatal(err)
	}
	var sso journey.Session
	if err := json.Unmarshal(raw, &sso); err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	st = f.start("J", nil, &sso)
	claims = wantDone(t, st, f.next(st, nil))
	// Login is skipped with its claims restored and the session manager's
	// output claims added; the Noop-managed profile always runs.
	callsAre(t, f.calls, "Noop")
	if claims["sub"] != "u1" || claims["fromSession"] != true || st.Claims.Has("displayName") {
		t.Errorf("claims %v, bag %v", claims, st.Claims)
	}

	// A profile under NoopSSOSessionProvider runs even when a session
	// names it.
	f.calls = nil
	st = f.start("J", nil, &journey.Session{Profiles: []string{"Login", "Noop"}, Claims: journey.Bag{"objectId": str("u1")}})
	wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "Noop")

	// A session without the profile skips nothing.
	f.calls = nil
	st = f.start("J", nil, &journey.Session{Profiles: []string{"Other"}, Claims: journey.Bag{"objectId": str("u9")}})
	claims = wantDone(t, st, f.next(st, nil))
	callsAre(t, f.calls, "Login", "Noop")
	if claims["sub"] != "u1" || !reflect.DeepEqual(st.NewSession.Profiles, []string{"Other", "Login"}) {
		t.Errorf("claims %v, new session %+v", claims, st.NewSession)
	}
}

func TestEmailVerification(t *testing.T) {
	profiles := page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="Verified.Email" Required="true"/><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", `<OutputClaim ClaimTypeReferenceId="email"/>`)
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "P")
	if fl := p.Field("email"); fl == nil || !fl.Verify || fl.Verified {
		t.Fatalf("email field %+v", fl)
	}
	act := func(action string, values map[string]string) *journey.Page {
		t.Helper()
		return wantPage(t, f.next(st, &journey.Input{Profile: "P", Action: action, Claim: "email", Values: values}), "P")
	}
	const addr = "ada@example.com"

	// Continue is refused until the address is verified.
	p = act("", map[string]string{"email": addr})
	if got := fieldError(t, p, "email"); got != "Verification is necessary. Please click Send button." {
		t.Errorf("unverified: %q", got)
	}
	// A malformed address gets no code.
	p = act("sendCode", map[string]string{"email": "nope"})
	if fieldError(t, p, "email") != "Please enter a valid email address." || len(f.codes.sent) != 0 {
		t.Errorf("bad address: %q, sent %v", fieldError(t, p, "email"), f.codes.sent)
	}
	p = act("sendCode", map[string]string{"email": addr})
	if fl := p.Field("email"); !fl.CodeSent || fl.Verified || p.Info == "" || !reflect.DeepEqual(f.codes.sent, []string{addr}) {
		t.Errorf("after send: %+v info %q sent %v", fl, p.Info, f.codes.sent)
	}
	// The address a code went to stays on the page when the form leaves
	// the read-only field out (and a resend needs no address).
	if fl := act("", map[string]string{}).Field("email"); fl.Value != addr || !fl.CodeSent {
		t.Errorf("pending address not kept: %+v", fl)
	}
	act("sendCode", map[string]string{})
	if len(f.codes.sent) != 2 || f.codes.sent[1] != addr {
		t.Errorf("resend without an address: %v", f.codes.sent)
	}
	p = act("verifyCode", map[string]string{"email": addr, "verificationCode": "000000"})
	if fl := p.Field("email"); fl.Verified || !strings.Contains(fl.Error, "does not match") || st.Verified["email"] != "" {
		t.Errorf("wrong code: %+v", fl)
	}
	p = act("verifyCode", map[string]string{"email": addr, "verificationCode": "123456"})
	if fl := p.Field("email"); !fl.Verified || fl.Error != "" || st.Verified["email"] != addr {
		t.Errorf("right code: %+v, verified %v", fl, st.Verified)
	}
	// Changing the address asks for verification again.
	p = act("changeClaim", map[string]string{"email": addr})
	if fl := p.Field("email"); fl.Verified || fl.Value != "" || st.Verified["email"] != "" {
		t.Errorf("after change: %+v %v", fl, st.Verified)
	}
	p = act("", map[string]string{"email": addr})
	if fieldError(t, p, "email") == "" {
		t.Error("continue after changeClaim without verifying again")
	}
	act("sendCode", map[string]string{"email": addr})
	act("verifyCode", map[string]string{"email": addr, "verificationCode": "123456"})
	// Another address than the verified one is refused.
	p = act("", map[string]string{"email": "eve@example.com"})
	if fieldError(t, p, "email") == "" {
		t.Error("continue with an address other than the verified one")
	}
	// An unknown action is refused.
	if p = act("explode", map[string]string{"email": addr}); p.Error != "Unknown action." {
		t.Errorf("unknown action: %q", p.Error)
	}
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"email": addr}))
	if claims["email"] != addr {
		t.Errorf("claims %v", claims)
	}
}

// every DataType, and a null.
func everyType(t *testing.T) journey.Bag {
	t.Helper()
	b := journey.Bag{"null": {DataType: claimstx.String}}
	for id, c := range map[string]struct {
		dt claimstx.DataType
		v  string
	}{
		"s": {claimstx.String, "text ✓"}, "b": {claimstx.Boolean, "true"}, "i": {claimstx.Int, "-7"}, "l": {claimstx.Long, "9007199254740993"},
		"dt": {claimstx.DateTime, "2026-12-03T12:34:56.789Z"}, "d": {claimstx.Date, "2026-12-03"},
		"sc": {claimstx.StringCollection, "one"}, "p": {claimstx.PhoneNumber, "+4712345678"},
	} {
		v, err := claimstx.Parse(c.dt, c.v)
		if err != nil {
			t.Fatal(err)
		}
		b[id] = v
	}
	b["sc"] = claimstx.Claim{DataType: claimstx.StringCollection, Value: []string{"one", "two"}}
	return b
}

func TestBagJSONRoundTrip(t *testing.T) {
	b := everyType(t)
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var got journey.Bag
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("round trip\n got %#v\nwant %#v", got, b)
	}
	if got.Has("null") || !got.Has("s") {
		t.Error("Has")
	}
	if _, ok := got["l"].Value.(int64); !ok || got["l"].Value.(int64) != 9007199254740993 {
		t.Errorf("a long loses no precision: %v", got["l"])
	}
	if tm, ok := got["dt"].Value.(time.Time); !ok || tm.Nanosecond() != 789000000 {
		t.Errorf("dateTime %v", got["dt"])
	}
	var bad journey.Bag
	if err := json.Unmarshal([]byte(`{"x":{"t":"int","v":"seven"}}`), &bad); err == nil || !strings.Contains(err.Error(), "claim x") {
		t.Errorf("bad value: %v", err)
	}
}

func TestStateJSONRoundTripMidJourney(t *testing.T) {
	profiles := rest("Fill", `<OutputClaims>
 <OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="flag"/><OutputClaim ClaimTypeReferenceId="count"/>
 <OutputClaim ClaimTypeReferenceId="big"/><OutputClaim ClaimTypeReferenceId="when"/><OutputClaim ClaimTypeReferenceId="day"/>
 <OutputClaim ClaimTypeReferenceId="groups"/><OutputClaim ClaimTypeReferenceId="phone"/>
</OutputClaims>`) + page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>`) + rest("After", "")
	f := newFixture(t, profiles, uj("J", invoke(1, "S"), ex(2, "After"), send(3)), sj("S", "Call", ex(1, "Fill"), ex(2, "P")), `
 <OutputClaim ClaimTypeReferenceId="flag"/><OutputClaim ClaimTypeReferenceId="count"/><OutputClaim ClaimTypeReferenceId="big"/>
 <OutputClaim ClaimTypeReferenceId="when"/><OutputClaim ClaimTypeReferenceId="day"/><OutputClaim ClaimTypeReferenceId="groups"/>
 <OutputClaim ClaimTypeReferenceId="phone"/><OutputClaim ClaimTypeReferenceId="givenName"/>`)
	all := everyType(t)
	f.out["Fill"] = journey.Bag{"objectId": str("u1"), "flag": all["b"], "count": all["i"], "big": all["l"], "when": all["dt"],
		"day": all["d"], "groups": all["sc"], "phone": all["p"]}
	st := f.start("J", map[string]string{"OIDC:ClientId": "app"}, nil)
	wantPage(t, f.next(st, nil), "P")

	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back journey.State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Claims, st.Claims) || !reflect.DeepEqual(back.Stack, st.Stack) || back.Page != "P" || back.Values["OIDC:ClientId"] != "app" {
		t.Fatalf("state round trip\n got %+v\nwant %+v", back, *st)
	}
	claims := wantDone(t, &back, f.next(&back, &journey.Input{Profile: "P", Values: map[string]string{"givenName": "Ada"}}))
	callsAre(t, f.calls, "Fill", "After")
	want := map[string]any{"sub": "u1", "flag": true, "count": int64(-7), "big": int64(9007199254740993),
		"when": all["dt"].Value.(time.Time).Unix(), "day": all["d"].Value.(time.Time).Unix(),
		"groups": []string{"one", "two"}, "phone": "+4712345678", "givenName": "Ada"}
	if !reflect.DeepEqual(claims, want) {
		t.Errorf("claims\n got %#v\nwant %#v", claims, want)
	}
}

const verificationControl = `<DisplayControls>
 <DisplayControl Id="emailVerificationControl" UserInterfaceControlType="VerificationControl">
  <DisplayClaims>
   <DisplayClaim ClaimTypeReferenceId="email" Required="true"/>
   <DisplayClaim ClaimTypeReferenceId="verificationCode" ControlClaimType="VerificationCode" Required="true"/>
  </DisplayClaims>
  <OutputClaims></OutputClaims>
  <Actions>
   <Action Id="SendCode"><ValidationClaimsExchange><ValidationClaimsExchangeTechnicalProfile TechnicalProfileReferenceId="Send"/></ValidationClaimsExchange></Action>
   <Action Id="VerifyCode"><ValidationClaimsExchange><ValidationClaimsExchangeTechnicalProfile TechnicalProfileReferenceId="Verify"/></ValidationClaimsExchange></Action>
  </Actions>
 </DisplayControl>
</DisplayControls>`

func TestVerificationControl(t *testing.T) {
	profiles := page("P", "", `<DisplayClaims><DisplayClaim DisplayControlReferenceId="emailVerificationControl"/><DisplayClaim ClaimTypeReferenceId="givenName"/></DisplayClaims>
<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="givenName"/></OutputClaims>`) +
		rest("Send", `<InputClaims><InputClaim ClaimTypeReferenceId="email"/></InputClaims>`) +
		rest("Verify", `<InputClaims><InputClaim ClaimTypeReferenceId="email"/><InputClaim ClaimTypeReferenceId="verificationCode"/></InputClaims>`)
	f := newFixture(t, profiles, uj("J", ex(1, "P"), send(2)), "", `<OutputClaim ClaimTypeReferenceId="email"/>`, verificationControl)
	st := f.start("J", nil, nil)
	p := wantPage(t, f.next(st, nil), "P")
	if got := strings.Join(fieldIDs(p), ","); got != "email,givenName" {
		t.Fatalf("fields %s", got)
	}
	if fl := p.Field("email"); !fl.Verify || fl.Control != "emailVerificationControl" || fl.Code != "verificationCode" || !fl.Required {
		t.Fatalf("email field %+v", fl)
	}
	act := func(action string, values map[string]string) *journey.Page {
		t.Helper()
		return wantPage(t, f.next(st, &journey.Input{Profile: "P", Action: action, Claim: "email", Values: values}), "P")
	}
	const addr = "ada@example.com"
	p = act("sendCode", map[string]string{"email": addr})
	callsAre(t, f.calls, "Send")
	if f.inputs["Send"]["email"].Value != addr || !p.Field("email").CodeSent {
		t.Errorf("send: inputs %v field %+v", f.inputs["Send"], p.Field("email"))
	}
	if st.Claims.Has("email") {
		t.Errorf("an action leaves the bag as it was: %v", st.Claims)
	}
	f.errs["Verify"] = &journey.UserError{Code: "AADB2C90126", Message: "Wrong code."}
	p = act("verifyCode", map[string]string{"email": addr, "verificationCode": "1"})
	if fl := p.Field("email"); fl.Verified || fl.Error != "Wrong code." {
		t.Errorf("wrong code: %+v", fl)
	}
	delete(f.errs, "Verify")
	p = act("verifyCode", map[string]string{"email": addr, "verificationCode": " 123456 "})
	if fl := p.Field("email"); !fl.Verified || f.in["Verify"].String("verificationCode") != "123456" {
		t.Errorf("right code: %+v, Verify saw %v", fl, f.in["Verify"])
	}
	claims := wantDone(t, st, f.submitPage(st, "P", map[string]string{"email": addr}))
	if claims["email"] != addr || f.codes.sent != nil {
		t.Errorf("claims %v (built-in codes used: %v)", claims, f.codes.sent)
	}
}

// A validation profile under a session manager that succeeded on a page
// the user did not get past is not in the new session: the page's
// failure rolls the session back with the claims.
func TestFailedPageLeavesNoSession(t *testing.T) {
	profiles := page("SignIn", `<Item Key="SignUpTarget">SignUpX</Item>`, `<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Login"/><ValidationTechnicalProfile ReferenceId="Check"/></ValidationTechnicalProfiles>`) +
		rest("Login", outObjectID+`<UseTechnicalProfileForSessionManagement ReferenceId="SM-AAD"/>`) + rest("Check", "") +
		page("SignUp", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="displayName"/><OutputClaim ClaimTypeReferenceId="objectId"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="Write"/></ValidationTechnicalProfiles>`) + rest("Write", outObjectID)
	journeys := uj("J", combined(1, "SignIn"),
		`<OrchestrationStep Order="2" Type="ClaimsExchange"><Preconditions>`+pre("ClaimsExist", true, "SkipThisOrchestrationStep", "objectId")+
			`</Preconditions><ClaimsExchanges><ClaimsExchange Id="SignUpX" TechnicalProfileReferenceId="SignUp"/></ClaimsExchanges></OrchestrationStep>`,
		send(3))
	f := newFixture(t, profiles, journeys, "", "")
	f.out["Login"] = journey.Bag{"objectId": str("blocked")}
	f.out["Write"] = journey.Bag{"objectId": str("new")}
	f.errs["Check"] = &journey.UserError{Code: "AADB2C90051", Message: "Your account is locked."}
	st := f.start("J", nil, nil)
	wantPage(t, f.next(st, nil), "SignIn")
	p := wantPage(t, f.submitPage(st, "SignIn", map[string]string{"email": "a@b.c"}), "SignIn")
	if p.Error != "Your account is locked." {
		t.Fatalf("page error %q", p.Error)
	}
	if st.NewSession != nil && len(st.NewSession.Profiles) > 0 {
		t.Errorf("new session after a refused page: %+v", st.NewSession)
	}
	wantPage(t, f.next(st, &journey.Input{Profile: "SignIn", Action: "select", Exchange: "SignUpX"}), "SignUp")
	claims := wantDone(t, st, f.submitPage(st, "SignUp", map[string]string{"displayName": "Eve"}))
	if claims["sub"] != "new" {
		t.Errorf("claims %v", claims)
	}
	if st.NewSession != nil && (len(st.NewSession.Profiles) > 0 || st.NewSession.Claims.Has("objectId")) {
		t.Errorf("the session would sign the next journey in as %q: %+v", st.NewSession.Claims.String("objectId"), st.NewSession)
	}
}

// A transaction stored before its journey left the policy ends with
// B2C's "trouble loading your current state", not a crash.
func TestStaleJourney(t *testing.T) {
	f := newFixture(t, page("P", "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="email"/></OutputClaims>`),
		uj("J", ex(1, "P"), send(2)), "", "")
	st := f.start("J", nil, nil)
	st.Stack[0].Journey = "Gone"
	_, err := f.engine.Next(context.Background(), st, nil)
	var ue *journey.UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90046" {
		t.Errorf("%v", err)
	}
}
