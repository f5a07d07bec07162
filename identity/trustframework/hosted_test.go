package trustframework

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/userflow"
)

func TestTrustHostedAdapter(t *testing.T) {
	p, srv := setup(t)
	var flows []identity.CustomFlow
	for _, cf := range p.CustomFlows() {
		if cf.PolicyID == "B2C_1A_signup_signin" {
			flows = append(flows, cf)
		}
	}
	if len(flows) != 1 || flows[0].Type != "signUpOrSignIn" || flows[0].Pos.Line == 0 ||
		!reflect.DeepEqual(flows[0].Claims, []string{"displayName", "givenName", "surname", "email", "objectId", "tenantId", "loyaltyNumber"}) {
		t.Fatalf("custom flows = %+v", flows)
	}
	if (*Policies)(nil).CustomFlows() != nil {
		t.Error("nil policies have flows")
	}
	reg := &identity.Registry{Flows: map[string]*identity.Flow{}}
	if err := identity.AddCustomPolicies(reg, p); err != nil {
		t.Fatal(err)
	}
	fl := reg.Flows["b2c_1a_signup_signin"]
	if fl == nil || !fl.Custom {
		t.Fatalf("flow = %+v", fl)
	}
	req := userflow.CustomRequest{Flow: fl, TenantID: "tenant-guid", Request: identity.AuthRequest{ClientID: "app"}}
	// Validation (REST-AcquireAccessToken, REST-GetProfile on the sign-up page).
	out, err := p.ValidateSignUp(context.Background(), req, map[string]any{"email": "e@x.com"})
	if err != nil || out["loyaltyNumber"] != int64(1234) {
		t.Fatalf("validate = %v, %v", out, err)
	}
	tc, err := p.AfterAuthentication(context.Background(), req, map[string]any{"objectId": "oid-1", "email": "e@x.com", "newUser": true})
	if err != nil {
		t.Fatal(err)
	}
	if tc["tid"] != "tenant-guid" || tc["loyaltyNumber"] != int64(1234) || tc["given_name"] != "Emily" {
		t.Errorf("token claims = %v", tc)
	}
	if gp := srv.last("/api/GetProfile"); gp.Header.Get("Authorization") != "Bearer tok-123" || !strings.Contains(gp.Body, `"newUser":true`) {
		t.Errorf("GetProfile = %+v", gp)
	}
	ue := &UserError{Message: "m", Debug: true, APICode: "E1"}
	var cue interface{ UserMessage() string }
	if !errors.As(error(ue), &cue) || cue.UserMessage() != "m (code: E1)" {
		t.Errorf("UserMessage = %q", ue.UserMessage())
	}
}

func TestTrustLoadNoFiles(t *testing.T) {
	p, err := Load(nil)
	if err != nil || p == nil {
		t.Fatalf("Load(nil) = %v, %v", p, err)
	}
	if err := p.Start(Options{}); err != nil {
		t.Fatal(err)
	}
	if len(p.CustomFlows()) != 0 {
		t.Error("flows without files")
	}
}
