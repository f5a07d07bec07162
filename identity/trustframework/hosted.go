package trustframework

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/userflow"
)

// Policies plug into the registry and the hosted pages:
//
//	identity.AddCustomPolicies(reg, pols)       // B2C_1A_x become flows
//	userflow.Options{..., CustomPolicies: pols}  // the pages run them
var (
	_ identity.CustomPolicySource = (*Policies)(nil)
	_ userflow.CustomPolicies     = (*Policies)(nil)
)

// signUpProfile is the self-asserted sign-up page of the starter pack.
const signUpProfile = "LocalAccountSignUpWithLogonEmail"

// CustomFlows lists the relying parties as flows for
// identity.AddCustomPolicies: type from Flow, claims the relying party's
// output claim types, attributes the starter pack's sign-up page collects
// (displayName, givenName, surname) plus user attributes an extension adds
// to it. Email verification is not done (see the package doc). Nil-safe.
func (p *Policies) CustomFlows() []identity.CustomFlow {
	if p == nil {
		return nil
	}
	ids := make([]string, 0, len(p.RelyingParties))
	for id := range p.RelyingParties {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []identity.CustomFlow
	for _, id := range ids {
		rp := p.RelyingParties[id]
		cf := identity.CustomFlow{PolicyID: rp.PolicyID, Type: p.Flow(rp.PolicyID), Pos: rp.Pos}
		for _, r := range rp.OutputClaims {
			cf.Claims = append(cf.Claims, r.ClaimType)
		}
		if cf.Type == "signUpOrSignIn" || cf.Type == "profileEdit" {
			cf.Attributes = []string{"displayName", "givenName", "surname"}
			prof := signUpProfile
			if cf.Type == "profileEdit" {
				prof = "SelfAsserted-ProfileUpdate"
			}
			if tp := p.Profiles[prof]; tp != nil {
				for _, r := range tp.ExtraOutputClaims {
					if strings.HasPrefix(r.ClaimType, "extension_") && !contains(cf.Attributes, r.ClaimType) {
						cf.Attributes = append(cf.Attributes, r.ClaimType)
					}
				}
			}
		}
		out = append(out, cf)
	}
	return out
}

// requestContext attaches the authorization request's claim-resolver
// values ({OIDC:ClientId}, {Culture:RFC5646}, {Policy:TenantObjectId} ...).
func requestContext(ctx context.Context, req userflow.CustomRequest) context.Context {
	ar := req.Request
	ri := RequestInfo{ClientID: ar.ClientID, Nonce: ar.Nonce, Prompt: ar.Prompt, Scope: strings.Join(ar.Scopes, " "),
		LoginHint: ar.LoginHint, DomainHint: ar.DomainHint, RedirectURI: ar.RedirectURI, Culture: req.Culture,
		CorrelationID: req.CorrelationID, IPAddress: req.IPAddress, TenantObjectID: req.TenantID, Now: time.Now().UTC()}
	if ar.MaxAge != nil {
		ri.MaxAge = strconv.Itoa(*ar.MaxAge)
	}
	if req.Flow != nil {
		ri.PolicyID = req.Flow.Name
	}
	return WithRequestInfo(ctx, ri)
}

// ValidateSignUp runs the sign-up page's validation technical profiles
// (RunValidation of LocalAccountSignUpWithLogonEmail) with the request's
// claim resolvers; it implements userflow.CustomPolicies.
func (p *Policies) ValidateSignUp(ctx context.Context, req userflow.CustomRequest, claims map[string]any) (map[string]any, error) {
	if err := p.CheckPatterns(claims); err != nil {
		return nil, err
	}
	ctx = requestContext(ctx, req)
	if rp := p.RelyingParties[strings.ToUpper(req.Flow.Name)]; rp != nil {
		ctx = withPolicy(ctx, rp)
	}
	return p.RunValidation(ctx, signUpProfile, ClaimsBag(claims))
}

// CheckPatterns applies the claim types' Restriction patterns to the
// string claims the page collected (in claim-type order): a value that
// does not match is a *UserError with the pattern's HelpText (B2C's
// message under the field); a match that times out is an error (the
// page fails), not a hang.
func (p *Policies) CheckPatterns(claims map[string]any) error {
	ids := make([]string, 0, len(claims))
	for id := range claims {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s, isStr := claims[id].(string)
		ct := p.ClaimTypes[id]
		if !isStr || s == "" || ct == nil || ct.patternRE == nil {
			continue
		}
		ok, err := ct.CheckPattern(s)
		if err != nil {
			return err
		}
		if !ok {
			msg := strings.TrimSpace(ct.PatternHelpText)
			if msg == "" {
				name := ct.DisplayName
				if name == "" {
					name = ct.ID
				}
				msg = fmt.Sprintf("The value of '%s' is not in the expected format.", name)
			}
			return &UserError{ProfileID: signUpProfile, Message: msg}
		}
	}
	return nil
}

// AfterAuthentication runs the journey's RESTful steps
// (RunJourneyAfterAuth) and returns the tokens' claims (TokenClaims); it
// implements userflow.CustomPolicies.
func (p *Policies) AfterAuthentication(ctx context.Context, req userflow.CustomRequest, claims map[string]any) (map[string]any, error) {
	ctx = requestContext(ctx, req)
	bag, err := p.RunJourneyAfterAuth(ctx, req.Flow.Name, ClaimsBag(claims))
	if err != nil {
		return nil, err
	}
	return p.TokenClaims(ctx, req.Flow.Name, bag)
}

// UserMessage is the text for the page: Message, with the DebugMode
// details appended.
func (e *UserError) UserMessage() string {
	if d := e.Details(); d != "" {
		return e.Message + " (" + d + ")"
	}
	return e.Message
}
