package journey_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// starterPack loads Microsoft's LocalAccounts pack from testdata.
func starterPack(t testing.TB) *ief.Set {
	t.Helper()
	files, _ := filepath.Glob("../../../testdata/b2c-starterpack/LocalAccounts/*.xml")
	var srcs []ief.Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, ief.Source{Path: filepath.Base(f), Data: data})
	}
	set, err := ief.Load(srcs, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// FuzzJourney drives the starter pack's journeys with arbitrary answers:
// any action, any page id, any field values, in any order. The engine must
// answer each with a page, the end, or an error — never a panic, never a
// loop — and a finished journey stays finished.
func FuzzJourney(f *testing.F) {
	set := starterPack(f)
	runner := journey.RunnerFunc(func(_ context.Context, c *journey.Call) (journey.Bag, error) {
		// A stand-in directory and password check: outputs follow the
		// inputs so every branch (found, not found, refused) is reachable.
		if v, ok := c.Inputs["password"]; ok && claimstx.FormatValue(v.Value) == "wrong" {
			return nil, &journey.UserError{Code: "AADB2C90225", Message: "Invalid username or password."}
		}
		out := journey.Bag{}
		for _, r := range c.Profile.OutputClaims {
			if r.ClaimType == "objectId" {
				out["objectId"] = claimstx.Claim{DataType: claimstx.String, Value: "00000000-0000-4000-8000-000000000001"}
			}
		}
		return out, nil
	})
	runners := map[string]journey.Runner{}
	for _, p := range ief.ProviderNames() {
		runners[p] = runner
	}
	f.Add("B2C_1A_signup_signin", []byte{0, 1, 2, 3}, "a@example.com", "Passw0rd!x")
	f.Add("B2C_1A_PasswordReset", []byte{4, 5, 0, 0, 1}, "b@example.com", "wrong")
	f.Add("B2C_1A_ProfileEdit", []byte{2, 2, 6, 7}, "", "")
	actions := []string{"", "cancel", "select", "sendCode", "verifyCode", "changeClaim", "continue", "bogus"}
	f.Fuzz(func(t *testing.T, policy string, script []byte, value, secret string) {
		p := set.Policy(policy)
		if p == nil {
			p = set.Policy("B2C_1A_signup_signin")
		}
		eng, err := journey.New(journey.Env{Policy: p, Runners: runners, Codes: acceptCodes{}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := eng.Start(p.RP.Journey, map[string]string{"OIDC:ClientId": "app"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := eng.Next(context.Background(), st, nil)
		for i := 0; i+1 < len(script) && err == nil && out.Page != nil; i += 2 {
			in := &journey.Input{Profile: out.Page.Profile, Action: actions[int(script[i])%len(actions)], Values: map[string]string{}}
			if script[i+1]%5 == 0 {
				in.Profile = value // a stale or forged page id
			}
			for _, fl := range out.Page.Fields {
				in.Values[fl.Claim.ID] = value
				if strings.Contains(strings.ToLower(fl.Claim.ID), "password") {
					in.Values[fl.Claim.ID] = secret
				}
				in.Claim = fl.Claim.ID
			}
			in.Values["verificationCode"] = secret
			if in.Action == "select" {
				in.Exchange = out.Page.SignUp
				if len(out.Page.Choices) > 0 {
					in.Exchange = out.Page.Choices[int(script[i+1])%len(out.Page.Choices)]
				}
			}
			out, err = eng.Next(context.Background(), st, in)
		}
		var ue *journey.UserError
		if err != nil && !errors.As(err, &ue) {
			t.Fatalf("not a user error: %v", err)
		}
		if err == nil && out.Page == nil && !st.Done {
			t.Fatal("the journey stopped without a page, an error or SendClaims")
		}
	})
}

// acceptCodes sends nothing and accepts the code "123456".
type acceptCodes struct{}

func (acceptCodes) Send(context.Context, *journey.State, string) error { return nil }

func (acceptCodes) Verify(_ context.Context, _ *journey.State, _ string, code string) error {
	if code != "123456" {
		return &journey.UserError{Code: "AADB2C90046", Message: "That code is incorrect."}
	}
	return nil
}
