package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// partnerIdP is an OpenID Connect provider for the tests: discovery and
// keys (testutil.Issuer), an authorization endpoint that signs in a
// configured user at once and posts the code back (form_post, as B2C
// asks), and a token endpoint checking the code, PKCE, client secret and
// redirect URI.
type partnerIdP struct {
	*testutil.Issuer
	mu     sync.Mutex
	user   map[string]any
	grants map[string]partnerGrant
}

type partnerGrant struct{ challenge, nonce, redirect string }

const partnerClientID, partnerSecret = "partner-client-1", "partner-secret-value-1"

func newPartnerIdP(t *testing.T) *partnerIdP {
	p := &partnerIdP{Issuer: testutil.NewIssuer(t), grants: map[string]partnerGrant{},
		user: map[string]any{"sub": "partner-42", "name": "Pat Partner", "email": "pat@partner.example", "given_name": "Pat"}}
	p.Mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != partnerClientID || q.Get("response_type") != "code" || q.Get("response_mode") != "form_post" ||
			q.Get("code_challenge_method") != "S256" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		code := base64.RawURLEncoding.EncodeToString(b)
		p.mu.Lock()
		p.grants[code] = partnerGrant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
		p.mu.Unlock()
		// form_post: an auto-submitting form; the test browser posts it.
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s"><input type="hidden" name="code" value="%s"/><input type="hidden" name="state" value="%s"/></form>`,
			q.Get("redirect_uri"), code, q.Get("state"))
	})
	p.Mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		p.mu.Lock()
		g, ok := p.grants[f.Get("code")]
		delete(p.grants, f.Get("code"))
		user := map[string]any{}
		for k, v := range p.user {
			user[k] = v
		}
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || f.Get("redirect_uri") != g.redirect ||
			f.Get("client_id") != partnerClientID || f.Get("client_secret") != partnerSecret {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		user["aud"], user["nonce"] = partnerClientID, g.nonce
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "at", "token_type": "Bearer", "id_token": p.Token(t, user)})
	})
	return p
}

// submitProviderForm submits the auto-posting form of a page (the provider's
// form_post) as a browser would.
func submitProviderForm(t *testing.T, b *testutil.Browser, p *testutil.Page) *testutil.Page {
	t.Helper()
	action := attrValue(t, p.Body, `<form method="post" action="`)
	form := url.Values{"code": {hiddenValue(t, p.Body, "code")}, "state": {hiddenValue(t, p.Body, "state")}}
	resp, err := b.Client.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := readAll(resp)
	return &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func attrValue(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, prefix)
	if i < 0 {
		t.Fatalf("no %s in:\n%s", prefix, body)
	}
	rest := body[i+len(prefix):]
	return htmlUnescape(rest[:strings.IndexByte(rest, '"')])
}

// TestUserFlowIdentityProvider: a user flow offering local accounts and an
// OpenID Connect provider. The first sign-in at the provider calls the
// postFederationSignup connector with B2C's payload, asks the flow's
// attributes (prefilled by the connector) and creates a federated account;
// the second is silent; tokens carry idp.
func TestUserFlowIdentityProvider(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	idp := newPartnerIdP(t)
	var mu sync.Mutex
	var calls []map[string]any
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		calls = append(calls, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":"1.0.0","action":"Continue","city":"Partnerville"}`))
	}))
	t.Cleanup(api.Close)
	file, _, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  deploymentMode: Development
  email: { outbox: ./outbox }
  identityProviders:
    - { name: partner, type: openIdConnect, displayName: Contoso Partner, metadataUrl: %s,
        clientId: %s, clientSecret: B2C_1A_PartnerSecret, scope: openid profile email }
  policyKeys:
    - { name: PartnerSecret, secret: env:PARTNER_SECRET }
  apiConnectors:
    - { name: fed, endpointUrl: %s/fed, authenticationType: none }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: B2C_1_susi, type: signUpOrSignIn, attributes: [displayName, city], identityProviders: [local, partner],
        claims: [displayName, emails, objectId, newUser, identityProvider, identityProviderAccessToken, city], apiConnectors: { postFederationSignup: fed } }
`, idp.DiscoveryURL(), partnerClientID, api.URL, webClientID, callback))
	env = append(env, "PARTNER_SECRET="+partnerSecret)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()

	signIn := func() (*testutil.Browser, *testutil.Page, func(*testutil.Page) map[string]any) {
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1_susi", callback)
		if !strings.Contains(p.Body, `id="partner"`) || !strings.Contains(p.Body, ">Contoso Partner<") || !strings.Contains(p.Body, `id="signInName"`) {
			t.Fatalf("sign-in page without the provider's button and the local form:\n%s", p.Body)
		}
		form := url.Values{"claimsexchange": {"partner"}}
		for _, n := range []string{"tx", "csrf_token", "page"} {
			form.Set(n, hiddenValue(t, p.Body, n))
		}
		resp, err := b.Client.PostForm(publicURL+"/contoso.onmicrosoft.com/B2C_1_susi/api/SelfAsserted", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := readAll(resp)
		resp.Body.Close()
		at := &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
		if !strings.HasPrefix(at.URL.String(), idp.Server.URL+"/authorize") {
			t.Fatalf("not at the provider: %d %s\n%s", at.Status, at.URL, at.Body)
		}
		back := submitProviderForm(t, b, at)
		return b, back, func(p *testutil.Page) map[string]any {
			cb := b.Callback(p)
			_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
			return claims
		}
	}

	// First sign-in: the attributes page, prefilled by the connector.
	b, p, claimsOf := signIn()
	if p.Status != 200 || !strings.Contains(p.Body, `value="Pat Partner"`) || !strings.Contains(p.Body, `value="Partnerville"`) {
		t.Fatalf("first sign-in page: %d\n%s", p.Status, p.Body)
	}
	mu.Lock()
	first := calls[0]
	mu.Unlock()
	ids, _ := first["identities"].([]any)
	id0, _ := ids[0].(map[string]any)
	if first["step"] != "PostFederationSignup" || first["email"] != "pat@partner.example" || first["client_id"] != webClientID ||
		len(ids) != 1 || id0["signInType"] != "federated" || id0["issuer"] != idp.IssuerURL() || id0["issuerAssignedId"] != "partner-42" {
		t.Fatalf("postFederationSignup payload %v", first)
	}
	claims := claimsOf(b.Submit(p, "continue", map[string]string{"displayName": "Pat P", "city": "Partnerville"}))
	sub := claims["sub"]
	if claims["name"] != "Pat P" || claims["idp"] != idp.IssuerURL() || claims["newUser"] != true || claims["city"] != "Partnerville" ||
		claims["idp_access_token"] != "at" {
		t.Fatalf("first sign-in claims %v", claims)
	}
	if emails, _ := claims["emails"].([]any); len(emails) != 1 || emails[0] != "pat@partner.example" {
		t.Errorf("emails %v", claims["emails"])
	}
	// Second sign-in in a new browser: no page, the same account.
	_, p, claimsOf = signIn()
	claims = claimsOf(p)
	if claims["sub"] != sub || claims["newUser"] != nil || claims["idp"] != idp.IssuerURL() {
		t.Fatalf("second sign-in claims %v (want %v)", claims, sub)
	}
	mu.Lock()
	n := len(calls)
	mu.Unlock()
	if n != 1 {
		t.Errorf("postFederationSignup called %d times, want once (first sign-in only)", n)
	}
}

// TestUserFlowApple: Sign in with Apple in a user flow — no discovery
// (Apple's endpoints, key set and issuer), the client secret a JWT that
// Gatehouse signs with the .p8 key for each request (checked here as Apple
// checks it), and the names Apple posts once beside the code.
func TestUserFlowApple(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const teamID, keyID, serviceID = "TEAM123456", "KEY1234567", "com.contoso.signin"
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	apple := testutil.NewIssuer(t)
	var mu sync.Mutex
	grants := map[string]string{} // code -> nonce
	secretsChecked := 0
	apple.Mux.HandleFunc("GET /auth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != serviceID || q.Get("response_mode") != "form_post" || q.Get("scope") != "name email openid" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		grants["c-"+q.Get("nonce")[:8]] = q.Get("nonce")
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s"><input type="hidden" name="code" value="%s"/><input type="hidden" name="state" value="%s"/><input type="hidden" name="user" value="%s"/></form>`,
			q.Get("redirect_uri"), "c-"+q.Get("nonce")[:8], q.Get("state"),
			html.EscapeString(`{"name":{"firstName":"Ada","lastName":"Apple"},"email":"ada@privaterelay.appleid.com"}`))
	})
	apple.Mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		// Apple's check of the client secret: ES256 by the team's key.
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_secret"), []jose.SignatureAlgorithm{jose.ES256})
		var cl jwt.Claims
		if err != nil || len(tok.Headers) != 1 || tok.Headers[0].KeyID != keyID || tok.Claims(&ecKey.PublicKey, &cl) != nil ||
			cl.Issuer != teamID || cl.Subject != serviceID || !cl.Audience.Contains("https://appleid.apple.com") ||
			cl.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, time.Minute) != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		mu.Lock()
		nonce, ok := grants[r.PostForm.Get("code")]
		delete(grants, r.PostForm.Get("code"))
		secretsChecked++
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "a", "token_type": "Bearer",
			"id_token": apple.Token(t, map[string]any{"aud": serviceID, "sub": "001234.apple-user", "email": "ada@privaterelay.appleid.com", "nonce": nonce})})
	})
	file, dir, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  identityProviders:
    - { name: apple, type: apple, clientId: %s, teamId: %s, keyId: %s, privateKey: B2C_1A_AppleKey,
        authorizationEndpoint: %s/auth/authorize, tokenEndpoint: %s/auth/token, jwksUri: %s/keys, issuer: %s }
  policyKeys:
    - { name: AppleKey, secret: file:AuthKey.p8 }   # the .p8 as a policy key
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: B2C_1_apple, type: signUpOrSignIn, attributes: [givenName, surname], identityProviders: [apple],
        claims: [givenName, surname, emails, objectId, identityProvider] }
`, serviceID, teamID, keyID, apple.Server.URL, apple.Server.URL, apple.Server.URL, apple.IssuerURL(), webClientID, callback))
	writeFile(t, dir, "AuthKey.p8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	// A policy key that does not exist stops serve at the provider's line.
	cfg, _ := os.ReadFile(file)
	missing := writeFile(t, dir, "missing.yaml", strings.Replace(string(cfg), "privateKey: B2C_1A_AppleKey", "privateKey: B2C_1A_AppleKey2", 1))
	if out, errOut, code := gatehouse(t, env, "serve", "--config", missing); code == 0 ||
		!strings.Contains(out+errOut, "missing.yaml:8:7: identity provider apple: policy key B2C_1A_AppleKey2 does not exist") {
		t.Errorf("serve with a missing policy key: exit %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	b := testutil.NewBrowser(t, callback, nil)
	// Apple is the flow's only provider: authorize goes straight there.
	p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1_apple", callback)
	if !strings.HasPrefix(p.URL.String(), apple.Server.URL+"/auth/authorize") {
		t.Fatalf("not at Apple: %s\n%s", p.URL, p.Body)
	}
	page := submitProviderFormWith(t, b, p, "code", "state", "user")
	if !strings.Contains(page.Body, `value="Ada"`) || !strings.Contains(page.Body, `value="Apple"`) {
		t.Fatalf("the names Apple posted should prefill the page:\n%s", page.Body)
	}
	cb := b.Callback(b.Submit(page, "continue", map[string]string{"givenName": "Ada", "surname": "Apple"}))
	_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	if claims["given_name"] != "Ada" || claims["idp"] != "apple.com" || claims["sub"] == nil {
		t.Fatalf("claims %v", claims)
	}
	if secretsChecked != 1 {
		t.Errorf("client secrets checked: %d", secretsChecked)
	}
}

// submitProviderFormWith posts a provider's auto-posting form with the
// named hidden inputs.
func submitProviderFormWith(t *testing.T, b *testutil.Browser, p *testutil.Page, names ...string) *testutil.Page {
	t.Helper()
	action := attrValue(t, p.Body, `<form method="post" action="`)
	form := url.Values{}
	for _, n := range names {
		form.Set(n, hiddenValue(t, p.Body, n))
	}
	resp, err := b.Client.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := readAll(resp)
	return &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// TestUserFlowEntraMultiTenant: the microsoft preset with tenant
// organizations, as B2C's multi-tenant Entra ID profile: the discovery
// document's issuer is Entra's {tenantid} template, each token's iss is
// checked against its own signed tid, and allowedTenants
// (ValidTokenIssuerPrefixes) keeps other tenants out.
func TestUserFlowEntraMultiTenant(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const tidA, tidB = "6babcaad-604b-40ac-a9d7-9fd97c0b779f", "0f8fad5b-d9cb-469f-a165-70867728950e"
	entra := newPartnerIdP(t)
	entra.Mux.HandleFunc("GET /organizations/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
			"jwks_uri": entra.Server.URL + "/keys", "authorization_endpoint": entra.Server.URL + "/authorize",
			"token_endpoint": entra.Server.URL + "/token", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	user := func(iss, tid, oid, name string) map[string]any {
		return map[string]any{"iss": "https://login.microsoftonline.com/" + iss + "/v2.0", "tid": tid, "oid": oid, "sub": "pairwise-" + oid,
			"name": name, "email": strings.ToLower(strings.Fields(name)[0]) + "@" + tid[:8] + ".example"}
	}
	file, _, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  identityProviders:
    - { name: work, type: microsoft, tenant: organizations, allowedTenants: [%s], clientId: %s, clientSecret: env:PARTNER_SECRET,
        metadataUrl: %s/organizations/v2.0/.well-known/openid-configuration }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: B2C_1_work, type: signUpOrSignIn, attributes: [displayName], identityProviders: [work],
        claims: [displayName, emails, objectId, identityProvider] }
`, tidA, partnerClientID, entra.Server.URL, webClientID, callback))
	startServe(t, file, append(env, "PARTNER_SECRET="+partnerSecret), "identity")
	ctx := context.Background()

	// signIn: Entra is the flow's only provider, so authorize goes there.
	signIn := func(u map[string]any) (*testutil.Browser, *testutil.Page, func(*testutil.Page) map[string]any) {
		entra.mu.Lock()
		entra.user = u
		entra.mu.Unlock()
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1_work", callback)
		if !strings.HasPrefix(p.URL.String(), entra.Server.URL+"/authorize") {
			t.Fatalf("not at Entra: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		return b, submitProviderForm(t, b, p), func(p *testutil.Page) map[string]any { return claimsOfPage(t, ctx, b, p, conf, v, pkce) }
	}
	// A user of the allowed tenant: first sign-in collects the name.
	b, p, claimsOf := signIn(user(tidA, tidA, "11111111-1111-4111-8111-111111111111", "Ada Work"))
	if p.Status != 200 || !strings.Contains(p.Body, `value="Ada Work"`) {
		t.Fatalf("allowed tenant's user: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	c := claimsOf(b.Submit(p, "continue", map[string]string{"displayName": "Ada W"}))
	if c["sub"] == nil || c["idp"] != "login.microsoftonline.com" {
		t.Fatalf("claims %v", c)
	}
	// Another tenant, and a token whose iss names the allowed tenant but
	// whose tid is another: both refused, no code.
	for _, c := range []struct {
		name, want string
		user       map[string]any
	}{
		{"a tenant not in allowedTenants", "AADB2C90238", user(tidB, tidB, "22222222-2222-4222-8222-222222222222", "Bob Other")},
		{"iss and tid disagree", "AADB2C90273", user(tidA, tidB, "33333333-3333-4333-8333-333333333333", "Eve Mixed")},
	} {
		b, p, _ := signIn(c.user)
		if cb := b.Callback(p); cb.Get("code") != "" || cb.Get("error") != "server_error" || !strings.Contains(cb.Get("error_description"), c.want) {
			t.Errorf("%s: %v, want %s", c.name, cb, c.want)
		}
	}
}
