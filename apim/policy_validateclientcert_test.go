package apim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

func tCert(t *testing.T, cn string, serial int64, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, nb, na time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Contoso"}},
		NotBefore: nb, NotAfter: na, DNSNames: []string{cn + ".example"}, IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestValidateClientCertificate(t *testing.T) {
	now := time.Now()
	ca, caKey := tCert(t, "Test CA", 1, nil, nil, true, now.Add(-time.Hour), now.Add(time.Hour))
	leaf, _ := tCert(t, "client1", 0x2A, ca, caKey, false, now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := tCert(t, "old", 3, ca, caKey, false, now.Add(-2*time.Hour), now.Add(-time.Hour))
	stranger, _ := tCert(t, "client1", 4, nil, nil, false, now.Add(-time.Hour), now.Add(time.Hour))
	env := &Env{Certificates: map[string]tls.Certificate{"ca": {Certificate: [][]byte{ca.Raw}}}}
	be := newTBackend(t, nil)
	run := func(policy string, cert *x509.Certificate) (int, string) {
		t.Helper()
		p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), tDoc(t, ScopeAPI, `<policies><inbound><base/>`+policy+`</inbound>
<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>`, nil))
		r := tGet("/x")
		if cert != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		}
		w := tRun(t, p, be, r, env)
		return w.Code, w.Header().Get("X-Reason") + " " + w.Body.String()
	}
	base := `<validate-client-certificate validate-revocation="false"`
	for _, tc := range []struct {
		policy string
		cert   *x509.Certificate
		code   int
		reason string
	}{
		{base + `/>`, leaf, 200, ""},
		{base + `/>`, nil, 401, "ClientCertificateNotFound"},
		{base + `/>`, expired, 401, "ClientCertificateNotValid"},
		{base + ` validate-not-after="false"/>`, expired, 200, ""},
		{base + `/>`, stranger, 401, "ClientCertificateNotValid"},
		{base + ` validate-trust="false"/>`, stranger, 200, ""},
		{base + ` ignore-error="true"/>`, nil, 200, ""},
		{base + `><identities><identity thumbprint="` + strings.ToLower(certThumbprint(leaf.Raw)) + `"/></identities></validate-client-certificate>`, leaf, 200, ""},
		{base + `><identities><identity common-name="someone-else"/><identity serial-number="2a" dns-name="CLIENT1.example" subject="CN=client1, O=Contoso" issuer-subject="CN=Test CA, O=Contoso" issuer-thumbprint="` + certThumbprint(ca.Raw) + `" issuer-certificate-id="ca"/></identities></validate-client-certificate>`, leaf, 200, ""},
		{base + `><identities><identity common-name="client1" issuer-certificate-id="ca"/></identities></validate-client-certificate>`, stranger, 401, "ClientCertificateNotValid"},
		{base + ` validate-trust="false"><identities><identity common-name="client1" issuer-certificate-id="ca"/></identities></validate-client-certificate>`, stranger, 401, "ClientCertificateNotAllowed"},
	} {
		code, body := run(tc.policy, tc.cert)
		if code != tc.code || (tc.reason != "" && !strings.HasPrefix(body, tc.reason+" ")) {
			t.Errorf("%s: %d %s", tc.policy, code, body)
		}
		if code == 401 && !strings.Contains(body, `"message":"Invalid client certificate."`) {
			t.Errorf("body %s", body)
		}
	}
	_ = http.StatusOK
}

func TestValidateClientCertificateLoad(t *testing.T) {
	tLoadErr(t, `<policies><inbound><validate-client-certificate /></inbound></policies>`, "validate-revocation (default true) is not supported")
	tLoadErr(t, `<policies><inbound><validate-client-certificate validate-revocation="true" /></inbound></policies>`, "not supported")
	tLoadErr(t, `<policies><inbound><validate-client-certificate validate-revocation="false" validate-trust="@(true)" /></inbound></policies>`, "does not accept expressions")
	tLoadErr(t, `<policies><inbound><validate-client-certificate validate-revocation="false" x="1" /></inbound></policies>`, `unknown attribute "x"`)
	tLoadErr(t, `<policies><inbound><validate-client-certificate validate-revocation="false"><identities><identity cn="a"/></identities></validate-client-certificate></inbound></policies>`, `unknown attribute "cn"`)
	tLoadErr(t, `<policies><inbound><validate-client-certificate validate-revocation="false"><identities><identity/></identities></validate-client-certificate></inbound></policies>`, `at least one attribute`)
	if _, err := ParseDocument("t.xml", []byte(`<policies><inbound><validate-client-certificate /></inbound></policies>`), ScopeAPI, &LoadOptions{Lenient: true}); err != nil {
		t.Fatal(err)
	}
}
