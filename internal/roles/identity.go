package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/identity/console"
	"github.com/gatehouse/gatehouse/identity/graph"
	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/federation"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
	"github.com/gatehouse/gatehouse/identity/keyring"
	"github.com/gatehouse/gatehouse/identity/mail"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/sms"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/storemetrics"
	"github.com/gatehouse/gatehouse/store/storeopen"
)

// Identity is the OpenID provider with its hosted pages and store.
type Identity struct {
	Handler  http.Handler
	Provider *identity.Provider
	Store    store.Store
	// Keys resolves policy keys for the API connectors. It caches each
	// container for keys.DefaultTTL, so a key added with `gatehouse keys
	// add` while the server runs is used within that time; Invalidate("")
	// makes it take effect at once (e.g. on SIGHUP).
	Keys *keys.CachedResolver
	// Connectors are the API connectors of the user flows.
	Connectors *connector.Connectors
	// Events records the role's security events (counted in the registry
	// BuildIdentity was given).
	Events *secevent.Recorder
	stop   context.CancelFunc
}

// Close stops the store sweeper and closes the store.
func (r *Identity) Close() {
	r.stop()
	r.Store.Close()
}

// BuildIdentity wires the identity section: registry (validated config),
// store, provider, policy keys, API connectors, hosted pages, mail.
// configDir resolves a relative sqlite:// storage path.
//
// Policy keys: identity.policyKeys are added to the store (encrypted under
// identity.masterKey) before anything listens; a bad entry stops start-up
// with its position. API connectors read their secrets and certificates
// from the store through a cache (keys.DefaultTTL), so a rollover with
// `gatehouse keys add` needs no restart.
//
// TLS of API connectors: the endpoint's certificate is verified against
// the system roots. An API behind a private CA is trusted by adding the CA
// to the system store or, for this process only, with SSL_CERT_FILE=ca.pem
// (or SSL_CERT_DIR) in the environment of `gatehouse serve` — note that
// SSL_CERT_FILE replaces the system bundle, so it must hold every root the
// process needs (the connectors' and any token endpoint's).
//
// metrics receives the role's metrics (nil: not exported).
func BuildIdentity(cfg *config.Identity, configDir string, log *slog.Logger, metrics prometheus.Registerer, client *http.Client) (*Identity, error) {
	reg, err := identity.NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	// Custom policies (B2C_1A_...) become flows beside the user flows,
	// run by the policy engine.
	engineSet, policyDir, err := enginePolicies(cfg.CustomPolicies)
	if err != nil {
		return nil, err
	}
	if err := identity.AddCustomPolicies(reg, policyFlows{engineSet}); err != nil {
		return nil, err
	}
	consoleFlow, err := consoleSignInFlow(cfg, reg)
	if err != nil {
		return nil, err
	}
	if consoleFlow != "" {
		// The console's app registration (before the provider indexes apps).
		console.Register(reg)
	}
	mode, err := deploymentMode(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := OpenStore(ctx, StorageURL(cfg.Storage, configDir))
	if err != nil {
		return nil, &config.Error{Pos: cfg.Pos, Msg: "identity.storage: " + err.Error()}
	}
	im, err := idmetrics.New(metrics)
	if err != nil {
		st.Close()
		return nil, err
	}
	if im != nil {
		st = storemetrics.Wrap(st, im.StoreCall)
	}
	fail := func(err error) (*Identity, error) {
		st.Close()
		return nil, err
	}
	master, err := keyring.MasterKey(cfg)
	if err != nil {
		return fail(err)
	}
	// Identifiers in security events are hashed under a key derived from
	// the master key, so every process of a tenant hashes alike.
	events, err := secevent.New(log, metrics, keyring.Derive(master, "secevent"))
	if err != nil {
		return fail(err)
	}
	auditLog, retention, closeExport, err := newAudit(cfg, configDir, st, log)
	if err != nil {
		return fail(err)
	}
	events.SetSink(auditLog.Sink)
	p, err := identity.NewProvider(reg, st, identity.Options{Logger: log, Events: events, Metrics: im})
	if err != nil {
		return fail(err)
	}
	km, err := keys.NewManager(st.PolicyKeys(), master, keys.Options{})
	if err != nil {
		return fail(err)
	}
	if err := keys.LoadConfig(ctx, km, cfg.PolicyKeys); err != nil {
		var ce *config.Error
		var ces config.Errors
		if !errors.As(err, &ces) && !errors.As(err, &ce) {
			err = &config.Error{Pos: cfg.Pos, Msg: "identity.policyKeys: " + err.Error()}
		}
		return fail(err)
	}
	// Keys added with `gatehouse keys add` live in the real store only:
	// validation (on its in-memory store) cannot see them.
	if cfg.Storage != checkStore {
		if err := checkPolicyKeys(ctx, km, engineSet); err != nil {
			return fail(err)
		}
		if err := ensureSAMLSigningKey(ctx, km, reg, log); err != nil {
			return fail(err)
		}
		if err := checkProviderKeys(ctx, km, reg); err != nil {
			return fail(err)
		}
	}
	resolver := km.Resolver(keys.DefaultTTL)
	conns, err := connector.New(cfg.APIConnectors, connector.Options{
		Keys:           resolver,
		DeploymentMode: mode,
		TenantID:       cfg.Tenant.ID,
		// One "api connector call" line per call (connector, step,
		// status, durationMs, attempts, outcome): the audit log.
		Logger: log,
		Audit:  func(e connector.Entry) { connectorCalled(events, im, e) },
	})
	if err != nil {
		return fail(err)
	}
	var sender mail.Sender
	if cfg.Email != nil {
		if sender, err = mail.FromConfig(cfg.Email, log); err != nil {
			return fail(&config.Error{Pos: cfg.Email.Pos, Msg: "identity.email: " + err.Error()})
		}
	} else if needsMail(reg) || policiesNeedMail(engineSet) {
		return fail(&config.Error{Pos: cfg.Pos, Msg: "identity.email is required: a user flow or custom policy verifies email addresses or resets passwords (use outbox: DIR in development, smtp: in production)"})
	} else {
		log.Warn("identity.email is not configured: self-service password reset cannot send codes")
	}
	smsSender, err := sms.FromConfig(cfg.SMS, mode == connector.Development, log)
	if err != nil {
		return fail(&config.Error{Pos: cfg.SMS.Pos, Msg: err.Error()})
	}
	if smsSender == nil && policiesUse(engineSet, ief.ProviderPhoneFactor) {
		return fail(&config.Error{Pos: cfg.Pos, Msg: "identity.sms is required: a custom policy verifies phone numbers (PhoneFactor); use outbox: DIR in development, webhook: URL with secret: in production"})
	}
	uo := userflow.Options{Registry: reg, Store: st, Completer: p, Mail: sender, SMS: smsSender, Voice: cfg.SMS != nil && cfg.SMS.Voice, Logger: log, Events: events, Metrics: im,
		Policies: engineSet, PolicyDir: policyDir, RESTful: restful.New(restful.Options{Keys: resolver, DeploymentMode: mode, Logger: log,
			Audit: func(e connector.Entry) { connectorCalled(events, im, e) }})}
	if len(cfg.APIConnectors) > 0 {
		uo.Connectors = conns
	}
	// client (nil: the default) calls identity providers: `gatehouse dev`
	// passes one trusting its development CA.
	idpKeys, err := newIDPKeys(reg, resolver)
	if err != nil {
		return fail(err)
	}
	fo := federation.Options{Keys: idpKeys, RedirectURI: reg.RedirectURI(), Logger: log, Client: client}
	uo.Federations = map[string]journey.Federation{ief.ProviderOAuth2: federation.NewOAuth2(fo),
		ief.ProviderOIDC: federation.NewOIDC(fo), ief.ProviderSAML2: federation.NewSAML(fo)}
	flows, err := userflow.New(uo)
	if err != nil {
		return fail(err)
	}
	p.SetInteraction(flows)
	graphPrefix := "/graph"
	if u, err := url.Parse(reg.PublicURL); err == nil {
		graphPrefix = strings.TrimRight(u.Path, "/") + "/graph"
	}
	gl := tenant.NewLimits(cfg).GraphRequestsPerApp
	directory := graph.New(graphPrefix, graph.Options{Users: st.Users(), Sessions: st.Sessions(), Refresh: st.Refresh(), Throttles: st.Throttles(), AuditLog: st.Audit(), DeletedUsers: st.DeletedUsers(),
		RequestsPerApp: gl.N, Window: gl.Window, Tenant: reg.Domain(), Extensions: reg.Extensions, ExtensionAppID: reg.ExtensionsAppID,
		Audit: func(ctx context.Context, action string, attrs ...slog.Attr) {
			events.Emit(ctx, secevent.AdminAction, append([]slog.Attr{slog.String("action", action)}, attrs...)...)
		}, Logger: log, HashPassword: password.DefaultHasher().Hash,
		Verify: func(ctx context.Context, bearer string) (string, []string, error) {
			c, err := p.VerifyGraphToken(ctx, bearer)
			if err != nil {
				return "", nil, err
			}
			return c.AppID, c.Roles, nil
		}})
	var cons *console.Console
	if consoleFlow != "" {
		co := console.Options{Registry: reg, Users: st.Users(), Graph: directory, GraphPrefix: graphPrefix, Provider: p,
			VerifyIDToken: func(ctx context.Context, raw, flow, clientID string) (string, string, error) {
				c, err := p.VerifyIDToken(ctx, raw, flow, clientID)
				if err != nil {
					return "", "", err
				}
				return c.Subject, c.Nonce, nil
			},
			Flow: consoleFlow, Keys: km, InvalidateKeys: func() { resolver.Invalidate("") }, SessionKey: keyring.Derive(master, "console"),
			Audit: func(ctx context.Context, action string, attrs ...slog.Attr) {
				events.Emit(ctx, secevent.AdminAction, append([]slog.Attr{slog.String("action", action)}, attrs...)...)
			}, Logger: log}
		if cfg.Console != nil {
			co.SessionLifetime = cfg.Console.SessionLifetime.Or(0)
		}
		if len(cfg.APIConnectors) > 0 {
			co.Connectors = conns
		}
		if len(cfg.CustomPolicies) > 0 {
			cp, err := newConsolePolicies(cfg.CustomPolicies)
			if err != nil {
				return fail(err)
			}
			co.Policies = cp
		}
		if cons, err = console.New(co); err != nil {
			return fail(err)
		}
	}
	sweepCtx, cancelSweep := context.WithCancel(context.Background())
	go sweep(sweepCtx, st, log, retention)
	stop := func() { cancelSweep(); closeExport() }
	return &Identity{Handler: identityHandler(p, st, graphPrefix+"/", directory, cons), Provider: p, Store: st, Keys: resolver, Connectors: conns, Events: events, stop: stop}, nil
}

// consoleSignInFlow is the flow administrators sign in to the console
// with: identity.console.userFlow, else the first sign-up-or-sign-in user
// flow ("" with the console disabled or no such flow).
func consoleSignInFlow(cfg *config.Identity, reg *identity.Registry) (string, error) {
	c := cfg.Console
	if c == nil {
		return console.DefaultFlow(reg), nil
	}
	if c.Disabled {
		return "", nil
	}
	if d := c.SessionLifetime; d.IsSet() && (d.D < 5*time.Minute || d.D > 24*time.Hour) {
		return "", &config.Error{Pos: c.Pos, Msg: "identity.console.sessionLifetime must be between 5m and 24h"}
	}
	if c.UserFlow == "" {
		return console.DefaultFlow(reg), nil
	}
	f := reg.Flows[strings.ToLower(c.UserFlow)]
	if f == nil || f.Type != "signUpOrSignIn" && !f.Custom {
		return "", &config.Error{Pos: c.Pos, Msg: fmt.Sprintf("identity.console.userFlow %q is not a sign-up-or-sign-in user flow or custom policy of this tenant", c.UserFlow)}
	}
	return f.Name, nil
}

// deploymentMode is identity.deploymentMode: Development or Production
// (the default, as in B2C).
func deploymentMode(cfg *config.Identity) (string, error) {
	switch {
	case cfg.DeploymentMode == "", strings.EqualFold(cfg.DeploymentMode, connector.Production):
		return connector.Production, nil
	case strings.EqualFold(cfg.DeploymentMode, connector.Development):
		return connector.Development, nil
	}
	return "", &config.Error{Pos: cfg.Pos, Msg: fmt.Sprintf("identity.deploymentMode %q must be Development or Production", cfg.DeploymentMode)}
}

// StorageURL resolves a relative sqlite:// path against the config's folder,
// as every other path in a config is; the default is ./data/gatehouse.db
// beside the config.
func StorageURL(u, dir string) string {
	if u == "" {
		return "sqlite://" + filepath.Join(dir, "data", "gatehouse.db")
	}
	if p, ok := strings.CutPrefix(u, "sqlite://"); ok && !filepath.IsAbs(p) && p != ":memory:" {
		return "sqlite://" + filepath.Join(dir, p)
	}
	return u
}

// OpenStore opens a store, creating the folder of a SQLite file.
func OpenStore(ctx context.Context, url string) (store.Store, error) {
	if p, ok := strings.CutPrefix(url, "sqlite://"); ok && p != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
	}
	return storeopen.Open(ctx, url)
}

// needsMail reports whether some flow cannot work without sending codes.
// (Self-service password reset inside sign-in also sends them; without
// identity.email it answers with an error page, and start-up warns.)
func needsMail(reg *identity.Registry) bool {
	for _, f := range reg.Flows {
		local := f.Type != "signUpOrSignIn" || slices.Contains(f.IdentityProviders, tenant.LocalProvider)
		if local && (f.EmailVerification || f.Type == "passwordReset") ||
			f.MFA != nil && slices.Contains(f.MFA.Methods, tenant.MFAEmail) {
			return true // local accounts verify addresses and reset passwords; email MFA sends codes
		}
	}
	return false
}

// sweep removes expired codes, sessions and transactions every few minutes.
func sweep(ctx context.Context, st store.Store, log *slog.Logger, auditRetention time.Duration) {
	s, _ := st.(store.Sweeper)
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s != nil {
				if err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
					log.Warn("store sweep failed", "err", err)
				}
			}
			if _, err := st.Audit().Purge(ctx, time.Now().Add(-auditRetention)); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("audit log purge failed", "err", err)
			}
			if _, err := st.DeletedUsers().Purge(ctx, time.Now().Add(-graph.DeletedRetention)); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("deleted users purge failed", "err", err)
			}
		}
	}
}

// connectorCalled counts a connector call and records a failed one in the
// audit log (the operator's first clue when sign-ups start failing).
func connectorCalled(events *secevent.Recorder, im *idmetrics.Metrics, e connector.Entry) {
	im.ConnectorCall(e.Connector, e.Step, e.Outcome, e.Duration)
	if e.Outcome == connector.OutcomeFailed {
		events.Emit(context.Background(), secevent.ConnectorFailed, slog.String("connector", e.Connector), slog.String("step", e.Step),
			slog.Int("status", e.Status), slog.Int("attempts", e.Attempts), slog.String("reason", e.Reason))
	}
}

// newAudit is the audit log of identity.audit: its retention and the
// export's closer.
func newAudit(cfg *config.Identity, configDir string, st store.Store, log *slog.Logger) (*audit.Log, time.Duration, func(), error) {
	retention, o := 30*24*time.Hour, audit.Options{Store: st.Audit(), Throttles: st.Throttles(), Logger: log}
	closer := func() {}
	if a := cfg.Audit; a != nil {
		retention = a.Retention.Or(retention)
		if retention < time.Hour || retention > 10*365*24*time.Hour {
			return nil, 0, nil, &config.Error{Pos: a.Pos, Msg: "identity.audit.retention must be between 1h and 3650d"}
		}
		o.PerMinute = a.WritesPerMinute
		switch a.Export {
		case "":
		case "stdout":
			o.Export = os.Stdout
		default:
			path := a.Export
			if !filepath.IsAbs(path) {
				path = filepath.Join(configDir, path)
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				return nil, 0, nil, &config.Error{Pos: a.Pos, Msg: "identity.audit.export: " + err.Error()}
			}
			o.Export, closer = f, func() { f.Close() }
		}
	}
	return audit.New(o), retention, closer, nil
}
