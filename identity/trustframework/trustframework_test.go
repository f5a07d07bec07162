package trustframework

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
)

type fakeKeys struct {
	secrets map[string]string
	cert    *tls.Certificate
}

func (k *fakeKeys) Secret(_ context.Context, c string) ([]byte, error) {
	if v, ok := k.secrets[c]; ok {
		return []byte(v), nil
	}
	return nil, keys.ErrNoContainer
}

func (k *fakeKeys) Certificate(_ context.Context, c string) (*tls.Certificate, error) {
	if c == "B2C_1A_RestApiClientCertificate" {
		return k.cert, nil
	}
	return nil, keys.ErrNoContainer
}

type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
	PeerCN              string
}

type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
	// validate answers /api/validate
	validate func(w http.ResponseWriter)
}

func (s *server) last(path string) seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.reqs) - 1; i >= 0; i-- {
		if s.reqs[i].Path == path {
			return s.reqs[i]
		}
	}
	return seen{}
}

func clientCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gatehouse-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func newServer(t *testing.T, pool *x509.CertPool) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sn := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)}
		if len(r.TLS.PeerCertificates) > 0 {
			sn.PeerCN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, sn)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"tok-123"}`)
		case r.URL.Path == "/api/GetProfile":
			io.WriteString(w, `{"profile":{"name":{"first":"Emily"},"loyalty":[{"number":1234}],"mails":["a@x.com","b@x.com"]}}`)
		case r.URL.Path == "/api/validate":
			s.validate(w)
		default:
			io.WriteString(w, `{}`)
		}
	}))
	s.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// load copies the test policies with ServiceUrl pointing at the server.
func load(t *testing.T, srv *server, names ...string) (*Policies, error) {
	dir := t.TempDir()
	var paths []config.Path
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		if srv != nil {
			b = []byte(strings.ReplaceAll(string(b), "https://TESTSERVER", srv.URL))
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, config.Path{Raw: n, Abs: p})
	}
	return Load(paths)
}

func setup(t *testing.T) (*Policies, *server) {
	cert, pool := clientCert(t)
	srv := newServer(t, pool)
	p, err := load(t, srv, "TrustFrameworkExtensions.xml", "SignUpOrSignin.xml", "Other.xml")
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKeys{cert: cert, secrets: map[string]string{
		"B2C_1A_SecureRESTClientId": "client-id", "B2C_1A_SecureRESTClientSecret": "client-secret",
		"B2C_1A_RestApiUsername": "user", "B2C_1A_RestApiPassword": "pass",
		"B2C_1A_RestApiBearerToken": "static-token", "B2C_1A_RestApiKey": "fn-key"}}
	if err := p.Start(Options{Keys: k, Transport: srv.Client().Transport.(*http.Transport), Timeout: time.Second, MaxAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func basic(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

func TestJourneyAcquireTokenThenBearer(t *testing.T) {
	p, srv := setup(t)
	if f := p.Flow("b2c_1a_signup_signin"); f != "signUpOrSignIn" {
		t.Errorf("flow %q", f)
	}
	ctx := WithRequestInfo(context.Background(), RequestInfo{TenantObjectID: "tenant-guid"})
	out, err := p.RunJourneyAfterAuth(ctx, "B2C_1A_signup_signin", ClaimsBag{"objectId": "oid-1", "email": "e@x.com", "displayName": "Em"})
	if err != nil {
		t.Fatal(err)
	}
	tok := srv.last("/your-tenant-name.onmicrosoft.com/oauth2/v2.0/token")
	if tok.Method != "POST" || tok.Header.Get("Authorization") != basic("client-id", "client-secret") ||
		tok.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("token request: %+v", tok)
	}
	if tok.Body != "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" {
		t.Errorf("token form %q", tok.Body)
	}
	gp := srv.last("/api/GetProfile")
	if gp.Header.Get("Authorization") != "Bearer tok-123" || gp.Query != "code=your-code" || gp.Method != "POST" {
		t.Errorf("GetProfile request: %+v", gp)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(gp.Body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"objectId": "oid-1", "emailAddress": "e@x.com", "newUser": false}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body %v, want %v (bearerToken is not sent in the body)", body, want)
	}
	if out["bearerToken"] != "tok-123" || out["loyaltyNumber"] != int64(1234) || out["givenName"] != "Emily" ||
		out["surname"] != "Unknown" || !reflect.DeepEqual(out["otherMails"], []string{"a@x.com", "b@x.com"}) {
		t.Errorf("claims %v", out)
	}
	tc, err := p.TokenClaims(ctx, "B2C_1A_signup_signin", out)
	if err != nil {
		t.Fatal(err)
	}
	wantTC := map[string]any{"name": "Em", "given_name": "Emily", "family_name": "Unknown", "email": "e@x.com",
		"sub": "oid-1", "tid": "tenant-guid", "loyaltyNumber": int64(1234)}
	if !reflect.DeepEqual(tc, wantTC) {
		t.Errorf("token claims %v", tc)
	}
}

func TestAuthTypes(t *testing.T) {
	p, srv := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		id, header, value, cn string
	}{
		{"REST-GetProfile-Basic", "Authorization", basic("user", "pass"), ""},
		{"REST-GetProfile-StaticBearer", "Authorization", "Bearer static-token", ""},
		{"REST-GetProfile-ApiKey", "X-Functions-Key", "fn-key", ""},
		{"REST-GetProfile-Cert", "Authorization", "", "gatehouse-client"},
	} {
		if _, err := p.Run(ctx, c.id, ClaimsBag{"objectId": "o"}); err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		r := srv.last("/api/GetProfile")
		if r.Header.Get(c.header) != c.value || r.PeerCN != c.cn || r.Body != `{"objectId":"o"}` {
			t.Errorf("%s: %s=%q cert %q body %s", c.id, c.header, r.Header.Get(c.header), r.PeerCN, r.Body)
		}
	}
	// The bearer claim missing: AADB2C90194.
	_, err := p.Run(ctx, "REST-GetProfile", ClaimsBag{"objectId": "o"})
	var ue *UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90194" {
		t.Errorf("missing bearer: %v", err)
	}
}

func TestSendClaimsIn(t *testing.T) {
	p, srv := setup(t)
	ctx := WithRequestInfo(context.Background(), RequestInfo{ClientID: "app-1"})
	bag := ClaimsBag{"email": "a b@x.com", "objectId": "o/1", "newUser": true}
	run := func(id string) seen {
		t.Helper()
		if _, err := p.Run(ctx, id, bag); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.reqs[len(srv.reqs)-1]
	}
	if r := run("REST-Form"); r.Method != "POST" || r.Body != "client_id=app-1&email=a+b%40x.com&newUser=true" {
		t.Errorf("form: %+v", r)
	}
	if r := run("REST-Header"); r.Method != "GET" || r.Header.Get("X-Email") != "a b@x.com" || r.Body != "" {
		t.Errorf("header: %+v", r)
	}
	if r := run("REST-Query"); r.Method != "GET" || r.Query != "code=abc&email=a+b%40x.com" {
		t.Errorf("query: %+v", r)
	}
	if r := run("REST-Url"); r.Method != "GET" || r.Path != "/api/users/o/1" || r.Query != "mail=a+b%40x.com" {
		t.Errorf("url: %+v", r)
	}
}

func TestErrorContract(t *testing.T) {
	p, srv := setup(t)
	ctx := context.Background()
	for _, status := range []int{409, 400} {
		srv.validate = func(w http.ResponseWriter) {
			w.WriteHeader(status)
			io.WriteString(w, `{"version":"1.0.0","status":`+map[int]string{409: "409", 400: `"400"`}[status]+
				`,"code":"API12345","requestId":"req-1","userMessage":"Your loyalty number is wrong.","developerMessage":"dev","moreInfo":"https://x/y"}`)
		}
		_, err := p.Run(ctx, "REST-Validate", ClaimsBag{"email": "e@x.com"})
		var ue *UserError
		if !errors.As(err, &ue) {
			t.Fatalf("%d: %v", status, err)
		}
		if ue.Message != "Your loyalty number is wrong." || ue.Status != status || !ue.Debug ||
			ue.Details() != "code: API12345; requestId: req-1; developerMessage: dev; moreInfo: https://x/y" {
			t.Errorf("%d: %+v", status, ue)
		}
	}
	srv.validate = func(w http.ResponseWriter) { w.WriteHeader(500) }
	_, err := p.Run(ctx, "REST-Validate", ClaimsBag{"email": "e@x.com"})
	var ue *UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90075" || ue.Status != 500 {
		t.Errorf("500: %v", err)
	}
	srv.validate = func(w http.ResponseWriter) { time.Sleep(1500 * time.Millisecond) }
	_, err = p.Run(ctx, "REST-Validate", ClaimsBag{"email": "e@x.com"})
	if !errors.As(err, &ue) || ue.Message != "The service is slow, try again." {
		t.Errorf("timeout: %v", err)
	}
}

func TestValidationAndJourneyErrors(t *testing.T) {
	cert, pool := clientCert(t)
	_ = cert
	srv := newServer(t, pool)
	// GetProfile answers 409 through a wrapping handler.
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/GetProfile" {
			w.WriteHeader(409)
			io.WriteString(w, `{"version":"1.0.0","status":409,"userMessage":"Account blocked."}`)
			return
		}
		inner.ServeHTTP(w, r)
	})
	p, err := load(t, srv, "TrustFrameworkExtensions.xml", "SignUpOrSignin.xml")
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKeys{secrets: map[string]string{"B2C_1A_SecureRESTClientId": "id", "B2C_1A_SecureRESTClientSecret": "s"}}
	if err := p.Start(Options{Keys: k, Transport: srv.Client().Transport.(*http.Transport)}); err != nil {
		t.Fatal(err)
	}
	_, err = p.RunValidation(context.Background(), "LocalAccountSignUpWithLogonEmail", ClaimsBag{"email": "e@x.com"})
	var ue *UserError
	if !errors.As(err, &ue) || ue.Message != "Account blocked." || ue.Step != 0 || ue.ProfileID != "REST-GetProfile" {
		t.Fatalf("validation: %v", err)
	}
	_, err = p.RunJourneyAfterAuth(context.Background(), "B2C_1A_signup_signin", ClaimsBag{"objectId": "o"})
	if !errors.As(err, &ue) || ue.Step != 5 || ue.ExchangeID != "REST-GetProfile" {
		t.Fatalf("journey: %v", err)
	}
	want := "AADB2C90075: The claims exchange 'REST-GetProfile' specified in step '5' returned HTTP error response with Code 'Conflict' and Reason 'Account blocked.'."
	if ue.ErrorDescription() != want {
		t.Errorf("description %q", ue.ErrorDescription())
	}
}
