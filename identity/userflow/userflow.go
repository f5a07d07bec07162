// Package userflow is Gatehouse's hosted pages: B2C's user flows (sign-up
// or sign-in, password reset, profile edit), compiled to policies by
// identity/ief/userflows, and custom policies, both run as journeys of the
// policy engine (identity/ief/journey) behind one transaction, CSRF,
// session, throttle and lockout machinery. It implements
// tenant.Interaction and calls tenant.Completer.
//
// Paths (below /{tenant}/{policy}/api/, routed here by the provider):
//
//	GET  .../api/CombinedSigninAndSignup/unified?tx={id}[&claimsexchange={id}&csrf_token=...]
//	     shows the journey's page; with claimsexchange it follows the
//	     sign-up or forgot-password link (so everything works without
//	     JavaScript)
//	POST .../api/SelfAsserted
//	     every form: tx, csrf_token, page (the technical profile), action
//	     (the pressed button: next, continue, cancel, email_ver_but_send,
//	     email_ver_but_verify, email_ver_but_resend, email_ver_but_edit, a
//	     display control's) and the inputs
//
// Begin renders the first page at the authorize URL itself.
//
// Cookies: the SSO session "x-ms-cpim-sso_{tenant}.onmicrosoft.com" (B2C
// names it "x-ms-cpim-sso:{tenant}.onmicrosoft.com_0", but ':' is not
// allowed in a cookie name), a session cookie (no Expires; the stored
// session expires, rolling) holding 32 random bytes whose SHA-256 is the
// store key; HttpOnly, Secure and SameSite=None on https (silent renew in
// iframes), SameSite=Lax on http. "x-ms-cpim-csrf": a random per-browser
// value; each form carries HMAC(cookie, tx id), checked in constant time
// on every POST (so a login CSRF with the attacker's own transaction fails).
package userflow

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
	"github.com/gatehouse/gatehouse/identity/ief/userflows"
	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/mail"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/sms"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/totp"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// Action is what an API connector answered.
type Action int

// Connector actions.
const (
	Continue Action = iota
	ShowBlockPage
	ValidationError
)

// Outcome is an API connector's answer: the action, the user message of a
// block page or validation error, and claim overrides.
type Outcome struct {
	Action  Action
	Message string
	Claims  map[string]any
}

// Connectors calls the API connectors configured on a flow's steps
// (implemented by package connector). Call is made only for steps listed in
// flow.APIConnectors (see tenant.ConnectorName). claims hold the user's attributes
// plus "client_id" and "ui_locales" of the request. An error means the API
// failed (timeout, bad answer): the pages show a generic message and store
// nothing. ValidationError is honoured at PostAttributeCollection only.
type Connectors interface {
	Call(ctx context.Context, step string, flow *tenant.Flow, claims map[string]any) (Outcome, error)
}

// Options configure New.
type Options struct {
	Registry  *tenant.Registry
	Store     store.Store
	Completer tenant.Completer
	// Mail sends verification codes (required when a flow verifies email
	// or for password reset).
	Mail mail.Sender
	// SMS sends phone codes (PhoneFactor MFA); Voice also offers them by
	// phone call.
	SMS   sms.Sender
	Voice bool
	// Page themes the pages (default: Registry.Source.Page).
	Page *config.Page
	// Lockout (default: Registry.Source.Lockout; threshold 10, 60 s).
	Lockout *config.Lockout
	// SessionLifetime of the SSO session, rolling (default
	// Registry.Source.SessionLifetime, else 24 h).
	SessionLifetime time.Duration
	// SecureCookies: nil means "PublicURL is https".
	SecureCookies *bool
	// Key keys the stored hashes of verification codes and wrong
	// passwords; all processes must share it. Default: derived from
	// Registry.Source.MasterKey, else random (one process only).
	Key        []byte
	Hasher     *password.Hasher // default password.DefaultHasher()
	Connectors Connectors       // nil: none
	// Policies are custom policies on the policy engine (identity/ief):
	// their relying parties run here as journeys. PolicyDir resolves
	// content definitions' relative LoadUri paths.
	Policies  *ief.Set
	PolicyDir string
	// RESTful runs the engine's RESTful profiles (identity/ief/restful).
	RESTful journey.Runner
	// Federations are the identity providers the browser visits, by
	// provider name (identity/ief/federation; RedirectURI is their
	// callback).
	Federations map[string]journey.Federation
	// Events records security events (failed sign-ins, lockouts, code
	// floods); nil logs them without counting.
	Events *secevent.Recorder
	// Metrics counts sign-ins, sign-ups and failures (nil: not counted).
	Metrics *idmetrics.Metrics
	// Limits are the throttles, familiar-device lifetime and trusted
	// proxies (default: tenant.NewLimits(Registry.Source)); the lockout
	// threshold and duration come from Lockout.
	Limits *tenant.Limits
	Now    func() time.Time
	Logger *slog.Logger
}

// Flows is the hosted pages.
type Flows struct {
	reg       *tenant.Registry
	st        store.Store
	comp      tenant.Completer
	mail      mail.Sender
	sms       sms.Sender
	voice     bool // phone codes may be sent by a call
	hasher    *password.Hasher
	lock      *password.Lockout
	limits    *tenant.Limits
	events    *secevent.Recorder
	metrics   *idmetrics.Metrics
	conn      Connectors
	now       func() time.Time
	log       *slog.Logger
	key       []byte
	secure    bool
	lifetime  time.Duration
	basePath  string // PublicURL path, "" or "/base"
	theme     theme
	ssoCookie string
	// policies are the custom policies on the policy engine, by
	// lower-case policy id.
	policies    map[string]*policyFlow
	restful     journey.Runner
	federations map[string]journey.Federation
	totpAEAD    cipher.AEAD // seals authenticator apps' secrets
}

var _ tenant.Interaction = (*Flows)(nil)

// OTP settings (B2C's one-time password defaults).
const (
	codeTTL         = 10 * time.Minute
	maxCodes        = 10
	maxCodeAttempts = 5
	csrfCookie      = "x-ms-cpim-csrf"
	maxAttrLen      = 256
)

// New checks the options and loads the page template.
func New(o Options) (*Flows, error) {
	if o.Registry == nil || o.Store == nil || o.Completer == nil {
		return nil, errors.New("userflow: Registry, Store and Completer are required")
	}
	src := o.Registry.Source
	if src == nil {
		src = &config.Identity{}
	}
	f := &Flows{reg: o.Registry, st: o.Store, comp: o.Completer, mail: o.Mail, sms: o.SMS, voice: o.Voice, hasher: o.Hasher,
		conn: o.Connectors, now: o.Now, log: o.Logger, key: o.Key, limits: o.Limits, events: o.Events,
		metrics: o.Metrics, restful: o.RESTful, federations: o.Federations}
	if f.limits == nil {
		f.limits = tenant.NewLimits(src)
	}
	if f.hasher == nil {
		f.hasher = password.DefaultHasher()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if len(f.key) == 0 {
		if src.MasterKey.IsSet() && len(src.MasterKey.Bytes) > 0 {
			m := hmac.New(sha256.New, src.MasterKey.Bytes)
			m.Write([]byte("gatehouse userflow hashes v1"))
			f.key = m.Sum(nil)
		} else {
			f.key = make([]byte, 32)
			if _, err := rand.Read(f.key); err != nil {
				return nil, err
			}
		}
	}
	aead, err := totp.NewAEAD(f.mac("totp sealing key"))
	if err != nil {
		return nil, err
	}
	f.totpAEAD = aead
	pub, err := url.Parse(o.Registry.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("userflow: public URL: %w", err)
	}
	f.basePath = strings.TrimSuffix(pub.Path, "/")
	f.secure = pub.Scheme == "https"
	if o.SecureCookies != nil {
		f.secure = *o.SecureCookies
	}
	f.lifetime = o.SessionLifetime
	if f.lifetime <= 0 {
		f.lifetime = src.SessionLifetime.Or(24 * time.Hour)
	}
	lk := o.Lockout
	if lk == nil {
		lk = src.Lockout
	}
	f.lock = &password.Lockout{Store: o.Store.Lockouts(), Key: f.key, Now: f.now}
	if lk != nil {
		f.lock.Threshold = lk.Threshold
		f.lock.Duration = lk.Duration.Or(time.Minute)
	}
	page := o.Page
	if page == nil {
		page = src.Page
	}
	f.theme = newTheme(page)
	f.ssoCookie = "x-ms-cpim-sso_" + o.Registry.Domain()
	if f.policies, err = f.newPolicyFlows(o.Policies, o.PolicyDir); err != nil {
		return nil, err
	}
	for _, fl := range o.Registry.Flows {
		if fl.Custom && f.policies[strings.ToLower(fl.Name)] == nil {
			return nil, fmt.Errorf("userflow: custom policy %s needs its policy in Options.Policies", fl.Name)
		}
	}
	if err := f.addUserFlows(page); err != nil {
		return nil, err
	}
	return f, nil
}

// addUserFlows compiles the user flows into policies (identity/ief/userflows)
// and runs them like custom policies, in the pages' theme or template.
func (f *Flows) addUserFlows(page *config.Page) error {
	set, err := userflows.Load(f.reg)
	if err != nil {
		return fmt.Errorf("userflow: compiling user flows: %w", err)
	}
	tmpl := pages.Themed(string(f.theme.Primary), string(f.theme.Background), f.theme.Logo, f.reg.TenantName)
	if page != nil && page.Template.IsSet() {
		if tmpl, err = pages.LoadTemplate(context.Background(), page.Template.Abs, "", nil); err != nil {
			return fmt.Errorf("userflow: page template: %w", err)
		}
	}
	pfs, err := f.newPolicyFlows(set, "")
	if err != nil {
		return err
	}
	for id, pf := range pfs {
		pf.userFlow, pf.imgOrigin = true, f.theme.logoOrigin
		for cd := range pf.policy.ContentDefs {
			pf.templates[cd] = tmpl
		}
		f.policies[id] = pf
	}
	return nil
}

// state is an email verification in progress (codes sent, the pending
// code's id), kept with the journey in Transaction.State.
type state struct {
	Email          string `json:"email,omitempty"` // address being verified or verified
	VerificationID string `json:"vid,omitempty"`
	EmailVerified  bool   `json:"verified,omitempty"`
	CodesSent      int    `json:"codes,omitempty"`
}

// flowOf is the transaction's flow; nil when it has none, or no policy
// to run.
func (f *Flows) flowOf(tx *tenant.Transaction) *tenant.Flow {
	fl := f.reg.Flows[strings.ToLower(tx.Flow)]
	if fl == nil || f.policies[strings.ToLower(fl.Name)] == nil {
		return nil
	}
	return fl
}

func (f *Flows) apiBase(flow *tenant.Flow) string {
	return f.basePath + "/" + f.reg.Domain() + "/" + flow.Name + "/api"
}

func (f *Flows) cookiePath() string { return f.basePath + "/" }

// Begin shows the first page of the flow.
func (f *Flows) Begin(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction) {
	flow := f.flowOf(tx)
	if flow == nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_flow")
		return
	}
	pf := f.policies[strings.ToLower(flow.Name)]
	if pf == nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_flow")
		return
	}
	f.beginPolicy(w, r, tx, flow, pf)
}

// ServeHTTP serves the pages' GETs and POSTs (paths in the package doc).
func (f *Flows) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/authresp") {
		f.callback(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/samlp/metadata") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		f.samlMetadata(w, r)
		return
	}
	i := strings.LastIndex(r.URL.Path, "/api/")
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	sub := r.URL.Path[i+len("/api/"):]
	switch {
	case sub == "CombinedSigninAndSignup/unified" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		f.show(w, r)
	case sub == "SelfAsserted" && r.Method == http.MethodPost:
		f.post(w, r)
	case sub == "CombinedSigninAndSignup/unified" || sub == "SelfAsserted":
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

// load finds the transaction of a request and checks it belongs to the
// flow of the URL.
func (f *Flows) load(w http.ResponseWriter, r *http.Request, id string) (*tenant.Transaction, *tenant.Flow, bool) {
	if id == "" || len(id) > 256 {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_tx")
		return nil, nil, false
	}
	tx, err := f.comp.Transaction(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		f.errorPage(w, r, http.StatusBadRequest, "error_expired")
		return nil, nil, false
	}
	if err != nil {
		f.fail(w, r, err)
		return nil, nil, false
	}
	flow := f.flowOf(tx)
	if cf := tenant.FlowFromContext(r.Context()); cf != nil && (flow == nil || !strings.EqualFold(cf.Name, flow.Name)) {
		f.errorPage(w, r, http.StatusBadRequest, "error_wrong_flow")
		return nil, nil, false
	}
	if flow == nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_flow")
		return nil, nil, false
	}
	return tx, flow, true
}

func (f *Flows) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tx, flow, ok := f.load(w, r, q.Get("tx"))
	if !ok {
		return
	}
	f.showPolicy(w, r, tx, flow, f.policies[strings.ToLower(flow.Name)])
}

func (f *Flows) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_invalid")
		return
	}
	tx, flow, ok := f.load(w, r, r.PostForm.Get("tx"))
	if !ok {
		return
	}
	if !f.checkCSRF(r, tx) {
		f.errorPage(w, r, http.StatusForbidden, "error_csrf")
		return
	}
	f.postPolicy(w, r, tx, flow, f.policies[strings.ToLower(flow.Name)])
}

// ---- CSRF ----

func (f *Flows) csrfToken(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction) string {
	var seed string
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		seed = c.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		seed = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: seed, Path: f.cookiePath(), HttpOnly: true,
			Secure: f.secure, SameSite: http.SameSiteStrictMode})
	}
	return tokenFor(seed, tx.ID)
}

func tokenFor(seed, txID string) string {
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("csrf\x00"))
	m.Write([]byte(txID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (f *Flows) checkCSRF(r *http.Request, tx *tenant.Transaction) bool {
	return f.checkCSRFValue(r, tx, r.PostForm.Get("csrf_token"))
}

// checkCSRFValue checks a token against the browser's CSRF cookie (a
// custom policy's sign-up link carries it in the query, as B2C's does).
func (f *Flows) checkCSRFValue(r *http.Request, tx *tenant.Transaction, token string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 43 {
		return false
	}
	want := tokenFor(c.Value, tx.ID)
	return hmac.Equal([]byte(want), []byte(token))
}

// ---- SSO session ----

func hashID(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:])
}

// sessionTerms are how long an SSO session lasts and whether using it
// extends it: a custom policy's UserJourneyBehaviors
// (SessionExpiryInSeconds, SessionExpiryType Rolling or Absolute), else
// identity.sessionLifetime, rolling.
type sessionTerms struct {
	lifetime time.Duration
	absolute bool
	// mfa: the sign-in that started the session passed a second factor;
	// a later journey under the session does not ask for one again.
	mfa bool
}

// cookieValue is the session cookie: the 43-character random id, with
// "{R|A}{seconds}" before it for terms other than the default and "M" for
// a session that passed MFA, then ".". The store keys the session by the
// hash of the whole value, so the terms (and the MFA mark) cannot be
// changed without losing the session.
func (t sessionTerms) cookieValue(id string, def time.Duration) string {
	head := ""
	if t.absolute || t.lifetime != def {
		kind := "R"
		if t.absolute {
			kind = "A"
		}
		head = fmt.Sprintf("%s%d", kind, int64(t.lifetime/time.Second))
	}
	if t.mfa {
		head += "M"
	}
	if head == "" {
		return id
	}
	return head + "." + id
}

// parseSessionCookie reads the terms of a cookie value; false when it is
// not one Gatehouse makes.
func parseSessionCookie(v string, def time.Duration) (sessionTerms, bool) {
	if len(v) == 43 {
		return sessionTerms{lifetime: def}, true
	}
	head, id, ok := strings.Cut(v, ".")
	if !ok || len(id) != 43 || len(head) > 8 {
		return sessionTerms{}, false
	}
	head, mfa := strings.CutSuffix(head, "M")
	if head == "" && mfa {
		return sessionTerms{lifetime: def, mfa: true}, true
	}
	if len(head) < 2 || head[0] != 'R' && head[0] != 'A' {
		return sessionTerms{}, false
	}
	secs, err := strconv.Atoi(head[1:])
	if err != nil || secs <= 0 {
		return sessionTerms{}, false
	}
	return sessionTerms{lifetime: time.Duration(secs) * time.Second, absolute: head[0] == 'A', mfa: mfa}, true
}

// Session returns the user of a valid SSO session cookie and extends a
// rolling session.
func (f *Flows) Session(r *http.Request) (*tenant.Result, bool) {
	c, err := r.Cookie(f.ssoCookie)
	if err != nil {
		return nil, false
	}
	terms, ok := parseSessionCookie(c.Value, f.lifetime)
	if !ok {
		return nil, false
	}
	ctx := r.Context()
	h := hashID(c.Value)
	s, err := f.st.Sessions().Get(ctx, h)
	if err != nil {
		return nil, false
	}
	now := f.now()
	if !s.ExpiresAt.After(now) {
		return nil, false
	}
	u, err := f.st.Users().Get(ctx, s.UserID)
	if err != nil {
		return nil, false
	}
	if !u.RefreshTokensValidFrom.IsZero() && s.AuthTime.Before(u.RefreshTokensValidFrom) {
		return nil, false // sessions revoked (signInSessionsValidFromDateTime)
	}
	if !terms.absolute {
		if err := f.st.Sessions().Touch(ctx, h, now.Add(terms.lifetime)); err != nil {
			f.log.WarnContext(ctx, "userflow: extending session", "err", err)
		}
	}
	return &tenant.Result{User: u, AuthTime: s.AuthTime, MFA: terms.mfa}, true
}

// SignOut deletes the stored session and the cookie.
func (f *Flows) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(f.ssoCookie); err == nil && c.Value != "" {
		if err := f.st.Sessions().Delete(r.Context(), hashID(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			f.log.WarnContext(r.Context(), "userflow: deleting session", "err", err)
		}
	}
	http.SetCookie(w, f.sessionCookie("", -1))
}

func (f *Flows) sessionCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: f.ssoCookie, Value: value, Path: f.cookiePath(), HttpOnly: true, Secure: f.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
	if f.secure {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

// startSession replaces the browser's session with a new one for u.
func (f *Flows) startSession(w http.ResponseWriter, r *http.Request, u *store.User, authTime time.Time, terms sessionTerms) error {
	ctx := r.Context()
	if c, err := r.Cookie(f.ssoCookie); err == nil && c.Value != "" {
		_ = f.st.Sessions().Delete(ctx, hashID(c.Value))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	value := terms.cookieValue(base64.RawURLEncoding.EncodeToString(b), f.lifetime)
	if err := f.st.Sessions().Create(ctx, &store.Session{IDHash: hashID(value), UserID: u.ID, AuthTime: authTime,
		ExpiresAt: authTime.Add(terms.lifetime)}); err != nil {
		return err
	}
	http.SetCookie(w, f.sessionCookie(value, 0))
	return nil
}

// ---- errors ----

func (f *Flows) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		f.log.Error("userflow: store unavailable", "err", err)
		f.errorPage(w, r, http.StatusServiceUnavailable, "error_unavailable")
		return
	}
	f.log.Error("userflow: internal error", "err", err)
	f.errorPage(w, r, http.StatusInternalServerError, "error_internal")
}

var errorTmpl = template.Must(template.New("e").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body><main><h1>{{.Heading}}</h1><div class="error pageLevel" id="pageError" role="alert"><p>{{.Msg}}</p></div></main></body></html>
`))

// errorPage answers with an error page outside any flow's page: the
// message id (locale strings, error_*) in the browser's language
// (Accept-Language), English by default.
func (f *Flows) errorPage(w http.ResponseWriter, r *http.Request, status int, id string) {
	f.errorText(w, r, status, errorLang(r).T(id))
}

// errorLang is the language of an error page: the browser's (r may be
// nil: English).
func errorLang(r *http.Request) locale.Lang {
	if r == nil {
		return locale.English
	}
	return locale.Choose("", r.Header.Get("Accept-Language"), locale.English)
}

// errorText is errorPage with a text of its own (an API's block message).
func (f *Flows) errorText(w http.ResponseWriter, r *http.Request, status int, msg string) {
	l := errorLang(r)
	securityHeaders(w.Header(), "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = errorTmpl.Execute(w, struct{ Lang, Title, Heading, Msg string }{string(l), l.T("error_title"), l.T("error_heading"), msg})
}

func securityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
}
