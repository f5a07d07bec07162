// Package devstack is `gatehouse dev`: seed 004 on embedded defaults — the
// identity role with the demo tenant, the gateway running seed 004's policy
// verbatim (placeholders filled), and the demo hello function — every role
// over HTTPS with the local development CA, its URLs written to dev.json.
package devstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/devca"
	"github.com/gatehouse/gatehouse/internal/roles"
	"github.com/gatehouse/gatehouse/web"
)

//go:embed seed004-policy.xml
var seedPolicy string

//go:embed hello-api-policy.xml
var helloAPIPolicy string

// Demo tenant names fixed by the config contract.
const (
	TenantName = "contoso"
	UserFlow   = "B2C_1_signupsignin1"
	apiURI     = "https://contoso.onmicrosoft.com/backend"
)

// Options are the flags of `gatehouse dev`.
type Options struct {
	DataDir string // default ./.gatehouse
	Host    string // default 127.0.0.1
	// AutoPorts picks free ports instead of the defaults (identity 8080,
	// gateway 8081, guard 7071, site 3000).
	AutoPorts bool
	Logger    *slog.Logger
}

// Info is what dev.json holds (config-contract.md lists the fields).
type Info struct {
	Tenant              string `json:"tenant"`
	TenantID            string `json:"tenantId"`
	UserFlow            string `json:"userFlow"`
	Authority           string `json:"authority"`
	OpenIDConfiguration string `json:"openidConfiguration"`
	Issuer              string `json:"issuer"`
	SPA                 struct {
		ClientID    string `json:"clientId"`
		RedirectURI string `json:"redirectUri"`
		URL         string `json:"url"`
		// MSAL5URL is the same page loading @azure/msal-browser 5 (the
		// seed's is 2.11.1); it is a registered redirect URI too.
		MSAL5URL string `json:"msal5Url"`
	} `json:"spa"`
	API struct {
		ClientID string `json:"clientId"`
		Scope    string `json:"scope"`
	} `json:"api"`
	Daemon struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	} `json:"daemon"`
	IdentityURL      string `json:"identityUrl"`
	TokenEndpoint    string `json:"tokenEndpoint"`
	GatewayURL       string `json:"gatewayUrl"`
	HelloURL         string `json:"helloUrl"`
	GuardURL         string `json:"guardUrl"`
	HelloFunctionURL string `json:"helloFunctionUrl"`
	FunctionKey      string `json:"functionKey"`
	// GuardIPv6URL reaches the guard over ::1, an address outside its
	// allow rule (only the gateway's 127.0.0.1 is allowed): 403 there.
	GuardIPv6URL  string `json:"guardIpv6Url,omitempty"`
	CACertificate string `json:"caCertificate"`
	Outbox        string `json:"outbox"`
	// AdminURL is the admin listener (loopback, plain HTTP): /metrics of
	// every role, /healthz, /readyz and pprof.
	AdminURL string `json:"adminUrl,omitempty"`
	// Partner is the second demo tenant, an OpenID Connect provider the
	// sign-in page offers ("Contoso Partner"), and its user.
	Partner struct {
		Provider            string `json:"provider"`
		IdentityURL         string `json:"identityUrl"`
		OpenIDConfiguration string `json:"openidConfiguration"`
		Email               string `json:"email"`
		Password            string `json:"password"`
	} `json:"partner"`
	// Console is the admin console and its demo administrator (the
	// admin role, created on the first run).
	Console struct {
		URL      string `json:"url"`
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"console"`
	// MFAUserFlow asks for an email code after sign-in (to Outbox).
	MFAUserFlow  string `json:"mfaUserFlow"`
	MFAAuthority string `json:"mfaAuthority"`
	// Graph is the directory API and the app that may call it (the
	// daemon, granted User.ReadWrite.All).
	Graph struct {
		BaseURL       string `json:"baseUrl"`
		TokenEndpoint string `json:"tokenEndpoint"`
		Scope         string `json:"scope"`
		ClientID      string `json:"clientId"`
		ClientSecret  string `json:"clientSecret"`
	} `json:"graph"`
}

// prepare applies o's defaults and readies its data folder: owner-only
// (it holds the master key in tenant.json and the database, also when an
// older version or a person made it), the development CA and the demo
// tenant, made on first use.
func prepare(o *Options) (dir string, cert tls.Certificate, pool *x509.CertPool, files devca.Files, ten *tenant, err error) {
	if o.DataDir == "" {
		o.DataDir = ".gatehouse"
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if dir, err = filepath.Abs(o.DataDir); err != nil {
		return
	}
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	if err = os.Chmod(dir, 0o700); err != nil {
		return
	}
	if cert, pool, files, err = devca.Ensure(filepath.Join(dir, "tls"), time.Now()); err != nil {
		err = fmt.Errorf("development CA: %w", err)
		return
	}
	ten, err = loadTenant(dir)
	return
}

// Run serves the stack until ctx ends. ready, when not nil, receives the
// Info once every listener is up and dev.json is written.
func Run(ctx context.Context, o Options, ready func(Info)) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	dir, cert, pool, files, ten, err := prepare(&o)
	if err != nil {
		return err
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}

	// Listen first: the issuer, redirect URIs and policy need the ports.
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	listen := func(def int) (net.Listener, string, error) {
		port := strconv.Itoa(def)
		if o.AutoPorts {
			port = "0"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, port))
		if err != nil {
			return nil, "", err
		}
		lns = append(lns, ln)
		return ln, "https://" + ln.Addr().String(), nil
	}
	idLn, idURL, err := listen(8080)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	gwLn, gwURL, err := listen(8081)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	guardLn, guardURL, err := listen(7071)
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	// The guard also answers on ::1 (same port) when that is free: a caller
	// there is outside the guard's allow rule, which shows the implicit deny.
	var guard6Ln net.Listener
	if o.Host == "127.0.0.1" {
		if ln, err := net.Listen("tcp", net.JoinHostPort("::1", portOf(guardLn))); err == nil {
			guard6Ln = ln
			lns = append(lns, ln)
		}
	}
	// The function itself listens on loopback only, plain HTTP: the guard
	// is its front door, as App Service's front end is the function's.
	fnLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("function: %w", err)
	}
	lns = append(lns, fnLn)
	fnURL := "http://" + fnLn.Addr().String()
	siteLn, siteOrigin, err := listen(3000)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	partnerLn, partnerURL, err := listen(8082)
	if err != nil {
		return fmt.Errorf("partner identity: %w", err)
	}
	// The admin listener is loopback only, on a free port.
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	lns = append(lns, adminLn)

	info := Info{Tenant: TenantName, TenantID: ten.TenantID, UserFlow: UserFlow}
	info.Authority = idURL + "/" + TenantName + ".onmicrosoft.com/" + UserFlow
	info.OpenIDConfiguration = info.Authority + "/v2.0/.well-known/openid-configuration"
	info.Issuer = idURL + "/" + ten.TenantID + "/v2.0/"
	info.SPA.ClientID, info.SPA.RedirectURI, info.SPA.URL = ten.SPAClientID, siteOrigin+"/", siteOrigin+"/"
	info.SPA.MSAL5URL = siteOrigin + "/msal5/"
	info.API.ClientID, info.API.Scope = ten.APIClientID, apiURI+"/Hello"
	info.Daemon.ClientID, info.Daemon.ClientSecret = ten.DaemonID, ten.DaemonSecret
	info.IdentityURL = idURL + "/"
	info.TokenEndpoint = info.Authority + "/oauth2/v2.0/token"
	info.GatewayURL = gwURL + "/"
	info.HelloURL = gwURL + "/hello/hello"
	info.GuardURL = guardURL + "/"
	info.HelloFunctionURL = guardURL + "/api/hello"
	info.FunctionKey = ten.FunctionKey
	if guard6Ln != nil {
		info.GuardIPv6URL = "https://" + guard6Ln.Addr().String() + "/api/hello"
	}
	info.CACertificate = files.CACert
	info.Outbox = filepath.Join(dir, "outbox")
	info.AdminURL = "http://" + adminLn.Addr().String() + "/"
	info.Partner.Provider, info.Partner.IdentityURL = PartnerProvider, partnerURL+"/"
	info.Partner.OpenIDConfiguration = partnerMetadata(partnerURL)
	info.Partner.Email, info.Partner.Password = PartnerEmail, ten.PartnerPassword
	info.Console.URL, info.Console.Email, info.Console.Password = idURL+"/console/", ConsoleEmail, ten.ConsolePassword
	info.MFAUserFlow = MFAUserFlow
	info.MFAAuthority = idURL + "/" + TenantName + ".onmicrosoft.com/" + MFAUserFlow
	info.Graph.BaseURL = idURL + "/graph/v1.0"
	info.Graph.TokenEndpoint = idURL + "/" + TenantName + ".onmicrosoft.com/oauth2/v2.0/token"
	info.Graph.Scope = "https://graph.microsoft.com/.default"
	info.Graph.ClientID, info.Graph.ClientSecret = ten.DaemonID, ten.DaemonSecret

	cfg, err := stackConfig(dir, ten, info, idLn.Addr().String(), idURL, gwLn.Addr().String(), siteLn.Addr().String(), guardLn.Addr().String(), guardURL, fnURL, siteOrigin)
	if err != nil {
		return err
	}
	cfg.Identity.IdentityProviders = []config.IdentityProvider{partnerProvider(ten, partnerURL)}
	trust := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	discovery := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: trust}}
	set, err := roles.Build(cfg, roles.Options{
		Logger:           log,
		GatewayTransport: &http.Transport{TLSClientConfig: trust, MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: false},
		DiscoveryClient:  discovery,
	})
	if err != nil {
		return err
	}
	defer set.Close()
	partner, err := roles.Build(partnerConfig(dir, ten, partnerLn.Addr().String(), partnerURL, idURL),
		roles.Options{Logger: log.With("tenant", PartnerTenant), DiscoveryClient: discovery})
	if err != nil {
		return fmt.Errorf("partner tenant: %w", err)
	}
	defer partner.Close()
	if err := ensurePartnerUser(ctx, partner.Identity.Store, ten); err != nil {
		return fmt.Errorf("partner tenant: %w", err)
	}
	if err := ensureConsoleAdmin(ctx, set.Identity.Store, ten); err != nil {
		return fmt.Errorf("console administrator: %w", err)
	}

	rs := map[string]*roles.Server{
		"function": {Name: "function", Handler: helloFunction()},
		"admin":    {Name: "admin", Handler: set.AdminHandler(true)},
	}
	for _, s := range set.Servers {
		rs[s.Name] = s
	}
	rs["partner"] = partner.Servers[0]
	listeners := map[string]net.Listener{"identity": idLn, "gateway": gwLn, "function": fnLn, "site": siteLn, "guard": guardLn,
		"admin": adminLn, "partner": partnerLn}
	if guard6Ln != nil {
		listeners["guard6"] = guard6Ln
		rs["guard6"] = rs["guard"]
	}
	var servers []*http.Server
	errc := make(chan error, len(listeners))
	for name, ln := range listeners {
		r := rs[name]
		if r == nil {
			return fmt.Errorf("devstack: no handler for the %s listener", name)
		}
		s := roles.HTTPServer(r, set.Timeouts, log)
		servers = append(servers, s)
		var tc *tls.Config
		if name != "function" && name != "admin" {
			tc = tlsCfg
		}
		go func() { errc <- roles.Serve(s, ln, tc) }()
	}

	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "dev.json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	log.Info("gatehouse dev is running", "authority", info.Authority, "gateway", info.GatewayURL,
		"hello", info.HelloURL, "devJson", filepath.Join(dir, "dev.json"), "trust", files.CACert)
	if ready != nil {
		ready(info)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(sctx)
	}
	return nil
}

// stackConfig is the demo tenant and seed 004's gateway as a config, the
// same structure `gatehouse serve` reads from YAML.
func stackConfig(dir string, ten *tenant, info Info, idAddr, idURL, gwAddr, siteAddr, guardAddr, guardURL, fnURL, siteOrigin string) (*config.Config, error) {
	policyFile := filepath.Join(dir, "policies", "global.xml")
	if err := os.MkdirAll(filepath.Dir(policyFile), 0o700); err != nil {
		return nil, err
	}
	// Seed 004's policy verbatim: only the three placeholders change.
	policy := strings.NewReplacer(
		"{PrimaryStorageEndpoint}", siteOrigin+"/",
		"{b2cpolicy-well-known-openid}", info.OpenIDConfiguration,
		"{backend-api-application-client-id}", ten.APIClientID,
	).Replace(seedPolicy)
	if err := os.WriteFile(policyFile, []byte(policy), 0o644); err != nil {
		return nil, err
	}
	apiPolicyFile := filepath.Join(dir, "policies", "hello-api.xml")
	if err := os.WriteFile(apiPolicyFile, []byte(helloAPIPolicy), 0o644); err != nil {
		return nil, err
	}
	// The seed's SPA, its config object filled in (MSAL's B2C authority form
	// /tfp/{tenant}/{policy}, as the seed writes it).
	siteDir := filepath.Join(dir, "site")
	idHost := strings.TrimPrefix(idURL, "https://")
	if err := web.WriteSPA(siteDir, web.SPAConfig{
		ClientID:       ten.SPAClientID,
		Authority:      idURL + "/tfp/" + TenantName + ".onmicrosoft.com/" + UserFlow,
		RedirectURI:    info.SPA.RedirectURI,
		KnownAuthority: idHost,
		Scope:          info.API.Scope,
		APIBaseURL:     strings.TrimSuffix(info.GatewayURL, "/") + "/hello",
	}, info.SPA.MSAL5URL); err != nil {
		return nil, err
	}
	secret := config.NewSecret
	off, no := false, false
	return &config.Config{
		File: filepath.Join(dir, "dev.yaml"),
		Identity: &config.Identity{
			Listen:    idAddr,
			PublicURL: idURL,
			Tenant:    config.Tenant{Name: TenantName, ID: ten.TenantID},
			Storage:   "sqlite://" + filepath.Join(dir, "gatehouse.db"),
			MasterKey: secret(ten.MasterKey),
			Email:     &config.Email{From: "no-reply@contoso.example", Outbox: config.Path{Raw: info.Outbox, Abs: info.Outbox}},
			Apps: []config.App{
				{Name: "Frontend Application", ClientID: ten.SPAClientID, Type: "spa",
					RedirectURIs: []string{info.SPA.RedirectURI, info.SPA.MSAL5URL}, Permissions: []string{info.API.Scope}},
				{Name: "Backend Application", ClientID: ten.APIClientID, Type: "web", IdentifierURI: apiURI,
					Scopes: []string{"Hello"}, ClientSecrets: []config.Secret{secret(secretFor(ten))}},
				{Name: "Daemon", ClientID: ten.DaemonID, Type: "daemon",
					ClientSecrets: []config.Secret{secret(ten.DaemonSecret)}, Permissions: []string{apiURI + "/.default"},
					GraphPermissions: []string{"User.ReadWrite.All"}},
			},
			UserFlows: []config.UserFlow{{
				Name: UserFlow, Type: "signUpOrSignIn", Attributes: []string{"displayName"},
				EmailVerification: &off, Claims: []string{"displayName", "emails", "objectId", "newUser", "identityProvider"},
				IdentityProviders: []string{"local", PartnerProvider},
			}, {
				Name: MFAUserFlow, Type: "signUpOrSignIn", Attributes: []string{"displayName"},
				EmailVerification: &off, Claims: []string{"displayName", "emails", "objectId", "newUser"},
				MFA: &config.MFA{Methods: []string{"email"}, Enforcement: "always"},
			}},
		},
		Gateway: &config.Gateway{
			Listen: gwAddr,
			// A secret named value (as a Key Vault reference would be):
			// never logged.
			NamedValues: map[string]config.Secret{"hello-function-key": secretNamedValue(ten.FunctionKey)},
			Policy:      config.Path{Raw: policyFile, Abs: policyFile},
			Apis: []config.API{{Name: "hello", Path: "hello", ServiceURL: guardURL + "/api", SubscriptionRequired: &no,
				Policy: config.Path{Raw: apiPolicyFile, Abs: apiPolicyFile}}},
		},
		Guard: &config.Guard{
			Listen:   guardAddr,
			Upstream: fnURL,
			Auth: &config.GuardAuth{OpenIDConfiguration: info.OpenIDConfiguration, Audiences: []string{ten.APIClientID},
				Unauthenticated: "return401"},
			FunctionKeys: map[string]config.Secret{"hello": secret(ten.FunctionKey)},
			AccessRestrictions: []config.AccessRestriction{
				{Name: "gateway", Action: "allow", IPAddress: "127.0.0.1/32", Priority: 100},
			},
		},
		Site: &config.Site{Listen: siteAddr, Root: config.Path{Raw: siteDir, Abs: siteDir}},
	}, nil
}

// secretFor is the Backend Application's own client secret: derived, as
// nothing in the demo uses it, so there is nothing to write down.
func secretFor(t *tenant) string { return "backend-" + t.DaemonSecret }

// secretNamedValue marks a named value secret, as env:/file: values are.
func secretNamedValue(v string) config.Secret {
	s := config.NewSecret(v)
	s.External = true
	return s
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// helloFunction is the demo function of seed 004.
func helloFunction() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello World, time and date are %s", time.Now().Format(time.RFC1123))
	})
	return mux
}
