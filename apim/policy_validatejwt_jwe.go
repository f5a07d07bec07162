package apim

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// decryption-keys of validate-jwt and validate-azure-ad-token: an encrypted token (a JWE, five parts)
// is decrypted with one of the keys — a base64 symmetric key (direct
// encryption or AES key wrap) or the private key of a gateway certificate
// (RSA-OAEP, RSA-OAEP-256) — and the JWT inside is validated as any other
// (signed, when require-signed-tokens says so).

// jweKey is one decryption key.
type jweKey struct {
	sym    []byte
	certID string
}

var (
	jweKeyAlgs = []jose.KeyAlgorithm{jose.DIRECT, jose.A128KW, jose.A192KW, jose.A256KW, jose.A128GCMKW, jose.A256GCMKW,
		jose.RSA_OAEP, jose.RSA_OAEP_256}
	jweContentAlgs = []jose.ContentEncryption{jose.A128GCM, jose.A192GCM, jose.A256GCM, jose.A128CBC_HS256,
		jose.A192CBC_HS384, jose.A256CBC_HS512}
)

func compileDecryptionKeys(b *Builder, c *rawxml.Node, policy string) ([]jweKey, error) {
	if err := b.Attrs(c); err != nil {
		return nil, err
	}
	if err := b.Children(c, "key"); err != nil {
		return nil, err
	}
	if len(c.Children) == 0 {
		return nil, b.Errorf(c.Pos, "%s: decryption-keys needs at least one key", policy)
	}
	var keys []jweKey
	for _, kn := range c.Children {
		if err := b.Attrs(kn, "certificate-id"); err != nil {
			return nil, err
		}
		var k jweKey
		var err error
		if k.certID, err = acConstStr(b, kn, "certificate-id"); err != nil {
			return nil, err
		}
		text, err := b.Text(kn)
		if err != nil {
			return nil, err
		}
		if text.IsExpr() {
			return nil, b.Errorf(kn.Pos, "%s: key does not accept policy expressions", policy)
		}
		sym := strings.TrimSpace(text.Lit)
		if (sym == "") == (k.certID == "") {
			return nil, b.Errorf(kn.Pos, "%s: a decryption key is base64 text or a certificate-id", policy)
		}
		if sym != "" && !acUnresolved(sym) {
			if k.sym, err = jwtDecodeBase64(sym); err != nil {
				return nil, b.Errorf(kn.Pos, "%s: decryption key is not valid base64: %v", policy, err)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// decrypt returns the JWT inside an encrypted token, or raw itself when
// it is not a JWE.
func (p *jwtBase) decrypt(x *Exec, raw string) (string, error) {
	if strings.Count(raw, ".") != 4 {
		return raw, nil
	}
	if len(p.decryption) == 0 {
		return "", p.fail(x, "TokenDecryptionFailed", "The token is encrypted and the policy has no decryption-keys.")
	}
	jwe, err := jose.ParseEncryptedCompact(raw, jweKeyAlgs, jweContentAlgs)
	if err != nil {
		return "", p.fail(x, "TokenDecryptionFailed", "The encrypted token is malformed.")
	}
	for _, k := range p.decryption {
		var key any = k.sym
		if k.certID != "" {
			priv, err := jweCertificateKey(x.Env, k.certID)
			if err != nil {
				return "", err
			}
			key = priv
		}
		if key == nil {
			continue
		}
		if plain, err := jwe.Decrypt(key); err == nil {
			return strings.TrimSpace(string(plain)), nil
		}
	}
	return "", p.fail(x, "TokenDecryptionFailed", "The token could not be decrypted with the policy's decryption keys.")
}

// jweCertificateKey is the RSA private key of a gateway certificate.
func jweCertificateKey(env *Env, id string) (*rsa.PrivateKey, error) {
	if env != nil {
		if c, ok := env.Certificates[id]; ok {
			if k, ok := c.PrivateKey.(*rsa.PrivateKey); ok {
				return k, nil
			}
			return nil, fmt.Errorf("validate-jwt: decryption key certificate-id %q: not an RSA key", id)
		}
	}
	return nil, fmt.Errorf("validate-jwt: certificate-id %q: no such certificate is configured", id)
}
