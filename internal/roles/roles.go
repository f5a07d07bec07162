// Package roles builds Gatehouse's roles (identity, gateway, guard, site)
// from a config and runs their HTTP servers. `gatehouse serve` and
// `gatehouse dev` both use it, so the demo stack is wired exactly as a
// production config is.
package roles

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/gateway"
	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/site"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// Options tune Build.
type Options struct {
	Logger *slog.Logger
	// GatewayTransport replaces the gateway's backend transport (dev trusts
	// its development CA this way).
	GatewayTransport http.RoundTripper
	// DiscoveryClient fetches OpenID metadata for validate-jwt and calls
	// user flows' identity providers (dev: trusts
	// the development CA).
	DiscoveryClient *http.Client
	// Registry receives every role's metrics; nil: Build makes one.
	Registry *prometheus.Registry
}

// Set is every role of one config, built and ready to listen.
type Set struct {
	Gateway  *gateway.Gateway
	Identity *Identity
	Servers  []*Server
	// Registry holds the metrics of every role.
	Registry *prometheus.Registry
	// Timeouts are the listeners' read limits (config `timeouts:` with
	// defaults).
	Timeouts Timeouts
	// Admin is the config's admin listener (nil: none; /metrics is then
	// served nowhere).
	Admin *config.Admin
	// stopTracing flushes the spans (tracing.go); nil: tracing off.
	stopTracing func(context.Context) error
}

// Server is one role's listener settings and handler.
type Server struct {
	Name    string
	Listen  string
	TLS     *tls.Config // nil: plain HTTP
	Handler http.Handler
	// HSTS is the Strict-Transport-Security value of a TLS listener ("":
	// none).
	HSTS string
}

// Close releases what the roles hold (stores, Redis clients).
func (s *Set) Close() {
	if s.Gateway != nil {
		s.Gateway.Close()
	}
	if s.Identity != nil {
		s.Identity.Close()
	}
	s.closeTracing()
}

// Build loads every role of cfg; any error stops start-up and all errors
// are reported together.
func Build(cfg *config.Config, o Options) (*Set, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Set{Registry: o.Registry, Timeouts: ResolveTimeouts(cfg.Timeouts), Admin: cfg.Admin}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
		s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if err := s.startTracing(cfg.Tracing, log); err != nil {
		return nil, err
	}
	var errs []error
	add := func(name, listen string, t *config.TLS, h http.Handler) {
		tc, err := TLSConfig(t)
		if err != nil {
			errs = append(errs, err)
		}
		h = tracing.Handler(name, h) // h itself when tracing is off
		s.Servers = append(s.Servers, &Server{Name: name, Listen: listen, TLS: tc, Handler: h, HSTS: hstsValue(name, t)})
	}
	if id := cfg.Identity; id != nil {
		role, err := BuildIdentity(id, filepath.Dir(cfg.File), log.With("role", "identity"), s.Registry, o.DiscoveryClient)
		if err != nil {
			errs = append(errs, wrongMasterKey(id, StorageURL(id.Storage, filepath.Dir(cfg.File)), err))
		} else {
			s.Identity = role
			add("identity", id.Listen, id.TLS, role.Handler)
		}
	}
	if gc := cfg.Guard; gc != nil {
		h, err := BuildGuard(gc, o.DiscoveryClient, log.With("role", "guard"))
		if err != nil {
			errs = append(errs, err)
		} else {
			add("guard", gc.Listen, gc.TLS, h)
		}
	}
	if g := cfg.Gateway; g != nil {
		gw, err := gateway.New(g, gateway.Options{Logger: log.With("role", "gateway"), Transport: o.GatewayTransport, DiscoveryClient: o.DiscoveryClient, Registry: s.Registry})
		if err != nil {
			errs = append(errs, err)
		} else {
			s.Gateway = gw
			add("gateway", g.Listen, g.TLS, gw)
		}
	}
	if st := cfg.Site; st != nil {
		h, err := site.Handler(st.Root.Abs)
		if err != nil {
			errs = append(errs, &config.Error{Pos: st.Root.Pos, Msg: "site.root: " + err.Error()})
		} else {
			add("site", st.Listen, st.TLS, h)
		}
	}
	if len(errs) > 0 {
		s.Close()
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// TLSConfig loads a role's certificate; nil means plain HTTP.
func TLSConfig(t *config.TLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	cert, err := tls.X509KeyPair([]byte(t.Certificate.Value), []byte(t.Key.Value))
	if err != nil {
		return nil, &config.Error{Pos: t.Pos, Msg: "tls: cannot load the certificate and key: " + err.Error()}
	}
	// HTTP/2 first, HTTP/1.1 for clients without it (ALPN).
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if t.NegotiateClientCertificate {
		tc.ClientAuth = tls.RequestClientCert
	}
	return tc, nil
}

// BuildGuard builds the guard sidecar (guard.NewReverseProxy) from a
// config's guard: section. A section without auth: only applies the
// access restrictions and function keys. Function keys named "_host",
// "default" or "" are host keys. discoveryClient fetches the OpenID
// metadata (nil: default client). Problems are positioned config.Errors.
func BuildGuard(gc *config.Guard, discoveryClient *http.Client, log *slog.Logger) (http.Handler, error) {
	var errs []error
	bad := func(p config.Pos, format string, args ...any) {
		if p == (config.Pos{}) {
			p = gc.Pos
		}
		errs = append(errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	up, err := url.Parse(gc.Upstream)
	if gc.Upstream == "" || err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		bad(gc.Pos, "guard.upstream %q is not an absolute http(s) URL", gc.Upstream)
	}
	gcfg := guard.Config{Logger: log}
	if a := gc.Auth; a != nil {
		ga := &guard.Auth{
			OpenIDConfiguration: a.OpenIDConfiguration,
			Audiences:           a.Audiences,
			Issuers:             a.Issuers,
			HTTPClient:          discoveryClient,
		}
		if u, err := url.Parse(a.OpenIDConfiguration); a.OpenIDConfiguration == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(a.Pos, "guard.auth.openidConfiguration %q is not an absolute http(s) URL", a.OpenIDConfiguration)
		}
		if len(a.Audiences) == 0 {
			bad(a.Pos, "guard.auth.audiences is required: the client ids (or App ID URIs) the tokens must be issued for")
		}
		for _, s := range append(append([]string(nil), a.Audiences...), a.Issuers...) {
			if strings.TrimSpace(s) == "" {
				bad(a.Pos, "guard.auth: empty audience or issuer")
				break
			}
		}
		switch strings.ToLower(a.Unauthenticated) {
		case "", "return401":
			ga.Unauthenticated = guard.Return401
		case "redirecttologin":
			ga.Unauthenticated = guard.RedirectToLogin
			// Without auth.loginUrl browsers go to the authority's authorize
			// endpoint (B2C's and Entra's layout: {authority}/v2.0/.well-known/
			// openid-configuration → {authority}/oauth2/v2.0/authorize); an
			// app's own sign-in route is the better choice.
			ga.LoginURL = a.LoginURL
			if ga.LoginURL == "" {
				ga.LoginURL = authorizeURL(a.OpenIDConfiguration)
			}
		default:
			bad(a.Pos, "guard.auth.unauthenticated must be return401 or redirectToLogin, got %q", a.Unauthenticated)
		}
		gcfg.Auth = ga
	}
	if len(gc.FunctionKeys) > 0 {
		gcfg.FunctionKeys = map[string]string{}
		names := make([]string, 0, len(gc.FunctionKeys))
		for n := range gc.FunctionKeys {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s := gc.FunctionKeys[n]
			if s.Value == "" {
				bad(s.Pos, "guard.functionKeys.%s: the key is empty", n)
				continue
			}
			if strings.ContainsAny(n, "/\\") {
				bad(s.Pos, "guard.functionKeys: %q is not a function name", n)
				continue
			}
			gcfg.FunctionKeys[n] = s.Value
		}
	}
	for _, r := range gc.AccessRestrictions {
		rule := guard.Rule{Name: r.Name, Priority: r.Priority}
		switch strings.ToLower(r.Action) {
		case "allow":
			rule.Action = guard.Allow
		case "deny":
			rule.Action = guard.Deny
		default:
			bad(r.Pos, "guard.accessRestrictions: action must be allow or deny, got %q", r.Action)
			continue
		}
		p, err := guardPrefix(r.IPAddress)
		if err != nil {
			bad(r.Pos, "guard.accessRestrictions: ipAddress %q is not an IP address or CIDR range", r.IPAddress)
			continue
		}
		rule.Prefix = p
		gcfg.AccessRestrictions = append(gcfg.AccessRestrictions, rule)
	}
	for _, s := range gc.TrustedProxies {
		p, err := guardPrefix(s)
		if err != nil {
			bad(gc.Pos, "guard.trustedProxies: %q is not an IP address or CIDR range", s)
			continue
		}
		gcfg.TrustedProxies = append(gcfg.TrustedProxies, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g, err := guard.New(gcfg)
	if err != nil {
		return nil, &config.Error{Pos: gc.Pos, Msg: err.Error()}
	}
	return guard.NewReverseProxy(up, g), nil
}

// guardPrefix parses a CIDR range or a single address (as the config
// validator does).
func guardPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// authorizeURL derives the authorize endpoint from an OpenID configuration
// URL of B2C's or Entra's layout.
func authorizeURL(openidConfiguration string) string {
	base := strings.TrimSuffix(openidConfiguration, "/.well-known/openid-configuration")
	base = strings.TrimSuffix(base, "/v2.0")
	return base + "/oauth2/v2.0/authorize"
}
