package apim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/token"
)

const (
	entraTID     = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
	entraV2      = "https://login.microsoftonline.com/" + entraTID + "/v2.0"
	entraV1      = "https://sts.windows.net/" + entraTID + "/"
	entraClient  = "33334444-dddd-5555-eeee-6666ffff7777"
	entraBackend = "44445555-eeee-6666-ffff-77770000aaaa"
)

// newEntraIssuer serves a local Microsoft Entra ID tenant: the OpenID
// configuration at /{tenant}/v2.0/.well-known/openid-configuration for the
// tenant GUID and for contoso.onmicrosoft.com, advertising Entra's v2
// issuer, and its JWKS. The harness Env's EntraAuthority points at it.
func newEntraIssuer(t *testing.T, h *acHarness) *httptest.Server {
	t.Helper()
	jwtTestKeys(t)
	var srv *httptest.Server
	mux := http.NewServeMux()
	config := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":   entraV2,
			"jwks_uri": srv.URL + "/" + entraTID + "/discovery/v2.0/keys",
		})
	}
	mux.HandleFunc("/"+entraTID+"/v2.0/.well-known/openid-configuration", config)
	mux.HandleFunc("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", config)
	mux.HandleFunc("/"+entraTID+"/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &jwtTestKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		}})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := token.NewDiscovery(srv.Client(), nil)
	d.Now = h.clock
	h.env.Discovery = d
	h.env.EntraAuthority = srv.URL + "/"
	return srv
}

// entraV2Claims / entraV1Claims are access tokens shaped like Entra's
// (accessTokenAcceptedVersion 2 and 1), valid at the harness clock.
func (h *acHarness) entraV2Claims(over map[string]any) map[string]any {
	c := h.claims(entraV2, map[string]any{"aud": entraBackend, "azp": entraClient, "tid": entraTID, "ver": "2.0"})
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (h *acHarness) entraV1Claims(over map[string]any) map[string]any {
	c := h.claims(entraV1, map[string]any{"aud": "api://" + entraBackend, "appid": entraClient, "tid": entraTID, "ver": "1.0"})
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestValidateAzureADToken(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	newEntraIssuer(t, h)
	p := acLoad(t, ScopeAPI, acDoc(`
		<validate-azure-ad-token tenant-id="`+entraTID+`">
			<client-application-ids>
				<application-id>11110000-0000-0000-0000-000000000000</application-id>
				<application-id>`+entraClient+`</application-id>
			</client-application-ids>
			<backend-application-ids>
				<application-id>`+entraBackend+`</application-id>
			</backend-application-ids>
		</validate-azure-ad-token>`))
	sign := func(c map[string]any) map[string]string {
		return bearer(jwtSign(t, jose.RS256, jwtTestKey, "k1", c))
	}
	ok := func(hd map[string]string) {
		t.Helper()
		acExpect(t, h.do(p, acReq{headers: hd}), 200, `{"ok":true}`)
	}
	fail := func(hd map[string]string, reason, msg string) {
		t.Helper()
		w := h.do(p, acReq{headers: hd})
		acExpect(t, w, 401, "")
		acHeader(t, w, "X-Reason", reason)
		var body struct {
			StatusCode int
			Message    string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.StatusCode != 401 || !strings.Contains(body.Message, msg) {
			t.Errorf("%s: body %s, want message containing %q", reason, w.Body, msg)
		}
	}
	ok(sign(h.entraV2Claims(nil)))
	ok(sign(h.entraV1Claims(nil)))
	// Backend application ids match in both forms on both sides.
	ok(sign(h.entraV2Claims(map[string]any{"aud": "api://" + entraBackend})))
	ok(sign(h.entraV1Claims(map[string]any{"aud": entraBackend})))
	ok(sign(h.entraV2Claims(map[string]any{"aud": []string{"other", strings.ToUpper(entraBackend)}})))

	fail(nil, "TokenNotPresent", "JWT not present.")
	fail(map[string]string{"Authorization": "Bearer"}, "TokenNotPresent", "JWT not present.")
	tok := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.entraV2Claims(nil))
	fail(map[string]string{"Authorization": tok}, "TokenNotPresent", "JWT not present.") // Bearer scheme expected
	fail(map[string]string{"Authorization": "Basic " + tok}, "TokenNotPresent", "JWT not present.")
	fail(sign(h.entraV2Claims(map[string]any{"azp": "55556666-0000-0000-0000-000000000000"})), ReasonTokenClientApplicationNotAllowed,
		`JWT client application (azp) "55556666-0000-0000-0000-000000000000" is not allowed. Access denied.`)
	fail(sign(h.entraV1Claims(map[string]any{"appid": "x"})), ReasonTokenClientApplicationNotAllowed, `(appid) "x" is not allowed`)
	fail(sign(h.entraV2Claims(map[string]any{"azp": nil})), ReasonTokenClientApplicationNotAllowed, "no client application id")
	fail(sign(h.entraV2Claims(map[string]any{"aud": "api://other"})), "TokenAudienceNotAllowed", "is not a backend application")
	fail(sign(h.entraV2Claims(map[string]any{"aud": nil})), "TokenAudienceNotAllowed", "no audience")
	// Another tenant's token, in either version, and the tenant's issuer on another host.
	fail(sign(h.entraV2Claims(map[string]any{"iss": "https://login.microsoftonline.com/99990000-0000-0000-0000-000000000000/v2.0"})), "TokenIssuerNotAllowed", "issuer")
	fail(sign(h.entraV1Claims(map[string]any{"iss": "https://sts.windows.net/99990000-0000-0000-0000-000000000000/"})), "TokenIssuerNotAllowed", "issuer")
	fail(sign(h.entraV1Claims(map[string]any{"iss": "https://sts.example/" + entraTID + "/"})), "TokenIssuerNotAllowed", "issuer")
	fail(sign(h.entraV2Claims(map[string]any{"exp": h.clock().Add(-time.Second).Unix()})), "TokenExpired", "expired")
	fail(sign(h.entraV2Claims(map[string]any{"exp": nil})), "TokenExpired", "expiration")
	fail(bearer(jwtSign(t, jose.RS256, jwtOtherKey, "k1", h.entraV2Claims(nil))), "TokenSignatureInvalid", "Access denied.")
	fail(bearer("not.a.jwt"), "JwtInvalid", "Invalid JWT")
	if n := h.hits.Load(); n != 5 {
		t.Fatalf("backend hits %d, want 5", n)
	}
}

func TestValidateAzureADTokenOptions(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	newEntraIssuer(t, h)
	tok := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.entraV2Claims(map[string]any{"sub": "alice", "roles": []string{"reader", "writer"}}))
	for _, c := range []struct {
		name, attrs, children string
		req                   acReq
		status                int
		body                  string
	}{
		{"domain tenant, audiences, output variable", `tenant-id="contoso.onmicrosoft.com" output-token-variable-name="jwt"`,
			`<audiences><audience>x</audience><audience>` + entraBackend + `</audience></audiences>`,
			acReq{headers: bearer(tok)}, 200, `{"ok":true}`},
		{"tenant as URL", `tenant-id="https://contoso.onmicrosoft.com/"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: bearer(tok)}, 200, ""},
		{"tenant expression", `tenant-id="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;,&quot;&quot;))"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: map[string]string{"Authorization": "Bearer " + tok, "X-Tenant": entraTID}}, 200, ""},
		{"tenant expression, not a tenant", `tenant-id="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;,&quot;&quot;))"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: map[string]string{"Authorization": "Bearer " + tok, "X-Tenant": "common"}}, 500, ""},
		{"audience mismatch, custom status and message", `tenant-id="` + entraTID + `" failed-validation-httpcode="403" failed-validation-error-message="nope"`,
			`<audiences><audience>@(context.Request.OriginalUrl.Host)</audience></audiences>`,
			acReq{headers: bearer(tok)}, 403, `{"statusCode":403,"message":"nope"}`},
		{"required claims", `tenant-id="` + entraTID + `"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>
			 <required-claims><claim name="roles" match="any"><value>admin</value><value>writer</value></claim></required-claims>`,
			acReq{headers: bearer(tok)}, 200, ""},
		{"required claims missing", `tenant-id="` + entraTID + `"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>
			 <required-claims><claim name="scp"><value>admin</value></claim></required-claims>`,
			acReq{headers: bearer(tok)}, 401, ""},
		{"custom header, bare token", `tenant-id="` + entraTID + `" header-name="X-Token"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: map[string]string{"X-Token": tok}}, 200, ""},
		{"query parameter", `tenant-id="` + entraTID + `" query-parameter-name="access_token"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{target: "/echo/thing?access_token=" + tok}, 200, ""},
		{"token-value", `tenant-id="` + entraTID + `" token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Jwt&quot;,&quot;&quot;))"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: map[string]string{"X-Jwt": tok}}, 200, ""},
		{"authentication-endpoint elsewhere", `tenant-id="` + entraTID + `" authentication-endpoint="https://127.0.0.1:1"`,
			`<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`,
			acReq{headers: bearer(tok)}, 401, ""},
	} {
		doc := `<policies>
	<inbound>
		<validate-azure-ad-token ` + c.attrs + `>` + c.children + `</validate-azure-ad-token>
	</inbound>
	<backend><forward-request /></backend>
	<outbound>
		<set-header name="X-Sub" exists-action="override"><value>@(context.Variables.ContainsKey("jwt") ? ((Jwt)context.Variables["jwt"]).Subject : "-")</value></set-header>
	</outbound>
</policies>`
		w := h.do(acLoad(t, ScopeAPI, doc), c.req)
		if w.Code != c.status || (c.body != "" && w.Body.String() != c.body) {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.body)
		}
		if c.name == "domain tenant, audiences, output variable" {
			acHeader(t, w, "X-Sub", "alice")
		}
	}
}

func TestValidateAzureADTokenLoadErrors(t *testing.T) {
	t.Parallel()
	const ids = `<client-application-ids><application-id>` + entraClient + `</application-id></client-application-ids>`
	for _, c := range []struct{ xml, want string }{
		{`<validate-azure-ad-token>` + ids + `</validate-azure-ad-token>`, `attribute "tenant-id" is required`},
		{`<validate-azure-ad-token tenant-id="contoso">` + ids + `</validate-azure-ad-token>`, "is not a tenant GUID or domain name"},
		{`<validate-azure-ad-token tenant-id="common">` + ids + `</validate-azure-ad-token>`, "multi-tenant endpoint"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" />`, "client-application-ids (or backend-application-ids or audiences) is required"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `"><client-application-ids /></validate-azure-ad-token>`, "at least one application-id must be specified"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `"><client-application-ids><application-id>@("x")</application-id></client-application-ids></validate-azure-ad-token>`, "application-id does not accept policy expressions"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `">` + ids + ids + `</validate-azure-ad-token>`, "client-application-ids may appear only once"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `">` + ids + `<decryption-keys/></validate-azure-ad-token>`, "needs at least one key"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `">` + ids + `<openid-config url="https://x/" /></validate-azure-ad-token>`, "test.xml:2:203: unknown element <openid-config>"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" clock-skew="5">` + ids + `</validate-azure-ad-token>`, `unknown attribute "clock-skew"`},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" header-name="A" token-value="b">` + ids + `</validate-azure-ad-token>`, "at most one of header-name"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" failed-validation-httpcode="99">` + ids + `</validate-azure-ad-token>`, "must be an HTTP status code"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" authentication-endpoint="login">` + ids + `</validate-azure-ad-token>`, "is not an http(s) URL"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `" output-token-variable-name="@(&quot;v&quot;)">` + ids + `</validate-azure-ad-token>`, "does not accept expressions"},
		{`<validate-azure-ad-token tenant-id="` + entraTID + `">` + ids + `<required-claims><claim name="x" match="some" /></required-claims></validate-azure-ad-token>`, "claim match must be all or any"},
	} {
		acLoadErr(t, ScopeAPI, acDoc(c.xml), c.want)
	}
	// Outside inbound it is rejected like validate-jwt.
	acLoadErr(t, ScopeAPI, `<policies><inbound /><backend /><outbound><validate-azure-ad-token tenant-id="`+entraTID+`">`+ids+`</validate-azure-ad-token></outbound></policies>`, "validate-azure-ad-token")
	// The corpus's oauth-proxy fragment: named values tolerated by a lenient load.
	_, err := ParseFragment("f.xml", []byte(`<fragment>
    <validate-azure-ad-token tenant-id="{{TenantId}}" token-value="@((string)context.Variables[&quot;accessToken&quot;])">
        <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
    </validate-azure-ad-token>
</fragment>`), &LoadOptions{Lenient: true})
	if err != nil {
		t.Fatalf("lenient load: %v", err)
	}
}

func TestEntraV1Issuer(t *testing.T) {
	t.Parallel()
	for iss, want := range map[string][]string{
		entraV2: {entraV1},
		"https://login.microsoftonline.com/" + entraTID + "/v2.0/": {entraV1},
		"https://login.chinacloudapi.cn/" + entraTID + "/v2.0":     {"https://sts.chinacloudapi.cn/" + entraTID + "/"},
		"https://login.microsoftonline.com/{tenantid}/v2.0":        nil,
		"https://login.microsoftonline.com/" + entraTID + "/":      nil,
		"http://login.microsoftonline.com/" + entraTID + "/v2.0":   nil,
		"https://tenant.b2clogin.com/" + entraTID + "/v2.0/x":      nil,
	} {
		if got := entraV1Issuer(iss); !reflect.DeepEqual(got, want) {
			t.Errorf("entraV1Issuer(%q) = %q, want %q", iss, got, want)
		}
	}
}
