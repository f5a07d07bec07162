package devstack

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Default ports of `gatehouse dev` (config-contract.md).
const (
	portIdentity = 8080
	portGateway  = 8081
	portGuard    = 7071
	portSite     = 3000
	// portFunction is where the printed config expects the function app
	// (dev serves its built-in hello function on a private port instead).
	portFunction = 7072
)

// PrintConfig writes the YAML config that `gatehouse dev` runs, on the
// default ports, as `gatehouse serve --config` reads it: the demo tenant of
// DataDir (made on first use, as dev makes it), TLS from the development
// CA, seed 004's policies and the SPA written into DataDir. Secrets are not
// in the YAML: they are written to DataDir/secrets (owner-only files) and
// referenced as file: values. Nothing listens.
func PrintConfig(w io.Writer, o Options) error {
	dir, _, _, files, ten, err := prepare(&o)
	if err != nil {
		return err
	}
	addr := func(port int) string { return net.JoinHostPort(o.Host, strconv.Itoa(port)) }
	idURL, gwURL, guardURL, siteOrigin := "https://"+addr(portIdentity), "https://"+addr(portGateway), "https://"+addr(portGuard), "https://"+addr(portSite)
	info := Info{Tenant: TenantName, TenantID: ten.TenantID, UserFlow: UserFlow}
	info.Authority = idURL + "/" + TenantName + ".onmicrosoft.com/" + UserFlow
	info.OpenIDConfiguration = info.Authority + "/v2.0/.well-known/openid-configuration"
	info.SPA.RedirectURI, info.SPA.MSAL5URL = siteOrigin+"/", siteOrigin+"/msal5/"
	info.API.Scope = apiURI + "/Hello"
	info.GatewayURL = gwURL + "/"
	info.Outbox = filepath.Join(dir, "outbox")
	fnURL := "http://127.0.0.1:" + strconv.Itoa(portFunction)
	cfg, err := stackConfig(dir, ten, info, addr(portIdentity), idURL, addr(portGateway), addr(portSite), addr(portGuard), guardURL, fnURL, siteOrigin)
	if err != nil {
		return err
	}
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		return err
	}
	ref := func(name, value string) (string, error) {
		p := filepath.Join(secrets, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			return "", err
		}
		return strconv.Quote("file:" + p), nil
	}
	id, gw, gd, st := cfg.Identity, cfg.Gateway, cfg.Guard, cfg.Site
	masterRef, err := ref("master-key", id.MasterKey.Value)
	if err != nil {
		return err
	}
	secretRefs := map[string]string{}
	for _, a := range id.Apps {
		for _, s := range a.ClientSecrets {
			if secretRefs[a.Name], err = ref(strings.ToLower(strings.Fields(a.Name)[0])+"-client-secret", s.Value); err != nil {
				return err
			}
		}
	}
	fkRef, err := ref("function-key", ten.FunctionKey)
	if err != nil {
		return err
	}
	q := strconv.Quote
	tlsLine := fmt.Sprintf("  tls: { certificate: %s, key: %s }\n", q("file:"+files.ServerCert), q("file:"+files.ServerKey))
	list := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = q(s)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# The config 'gatehouse dev --data %s' runs, for 'gatehouse serve --config FILE'
# (check it with 'gatehouse validate --config FILE').
# Secrets are not in this file: they are owner-only files in %s, referenced as
# file: values (env:NAME works as well). Certificates are dev's development CA's:
# trust %s, or give the roles certificates of your own.
# The guard and the gateway fetch OpenID metadata over HTTPS from the identity role:
# start serve with SSL_CERT_FILE=%s (or trust the CA system-wide).
`, o.DataDir, secrets, files.CACert, files.CACert)
	fmt.Fprintf(&b, "identity:\n  listen: %s\n%s  publicUrl: %s\n  tenant: { name: %s, id: %s }\n", q(id.Listen), tlsLine, q(id.PublicURL), id.Tenant.Name, id.Tenant.ID)
	fmt.Fprintf(&b, "  storage: %s   # the database dev uses; a copy or a new path starts afresh\n", q(id.Storage))
	fmt.Fprintf(&b, "  deploymentMode: Development\n  masterKey: %s   # encrypts signing and policy keys: keep it with the database\n", masterRef)
	fmt.Fprintf(&b, "  email: { from: %s, outbox: %s }   # outbox: messages are written there; smtp: sends them\n", q(id.Email.From), q(id.Email.Outbox.Abs))
	b.WriteString("  apps:\n")
	for _, a := range id.Apps {
		fmt.Fprintf(&b, "    - name: %s\n      clientId: %s\n      type: %s\n", q(a.Name), a.ClientID, a.Type)
		if len(a.RedirectURIs) > 0 {
			fmt.Fprintf(&b, "      redirectUris: %s\n", list(a.RedirectURIs))
		}
		if a.IdentifierURI != "" {
			fmt.Fprintf(&b, "      identifierUri: %s\n", q(a.IdentifierURI))
		}
		if len(a.Scopes) > 0 {
			fmt.Fprintf(&b, "      scopes: %s\n", list(a.Scopes))
		}
		if len(a.Permissions) > 0 {
			fmt.Fprintf(&b, "      permissions: %s\n", list(a.Permissions))
		}
		if r := secretRefs[a.Name]; r != "" {
			fmt.Fprintf(&b, "      clientSecrets: [%s]\n", r)
		}
	}
	b.WriteString("  userFlows:\n")
	for _, f := range id.UserFlows {
		fmt.Fprintf(&b, "    - name: %s\n      type: %s\n      attributes: %s\n      claims: %s\n", f.Name, f.Type, list(f.Attributes), list(f.Claims))
		if f.EmailVerification != nil {
			fmt.Fprintf(&b, "      emailVerification: %v   # the demo lets a newcomer sign up at once; B2C's default is true\n", *f.EmailVerification)
		}
		if m := f.MFA; m != nil {
			fmt.Fprintf(&b, "      mfa: { methods: %s, enforcement: %s }   # codes go to the email outbox\n", list(m.Methods), m.Enforcement)
		}
		if len(f.IdentityProviders) > 0 {
			// dev's partner tenant runs only inside `gatehouse dev`.
			b.WriteString("      # identityProviders: [local, ...]   # dev also offers its built-in partner tenant here\n")
		}
	}
	fmt.Fprintf(&b, "\ngateway:\n  listen: %s\n%s", q(gw.Listen), tlsLine)
	b.WriteString("  namedValues:\n")
	names := make([]string, 0, len(gw.NamedValues))
	for n := range gw.NamedValues {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "    %s: %s\n", n, fkRef)
	}
	fmt.Fprintf(&b, "  policy: %s   # seed 004's policy, its placeholders filled\n  apis:\n", q(gw.Policy.Abs))
	for _, a := range gw.Apis {
		fmt.Fprintf(&b, "    - name: %s\n      path: %s\n      serviceUrl: %s\n      subscriptionRequired: false\n      policy: %s\n", a.Name, a.Path, q(a.ServiceURL), q(a.Policy.Abs))
	}
	fmt.Fprintf(&b, "\nguard:\n  listen: %s\n%s", q(gd.Listen), tlsLine)
	fmt.Fprintf(&b, "  upstream: %s   # your function app (dev serves a built-in hello function instead)\n", q(gd.Upstream))
	fmt.Fprintf(&b, "  auth: { openidConfiguration: %s, audiences: %s, unauthenticated: %s }\n", q(gd.Auth.OpenIDConfiguration), list(gd.Auth.Audiences), gd.Auth.Unauthenticated)
	b.WriteString("  functionKeys:\n")
	for n := range gd.FunctionKeys {
		fmt.Fprintf(&b, "    %s: %s\n", n, fkRef)
	}
	b.WriteString("  accessRestrictions:\n")
	for _, r := range gd.AccessRestrictions {
		fmt.Fprintf(&b, "    - { name: %s, action: %s, ipAddress: %s, priority: %d }\n", r.Name, r.Action, r.IPAddress, r.Priority)
	}
	fmt.Fprintf(&b, "\nsite:\n  listen: %s\n%s  root: %s   # seed 004's SPA, its config object filled\n", q(st.Listen), tlsLine, q(st.Root.Abs))
	fmt.Fprintf(&b, "\nadmin:\n  listen: %s   # /metrics, /healthz, /readyz; loopback only\n", q("127.0.0.1:9090"))
	_, err = io.WriteString(w, b.String())
	return err
}
