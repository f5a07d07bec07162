package testutil

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a local OpenID provider for tests: it serves a discovery
// document and a JWKS over real HTTP and signs tokens with an RSA key.
type Issuer struct {
	Server *httptest.Server
	// Mux serves the discovery document and keys; tests add endpoints
	// (an authorization or token endpoint) to it.
	Mux    *http.ServeMux
	Key    *rsa.PrivateKey
	KeyID  string
	signer jose.Signer
}

// NewIssuer starts an issuer; it is closed when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{Key: key, KeyID: "test-key-1"}
	is.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: is.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	is.Mux = mux
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Server.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                is.IssuerURL(),
			"jwks_uri":                              is.Server.URL + "/keys",
			"authorization_endpoint":                is.Server.URL + "/authorize",
			"token_endpoint":                        is.Server.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: is.KeyID, Algorithm: "RS256", Use: "sig"}}})
	})
	return is
}

// IssuerURL is the iss of the tokens.
func (is *Issuer) IssuerURL() string { return is.Server.URL + "/tenant/v2.0/" }

// DiscoveryURL is the openid-config URL.
func (is *Issuer) DiscoveryURL() string { return is.Server.URL + "/.well-known/openid-configuration" }

// Token signs claims; iss, iat, nbf and exp (one hour) are filled in when
// absent.
func (is *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": is.IssuerURL(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := jwt.Signed(is.signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
