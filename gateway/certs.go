package gateway

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse/gatehouse/internal/config"
)

// loadCertificates reads the client certificates for
// authentication-certificate, keyed by id and by SHA-1 thumbprint
// (upper-case hex, as APIM shows them).
func loadCertificates(list []config.Certificate) (map[string]tls.Certificate, config.Errors) {
	out := make(map[string]tls.Certificate, 2*len(list))
	var errs config.Errors
	for _, c := range list {
		var (
			cert tls.Certificate
			err  error
		)
		if c.PFX.IsSet() {
			cert, err = decodePFX(c.PFX.Bytes, c.Password.Value)
		} else {
			cert, err = tls.X509KeyPair([]byte(c.Certificate.Value), []byte(c.Key.Value))
		}
		if err != nil {
			errs = append(errs, &config.Error{Pos: c.Pos, Msg: fmt.Sprintf("certificate %q: %v", c.ID, err)})
			continue
		}
		if cert.Leaf == nil {
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				errs = append(errs, &config.Error{Pos: c.Pos, Msg: fmt.Sprintf("certificate %q: %v", c.ID, err)})
				continue
			}
		}
		out[c.ID] = cert
		out[Thumbprint(cert.Leaf)] = cert
	}
	return out, errs
}

// Thumbprint is the SHA-1 of the certificate's DER, upper-case hex.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// decodePFX decodes a PKCS#12 file encrypted with either TripleDES-SHA1
// (APIM's and Windows' classic export) or PBES2/AES-256 (OpenSSL 3's
// default). The value may also be base64 (as an env: variable holds it).
func decodePFX(data []byte, password string) (tls.Certificate, error) {
	candidates := [][]byte{data}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
		candidates = append(candidates, b)
	}
	var firstErr error
	for _, b := range candidates {
		key, leaf, chain, err := pkcs12.DecodeChain(b, password)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		cert := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
		for _, ca := range chain {
			cert.Certificate = append(cert.Certificate, ca.Raw)
		}
		return cert, nil
	}
	if errors.Is(firstErr, pkcs12.ErrIncorrectPassword) {
		return tls.Certificate{}, errors.New("the PFX password is wrong")
	}
	if strings.Contains(firstErr.Error(), "error reading P12 data") {
		return tls.Certificate{}, errors.New("cannot read the PFX: the data is not a PKCS#12 file (give the file's bytes with file:, or base64 with env:)")
	}
	return tls.Certificate{}, fmt.Errorf("cannot read the PFX (PKCS#12) file: %v", firstErr)
}
