package devstack

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
)

// devTransport trusts the development CA for the gateway's backend calls.
func devTransport(caFile string) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if pem, err := os.ReadFile(caFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	t.MaxIdleConnsPerHost = 256
	return t
}
