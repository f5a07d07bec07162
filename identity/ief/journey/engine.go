// Package journey runs a loaded policy's user journeys: orchestration
// steps in order, preconditions, sub journeys, technical profiles with
// their input and output claims and claims transformations, validation
// profiles, single sign-on sessions, and SendClaims. It is the engine B2C
// calls the Identity Experience Framework, independent of HTTP: a step
// that needs the user returns a Page, and the caller hands the user's
// answer back as an Input.
package journey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
)

// Runner runs a non-interactive technical profile of one provider. in is
// the journey's claims with the profile's InputClaims applied; the runner
// returns its output claims by ClaimType id (the engine then applies
// DefaultValue/AlwaysUseDefaultValue and the output transformations).
type Runner interface {
	Run(ctx context.Context, c *Call) (Bag, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, c *Call) (Bag, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, c *Call) (Bag, error) { return f(ctx, c) }

// ByName maps values a provider produced under wire names (an output
// claim's PartnerClaimType, else its ClaimType) onto claim type ids.
func (c *Call) ByName(got map[string]claimstx.Claim) Bag {
	out := Bag{}
	for _, r := range c.Profile.OutputClaims {
		if v, ok := got[r.Name()]; ok {
			out[c.Policy.ClaimID(r.ClaimType)] = v
		}
	}
	return out
}

// Call is one technical profile run.
type Call struct {
	Profile *ief.TechnicalProfile
	Policy  *ief.Policy
	// In is the journey's claims with the profile's InputClaims applied.
	In Bag
	// Inputs are the InputClaims' values by their name on the wire
	// (PartnerClaimType, else ClaimType).
	Inputs map[string]claimstx.Claim
	State  *State
}

// UserError is an error the user sees (on the page of a validation
// profile, or as the journey's error): B2C's AADB2C code and message.
type UserError struct {
	Code, Message string
	// Field names the claim the error is about ("" = page level).
	Field string
	// Status and RetryAfter: a throttle's 429 for the page.
	Status     int
	RetryAfter time.Duration
}

func (e *UserError) Error() string { return e.Code + ": " + e.Message }

// Env is what the engine needs from outside: the policy, the providers'
// runners and the claim resolvers' values.
type Env struct {
	Policy *ief.Policy
	// Runners by provider name (ief.Provider.Name).
	Runners map[string]Runner
	// Resolve returns a claim resolver's value ("OIDC:ClientId" ->
	// client id); false when unknown, and the text stays as written.
	Resolve func(st *State, name string) (string, bool)
	// Federations are the identity providers the browser visits, by
	// provider name (ief.Provider.Federated).
	Federations map[string]Federation
	// Codes sends and checks one-time codes (email verification);
	// PhoneCodes the SMS codes of phone verification (PhoneFactor).
	Codes      Codes
	PhoneCodes Codes
	Now        func() time.Time
}

// Codes are the built-in email verification's codes.
type Codes interface {
	Send(ctx context.Context, st *State, address string) error
	Verify(ctx context.Context, st *State, address, code string) error
}

// Engine runs journeys of one policy.
type Engine struct{ env Env }

// New returns an engine. Every provider a profile of the policy uses must
// have a runner, or an error names the first that has none.
func New(env Env) (*Engine, error) {
	if env.Now == nil {
		env.Now = time.Now
	}
	if ps := env.Policy.PredicateSet; ps != nil {
		ps.Now = env.Now // IsDateRange's Today
	}
	for _, tp := range env.Policy.Profiles {
		if tp.Provider == nil || isInteractive(tp) || isSession(tp) || tp.OutputTokenFormat != "" || !used(env.Policy, tp.ID) {
			continue
		}
		if tp.Provider.Federated {
			if env.Federations[tp.Provider.Name] == nil {
				return nil, fmt.Errorf("journey: no federation for the %s provider (technical profile %s)", tp.Provider.Name, tp.ID)
			}
			continue
		}
		if env.Runners[tp.Provider.Name] == nil {
			return nil, fmt.Errorf("journey: no runner for the %s provider (technical profile %s)", tp.Provider.Name, tp.ID)
		}
	}
	return &Engine{env: env}, nil
}

// Frame is a journey on the stack (sub journeys of type Call push one).
type Frame struct {
	Journey string `json:"j"`
	Sub     bool   `json:"sub,omitempty"`
	Step    int    `json:"s"` // index into Steps
}

// Session is the single sign-on session the browser brought: the profiles
// its session managers recorded and the claims they persisted.
type Session struct {
	Profiles []string `json:"profiles"`
	Claims   Bag      `json:"claims"`
}

func (s *Session) has(id string) bool {
	if s == nil {
		return false
	}
	for _, p := range s.Profiles {
		if p == id {
			return true
		}
	}
	return false
}

// State is a journey in progress, stored with the sign-in transaction.
type State struct {
	Stack  []Frame `json:"stack"`
	Claims Bag     `json:"claims"`
	// Chosen is the ClaimsExchange id a selection step (or the sign-up
	// link) picked for the next step.
	Chosen string `json:"chosen,omitempty"`
	// Page is the self-asserted profile waiting for the user.
	Page string `json:"page,omitempty"`
	// Verified are addresses proven by a code, by claim type.
	Verified map[string]string `json:"verified,omitempty"`
	// Pending are addresses a code was sent to and not yet verified, by
	// claim type: the field stays locked to it (a form that omits the
	// read-only address, or a resend, uses it).
	Pending map[string]string `json:"pending,omitempty"`
	// Federation is what an identity provider's Start kept for its
	// Finish (state, nonce, PKCE verifier), while the browser is there.
	Federation map[string]string `json:"federation,omitempty"`
	// Session is the incoming SSO session; NewSession what SendClaims
	// hands back to be stored.
	Session    *Session `json:"session,omitempty"`
	NewSession *Session `json:"newSession,omitempty"`
	// Values are request values for claim resolvers (client id, culture...).
	Values map[string]string `json:"values,omitempty"`
	// Done is set by SendClaims.
	Done bool `json:"done,omitempty"`
	// SecondFactor: a factor page (PhoneFactor, EmailFactor) was passed
	// in this journey, so the SSO session it starts carries MFA.
	SecondFactor bool `json:"secondFactor,omitempty"`
}

// Start begins a relying party's journey (or another endpoint's, such as
// Token's RedeemRefreshToken).
func (e *Engine) Start(journeyID string, values map[string]string, sso *Session) (*State, error) {
	if e.env.Policy.Journeys[journeyID] == nil {
		return nil, fmt.Errorf("journey: %s is not a user journey of %s", journeyID, e.env.Policy.ID)
	}
	return &State{Stack: []Frame{{Journey: journeyID}}, Claims: Bag{}, Values: values, Session: sso}, nil
}

// Outcome is where a journey stopped.
type Outcome struct {
	// Page is set when a self-asserted profile needs the user.
	Page *Page
	// Redirect is set when the browser goes to an identity provider.
	Redirect *Redirect
	// Claims are the relying party's output claims by name when the
	// journey reached SendClaims (State.Done).
	Claims map[string]any
	// Subject is the value of SubjectNamingInfo's claim.
	Subject string
}

// Input is the user's answer to a Page.
type Input struct {
	// Profile is the page's technical profile (a stale form is refused).
	Profile string
	// Action: "" (continue), "cancel", "select" (Exchange),
	// "sendCode"/"verifyCode" (Claim).
	Action   string
	Exchange string
	Claim    string
	Values   map[string]string
}

// ErrCancelled is returned when the user cancels a page.
var ErrCancelled = &UserError{Code: "AADB2C90091", Message: "The user has cancelled entering self-asserted information."}

// Next runs the journey from where it stands until it needs the user
// (Outcome.Page), reaches SendClaims, or fails. A *UserError failure ends
// the journey with B2C's code; in (nil at the start) answers the page.
func (e *Engine) Next(ctx context.Context, st *State, in *Input) (*Outcome, error) {
	for budget := 0; ; budget++ {
		if budget > 1000 {
			return nil, errors.New("journey: more than 1000 steps without a page (a loop of sub journeys?)")
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(st.Stack) == 0 {
			return nil, errors.New("journey: the journey ended without SendClaims")
		}
		fr := &st.Stack[len(st.Stack)-1]
		j := e.journey(fr)
		if j == nil {
			// A transaction stored before the policy changed.
			return nil, &UserError{Code: "AADB2C90046", Message: "We are having trouble loading your current state. You might want to try starting your session over from the beginning."}
		}
		if fr.Step >= len(j.Steps) {
			st.Stack = st.Stack[:len(st.Stack)-1]
			continue
		}
		step := j.Steps[fr.Step]
		if st.Page == "" && e.skip(st, step.Preconditions, "SkipThisOrchestrationStep") {
			fr.Step++
			continue
		}
		out, advance, err := e.step(ctx, st, j, fr, step, in)
		in = nil // an input answers one page only
		if err != nil || out != nil {
			return out, err
		}
		if advance {
			fr.Step++
		}
	}
}

func (e *Engine) journey(fr *Frame) *ief.Journey {
	if fr.Sub {
		return e.env.Policy.SubJourneys[fr.Journey]
	}
	return e.env.Policy.Journeys[fr.Journey]
}

// step runs one orchestration step; advance says whether to go on to the
// next step (false after pushing a sub journey).
func (e *Engine) step(ctx context.Context, st *State, j *ief.Journey, fr *Frame, step *ief.Step, in *Input) (*Outcome, bool, error) {
	switch step.Type {
	case "InvokeSubJourney":
		sub := e.env.Policy.SubJourneys[step.SubJourneys[0]]
		fr.Step++
		if sub.Type == "Transfer" {
			st.Stack = st.Stack[:len(st.Stack)-1]
		}
		st.Stack = append(st.Stack, Frame{Journey: sub.ID, Sub: true})
		return nil, false, nil
	case "GetClaims":
		// The relying party's InputClaims: what the app passed (claim
		// resolvers such as {OAUTH-KV:name}, defaults) enters the bag.
		call, err := e.call(st, e.env.Policy.RP.Profile)
		if err != nil {
			return nil, false, err
		}
		for _, r := range e.env.Policy.RP.Profile.InputClaims {
			if v, ok := call.In[e.claimID(r.ClaimType)]; ok {
				st.Claims[e.claimID(r.ClaimType)] = v
			}
		}
		return nil, true, nil
	case "SendClaims":
		// The token issuer (JwtIssuer) is Gatehouse's: the journey hands
		// the relying party's claims to it.
		out, err := e.sendClaims(ctx, st)
		return out, false, err
	case "ClaimsProviderSelection", "CombinedSignInAndSignUp":
		if ex := e.hinted(st, j, step); ex != "" && in == nil && st.Page == "" {
			// domain_hint names a provider's Domain: straight to it.
			st.Chosen = ex
			return nil, true, nil
		}
		if step.Type == "ClaimsProviderSelection" && len(step.Selections) == 1 && step.Selections[0].TargetExchange != "" {
			// One choice is no choice: go straight to it.
			st.Chosen = step.Selections[0].TargetExchange
			return nil, true, nil
		}
		if len(step.Exchanges) == 0 {
			if in != nil && in.Action == "select" && in.Exchange != "" {
				for _, s := range step.Selections {
					if s.TargetExchange == in.Exchange {
						st.Chosen = in.Exchange
						st.Page = ""
						return nil, true, nil
					}
				}
			}
			st.Page = "selection"
			return &Outcome{Page: e.selectionPage(step)}, false, nil
		}
		return e.exchange(ctx, st, step, step.Exchanges[0].Profile, in)
	case "ClaimsExchange":
		ex := step.Exchanges[0]
		if len(step.Exchanges) > 1 {
			found := false
			for _, x := range step.Exchanges {
				// The chosen exchange, or the one whose page is waiting
				// for the user (the choice was used when it showed).
				if x.ID == st.Chosen || st.Chosen == "" && st.Page != "" && x.Profile == st.Page {
					ex, found = x, true
				}
			}
			if !found {
				return nil, true, nil // no selection made for this step: nothing to run
			}
		}
		if ex.ID == st.Chosen {
			st.Chosen = ""
		}
		return e.exchange(ctx, st, step, ex.Profile, in)
	}
	return nil, false, fmt.Errorf("journey: step type %s is not supported", step.Type)
}

// exchange runs a step's technical profile: a page for a self-asserted
// one, else its provider. An SSO session that has the profile skips it
// and brings back the claims it persisted.
func (e *Engine) exchange(ctx context.Context, st *State, step *ief.Step, id string, in *Input) (*Outcome, bool, error) {
	tp := e.env.Policy.Profiles[id]
	if st.Page == "" && tp.SessionProfile != "" && st.Session.has(tp.ID) && !e.noop(tp) {
		for k, v := range st.Session.Claims {
			st.Claims[k] = v
		}
		if sm := e.env.Policy.Profiles[tp.SessionProfile]; sm != nil {
			e.outputs(st, sm, Bag{})
		}
		return nil, true, nil
	}
	if !e.enabled(st, tp) {
		return nil, true, nil
	}
	if fed := e.federation(tp); fed != nil {
		return e.federate(ctx, st, tp, fed, in)
	}
	if !isInteractive(tp) {
		if _, err := e.run(ctx, st, tp); err != nil {
			return nil, false, err
		}
		e.record(st, tp)
		return nil, true, nil
	}
	if in == nil || st.Page != tp.ID || in.Profile != tp.ID {
		st.Page = tp.ID
		page, err := e.page(st, step, tp, nil)
		return &Outcome{Page: page}, false, err
	}
	switch in.Action {
	case "cancel":
		return nil, false, ErrCancelled
	case "select":
		// The sign-up link (SignUpTarget) or another provider's button.
		if in.Exchange != "" && (in.Exchange == tp.Metadata["SignUpTarget"] || selectionHas(step, in.Exchange)) {
			st.Chosen, st.Page = in.Exchange, ""
			return nil, true, nil
		}
	}
	page, err := e.submit(ctx, st, step, tp, in)
	if err != nil || page != nil {
		return &Outcome{Page: page}, false, err
	}
	st.Page = ""
	e.record(st, tp)
	return nil, true, nil
}

func selectionHas(step *ief.Step, exchange string) bool {
	for _, s := range step.Selections {
		if s.TargetExchange == exchange {
			return true
		}
	}
	return false
}

// enabled is EnabledForUserJourneys.
func (e *Engine) enabled(st *State, tp *ief.TechnicalProfile) bool {
	switch tp.Enabled {
	case "Never":
		return false
	case "OnClaimsExistence":
		for _, r := range tp.InputClaims {
			if !st.Claims.Has(e.claimID(r.ClaimType)) {
				return false
			}
		}
	case "OnItemExistenceInStringCollectionClaim", "OnItemAbsenceInStringCollectionClaim":
		// Metadata ClaimTypeOnWhichToEnable names a stringCollection
		// claim, ClaimValueOnWhichToEnable the item.
		items, _ := st.Claims[e.claimID(tp.Metadata["ClaimTypeOnWhichToEnable"])].Value.([]string)
		found := false
		for _, it := range items {
			if it == tp.Metadata["ClaimValueOnWhichToEnable"] {
				found = true
			}
		}
		return found == (tp.Enabled == "OnItemExistenceInStringCollectionClaim")
	}
	return true
}

// record notes a profile run under a session manager, so a later journey
// with the session skips it, and keeps the claims the manager persists.
func (e *Engine) record(st *State, tp *ief.TechnicalProfile) {
	if tp.SessionProfile == "" || e.noop(tp) {
		return
	}
	if st.NewSession == nil {
		st.NewSession = &Session{Claims: Bag{}}
		if st.Session != nil {
			st.NewSession.Profiles = append(st.NewSession.Profiles, st.Session.Profiles...)
			for k, v := range st.Session.Claims {
				st.NewSession.Claims[k] = v
			}
		}
	}
	if !st.NewSession.has(tp.ID) {
		st.NewSession.Profiles = append(st.NewSession.Profiles, tp.ID)
	}
	if sm := e.env.Policy.Profiles[tp.SessionProfile]; sm != nil {
		for _, pc := range sm.PersistedClaims {
			id := e.claimID(pc.ClaimType)
			if c, ok := st.Claims[id]; ok {
				st.NewSession.Claims[id] = c
			}
		}
	}
}

func (e *Engine) noop(tp *ief.TechnicalProfile) bool {
	sm := e.env.Policy.Profiles[tp.SessionProfile]
	return sm == nil || sm.Handler == "Web.TPEngine.SSO.NoopSSOSessionProvider"
}

func isInteractive(tp *ief.TechnicalProfile) bool {
	return tp.Provider != nil && (tp.Provider.Name == "SelfAsserted" || isFactor(tp))
}

func isSession(tp *ief.TechnicalProfile) bool {
	return strings.HasPrefix(tp.Handler, "Web.TPEngine.SSO.")
}

// claimID is the declared id of a claim type (references may differ in
// case: B2C matches them case-insensitively).
func (e *Engine) claimID(ref string) string { return e.env.Policy.ClaimID(ref) }

func (e *Engine) dataType(id string) claimstx.DataType {
	if ct := e.env.Policy.Claim(id); ct != nil {
		return claimstx.DataType(ct.DataType)
	}
	return claimstx.String
}

// used reports whether a journey step, validation or display control
// action can run the profile (abstract ones only included are not).
func used(p *ief.Policy, id string) bool {
	for _, js := range []map[string]*ief.Journey{p.Journeys, p.SubJourneys} {
		for _, j := range js {
			for _, s := range j.Steps {
				for _, x := range s.Exchanges {
					if x.Profile == id {
						return true
					}
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
	}
	for _, dc := range p.DisplayControls {
		for _, refs := range dc.Actions {
			for _, v := range refs {
				if v.Profile == id {
					return true
				}
			}
		}
	}
	return false
}

// hinted is the selection of a step whose provider's Domain is the
// request's domain_hint ("" when none is).
func (e *Engine) hinted(st *State, j *ief.Journey, step *ief.Step) string {
	hint := strings.TrimSpace(st.Values["OIDC:DomainHint"])
	if hint == "" {
		return ""
	}
	for _, s := range step.Selections {
		if s.TargetExchange == "" {
			continue
		}
		for _, other := range j.Steps {
			for _, x := range other.Exchanges {
				if tp := e.env.Policy.Profiles[x.Profile]; x.ID == s.TargetExchange && tp != nil && strings.EqualFold(tp.Domain, hint) {
					return s.TargetExchange
				}
			}
		}
	}
	return ""
}
