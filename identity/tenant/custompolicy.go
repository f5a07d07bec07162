package tenant

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// CustomFlow is a custom policy's relying party as a flow, run by the
// policy engine: its PolicyId (B2C_1A_...), the claims the token issuer
// adds itself (objectId as oid, newUser) when the relying party lists
// them, and where it is declared.
type CustomFlow struct {
	PolicyID string
	Claims   []string
	// Token lifetimes of the policy's JwtIssuer (0: B2C's defaults) and
	// its AuthenticationContextReferenceClaimPattern PolicyId (the policy
	// in acr rather than tfp).
	AccessTokenTTL, IDTokenTTL, RefreshTokenTTL, RollingRefreshTTL time.Duration
	ACR, IssuerTfp                                                 bool
	Pos                                                            config.Pos
}

// CustomPolicySource is the loaded custom policies (the policy engine's
// relying parties).
type CustomPolicySource interface {
	CustomFlows() []CustomFlow
}

// AddCustomPolicies adds the relying parties of the custom policies to
// the registry as flows (Flow.Custom), so that /{tenant}/B2C_1A_x/oauth2/
// v2.0/authorize etc. work like a user flow's endpoints; the hosted pages
// run the policy's journey (Flow.Type "journey"). A policy whose name is a
// user flow's is an error at the policy's position (all returned together
// as config.Errors). src may be nil.
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
			Type:              "journey",
			Claims:            append([]string(nil), cf.Claims...),
			Custom:            true,
			AccessTokenTTL:    orDuration(cf.AccessTokenTTL, DefaultAccessTokenTTL),
			IDTokenTTL:        orDuration(cf.IDTokenTTL, DefaultAccessTokenTTL),
			RefreshTokenTTL:   orDuration(cf.RefreshTokenTTL, DefaultRefreshTokenTTL),
			RollingRefreshTTL: orDuration(cf.RollingRefreshTTL, DefaultRollingRefreshTTL),
			ACR:               cf.ACR,
			IssuerTfp:         cf.IssuerTfp,
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
