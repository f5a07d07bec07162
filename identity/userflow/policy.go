package userflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// Custom policies on the policy engine (identity/ief): the journey runs
// in package journey; these files are its HTTP side — the pages of B2C's
// page contract (identity/ief/pages, policy_render.go) behind the same
// transaction, CSRF, session, throttle and lockout machinery as the user
// flows, and the providers that need it (policy_providers.go).

// policyState is a journey's Transaction.State on the policy
// engine: the journey, and the pages' own state (the email verification
// in progress) beside it.
type policyState struct {
	Journey *journey.State `json:"journey"`
	Pages   state          `json:"pages"`
	// Interactive: the user answered a page in this transaction (so a new
	// SSO session starts; a journey fully covered by the session keeps it).
	Interactive bool `json:"interactive,omitempty"`
	// TokenClaims are what a user flow's PreTokenIssuance API connector
	// added for the token.
	TokenClaims map[string]any `json:"tokenClaims,omitempty"`
	// MFA: the journey asked for a second factor (its passing may be
	// remembered on the browser). TOTPPending is the sealed secret of an
	// authenticator app being enrolled.
	MFA         bool   `json:"mfa,omitempty"`
	TOTPPending string `json:"totpPending,omitempty"`
	// OTPs are the OneTimePassword provider's codes, by identifier hash.
	OTPs map[string]*otpState `json:"otps,omitempty"`
}

func (f *Flows) savePolicyState(ctx context.Context, tx *tenant.Transaction, ps *policyState) error {
	b, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	tx.State = b
	return f.comp.SaveTransaction(ctx, tx)
}

func loadPolicyState(tx *tenant.Transaction) (*policyState, error) {
	ps := &policyState{}
	if err := json.Unmarshal(tx.State, ps); err != nil || ps.Journey == nil {
		return nil, fmt.Errorf("userflow: transaction %s has no journey state", tx.ID)
	}
	return ps, nil
}

// policyFlow is one relying-party policy ready to run.
type policyFlow struct {
	policy    *ief.Policy
	engine    *journey.Engine
	templates map[string]*pages.Template // by content definition id
	loc       *localization.Localization
	// Worked out at load, not per request: each content definition's
	// page type and version, the built-in template for definitions
	// without a LoadUri, the providers' button texts by claims exchange,
	// the self-asserted profiles an SSO session covers, and the
	// localized strings by language and content definition.
	pageKinds     map[string]pageKind
	fallback      *pages.Template
	exchangeNames map[string]string
	ssoProfiles   []string
	mfaProfiles   []string // second-factor pages an MFA session covers
	strings       sync.Map // "lang\x00contentDef" -> *localization.Strings
	// userFlow: a user flow compiled to a policy (identity/ief/userflows);
	// its tokens carry the flow's application claims, and imgOrigin is the
	// theme's logo origin for the pages' CSP.
	userFlow  bool
	imgOrigin string
	// idpOrigins are where the policy's identity providers take the
	// browser: the pages' CSP form-action allows them, as a button's form
	// is answered by a redirect there.
	idpOrigins []string
}

// pageKind is a content definition's page type and version (DataUri).
type pageKind struct {
	kind    pages.Kind
	version pages.Version
}

// texts are the localized strings of a content definition (id "" : of
// every content definition, for providers' messages) in lang.
func (pf *policyFlow) texts(lang, contentDef string) *localization.Strings {
	key := lang + "\x00" + contentDef
	if s, ok := pf.strings.Load(key); ok {
		return s.(*localization.Strings)
	}
	var refs []localization.Ref
	page := "selfasserted"
	if cd := pf.policy.ContentDefs[contentDef]; cd != nil {
		refs, page = localRefs(cd), contractName(pf.pageKinds[contentDef].kind)
	} else {
		for _, id := range slices.Sorted(maps.Keys(pf.policy.ContentDefs)) {
			refs = append(refs, localRefs(pf.policy.ContentDefs[id])...)
		}
	}
	s, _ := localization.Lookup(pf.loc, lang, page, refs)
	pf.strings.Store(key, s) // languages are the policy's or the built-in few: bounded
	return s
}

// fetchTemplate fetches a content definition's LoadUri at start-up:
// bounded in time and size, as B2C fetches a tenant's templates.
func fetchTemplate(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
}

// newPolicyFlows prepares every relying party of the set: its engine with
// the providers' runners, its content definitions' templates.
func (f *Flows) newPolicyFlows(set *ief.Set, baseDir string) (map[string]*policyFlow, error) {
	out := map[string]*policyFlow{}
	if set == nil {
		return out, nil
	}
	runners := f.runners()
	var errs config.Errors
	// Relying parties share their base's content definitions: each
	// template is fetched (and its error reported) once.
	templates := map[string]*pages.Template{}
	failed := map[string]bool{}
	fallback, err := pages.LoadTemplate(context.Background(), "~/default", "", nil)
	if err != nil {
		return nil, err
	}
	for _, id := range set.IDs() {
		p := set.Policy(id)
		eng, err := journey.New(journey.Env{Policy: p, Runners: runners, Federations: f.federations, Codes: codes{}, PhoneCodes: phoneCodes{}, Now: f.now})
		if err != nil {
			errs = append(errs, &config.Error{Pos: p.Pos, Msg: err.Error()})
			continue
		}
		pf := &policyFlow{policy: p, engine: eng, templates: map[string]*pages.Template{}, loc: p.Localization,
			fallback: fallback, pageKinds: map[string]pageKind{}, exchangeNames: map[string]string{}}
		pf.prepare()
		for _, cid := range slices.Sorted(maps.Keys(p.ContentDefs)) {
			cd := p.ContentDefs[cid]
			if cd.LoadURI == "" || failed[cd.LoadURI] {
				continue
			}
			t := templates[cd.LoadURI]
			if t == nil {
				var err error
				if t, err = pages.LoadTemplate(context.Background(), cd.LoadURI, baseDir, fetchTemplate); err != nil {
					failed[cd.LoadURI] = true
					errs = append(errs, &config.Error{Pos: cd.Pos, Msg: fmt.Sprintf("content definition %s: LoadUri: %v", cid, err)})
					continue
				}
				templates[cd.LoadURI] = t
			}
			pf.templates[cid] = t
		}
		out[strings.ToLower(p.ID)] = pf
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// prepare works out what pages and sessions need from the policy.
func (pf *policyFlow) prepare() {
	p := pf.policy
	for id, cd := range p.ContentDefs {
		if k, v, err := pages.ParseDataURI(cd.DataURI); err == nil {
			pf.pageKinds[id] = pageKind{k, v}
		}
	}
	for _, js := range []map[string]*ief.Journey{p.Journeys, p.SubJourneys} {
		for _, j := range js {
			for _, st := range j.Steps {
				for _, x := range st.Exchanges {
					if tp := p.Profiles[x.Profile]; tp != nil && tp.DisplayName != "" {
						pf.exchangeNames[x.ID] = tp.DisplayName
					}
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.Profiles)) {
		tp := p.Profiles[id]
		if tp.Provider != nil && tp.Provider.Federated {
			// The authorization endpoint, else the metadata's host (where
			// OpenID and SAML providers keep their sign-in endpoints).
			for _, k := range []string{"authorization_endpoint", "METADATA", "PartnerEntity"} {
				if o := origin(tp.Metadata[k]); o != "" {
					if !slices.Contains(pf.idpOrigins, o) {
						pf.idpOrigins = append(pf.idpOrigins, o)
					}
					break
				}
			}
		}
		sm := p.Profiles[tp.SessionProfile]
		if sm == nil || sm.Handler == "Web.TPEngine.SSO.NoopSSOSessionProvider" || tp.Provider == nil {
			continue
		}
		switch {
		case secondFactor(p, tp):
			// Skipped only under a session that passed MFA: a session from
			// a sign-in without it must not stand in for a second factor.
			pf.mfaProfiles = append(pf.mfaProfiles, id)
		case tp.Provider.Name == "SelfAsserted":
			pf.ssoProfiles = append(pf.ssoProfiles, id)
		}
	}
}

// resolverValues are the claim resolvers' values for a transaction.
func (f *Flows) resolverValues(r *http.Request, tx *tenant.Transaction, pf *policyFlow, lang string) map[string]string {
	q := tx.Request
	lname, region, _ := strings.Cut(lang, "-")
	values := map[string]string{
		"OIDC:ClientId": q.ClientID, "OIDC:LoginHint": q.LoginHint, "OIDC:Nonce": q.Nonce, "OIDC:Prompt": q.Prompt,
		"OIDC:Scope": strings.Join(q.Scopes, " "), "OIDC:DomainHint": q.DomainHint, "OIDC:RedirectUri": q.RedirectURI,
		"Culture:RFC5646": lang, "Culture:LanguageName": lname, "Culture:RegionName": region, "Culture:LCID": lcid(lang),
		"Policy:PolicyId": pf.policy.ID, "Policy:TenantObjectId": f.reg.TenantID, "Policy:RelyingPartyTenantId": pf.policy.TenantID,
		"Policy:TrustFrameworkTenantId": pf.policy.TenantID, "Context:CorrelationId": f.correlationID(tx),
		"Context:IPAddress": f.limits.ClientIP(r).String(), "Context:DeploymentMode": pf.policy.DeploymentMode,
		"Context:DateTimeInUtc": f.now().UTC().Format("01/02/2006 15:04:05"),
		// An identity provider's state carries the transaction back.
		journey.TransactionValue: tx.ID,
	}
	for k, v := range q.Extra {
		values["OAUTH-KV:"+k] = v
	}
	return values
}

// lcids are Windows locale ids of the languages Gatehouse ships, for
// {Culture:LCID}; a language alone means its main region, as B2C's
// cultures do (en is en-US).
var lcids = map[string]string{"en": "1033", "en-us": "1033", "en-gb": "2057", "de": "1031", "de-de": "1031",
	"de-at": "3079", "de-ch": "2055", "fr": "1036", "fr-fr": "1036", "fr-ca": "3084", "es": "3082", "es-es": "3082",
	"es-mx": "2058", "it": "1040", "it-it": "1040", "nl": "1043", "nl-nl": "1043", "pt-br": "1046", "pt": "2070",
	"pt-pt": "2070", "ja": "1041", "ja-jp": "1041", "zh-hans": "2052", "zh-cn": "2052", "zh-hant": "1028", "ko": "1042",
	"sv": "1053", "da": "1030", "nb": "1044", "fi": "1035", "pl": "1045", "ru": "1049", "tr": "1055"}

func lcid(lang string) string { return lcids[strings.ToLower(lang)] }

// correlationID is the transaction's {Context:CorrelationId}: a GUID
// derived from its id, which is a secret of the sign-in and must not reach
// the tenant's APIs.
func (f *Flows) correlationID(tx *tenant.Transaction) string {
	b := f.mac("correlation", tx.ID)[:16]
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // a version-4 GUID's shape
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// policyLanguage is the page language: the policy's Localization when it
// has one (ui_locales, then Accept-Language), else the user flows' choice.
func (f *Flows) policyLanguage(r *http.Request, tx *tenant.Transaction, pf *policyFlow) string {
	if pf.loc != nil && pf.loc.Enabled {
		return localization.Choose(pf.loc, tx.Request.UILocales, r.Header.Get("Accept-Language"))
	}
	return string(locale.Choose(tx.Request.UILocales, r.Header.Get("Accept-Language"), "en"))
}

// secondFactor: a page that proves a second factor — PhoneFactor, or a
// self-asserted page validated by AzureMfa (an SMS or authenticator code).
func secondFactor(p *ief.Policy, tp *ief.TechnicalProfile) bool {
	if tp.Provider.Name == ief.ProviderPhoneFactor {
		return true
	}
	refs := slices.Clone(tp.Validations)
	for _, r := range tp.DisplayClaims {
		if dc := p.DisplayControls[r.DisplayControl]; dc != nil {
			for _, list := range dc.Actions {
				refs = append(refs, list...)
			}
		}
	}
	for _, v := range refs {
		if vp := p.Profiles[v.Profile]; vp != nil && vp.Provider != nil && vp.Provider.Name == ief.ProviderAzureMfa {
			return true
		}
	}
	return false
}

// ssoSession is what the browser's SSO session brings to a journey: the
// self-asserted profiles a session manager records are skipped, with the
// account's identifying claims; directory reads run again so tokens carry
// current values.
func (pf *policyFlow) ssoSession(res *tenant.Result) *journey.Session {
	u := res.User
	s := &journey.Session{Profiles: pf.ssoProfiles, Claims: journey.Bag{}}
	if res.MFA {
		s.Profiles = append(slices.Clone(pf.ssoProfiles), pf.mfaProfiles...)
	}
	str := func(v string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: v} }
	set := func(claim string, c claimstx.Claim) {
		if ct := pf.policy.Claim(claim); ct != nil {
			s.Claims[ct.ID] = c
		}
	}
	set("objectId", str(u.ID))
	set("signInName", str(u.Email))
	set("authenticationSource", str("localAccountAuthentication"))
	set("objectIdFromSession", claimstx.Claim{DataType: claimstx.Boolean, Value: true})
	return s
}

// useSession reports whether the journey runs with the browser's SSO
// session: the authorization endpoint found one (tx.SSO), or the flow is
// a profile edit, which B2C runs with the session unless prompt=login.
func (f *Flows) useSession(tx *tenant.Transaction, flow *tenant.Flow) bool {
	return tx.SSO || flow.Type == "profileEdit" && !strings.Contains(" "+tx.Request.Prompt+" ", " login ")
}

// beginPolicy starts a custom policy's journey.
func (f *Flows) beginPolicy(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) {
	ps := &policyState{}
	lang := f.policyLanguage(r, tx, pf)
	c := &call{f: f, w: w, r: r, tx: tx, flow: flow, st: &ps.Pages, pol: ps, lang: locale.Lang(lang)}
	var sso *journey.Session
	if f.useSession(tx, flow) {
		if res, ok := f.Session(r); ok && res.User != nil && f.inScope(r, pf, tx, res) {
			sso = pf.ssoSession(res)
			c.sso = res
		}
	}
	js, err := pf.engine.Start(pf.policy.RP.Journey, f.resolverValues(r, tx, pf, lang), sso)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	ps.Journey = js
	c.advance(pf, nil)
}

// advance runs the journey to its next page, or to its end.
func (c *call) advance(pf *policyFlow, in *journey.Input) {
	c.pf = pf
	ctx := context.WithValue(c.r.Context(), callKey{}, c)
	out, err := pf.engine.Next(ctx, c.pol.Journey, in)
	var ue *journey.UserError
	switch {
	case err == nil:
	case errors.As(err, &ue) && (ue.Code == journey.ErrCancelled.Code || ue == journey.ErrProviderCancelled):
		c.f.comp.Fail(c.w, c.r, c.tx, "access_denied", ue.Code+": "+ue.Message)
		return
	case errors.As(err, &ue):
		c.f.comp.Fail(c.w, c.r, c.tx, "server_error", ue.Code+": "+ue.Message)
		return
	case c.connectorError(err):
		return
	default:
		c.f.fail(c.w, c.r, err)
		return
	}
	if out.Redirect != nil {
		if strings.Contains(" "+c.tx.Request.Prompt+" ", " none ") {
			c.f.comp.Fail(c.w, c.r, c.tx, "interaction_required", "AADB2C90077: User does not have an existing session and request prompt parameter has a value of 'None'.")
			return
		}
		c.redirect(out.Redirect)
		return
	}
	if out.Page != nil {
		if strings.Contains(" "+c.tx.Request.Prompt+" ", " none ") {
			// prompt=none: the session did not cover the journey.
			c.f.comp.Fail(c.w, c.r, c.tx, "interaction_required", "AADB2C90077: User does not have an existing session and request prompt parameter has a value of 'None'.")
			return
		}
		if err := c.store(); err != nil {
			c.f.fail(c.w, c.r, err)
			return
		}
		c.renderPolicy(pf, out.Page)
		return
	}
	c.sendClaims(pf, out)
}

// sendClaims completes the sign-in with the relying party's claims.
func (c *call) sendClaims(pf *policyFlow, out *journey.Outcome) {
	ctx := c.r.Context()
	oid := c.pol.Journey.Claims.String(pf.policy.ClaimID("objectId"))
	if oid == "" {
		oid = out.Subject
	}
	u, err := c.f.st.Users().Get(ctx, oid)
	if errors.Is(err, store.ErrNotFound) {
		c.f.comp.Fail(c.w, c.r, c.tx, "server_error", "AADB2C90085: The journey ended without an account (no objectId claim).")
		return
	}
	if err != nil {
		c.f.fail(c.w, c.r, err)
		return
	}
	if u.Attributes["accountEnabled"] == "false" {
		// Any way in (a provider, a session) ends here for a disabled account.
		c.f.comp.Fail(c.w, c.r, c.tx, "access_denied", "AADSTS50057: The user account is disabled.")
		return
	}
	now := c.f.now()
	authTime := now
	passedMFA := c.pol.MFA || c.pol.Journey.SecondFactor
	if c.sso != nil && !c.pol.Interactive && (c.sso.MFA || !passedMFA) {
		authTime = c.sso.AuthTime // the session covered the whole journey
		passedMFA = c.sso.MFA
	} else {
		// New credentials, or a step-up: a session without MFA that just
		// passed a second factor is replaced by one that carries it.
		terms := c.f.sessionTerms(pf)
		terms.mfa = passedMFA
		if err := c.f.startSession(c.w, c.r, u, now, terms); err != nil {
			c.f.fail(c.w, c.r, err)
			return
		}
	}
	c.f.markScope(c.w, pf, c.tx, u.ID, authTime)
	if m := c.flow.MFA; c.pol.MFA && m != nil && m.RememberFor > 0 {
		c.f.rememberMFA(c.w, u.ID, m.RememberFor) // the journey passed its second factor
	}
	// newUser is the journey's (the directory write said it created the
	// account), whether or not the relying party lists it.
	newUser, _ := c.pol.Journey.Claims[pf.policy.ClaimID("newUser")].Value.(bool)
	claims := map[string]any{}
	if !pf.userFlow {
		// A user flow's tokens carry its application claims (Flow.Claims,
		// chosen by the issuer); a custom policy's its relying party's.
		for k, v := range out.Claims {
			switch k {
			case "sub", "oid", "newUser":
				continue // the issuer adds these itself (Flow.Claims)
			}
			claims[k] = v
		}
	}
	maps.Copy(claims, c.pol.TokenClaims)
	if newUser && c.pol.Interactive {
		c.f.metrics.SignUp(c.flow.Name, idmetrics.Success)
	}
	res := tenant.Result{User: u, AuthTime: authTime, NewUser: newUser, MFA: passedMFA}
	c.emit(secevent.SignInSucceeded, "", slog.String("user", u.ID), slog.String("client", c.tx.Request.ClientID),
		slog.Bool("sso", c.sso != nil && !c.pol.Interactive), slog.Bool("mfa", passedMFA), slog.String("correlation", c.f.correlationID(c.tx)))
	if c.pol.Journey.Claims.String(pf.policy.ClaimID("authenticationSource")) == "socialIdpAuthentication" {
		res.IdentityProvider = c.pol.Journey.Claims.String(pf.policy.ClaimID("identityProvider")) // the idp claim
		if at := c.pol.Journey.Claims.String("identityProviderAccessToken"); at != "" && pf.userFlow &&
			slices.Contains(c.flow.Claims, "identityProviderAccessToken") {
			// B2C's idp_access_token: the provider's access token, for an
			// app that calls the provider's API.
			claims["idp_access_token"] = at
		}
	}
	if len(claims) > 0 {
		res.Claims = claims
	}
	c.f.comp.Complete(c.w, c.r, c.tx, res)
}

// sessionTerms are the SSO session a policy's sign-in starts: its
// relying party's SessionExpiryInSeconds and SessionExpiryType; a user
// flow's are identity.sessionLifetime, rolling.
func (f *Flows) sessionTerms(pf *policyFlow) sessionTerms {
	b := pf.policy.RP.Behaviors
	if pf.userFlow || b.SessionExpirySeconds <= 0 {
		return sessionTerms{lifetime: f.lifetime}
	}
	return sessionTerms{lifetime: time.Duration(b.SessionExpirySeconds) * time.Second, absolute: b.SessionExpiryType == "Absolute"}
}

// resume continues a stored journey for a page request; false: an error
// page was written.
func (f *Flows) resume(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) (*call, bool) {
	ps, err := loadPolicyState(tx)
	if err != nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_state")
		return nil, false
	}
	c := &call{f: f, w: w, r: r, tx: tx, flow: flow, st: &ps.Pages, pol: ps, lang: locale.Lang(f.policyLanguage(r, tx, pf))}
	if f.useSession(tx, flow) {
		if res, ok := f.Session(r); ok && res.User != nil && f.inScope(r, pf, tx, res) {
			c.sso = res
		}
	}
	return c, true
}

// postPolicy takes a page's answer.
func (f *Flows) postPolicy(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) {
	c, ok := f.resume(w, r, tx, flow, pf)
	if !ok {
		return
	}
	ps, form := c.pol, r.PostForm
	in := &journey.Input{Profile: form.Get("page"), Values: map[string]string{}}
	for k, vs := range form {
		switch k {
		case "tx", "csrf_token", "page", pages.FormAction, pages.FormClaimsExchange:
			continue
		}
		// A CheckboxMultiSelect posts one value per ticked box: the claim
		// is their comma-separated list, as B2C's.
		in.Values[k] = strings.Join(vs, ",")
	}
	action := form.Get(pages.FormAction)
	switch {
	case action == pages.ButtonCancel:
		in.Action = "cancel"
	case form.Get(pages.FormClaimsExchange) != "":
		in.Action, in.Exchange = "select", form.Get(pages.FormClaimsExchange)
	default:
		claim, act, builtin := pages.ParseVerificationAction(action)
		if builtin {
			in.Claim = claim
			in.Values["verificationCode"] = form.Get(pages.VerificationCodeName(claim))
		} else if ctrl, a, ok := pages.ParseControlAction(action); ok {
			in.Claim, act = controlClaim(pf, ctrl), a
		}
		if in.Claim != "" {
			switch act {
			case pages.ActionSendCode, pages.ActionSendNewCode:
				in.Action = "sendCode"
			case pages.ActionCall:
				in.Action, c.byCall = "sendCode", f.voice
			case pages.ActionVerifyCode:
				in.Action = "verifyCode"
			case pages.ActionChangeClaim:
				in.Action = "changeClaim"
			}
		}
	}
	if in.Action == "select" || in.Action == "" && slices.Contains(pf.ssoProfiles, in.Profile) {
		// The user entered credentials (or chose a provider): a new SSO
		// session starts; a profile page answered under the session keeps it.
		ps.Interactive = true
	}
	c.advance(pf, in)
}

// controlClaim is the claim a display control verifies.
func controlClaim(pf *policyFlow, control string) string {
	if dc := pf.policy.DisplayControls[control]; dc != nil {
		for _, d := range dc.DisplayClaims {
			if d.ControlClaimType == "" {
				return pf.policy.ClaimID(d.ClaimType)
			}
		}
	}
	return control
}

// showPolicy answers a GET of the journey's page: the sign-up and
// forgot-password links (B2C's claimsexchange query, with the CSRF token)
// or a reload.
func (f *Flows) showPolicy(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) {
	if len(tx.State) == 0 {
		f.beginPolicy(w, r, tx, flow, pf) // a transaction whose first page was not shown yet
		return
	}
	c, ok := f.resume(w, r, tx, flow, pf)
	if !ok {
		return
	}
	ps, q := c.pol, r.URL.Query()
	ex := q.Get("claimsexchange")
	if ex == "" {
		c.advance(pf, nil)
		return
	}
	if !f.checkCSRFValue(r, tx, q.Get("csrf_token")) {
		f.errorPage(w, r, http.StatusForbidden, "error_csrf")
		return
	}
	if ex == "ForgotPassword" {
		// B2C's starter pack: the app starts its password reset policy.
		f.comp.Fail(w, r, tx, "access_denied", "AADB2C90118: The user has forgotten their password.")
		return
	}
	ps.Interactive = true
	c.advance(pf, &journey.Input{Profile: ps.Journey.Page, Action: "select", Exchange: ex})
}
