package ief

import (
	"errors"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/internal/config"
)

// checkPolicy checks the rules that span elements, each message naming
// the B2C rule. Maps are walked in sorted order so errors come out the same
// every time.
func (c *checker) checkPolicy(p *Policy, opts Options) {
	claim := func(pos config.Pos, owner, id string) {
		if id != "" && p.Claim(id) == nil {
			c.add(pos, "%s: claim type %s is not declared in ClaimsSchema (B2C rule: every claim a policy uses is declared)", owner, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.ClaimTypes)) {
		ct := p.ClaimTypes[id]
		if ct.DataType == "" {
			c.add(ct.Pos, "ClaimType %s needs a <DataType>", id)
		}
		if ct.PredicateValidation != "" && !hasID(p.PredicateValidations, ct.PredicateValidation) {
			c.add(ct.Pos, "ClaimType %s: predicate validation %s is not defined in PredicateValidations", id, ct.PredicateValidation)
		}
	}
	c.predicates(p)
	for _, id := range slices.Sorted(maps.Keys(p.Transformations)) {
		c.transformation(p, p.Transformations[id], claim)
	}
	for _, id := range slices.Sorted(maps.Keys(p.ContentDefs)) {
		d := p.ContentDefs[id]
		for lang, res := range d.Localized {
			if !hasLocalizedResources(p.Localization, res) {
				c.add(d.Pos, "content definition %s: LocalizedResources %s (language %s) is not defined in Localization", id, res, lang)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.DisplayControls)) {
		dc := p.DisplayControls[id]
		owner := "display control " + id
		if dc.Type != "VerificationControl" && dc.Type != "CaptchaControl" && !DisplayOnlyControl(dc.Type) {
			c.add(dc.Pos, "%s: UserInterfaceControlType %s: Gatehouse has VerificationControl, QrCodeControl, AuthenticatorInfoControl and AuthenticatorAppIconControl", owner, dc.Type)
		}
		for _, list := range [][]ClaimRef{dc.InputClaims, dc.DisplayClaims, dc.OutputClaims} {
			for _, r := range list {
				claim(r.Pos, owner, r.ClaimType)
			}
		}
		for _, action := range slices.Sorted(maps.Keys(dc.Actions)) {
			for _, v := range dc.Actions[action] {
				c.profileRef(p, v.Pos, owner+" action "+action, v.Profile)
				c.preconditions(p, v.Preconditions, owner, claim)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.Profiles)) {
		c.profile(p, p.Profiles[id], opts, claim)
	}
	for _, id := range slices.Sorted(maps.Keys(p.Journeys)) {
		c.journey(p, p.Journeys[id], false, claim)
	}
	for _, id := range slices.Sorted(maps.Keys(p.SubJourneys)) {
		c.journey(p, p.SubJourneys[id], true, claim)
	}
	if p.RP != nil {
		c.relyingParty(p, claim)
	}
}

func (c *checker) transformation(p *Policy, t *Transformation, claim func(config.Pos, string, string)) {
	owner := "claims transformation " + t.ID
	decls := func(list []TxClaim) []claimstx.Decl {
		var out []claimstx.Decl
		for _, x := range list {
			claim(x.Pos, owner, x.ClaimType)
			d := claimstx.Decl{Name: x.TransformationClaimType}
			if ct := p.Claim(x.ClaimType); ct != nil {
				d.DataType = claimstx.DataType(ct.DataType)
			}
			out = append(out, d)
		}
		return out
	}
	in, out := decls(t.InputClaims), decls(t.OutputClaims)
	var params []claimstx.Decl
	for _, x := range t.Params {
		params = append(params, claimstx.Decl{Name: x.ID, DataType: claimstx.DataType(x.DataType), Value: x.Value})
	}
	if err := claimstx.Check(t.Method, in, params, out); err != nil {
		var ce *claimstx.CheckError
		if errors.As(err, &ce) {
			for _, pr := range ce.Problems {
				c.add(t.Pos, "%s: %s (B2C's %s method)", owner, pr.Error(), t.Method)
			}
			return
		}
		c.add(t.Pos, "%s: %v", owner, err)
	}
}

func (c *checker) profileRef(p *Policy, pos config.Pos, owner, id string) *TechnicalProfile {
	tp := p.Profiles[id]
	if tp == nil && id != "" {
		c.add(pos, "%s: technical profile %s is not defined", owner, id)
	}
	return tp
}

func (c *checker) preconditions(p *Policy, pcs []Precondition, owner string, claim func(config.Pos, string, string)) {
	for _, pc := range pcs {
		switch pc.Type {
		case "ClaimsExist":
			if len(pc.Values) < 1 {
				c.add(pc.Pos, "%s: precondition ClaimsExist takes the claim type in a <Value>", owner)
			}
		case "ClaimEquals":
			if len(pc.Values) != 2 {
				c.add(pc.Pos, "%s: precondition ClaimEquals takes two <Value> elements: the claim type and the value", owner)
			}
		}
		if len(pc.Values) > 0 {
			claim(pc.Pos, owner+" precondition", pc.Values[0])
		}
	}
}

func (c *checker) profile(p *Policy, tp *TechnicalProfile, opts Options, claim func(config.Pos, string, string)) {
	owner := "technical profile " + tp.ID
	if tp.Protocol == "" {
		// An abstract profile (AAD-Common, SM-Noop's parents) only ever
		// included: it needs no protocol of its own until used.
		if c.usedDirectly(p, tp.ID) {
			c.add(tp.Pos, "%s has no <Protocol> (B2C rule: a technical profile a journey uses names its protocol)", owner)
		}
	} else {
		tp.Provider = providerFor(tp)
		switch {
		case tp.Provider == nil && tp.Handler != "":
			c.add(tp.Pos, "%s: Gatehouse has no provider for the handler %s (providers: %s)", owner, tp.Handler, strings.Join(ProviderNames(), ", "))
		case tp.Provider == nil:
			c.add(tp.Pos, "%s: Gatehouse has no provider for Protocol %s (providers: %s)", owner, tp.Protocol, strings.Join(ProviderNames(), ", "))
		case tp.Provider.NotYet != "":
			c.add(tp.Pos, "%s: not yet supported: %s", owner, tp.Provider.NotYet)
		default:
			for _, k := range slices.Sorted(maps.Keys(tp.Metadata)) {
				if !tp.Provider.readsMetadata(k) && !engineMetadata[k] {
					c.add(tp.itemPos[k], "%s: the %s provider has no metadata key %s (it reads %s)", owner, tp.Provider.Name, k, strings.Join(tp.Provider.Metadata, ", "))
				}
			}
			if tp.Provider.Check != nil {
				tp.Provider.Check(c, p, tp)
			}
		}
	}
	for _, list := range [][]ClaimRef{tp.InputClaims, tp.OutputClaims, tp.PersistedClaims} {
		for _, r := range list {
			claim(r.Pos, owner, r.ClaimType)
		}
	}
	for _, r := range tp.DisplayClaims {
		if r.DisplayControl != "" {
			if p.DisplayControls[r.DisplayControl] == nil {
				c.add(r.Pos, "%s: display control %s is not defined in DisplayControls", owner, r.DisplayControl)
			}
			continue
		}
		claim(r.Pos, owner, r.ClaimType)
	}
	for _, t := range append(append([]string(nil), tp.InputTx...), tp.OutputTx...) {
		if p.Transformations[t] == nil {
			c.add(tp.Pos, "%s: claims transformation %s is not defined in ClaimsTransformations", owner, t)
		}
	}
	for _, v := range tp.Validations {
		if vt := c.profileRef(p, v.Pos, owner+" ValidationTechnicalProfile", v.Profile); vt == tp {
			c.add(v.Pos, "%s validates with itself", owner)
		}
		c.preconditions(p, v.Preconditions, owner, claim)
	}
	if tp.SessionProfile != "" {
		if sm := c.profileRef(p, tp.itemPos["session"], owner+" UseTechnicalProfileForSessionManagement", tp.SessionProfile); sm != nil && !isSessionHandler(sm.Handler) {
			c.add(tp.itemPos["session"], "%s: session management profile %s is not a session provider (its handler is %q)", owner, sm.ID, sm.Handler)
		}
	}
	for _, kid := range slices.Sorted(maps.Keys(tp.Keys)) {
		name := tp.Keys[kid]
		up := strings.ToUpper(name)
		if !strings.HasPrefix(up, "B2C_1A_") {
			c.add(tp.itemPos["key:"+kid], "%s: StorageReferenceId %s: policy keys are named B2C_1A_...", owner, name)
			continue
		}
		if opts.HasKey != nil && !builtinKeys[up] && !opts.HasKey(name) {
			c.add(tp.itemPos["key:"+kid], "%s: policy key %s does not exist (add it with `gatehouse keys add` or identity.policyKeys)", owner, name)
		}
	}
	switch tp.Enabled {
	case "OnItemExistenceInStringCollectionClaim", "OnItemAbsenceInStringCollectionClaim":
		ct := p.Claim(tp.Metadata["ClaimTypeOnWhichToEnable"])
		if ct == nil || ct.DataType != "stringCollection" || tp.Metadata["ClaimValueOnWhichToEnable"] == "" {
			c.add(tp.Pos, "%s: EnabledForUserJourneys %s needs the metadata ClaimTypeOnWhichToEnable (a stringCollection claim) and ClaimValueOnWhichToEnable", owner, tp.Enabled)
		}
	case "", "Always", "Never", "OnClaimsExistence":
	default:
		c.add(tp.Pos, "%s: EnabledForUserJourneys %q is not Always, Never, OnClaimsExistence, OnItemExistenceInStringCollectionClaim or OnItemAbsenceInStringCollectionClaim", owner, tp.Enabled)
	}
}

// usedDirectly reports whether a journey step, validation or display
// control names the profile (rather than only including it).
func (c *checker) usedDirectly(p *Policy, id string) bool {
	for _, js := range []map[string]*Journey{p.Journeys, p.SubJourneys} {
		for _, j := range js {
			for _, s := range j.Steps {
				for _, e := range s.Exchanges {
					if e.Profile == id {
						return true
					}
				}
				if s.Issuer == id {
					return true
				}
			}
		}
	}
	for _, tp := range p.Profiles {
		for _, v := range tp.Validations {
			if v.Profile == id {
				return true
			}
		}
		if tp.SessionProfile == id {
			return true
		}
	}
	return false
}

// engineMetadata are Metadata keys the engine itself reads, whatever the
// provider (EnabledForUserJourneys on a string collection).
var engineMetadata = map[string]bool{"ClaimTypeOnWhichToEnable": true, "ClaimValueOnWhichToEnable": true}

func isSessionHandler(h string) bool { return strings.HasPrefix(h, "Web.TPEngine.SSO.") }

var stepTypes = map[string]bool{"ClaimsProviderSelection": true, "CombinedSignInAndSignUp": true, "ClaimsExchange": true,
	"InvokeSubJourney": true, "SendClaims": true, "UserDialog": true, "GetClaims": true, "ReviewScreen": true}

func (c *checker) journey(p *Policy, j *Journey, sub bool, claim func(config.Pos, string, string)) {
	owner := "user journey " + j.ID
	if sub {
		owner = "sub journey " + j.ID
	}
	if len(j.Steps) == 0 {
		c.add(j.Pos, "%s has no orchestration steps", owner)
		return
	}
	sort.SliceStable(j.Steps, func(a, b int) bool { return j.Steps[a].Order < j.Steps[b].Order })
	for i, s := range j.Steps {
		if s.Order != i+1 {
			c.add(s.Pos, "%s: orchestration step Order %d: steps are numbered 1, 2, 3, ... without gaps or repeats (B2C rule), expected %d", owner, s.Order, i+1)
			break
		}
	}
	for i, s := range j.Steps {
		so := owner + " step " + strconv.Itoa(s.Order)
		if !stepTypes[s.Type] {
			c.add(s.Pos, "%s: Type %s is not an orchestration step type", so, s.Type)
		}
		switch s.Type {
		case "UserDialog", "ReviewScreen":
			c.add(s.Pos, "%s: not yet supported: step Type %s", so, s.Type)
		}
		if s.ContentDef != "" && p.ContentDefs[s.ContentDef] == nil {
			c.add(s.Pos, "%s: content definition %s is not defined in ContentDefinitions", so, s.ContentDef)
		}
		for _, e := range s.Exchanges {
			c.profileRef(p, e.Pos, so, e.Profile)
		}
		if len(s.Selections) > 0 && (s.Type == "ClaimsProviderSelection" || s.Type == "CombinedSignInAndSignUp") {
			next := map[string]bool{}
			if i+1 < len(j.Steps) {
				for _, e := range j.Steps[i+1].Exchanges {
					next[e.ID] = true
				}
			}
			for _, sel := range s.Selections {
				if sel.TargetExchange != "" && !next[sel.TargetExchange] {
					c.add(sel.Pos, "%s: TargetClaimsExchangeId %s is not a ClaimsExchange of the next step (B2C rule)", so, sel.TargetExchange)
				}
				if sel.ValidationExchange != "" && !hasExchange(s, sel.ValidationExchange) {
					c.add(sel.Pos, "%s: ValidationClaimsExchangeId %s is not a ClaimsExchange of this step", so, sel.ValidationExchange)
				}
			}
		}
		switch s.Type {
		case "ClaimsExchange":
			if len(s.Exchanges) == 0 {
				c.add(s.Pos, "%s: a ClaimsExchange step needs a <ClaimsExchange>", so)
			}
		case "InvokeSubJourney":
			if len(s.SubJourneys) == 0 {
				c.add(s.Pos, "%s: an InvokeSubJourney step needs a <JourneyList> candidate", so)
			}
			for _, sj := range s.SubJourneys {
				if p.SubJourneys[sj] == nil {
					c.add(s.Pos, "%s: sub journey %s is not defined in SubJourneys", so, sj)
				}
			}
		case "SendClaims":
			issuer := s.Issuer
			if issuer == "" {
				issuer = j.DefaultIssuer
			}
			if tp := c.profileRef(p, s.Pos, so, issuer); tp != nil && tp.OutputTokenFormat == "" {
				c.add(s.Pos, "%s: CpimIssuerTechnicalProfileReferenceId %s is not a token issuer (no OutputTokenFormat)", so, issuer)
			}
			if issuer == "" {
				c.add(s.Pos, "%s: a SendClaims step names its token issuer in CpimIssuerTechnicalProfileReferenceId", so)
			}
		}
		c.preconditions(p, s.Preconditions, so, claim)
	}
	last := j.Steps[len(j.Steps)-1]
	if (!sub || j.Type == "Transfer") && last.Type != "SendClaims" {
		c.add(last.Pos, "%s: the last orchestration step must be SendClaims (B2C rule)", owner)
	}
}

func hasExchange(s *Step, id string) bool {
	for _, e := range s.Exchanges {
		if e.ID == id {
			return true
		}
	}
	return false
}

func (c *checker) relyingParty(p *Policy, claim func(config.Pos, string, string)) {
	rp := p.RP
	if rp.Journey == "" {
		c.add(rp.Pos, "policy %s: the RelyingParty needs a DefaultUserJourney", p.ID)
	} else if p.Journeys[rp.Journey] == nil {
		c.add(rp.Pos, "policy %s: DefaultUserJourney %s is not defined in UserJourneys", p.ID, rp.Journey)
	}
	for _, id := range slices.Sorted(maps.Keys(rp.Endpoints)) {
		if p.Journeys[rp.Endpoints[id]] == nil {
			c.add(rp.Pos, "policy %s: endpoint %s's journey %s is not defined in UserJourneys", p.ID, id, rp.Endpoints[id])
		}
	}
	b := rp.Behaviors
	if !oneOf(b.SSOScope, "Tenant", "Application", "Policy", "Suppressed") {
		c.add(rp.Pos, "policy %s: SingleSignOn Scope %q is not Tenant, Application, Policy or Suppressed", p.ID, b.SSOScope)
	}
	if !oneOf(b.SessionExpiryType, "Rolling", "Absolute") {
		c.add(rp.Pos, "policy %s: SessionExpiryType %q is not Rolling or Absolute", p.ID, b.SessionExpiryType)
	}
	if b.SessionExpirySeconds < 900 || b.SessionExpirySeconds > 86400 {
		c.add(rp.Pos, "policy %s: SessionExpiryInSeconds %d is outside B2C's 900–86400", p.ID, b.SessionExpirySeconds)
	}
	if rp.Profile == nil {
		c.add(rp.Pos, "policy %s: the RelyingParty needs a <TechnicalProfile> (B2C rule)", p.ID)
		return
	}
	tp := rp.Profile
	if tp.Protocol != "OpenIdConnect" {
		c.add(tp.Pos, "policy %s: relying-party Protocol %q: Gatehouse serves OpenIdConnect (SAML relying parties are not supported)", p.ID, tp.Protocol)
	}
	names := map[string]bool{}
	for _, r := range tp.OutputClaims {
		claim(r.Pos, "relying party "+p.ID, r.ClaimType)
		names[r.Name()] = true
	}
	for _, r := range tp.InputClaims {
		claim(r.Pos, "relying party "+p.ID, r.ClaimType)
	}
	if tp.SubjectNaming != "" && !names[tp.SubjectNaming] {
		c.add(tp.Pos, "policy %s: SubjectNamingInfo ClaimType %s is not one of the output claims' names", p.ID, tp.SubjectNaming)
	}
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
