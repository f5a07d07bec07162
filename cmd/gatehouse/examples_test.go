package main

import (
	"bytes"
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
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/web"
)

// The examples in ../../examples are what a newcomer starts with one
// command. Each test validates the example as committed (with the
// environment variables its README names), then serves a copy whose
// 127.0.0.1 ports are rewritten to free ones (a config cannot be templated
// and listen addresses are plain strings) and asks it something real.

const examplesDir = "../../examples"

// Ids the examples share.
const (
	exTenantID = "8d2f6a4e-0000-4000-8000-000000000001"
	exWebID    = "11111111-1111-4111-8111-111111111111"
	exAPIID    = "22222222-2222-4222-8222-222222222222"
	exDaemonID = "33333333-3333-4333-8333-333333333333"
)

// copyExample copies examples/name into a temporary folder, replacing
// every "127.0.0.1:PORT" of ports in its text files (configs, policies,
// the SPA page), and returns the copy's gatehouse.yaml.
func copyExample(t *testing.T, name string, ports map[string]string) string {
	t.Helper()
	src := filepath.Join(examplesDir, name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "data" || d.Name() == "certs" { // left by a local run
				return filepath.SkipDir
			}
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".xml", ".html":
			s := string(b)
			for from, to := range ports {
				s = strings.ReplaceAll(s, "127.0.0.1:"+from, to)
			}
			b = []byte(s)
		}
		return os.WriteFile(out, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "gatehouse.yaml")
}

// freeAddr is 127.0.0.1 with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
}

// validateExample runs `gatehouse validate` on the committed example,
// and on nothing else: a validate without env shows the secrets are env:.
func validateExample(t *testing.T, name string, env []string, secrets ...string) {
	t.Helper()
	// validate may create the SQLite database beside the config; run it
	// on a copy so the repository stays clean.
	file := copyExample(t, name, nil)
	out, errOut, code := gatehouse(t, env, "validate", "--config", file)
	if code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("validate %s: exit %d\n%s%s", name, code, out, errOut)
	}
	out, errOut, code = gatehouse(t, nil, "validate", "--config", copyExample(t, name, nil))
	errOut = out + errOut
	if code != 1 {
		t.Fatalf("validate %s without its environment: exit %d", name, code)
	}
	for _, s := range secrets {
		if !strings.Contains(errOut, "environment variable "+s+" is not set") {
			t.Errorf("validate %s without env: no error for %s:\n%s", name, s, errOut)
		}
	}
}

func randB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestExampleGatewayOnly: two APIs, a product with a subscription, rate
// limits, validate-jwt against an issuer's discovery document.
func TestExampleGatewayOnly(t *testing.T) {
	issuer := testutil.NewIssuer(t)
	env := []string{"ISSUER_OPENID_CONFIG=" + issuer.DiscoveryURL(), "PARTNER_KEY=partner-key-0123456789", "PARTNER_KEY2=partner-key-2-0123456789"}
	validateExample(t, "gateway-only", env, "ISSUER_OPENID_CONFIG", "PARTNER_KEY", "PARTNER_KEY2")

	var mu sync.Mutex
	var seen []string
	backend := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, name+" "+r.Method+" "+r.URL.Path+" user="+r.Header.Get("X-User-Id")+" sub="+r.Header.Get("X-Subscription"))
			mu.Unlock()
			w.Header().Set("Server", "backend/1.0")
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"from":%q}`, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	orders, catalog := backend("orders"), backend("catalog")
	file := copyExample(t, "gateway-only", map[string]string{
		"8081": "127.0.0.1:0",
		"7072": strings.TrimPrefix(orders.URL, "http://"),
		"7073": strings.TrimPrefix(catalog.URL, "http://"),
	})
	gw := startServe(t, file, env, "gateway").url("gateway")
	c := &http.Client{}

	// orders: no token, then a token for another audience, then a good one.
	if code, _, body := get(t, c, gw+"/orders/orders"); code != 401 || !strings.Contains(body, "Access token is missing or invalid") {
		t.Fatalf("orders without a token: %d %s", code, body)
	}
	other := issuer.Token(t, map[string]any{"aud": "someone-else", "sub": "user-1"})
	if code, _, _ := get(t, c, gw+"/orders/orders", "Authorization", "Bearer "+other); code != 401 {
		t.Fatalf("orders with another audience: %d", code)
	}
	tok := issuer.Token(t, map[string]any{"aud": exAPIID, "sub": "user-1"})
	code, hdr, body := get(t, c, gw+"/orders/orders/42", "Authorization", "Bearer "+tok)
	if code != 200 || body != `{"from":"orders"}` || hdr.Get("Server") != "" {
		t.Fatalf("orders with a token: %d %v %s", code, hdr, body)
	}
	if code, _, _ := get(t, c, gw+"/orders/refunds", "Authorization", "Bearer "+tok); code != 404 {
		t.Fatalf("an operation not in the API: %d, want 404", code)
	}
	// The per-user limit (15 a minute): 14 more pass, the next is 429.
	for i := 0; i < 14; i++ {
		if code, _, body := get(t, c, gw+"/orders/orders", "Authorization", "Bearer "+tok); code != 200 {
			t.Fatalf("call %d: %d %s", i+2, code, body)
		}
	}
	code, hdr, body = get(t, c, gw+"/orders/orders", "Authorization", "Bearer "+tok)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(body, "Rate limit is exceeded") {
		t.Fatalf("16th call: %d %v %s", code, hdr, body)
	}

	// catalog: a subscription key from the partners product.
	if code, _, body := get(t, c, gw+"/catalog/items"); code != 401 || !strings.Contains(body, "subscription key") {
		t.Fatalf("catalog without a key: %d %s", code, body)
	}
	if code, _, _ := get(t, c, gw+"/catalog/items", "Ocp-Apim-Subscription-Key", "wrong-key-0123456789"); code != 401 {
		t.Fatalf("catalog with a wrong key: %d", code)
	}
	for i := 0; i < 10; i++ {
		key := "partner-key-0123456789"
		if i%2 == 1 {
			key = "partner-key-2-0123456789"
		}
		if code, _, body := get(t, c, gw+"/catalog/items?subscription-key="+key); code != 200 || body != `{"from":"catalog"}` {
			t.Fatalf("catalog call %d: %d %s", i+1, code, body)
		}
	}
	if code, _, _ := get(t, c, gw+"/catalog/items", "Ocp-Apim-Subscription-Key", "partner-key-0123456789"); code != 429 {
		t.Fatalf("11th partner call: %d, want 429", code)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 25 || seen[0] != "orders GET /api/orders/42 user=user-1 sub=" || seen[15] != "catalog GET /items user= sub=acme" {
		t.Errorf("backend calls = %d %q", len(seen), seen)
	}
}

// TestExampleIdentityOnly: the identity role on PostgreSQL answers its
// discovery document and issues a client-credentials token for the API.
func TestExampleIdentityOnly(t *testing.T) {
	db := testutil.Postgres(t)
	env := []string{"GATEHOUSE_DATABASE_URL=" + db, "GATEHOUSE_MASTER_KEY=" + randB64(32),
		"WEB_SECRET=web-secret-0123456789abcdef", "BACKEND_SECRET=backend-secret-0123456789", "DAEMON_SECRET=daemon-secret-0123456789"}
	validateExample(t, "identity-only", env, "GATEHOUSE_DATABASE_URL", "GATEHOUSE_MASTER_KEY", "DAEMON_SECRET")

	id, admin := freeAddr(t), freeAddr(t)
	file := copyExample(t, "identity-only", map[string]string{"8080": id, "9090": admin})
	srv := startServe(t, file, env, "identity", "admin")
	base := "http://" + id
	if srv.url("identity") != base {
		t.Fatalf("identity listens on %s, want %s", srv.url("identity"), base)
	}
	c := &http.Client{}
	code, _, body := get(t, c, base+"/contoso.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration")
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &disc) != nil || disc.Issuer != base+"/"+exTenantID+"/v2.0/" {
		t.Fatalf("discovery: %d %s", code, body)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {exDaemonID}, "client_secret": {"daemon-secret-0123456789"},
		"scope": {"https://contoso.onmicrosoft.com/backend/.default"}}
	resp, err := c.PostForm(disc.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tok) != nil {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(context.Background(), disc.Issuer), base+"/contoso.onmicrosoft.com/B2C_1_signupsignin1/v2.0/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: exAPIID}).Verify(context.Background(), tok.AccessToken); err != nil {
		t.Fatalf("access token: %v", err)
	}
	if code, _, body := get(t, c, "http://"+admin+"/readyz"); code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
}

// TestExampleCustomPolicy: B2C_1A_signup_signin from the example's XML;
// a sign-up runs the validation profile (Basic auth) and the journey's
// REST-GetProfile (API key header), whose loyaltyNumber is in the token.
func TestExampleCustomPolicy(t *testing.T) {
	const (
		callback = "http://127.0.0.1:5000/signin-oidc"
		webSec   = "web-secret-0123456789abcdef"
		apiKey   = "api-key-0123456789"
	)
	env := []string{"GATEHOUSE_MASTER_KEY=" + randB64(32), "WEB_SECRET=" + webSec,
		"REST_API_USERNAME=gatehouse", "REST_API_PASSWORD=rest-password-0123456789", "REST_API_KEY=" + apiKey}
	validateExample(t, "custom-policy", env, "GATEHOUSE_MASTER_KEY", "REST_API_PASSWORD", "REST_API_KEY")

	var mu sync.Mutex
	var calls []string
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		user, pass, _ := r.BasicAuth()
		mu.Lock()
		calls = append(calls, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/validate" && user == "gatehouse" && pass == "rest-password-0123456789":
			if in["email"] == "blocked@example.com" {
				w.WriteHeader(http.StatusConflict)
				io.WriteString(w, `{"version":"1.0.0","status":409,"userMessage":"This email address cannot sign up."}`)
				return
			}
			io.WriteString(w, `{}`)
		case r.URL.Path == "/api/GetProfile" && r.Header.Get("x-functions-key") == apiKey && in["objectId"] != nil:
			io.WriteString(w, `{"loyaltyNumber":7321}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(api.Close)
	id := freeAddr(t)
	file := copyExample(t, "custom-policy", map[string]string{"8080": id, "7443": strings.TrimPrefix(api.URL, "https://")})
	ca := writeFile(t, t.TempDir(), "api.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})))
	startServe(t, file, append(env, "SSL_CERT_FILE="+ca), "identity")

	ctx := context.Background()
	base := "http://" + id
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, base+"/"+exTenantID+"/v2.0/"), base+"/contoso.onmicrosoft.com/B2C_1A_signup_signin/v2.0/")
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: exWebID, ClientSecret: webSec, RedirectURL: callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, exWebID}}
	br := testutil.NewBrowser(t, callback, nil)
	pkce, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	page := br.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce("n-0123456789")))
	if page.Status != 200 || !strings.Contains(page.Body, `id="signInName"`) {
		t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
	}
	page = br.Follow(page, "createAccount")
	mailDir, seen := filepath.Join(filepath.Dir(file), "outbox"), map[string]bool{}
	verify := func(p *testutil.Page, addr string) *testutil.Page {
		t.Helper()
		p = br.Submit(p, "email_ver_but_send", map[string]string{"email": addr})
		return br.Submit(p, "email_ver_but_verify", map[string]string{"email": addr, "email_ver_input": lastCode(t, mailDir, seen)})
	}
	const pw = "Str0ng-Passw0rd!"
	fields := map[string]string{"email": "blocked@example.com", "newPassword": pw, "reenterPassword": pw,
		"displayName": "Example User", "givenName": "Example", "surname": "User"}
	refused := br.Submit(verify(page, fields["email"]), "continue", fields)
	if !strings.Contains(refused.Body, "This email address cannot sign up.") {
		t.Fatalf("validation error page: %d\n%s", refused.Status, refused.Body)
	}
	fields["email"] = "example.user@example.com"
	page = verify(br.Submit(refused, "email_ver_but_edit", nil), fields["email"])
	q := br.Callback(br.Submit(page, "continue", fields))
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback = %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: exWebID}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	if claims["loyaltyNumber"] != float64(7321) || claims["tfp"] != "B2C_1A_signup_signin" || claims["email"] != "example.user@example.com" {
		t.Errorf("id token claims = %v", claims)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(calls, " ") != "/api/validate /api/validate /api/GetProfile" {
		t.Errorf("API calls = %q", calls)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, as the
// seed004 README's openssl command does.
func selfSigned(t *testing.T, dir string) (certFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "certs/cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, dir, "certs/key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, pool
}

// TestExampleSeed004Files: the example's policy is the seed's text with
// only the placeholders filled, it passes `gatehouse policy check`, and
// the site is what `gatehouse dev` writes for the same ids and ports.
func TestExampleSeed004Files(t *testing.T) {
	dir := filepath.Join(examplesDir, "seed004")
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	body := func(s string) string { return s[strings.Index(s, "<policies>"):] }
	seed := strings.NewReplacer(
		"{PrimaryStorageEndpoint}", "https://127.0.0.1:3000/",
		"{b2cpolicy-well-known-openid}", "https://127.0.0.1:8080/contoso.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration",
		"{backend-api-application-client-id}", exAPIID,
	).Replace(body(read("policy.xml")))
	if seed != body(read("policies/global.xml")) {
		t.Errorf("policies/global.xml is not policy.xml with its three placeholders filled")
	}
	out, errOut, code := gatehouse(t, nil, "policy", "check", filepath.Join(dir, "policies/global.xml"), filepath.Join(dir, "policies/hello-api.xml"))
	if code != 0 || strings.Count(out, "OK ") != 2 {
		t.Errorf("policy check: exit %d\n%s%s", code, out, errOut)
	}

	gen := t.TempDir()
	if err := web.WriteSPA(gen, web.SPAConfig{
		ClientID:       exWebID,
		Authority:      "https://127.0.0.1:8080/tfp/contoso.onmicrosoft.com/B2C_1_signupsignin1",
		RedirectURI:    "https://127.0.0.1:3000/",
		KnownAuthority: "127.0.0.1:8080",
		Scope:          "https://contoso.onmicrosoft.com/backend/Hello",
		APIBaseURL:     "https://127.0.0.1:8081/hello",
	}, "https://127.0.0.1:3000/msal5/"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "vendor/msal-browser-2.11.1/msal-browser.min.js", "vendor/msal-browser-2.11.1/LICENSE",
		"vendor/bootstrap-5.0.0-beta2/bootstrap.min.css", "vendor/bootstrap-5.0.0-beta2/LICENSE"} {
		want, err := os.ReadFile(filepath.Join(gen, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal([]byte(read("site/"+f)), want) {
			t.Errorf("examples/seed004/site/%s differs from what web.WriteSPA writes", f)
		}
	}
}

// TestExampleSeed004: the whole of seed 004 on `gatehouse serve`, over
// HTTPS: discovery, the site, CORS, and a daemon's token through gateway
// and guard to the function; the refusals of `gatehouse dev` too.
func TestExampleSeed004(t *testing.T) {
	const fnKey = "function-key-0123456789"
	env := []string{"GATEHOUSE_MASTER_KEY=" + randB64(32), "HELLO_FUNCTION_KEY=" + fnKey,
		"BACKEND_SECRET=backend-secret-0123456789", "DAEMON_SECRET=daemon-secret-0123456789"}

	var mu sync.Mutex
	var fnCalls []string
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fnCalls = append(fnCalls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "Hello World, time and date are "+time.Now().Format(time.RFC1123))
	}))
	t.Cleanup(fn.Close)
	id, gw, guard, site := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	file := copyExample(t, "seed004", map[string]string{"8080": id, "8081": gw, "7071": guard, "3000": site,
		"7072": strings.TrimPrefix(fn.URL, "http://")})
	certFile, pool := selfSigned(t, filepath.Dir(file))
	env = append(env, "SSL_CERT_FILE="+certFile)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity", "gateway", "guard", "site")
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	authority := "https://" + id + "/contoso.onmicrosoft.com/B2C_1_signupsignin1"
	code, _, body := get(t, c, authority+"/v2.0/.well-known/openid-configuration")
	if code != 200 || !strings.Contains(body, `"issuer":"https://`+id+`/`+exTenantID+`/v2.0/"`) {
		t.Fatalf("discovery: %d %s", code, body)
	}
	code, _, body = get(t, c, "https://"+site+"/")
	if code != 200 || !strings.Contains(body, exWebID) || !strings.Contains(body, "https:\\/\\/"+gw+"\\/hello/hello") {
		t.Fatalf("site: %d %.300s", code, body)
	}
	if code, _, _ := get(t, c, "https://"+site+"/vendor/msal-browser-2.11.1/msal-browser.min.js"); code != 200 {
		t.Fatalf("MSAL.js: %d", code)
	}

	hello := "https://" + gw + "/hello/hello"
	// The browser's preflight, answered by the seed's cors policy.
	req, _ := http.NewRequest(http.MethodOptions, hello, nil)
	req.Header.Set("Origin", "https://"+site)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://"+site {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if code, _, _ := get(t, c, hello); code != 401 {
		t.Fatalf("gateway without a token: %d", code)
	}

	resp, err = c.PostForm(authority+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {exDaemonID},
		"client_secret": {"daemon-secret-0123456789"}, "scope": {"https://contoso.onmicrosoft.com/backend/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	code, _, body = get(t, c, hello, "Authorization", "Bearer "+tok.AccessToken)
	if code != 200 || !strings.HasPrefix(body, "Hello World") {
		t.Fatalf("gateway -> guard -> function: %d %s", code, body)
	}
	// The guard itself: the token but not the function key is 401.
	if code, _, _ := get(t, c, "https://"+guard+"/api/hello", "Authorization", "Bearer "+tok.AccessToken); code != 401 {
		t.Fatalf("guard without the function key: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fnCalls) != 1 || fnCalls[0] != "GET /api/hello" {
		t.Errorf("function calls = %q", fnCalls)
	}
}
