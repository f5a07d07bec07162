package apim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/token"
)

var (
	jwtTestKeysOnce sync.Once
	jwtTestKey      *rsa.PrivateKey // published by the test issuer's JWKS as kid "k1"
	jwtOtherKey     *rsa.PrivateKey // never published
)

func jwtTestKeys(t *testing.T) {
	t.Helper()
	jwtTestKeysOnce.Do(func() {
		var err error
		if jwtTestKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if jwtOtherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
}

// jwtIssuer is a local OpenID provider shaped like an Azure AD B2C user flow.
type jwtIssuer struct {
	srv       *httptest.Server
	configURL string // the user flow's .well-known/openid-configuration
	issuer    string // what its configuration advertises
}

func newJWTIssuer(t *testing.T, h *acHarness) *jwtIssuer {
	t.Helper()
	jwtTestKeys(t)
	iss := &jwtIssuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/tenant.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":   iss.issuer,
			"jwks_uri": iss.srv.URL + "/tenant.onmicrosoft.com/B2C_1_signupsignin1/discovery/v2.0/keys",
		})
	})
	mux.HandleFunc("/tenant.onmicrosoft.com/B2C_1_signupsignin1/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &jwtTestKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	iss.configURL = iss.srv.URL + "/tenant.onmicrosoft.com/B2C_1_signupsignin1/v2.0/.well-known/openid-configuration"
	iss.issuer = iss.srv.URL + "/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0/"
	d := token.NewDiscovery(iss.srv.Client(), nil)
	d.Now = h.clock
	h.env.Discovery = d
	return iss
}

// jwtSign signs claims with key (kid) using alg.
func jwtSign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	app1     = "00001111-aaaa-2222-bbbb-3333cccc4444"
	app2     = "11112222-bbbb-3333-cccc-4444dddd5555"
	msIssuer = "https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0/"
)

// claims returns B2C-like access token claims valid at the harness clock,
// with overrides (nil values delete).
func (h *acHarness) claims(iss string, over map[string]any) map[string]any {
	now := h.clock()
	c := map[string]any{
		"iss": iss, "aud": app1, "sub": "user-1", "scp": "read write",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// seed003Policy is seed 003's "staged migration" policy with its
// placeholders filled: two audiences, both issuers.
func seed003Policy(iss *jwtIssuer) string {
	return acDoc(`
		<validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid.">
			<openid-config url="` + iss.configURL + `" />
			<audiences>
				<audience>` + app1 + `</audience>
				<audience>` + app2 + `</audience>
			</audiences>
			<issuers>
				<issuer>` + msIssuer + `</issuer>
				<issuer>` + iss.issuer + `</issuer>
			</issuers>
		</validate-jwt>`)
}

const unauthorized = `{"statusCode":401,"message":"Unauthorized. Access token is missing or invalid."}`

func TestValidateJWTSeed003(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	iss := newJWTIssuer(t, h)
	p := acLoad(t, ScopeAPI, seed003Policy(iss))
	ok := func(claims map[string]any) {
		t.Helper()
		acExpect(t, h.do(p, acReq{headers: bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", claims))}), 200, `{"ok":true}`)
	}
	fail := func(hd map[string]string, reason string) {
		t.Helper()
		w := h.do(p, acReq{headers: hd})
		acExpect(t, w, 401, unauthorized)
		acHeader(t, w, "X-Reason", reason)
	}
	ok(h.claims(iss.issuer, nil))
	ok(h.claims(msIssuer, map[string]any{"aud": app2}))
	ok(h.claims(iss.issuer, map[string]any{"aud": []string{"other", app2}}))
	fail(nil, "TokenNotPresent")
	fail(map[string]string{"Authorization": "Bearer "}, "TokenNotPresent")
	fail(bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": "someone-else"}))), "TokenAudienceNotAllowed")
	fail(bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims("https://evil.example/", nil))), "TokenIssuerNotAllowed")
	fail(bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"exp": h.clock().Add(-time.Second).Unix()}))), "TokenExpired")
	fail(bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"exp": nil}))), "TokenExpired")
	fail(bearer(jwtSign(t, jose.RS256, jwtOtherKey, "k1", h.claims(iss.issuer, nil))), "TokenSignatureInvalid")
	fail(bearer("not.a.jwt"), "JwtInvalid")
	if n := h.hits.Load(); n != 3 {
		t.Fatalf("backend hits %d, want 3", n)
	}
}

func TestValidateJWTDefaultMessages(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	iss := newJWTIssuer(t, h)
	p := acLoad(t, ScopeAPI, acDoc(`
		<validate-jwt header-name="Authorization" failed-validation-httpcode="403">
			<openid-config url="`+iss.configURL+`" />
			<audiences><audience>`+app1+`</audience></audiences>
		</validate-jwt>`))
	acExpect(t, h.do(p, acReq{}), 403, `{"statusCode":403,"message":"JWT not present."}`)
	w := h.do(p, acReq{headers: bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": "x"})))})
	acExpect(t, w, 403, "")
	var body struct{ Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || !strings.HasSuffix(body.Message, " Access denied.") {
		t.Fatalf("audience failure message %q (%v): want the library message ending in \" Access denied.\"", body.Message, err)
	}
	// Without <issuers>, the openid configuration's issuer is required.
	acExpect(t, h.do(p, acReq{headers: bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(msIssuer, nil)))}), 403, "")
	acExpect(t, h.do(p, acReq{headers: bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, nil)))}), 200, "")
}

func TestValidateJWTTokenSources(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	iss := newJWTIssuer(t, h)
	tok := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, nil))
	load := func(attrs string) *Pipeline {
		return acLoad(t, ScopeAPI, acDoc(`<validate-jwt `+attrs+`><openid-config url="`+iss.configURL+`" /></validate-jwt>`))
	}
	for _, c := range []struct {
		name    string
		attrs   string
		req     acReq
		success bool
	}{
		{"authorization bearer", `header-name="Authorization"`, acReq{headers: bearer(tok)}, true},
		{"authorization bare", `header-name="Authorization"`, acReq{headers: map[string]string{"Authorization": tok}}, true},
		{"require-scheme bearer", `header-name="Authorization" require-scheme="Bearer"`, acReq{headers: bearer(tok)}, true},
		{"require-scheme case", `header-name="Authorization" require-scheme="Bearer"`, acReq{headers: map[string]string{"Authorization": "bearer " + tok}}, true},
		{"require-scheme missing", `header-name="Authorization" require-scheme="Bearer"`, acReq{headers: map[string]string{"Authorization": tok}}, false},
		{"require-scheme other", `header-name="Authorization" require-scheme="Bearer"`, acReq{headers: map[string]string{"Authorization": "Basic " + tok}}, false},
		{"custom header bare", `header-name="X-Token" require-scheme="Bearer"`, acReq{headers: map[string]string{"X-Token": tok}}, true},
		{"custom header with scheme", `header-name="X-Token"`, acReq{headers: map[string]string{"X-Token": "Bearer " + tok}}, false},
		{"query", `query-parameter-name="access_token"`, acReq{target: "/echo/thing?access_token=" + tok}, true},
		{"query missing", `query-parameter-name="access_token"`, acReq{headers: bearer(tok)}, false},
		{"token-value", `token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Jwt&quot;,&quot;&quot;))"`, acReq{headers: map[string]string{"X-Jwt": tok}}, true},
		{"token-value empty", `token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Jwt&quot;,&quot;&quot;))"`, acReq{}, false},
	} {
		w := h.do(load(c.attrs), c.req)
		if got := w.Code == 200; got != c.success {
			t.Errorf("%s: status %d body %s", c.name, w.Code, w.Body.String())
		}
	}
}

func TestValidateJWTOutputVariableAndClaims(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	iss := newJWTIssuer(t, h)
	p := acLoad(t, ScopeAPI, `<policies>
	<inbound>
		<validate-jwt header-name="Authorization" output-token-variable-name="jwt">
			<openid-config url="`+iss.configURL+`" />
			<required-claims>
				<claim name="scp" match="all" separator=" ">
					<value>read</value>
					<value>write</value>
				</claim>
				<claim name="roles" match="any">
					<value>admin</value>
					<value>editor</value>
				</claim>
			</required-claims>
		</validate-jwt>
	</inbound>
	<backend><forward-request /></backend>
	<outbound>
		<set-header name="X-Sub" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Subject)</value></set-header>
	</outbound>
	<on-error>
		<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
	</on-error>
</policies>`)
	sign := func(over map[string]any) map[string]string {
		return bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, over)))
	}
	w := h.do(p, acReq{headers: sign(map[string]any{"roles": []string{"reader", "editor"}, "sub": "alice"})})
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "X-Sub", "alice")
	w = h.do(p, acReq{headers: sign(map[string]any{"roles": []string{"reader"}})})
	acExpect(t, w, 401, "")
	acHeader(t, w, "X-Reason", "TokenClaimValueNotAllowed")
	w = h.do(p, acReq{headers: sign(map[string]any{"roles": "admin", "scp": "read"})})
	acExpect(t, w, 401, "")
	acHeader(t, w, "X-Reason", "TokenClaimValueNotAllowed")
	w = h.do(p, acReq{headers: sign(nil)})
	acExpect(t, w, 401, "")
	acHeader(t, w, "X-Reason", "TokenClaimNotFound")
}

// TestValidateJWTSeed004 runs seed 004's complete inbound policy with its
// placeholders filled.
func TestValidateJWTSeed004(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	iss := newJWTIssuer(t, h)
	const backendApp = "22223333-cccc-4444-dddd-5555eeee6666"
	doc := `<policies>
   <inbound>` + seed004CORS + `
      <validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid." require-expiration-time="true" require-signed-tokens="true" clock-skew="300">
         <openid-config url="` + iss.configURL + `" />
         <required-claims>
            <claim name="aud">
               <value>` + backendApp + `</value>
            </claim>
         </required-claims>
      </validate-jwt>
      <rate-limit-by-key calls="300" renewal-period="120" counter-key="@(context.Request.IpAddress)" />
      <rate-limit-by-key calls="15" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)" />
   </inbound>
   <backend>
      <forward-request />
   </backend>
   <outbound />
   <on-error />
</policies>`
	p := acLoad(t, ScopeGlobal, doc)
	spa := func(tok string) acReq {
		return acReq{noSub: true, headers: map[string]string{"Origin": spaOrigin, "Authorization": "Bearer " + tok}}
	}
	// Preflight: only cors runs.
	w := h.do(p, acReq{method: http.MethodOptions, noSub: true, headers: map[string]string{
		"Origin": spaOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Headers", "authorization")
	acHeader(t, w, "Access-Control-Allow-Credentials", "true")

	good := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": backendApp, "sub": "alice"}))
	w = h.do(p, spa(good))
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)

	// clock-skew=300: expired 200 s ago still passes, 400 s ago does not.
	skewed := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": backendApp, "sub": "bob", "exp": h.clock().Add(-200 * time.Second).Unix()}))
	acExpect(t, h.do(p, spa(skewed)), 200, "")
	expired := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": backendApp, "exp": h.clock().Add(-400 * time.Second).Unix()}))
	w = h.do(p, spa(expired))
	acExpect(t, w, 401, unauthorized)
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	wrongAud := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.claims(iss.issuer, map[string]any{"aud": app1}))
	acExpect(t, h.do(p, spa(wrongAud)), 401, unauthorized)
	acExpect(t, h.do(p, acReq{noSub: true, headers: map[string]string{"Origin": spaOrigin}}), 401, unauthorized)

	// 15 calls per minute per subject (alice already made one).
	for i := 0; i < 14; i++ {
		acExpect(t, h.do(p, spa(good)), 200, "")
	}
	w = h.do(p, spa(good))
	acExpect(t, w, 429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 60 seconds."}`)
	acHeader(t, w, "Retry-After", "60")
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	acExpect(t, h.do(p, spa(skewed)), 200, "") // bob has his own counter
}

func TestValidateJWTStaticKeys(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	jwtTestKeys(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: acT0.Add(-time.Hour), NotAfter: acT0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &jwtOtherKey.PublicKey, jwtOtherKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	h.env.Certificates = map[string]tls.Certificate{"signer": {Certificate: [][]byte{der}, Leaf: leaf}}
	n := base64.RawURLEncoding.EncodeToString(jwtTestKey.N.Bytes())
	p := acLoad(t, ScopeAPI, acDoc(`
		<validate-jwt header-name="Authorization" failed-validation-httpcode="403" failed-validation-error-message="nope">
			<issuer-signing-keys>
				<key id="hs">`+base64.StdEncoding.EncodeToString(secret)+`</key>
				<key id="rsa" n="`+n+`" e="AQAB" />
				<key certificate-id="signer" />
			</issuer-signing-keys>
			<audiences><audience>@(context.Request.OriginalUrl.Host)</audience></audiences>
			<issuers><issuer>https://issuer.example/</issuer></issuers>
		</validate-jwt>`))
	c := h.claims("https://issuer.example/", map[string]any{"aud": "gw.example"})
	for _, tok := range []string{
		jwtSign(t, jose.HS256, secret, "hs", c),
		jwtSign(t, jose.RS256, jwtTestKey, "rsa", c),
		jwtSign(t, jose.RS256, jwtOtherKey, "", c),
	} {
		acExpect(t, h.do(p, acReq{headers: bearer(tok)}), 200, "")
	}
	acExpect(t, h.do(p, acReq{headers: bearer(jwtSign(t, jose.HS256, []byte("ffffffffffffffffffffffffffffffff"), "hs", c))}), 403, `{"statusCode":403,"message":"nope"}`)
	// The audience expression follows the host the caller used.
	other := jwtSign(t, jose.HS256, secret, "hs", h.claims("https://issuer.example/", map[string]any{"aud": "api.example"}))
	acExpect(t, h.do(p, acReq{headers: bearer(other)}), 403, "")

	// A certificate-id that is not configured fails the request (500), not the token.
	h2 := newACHarness(t)
	p2 := acLoad(t, ScopeAPI, acDoc(`<validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="missing" /></issuer-signing-keys></validate-jwt>`))
	acExpect(t, h2.do(p2, acReq{headers: bearer(jwtSign(t, jose.HS256, secret, "hs", c))}), 500, "")
}

func TestValidateJWTLoadErrors(t *testing.T) {
	t.Parallel()
	const oid = `<openid-config url="https://login.example/.well-known/openid-configuration" />`
	for _, c := range []struct{ xml, want string }{
		{`<validate-jwt>` + oid + `</validate-jwt>`, "exactly one of header-name, query-parameter-name and token-value"},
		{`<validate-jwt header-name="Authorization" query-parameter-name="t">` + oid + `</validate-jwt>`, "exactly one of"},
		{`<validate-jwt header-name="Authorization">` + oid + `<decryption-keys><key certificate-id="c">abc=</key></decryption-keys></validate-jwt>`, "base64 text or a certificate-id"},
		{`<validate-jwt header-name="Authorization"><issuers><issuer>i</issuer></issuers><audiences><audience>a</audience></audiences>` + oid + `</validate-jwt>`, "must come before"},
		{`<validate-jwt header-name="Authorization"><issuer-signing-keys><key>c2hvcnQ=</key></issuer-signing-keys></validate-jwt>`, "32 bytes"},
		{`<validate-jwt header-name="Authorization"><issuer-signing-keys><key n="abc" /></issuer-signing-keys></validate-jwt>`, "needs both n and e"},
		{`<validate-jwt header-name="Authorization"><issuer-signing-keys><key>not base64!</key></issuer-signing-keys></validate-jwt>`, "not valid base64"},
		{`<validate-jwt header-name="Authorization">` + oid + `<audiences /></validate-jwt>`, "at least one audience must be specified"},
		{`<validate-jwt header-name="Authorization">` + oid + `<required-claims><claim name="x" match="some"><value>v</value></claim></required-claims></validate-jwt>`, "claim match must be all or any"},
		{`<validate-jwt header-name="Authorization">` + oid + `<scopes /></validate-jwt>`, "unknown element <scopes>"},
		{`<validate-jwt header-name="Authorization" clock-skew="soon">` + oid + `</validate-jwt>`, "clock-skew must be a number of seconds"},
		{`<validate-jwt header-name="Authorization" output-token-variable-name="@(&quot;v&quot;)">` + oid + `</validate-jwt>`, "does not accept expressions"},
		{`<validate-jwt header-name="Authorization" />`, "no issuer signing keys or openid configs"},
		{`<validate-jwt header-name="Authorization"><openid-config url="ftp://x" /></validate-jwt>`, "must be an http(s) URL"},
	} {
		acLoadErr(t, ScopeAPI, acDoc(c.xml), c.want)
	}
	// Unresolved named values are tolerated by a lenient load (policy check).
	_, err := ParseDocument("t.xml", []byte(acDoc(`<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{{signing-key}}</key></issuer-signing-keys><audiences><audience>{{aud}}</audience></audiences></validate-jwt>`)), ScopeAPI, &LoadOptions{Lenient: true})
	if err != nil {
		t.Fatalf("lenient load: %v", err)
	}
}
