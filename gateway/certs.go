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
			cert, err = decodePFX(c.PFX.Value, c.Password.Value)
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
func decodePFX(data, password string) (tls.Certificate, error) {
	candidates := [][]byte{[]byte(data)}
	// file: values lose trailing CR/LF bytes; DER says how long it should be.
	candidates = append(candidates, restoreTrimmed([]byte(data))...)
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data)); err == nil {
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
	return tls.Certificate{}, fmt.Errorf("cannot read the PFX (PKCS#12) file: %v", firstErr)
}

// restoreTrimmed returns the candidates for a DER value whose trailing CR
// and LF bytes were trimmed (config trims them from file: values): when the
// outer length says 1 to 4 bytes are missing, every CR/LF combination.
func restoreTrimmed(b []byte) [][]byte {
	want, ok := derLen(b)
	missing := want - len(b)
	if !ok || missing < 1 || missing > 4 {
		return nil
	}
	var out [][]byte
	for mask := 0; mask < 1<<missing; mask++ {
		c := append([]byte(nil), b...)
		for i := 0; i < missing; i++ {
			if mask&(1<<i) != 0 {
				c = append(c, '\r')
			} else {
				c = append(c, '\n')
			}
		}
		out = append(out, c)
	}
	return out
}

// derLen is the total length a DER SEQUENCE announces in its header.
func derLen(b []byte) (int, bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, false
	}
	if b[1] < 0x80 {
		return 2 + int(b[1]), true
	}
	n := int(b[1] & 0x7f)
	if n == 0 || n > 4 || len(b) < 2+n {
		return 0, false
	}
	l := 0
	for _, c := range b[2 : 2+n] {
		l = l<<8 | int(c)
	}
	return 2 + n + l, true
}
