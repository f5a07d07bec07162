package devca

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestEnsureServesTrustedTLSAndIsReused(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	cert, pool, files, err := Ensure(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.URL) // https://127.0.0.1:port, verified against the dev CA
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// A second run keeps the same CA (browsers that trust it keep working).
	cert2, _, files2, err := Ensure(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if files2 != files || string(cert2.Certificate[1]) != string(cert.Certificate[1]) {
		t.Error("the CA was recreated on the second run")
	}
	// Near expiry the server certificate is renewed under the same CA.
	cert3, _, _, err := Ensure(dir, cert.Leaf.NotAfter.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(cert3.Certificate[0]) == string(cert.Certificate[0]) || string(cert3.Certificate[1]) != string(cert.Certificate[1]) {
		t.Error("server certificate not renewed under the same CA")
	}
	// An untrusting client refuses it: the CA is what makes it work.
	if _, err := http.Get(srv.URL); err == nil {
		t.Error("a client without the dev CA accepted the certificate")
	}
}
