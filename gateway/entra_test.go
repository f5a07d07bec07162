package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestEntraAuthority: gateway.entraAuthority is where
// validate-azure-ad-token fetches the tenant's OpenID configuration.
func TestEntraAuthority(t *testing.T) {
	const tid = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
	const client = "33334444-dddd-5555-eeee-6666ffff7777"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var idp *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/"+tid+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer":   "https://login.microsoftonline.com/" + tid + "/v2.0",
			"jwks_uri": idp.URL + "/keys",
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	idp = httptest.NewServer(mux)
	t.Cleanup(idp.Close)
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  entraAuthority: "`+idp.URL+`"
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
`, map[string]string{"api.xml": `<policies>
	<inbound>
		<validate-azure-ad-token tenant-id="` + tid + `">
			<client-application-ids><application-id>` + client + `</application-id></client-application-ids>
		</validate-azure-ad-token>
	</inbound>
	<backend><forward-request /></backend>
	<outbound />
	<on-error />
</policies>`})
	_, srv := start(t, cfg, Options{})

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(iss, azp string) string {
		b, _ := json.Marshal(map[string]any{"iss": iss, "aud": "api://backend", "azp": azp, "exp": time.Now().Add(time.Hour).Unix()})
		jws, err := signer.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	if e := get(t, srv.URL+"/api/x", "Authorization", "Bearer "+sign("https://sts.windows.net/"+tid+"/", client)).echoed(t); e.Backend != "be" {
		t.Fatalf("echo %+v", e)
	}
	get(t, srv.URL+"/api/x", "Authorization", "Bearer "+sign("https://login.microsoftonline.com/"+tid+"/v2.0", "other")).
		wantError(t, 401, `JWT client application (azp) "other" is not allowed. Access denied.`)
}
