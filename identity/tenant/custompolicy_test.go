package tenant

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

type customSource []CustomFlow

func (s customSource) CustomFlows() []CustomFlow { return s }

func TestAddCustomPolicies(t *testing.T) {
	reg := &Registry{Flows: map[string]*Flow{"b2c_1_susi": {Name: "B2C_1_susi", Type: "signUpOrSignIn"}}}
	pos := config.Pos{File: "SignUpOrSignin.xml", Line: 3, Col: 1}
	err := AddCustomPolicies(reg, customSource{{PolicyID: "B2C_1A_signup_signin",
		Claims: []string{"objectId", "newUser"}, IDTokenTTL: 900 * time.Second, ACR: true, Pos: pos}})
	if err != nil {
		t.Fatal(err)
	}
	f := reg.Flows["b2c_1a_signup_signin"]
	if f == nil || !f.Custom || f.Type != "journey" || f.Name != "B2C_1A_signup_signin" || f.AccessTokenTTL != DefaultAccessTokenTTL ||
		f.IDTokenTTL != 15*time.Minute || !f.ACR || f.RefreshTokenTTL != DefaultRefreshTokenTTL || len(f.Claims) != 2 {
		t.Fatalf("flow = %+v", f)
	}
	if err := AddCustomPolicies(reg, nil); err != nil {
		t.Fatal(err)
	}
	// A clash with a user flow (or another policy) is a positioned error.
	reg.Flows["b2c_1a_clash"] = &Flow{Name: "B2C_1A_clash", Type: "signUpOrSignIn"}
	err = AddCustomPolicies(reg, customSource{{PolicyID: "B2C_1A_CLASH", Pos: pos}, {PolicyID: "B2C_1_wrong", Pos: pos}})
	if err == nil || !strings.Contains(err.Error(), "SignUpOrSignin.xml:3:1: custom policy B2C_1A_CLASH: a user flow") ||
		!strings.Contains(err.Error(), "B2C_1_wrong: a relying-party policy id starts with B2C_1A_") {
		t.Fatalf("err = %v", err)
	}
}
