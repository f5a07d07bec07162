// Package devca makes the local development certificate authority that
// `gatehouse dev` serves HTTPS with: MSAL.js refuses http authorities, so
// even a laptop demo needs TLS. The CA and a server certificate for
// 127.0.0.1, ::1 and localhost are created once in the data directory and
// reused on later runs, so a browser that trusts the CA keeps trusting it.
package devca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files are the paths of the CA certificate and the server key pair.
type Files struct {
	CACert     string // ca.pem: what a browser or client must trust
	CAKey      string
	ServerCert string
	ServerKey  string
}

// Paths returns where the files live in dir.
func Paths(dir string) Files {
	return Files{
		CACert:     filepath.Join(dir, "ca.pem"),
		CAKey:      filepath.Join(dir, "ca-key.pem"),
		ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey:  filepath.Join(dir, "server-key.pem"),
	}
}

// Ensure creates the CA and server certificate in dir unless they exist and
// the server certificate is valid for at least another day, then returns the
// server certificate and a pool holding the CA.
func Ensure(dir string, now time.Time) (tls.Certificate, *x509.CertPool, Files, error) {
	f := Paths(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, nil, f, err
	}
	caCert, caKey, err := loadPair(f.CACert, f.CAKey)
	if err != nil || now.After(caCert.NotAfter.Add(-24*time.Hour)) {
		if caCert, caKey, err = newCA(f, now); err != nil {
			return tls.Certificate{}, nil, f, err
		}
		os.Remove(f.ServerCert) // signed by the old CA
	}
	srv, srvKey, err := loadPair(f.ServerCert, f.ServerKey)
	if err != nil || now.After(srv.NotAfter.Add(-24*time.Hour)) || srv.CheckSignatureFrom(caCert) != nil {
		if srv, srvKey, err = newServer(f, caCert, caKey, now); err != nil {
			return tls.Certificate{}, nil, f, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{srv.Raw, caCert.Raw}, PrivateKey: srvKey, Leaf: srv}, pool, f, nil
}

func loadPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("devca: not PEM")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func newCA(f Files, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Gatehouse development CA " + host, Organization: []string{"Gatehouse dev"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Name constraints keep a leaked dev CA from vouching for real sites.
		PermittedDNSDomains: []string{"localhost"},
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
	}
	return writePair(f.CACert, f.CAKey, tmpl, tmpl, key, key)
}

func newServer(f Files, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		// Browsers reject leaf certificates valid for more than 398 days.
		NotAfter:    now.AddDate(0, 0, 390),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	return writePair(f.ServerCert, f.ServerKey, tmpl, ca, key, caKey)
}

func writePair(certFile, keyFile string, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("devca: %w", err)
	}
	return cert, key, nil
}
