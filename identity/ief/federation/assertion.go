package federation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" // x5t is the certificate's SHA-1 thumbprint (RFC 7515 §4.1.7), not a security use
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// clientAssertion is private_key_jwt's client authentication (RFC 7523
// §2.2, OpenID Connect Core §9): a JWT signed with the profile's
// assertion_signing_key (a certificate policy key) — iss and sub the
// client id, aud the token endpoint, a one-time jti, five minutes' life —
// with the certificate's x5t so Entra ID and others find the key.
func (o Options) clientAssertion(ctx context.Context, c *journey.Call, tokenEndpoint string) (string, error) {
	ref := c.Profile.Keys["assertion_signing_key"]
	if ref == "" || o.Keys == nil {
		return "", fmt.Errorf("federation: %s: private_key_jwt needs CryptographicKeys <Key Id=\"assertion_signing_key\">", c.Profile.ID)
	}
	cert, err := o.Keys.Certificate(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("federation: %s: assertion_signing_key %s: %w", c.Profile.ID, ref, err)
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok || len(cert.Certificate) == 0 {
		return "", fmt.Errorf("federation: %s: assertion_signing_key %s has no private key", c.Profile.ID, ref)
	}
	var alg jose.SignatureAlgorithm
	switch signer.Public().(type) {
	case *rsa.PublicKey:
		alg = jose.RS256
	case *ecdsa.PublicKey:
		alg = jose.ES256
	default:
		return "", errors.New("federation: assertion_signing_key must be an RSA or EC key")
	}
	thumb := sha1.Sum(cert.Certificate[0])
	x5t := base64.RawURLEncoding.EncodeToString(thumb[:])
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signer},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t", x5t).WithHeader("kid", x5t))
	if err != nil {
		return "", err
	}
	now := o.Now()
	id := c.Profile.Metadata["client_id"]
	return jwt.Signed(js).Claims(map[string]any{"iss": id, "sub": id, "aud": tokenEndpoint, "jti": random(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
}
