package identity

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// CustomFlow is a custom policy's relying party as a flow: its PolicyId
// (B2C_1A_...), the hosted flow its journey runs (signUpOrSignIn,
// passwordReset or profileEdit; "" when none is recognised), its output
// claim types, the attributes its sign-up/profile page collects, whether
// sign-up verifies the email address, and where it is declared.
type CustomFlow struct {
	PolicyID          string
	Type              string
	Claims            []string
	Attributes        []string
	EmailVerification bool
	// Token lifetimes of the policy's JwtIssuer (0: B2C's defaults) and
	// its AuthenticationContextReferenceClaimPattern PolicyId (the policy
	// in acr rather than tfp).
	AccessTokenTTL, IDTokenTTL, RefreshTokenTTL, RollingRefreshTTL time.Duration
	ACR                                                            bool
	Pos                                                            config.Pos
}

// CustomPolicySource is the loaded custom policies
// (*trustframework.Policies, which imports this package).
type CustomPolicySource interface {
	CustomFlows() []CustomFlow
}

// AddCustomPolicies adds the relying parties of the custom policies to
// the registry as flows (Flow.Custom), so that /{tenant}/B2C_1A_x/oauth2/
// v2.0/authorize etc. work like a user flow's endpoints. Token lifetimes
// are the defaults. A policy whose name is a user flow's, or whose journey
// is none of Gatehouse's hosted flows, is an error at the policy's
// position (all returned together as config.Errors). src may be nil.
func AddCustomPolicies(reg *Registry, src CustomPolicySource) error {
	if reg == nil {
		return fmt.Errorf("identity: AddCustomPolicies: no registry")
	}
	if src == nil {
		return nil
	}
	var errs config.Errors
	add := func(p config.Pos, format string, args ...any) {
		errs = append(errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	for _, cf := range src.CustomFlows() {
		key := strings.ToLower(cf.PolicyID)
		switch {
		case !strings.HasPrefix(key, "b2c_1a_"):
			add(cf.Pos, "custom policy %s: a relying-party policy id starts with B2C_1A_", cf.PolicyID)
			continue
		case cf.Type == "journey":
			// A policy on the engine: its journey is whatever it says.
		case cf.Type == "":
			add(cf.Pos, "custom policy %s: its user journey runs none of Gatehouse's hosted flows (it must use SelfAsserted-LocalAccountSignin-Email, LocalAccountDiscoveryUsingEmailAddress or SelfAsserted-ProfileUpdate)", cf.PolicyID)
			continue
		}
		if old := reg.Flows[key]; old != nil {
			what := "a user flow (identity.userFlows)"
			if old.Custom {
				what = "another custom policy"
			}
			add(cf.Pos, "custom policy %s: %s has the same name (names are case-insensitive)", cf.PolicyID, what)
			continue
		}
		reg.Flows[key] = &Flow{
			Name:              cf.PolicyID,
			Type:              cf.Type,
			Claims:            append([]string(nil), cf.Claims...),
			Attributes:        append([]string(nil), cf.Attributes...),
			EmailVerification: cf.EmailVerification,
			Custom:            true,
			Password:          PasswordRules{MinLength: 8, MaxLength: 64, Classes: 3},
			AccessTokenTTL:    orDuration(cf.AccessTokenTTL, DefaultAccessTokenTTL),
			IDTokenTTL:        orDuration(cf.IDTokenTTL, DefaultAccessTokenTTL),
			RefreshTokenTTL:   orDuration(cf.RefreshTokenTTL, DefaultRefreshTokenTTL),
			RollingRefreshTTL: orDuration(cf.RollingRefreshTTL, DefaultRollingRefreshTTL),
			ACR:               cf.ACR,
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
