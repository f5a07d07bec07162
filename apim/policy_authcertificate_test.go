package apim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func tClientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestAuthenticationCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "none"
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = w.Write([]byte(cn))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	cert := tClientCert(t, "gateway-client")
	sum := sha1.Sum(cert.Certificate[0])
	env := &Env{Transport: srv.Client().Transport, Certificates: map[string]tls.Certificate{"client": cert}}
	be := &tBackend{Server: srv}
	for _, attr := range []string{`certificate-id="client"`, `thumbprint="` + hex.EncodeToString(sum[:]) + `"`} {
		p := tPipe(t, `<policies><inbound><base/><authentication-certificate `+attr+`/></inbound></policies>`)
		tExpect(t, tRun(t, p, be, tGet("/x"), env), 200, "gateway-client")
	}
	// Without the policy no certificate is presented.
	tExpect(t, tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil)), be, tGet("/x"), env), 200, "none")
	// Unknown certificate id: a policy error.
	p := tPipe(t, `<policies><inbound><base/><authentication-certificate certificate-id="nope"/></inbound></policies>`)
	x := tExec(t, be, tGet("/x"), env)
	p.Serve(newRecorder(), x)
	if x.Ctx.LastError == nil || x.Ctx.LastError.Source != "authentication-certificate" {
		t.Fatalf("%+v", x.Ctx.LastError)
	}
	tLoadErr(t, `<policies><inbound><authentication-certificate/></inbound></policies>`, "exactly one of certificate-id, thumbprint and body")
}
