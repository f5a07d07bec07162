package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func newTestCert(t *testing.T, cn string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func TestCertificates(t *testing.T) {
	dir := t.TempDir()
	type made struct {
		id   string
		cert *x509.Certificate
	}
	var all []made
	files := map[string][]byte{}
	for _, c := range []struct {
		id  string
		enc *pkcs12.Encoder
	}{{"des", pkcs12.LegacyDES}, {"aes", pkcs12.Modern2023}} {
		key, cert := newTestCert(t, c.id)
		pfx, err := c.enc.Encode(key, cert, nil, "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		files[c.id+".pfx"] = pfx
		all = append(all, made{c.id, cert})
	}
	key, cert := newTestCert(t, "pem")
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files["pem.crt"] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	files["pem.key"] = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	all = append(all, made{"pem", cert})
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key64, cert64 := newTestCert(t, "b64")
	pfx64, err := pkcs12.Modern2023.Encode(key64, cert64, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEWAY_TEST_PFX", base64.StdEncoding.EncodeToString(pfx64))
	all = append(all, made{"b64", cert64})

	cfg := loadConfig(t, dir, `
  certificates:
    - { id: des, pfx: file:des.pfx, password: s3cret }
    - { id: aes, pfx: file:aes.pfx, password: s3cret }
    - { id: pem, certificate: file:pem.crt, key: file:pem.key }
    - { id: b64, pfx: env:GATEWAY_TEST_PFX, password: pw }
`, nil)
	gw, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	certs := gw.cur.Load().env.Certificates
	for _, m := range all {
		byID, ok := certs[m.id]
		if !ok || !byID.Leaf.Equal(m.cert) || byID.PrivateKey == nil {
			t.Errorf("certificate %q not loaded by id", m.id)
		}
		tp := Thumbprint(m.cert)
		if tp != strings.ToUpper(tp) || len(tp) != 40 {
			t.Errorf("thumbprint %q", tp)
		}
		if byTP, ok := certs[tp]; !ok || !byTP.Leaf.Equal(m.cert) {
			t.Errorf("certificate %q not loaded by thumbprint %s", m.id, tp)
		}
	}
}

func TestCertificateErrors(t *testing.T) {
	dir := t.TempDir()
	key, cert := newTestCert(t, "x")
	pfx, err := pkcs12.Modern2023.Encode(key, cert, nil, "right")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"x.pfx": string(pfx), "junk.pfx": "not a pfx"})
	cfg := loadConfig(t, dir, `
  certificates:
    - { id: wrong-password, pfx: file:x.pfx, password: wrong }
    - { id: junk, pfx: file:junk.pfx, password: x }
`, nil)
	_, err = New(cfg, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	text := err.Error()
	for _, want := range []string{`certificate "wrong-password": the PFX password is wrong`, `certificate "junk": cannot read the PFX`, "gatehouse.yaml:5:7: ", "gatehouse.yaml:6:7: "} {
		if !strings.Contains(text, want) {
			t.Errorf("error lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "right") {
		t.Error("error shows a password")
	}
}

func TestAuthenticationCertificateUsesLoadedCertificates(t *testing.T) {
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "none"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = w.Write([]byte(cn))
	}))
	be.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	be.StartTLS()
	defer be.Close()

	dir := t.TempDir()
	key, cert := newTestCert(t, "client-by-thumbprint")
	pfx, err := pkcs12.LegacyDES.Encode(key, cert, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"c.pfx":    string(pfx),
		"api.xml":  `<policies><inbound><base/><authentication-certificate thumbprint="` + Thumbprint(cert) + `" /></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
		"byid.xml": `<policies><inbound><base/><authentication-certificate certificate-id="client" /></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
	})
	cfg := loadConfig(t, dir, `
  certificates:
    - { id: client, pfx: file:c.pfx, password: pw }
  apis:
    - { name: tp, path: tp, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
    - { name: id, path: id, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: byid.xml }
`, nil)
	_, srv := start(t, cfg, Options{Transport: be.Client().Transport})
	for _, p := range []string{"/tp/x", "/id/x"} {
		if r := get(t, srv.URL+p); r.status != 200 || r.body != "client-by-thumbprint" {
			t.Errorf("%s: backend saw client certificate %d %q", p, r.status, r.body)
		}
	}
}
