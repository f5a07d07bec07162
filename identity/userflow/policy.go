package userflow

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/directory"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
)

// Custom policies on the policy engine (identity/ief): the journey runs
// in package journey; this file is its HTTP side — the pages of B2C's
// page contract (identity/ief/pages) behind the same transaction, CSRF,
// session, throttle and lockout machinery as the user flows, and the
// providers that need it (the local password check, email codes, the
// directory).

// policyState is a custom policy's Transaction.State on the policy
// engine: the journey, and the pages' own state (the email verification
// in progress) beside it.
type policyState struct {
	Journey *journey.State `json:"journey"`
	Pages   state          `json:"pages"`
	// Interactive: the user answered a page in this transaction (so a new
	// SSO session starts; a journey fully covered by the session keeps it).
	Interactive bool `json:"interactive,omitempty"`
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
}

type callKey struct{}

// callFrom is the page request a runner runs in.
func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
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
	for _, id := range set.IDs() {
		p := set.Policy(id)
		eng, err := journey.New(journey.Env{Policy: p, Runners: runners, Codes: codes{}, Now: f.now})
		if err != nil {
			errs = append(errs, &config.Error{Pos: p.Pos, Msg: err.Error()})
			continue
		}
		pf := &policyFlow{policy: p, engine: eng, templates: map[string]*pages.Template{}}
		for _, cid := range sortedIDs(p.ContentDefs) {
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
		pf.loc = p.Localization
		out[strings.ToLower(p.ID)] = pf
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// runners are the providers whose work needs Gatehouse's stores and the
// page request.
func (f *Flows) runners() map[string]journey.Runner {
	noop := journey.RunnerFunc(func(context.Context, *journey.Call) (journey.Bag, error) { return journey.Bag{}, nil })
	dir := &directory.Directory{Users: f.st.Users(), Tenant: f.reg.Domain(), Now: f.now,
		HashPassword: func(pw string) (string, error) { return f.hasher.Hash(context.Background(), pw) }}
	return map[string]journey.Runner{
		"ClaimsTransformation": noop,
		"None":                 noop,
		"AzureActiveDirectory": directoryRunner(dir),
		"LocalCredentials (login-NonInteractive)": journey.RunnerFunc(localCredentials),
		"AadSspr": journey.RunnerFunc(aadSspr),
		"RESTful": f.restful,
	}
}

func directoryRunner(dir *directory.Directory) journey.Runner {
	return journey.RunnerFunc(func(ctx context.Context, c *journey.Call) (journey.Bag, error) {
		md := c.Profile.Metadata
		refs := func(list []ief.ClaimRef) []directory.Ref {
			out := make([]directory.Ref, 0, len(list))
			for _, r := range list {
				ref := directory.Ref{ClaimType: r.ClaimType, PartnerClaimType: r.PartnerClaimType, DefaultValue: r.DefaultValue,
					AlwaysUseDefault: r.AlwaysUseDefault}
				if ct := c.Policy.Claim(r.ClaimType); ct != nil {
					ref.ClaimType, ref.DataType = ct.ID, claimstx.DataType(ct.DataType)
				}
				out = append(out, ref)
			}
			return out
		}
		p := directory.Profile{ID: c.Profile.ID, Operation: md["Operation"],
			RaiseIfNotExist: md["RaiseErrorIfClaimsPrincipalDoesNotExist"] == "true",
			RaiseIfExists:   md["RaiseErrorIfClaimsPrincipalAlreadyExists"] == "true",
			InputClaims:     refs(c.Profile.InputClaims), PersistedClaims: refs(c.Profile.PersistedClaims),
			OutputClaims: refs(c.Profile.OutputClaims), Messages: map[string]string{}}
		if c := callFrom(ctx); c != nil {
			for _, k := range []string{directory.MsgAlreadyExists, directory.MsgDoesNotExist} {
				if t := c.errorText(k, ""); t != "" {
					p.Messages[k] = t
				}
			}
		}
		for k, v := range md {
			if strings.HasPrefix(k, "UserMessageIf") {
				p.Messages[k] = v // the profile's own text wins
			}
		}
		out, err := dir.Run(ctx, p, directory.Claims(c.In))
		var de *directory.Error
		if errors.As(err, &de) {
			if call := callFrom(ctx); call != nil && de.Kind == directory.AlreadyExists && p.Operation == directory.Write {
				call.f.metrics.SignUp(call.flow.Name, idmetrics.Failure)
				call.f.metrics.Failed(idmetrics.ReasonUserExists)
			}
			return nil, &journey.UserError{Code: de.Code, Message: de.Message}
		}
		return journey.Bag(out), err
	})
}

// localCredentials is login-NonInteractive: B2C sends the username and
// password to Entra ID; Gatehouse checks them itself, with the user
// flows' throttle and smart lockout.
func localCredentials(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: login-NonInteractive outside a page request")
	}
	email := normEmail(claimstx.FormatValue(jc.Inputs["username"].Value))
	pw := claimstx.FormatValue(jc.Inputs["password"].Value)
	u, d, err := c.checkPassword(email, pw)
	if err != nil {
		return nil, err
	}
	if d != nil {
		msg := d.msg
		md := jc.Profile.Metadata
		switch {
		case d.locked:
			msg = orText(md["UserMessageIfUserAccountLocked"], c.errorText("UserMessageIfUserAccountLocked", msg))
		case d.noAccount && md["UserMessageIfClaimsPrincipalDoesNotExist"] != "":
			// The policy chose to tell unknown accounts apart (B2C's default).
			msg = md["UserMessageIfClaimsPrincipalDoesNotExist"]
		case d.status == 0:
			// A wrong password and an unknown account read the same: the
			// policy's DefaultMessage ("Invalid username or password.").
			msg = orText(md["UserMessageIfInvalidPassword"], c.errorText("DefaultMessage", msg))
		}
		return nil, &journey.UserError{Code: "AADB2C90225", Message: msg, Status: d.status, RetryAfter: d.retryAfter}
	}
	s := func(v string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: v} }
	got := map[string]claimstx.Claim{"oid": s(u.ID), "sub": s(u.ID), "tid": s(c.f.reg.TenantID),
		"upn": s(u.ID + "@" + c.f.reg.Domain()), "email": s(u.Email)}
	if u.GivenName != "" {
		got["given_name"] = s(u.GivenName)
	}
	if u.Surname != "" {
		got["family_name"] = s(u.Surname)
	}
	if u.DisplayName != "" {
		got["name"] = s(u.DisplayName)
	}
	return jc.ByName(got), nil
}

func orText(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// aadSspr is AadSsprProtocolProvider: send or verify an email code (the
// display-controls packs' VerificationControl actions).
func aadSspr(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	addr := claimstx.FormatValue(jc.Inputs["emailAddress"].Value)
	var err error
	if jc.Profile.Metadata["Operation"] == "SendCode" {
		err = codes{}.Send(ctx, jc.State, addr)
	} else {
		err = codes{}.Verify(ctx, jc.State, addr, claimstx.FormatValue(jc.Inputs["verificationCode"].Value))
	}
	return journey.Bag{}, err
}

// codes are the email codes of Verified.Email and AadSspr, with the user
// flows' limits.
type codes struct{}

func (codes) Send(ctx context.Context, _ *journey.State, address string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: email codes outside a page request")
	}
	email := normEmail(address)
	if !validEmail(email) {
		return &journey.UserError{Code: "AADB2C90046", Message: msgInvalidEmail}
	}
	d, err := c.issueCode(email, c.lang)
	return denialErr(d, err)
}

func (codes) Verify(ctx context.Context, _ *journey.State, address, code string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: email codes outside a page request")
	}
	if c.st.Email == "" || c.st.Email != normEmail(address) {
		return &journey.UserError{Code: "AADB2C90046", Message: msgCodeExpired}
	}
	d, err := c.checkCode(code)
	return denialErr(d, err)
}

func denialErr(d *denial, err error) error {
	if err != nil || d == nil {
		return err
	}
	return &journey.UserError{Code: "AADB2C90046", Message: d.msg, Status: d.status, RetryAfter: d.retryAfter}
}

// ---- the journey's HTTP side ----

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

// ssoSession is what the browser's SSO session brings to a journey: the
// self-asserted profiles a session manager records are skipped, with the
// account's identifying claims; directory reads run again so tokens carry
// current values.
func (pf *policyFlow) ssoSession(u *store.User) *journey.Session {
	s := &journey.Session{Claims: journey.Bag{}}
	for id, tp := range pf.policy.Profiles {
		sm := pf.policy.Profiles[tp.SessionProfile]
		if tp.Provider != nil && tp.Provider.Name == "SelfAsserted" && sm != nil && sm.Handler != "Web.TPEngine.SSO.NoopSSOSessionProvider" {
			s.Profiles = append(s.Profiles, id)
		}
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

// ---- SingleSignOn Scope ----
//
// The SSO session is the tenant's (B2C's default Scope, Tenant). A relying
// party with Scope Application or Policy honours it only where that
// application or policy signed in with it: a completed journey leaves a
// marker cookie for its scope, bound (HMAC under the pages' key) to the
// account and the session's sign-in time, so a session started elsewhere
// does not carry it. Suppressed honours no session.

// scopeKey is the relying party's SSO scope for a transaction ("" for
// Tenant, which needs no marker).
func scopeKey(pf *policyFlow, tx *tenant.Transaction) string {
	switch pf.policy.RP.Behaviors.SSOScope {
	case "Application":
		return "app\x00" + tx.Request.ClientID
	case "Policy":
		return "policy\x00" + strings.ToLower(pf.policy.ID)
	}
	return ""
}

func (f *Flows) scopeCookie(key string) string {
	return "x-ms-cpim-sso-scope_" + hex.EncodeToString(f.mac("sso-scope-name", key)[:8])
}

func (f *Flows) scopeValue(key, userID string, authTime time.Time) string {
	return hex.EncodeToString(f.mac("sso-scope", key, userID, strconv.FormatInt(authTime.Unix(), 10)))
}

// inScope reports whether the browser's session may sign in this
// relying party's journey.
func (f *Flows) inScope(r *http.Request, pf *policyFlow, tx *tenant.Transaction, res *tenant.Result) bool {
	if pf.policy.RP.Behaviors.SSOScope == "Suppressed" {
		return false
	}
	key := scopeKey(pf, tx)
	if key == "" {
		return true
	}
	c, err := r.Cookie(f.scopeCookie(key))
	return err == nil && hmac.Equal([]byte(c.Value), []byte(f.scopeValue(key, res.User.ID, res.AuthTime)))
}

// markScope records that the relying party's scope signed in with the
// session.
func (f *Flows) markScope(w http.ResponseWriter, pf *policyFlow, tx *tenant.Transaction, userID string, authTime time.Time) {
	if key := scopeKey(pf, tx); key != "" {
		http.SetCookie(w, &http.Cookie{Name: f.scopeCookie(key), Value: f.scopeValue(key, userID, authTime),
			Path: f.cookiePath(), MaxAge: int(f.lifetime / time.Second), HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode})
	}
}

// beginPolicy starts a custom policy's journey.
func (f *Flows) beginPolicy(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) {
	ps := &policyState{}
	lang := f.policyLanguage(r, tx, pf)
	c := &call{f: f, w: w, r: r, tx: tx, flow: flow, st: &ps.Pages, pol: ps, lang: locale.Lang(lang)}
	var sso *journey.Session
	if tx.SSO {
		if res, ok := f.Session(r); ok && res.User != nil && f.inScope(r, pf, tx, res) {
			sso = pf.ssoSession(res.User)
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

// policyTexts are the policy's localized strings in the page language,
// from every content definition's resources: what providers' messages
// (ErrorMessage strings) are looked up in.
func (c *call) policyTexts() *localization.Strings {
	if c.texts == nil && c.pf != nil {
		var refs []localization.Ref
		for _, id := range sortedIDs(c.pf.policy.ContentDefs) {
			refs = append(refs, localRefs(c.pf.policy.ContentDefs[id])...)
		}
		c.texts, _ = localization.Lookup(c.pf.loc, string(c.lang), "selfasserted", refs)
	}
	return c.texts
}

func sortedIDs(m map[string]*ief.ContentDef) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// errorText is an ErrorMessage string of the policy's localization, or def.
func (c *call) errorText(id, def string) string {
	if t := c.policyTexts(); t != nil {
		if s, ok := t.Error(id); ok && s != "" {
			return s
		}
	}
	return def
}

// advance runs the journey to its next page, or to its end.
func (c *call) advance(pf *policyFlow, in *journey.Input) {
	c.pf = pf
	ctx := context.WithValue(c.r.Context(), callKey{}, c)
	out, err := pf.engine.Next(ctx, c.pol.Journey, in)
	var ue *journey.UserError
	switch {
	case err == nil:
	case errors.As(err, &ue) && ue.Code == journey.ErrCancelled.Code:
		c.f.comp.Fail(c.w, c.r, c.tx, "access_denied", ue.Code+": "+ue.Message)
		return
	case errors.As(err, &ue):
		c.f.comp.Fail(c.w, c.r, c.tx, "server_error", ue.Code+": "+ue.Message)
		return
	default:
		c.f.fail(c.w, c.r, err)
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
	oid := c.pol.Journey.Claims.String(claimID(pf.policy, "objectId"))
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
	now := c.f.now()
	authTime := now
	if c.sso != nil && !c.pol.Interactive {
		authTime = c.sso.AuthTime // the session covered the whole journey
	} else if err := c.f.startSession(c.w, c.r, u, now); err != nil {
		c.f.fail(c.w, c.r, err)
		return
	}
	c.f.markScope(c.w, pf, c.tx, u.ID, authTime)
	// newUser is the journey's (the directory write said it created the
	// account), whether or not the relying party lists it.
	newUser, _ := c.pol.Journey.Claims[claimID(pf.policy, "newUser")].Value.(bool)
	claims := map[string]any{}
	for k, v := range out.Claims {
		switch k {
		case "sub", "oid", "newUser":
			continue // the issuer adds these itself (Flow.Claims)
		}
		claims[k] = v
	}
	if newUser && c.pol.Interactive {
		c.f.metrics.SignUp(c.flow.Name, idmetrics.Success)
	}
	res := tenant.Result{User: u, AuthTime: authTime, NewUser: newUser}
	if len(claims) > 0 {
		res.Claims = claims
	}
	c.f.comp.Complete(c.w, c.r, c.tx, res)
}

func claimID(p *ief.Policy, ref string) string {
	if ct := p.Claim(ref); ct != nil {
		return ct.ID
	}
	return ref
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
	if tx.SSO {
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
			case pages.ActionVerifyCode:
				in.Action = "verifyCode"
			case pages.ActionChangeClaim:
				in.Action = "changeClaim"
			}
		}
	}
	if in.Action == "" || in.Action == "select" {
		ps.Interactive = true
	}
	c.advance(pf, in)
}

// controlClaim is the claim a display control verifies.
func controlClaim(pf *policyFlow, control string) string {
	if dc := pf.policy.DisplayControls[control]; dc != nil {
		for _, d := range dc.DisplayClaims {
			if d.ControlClaimType == "" {
				return claimID(pf.policy, d.ClaimType)
			}
		}
	}
	return control
}

// showPolicy answers a GET of the journey's page: the sign-up and
// forgot-password links (B2C's claimsexchange query, with the CSRF token)
// or a reload.
func (f *Flows) showPolicy(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, pf *policyFlow) {
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

// renderPolicy renders a journey page with its content definition.
func (c *call) renderPolicy(pf *policyFlow, jp *journey.Page) {
	f := c.f
	cd := pf.policy.ContentDefs[jp.ContentDef]
	kind := map[string]pages.Kind{"unified": pages.Unified, "selfasserted": pages.SelfAsserted, "selection": pages.ProviderSelection}[jp.Kind]
	var version pages.Version
	if cd != nil {
		if k, v, err := pages.ParseDataURI(cd.DataURI); err == nil {
			kind, version = k, v
		}
	}
	lang := string(c.lang)
	strs, _ := localization.Lookup(pf.loc, lang, contractName(kind), localRefs(cd))
	base := f.apiBase(c.flow)
	csrf := f.csrfToken(c.w, c.r, c.tx)
	p := &pages.Page{Kind: kind, Version: version, Lang: lang, FormAction: base + "/SelfAsserted",
		Hidden:    []pages.Hidden{{Name: "tx", Value: c.tx.ID}, {Name: "csrf_token", Value: csrf}, {Name: "page", Value: jp.Profile}},
		PageError: jp.Error, Texts: map[string]string{}}
	if strs != nil {
		for _, id := range []string{"heading", "button_signin", "button_continue", "button_cancel", "forgotpassword_link",
			"createaccount_intro", "createaccount_link", "local_intro_email", "local_intro_generic", "ver_but_send",
			"ver_but_verify", "ver_but_resend", "ver_but_edit", "ver_but_default", "ver_input", "ver_intro_msg"} {
			if t, ok := strs.UX(id); ok {
				p.Texts[id] = t
			}
		}
	}
	label := func(ct *ief.ClaimType) (string, string) {
		l, h := ct.DisplayName, ct.UserHelpText
		if strs != nil {
			if t, ok := strs.Claim(ct.ID, "DisplayName"); ok {
				l = t
			}
			if t, ok := strs.Claim(ct.ID, "UserHelpText"); ok {
				h = t
			}
		}
		return l, h
	}
	info := localText(strs, "", jp.InfoID, jp.Info)
	controls := map[string]*pages.Control{}
	var order []*pages.Control
	for _, fl := range jp.Fields {
		l, h := label(fl.Claim)
		pf := pages.Field{ClaimTypeID: fl.Claim.ID, Label: l, HelpText: h, InputType: fl.Claim.UserInputType, Value: fl.Value,
			Required: fl.Required, ReadOnly: fl.ReadOnly, PatternHelpText: fl.Claim.PatternHelpText, Error: localText(strs, fl.Claim.ID, fl.ErrorID, fl.Error)}
		for _, e := range fl.Claim.Enumeration {
			pf.Options = append(pf.Options, pages.Option{Value: e.Value, Text: e.Text, Selected: e.Value == fl.Value || fl.Value == "" && e.SelectByDefault})
		}
		if !fl.Verify {
			p.Fields = append(p.Fields, pf)
			continue
		}
		state := pages.StateSendCode
		switch {
		case fl.Verified:
			state, pf.ReadOnly = pages.StateVerified, true
		case fl.CodeSent:
			state, pf.ReadOnly = pages.StateVerifyCode, true
		}
		if fl.Control == "" {
			// B2C's built-in verification of a Verified.* claim: the
			// email_ver_but_send ... buttons on the field itself.
			pf.Verification = &pages.Verification{State: state, Message: info}
			p.Fields = append(p.Fields, pf)
			continue
		}
		ctl := controls[fl.Control]
		if ctl == nil {
			ctl = &pages.Control{ID: fl.Control, Type: "VerificationControl"}
			controls[fl.Control] = ctl
			order = append(order, ctl)
		}
		ctl.Error, ctl.State, ctl.Message = pf.Error, state, info
		pf.Error = ""
		ctl.Fields = append(ctl.Fields, pf)
		if state == pages.StateVerifyCode {
			ctl.Fields = append(ctl.Fields, pages.Field{ClaimTypeID: orText(fl.Code, "verificationCode"),
				Label: orText(p.Texts["ver_input"], "Verification code"), Required: true})
		}
	}
	for _, ctl := range order {
		p.DisplayControls = append(p.DisplayControls, *ctl)
	}
	link := func(exchange string) string {
		return base + "/CombinedSigninAndSignup/unified?" + url.Values{"tx": {c.tx.ID}, "csrf_token": {csrf}, "claimsexchange": {exchange}}.Encode()
	}
	if jp.Kind == "unified" {
		if jp.SignUp != "" {
			p.CreateAccount = &pages.Link{Href: link(jp.SignUp)}
		}
		p.ForgotPassword = &pages.Link{Href: link("ForgotPassword")}
	}
	for _, ch := range jp.Choices {
		name := ch
		for _, j := range pf.policy.Journeys {
			for _, s := range j.Steps {
				for _, x := range s.Exchanges {
					if x.ID == ch {
						if tp := pf.policy.Profiles[x.Profile]; tp != nil && tp.DisplayName != "" {
							name = tp.DisplayName
						}
					}
				}
			}
		}
		p.Providers = append(p.Providers, pages.ProviderButton{ExchangeID: ch, DisplayName: name})
	}
	tmpl := pf.templates[jp.ContentDef]
	if tmpl == nil {
		var err error
		if tmpl, err = pages.LoadTemplate(c.r.Context(), "~/default", "", nil); err != nil {
			f.fail(c.w, c.r, err)
			return
		}
	}
	allowScripts := pf.policy.RP.Behaviors.ScriptExecution == "Allow" && version.AllowsScripts()
	nb := make([]byte, 18)
	_, _ = rand.Read(nb)
	p.Nonce = hex.EncodeToString(nb)
	var body bytes.Buffer
	if err := tmpl.Render(&body, p, allowScripts); err != nil {
		f.fail(c.w, c.r, err)
		return
	}
	formAction := "'self'"
	if o := origin(c.tx.Request.RedirectURI); o != "" {
		formAction += " " + o
	}
	ext := ""
	if !tmpl.Builtin() {
		ext = " https:" // a tenant's template brings its stylesheets, images and fonts
	}
	script := "'none'"
	if allowScripts {
		script = "'nonce-" + p.Nonce + "'" + ext
	}
	securityHeaders(c.w.Header(), "default-src 'none'; script-src "+script+"; style-src 'self' 'nonce-"+p.Nonce+"'"+ext+
		"; img-src 'self' data:"+ext+"; font-src 'self'"+ext+"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if jp.Status != 0 {
		if jp.RetryAfter > 0 {
			c.w.Header().Set("Retry-After", strconv.Itoa(int((jp.RetryAfter+time.Second-1)/time.Second)))
		}
		c.w.WriteHeader(jp.Status)
	}
	_, _ = c.w.Write(body.Bytes())
}

// localText is a journey message in the page's language: the claim's
// PatternHelpText, or the UX string id, else the engine's English.
func localText(strs *localization.Strings, claim, id, def string) string {
	if strs == nil || id == "" {
		return def
	}
	var t string
	var ok bool
	if id == "PatternHelpText" {
		t, ok = strs.Claim(claim, id)
	} else {
		t, ok = strs.UX(id)
	}
	if ok && t != "" {
		return t
	}
	return def
}

func contractName(k pages.Kind) string {
	switch k {
	case pages.Unified:
		return "unifiedssp"
	case pages.ProviderSelection:
		return "providerselection"
	}
	return "selfasserted"
}

func localRefs(cd *ief.ContentDef) []localization.Ref {
	if cd == nil {
		return nil
	}
	var refs []localization.Ref
	for lang, id := range cd.Localized {
		refs = append(refs, localization.Ref{Language: lang, ResourcesID: id})
	}
	return refs
}
