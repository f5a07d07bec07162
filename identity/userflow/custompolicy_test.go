package userflow

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/identity"
)

// fakeUserError is *trustframework.UserError as the pages see it.
type fakeUserError struct{ msg, desc string }

func (e *fakeUserError) Error() string            { return "trustframework: " + e.msg }
func (e *fakeUserError) UserMessage() string      { return e.msg }
func (e *fakeUserError) ErrorDescription() string { return e.desc }

// fakePolicies scripts a custom policy (the engine is tested in package
// trustframework, which imports this one).
type fakePolicies struct {
	mu       sync.Mutex
	log      []string
	reqs     []CustomRequest
	validate func(claims map[string]any) (map[string]any, error)
	journey  func(claims map[string]any) (map[string]any, error)
}

func (f *fakePolicies) ValidateSignUp(_ context.Context, req CustomRequest, claims map[string]any) (map[string]any, error) {
	f.mu.Lock()
	f.log = append(f.log, "validate")
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.validate(claims)
}

func (f *fakePolicies) AfterAuthentication(_ context.Context, req CustomRequest, claims map[string]any) (map[string]any, error) {
	f.mu.Lock()
	f.log = append(f.log, "journey")
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.journey(claims)
}

func TestCustomPolicySignUpValidationAndJourney(t *testing.T) {
	var journeyIn map[string]any
	fp := &fakePolicies{
		validate: func(c map[string]any) (map[string]any, error) {
			if c["email"] == "blocked@example.com" {
				return nil, &fakeUserError{msg: "Your email is not allowed."}
			}
			out := map[string]any{"loyaltyNumber": int64(42)}
			for k, v := range c {
				out[k] = v
			}
			out["givenName"] = "Ally"
			return out, nil
		},
		journey: func(c map[string]any) (map[string]any, error) {
			journeyIn = c
			return map[string]any{"given_name": c["givenName"], "loyaltyNumber": c["loyaltyNumber"], "profileTier": "gold"}, nil
		},
	}
	e := newEnv(t, envOpts{cp: fp})
	p := e.follow(e.begin("B2C_1A_signup_signin"), "createAccount")
	fields := map[string]string{"email": "blocked@example.com", "newPassword": goodPW, "reenterPassword": goodPW,
		"displayName": "Alice", "givenName": "Alice", "surname": "Smith"}
	r := e.submit(p, "continue", fields)
	mustContain(t, r, "Your email is not allowed.")
	mustContain(t, r, `value="blocked@example.com"`)
	mustContain(t, r, `value="Smith"`)
	if e.users() != 0 {
		t.Fatal("a user was stored although validation refused the sign-up")
	}
	fields["email"] = "alice@example.com"
	r = e.submit(r, "continue", fields)
	mustContain(t, r, "new=true")
	u, err := e.st.Users().GetByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.GivenName != "Ally" {
		t.Errorf("validation output not written: given name %q", u.GivenName)
	}
	if journeyIn["loyaltyNumber"] != int64(42) || journeyIn["newUser"] != true || journeyIn["objectId"] != u.ID {
		t.Errorf("journey claims = %v", journeyIn)
	}
	e.comp.mu.Lock()
	res := e.comp.results[len(e.comp.results)-1]
	e.comp.mu.Unlock()
	if res.Claims["profileTier"] != "gold" || res.Claims["given_name"] != "Ally" {
		t.Errorf("result claims = %v", res.Claims)
	}
	fp.mu.Lock()
	if strings.Join(fp.log, ",") != "validate,validate,journey" {
		t.Errorf("calls = %v", fp.log)
	}
	req := fp.reqs[len(fp.reqs)-1]
	fp.mu.Unlock()
	if req.Flow.Name != "B2C_1A_signup_signin" || req.Request.ClientID != "app" || req.TenantID != e.reg.TenantID || req.CorrelationID == "" {
		t.Errorf("request = %+v", req)
	}

	// Sign-in: the journey fails with a user error -> back to the app.
	fp.journey = func(map[string]any) (map[string]any, error) {
		return nil, &fakeUserError{msg: "Account blocked.", desc: "AADB2C90075: The claims exchange 'REST-GetProfile' specified in step '5' returned HTTP error response with Code 'Conflict' and Reason 'Account blocked.'."}
	}
	p = e.begin("B2C_1A_signup_signin")
	r = e.submit(p, "next", map[string]string{"signInName": "alice@example.com", "password": goodPW})
	mustContain(t, r, "FAIL server_error AADB2C90075: The claims exchange 'REST-GetProfile' specified in step '5'")
}

func TestCustomPolicySSORunsJourney(t *testing.T) {
	n := 0
	fp := &fakePolicies{
		validate: func(c map[string]any) (map[string]any, error) { return c, nil },
		journey: func(c map[string]any) (map[string]any, error) {
			n++
			return map[string]any{"run": n}, nil
		},
	}
	e := newEnv(t, envOpts{cp: fp})
	e.addUser("bob@example.com", goodPW)
	p := e.begin("B2C_1A_signup_signin")
	mustContain(t, e.submit(p, "next", map[string]string{"signInName": "bob@example.com", "password": goodPW}), "COMPLETE")
	// The provider marks the transaction SSO when the browser has a session.
	id := "sso-tx"
	_ = e.comp.SaveTransaction(context.Background(), &identity.Transaction{ID: id, Flow: "B2C_1A_signup_signin", SSO: true,
		Request: identity.AuthRequest{ClientID: "app", Prompt: "none"}})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/B2C_1A_signup_signin/authorize?tx="+id, nil)
	r := e.do(req)
	mustContain(t, r, "COMPLETE")
	e.comp.mu.Lock()
	res := e.comp.results[len(e.comp.results)-1]
	e.comp.mu.Unlock()
	if res.Claims["run"] != 2 || res.NewUser {
		t.Errorf("SSO result = %+v", res)
	}
}

func TestCustomPolicyNeedsOption(t *testing.T) {
	reg := &identity.Registry{TenantName: "contoso", PublicURL: "http://127.0.0.1", Flows: map[string]*identity.Flow{
		"b2c_1a_x": {Name: "B2C_1A_x", Type: "signUpOrSignIn", Custom: true}}}
	e := newEnv(t, envOpts{})
	if _, err := New(Options{Registry: reg, Store: e.st, Completer: e.comp}); err == nil || !strings.Contains(err.Error(), "CustomPolicies") {
		t.Fatalf("New = %v", err)
	}
}
