package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

// Unauthenticated is what the guard does with a request that has no valid
// token (App Service's "unauthenticatedClientAction").
type Unauthenticated int

const (
	// Return401 answers 401 with a WWW-Authenticate: Bearer challenge.
	Return401 Unauthenticated = iota
	// RedirectToLogin answers browser navigations (GET/HEAD that accept
	// HTML, without X-Requested-With: XMLHttpRequest and without an
	// Authorization header) with 302 to Auth.LoginURL; every other request
	// still gets 401.
	RedirectToLogin
)

// Action is what an access restriction rule does with a matching client.
type Action int

const (
	// Allow lets a matching client through to the next check.
	Allow Action = iota
	// Deny answers 403.
	Deny
)

func (a Action) String() string {
	if a == Deny {
		return "deny"
	}
	return "allow"
}

// DefaultClockSkew is the token lifetime leeway used when Auth.ClockSkew
// is zero.
const DefaultClockSkew = time.Minute

// Config is the guard's configuration. The zero value is a guard that
// only strips client-supplied principal headers.
type Config struct {
	// Auth enables the token check (EasyAuth); nil disables it.
	Auth *Auth

	// FunctionKeys are Azure Functions function keys by function name
	// (the first path segment after /api/, compared case-insensitively).
	// The names "", "_host" and "default" are host keys instead (see
	// HostKeys). When FunctionKeys and HostKeys are both empty, no key is
	// required (authLevel anonymous).
	FunctionKeys map[string]string
	// HostKeys are accepted for every function (and are the only keys
	// accepted for paths outside /api/{function}).
	HostKeys []string

	// AccessRestrictions are App Service IP rules. Empty = allow all.
	AccessRestrictions []Rule
	// TrustedProxies are the peers whose X-Forwarded-For (and
	// X-Forwarded-Host/-Proto) is believed. Empty = none: the TCP peer is
	// the client.
	TrustedProxies []netip.Prefix

	// Transport is the upstream transport of NewReverseProxy (nil: a tuned
	// keep-alive transport).
	Transport http.RoundTripper
	// Logger receives denials (Debug) and upstream errors (Warn); nil:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for token lifetimes (nil: time.Now).
	Now func() time.Time
}

// Auth is the token check.
type Auth struct {
	// OpenIDConfiguration is the issuer's metadata URL
	// (.../v2.0/.well-known/openid-configuration); its jwks_uri provides
	// the signing keys. Required.
	OpenIDConfiguration string
	// Audiences are the accepted aud values (any one). Required: a guard
	// that accepted every token of an issuer would accept tokens minted for
	// other applications.
	Audiences []string
	// Issuers are the accepted iss values; empty = the issuer of the
	// OpenID configuration.
	Issuers []string
	// Unauthenticated is Return401 (default) or RedirectToLogin.
	Unauthenticated Unauthenticated
	// LoginURL is where RedirectToLogin sends browsers; required then. The
	// original path and query are appended as post_login_redirect_uri
	// (EasyAuth's parameter).
	LoginURL string
	// Realm is the realm of the WWW-Authenticate challenge; empty = the
	// request's host.
	Realm string
	// ClockSkew is the leeway on exp/nbf; 0 = DefaultClockSkew.
	ClockSkew time.Duration
	// Discovery is a shared OpenID metadata/JWKS cache (for example the
	// gateway's); nil = a private one using HTTPClient.
	Discovery *token.Discovery
	// HTTPClient fetches the OpenID configuration and JWKS when Discovery
	// is nil (nil: a client with a 10 s timeout).
	HTTPClient *http.Client
}

// Rule is one access restriction.
type Rule struct {
	Name   string
	Action Action
	// Prefix is the IPv4 or IPv6 range (a single address is a /32 or
	// /128). IPv4-mapped IPv6 prefixes are treated as their IPv4 range.
	Prefix netip.Prefix
	// Priority orders the rules: lower first; ties keep their order.
	Priority int
}

// Guard checks requests. Safe for concurrent use.
type Guard struct {
	rules     []Rule
	anyAllow  bool
	trusted   []netip.Prefix
	keys      *keyStore
	auth      *Auth
	checker   *token.Checker
	loginURL  *url.URL
	transport http.RoundTripper
	log       *slog.Logger
	now       func() time.Time
}

// New validates cfg and prepares a Guard.
func New(cfg Config) (*Guard, error) {
	g := &Guard{log: cfg.Logger, now: cfg.Now, transport: cfg.Transport}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	var errs []error
	for i, r := range cfg.AccessRestrictions {
		if !r.Prefix.IsValid() {
			errs = append(errs, fmt.Errorf("guard: access restriction %d (%q): no valid IP range", i+1, r.Name))
			continue
		}
		if r.Action != Allow && r.Action != Deny {
			errs = append(errs, fmt.Errorf("guard: access restriction %d (%q): action must be Allow or Deny", i+1, r.Name))
			continue
		}
		r.Prefix = normPrefix(r.Prefix)
		g.rules = append(g.rules, r)
		if r.Action == Allow {
			g.anyAllow = true
		}
	}
	sort.SliceStable(g.rules, func(i, j int) bool { return g.rules[i].Priority < g.rules[j].Priority })
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, errors.New("guard: invalid trusted proxy range"))
			continue
		}
		g.trusted = append(g.trusted, normPrefix(p))
	}
	ks, err := newKeyStore(cfg.FunctionKeys, cfg.HostKeys)
	if err != nil {
		errs = append(errs, err)
	}
	g.keys = ks
	if a := cfg.Auth; a != nil {
		if err := g.setAuth(a, cfg.Logger); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

func (g *Guard) setAuth(a *Auth, log *slog.Logger) error {
	ac := *a
	ac.Audiences = append([]string(nil), a.Audiences...)
	ac.Issuers = append([]string(nil), a.Issuers...)
	if ac.OpenIDConfiguration == "" {
		return errors.New("guard: auth: the OpenID configuration URL is required")
	}
	if len(ac.Audiences) == 0 {
		return errors.New("guard: auth: at least one audience is required")
	}
	switch ac.Unauthenticated {
	case Return401:
	case RedirectToLogin:
		u, err := url.Parse(ac.LoginURL)
		if ac.LoginURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "") || (u.Scheme != "" && u.Host == "") {
			return errors.New("guard: auth: RedirectToLogin needs LoginURL, an absolute http(s) URL or an absolute path")
		}
		if u.Scheme == "" && !strings.HasPrefix(u.Path, "/") {
			return errors.New("guard: auth: LoginURL must be an absolute http(s) URL or an absolute path")
		}
		g.loginURL = u
	default:
		return errors.New("guard: auth: Unauthenticated must be Return401 or RedirectToLogin")
	}
	if ac.ClockSkew < 0 {
		return errors.New("guard: auth: the clock skew must not be negative")
	}
	if ac.ClockSkew == 0 {
		ac.ClockSkew = DefaultClockSkew
	}
	if strings.ContainsAny(ac.Realm, "\"\\\r\n") {
		return errors.New("guard: auth: the realm must not contain quotes, backslashes or line breaks")
	}
	d := ac.Discovery
	if d == nil {
		d = token.NewDiscovery(ac.HTTPClient, log)
	}
	c, err := token.NewChecker(token.Rules{
		OpenIDConfigURLs:      []string{ac.OpenIDConfiguration},
		Audiences:             ac.Audiences,
		Issuers:               ac.Issuers,
		ClockSkew:             ac.ClockSkew,
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	}, d)
	if err != nil {
		return fmt.Errorf("guard: auth: %w", err)
	}
	g.auth, g.checker = &ac, c
	return nil
}

// Prefetch loads the OpenID configuration and keys now (for example at
// start-up) so the first request does not wait for them. Errors are for
// logging: the guard retries on its own.
func (g *Guard) Prefetch(ctx context.Context) error {
	if g.checker == nil {
		return nil
	}
	return g.checker.Prefetch(ctx)
}

// Info is what the guard learned about a request that it let through;
// handlers behind Middleware get it with InfoFrom.
type Info struct {
	// ClientIP is the address the access restrictions were evaluated on
	// (invalid when the peer address could not be parsed).
	ClientIP netip.Addr
	// PeerTrusted reports whether the TCP peer is a trusted proxy.
	PeerTrusted bool
	// Function is the function name taken from /api/{function}/... ("" for
	// other paths).
	Function string
	// Token is the validated bearer token (nil when auth is not
	// configured). Shared: treat it as read-only.
	Token *token.Token

	peer      netip.Addr
	origHost  string
	origProto string
}

type infoKey struct{}

// InfoFrom returns the guard's Info of a request that passed Middleware.
func InfoFrom(ctx context.Context) (*Info, bool) {
	i, ok := ctx.Value(infoKey{}).(*Info)
	return i, ok
}

// Middleware returns next behind the guard: access restrictions, then the
// function key, then the token; see the package documentation.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serve(w, r, next)
	})
}

func (g *Guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	info := &Info{}
	info.ClientIP, info.peer, info.PeerTrusted = g.clientIP(r)
	info.origHost, info.origProto = g.original(r, info.PeerTrusted)

	// 1. Access restrictions.
	if rule, ok := g.allowed(info.ClientIP); !ok {
		g.log.Debug("guard: access restriction denied", "client_ip", addrString(info.ClientIP), "rule", rule)
		writeForbidden(w)
		return
	}

	// The request passed on: a copy, so the caller's request is not
	// changed. Client-supplied principal headers are never trusted.
	ctx := context.WithValue(r.Context(), infoKey{}, info)
	out := r.Clone(ctx)
	stripPrincipalHeaders(out.Header)

	// 2. Function key.
	if g.keys.enabled() {
		fn, ok := functionName(r)
		if !ok {
			g.log.Debug("guard: non-canonical path refused", "client_ip", addrString(info.ClientIP))
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		info.Function = fn
		presented, ok := presentedKey(r)
		if !ok || !g.keys.check(fn, presented) {
			g.log.Debug("guard: function key missing or invalid", "client_ip", addrString(info.ClientIP), "function", fn)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// The key never reaches the upstream (nor its logs).
		out.Header.Del(keyHeader)
		out.URL.RawQuery = removeCode(out.URL.RawQuery)
		out.RequestURI = out.URL.RequestURI()
	} else if fn, ok := functionName(r); ok {
		// No keys configured: the guard does not check them, so an
		// upstream that does (authLevel function) still gets them.
		info.Function = fn
	}

	// 3. Token.
	if g.checker != nil {
		raw, present := bearer(r)
		var tok *token.Token
		var err error
		if present {
			tok, err = g.checker.Validate(r.Context(), raw, g.now())
		}
		if !present || err != nil {
			reason := token.ReasonTokenNotPresent
			var te *token.Error
			if errors.As(err, &te) {
				reason = te.Reason
			}
			g.log.Debug("guard: unauthenticated", "client_ip", addrString(info.ClientIP), "reason", reason)
			g.unauthenticated(w, r, info, present)
			return
		}
		info.Token = tok
		setPrincipalHeaders(out.Header, tok)
	}
	next.ServeHTTP(w, out)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	return a.String()
}
