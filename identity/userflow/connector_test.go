package userflow

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/identity/tenant"
)

// fakeConnectors scripts API connector answers (the real HTTP client is
// tested in package connector, which imports this one).
type fakeConnectors struct {
	mu     sync.Mutex
	calls  []fakeCall
	answer func(step string, claims map[string]any) (Outcome, error)
}

type fakeCall struct {
	step, name string
	claims     map[string]any
}

func (f *fakeConnectors) Call(_ context.Context, step string, flow *tenant.Flow, claims map[string]any) (Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{step, tenant.ConnectorName(flow, step), claims})
	f.mu.Unlock()
	return f.answer(step, claims)
}

func (f *fakeConnectors) steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, c := range f.calls {
		s = append(s, c.step+"="+c.name)
	}
	return s
}

func TestConnectorValidationErrorThenContinue(t *testing.T) {
	fc := &fakeConnectors{answer: func(step string, c map[string]any) (Outcome, error) {
		if step == tenant.StepPreTokenIssuance {
			return Outcome{Action: Continue, Claims: map[string]any{"extension_role": "member"}}, nil
		}
		if c["postalCode"] != "12349" {
			return Outcome{Action: ValidationError, Message: "Please enter a valid Postal Code."}, nil
		}
		return Outcome{Action: Continue, Claims: map[string]any{"displayName": "Alice (verified)", "email": "evil@example.com"}}, nil
	}}
	e := newEnv(t, envOpts{conn: fc})
	p := e.follow(e.begin("B2C_1_api"), "createAccount")
	fields := map[string]string{"email": "alice@example.com", "newPassword": goodPW, "reenterPassword": goodPW,
		"displayName": "Alice", "postalCode": "99999"}
	r := e.submit(p, "continue", fields)
	mustContain(t, r, "Please enter a valid Postal Code.")
	// The user's input is kept so they can fix it.
	mustContain(t, r, `value="alice@example.com"`)
	mustContain(t, r, `value="Alice"`)
	mustContain(t, r, `value="99999"`)
	if e.users() != 0 {
		t.Fatal("a user was created despite the ValidationError")
	}
	fc.mu.Lock()
	first := fc.calls[0].claims
	fc.mu.Unlock()
	if first["email"] != "alice@example.com" || first["displayName"] != "Alice" || first["client_id"] != "app" || first["objectId"] != nil {
		t.Fatalf("claims sent: %v", first)
	}
	// Fix and resubmit from the re-rendered page.
	fields["postalCode"] = "12349"
	r = e.submit(r, "continue", fields)
	mustContain(t, r, "new=true")
	u, err := e.st.Users().GetByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Alice (verified)" || u.Attributes["postalCode"] != "12349" || u.Email != "alice@example.com" {
		t.Fatalf("user: %+v", u)
	}
	if got := strings.Join(fc.steps(), ","); got != "PostAttributeCollection=validate,PostAttributeCollection=validate,PreTokenIssuance=enrich" {
		t.Fatalf("calls: %s", got)
	}
	if res := e.comp.results; len(res) != 1 || res[0].Claims["extension_role"] != "member" {
		t.Fatalf("token claims: %+v", res)
	}
}

func TestConnectorFailureAndBlock(t *testing.T) {
	var mode string
	fc := &fakeConnectors{answer: func(step string, _ map[string]any) (Outcome, error) {
		switch {
		case mode == "fail" && step == tenant.StepPostAttributeCollection:
			return Outcome{}, errors.New(`api connector "validate": timeout after 2 attempts`)
		case mode == "block" && step == tenant.StepPostAttributeCollection:
			return Outcome{Action: ShowBlockPage, Message: "Sign-ups from this domain are closed."}, nil
		case mode == "tokenfail" && step == tenant.StepPreTokenIssuance:
			return Outcome{}, errors.New("bad answer")
		}
		return Outcome{Action: Continue}, nil
	}}
	e := newEnv(t, envOpts{conn: fc})
	signUp := func(email string) resp {
		p := e.follow(e.begin("B2C_1_api"), "createAccount")
		return e.submit(p, "continue", map[string]string{"email": email, "newPassword": goodPW, "reenterPassword": goodPW,
			"displayName": "Bob", "postalCode": "1"})
	}
	mode = "fail"
	r := signUp("bob@example.com")
	if r.status != http.StatusBadGateway {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r, "There was a problem with your request. Please try again later.")
	if strings.Contains(r.body, "timeout") || e.users() != 0 {
		t.Fatal("failure leaked details or created a user")
	}
	mode = "block"
	r = signUp("bob@example.com")
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r, "Sign-ups from this domain are closed.")
	if e.users() != 0 {
		t.Fatal("user created after ShowBlockPage")
	}
	// The token step fails after sign-in: no SSO session is started.
	e.addUser("carol@example.com", goodPW)
	mode = "tokenfail"
	r = e.submit(e.begin("B2C_1_api"), "next", map[string]string{"signInName": "carol@example.com", "password": goodPW})
	mustContain(t, r, "There was a problem with your request.")
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "x-ms-cpim-sso_") {
			t.Fatalf("session started despite the failing token connector: %s", c)
		}
	}
	if len(e.comp.results) != 0 {
		t.Fatal("flow completed")
	}
}
