package apim

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// jweWrap encrypts a signed JWT for key with alg, as an identity provider
// issuing encrypted tokens does (cty "JWT": a nested token).
func jweWrap(t *testing.T, inner string, alg jose.KeyAlgorithm, key any) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key}, (&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(inner))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validate-jwt decryption-keys: encrypted tokens (direct symmetric key,
// AES key wrap, RSA-OAEP with a gateway certificate's key) are decrypted,
// then the JWT inside is validated as usual; a token no key opens, a
// tampered one and an encrypted one without decryption-keys are refused.
func TestValidateJWTDecryptionKeys(t *testing.T) {
	h := newACHarness(t)
	jwtTestKeys(t)
	signing := []byte("0123456789abcdef0123456789abcdef")
	direct := make([]byte, 32)
	wrap := make([]byte, 32)
	rand.Read(direct)
	rand.Read(wrap)
	h.env.Certificates = map[string]tls.Certificate{"enc": {PrivateKey: jwtOtherKey}}
	p := acLoad(t, ScopeAPI, acDoc(`
		<validate-jwt header-name="Authorization">
			<issuer-signing-keys><key>`+base64.StdEncoding.EncodeToString(signing)+`</key></issuer-signing-keys>
			<decryption-keys>
				<key>`+base64.StdEncoding.EncodeToString(direct)+`</key>
				<key>`+base64.StdEncoding.EncodeToString(wrap)+`</key>
				<key certificate-id="enc" />
			</decryption-keys>
			<issuers><issuer>https://issuer.example/</issuer></issuers>
		</validate-jwt>`))
	signed := jwtSign(t, jose.HS256, signing, "", h.claims("https://issuer.example/", nil))
	for name, tok := range map[string]string{
		"plain":    signed,
		"dir":      jweWrap(t, signed, jose.DIRECT, direct),
		"A256KW":   jweWrap(t, signed, jose.A256KW, wrap),
		"RSA-OAEP": jweWrap(t, signed, jose.RSA_OAEP_256, &jwtOtherKey.PublicKey),
	} {
		if w := h.do(p, acReq{headers: bearer(tok)}); w.Code != 200 {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	other := make([]byte, 32)
	rand.Read(other)
	tampered := []byte(jweWrap(t, signed, jose.DIRECT, direct))
	tampered[len(tampered)-30] ^= 1
	badSig := jwtSign(t, jose.HS256, []byte("ffffffffffffffffffffffffffffffff"), "", h.claims("https://issuer.example/", nil))
	for name, tok := range map[string]string{
		"unknown key":        jweWrap(t, signed, jose.DIRECT, other),
		"tampered":           string(tampered),
		"badly signed inner": jweWrap(t, badSig, jose.DIRECT, direct),
	} {
		if w := h.do(p, acReq{headers: bearer(tok)}); w.Code != 401 {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	noKeys := acLoad(t, ScopeAPI, acDoc(`<validate-jwt header-name="Authorization"><issuer-signing-keys><key>`+base64.StdEncoding.EncodeToString(signing)+`</key></issuer-signing-keys></validate-jwt>`))
	if w := h.do(noKeys, acReq{headers: bearer(jweWrap(t, signed, jose.DIRECT, direct))}); w.Code != 401 {
		t.Fatalf("an encrypted token without decryption-keys: %d", w.Code)
	}
	acLoadErr(t, ScopeAPI, acDoc(`<validate-jwt header-name="Authorization"><issuer-signing-keys><key>`+base64.StdEncoding.EncodeToString(signing)+`</key></issuer-signing-keys><decryption-keys/></validate-jwt>`), "needs at least one key")
}

// validate-azure-ad-token decrypts with its decryption-keys the same way.
func TestValidateAzureADTokenDecryptionKeys(t *testing.T) {
	h := newACHarness(t)
	newEntraIssuer(t, h)
	key := make([]byte, 32)
	rand.Read(key)
	p := acLoad(t, ScopeAPI, acDoc(`
		<validate-azure-ad-token tenant-id="`+entraTID+`">
			<client-application-ids><application-id>`+entraClient+`</application-id></client-application-ids>
			<decryption-keys><key>`+base64.StdEncoding.EncodeToString(key)+`</key></decryption-keys>
		</validate-azure-ad-token>`))
	signed := jwtSign(t, jose.RS256, jwtTestKey, "k1", h.entraV2Claims(nil))
	if w := h.do(p, acReq{headers: bearer(jweWrap(t, signed, jose.DIRECT, key))}); w.Code != 200 {
		t.Fatalf("encrypted Entra token: %d %s", w.Code, w.Body)
	}
	other := make([]byte, 32)
	rand.Read(other)
	if w := h.do(p, acReq{headers: bearer(jweWrap(t, signed, jose.DIRECT, other))}); w.Code != 401 {
		t.Fatalf("a token for another key: %d", w.Code)
	}
}
