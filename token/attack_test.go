package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func newSmallRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// unsigned builds an alg-none style token with an empty signature.
func unsigned(t testing.TB, alg string, claims map[string]any) string {
	t.Helper()
	return b64e(mustJSON(t, map[string]any{"alg": alg, "typ": "JWT"})) + "." + b64e(mustJSON(t, claims)) + "."
}

// replaceSig swaps the signature part of raw.
func replaceSig(raw string, sig []byte) string {
	return raw[:strings.LastIndexByte(raw, '.')+1] + b64e(sig)
}

func TestAttacks(t *testing.T) {
	testKeys(t)
	rs := &testKey{kid: "rs", alg: "RS256", priv: rsaPriv}
	es := &testKey{kid: "es", alg: "ES256", priv: ecP256}
	ed := &testKey{kid: "ed", alg: "EdDSA", priv: edPriv}
	p := newIDP(t, rs, es, ed)

	// jku/x5u target: must never be contacted.
	var attackerHits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rsaPriv2.PublicKey, KeyID: "rs", Use: "sig"}}})
	}))
	defer attacker.Close()

	c, _, _, _ := oidcChecker(t, p, Rules{Audiences: []string{"api://gatehouse"}, RequireExpirationTime: true, RequireSignedTokens: true})
	good := mint(t, rs, nil, std(nil))
	mustValidate(t, c, good, t0)

	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attackerRS := &testKey{kid: "rs", alg: "RS256", priv: rsaPriv2}
	attackerJWK := jose.JSONWebKey{Key: &rsaPriv2.PublicKey, KeyID: "rs"}
	attackerJWKJSON, _ := attackerJWK.MarshalJSON()
	var attackerJWKMap map[string]any
	_ = json.Unmarshal(attackerJWKJSON, &attackerJWKMap)

	// ES256 DER signature over a valid signing input.
	esGood := mint(t, es, nil, std(nil))
	input := esGood[:strings.LastIndexByte(esGood, '.')]
	dg := sha256.Sum256([]byte(input))
	der, err := ecdsa.SignASN1(rand.Reader, ecP256, dg[:])
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, c, esGood, t0)

	big17k := strings.Repeat("A", MaxTokenSize+1)
	longClaim := mint(t, rs, nil, std(map[string]any{"pad": strings.Repeat("p", MaxTokenSize)}))

	cases := []struct {
		name   string
		raw    string
		reason string
	}{
		{"alg none", unsigned(t, "none", std(nil)), ReasonTokenSignatureInvalid},
		{"alg None", unsigned(t, "None", std(nil)), ReasonTokenSignatureInvalid},
		{"alg NONE", unsigned(t, "NONE", std(nil)), ReasonTokenSignatureInvalid},
		{"alg nOnE", unsigned(t, "nOnE", std(nil)), ReasonTokenSignatureInvalid},
		{"alg none with signature kept", b64e([]byte(`{"alg":"none","kid":"rs"}`)) + good[strings.IndexByte(good, '.'):], ReasonTokenSignatureInvalid},
		{"empty signature RS256", good[:strings.LastIndexByte(good, '.')+1], ReasonTokenSignatureInvalid},
		{"null signature zeros", replaceSig(good, make([]byte, 256)), ReasonTokenSignatureInvalid},
		{"signature stripped (2 parts)", good[:strings.LastIndexByte(good, '.')], ReasonJwtInvalid},
		{"tampered payload", strings.Replace(good, strings.Split(good, ".")[1], b64e(mustJSON(t, std(map[string]any{"sub": "admin"}))), 1), ReasonTokenSignatureInvalid},
		{"other key same kid", mint(t, attackerRS, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"RS->HS confusion PEM secret", mint(t, &testKey{kid: "rs", alg: "HS256", priv: pubPEM}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"RS->HS confusion DER secret", mint(t, &testKey{kid: "rs", alg: "HS256", priv: pubDER}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"RS->HS confusion n secret no kid", mint(t, &testKey{alg: "HS256", priv: rsaPriv.N.Bytes()}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"blank HMAC secret", mint(t, &testKey{kid: "rs", alg: "HS256", priv: []byte{}}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"jku spoofed JWKS", mint(t, attackerRS, map[string]any{"jku": attacker.URL}, std(nil)), ReasonJwtInvalid},
		{"x5u", mint(t, attackerRS, map[string]any{"x5u": attacker.URL}, std(nil)), ReasonJwtInvalid},
		{"inline jwk", mint(t, attackerRS, map[string]any{"jwk": attackerJWKMap}, std(nil)), ReasonJwtInvalid},
		{"x5c", mint(t, attackerRS, map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString([]byte("cert"))}}, std(nil)), ReasonJwtInvalid},
		{"crit unknown", mint(t, rs, map[string]any{"crit": []string{"exp"}, "exp": 1}, std(nil)), ReasonJwtInvalid},
		{"crit b64 false", mint(t, rs, map[string]any{"crit": []string{"b64"}, "b64": false}, std(nil)), ReasonJwtInvalid},
		{"crit empty", mint(t, rs, map[string]any{"crit": []string{}}, std(nil)), ReasonJwtInvalid},
		{"b64 without crit", mint(t, rs, map[string]any{"b64": true}, std(nil)), ReasonJwtInvalid},
		{"kid path traversal", mint(t, &testKey{kid: "../../../../../../dev/null", alg: "HS256", priv: []byte{}}, nil, std(nil)), ReasonTokenSignatureKeyNotFound},
		{"kid path traversal RS", mint(t, &testKey{kid: "../../../../etc/passwd", alg: "RS256", priv: rsaPriv}, nil, std(nil)), ReasonTokenSignatureKeyNotFound},
		{"kid sql injection", mint(t, &testKey{kid: "x' UNION SELECT 'key';--", alg: "HS256", priv: []byte("key")}, nil, std(nil)), ReasonTokenSignatureKeyNotFound},
		{"kid not a string", mint(t, rs, map[string]any{"kid": 1}, std(nil)), ReasonJwtInvalid},
		{"psychic signature r=s=0", replaceSig(esGood, make([]byte, 64)), ReasonTokenSignatureInvalid},
		{"ECDSA DER signature", replaceSig(esGood, der), ReasonTokenSignatureInvalid},
		{"ES256 claimed as ES384 on P-256 key", mint(t, &testKey{kid: "es", alg: "ES384", priv: ecP384}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"RS256 claimed for EC kid", mint(t, &testKey{kid: "es", alg: "RS256", priv: rsaPriv}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"EdDSA token for RSA kid", mint(t, &testKey{kid: "rs", alg: "EdDSA", priv: edPriv}, nil, std(nil)), ReasonTokenSignatureInvalid},
		{"unknown alg", b64e([]byte(`{"alg":"RS1","kid":"rs"}`)) + good[strings.IndexByte(good, '.'):], ReasonTokenSignatureInvalid},
		{"JWE five parts", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", ReasonJwtInvalid},
		{"JSON serialization multi sig", `{"payload":"e30","signatures":[{"protected":"e30","signature":"AA"},{"protected":"e30","signature":"AA"}]}`, ReasonJwtInvalid},
		{"nested JWT", mint(t, rs, map[string]any{"cty": "JWT"}, std(nil)), ReasonJwtInvalid},
		{"oversize garbage", big17k, ReasonJwtInvalid},
		{"oversize signed", longClaim, ReasonJwtInvalid},
		{"zip header", mint(t, rs, map[string]any{"zip": "DEF"}, std(nil)), ReasonJwtInvalid},
		{"header not JSON", b64e([]byte("alg")) + "." + b64e([]byte("{}")) + ".AA", ReasonJwtInvalid},
		{"payload not object", b64e([]byte(`{"alg":"RS256"}`)) + "." + b64e([]byte(`[1]`)) + ".AA", ReasonJwtInvalid},
		{"header trailing data", b64e([]byte(`{"alg":"RS256"}{}`)) + "." + b64e([]byte(`{}`)) + ".AA", ReasonJwtInvalid},
		{"padded base64", good + "==", ReasonJwtInvalid},
		{"non-strict base64 trailing bits", strings.Split(good, ".")[0] + "." + strings.Split(good, ".")[1] + "." + flipTrailingBits(strings.Split(good, ".")[2]), ReasonJwtInvalid},
		{"whitespace", " " + good, ReasonJwtInvalid},
		{"no alg", b64e([]byte(`{"kid":"rs"}`)) + good[strings.IndexByte(good, '.'):], ReasonJwtInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.Validate(context.Background(), tc.raw, t0)
			if tok != nil {
				t.Fatal("token accepted")
			}
			te := wantReason(t, err, tc.reason)
			if strings.Contains(te.Message, tc.raw) && len(tc.raw) > 10 {
				t.Fatal("message echoes the token")
			}
		})
	}
	if n := attackerHits.Load(); n != 0 {
		t.Fatalf("attacker URL contacted %d times", n)
	}
}

// flipTrailingBits changes the unused low bits of the last base64url
// character (same decoded bytes under a lenient decoder).
func flipTrailingBits(s string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alpha, s[len(s)-1])
	return s[:len(s)-1] + string(alpha[last^1])
}

func TestUnsignedTokensOnlyWhenAllowed(t *testing.T) {
	testKeys(t)
	c, err := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, Audiences: []string{"api://gatehouse"}, RequireSignedTokens: false}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, c, unsigned(t, "none", std(nil)), t0)
	// Claims are still checked on unsigned tokens.
	_, err = c.Validate(context.Background(), unsigned(t, "none", std(map[string]any{"aud": "x"})), t0)
	wantReason(t, err, ReasonTokenAudienceNotAllowed)
	// Case variants are not "none".
	for _, alg := range []string{"None", "NONE", "nOnE"} {
		_, err = c.Validate(context.Background(), unsigned(t, alg, std(nil)), t0)
		wantReason(t, err, ReasonTokenSignatureInvalid)
	}
	// alg none with a signature.
	_, err = c.Validate(context.Background(), unsigned(t, "none", std(nil))+"AAAA", t0)
	wantReason(t, err, ReasonJwtInvalid)
	// Signed tokens are still verified.
	k := &testKey{alg: "HS256", priv: hmacSecret}
	mustValidate(t, c, mint(t, k, nil, std(nil)), t0)
	_, err = c.Validate(context.Background(), mint(t, &testKey{alg: "HS256", priv: []byte(strings.Repeat("w", 32))}, nil, std(nil)), t0)
	wantReason(t, err, ReasonTokenSignatureInvalid)
	// No keys at all and unsigned allowed: fine for none, key not found for signed.
	c2, err := NewChecker(Rules{RequireSignedTokens: false}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, c2, unsigned(t, "none", std(nil)), t0)
	_, err = c2.Validate(context.Background(), mint(t, k, nil, std(nil)), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
}

func TestJWKSKeyFiltering(t *testing.T) {
	testKeys(t)
	small := newSmallRSA(t)
	secret := []byte(strings.Repeat("s", 32))
	good := &testKey{kid: "good", alg: "RS256", priv: rsaPriv}
	keys := []jose.JSONWebKey{
		{Key: secret, KeyID: "oct", Algorithm: "HS256"},
		{Key: &rsaPriv2.PublicKey, KeyID: "enc", Use: "enc"},
		{Key: &small.PublicKey, KeyID: "small", Use: "sig"},
		{Key: &ecP256.PublicKey, KeyID: "es-alg-mismatch", Algorithm: "RS256"},
		{Key: &rsaPriv2.PublicKey, KeyID: "ps-only", Algorithm: "PS256"},
		good.jwk(),
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	var m map[string][]json.RawMessage
	_ = json.Unmarshal(set, &m)
	m["keys"] = append(m["keys"], json.RawMessage(`{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"}`), json.RawMessage(`{"kty":"weird","kid":"weird"}`))
	raw, _ := json.Marshal(m)
	p := newIDP(t)
	p.rawJWKS = raw
	c, _, _, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	mustValidate(t, c, mint(t, good, nil, std(nil)), t0)
	mustValidate(t, c, mint(t, &testKey{kid: "ps-only", alg: "PS256", priv: rsaPriv2}, nil, std(nil)), t0)
	cases := []struct {
		tk     *testKey
		reason string
	}{
		{&testKey{kid: "oct", alg: "HS256", priv: secret}, ReasonTokenSignatureKeyNotFound},
		{&testKey{alg: "HS256", priv: secret}, ReasonTokenSignatureInvalid}, // no kid: keys exist but none allows HS256
		{&testKey{kid: "enc", alg: "RS256", priv: rsaPriv2}, ReasonTokenSignatureKeyNotFound},
		{&testKey{kid: "small", alg: "RS256", priv: small}, ReasonTokenSignatureKeyNotFound},
		{&testKey{kid: "es-alg-mismatch", alg: "ES256", priv: ecP256}, ReasonTokenSignatureKeyNotFound},
		{&testKey{kid: "ps-only", alg: "RS256", priv: rsaPriv2}, ReasonTokenSignatureInvalid},
	}
	for _, tc := range cases {
		_, err := c.Validate(context.Background(), mint(t, tc.tk, nil, std(nil)), t0)
		wantReason(t, err, tc.reason)
	}
}

// Big exponents and moduli in n/e are handled without panics.
func TestRSAFromNEEdges(t *testing.T) {
	testKeys(t)
	for _, e := range []string{"AQAB", "Aw", "AQ", "AAAAAAAAAAAAAQAB", base64.RawURLEncoding.EncodeToString(new(big.Int).Lsh(big.NewInt(1), 100).Bytes())} {
		_, _ = rsaFromNE(base64.RawURLEncoding.EncodeToString(rsaPriv.N.Bytes()), e)
	}
	if _, err := rsaFromNE(base64.RawURLEncoding.EncodeToString(rsaPriv.N.Bytes()), "AQAB=="); err != nil {
		t.Fatal("padded e rejected:", err)
	}
}
