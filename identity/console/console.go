// Package console is the admin console at {publicUrl}/console/: server-
// rendered pages for the people who run a tenant, in place of the Azure
// portal. Administrators sign in through the tenant's own sign-in (a user
// flow, as any app does: auth code + PKCE) with an account holding the
// admin role. Users are read and changed through the Graph-compatible
// directory API (in-process, so its validation, limits and audit log
// apply); apps, user flows, custom policies, policy keys, API connectors
// and the audit log through the console's admin API, whose JSON form is
// served under {publicUrl}/console/api/. The console keeps no state of its
// own.
package console

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/identity/graph"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/keys"
	"github.com/gatehouse/gatehouse/store"
)

// AdminRole is the Gatehouse role that may sign in to the console.
const AdminRole = "admin"

// Policy is a configured custom-policy file.
type Policy struct {
	ID   string `json:"policyId"`
	Path string `json:"file"`
	Base string `json:"basePolicy,omitempty"` // "" for the root
	RP   bool   `json:"relyingParty"`         // a policy apps sign in with
}

// PolicyError is a problem found in an uploaded policy, at its place.
type PolicyError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"column"`
	Message string `json:"message"`
}

// Policies are the tenant's custom policies as the console sees them.
type Policies interface {
	List() []Policy
	// Check validates data (an uploaded file) together with the other
	// configured files, the file with the same PolicyId replaced. It
	// returns the upload's PolicyId and the problems found.
	Check(name string, data []byte) (policyID string, problems []PolicyError)
	// Save replaces the configured file of policyID with data (checked).
	Save(policyID string, data []byte) (path string, err error)
}

// Options configure the console.
type Options struct {
	Registry *tenant.Registry
	Users    store.Users
	// Graph is the directory API the user pages call in-process.
	Graph *graph.API
	// GraphPrefix is the path of the directory API ("/graph").
	GraphPrefix string
	// Provider serves the tenant's endpoints: the console redeems its
	// authorization code at the token endpoint in-process.
	Provider http.Handler
	// VerifyIDToken checks an id token the provider issued.
	VerifyIDToken func(ctx context.Context, raw, flow, clientID string) (subject, nonce string, err error)
	// Flow is the user flow administrators sign in with.
	Flow string
	// Keys are the policy keys (list and add; material is never shown).
	Keys *keys.Manager
	// InvalidateKeys makes a new key take effect at once in this process.
	InvalidateKeys func()
	// Connectors are the API connectors (nil: none).
	Connectors *connector.Connectors
	// Policies are the custom policies (nil: none).
	Policies Policies
	// Audit records an administrator's change that does not go through
	// the directory API (keys, policies, connector test calls).
	Audit func(ctx context.Context, action string, attrs ...slog.Attr)
	// SessionKey (32 bytes) seals the console's cookies; derive it from
	// the master key so every process of the tenant shares it.
	SessionKey []byte
	// SessionLifetime is how long a sign-in lasts (default 8h).
	SessionLifetime time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
}

// Console serves {publicUrl}/console/.
type Console struct {
	o      Options
	seal   *sealer
	path   string // the console's path: {base}/console
	secure bool   // the public URL is https: cookies are Secure
	origin string // the public URL's origin, checked on every POST
	pages  *pages
	// clientID is the console's app registration (ClientID of the tenant).
	clientID string
}

// ClientID is the console's app registration in a tenant: a fixed GUID
// derived from the tenant id, so every process agrees on it.
func ClientID(tenantID string) string {
	h := sha256.Sum256([]byte("gatehouse console\x00" + strings.ToLower(tenantID)))
	h[6] = h[6]&0x0f | 0x50 // a name-based (version 5 style) GUID
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Register adds the console's app registration to the tenant: a public
// client (PKCE) whose only redirect URI is {publicUrl}/console/callback.
func Register(reg *tenant.Registry) *tenant.App {
	base := strings.TrimRight(reg.PublicURL, "/") + "/console/"
	app := &tenant.App{Name: "Gatehouse admin console", ClientID: ClientID(reg.TenantID), Type: "spa",
		RedirectURIs: []string{base + "callback"}, PostLogoutURIs: []string{base}}
	reg.Apps[app.ClientID] = app
	return app
}

// DefaultFlow is the user flow the console signs in with when none is
// configured: the first sign-up-or-sign-in user flow by name offering
// local accounts, else the first one at all, else the first custom policy
// whose name says sign-in (B2C_1A_signup_signin in the starter pack);
// "" when there is none.
func DefaultFlow(reg *tenant.Registry) string {
	best, bestRank := "", 0
	for _, f := range reg.Flows {
		rank := 0
		switch {
		case f.Type == "signUpOrSignIn" && slices.Contains(f.IdentityProviders, tenant.LocalProvider):
			rank = 3
		case f.Type == "signUpOrSignIn":
			rank = 2
		case f.Custom && strings.Contains(strings.ToLower(f.Name), "signin"):
			rank = 1
		default:
			continue
		}
		if rank > bestRank || rank == bestRank && strings.ToLower(f.Name) < strings.ToLower(best) {
			best, bestRank = f.Name, rank
		}
	}
	return best
}

// New returns the console.
func New(o Options) (*Console, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 8 * time.Hour
	}
	if o.Audit == nil {
		o.Audit = func(context.Context, string, ...slog.Attr) {}
	}
	if o.Registry.Flows[strings.ToLower(o.Flow)] == nil {
		return nil, fmt.Errorf("console: the sign-in user flow %q is not configured", o.Flow)
	}
	s, err := newSealer(o.SessionKey)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(o.Registry.PublicURL)
	if err != nil {
		return nil, err
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	return &Console{o: o, seal: s, path: strings.TrimRight(u.Path, "/") + "/console", secure: u.Scheme == "https",
		origin: u.Scheme + "://" + u.Host, pages: p, clientID: ClientID(o.Registry.TenantID)}, nil
}

// Path is where the console is served ({base}/console): requests under
// Path()+"/" go to ServeHTTP.
func (c *Console) Path() string { return c.path }

// maxForm bounds a console request body (a custom policy upload is the
// largest: B2C's own limit on a policy file is 400 KiB).
const maxForm = 1 << 20

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The pages load nothing from elsewhere and run no script; they may
	// not be framed (clickjacking) nor cached.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	rest := strings.TrimPrefix(r.URL.Path, c.path)
	switch rest {
	case "":
		http.Redirect(w, r, c.path+"/", http.StatusFound)
		return
	case "/console.css":
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Content-Type", "text/css; charset=utf-8")
		w.Write(stylesheet)
		return
	case "/signin":
		c.startSignIn(w, r, r.URL.Query().Get("return"))
		return
	case "/callback":
		c.callback(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		h.Set("Allow", "GET, HEAD, POST")
		c.problem(w, r, nil, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
		return
	}
	api := strings.HasPrefix(rest, "/api/")
	s, admin, ok := c.authenticate(w, r, api)
	if !ok {
		return
	}
	q := &req{w: w, r: r, s: s, admin: admin, api: api}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if !c.checkForgery(q) {
			return
		}
	}
	if rest == "/signout" && r.Method == http.MethodPost {
		c.signOut(q)
		return
	}
	if api {
		rest = strings.TrimPrefix(rest, "/api")
	}
	c.route(q, strings.Trim(rest, "/"))
}

// req is one request of a signed-in administrator.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	s     *session
	admin *store.User
	api   bool // the admin API: JSON in and out
}

// authenticate reads the session and the administrator's account. A page
// request without one is sent to sign in; an API call gets 401.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request, api bool) (*session, *store.User, bool) {
	var s session
	if !c.readCookie(r, sessionCookie, &s) || !c.o.Now().Before(s.Expires) {
		if api || r.Method != http.MethodGet {
			c.problem(w, r, nil, http.StatusUnauthorized, "Sign in to the console first.")
			return nil, nil, false
		}
		c.startSignIn(w, r, r.URL.RequestURI())
		return nil, nil, false
	}
	u, err := c.o.Users.Get(r.Context(), s.UserID)
	if err != nil || !IsAdmin(u) {
		if err != nil && !isNotFound(err) {
			c.storeFailed(w, r, err)
			return nil, nil, false
		}
		// The account was deleted, disabled or lost its role since.
		c.setCookie(w, sessionCookie, "", 0, true)
		c.problem(w, r, nil, http.StatusForbidden, "This account may not use the console (it needs the admin role and must be enabled).")
		return nil, nil, false
	}
	return &s, u, true
}

// IsAdmin reports whether an account may use the console: enabled and
// holding the admin role.
func IsAdmin(u *store.User) bool {
	return u.HasRole(AdminRole) && u.Attributes["accountEnabled"] != "false"
}

// checkForgery refuses a POST that is not from a console page: the form's
// (or the API's X-CSRF-Token header's) token must be the session's, and a
// browser's Origin, when sent, the console's.
func (c *Console) checkForgery(q *req) bool {
	if o := q.r.Header.Get("Origin"); o != "" && o != c.origin {
		c.problem(q.w, q.r, q, http.StatusForbidden, "The request came from another site ("+o+") and was refused.")
		return false
	}
	token := q.r.Header.Get("X-CSRF-Token")
	if token == "" {
		if err := q.r.ParseMultipartForm(maxForm); err != nil && err != http.ErrNotMultipart {
			c.problem(q.w, q.r, q, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return false
		}
		token = q.r.PostFormValue("csrf")
	}
	if !sameToken(token, q.s.CSRF) {
		c.problem(q.w, q.r, q, http.StatusForbidden, "The form has expired or did not come from the console; reload the page and try again.")
		return false
	}
	return true
}

// route serves a console page or admin API resource.
func (c *Console) route(q *req, path string) {
	segs := strings.Split(path, "/")
	get := q.r.Method != http.MethodPost
	switch {
	case path == "" && get:
		c.home(q)
	case segs[0] == "users":
		c.users(q, segs[1:])
	case path == "apps" && get:
		c.apps(q)
	case path == "flows" && get:
		c.flows(q)
	case segs[0] == "policies":
		c.policies(q, segs[1:])
	case path == "keys":
		c.keys(q)
	case segs[0] == "connectors":
		c.connectors(q, segs[1:])
	case path == "audit" && get:
		c.audit(q)
	default:
		c.problem(q.w, q.r, q, http.StatusNotFound, "There is no such page in the console.")
	}
}

// actor names the administrator in the audit log.
func actor(q *req) slog.Attr { return slog.String("actor", "user:"+q.admin.ID) }
