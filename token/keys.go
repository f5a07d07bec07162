package token

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// parseStaticKey turns a configured Key into a verification key.
func parseStaticKey(k Key) (*verKey, error) {
	forms := 0
	if len(k.Symmetric) > 0 {
		forms++
	}
	if k.N != "" || k.E != "" {
		forms++
	}
	if len(k.Certificate) > 0 {
		forms++
	}
	if forms != 1 {
		return nil, errors.New("exactly one of a symmetric key, n/e or a certificate must be set")
	}
	var pub any
	switch {
	case len(k.Symmetric) > 0:
		if len(k.Symmetric) < minHMACKeyBytes {
			return nil, fmt.Errorf("symmetric key of %d bytes is shorter than the %d bytes HS256 requires", len(k.Symmetric), minHMACKeyBytes)
		}
		pub = append([]byte(nil), k.Symmetric...)
	case k.N != "" || k.E != "":
		rk, err := rsaFromNE(k.N, k.E)
		if err != nil {
			return nil, err
		}
		pub = rk
	default:
		p, err := publicKeyFromCertificate(k.Certificate)
		if err != nil {
			return nil, err
		}
		pub = p
	}
	algs, err := algorithmsFor(pub)
	if err != nil {
		return nil, err
	}
	return &verKey{kid: k.ID, key: pub, algs: algs}, nil
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func rsaFromNE(n, e string) (*rsa.PublicKey, error) {
	nb, err := decodeB64URL(n)
	if err != nil || len(nb) == 0 {
		return nil, errors.New("RSA modulus n is not base64url")
	}
	eb, err := decodeB64URL(e)
	if err != nil || len(eb) == 0 {
		return nil, errors.New("RSA exponent e is not base64url")
	}
	ei := new(big.Int).SetBytes(eb)
	if !ei.IsInt64() || ei.Int64() < 3 || ei.Int64() > 1<<31-1 || ei.Bit(0) == 0 {
		return nil, errors.New("RSA exponent e is invalid")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(ei.Int64())}, nil
}

// publicKeyFromCertificate accepts a PEM or DER certificate, or a PEM
// "PUBLIC KEY" (PKIX).
func publicKeyFromCertificate(b []byte) (any, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		switch blk.Type {
		case "CERTIFICATE":
			der = blk.Bytes
		case "PUBLIC KEY":
			p, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("public key: %w", err)
			}
			return p, nil
		default:
			return nil, fmt.Errorf("unsupported PEM block %q", blk.Type)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return cert.PublicKey, nil
}

// keySet is one parsed JWKS with the issuer of its openid configuration.
type keySet struct {
	issuer string
	keys   []*verKey
}

func (s *keySet) hasKid(kid string) bool {
	for _, k := range s.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// jwkToKey converts one JWKS entry; it fails for keys that must be skipped
// (use=enc, symmetric keys, unsupported types or sizes, an "alg" that does
// not fit the key type).
func jwkToKey(j *jose.JSONWebKey) (*verKey, error) {
	if j.Use == "enc" {
		return nil, errors.New("encryption key")
	}
	var pub any
	switch k := j.Key.(type) {
	case []byte:
		return nil, errors.New("symmetric keys are never accepted from a JWKS")
	case crypto.Signer: // private keys published by mistake: use the public half
		pub = k.Public()
	default:
		pub = k
	}
	algs, err := algorithmsFor(pub)
	if err != nil {
		return nil, err
	}
	if j.Algorithm != "" {
		a := jose.SignatureAlgorithm(j.Algorithm)
		v := &verKey{algs: algs}
		if !v.allows(a) {
			return nil, fmt.Errorf("alg %s does not fit the key type", j.Algorithm)
		}
		algs = []jose.SignatureAlgorithm{a}
	}
	return &verKey{kid: j.KeyID, key: pub, algs: algs}, nil
}
