package identity

import (
	"encoding/json"
	"net/http"
	"sort"
)

var standardClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "auth_time", "ver", "tfp", "nonce", "at_hash", "c_hash", "azp", "scp"}

// responseTypesSupported is B2C's list (parseResponseType takes each, in
// any order); tokens need the app's implicitGrant option.
var responseTypesSupported = []string{"code", "code id_token", "code token", "code id_token token", "id_token", "id_token token", "token", "token id_token"}

// discovery serves the OpenID configuration, endpoints in the URL form of
// the request.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request, rt *route) {
	if corsPublic(w, r) {
		return
	}
	claims := append([]string(nil), standardClaims...)
	seen := map[string]bool{}
	for _, c := range claims {
		seen[c] = true
	}
	var extra []string
	for _, c := range rt.flow.Claims {
		if n := tokenClaimName(c); !seen[n] {
			seen[n] = true
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	doc := map[string]any{
		"issuer":                                         p.issuerOf(rt.flow),
		"authorization_endpoint":                         p.endpointURL(rt, "oauth2/v2.0/authorize"),
		"token_endpoint":                                 p.endpointURL(rt, "oauth2/v2.0/token"),
		"end_session_endpoint":                           p.endpointURL(rt, "oauth2/v2.0/logout"),
		"jwks_uri":                                       p.endpointURL(rt, "discovery/v2.0/keys"),
		"response_modes_supported":                       []string{"query", "fragment", "form_post"},
		"response_types_supported":                       responseTypesSupported,
		"scopes_supported":                               []string{"openid", "offline_access"},
		"subject_types_supported":                        []string{"pairwise"},
		"id_token_signing_alg_values_supported":          []string{p.keys.Algorithm()},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_post", "client_secret_basic"},
		"claims_supported":                               append(claims, extra...),
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":               []string{"S256", "plain"},
		"prompt_values_supported":                        []string{"login", "none"},
		"authorization_response_iss_parameter_supported": true,
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_ = json.NewEncoder(w).Encode(doc)
}

// jwks serves the public keys: the signing key, a published successor and
// retired keys whose tokens may still be alive.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	if corsPublic(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(p.keys.JWKS())
}
