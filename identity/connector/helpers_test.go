package connector

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
)

// pki is a CA made for the test, with a server certificate for 127.0.0.1.
type pki struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	return p
}

var serial int64 = 100

func (p *pki) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (p *pki) transport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 16}
}

// resolver is a small in-test keys.Resolver.
type resolver struct {
	mu      sync.Mutex
	secrets map[string]string
	certs   map[string]*tls.Certificate
}

func (r *resolver) Secret(_ context.Context, c string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.secrets[c]
	if !ok {
		return nil, keys.ErrNoContainer
	}
	return []byte(s), nil
}

func (r *resolver) Certificate(_ context.Context, c string) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cert, ok := r.certs[c]
	if !ok {
		return nil, keys.ErrNoContainer
	}
	return cert, nil
}

func (r *resolver) setCert(c string, cert tls.Certificate) {
	r.mu.Lock()
	r.certs[c] = &cert
	r.mu.Unlock()
}

// seen is what the API received.
type seen struct {
	Header http.Header
	CN     string // client certificate subject CN ("" = none)
	Body   map[string]any
}

type api struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(n int, w http.ResponseWriter, r *http.Request) // n: 1-based request count
}

// newAPI starts an HTTPS API; clientAuth is the TLS client-certificate
// policy (RequireAndVerifyClientCert for certificate tests).
func newAPI(t *testing.T, p *pki, clientAuth tls.ClientAuthType, reply func(n int, w http.ResponseWriter, r *http.Request)) *api {
	a := &api{reply: reply}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Header: r.Header.Clone()}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			s.CN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &s.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		a.mu.Lock()
		a.reqs = append(a.reqs, s)
		n := len(a.reqs)
		a.mu.Unlock()
		if a.reply == nil {
			writeJSON(w, 200, `{"version":"1.0.0","action":"Continue"}`)
			return
		}
		a.reply(n, w, r)
	}))
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: clientAuth, ClientCAs: p.pool,
		MinVersion: tls.VersionTLS12}
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) count() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.reqs) }
func (a *api) last() seen { a.mu.Lock(); defer a.mu.Unlock(); return a.reqs[len(a.reqs)-1] }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const appID = "b2c-ext-0000-1111-2222-333344445555"

// fixture builds Connectors for one connector and a flow using it at step.
type fixture struct {
	cs      *Connectors
	flow    *tenant.Flow
	log     *syncBuffer
	mu      sync.Mutex
	entries []Entry
}

func (f *fixture) audits() []Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Entry(nil), f.entries...)
}

func newFixture(t *testing.T, p *pki, cfg config.APIConnector, step string, o Options) *fixture {
	t.Helper()
	f := &fixture{log: &syncBuffer{}}
	o.Transport = p.transport()
	o.ExtensionsAppID = appID
	if o.DeploymentMode == "" {
		o.DeploymentMode = Production
	}
	o.Logger = slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Audit = func(e Entry) { f.mu.Lock(); f.entries = append(f.entries, e); f.mu.Unlock() }
	cs, err := New([]config.APIConnector{cfg}, o)
	if err != nil {
		t.Fatal(err)
	}
	f.cs = cs
	f.flow = &tenant.Flow{Name: "B2C_1_susi", Type: "signUpOrSignIn",
		Attributes:    []string{"displayName", "city", "postalCode", "extension_loyalty"},
		Claims:        []string{"displayName", "emails", "objectId", "extension_role"},
		APIConnectors: map[string]string{step: cfg.Name}}
	return f
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
