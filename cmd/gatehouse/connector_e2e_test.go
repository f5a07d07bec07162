package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/keys"
)

// Secrets of the connector test: none of them may appear in the logs.
const (
	connRestUser    = "rest-user-7f3a"
	connRestPass    = "rest-password-5b9e1c"
	connRestBearer  = "static-bearer-token-44d0aa"
	connAPIKey      = "functions-key-90c2e7"
	connPFXPassword = "pfx-password-31ab"
)

// connectorCA makes a CA and a server certificate for 127.0.0.1 signed by
// it: the API connector endpoint behind a private CA.
func connectorCA(t *testing.T) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gatehouse test private CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
}

// connectorAPI is the HTTPS API behind the connectors. Each path checks what its
// authentication type must send (and that nothing else is sent), then
// answers ValidationError for a displayName starting with "Reject" and
// Continue with an overridden displayName otherwise.
type connectorAPI struct {
	t        *testing.T
	srv      *httptest.Server
	verifier atomic.Pointer[oidc.IDTokenVerifier]

	mu     sync.Mutex
	tokens []string       // bearer tokens presented at /cc
	calls  map[string]int // by path
}

func newConnectorAPI(t *testing.T, server tls.Certificate) *connectorAPI {
	a := &connectorAPI{t: t, calls: map[string]int{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequestClientCert}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *connectorAPI) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	a.mu.Lock()
	a.calls[path]++
	a.mu.Unlock()
	refuse := func(format string, args ...any) {
		a.t.Errorf("API %s: "+format, append([]any{path}, args...)...)
		w.WriteHeader(http.StatusUnauthorized)
	}
	var body map[string]any
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		json.NewDecoder(r.Body).Decode(&body) != nil {
		refuse("want a POST of JSON, got %s %s", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if body["step"] != "PostAttributeCollection" || body["client_id"] != webClientID || body["email"] == nil {
		refuse("body = %v", body)
		return
	}
	authz := r.Header.Get("Authorization")
	var peer *x509.Certificate
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		peer = r.TLS.PeerCertificates[0]
	}
	if peer != nil && path != "/cert" {
		refuse("a client certificate was presented")
		return
	}
	if r.Header.Get("x-functions-key") != "" && path != "/apikey" {
		refuse("an API key was sent")
		return
	}
	note := ""
	switch path {
	case "/basic":
		if u, p, ok := r.BasicAuth(); !ok || u != connRestUser || p != connRestPass {
			refuse("basic credentials %q", u)
			return
		}
	case "/cert":
		if authz != "" || peer == nil {
			refuse("want only a client certificate (authorization %v, certificate %v)", authz != "", peer != nil)
			return
		}
		note = " (certificate " + peer.Subject.CommonName + ")"
	case "/bearer":
		if authz != "Bearer "+connRestBearer {
			refuse("wrong static bearer token")
			return
		}
	case "/cc":
		raw, ok := strings.CutPrefix(authz, "Bearer ")
		v := a.verifier.Load()
		if !ok || v == nil {
			refuse("no bearer token")
			return
		}
		tok, err := v.Verify(r.Context(), raw)
		var c struct{ Azp string }
		if err == nil {
			err = tok.Claims(&c)
		}
		if err != nil || c.Azp != daemonID {
			refuse("token from the identity role: %v (azp %q)", err, c.Azp)
			return
		}
		a.mu.Lock()
		a.tokens = append(a.tokens, raw)
		a.mu.Unlock()
	case "/apikey":
		if authz != "" || r.Header.Get("x-functions-key") != connAPIKey {
			refuse("wrong API key header")
			return
		}
	case "/none":
		if authz != "" {
			refuse("credentials sent with authenticationType none")
			return
		}
	case "/fail":
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	default:
		refuse("unknown path")
		return
	}
	if authz != "" && path != "/basic" && path != "/bearer" && path != "/cc" {
		refuse("an Authorization header was sent")
		return
	}
	name, _ := body["displayName"].(string)
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(name, "Reject") {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"version": "1.0.0", "status": 400, "action": "ValidationError",
			"userMessage": "Display name refused by " + path[1:] + note})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"version": "1.0.0", "action": "Continue",
		"displayName": name + " [checked by " + path[1:] + "]"})
}

// connectorConfig is a tenant whose user flows each call one API
// connector at postAttributeCollection.
func connectorConfig(t *testing.T, apiURL, caPEM string) (file, publicURL string, env []string) {
	t.Helper()
	port := testutil.FreePort(t)
	publicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := t.TempDir()
	writeFile(t, dir, "certs/client-v1.pfx", string(testPFX(t, pkcs12.LegacyRC2, "client-v1", connPFXPassword,
		time.Now().Add(-2*time.Hour), time.Now().Add(24*time.Hour))))
	writeFile(t, dir, "secrets/api-key.txt", connAPIKey)
	writeFile(t, dir, "certs/ca.pem", caPEM)
	var flows strings.Builder
	for _, f := range []string{"basic", "cert", "bearer", "cc", "apikey", "none", "fail", "slow"} {
		fmt.Fprintf(&flows, `    - { name: B2C_1_%s, type: signUpOrSignIn, attributes: [displayName], emailVerification: false,
        claims: [displayName, emails, objectId, newUser], apiConnectors: { postAttributeCollection: %s-api } }
`, f, f)
	}
	file = writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`identity:
  listen: 127.0.0.1:%[1]d
  publicUrl: %[2]s
  tenant: { name: contoso, id: %[3]s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
  deploymentMode: Development
  policyKeys:
    - { name: RestApiUsername, secret: env:REST_USER }
    - { name: B2C_1A_RestApiPassword, secret: env:REST_PASSWORD }
    - { name: RestApiClientCertificate, pfx: file:certs/client-v1.pfx, password: env:PFX_PASSWORD }
    - { name: RestApiBearerToken, secret: env:REST_BEARER }
    - { name: RestApiKey, secret: file:secrets/api-key.txt }
    - { name: DaemonClientSecret, secret: env:DAEMON_SECRET }
  apps:
    - { name: Web, clientId: %[4]s, type: web, redirectUris: ["http://127.0.0.1:1/callback"], clientSecrets: [env:WEB_SECRET],
        permissions: ["https://contoso.onmicrosoft.com/backend/Hello"] }
    - { name: Backend, clientId: %[5]s, type: web, identifierUri: https://contoso.onmicrosoft.com/backend,
        scopes: [Hello], clientSecrets: [env:WEB_SECRET] }
    - { name: Daemon, clientId: %[6]s, type: daemon, clientSecrets: [env:DAEMON_SECRET],
        permissions: ["https://contoso.onmicrosoft.com/backend/.default"] }
  userFlows:
%[7]s  apiConnectors:
    - { name: basic-api, endpointUrl: %[8]s/basic, authenticationType: basic,
        username: RestApiUsername, password: B2C_1A_RestApiPassword }
    - { name: cert-api, endpointUrl: %[8]s/cert, authenticationType: certificate,
        certificate: B2C_1A_RestApiClientCertificate }
    - { name: bearer-api, endpointUrl: %[8]s/bearer, authenticationType: bearer, bearerToken: RestApiBearerToken }
    - name: cc-api
      endpointUrl: %[8]s/cc
      authenticationType: bearer
      clientCredentials:
        tokenEndpoint: %[2]s/contoso.onmicrosoft.com/B2C_1_basic/oauth2/v2.0/token
        clientId: %[6]s
        clientSecret: B2C_1A_DaemonClientSecret
        scopes: ["https://contoso.onmicrosoft.com/backend/.default"]
    - { name: apikey-api, endpointUrl: %[8]s/apikey, authenticationType: apiKeyHeader,
        apiKeyHeader: { name: x-functions-key, key: RestApiKey } }
    - { name: none-api, endpointUrl: %[8]s/none, authenticationType: none }
    - { name: fail-api, endpointUrl: %[8]s/fail, authenticationType: none }
    - { name: slow-api, endpointUrl: %[8]s/slow, authenticationType: none, timeout: 300ms, maxAttempts: 2 }
`, port, publicURL, tenantID, webClientID, apiClientID, daemonID, flows.String(), apiURL))
	key := make([]byte, 32)
	rand.Read(key)
	env = []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret,
		"DAEMON_SECRET=" + daemonSec, "REST_USER=" + connRestUser, "REST_PASSWORD=" + connRestPass,
		"REST_BEARER=" + connRestBearer, "PFX_PASSWORD=" + connPFXPassword,
		// The API's private CA, trusted through the system roots.
		"SSL_CERT_FILE=" + filepath.Join(dir, "certs", "ca.pem")}
	return file, publicURL, env
}

// TestConnectorEndToEnd runs `gatehouse serve` with API connectors of every
// authentication type against a local HTTPS API behind a private CA and
// signs users up through the hosted pages; then it rolls the client
// certificate over with `gatehouse keys add` while the server runs.
func TestConnectorEndToEnd(t *testing.T) {
	caPEM, serverCert := connectorCA(t)
	api := newConnectorAPI(t, serverCert)
	file, publicURL, env := connectorConfig(t, api.srv.URL, string(caPEM))
	srv := startServe(t, file, env, "identity")
	ctx := context.Background()

	authority := func(flow string) string { return publicURL + "/contoso.onmicrosoft.com/" + flow }
	provider := tenantProvider(t, ctx, publicURL, "B2C_1_basic")
	api.verifier.Store(provider.Verifier(&oidc.Config{ClientID: apiClientID}))
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})
	const callback = "http://127.0.0.1:1/callback"

	// submit opens flow's sign-up page and submits it.
	submit := func(flow, email, name string) (*testutil.Browser, *testutil.Page, *oauth2.Config, string) {
		t.Helper()
		conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, apiScope},
			Endpoint: oauth2.Endpoint{AuthURL: authority(flow) + "/oauth2/v2.0/authorize", TokenURL: authority(flow) + "/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
		b := testutil.NewBrowser(t, callback, nil)
		pkce := oauth2.GenerateVerifier()
		page := b.Get(conf.AuthCodeURL("state", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce")))
		page = b.Follow(page, "createAccount")
		page = b.Submit(page, "continue", map[string]string{
			"email": email, "newPassword": "Str0ng-Passw0rd!", "reenterPassword": "Str0ng-Passw0rd!", "displayName": name})
		return b, page, conf, pkce
	}
	// signUp expects the flow to complete and returns the id token's claims.
	signUp := func(flow, email, name string) map[string]any {
		t.Helper()
		b, page, conf, pkce := submit(flow, email, name)
		q := b.Callback(page)
		_, _, claims := redeem(t, ctx, conf, verifier, q.Get("code"), pkce)
		return claims
	}
	// refused expects the page to show msg and the flow to stay put.
	refused := func(flow, email, name, msg string) *testutil.Page {
		t.Helper()
		_, page, _, _ := submit(flow, email, name)
		if !strings.Contains(page.Body, msg) {
			t.Fatalf("%s: page %d does not show %q:\n%s", flow, page.Status, msg, page.Body)
		}
		return page
	}

	for _, f := range []string{"basic", "cert", "bearer", "cc", "apikey", "none"} {
		note := ""
		if f == "cert" {
			note = " (certificate client-v1)"
		}
		refused("B2C_1_"+f, "rejected-"+f+"@example.com", "Reject Me", "Display name refused by "+f+note)
		claims := signUp("B2C_1_"+f, "ok-"+f+"@example.com", "Ada "+f)
		if want := "Ada " + f + " [checked by " + f + "]"; claims["name"] != want || claims["newUser"] != true {
			t.Errorf("%s: id token name %q newUser %v, want %q", f, claims["name"], claims["newUser"], want)
		}
	}
	// Client credentials: a third call reuses the token acquired once.
	refused("B2C_1_cc", "rejected-cc2@example.com", "Reject Again", "Display name refused by cc")
	api.mu.Lock()
	tokens := append([]string(nil), api.tokens...)
	api.mu.Unlock()
	if len(tokens) != 3 || tokens[0] != tokens[1] || tokens[1] != tokens[2] {
		t.Errorf("client credentials: %d calls, tokens equal: %v (want one acquisition for 3 calls)", len(tokens),
			len(tokens) == 3 && tokens[0] == tokens[1] && tokens[1] == tokens[2])
	}

	// 5xx and timeout: a clear error page, no user.
	const generic = "There was a problem with your request. Please try again later."
	for _, f := range []string{"fail", "slow"} {
		page := refused("B2C_1_"+f, "down-"+f+"@example.com", "Ada "+f, generic)
		if page.Status != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502", f, page.Status)
		}
	}
	api.mu.Lock()
	failCalls, slowCalls := api.calls["/fail"], api.calls["/slow"]
	api.mu.Unlock()
	if failCalls != 2 || slowCalls != 2 {
		t.Errorf("attempts: /fail %d, /slow %d; want 2 each (one retry)", failCalls, slowCalls)
	}

	// Only the accepted sign-ups made users.
	out, errOut, code := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if code != 0 {
		t.Fatalf("users list: %d %s", code, errOut)
	}
	var users struct {
		Value []struct {
			DisplayName string
			Identities  []struct{ IssuerAssignedID string }
		}
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users.Value {
		for _, id := range u.Identities {
			got[id.IssuerAssignedID] = u.DisplayName
		}
	}
	for _, f := range []string{"basic", "cert", "bearer", "cc", "apikey", "none"} {
		if want := "Ada " + f + " [checked by " + f + "]"; got["ok-"+f+"@example.com"] != want {
			t.Errorf("stored user ok-%s: displayName %q, want %q", f, got["ok-"+f+"@example.com"], want)
		}
	}
	if len(got) != 6 {
		t.Errorf("users = %v, want only the 6 accepted sign-ups", got)
	}

	// Certificate rollover without restart: the CLI uploads a new PFX
	// (modern encryption) to the running server's store; the next call
	// after the policy key cache's TTL presents it.
	newPFX := writeFile(t, filepath.Dir(file), "certs/client-v2.pfx", string(testPFX(t, pkcs12.Modern2023, "client-v2", "new-"+connPFXPassword,
		time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))))
	_, errOut, code = gatehouse(t, env, "keys", "add", "--config", file, "--name", "RestApiClientCertificate",
		"--pfx", newPFX, "--password", "new-"+connPFXPassword)
	if code != 0 {
		t.Fatalf("keys add: %d %s", code, errOut)
	}
	deadline := time.Now().Add(keys.DefaultTTL + 20*time.Second)
	for i := 0; ; i++ {
		_, page, _, _ := submit("B2C_1_cert", fmt.Sprintf("rollover-%d@example.com", i), "Reject Rollover")
		if strings.Contains(page.Body, "Display name refused by cert (certificate client-v2)") {
			t.Logf("the new certificate was presented on call %d after the rollover", i+1)
			break
		}
		if !strings.Contains(page.Body, "(certificate client-v1)") || time.Now().After(deadline) {
			t.Fatalf("after the rollover (%d calls): page %d:\n%s", i+1, page.Status, page.Body)
		}
		time.Sleep(time.Second)
	}

	// The audit log: one line per call, with no secret in any log line.
	logs := srv.logs.String()
	seen := map[string]bool{}
	for _, line := range strings.Split(logs, "\n") {
		var rec struct {
			Msg, Connector, Step, Outcome string
			Status, Attempts              int
			DurationMs                    *int64
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "api connector call" {
			continue
		}
		if rec.Step != "PostAttributeCollection" || rec.DurationMs == nil || rec.Attempts < 1 {
			t.Errorf("audit line without step/duration/attempts: %s", line)
		}
		seen[rec.Connector] = true
		switch rec.Connector {
		case "fail-api":
			if rec.Status != 503 || rec.Attempts != 2 || rec.Outcome != "Failed" {
				t.Errorf("fail-api audit: %s", line)
			}
		case "slow-api":
			if rec.Status != 0 || rec.Attempts != 2 || rec.Outcome != "Failed" {
				t.Errorf("slow-api audit: %s", line)
			}
		default:
			if rec.Status != 200 && rec.Status != 400 {
				t.Errorf("audit: %s", line)
			}
		}
	}
	for _, c := range []string{"basic-api", "cert-api", "bearer-api", "cc-api", "apikey-api", "none-api", "fail-api", "slow-api"} {
		if !seen[c] {
			t.Errorf("no audit line for %s", c)
		}
	}
	if !strings.Contains(logs, `"connector":"none-api"`) || !strings.Contains(logs, "insecure configuration allowed") {
		t.Error("no start-up warning for authenticationType none in Development")
	}
	secrets := []string{connRestUser, connRestPass, connRestBearer, connAPIKey, connPFXPassword, daemonSec, webSecret,
		base64.StdEncoding.EncodeToString([]byte(connRestUser + ":" + connRestPass))}
	secrets = append(secrets, tokens...)
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a secret (%.6s...) is in the logs", s)
		}
	}
}

// TestConnectorStartupErrors: configs that must not start, each with the
// position of the culprit.
func TestConnectorStartupErrors(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "PFX_PASSWORD=wrong", "REST_PASSWORD=" + connRestPass}
	head := `identity:
  listen: 127.0.0.1:0
  publicUrl: http://127.0.0.1:1
  tenant: { name: contoso, id: ` + tenantID + ` }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
`
	flow := `  userFlows:
    - { name: B2C_1_signup, type: signUpOrSignIn, attributes: [displayName], emailVerification: false,
        claims: [displayName], apiConnectors: { %s: %s } }
`
	cases := []struct {
		name, body, marker, want string
	}{
		{"production http", `  deploymentMode: Production
  policyKeys:
    - { name: RestApiPassword, secret: env:REST_PASSWORD }
  apiConnectors:
    - name: plain-http
      endpointUrl: http://127.0.0.1:9/validate
      authenticationType: basic
      username: RestApiPassword
      password: RestApiPassword
`, "name: plain-http", "the endpoint is http://; in Production this needs allowInsecureAuthInProduction: true"},
		{"unknown connector", fmt.Sprintf(flow, "postAttributeCollection", "ghost") + `  apiConnectors:
    - { name: real, endpointUrl: https://127.0.0.1:9/x, authenticationType: none }
  deploymentMode: Development
`, "name: B2C_1_signup", `"ghost" is not in identity.apiConnectors`},
		{"unknown step", fmt.Sprintf(flow, "beforeSignUp", "real") + `  apiConnectors:
    - { name: real, endpointUrl: https://127.0.0.1:9/x, authenticationType: none }
  deploymentMode: Development
`, "name: B2C_1_signup", `step "beforeSignUp" must be postFederationSignup, postAttributeCollection, preTokenIssuance or passwordMigration`},
		{"wrong pfx password", `  policyKeys:
    - name: RestApiClientCertificate
      pfx: file:client.pfx
      password: env:PFX_PASSWORD
`, "password: env:PFX_PASSWORD", "RestApiClientCertificate: the PFX password is wrong"},
		{"client credentials without secret", `  deploymentMode: Development
  apiConnectors:
    - name: cc
      endpointUrl: https://127.0.0.1:9/x
      authenticationType: bearer
      clientCredentials: { tokenEndpoint: https://127.0.0.1:9/token, clientId: ` + daemonID + ` }
`, "clientCredentials:", "clientCredentials.clientSecret is required"},
		{"bad deployment mode", "  deploymentMode: Staging\n", "listen:", `identity.deploymentMode "Staging" must be Development or Production`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "client.pfx", string(testPFX(t, pkcs12.Modern2023, "client", "right",
				time.Now().Add(-time.Hour), time.Now().Add(time.Hour))))
			src := head + c.body
			file := writeFile(t, dir, "gatehouse.yaml", src)
			line := 0
			for i, l := range strings.Split(src, "\n") {
				if strings.Contains(l, c.marker) {
					line = i + 1
					break
				}
			}
			_, errOut, code := gatehouse(t, env, "serve", "--config", file)
			if code == 0 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, fmt.Sprintf("%s:%d:", file, line)) {
				t.Errorf("exit %d, want an error at %s:%d: %q; stderr:\n%s", code, file, line, c.want, errOut)
			}
			if strings.Contains(errOut, connRestPass) {
				t.Errorf("a secret in the error:\n%s", errOut)
			}
		})
	}
}
