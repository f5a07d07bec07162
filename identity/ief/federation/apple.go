package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AppleKey is a Sign in with Apple key (the .p8 file: an EC P-256 private
// key in PKCS#8 PEM).
type AppleKey struct {
	TeamID, KeyID, ClientID string
	key                     *ecdsa.PrivateKey
}

// ParseAppleKey reads a .p8 key.
func ParseAppleKey(teamID, keyID, clientID string, p8 []byte) (*AppleKey, error) {
	b, _ := pem.Decode(p8)
	if b == nil {
		return nil, errors.New("the Apple key is not PEM (the .p8 file from Apple's developer portal)")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, errors.New("the Apple key is not a PKCS#8 private key")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("the Apple key is not an EC P-256 key")
	}
	if teamID == "" || keyID == "" || clientID == "" {
		return nil, errors.New("sign in with Apple needs the team id, the key id and the client (service) id")
	}
	return &AppleKey{TeamID: teamID, KeyID: keyID, ClientID: clientID, key: ec}, nil
}

// ClientSecret is the client secret Apple requires: a JWT the app signs
// with its key (ES256, kid the key id; iss the team, sub the service id,
// aud Apple), valid for an hour — made fresh for each token request,
// where B2C's custom policies need one made by hand every six months.
func (k *AppleKey) ClientSecret(now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.key},
		(&jose.SignerOptions{}).WithHeader("kid", k.KeyID))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(map[string]any{"iss": k.TeamID, "sub": k.ClientID, "aud": "https://appleid.apple.com",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
}
