package identity

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

const (
	implicitSPAID  = "55555555-5555-4555-8555-555555555555"
	implicitRedir  = "https://spa-implicit.example/"
	hybridWebID    = "66666666-6666-4666-8666-666666666666"
	hybridWebRedir = "https://web-hybrid.example/cb"
	hybridSecret   = "hybrid-secret-0123456789abcdef"
)

// implicitApps adds an SPA with both implicit checkboxes and a web app
// with ID tokens only (the hybrid code id_token of server-side apps).
func implicitApps(src string) string {
	return strings.Replace(src, "  userFlows:\n", `    - { name: spa-implicit, clientId: `+implicitSPAID+`, type: spa, redirectUris: ["`+implicitRedir+`"],
        permissions: ["`+apiURI+`/Hello"], implicitGrant: { idTokens: true, accessTokens: true } }
    - name: web-hybrid
      clientId: `+hybridWebID+`
      type: web
      redirectUris: ["`+hybridWebRedir+`"]
      clientSecrets: [`+hybridSecret+`]
      permissions: ["`+apiURI+`/.default"]
      implicitGrant:
        idTokens: true
  userFlows:
`, 1)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// authorizeAny runs an authorization request and returns how the response
// came (query, fragment or form_post) and its parameters.
func (e *env) authorizeAny(params url.Values) (string, url.Values) {
	e.t.Helper()
	resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + params.Encode())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusFound:
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			e.t.Fatal(err)
		}
		if strings.Contains(resp.Header.Get("Location"), "#") {
			v, err := url.ParseQuery(loc.EscapedFragment())
			if err != nil {
				e.t.Errorf("fragment %q: %v", loc.EscapedFragment(), err)
			}
			if loc.RawQuery != "" {
				e.t.Errorf("fragment response with a query too: %s", loc)
			}
			return "fragment", v
		}
		return "query", loc.Query()
	case http.StatusOK:
		if !strings.Contains(string(body), `action="`+params.Get("redirect_uri")+`"`) {
			e.t.Fatalf("form_post to somewhere else: %s", body)
		}
		v := url.Values{}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		return "form_post", v
	}
	e.t.Fatalf("authorize: status %d: %s", resp.StatusCode, body)
	return "", nil
}

// wantHash is at_hash / c_hash computed here, independently of the
// provider: base64url of the left half of SHA-256 of the ASCII value
// (RS256, ES256).
func wantHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

func implicitParams(responseType, mode string) url.Values {
	v := url.Values{
		"client_id": {implicitSPAID}, "redirect_uri": {implicitRedir}, "response_type": {responseType},
		"scope": {"openid offline_access " + apiURI + "/Hello"}, "state": {"st-imp"}, "nonce": {"n-imp"},
	}
	if mode != "" {
		v.Set("response_mode", mode)
	}
	if strings.Contains(responseType, "code") {
		v.Set("code_challenge", s256(oauth2Verifier))
		v.Set("code_challenge_method", "S256")
	}
	return v
}

// TestResponseTypesMatrix: every response type B2C supports in every
// response mode, for an SPA with both implicit checkboxes: tokens never
// in the query (default fragment, query refused), state and iss echoed,
// nonce, c_hash and at_hash in the id token, which go-oidc verifies.
func TestResponseTypesMatrix(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnvWith(t, alg, implicitApps)
			prov := oidcProvider(t, e)
			ctx := oidc.InsecureIssuerURLContext(context.Background(), e.p.Issuer())
			idv := prov.Verifier(&oidc.Config{ClientID: implicitSPAID})
			atv := prov.Verifier(&oidc.Config{ClientID: backendID})
			for _, rt := range []string{"code", "id_token", "token", "code id_token", "code token", "id_token token", "code id_token token", "token id_token", "id_token code"} {
				for _, mode := range []string{"", "query", "fragment", "form_post"} {
					name := rt + "/" + mode
					want, _ := parseResponseType(rt)
					got, v := e.authorizeAny(implicitParams(rt, mode))
					if v.Get("state") != "st-imp" || v.Get("iss") != e.p.Issuer() {
						t.Errorf("%s: state/iss not echoed: %v", name, v)
					}
					if want.tokens() && mode == "query" {
						if got != "fragment" || v.Get("error") != "invalid_request" || !strings.HasPrefix(v.Get("error_description"), "AADB2C90014") ||
							v.Get("code") != "" || v.Get("id_token") != "" || v.Get("access_token") != "" {
							t.Errorf("%s: want AADB2C90014 in the fragment, got %s %v", name, got, v)
						}
						continue
					}
					wantMode := mode
					if mode == "" {
						wantMode = want.defaultMode()
					}
					if got != wantMode || v.Get("error") != "" {
						t.Errorf("%s: got %s %v, want a %s response", name, got, v, wantMode)
						continue
					}
					if (v.Get("code") != "") != want.code || (v.Get("id_token") != "") != want.idToken || (v.Get("access_token") != "") != want.token {
						t.Errorf("%s: response %v", name, v)
						continue
					}
					if want.token {
						scope := "openid " + apiURI + "/Hello"
						if want.code {
							scope = "openid offline_access " + apiURI + "/Hello" // the code's refresh token
						}
						if v.Get("token_type") != "Bearer" || v.Get("expires_in") != "3600" || v.Get("scope") != scope {
							t.Errorf("%s: token_type/expires_in/scope %q %q %q", name, v.Get("token_type"), v.Get("expires_in"), v.Get("scope"))
						}
						at, err := atv.Verify(ctx, v.Get("access_token"))
						if err != nil {
							t.Fatalf("%s: access token: %v", name, err)
						}
						var ac map[string]any
						_ = at.Claims(&ac)
						if ac["scp"] != "Hello" || ac["azp"] != implicitSPAID || ac["sub"] != e.user.ID {
							t.Errorf("%s: access token claims %v", name, ac)
						}
					}
					if v.Get("refresh_token") != "" {
						t.Errorf("%s: a refresh token from the authorization endpoint", name)
					}
					if !want.idToken {
						continue
					}
					idt, err := idv.Verify(ctx, v.Get("id_token"))
					if err != nil {
						t.Fatalf("%s: id token: %v", name, err)
					}
					var c map[string]any
					_ = idt.Claims(&c)
					if c["nonce"] != "n-imp" || c["sub"] != e.user.ID || c["tfp"] != flowName || c["aud"] != implicitSPAID {
						t.Errorf("%s: id token claims %v", name, c)
					}
					if h, _ := c["c_hash"].(string); (h != "") != want.code || (want.code && h != wantHash(v.Get("code"))) {
						t.Errorf("%s: c_hash %q, code %q", name, h, v.Get("code"))
					}
					if h, _ := c["at_hash"].(string); (h != "") != want.token || (want.token && h != wantHash(v.Get("access_token"))) {
						t.Errorf("%s: at_hash %q", name, h)
					}
					if want.token {
						if err := idt.VerifyAccessToken(v.Get("access_token")); err != nil {
							t.Errorf("%s: go-oidc at_hash: %v", name, err)
						}
					}
					if want.code {
						// The hybrid code redeems as any code: PKCE, the
						// nonce again in the id token, a refresh token.
						status, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {implicitSPAID}, "code": {v.Get("code")},
							"redirect_uri": {implicitRedir}, "code_verifier": {oauth2Verifier}}, "", "")
						if status != 200 || m["refresh_token"] == nil {
							t.Fatalf("%s: redeem: %d %v", name, status, m)
						}
						rc := claimsOf(t, m["id_token"].(string))
						if rc["nonce"] != "n-imp" || rc["c_hash"] != nil {
							t.Errorf("%s: redeemed id token %v", name, rc)
						}
					}
				}
			}
		})
	}
}

// TestResponseTypesRefused: the app option, nonce, scope and syntax
// rules, errors back to the verified redirect URI with B2C's codes.
func TestResponseTypesRefused(t *testing.T) {
	e := newEnvWith(t, "RS256", implicitApps)
	cases := []struct {
		name  string
		p     url.Values
		mode  string
		error string
		code  string
	}{
		{"id_token, SPA without implicitGrant", with(spaParams(oauth2Verifier), "response_type", "id_token"), "fragment", "unauthorized_client", "AADB2C90057"},
		{"token, SPA without implicitGrant", with(spaParams(oauth2Verifier), "response_type", "token"), "fragment", "unauthorized_client", "AADB2C90057"},
		{"code id_token, web without implicitGrant", webParams("code id_token"), "fragment", "unauthorized_client", "AADB2C90057"},
		{"id_token token, web with ID tokens only", with(hybridParams("id_token token"), "response_mode", "form_post"), "form_post", "unauthorized_client", "AADB2C90057"},
		{"code token, web with ID tokens only", hybridParams("code token"), "fragment", "unauthorized_client", "AADB2C90057"},
		{"id_token without nonce", without(implicitParams("id_token", ""), "nonce"), "fragment", "invalid_request", "AADB2C90083"},
		{"code id_token without nonce", without(hybridParams("code id_token"), "nonce"), "fragment", "invalid_request", "AADB2C90083"},
		{"id_token without openid", with(implicitParams("id_token", ""), "scope", apiURI+"/Hello"), "fragment", "invalid_scope", "AADB2C90055"},
		{"token without a resource", with(implicitParams("token", ""), "scope", "openid offline_access"), "fragment", "invalid_scope", "AADB2C90055"},
		{"id_token in the query", implicitParams("id_token", "query"), "fragment", "invalid_request", "AADB2C90014"},
		{"code id_token in the query", hybridParams("code id_token") /* mode set below */, "fragment", "invalid_request", "AADB2C90014"},
		{"hybrid SPA without PKCE", without(without(implicitParams("code id_token", ""), "code_challenge"), "code_challenge_method"), "fragment", "invalid_request", "AADB2C99059"},
		{"code code", implicitParams("code code", ""), "query", "unsupported_response_type", "AADB2C90013"},
		{"id_token id_token", implicitParams("id_token id_token", "fragment"), "fragment", "unsupported_response_type", "AADB2C90013"},
		{"two spaces", implicitParams("code  id_token", "fragment"), "fragment", "unsupported_response_type", "AADB2C90013"},
		{"none", implicitParams("none", ""), "query", "unsupported_response_type", "AADB2C90013"},
		{"bad mode", implicitParams("id_token", "web_message"), "fragment", "invalid_request", "AADB2C90014"},
		{"oversized nonce, id_token", with(implicitParams("id_token", ""), "nonce", strings.Repeat("n", 513)), "fragment", "invalid_request", "AADB2C90083"},
		{"oversized nonce, id_token in the query", with(implicitParams("id_token", "query"), "nonce", strings.Repeat("n", 513)), "fragment", "invalid_request", "AADB2C90083"},
	}
	cases[10].p.Set("response_mode", "query")
	for _, c := range cases {
		mode, v := e.authorizeAny(c.p)
		if mode != c.mode || v.Get("error") != c.error || !strings.HasPrefix(v.Get("error_description"), c.code+": ") || v.Get("state") == "" {
			t.Errorf("%s: %s %v, want %s %s in the %s", c.name, mode, v, c.error, c.code, c.mode)
		}
		if v.Get("code") != "" || v.Get("id_token") != "" || v.Get("access_token") != "" {
			t.Errorf("%s: issued %v", c.name, v)
		}
	}
	if n := len(e.pages.begun); n != 0 {
		t.Errorf("a refused request reached the pages (%d)", n)
	}
	// An unregistered redirect URI is a page, never a redirect, for any
	// response type.
	for _, rt := range []string{"id_token", "code id_token", "token"} {
		p := with(implicitParams(rt, "fragment"), "redirect_uri", "https://evil.example/")
		resp := e.get(e.authority() + "/oauth2/v2.0/authorize?" + p.Encode())
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%s to an unregistered URI: %d %q", rt, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// The web app's hybrid code id_token works, by form_post; its code
	// needs the client secret.
	mode, v := e.authorizeAny(with(hybridParams("code id_token"), "response_mode", "form_post"))
	if mode != "form_post" || v.Get("code") == "" || v.Get("id_token") == "" {
		t.Fatalf("hybrid web: %s %v", mode, v)
	}
	if c := claimsOf(t, v.Get("id_token")); c["c_hash"] != wantHash(v.Get("code")) || c["at_hash"] != nil || c["nonce"] != "n-web" {
		t.Errorf("hybrid web id token %v", c)
	}
	status, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {hybridWebID}, "code": {v.Get("code")}, "redirect_uri": {hybridWebRedir}}, "", "")
	if status != 400 || m["error"] != "invalid_request" {
		t.Errorf("hybrid code without the secret: %d %v", status, m)
	}
}

// TestImplicitRecheckedAtCompletion: a stored request for tokens is
// refused when the app lost the option before the sign-in completed.
func TestImplicitRecheckedAtCompletion(t *testing.T) {
	e := newEnvWith(t, "RS256", implicitApps)
	e.authorizeAny(implicitParams("id_token token", "")) // signs in (SSO cookie)
	e.reg.Apps[implicitSPAID].ImplicitAccessTokens = false
	p := implicitParams("id_token", "")
	mode, v := e.authorizeAny(p)
	if mode != "fragment" || v.Get("id_token") == "" {
		t.Fatalf("id_token still allowed: %s %v", mode, v)
	}
	tx := &Transaction{Request: AuthRequest{ClientID: implicitSPAID, RedirectURI: implicitRedir, ResponseType: "id_token token",
		ResponseMode: "fragment", Scopes: []string{"openid", apiURI + "/Hello"}, State: "s", Nonce: "n"}}
	w := &recorder{h: http.Header{}}
	r, _ := http.NewRequest("GET", "/", nil)
	e.p.complete(w, r, e.reg.Flows[strings.ToLower(flowName)], &tx.Request, Result{User: e.user})
	loc, _ := url.Parse(w.h.Get("Location"))
	q, _ := url.ParseQuery(loc.Fragment)
	if q.Get("error") != "unauthorized_client" || q.Get("access_token") != "" || q.Get("id_token") != "" {
		t.Errorf("completion after the option was removed: %v", q)
	}
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }

func hybridParams(rt string) url.Values {
	return url.Values{
		"client_id": {hybridWebID}, "redirect_uri": {hybridWebRedir}, "response_type": {rt},
		"scope": {"openid offline_access"}, "state": {"st-web"}, "nonce": {"n-web"},
	}
}

func webParams(rt string) url.Values {
	return url.Values{
		"client_id": {webID}, "redirect_uri": {webRedir}, "response_type": {rt},
		"scope": {"openid"}, "state": {"st-web"}, "nonce": {"n-web"},
	}
}

func with(v url.Values, k, val string) url.Values {
	v.Set(k, val)
	return v
}

func without(v url.Values, k string) url.Values {
	v.Del(k)
	return v
}

// TestHalfHash checks at_hash / c_hash against OIDC Core's rule for each
// SHA-2 size, computed here without the provider's code.
func TestHalfHash(t *testing.T) {
	v := "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
	h256 := sha256.Sum256([]byte(v))
	h384 := sha512.Sum384([]byte(v))
	h512 := sha512.Sum512([]byte(v))
	for alg, want := range map[string][]byte{"RS256": h256[:16], "ES256": h256[:16], "PS384": h384[:24], "ES512": h512[:32]} {
		if got := halfHash(alg, v); got != base64.RawURLEncoding.EncodeToString(want) {
			t.Errorf("%s: %s", alg, got)
		}
	}
}

// TestDiscoveryResponseTypes: discovery advertises B2C's response types
// and modes, each of which parseResponseType takes.
func TestDiscoveryResponseTypes(t *testing.T) {
	e := newEnv(t, "RS256")
	resp := e.get(e.authority() + "/v2.0/.well-known/openid-configuration")
	defer resp.Body.Close()
	var doc struct {
		Types  []string `json:"response_types_supported"`
		Modes  []string `json:"response_modes_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"code", "code id_token", "code token", "code id_token token", "id_token", "id_token token", "token", "token id_token"}
	if strings.Join(doc.Types, ",") != strings.Join(want, ",") {
		t.Errorf("response_types_supported %v", doc.Types)
	}
	for _, rt := range doc.Types {
		if _, ok := parseResponseType(rt); !ok {
			t.Errorf("advertised %q is refused", rt)
		}
	}
	if strings.Join(doc.Modes, ",") != "query,fragment,form_post" {
		t.Errorf("response_modes_supported %v", doc.Modes)
	}
	if !contains(doc.Claims, "c_hash") || !contains(doc.Claims, "at_hash") {
		t.Errorf("claims_supported %v", doc.Claims)
	}
}

// TestImplicitGrantConfig: a daemon cannot have the option; the error
// names the file, line and column.
func TestImplicitGrantConfig(t *testing.T) {
	src := strings.Replace(testConfigYAML("https://login.contoso.example", "RS256"),
		"    - { name: daemon, clientId: "+daemonID+", type: daemon,",
		"    - { name: daemon, clientId: "+daemonID+", type: daemon, implicitGrant: { idTokens: true },", 1)
	cfg, err := parseConfig(t, src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewRegistry(cfg)
	if err == nil || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:14:") || !strings.Contains(err.Error(), "identity.apps[daemon].implicitGrant") {
		t.Errorf("daemon with implicitGrant: %v", err)
	}
	bad := strings.Replace(src, "implicitGrant: { idTokens: true }", "implicitGrant: { idTokens: yes please }", 1)
	if _, err := parseConfig(t, bad); err == nil || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:14:") {
		t.Errorf("non-boolean idTokens: %v", err)
	}
	typo := strings.Replace(src, "implicitGrant: { idTokens: true }", "implicitGrant: { idToken: true }", 1)
	if _, err := parseConfig(t, typo); err == nil || !strings.Contains(err.Error(), `unknown key "idToken"`) {
		t.Errorf("unknown key: %v", err)
	}
}
