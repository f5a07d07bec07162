package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
)

const stepPAC = "postAttributeCollection" // the config's spelling

func signupClaims() map[string]any {
	return map[string]any{"email": "alice@example.com", "displayName": "Alice", "city": "Oslo", "surname": "",
		"extension_loyalty": "7", "givenName": nil, "client_id": "app-1", "ui_locales": "nb-NO",
		"identities": []store.Identity{{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "alice@example.com"}},
		"step":       "ignored"}
}

func TestAuthTypes(t *testing.T) {
	p := newPKI(t)
	a := newAPI(t, p, tls.VerifyClientCertIfGiven, nil)
	res := &resolver{secrets: map[string]string{"B2C_1A_User": "svc", "B2C_1A_Pass": "p@ss:word",
		"B2C_1A_Bearer": "static-token", "B2C_1A_ApiKey": "k-123"}, certs: map[string]*tls.Certificate{}}
	res.setCert("B2C_1A_Cert", p.issue(t, "gatehouse-client-1", x509.ExtKeyUsageClientAuth))
	cases := []struct {
		cfg   config.APIConnector
		check func(s seen) error
	}{
		{config.APIConnector{AuthenticationType: "basic", Username: "User", Password: "B2C_1A_Pass"}, func(s seen) error {
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:p@ss:word"))
			if s.Header.Get("Authorization") != want || s.CN != "" {
				return fmt.Errorf("basic: %q cn=%q", s.Header.Get("Authorization"), s.CN)
			}
			return nil
		}},
		{config.APIConnector{AuthenticationType: "certificate", Certificate: "Cert"}, func(s seen) error {
			if s.CN != "gatehouse-client-1" || s.Header.Get("Authorization") != "" {
				return fmt.Errorf("certificate: cn=%q", s.CN)
			}
			return nil
		}},
		{config.APIConnector{AuthenticationType: "bearer", BearerToken: "B2C_1A_Bearer"}, func(s seen) error {
			if s.Header.Get("Authorization") != "Bearer static-token" {
				return fmt.Errorf("bearer: %q", s.Header.Get("Authorization"))
			}
			return nil
		}},
		{config.APIConnector{AuthenticationType: "apiKeyHeader", APIKeyHeader: &config.APIKeyHeader{Name: "x-functions-key", Key: "ApiKey"}}, func(s seen) error {
			if s.Header.Get("X-Functions-Key") != "k-123" || s.Header.Get("Authorization") != "" {
				return fmt.Errorf("api key: %v", s.Header)
			}
			return nil
		}},
		{config.APIConnector{AuthenticationType: "none", AllowInsecureAuthInProduction: true}, func(s seen) error {
			if s.Header.Get("Authorization") != "" || s.CN != "" || s.Header.Get("X-Functions-Key") != "" {
				return fmt.Errorf("none sent credentials: %v cn=%q", s.Header, s.CN)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.cfg.AuthenticationType, func(t *testing.T) {
			tc.cfg.Name = "c-" + tc.cfg.AuthenticationType
			tc.cfg.EndpointURL = a.srv.URL + "/validate?code=url-secret"
			f := newFixture(t, p, tc.cfg, stepPAC, Options{Keys: res})
			out, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims())
			if err != nil || out.Action != userflow.Continue {
				t.Fatalf("call: %v %+v", err, out)
			}
			if err := tc.check(a.last()); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"p@ss", "static-token", "k-123", "url-secret", "alice@example.com", "Oslo"} {
				if strings.Contains(f.log.String(), secret) {
					t.Fatalf("log holds %q:\n%s", secret, f.log.String())
				}
			}
		})
	}
}

func TestRequestBody(t *testing.T) {
	p := newPKI(t)
	a := newAPI(t, p, tls.NoClientCert, nil)
	f := newFixture(t, p, config.APIConnector{Name: "v", EndpointURL: a.srv.URL, AuthenticationType: "none",
		AllowInsecureAuthInProduction: true}, stepPAC, Options{})
	if _, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims()); err != nil {
		t.Fatal(err)
	}
	s := a.last()
	want := map[string]any{"email": "alice@example.com", "displayName": "Alice", "city": "Oslo",
		"extension_b2cext000011112222333344445555_loyalty": "7", "client_id": "app-1", "ui_locales": "nb-NO",
		"step":       "PostAttributeCollection",
		"identities": []any{map[string]any{"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": "alice@example.com"}}}
	if !reflect.DeepEqual(s.Body, want) {
		t.Fatalf("body:\n got %v\nwant %v", s.Body, want)
	}
	if ct := s.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	// Step spellings.
	for step, wire := range map[string]string{"preTokenIssuance": "PreTokenIssuance", "PostFederationSignup": "PostFederationSignup"} {
		f.flow.APIConnectors = map[string]string{step: "v"}
		if _, err := f.cs.Call(context.Background(), wire, f.flow, map[string]any{"email": "a@b.c"}); err != nil {
			t.Fatal(err)
		}
		if got := a.last().Body["step"]; got != wire {
			t.Fatalf("step %v, want %s", got, wire)
		}
	}
	// No connector on the step: no call.
	n := a.count()
	out, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, nil)
	if err != nil || out.Action != userflow.Continue || a.count() != n {
		t.Fatal("a step without connector called the API")
	}
}

func TestResponses(t *testing.T) {
	p := newPKI(t)
	var reply atomic.Value // [2]any{status, body}
	a := newAPI(t, p, tls.NoClientCert, func(_ int, w http.ResponseWriter, _ *http.Request) {
		r := reply.Load().([2]any)
		writeJSON(w, r[0].(int), r[1].(string))
	})
	f := newFixture(t, p, config.APIConnector{Name: "v", EndpointURL: a.srv.URL, AuthenticationType: "none",
		AllowInsecureAuthInProduction: true}, stepPAC, Options{MaxAttempts: 1})
	call := func(step string, status int, body string) (userflow.Outcome, error) {
		reply.Store([2]any{status, body})
		f.flow.APIConnectors = map[string]string{step: "v"}
		return f.cs.Call(context.Background(), step, f.flow, map[string]any{"email": "a@example.com"})
	}
	pac, tok := tenant.StepPostAttributeCollection, tenant.StepPreTokenIssuance
	ok := []struct {
		step   string
		status int
		body   string
		want   userflow.Outcome
	}{
		{pac, 200, `{"version":"1.0.0","action":"Continue","postalCode":"12349","city":null,"email":"x@evil","jobTitle":"x",
			"extension_b2cext000011112222333344445555_loyalty":42,"userMessage":"ignored"}`,
			userflow.Outcome{Action: userflow.Continue, Claims: map[string]any{"postalCode": "12349", "extension_loyalty": "42"}}},
		{pac, 200, `{"version":"1.0.0","action":"Continue","extension_loyalty":"gold","displayName":"Al"}`,
			userflow.Outcome{Action: userflow.Continue, Claims: map[string]any{"extension_loyalty": "gold", "displayName": "Al"}}},
		{pac, 200, `{"version":"1.0.0","action":"ShowBlockPage","userMessage":"Sign-ups are closed."}`,
			userflow.Outcome{Action: userflow.ShowBlockPage, Message: "Sign-ups are closed."}},
		{pac, 400, `{"version":"1.0.0","status":400,"action":"ValidationError","userMessage":"Please enter a valid Postal Code."}`,
			userflow.Outcome{Action: userflow.ValidationError, Message: "Please enter a valid Postal Code."}},
		{pac, 400, `{"version":"1.0.0","status":"400","action":"ValidationError","userMessage":"Bad."}`,
			userflow.Outcome{Action: userflow.ValidationError, Message: "Bad."}},
		{tok, 200, `{"version":"1.0.0","action":"Continue","extension_role":"admin","objectId":"x","displayName":"T","city":"c"}`,
			userflow.Outcome{Action: userflow.Continue, Claims: map[string]any{"extension_role": "admin", "displayName": "T"}}},
	}
	for i, c := range ok {
		out, err := call(c.step, c.status, c.body)
		if err != nil || !reflect.DeepEqual(out, c.want) {
			t.Fatalf("case %d: %v\n got %+v\nwant %+v", i, err, out, c.want)
		}
	}
	bad := []struct {
		step   string
		status int
		body   string
		kind   ErrorKind
	}{
		{pac, 400, `{"version":"1.0.0","action":"ValidationError","userMessage":"no status"}`, KindMalformed},
		{pac, 400, `{"version":"1.0.0","status":409,"action":"ValidationError","userMessage":"m"}`, KindMalformed},
		{pac, 400, `{"error":"bad request"}`, KindStatus},
		{pac, 200, `{"version":"1.0.0","status":400,"action":"ValidationError","userMessage":"m"}`, KindMalformed},
		{pac, 400, `{"version":"1.0.0","status":400,"action":"ValidationError"}`, KindMalformed},
		{pac, 200, `{"version":"1.0.0"}`, KindMalformed},
		{pac, 200, `{"version":"1.0.0","action":"Explode"}`, KindMalformed},
		{pac, 200, `[1,2]`, KindMalformed},
		{pac, 200, ``, KindMalformed},
		{pac, 401, `{}`, KindStatus},
		{pac, 302, `{}`, KindStatus},
		{tok, 200, `{"version":"1.0.0","action":"ShowBlockPage","userMessage":"m"}`, KindMalformed},
		{tok, 400, `{"version":"1.0.0","status":400,"action":"ValidationError","userMessage":"m"}`, KindMalformed},
		{tenant.StepPostFederationSignup, 400, `{"version":"1.0.0","status":400,"action":"ValidationError","userMessage":"m"}`, KindMalformed},
	}
	for i, c := range bad {
		out, err := call(c.step, c.status, c.body)
		var ce *Error
		if !errors.As(err, &ce) || ce.Kind != c.kind || out.Action != userflow.Continue || out.Claims != nil {
			t.Fatalf("bad case %d: %v (%+v), want kind %s", i, err, out, c.kind)
		}
	}
	es := f.audits()
	if len(es) != len(ok)+len(bad) {
		t.Fatalf("%d audit entries", len(es))
	}
	if e := es[3]; e.Outcome != OutcomeValidationError || e.Status != 400 || e.Attempts != 1 || e.Connector != "v" || e.Step != pac {
		t.Fatalf("audit: %+v", e)
	}
	if e := es[len(ok)]; e.Outcome != OutcomeFailed || e.Reason == "" || e.Status != 400 {
		t.Fatalf("audit of a failure: %+v", e)
	}
	if n := strings.Count(f.log.String(), `msg="api connector call"`); n != len(ok)+len(bad) {
		t.Fatalf("%d audit log lines", n)
	}
	if strings.Contains(f.log.String(), "12349") || strings.Contains(f.log.String(), "a@example.com") {
		t.Fatal("claim values logged")
	}
}

func TestCertificateRollover(t *testing.T) {
	p := newPKI(t)
	a := newAPI(t, p, tls.RequireAndVerifyClientCert, nil)
	res := &resolver{certs: map[string]*tls.Certificate{}}
	res.setCert("B2C_1A_Cert", p.issue(t, "client-old", x509.ExtKeyUsageClientAuth))
	f := newFixture(t, p, config.APIConnector{Name: "c", EndpointURL: a.srv.URL, AuthenticationType: "certificate",
		Certificate: "B2C_1A_Cert"}, stepPAC, Options{Keys: res})
	call := func() {
		t.Helper()
		if _, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims()); err != nil {
			t.Fatal(err)
		}
	}
	call()
	call() // keep-alive
	if a.last().CN != "client-old" {
		t.Fatalf("cn %q", a.last().CN)
	}
	res.setCert("B2C_1A_Cert", p.issue(t, "client-new", x509.ExtKeyUsageClientAuth))
	call()
	if a.last().CN != "client-new" {
		t.Fatalf("after rollover the API saw %q", a.last().CN)
	}
	// A certificate the API does not trust fails the handshake: a clear
	// error, no retry loop beyond one.
	other := newPKI(t)
	res.setCert("B2C_1A_Cert", other.issue(t, "stranger", x509.ExtKeyUsageClientAuth))
	_, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims())
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != KindUnreachable {
		t.Fatalf("untrusted certificate: %v", err)
	}
	// No active certificate.
	delete(res.certs, "B2C_1A_Cert")
	_, err = f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims())
	if !errors.As(err, &ce) || ce.Kind != KindCredentials {
		t.Fatalf("missing certificate: %v", err)
	}
}

func TestClientCredentials(t *testing.T) {
	p := newPKI(t)
	var fetches atomic.Int32
	var tokenErr atomic.Bool
	tokSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetches.Add(1)
		id, secret, _ := r.BasicAuth()
		_ = r.ParseForm()
		if id != "gatehouse-connector" || secret != "cc-secret" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "https://contoso.onmicrosoft.com/api/.default" {
			writeJSON(w, 401, `{"error":"invalid_client"}`)
			return
		}
		if tokenErr.Load() {
			writeJSON(w, 400, `{"error":"invalid_scope","error_description":"secret stuff"}`)
			return
		}
		time.Sleep(50 * time.Millisecond) // let the callers pile up
		writeJSON(w, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n))
	}))
	tokSrv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
	tokSrv.StartTLS()
	t.Cleanup(tokSrv.Close)

	a := newAPI(t, p, tls.NoClientCert, nil)
	res := &resolver{secrets: map[string]string{"B2C_1A_CCSecret": "cc-secret"}}
	clk := &clock{t: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, p, config.APIConnector{Name: "b", EndpointURL: a.srv.URL, AuthenticationType: "bearer"}, stepPAC,
		Options{Keys: res, Now: clk.Now, ClientCredentials: map[string]ClientCredentials{"b": {TokenURL: tokSrv.URL + "/token",
			ClientID: "gatehouse-connector", ClientSecret: "CCSecret", Scopes: []string{"https://contoso.onmicrosoft.com/api/.default"}}}})
	call := func() error {
		_, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims())
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() { errs <- call() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("50 concurrent calls made %d token requests", n)
	}
	if a.count() != 50 || a.last().Header.Get("Authorization") != "Bearer tok-1" {
		t.Fatalf("api saw %d calls, %q", a.count(), a.last().Header.Get("Authorization"))
	}
	clk.Advance(3600*time.Second - 61*time.Second)
	if err := call(); err != nil || fetches.Load() != 1 {
		t.Fatalf("token re-acquired too early: %v %d", err, fetches.Load())
	}
	clk.Advance(2 * time.Second) // within 60 s of expiry
	if err := call(); err != nil || fetches.Load() != 2 || a.last().Header.Get("Authorization") != "Bearer tok-2" {
		t.Fatalf("token not re-acquired: %v %d %q", err, fetches.Load(), a.last().Header.Get("Authorization"))
	}
	// A token endpoint error is a credentials failure that does not quote
	// the endpoint's body.
	clk.Advance(2 * time.Hour)
	tokenErr.Store(true)
	err := call()
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != KindCredentials || strings.Contains(err.Error(), "secret stuff") || !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("token endpoint failure: %v", err)
	}
	if strings.Contains(f.log.String(), "tok-") || strings.Contains(f.log.String(), "cc-secret") {
		t.Fatal("token or secret logged")
	}
}

func TestTimeoutAndRetry(t *testing.T) {
	p := newPKI(t)
	release := make(chan struct{})
	a := newAPI(t, p, tls.NoClientCert, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/flaky":
			if n%2 == 1 {
				writeJSON(w, 503, `<html>busy</html>`)
				return
			}
			writeJSON(w, 200, `{"version":"1.0.0","action":"Continue","city":"Bergen"}`)
		case "/down":
			writeJSON(w, 500, `{}`)
		case "/garbage":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>hello</html>"))
		case "/huge":
			writeJSON(w, 200, `{"version":"1.0.0","action":"Continue","x":"`+strings.Repeat("a", 100<<10)+`"}`)
		}
	})
	t.Cleanup(func() { close(release) }) // runs before a.srv.Close
	mk := func(path string) *fixture {
		return newFixture(t, p, config.APIConnector{Name: "t", EndpointURL: a.srv.URL + path, AuthenticationType: "none",
			AllowInsecureAuthInProduction: true}, stepPAC, Options{Timeout: 200 * time.Millisecond})
	}
	run := func(f *fixture) (userflow.Outcome, *Error) {
		out, err := f.cs.Call(context.Background(), tenant.StepPostAttributeCollection, f.flow, signupClaims())
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error type %T", err)
		}
		return out, ce
	}

	start := time.Now()
	f := mk("/slow")
	_, ce := run(f)
	if ce == nil || ce.Kind != KindTimeout || ce.Attempts != 2 {
		t.Fatalf("slow API: %v", ce)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if e := f.audits()[0]; e.Outcome != OutcomeFailed || e.Attempts != 2 || e.Status != 0 || !strings.Contains(e.Reason, "timeout") {
		t.Fatalf("audit: %+v", e)
	}

	n := a.count()
	f = mk("/flaky")
	out, ce := run(f)
	if ce != nil || out.Claims["city"] != "Bergen" || a.count() != n+2 {
		t.Fatalf("retry: %v %+v", ce, out)
	}
	if e := f.audits()[0]; e.Attempts != 2 || e.Status != 200 || e.Outcome != OutcomeContinue {
		t.Fatalf("audit: %+v", e)
	}

	n = a.count()
	if _, ce = run(mk("/down")); ce == nil || ce.Kind != KindStatus || ce.Status != 500 || a.count() != n+2 {
		t.Fatalf("5xx twice: %v", ce)
	}
	n = a.count()
	if _, ce = run(mk("/garbage")); ce == nil || ce.Kind != KindMalformed || a.count() != n+1 {
		t.Fatalf("invalid JSON: %v (calls %d)", ce, a.count()-n)
	}
	if _, ce = run(mk("/huge")); ce == nil || ce.Kind != KindTooLarge {
		t.Fatalf("oversize: %v", ce)
	}
}

func TestConfigValidation(t *testing.T) {
	pos := config.Pos{File: "gatehouse.yaml", Line: 12, Col: 7}
	cfg := func(c config.APIConnector) config.APIConnector { c.Pos = pos; return c }
	res := &resolver{}
	bad := []struct {
		mode string
		c    config.APIConnector
		msg  string
	}{
		{Production, cfg(config.APIConnector{Name: "a", EndpointURL: "http://api.example/x", AuthenticationType: "basic", Username: "U", Password: "P"}), "http://"},
		{Production, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "none"}), "allowInsecureAuthInProduction"},
		{"", cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "none"}), "allowInsecureAuthInProduction"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "digest"}), `authenticationType "digest"`},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "basic", Username: "U"}), "username and password"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "certificate"}), "certificate"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "http://api.example/x", AuthenticationType: "certificate", Certificate: "C"}), "https"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "bearer"}), "bearerToken"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "apiKeyHeader"}), "apiKeyHeader"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "https://api.example/x", AuthenticationType: "apiKeyHeader", APIKeyHeader: &config.APIKeyHeader{Name: "bad header", Key: "K"}}), "header name"},
		{Development, cfg(config.APIConnector{Name: "a", EndpointURL: "ftp://api.example/x?code=s3cret", AuthenticationType: "none"}), "endpointUrl"},
	}
	for i, b := range bad {
		_, err := New([]config.APIConnector{b.c}, Options{Keys: res, DeploymentMode: b.mode, Logger: discard()})
		var ces config.Errors
		if !errors.As(err, &ces) || len(ces) != 1 || ces[0].Pos != pos || !strings.Contains(ces[0].Msg, b.msg) || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("case %d: %v", i, err)
		}
	}
	if _, err := New([]config.APIConnector{cfg(config.APIConnector{Name: "a", EndpointURL: "https://x/", AuthenticationType: "none", AllowInsecureAuthInProduction: true}),
		cfg(config.APIConnector{Name: "a", EndpointURL: "https://x/", AuthenticationType: "none", AllowInsecureAuthInProduction: true})},
		Options{Logger: discard()}); err == nil || !strings.Contains(err.Error(), "another API connector") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := New(nil, Options{ClientCredentials: map[string]ClientCredentials{"ghost": {}}}); err == nil {
		t.Fatal("client credentials for an unknown connector accepted")
	}

	// Development: allowed, one warning per connector.
	log := &syncBuffer{}
	_, err := New([]config.APIConnector{
		cfg(config.APIConnector{Name: "dev1", EndpointURL: "http://127.0.0.1:9/x", AuthenticationType: "none"}),
		cfg(config.APIConnector{Name: "dev2", EndpointURL: "http://127.0.0.1:9/y", AuthenticationType: "basic", Username: "U", Password: "P"}),
		cfg(config.APIConnector{Name: "ok", EndpointURL: "https://127.0.0.1:9/y", AuthenticationType: "basic", Username: "U", Password: "P"}),
	}, Options{Keys: res, DeploymentMode: Development, Logger: slogTo(log)})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "connector=dev1") || !strings.Contains(lines[1], "connector=dev2") ||
		!strings.Contains(lines[0], "level=WARN") {
		t.Fatalf("warnings:\n%s", log.String())
	}
	// Production with the explicit opt-in.
	if _, err := New([]config.APIConnector{cfg(config.APIConnector{Name: "p", EndpointURL: "http://127.0.0.1:9/x",
		AuthenticationType: "none", AllowInsecureAuthInProduction: true})}, Options{DeploymentMode: Production, Logger: discard()}); err != nil {
		t.Fatal(err)
	}
}

func TestClientLowLevel(t *testing.T) {
	p := newPKI(t)
	var got *http.Request
	var form url.Values
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got, form = r, r.PostForm
		writeJSON(w, 409, `{"version":"1.0.0","status":409,"userMessage":"Taken","n":12345678901234567890}`)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
	srv.StartTLS()
	defer srv.Close()
	res := &resolver{secrets: map[string]string{"B2C_1A_Key": "kk"}}
	c, err := NewClient("tp", srv.URL+"/x?fixed=1", Auth{Type: AuthAPIKeyHeader, APIKeyHeader: "x-api-key", APIKey: "B2C_1A_Key"},
		ClientOptions{Keys: res, Transport: p.transport(), Timeout: CustomPolicyTimeout})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Call(context.Background(), Request{Form: url.Values{"grant_type": {"client_credentials"}},
		Header: http.Header{"X-Claim": {"v"}}, Query: url.Values{"q": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 409 || r.JSON["userMessage"] != "Taken" || r.JSON["n"].(json.Number).String() != "12345678901234567890" || r.Attempts != 1 {
		t.Fatalf("response %+v", r)
	}
	if got.Method != "POST" || form.Get("grant_type") != "client_credentials" || got.Header.Get("X-Claim") != "v" ||
		got.URL.Query().Get("q") != "1" || got.URL.Query().Get("fixed") != "1" || got.Header.Get("X-Api-Key") != "kk" {
		t.Fatalf("request %v %v %v", got.Method, got.URL, got.Header)
	}
	// GET with a per-call bearer (UseClaimAsBearerToken).
	if _, err := c.Call(context.Background(), Request{Method: "GET", BearerToken: "claim-token"}); err != nil {
		t.Fatal(err)
	}
	if got.Method != "GET" || got.Header.Get("Authorization") != "Bearer claim-token" {
		t.Fatalf("bearer override: %v", got.Header)
	}
	// DNS failure is classified.
	c2, _ := NewClient("dns", "https://no-such-host.invalid/x", Auth{Type: AuthNone}, ClientOptions{MaxAttempts: 1})
	_, err = c2.Call(context.Background(), Request{JSON: map[string]any{}})
	var ce *Error
	if !errors.As(err, &ce) || (ce.Kind != KindDNS && ce.Kind != KindUnreachable) {
		t.Fatalf("dns: %v", err)
	}
}
