// Package roles builds Gatehouse's roles (identity, gateway, guard, site)
// from a config and runs their HTTP servers. `gatehouse serve` and
// `gatehouse dev` both use it, so the demo stack is wired exactly as a
// production config is.
package roles

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/gatehouse/gatehouse/gateway"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/site"
)

// Options tune Build.
type Options struct {
	Logger *slog.Logger
	// GatewayTransport replaces the gateway's backend transport (dev trusts
	// its development CA this way).
	GatewayTransport http.RoundTripper
	// DiscoveryClient fetches OpenID metadata for validate-jwt (dev: trusts
	// the development CA).
	DiscoveryClient *http.Client
}

// Set is every role of one config, built and ready to listen.
type Set struct {
	Gateway  *gateway.Gateway
	Identity *Identity
	Servers  []*Server
}

// Server is one role's listener settings and handler.
type Server struct {
	Name    string
	Listen  string
	TLS     *tls.Config // nil: plain HTTP
	Handler http.Handler
}

// Close releases what the roles hold (stores, Redis clients).
func (s *Set) Close() {
	if s.Gateway != nil {
		s.Gateway.Close()
	}
	if s.Identity != nil {
		s.Identity.Close()
	}
}

// Build loads every role of cfg; any error stops start-up and all errors
// are reported together.
func Build(cfg *config.Config, o Options) (*Set, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Set{}
	var errs []error
	add := func(name, listen string, t *config.TLS, h http.Handler) {
		tc, err := TLSConfig(t)
		if err != nil {
			errs = append(errs, err)
		}
		s.Servers = append(s.Servers, &Server{name, listen, tc, h})
	}
	if id := cfg.Identity; id != nil {
		role, err := BuildIdentity(id, filepath.Dir(cfg.File), log.With("role", "identity"))
		if err != nil {
			errs = append(errs, err)
		} else {
			s.Identity = role
			add("identity", id.Listen, id.TLS, role.Handler)
		}
	}
	if cfg.Guard != nil {
		errs = append(errs, &config.Error{Pos: cfg.Guard.Pos, Msg: "the guard role is not available in this build yet"})
	}
	if g := cfg.Gateway; g != nil {
		gw, err := gateway.New(g, gateway.Options{Logger: log.With("role", "gateway"), Transport: o.GatewayTransport, DiscoveryClient: o.DiscoveryClient})
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
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.NegotiateClientCertificate {
		tc.ClientAuth = tls.RequestClientCert
	}
	return tc, nil
}
