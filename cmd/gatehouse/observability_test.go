package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// scrape reads the admin listener's /metrics and returns the samples by
// their series (name{labels} as Prometheus writes them).
func scrape(t *testing.T, adminURL string) map[string]float64 {
	t.Helper()
	resp, body := call(t, "GET", adminURL+"/metrics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestObservabilityIdentityMetrics: a sign-up, a sign-in, a wrong password,
// a code redemption and a client-credentials token through the binary move
// the identity role's counters on the admin listener's /metrics.
func TestObservabilityIdentityMetrics(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	admin := testutil.FreePort(t)
	file, publicURL, env := securityConfig(t, callback, fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\n", admin))
	srv := startServe(t, file, env, "identity", "admin")
	adminURL := srv.url("admin")

	before := scrape(t, adminURL)
	for _, s := range []string{
		`gatehouse_identity_failures_total{reason="wrong_password"}`,
		`gatehouse_identity_tokens_total{grant_type="client_credentials",result="success"}`,
	} {
		if v, ok := before[s]; !ok || v != 0 {
			t.Errorf("before any request %s = %v (present %v), want 0", s, v, ok)
		}
	}

	ctx := context.Background()
	const flow = "B2C_1_signupsignin1"
	provider := tenantProvider(t, ctx, publicURL, flow)
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, apiScope}}
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})
	const email, pw = "metrics.user@example.com", "Str0ng-Passw0rd!"
	pages := func(signUp bool, password string) *testutil.Page {
		b := testutil.NewBrowser(t, callback, nil)
		pkce := oauth2.GenerateVerifier()
		page := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)))
		if page.Status != 200 {
			t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
		}
		if signUp {
			page = b.Follow(page, "createAccount")
			page = b.Submit(page, "continue", map[string]string{
				"email": email, "newPassword": password, "reenterPassword": password, "displayName": "Metrics User"})
		} else {
			page = b.Submit(page, "next", map[string]string{"signInName": email, "password": password})
		}
		if password != pw {
			return page
		}
		redeem(t, ctx, conf, verifier, b.Callback(page).Get("code"), pkce)
		return page
	}
	pages(true, pw)
	pages(false, pw)
	if page := pages(false, "Wrong-Passw0rd!"); !strings.Contains(page.Body, "Invalid username or password.") {
		t.Fatalf("wrong password page: %d %.300s", page.Status, page.Body)
	}
	cc := clientcredentials.Config{ClientID: daemonID, ClientSecret: daemonSec, TokenURL: provider.Endpoint().TokenURL,
		Scopes: []string{"https://contoso.onmicrosoft.com/backend/.default"}}
	if _, err := cc.Token(ctx); err != nil {
		t.Fatal(err)
	}
	cc.ClientSecret = "not-the-secret"
	if _, err := cc.Token(ctx); err == nil {
		t.Fatal("a wrong client secret got a token")
	}

	after := scrape(t, adminURL)
	const f = `flow="B2C_1_signupsignin1"`
	for series, want := range map[string]float64{
		`gatehouse_identity_signups_total{` + f + `,result="success"}`:                      1,
		`gatehouse_identity_signins_total{` + f + `,result="success"}`:                      1,
		`gatehouse_identity_signins_total{` + f + `,result="failure"}`:                      1,
		`gatehouse_identity_failures_total{reason="wrong_password"}`:                        1,
		`gatehouse_identity_failures_total{reason="locked"}`:                                0,
		`gatehouse_identity_tokens_total{grant_type="authorization_code",result="success"}`: 2,
		`gatehouse_identity_tokens_total{grant_type="client_credentials",result="success"}`: 1,
		`gatehouse_identity_tokens_total{grant_type="client_credentials",result="failure"}`: 1,
		`gatehouse_identity_tokens_total{grant_type="refresh_token",result="success"}`:      0,
		`gatehouse_identity_requests_total{code="200",endpoint="token"}`:                    3,
		`gatehouse_identity_requests_total{code="401",endpoint="token"}`:                    1,
		`gatehouse_identity_store_duration_seconds_count{operation="users.create"}`:         1,
		`gatehouse_identity_store_duration_seconds_count{operation="codes.consume"}`:        2,
		`gatehouse_security_events_total{event="signin_failed"}`:                            1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	// Moved, by some amount: the hosted pages and the discovery document
	// answered, the store's throttles and transactions were timed.
	for _, series := range []string{
		`gatehouse_identity_requests_total{code="200",endpoint="pages"}`,
		`gatehouse_identity_requests_total{code="200",endpoint="authorize"}`,
		`gatehouse_identity_requests_total{code="200",endpoint="config"}`,
		`gatehouse_identity_store_duration_seconds_count{operation="transactions.put"}`,
		`gatehouse_identity_store_duration_seconds_count{operation="users.get_by_email"}`,
		`gatehouse_identity_store_duration_seconds_bucket{operation="users.create",le="+Inf"}`,
	} {
		if after[series] <= before[series] {
			t.Errorf("%s did not move (%v)", series, after[series])
		}
	}
}

// otlpCollector is an OTLP/HTTP trace collector on 127.0.0.1: every span
// it receives (with its resource's service.name) goes to spans.
type otlpCollector struct {
	URL   string
	spans chan collectedSpan
}

type collectedSpan struct {
	service string
	span    *tracepb.Span
}

func newCollector(t *testing.T, apiKey string) *otlpCollector {
	t.Helper()
	c := &otlpCollector{spans: make(chan collectedSpan, 10000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector: %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if got := r.Header.Get("X-Api-Key"); got != apiKey {
			t.Errorf("collector: X-Api-Key %q, want %q", got, apiKey)
		}
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			t.Errorf("collector: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					c.spans <- collectedSpan{service, s}
				}
			}
		}
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// traceBackend answers 200 and records the traceparent of each request.
func traceBackend(t *testing.T) (*httptest.Server, chan string) {
	seen := make(chan string, 100)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Traceparent")
		w.Write([]byte("hello"))
	}))
	t.Cleanup(be.Close)
	return be, seen
}

// gatewayGuardConfig is a gateway whose API's backend is a guard in front
// of backend, plus extra top-level sections.
func gatewayGuardConfig(t *testing.T, backend, extra string) string {
	guardPort := testutil.FreePort(t)
	return writeFile(t, t.TempDir(), "gatehouse.yaml", fmt.Sprintf(`gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: hello, path: api, serviceUrl: "http://127.0.0.1:%d/base", subscriptionRequired: false }
guard:
  listen: 127.0.0.1:%d
  upstream: %s
%s`, guardPort, guardPort, backend, extra))
}

func getTraced(t *testing.T, url, traceparent string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hello" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
}

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
)

// TestObservabilityTracingOff: without a tracing: section a caller's
// traceparent reaches the backend through the gateway and the guard
// unchanged (as APIM forwards it: an ordinary header).
func TestObservabilityTracingOff(t *testing.T) {
	be, seen := traceBackend(t)
	srv := startServe(t, gatewayGuardConfig(t, be.URL, ""), nil, "gateway", "guard")
	in := "00-" + callerTrace + "-" + callerSpan + "-01"
	getTraced(t, srv.url("gateway")+"/api/x", in)
	if got := <-seen; got != in {
		t.Errorf("backend traceparent %q, want %q", got, in)
	}
	getTraced(t, srv.url("gateway")+"/api/x", "")
	if got := <-seen; got != "" {
		t.Errorf("backend traceparent %q without tracing and without a caller's", got)
	}
	if strings.Contains(srv.logs.String(), "tracing on") {
		t.Error("tracing started without a tracing: section")
	}
}

// TestObservabilityTracing: with tracing on, a request with a caller's
// traceparent through gateway → guard → backend continues the caller's
// trace: the backend gets a traceparent of that trace, and the collector
// gets the gateway's and the guard's server and client spans of it,
// chained parent to child. A request without one starts a trace of its
// own. The spans are flushed by the shutdown (SIGTERM), and none carries
// the backend URL's query string.
func TestObservabilityTracing(t *testing.T) {
	col := newCollector(t, "k-123")
	be, seen := traceBackend(t)
	file := gatewayGuardConfig(t, be.URL, fmt.Sprintf(`tracing:
  otlpEndpoint: %s
  serviceName: gatehouse-test
  sampleRatio: 1.0
  headers: { X-Api-Key: env:OTLP_KEY }
`, col.URL))
	if _, errOut, code := gatehouse(t, []string{"OTLP_KEY=k-123"}, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d %s", code, errOut)
	}
	srv := startServe(t, file, []string{"OTLP_KEY=k-123"}, "gateway", "guard")
	getTraced(t, srv.url("gateway")+"/api/x?code=s3cret-function-key", "00-"+callerTrace+"-"+callerSpan+"-01")
	tp := <-seen
	if parts := strings.Split(tp, "-"); len(parts) != 4 || parts[1] != callerTrace || parts[2] == callerSpan {
		t.Fatalf("backend traceparent %q: want trace %s with the guard's span as parent", tp, callerTrace)
	}
	getTraced(t, srv.url("gateway")+"/api/x", "")
	own := strings.Split(<-seen, "-")
	if len(own) != 4 || own[1] == callerTrace {
		t.Fatalf("backend traceparent %v for a request without one", own)
	}

	// SIGTERM: the process drains, flushes its spans and exits 0.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("gatehouse exit: %v", err)
	}
	byTrace := map[string][]collectedSpan{}
	for done := false; !done; {
		select {
		case s := <-col.spans:
			id := hex.EncodeToString(s.span.TraceId)
			byTrace[id] = append(byTrace[id], s)
		default:
			done = true
		}
	}
	for _, trace := range []string{callerTrace, own[1]} {
		spans := byTrace[trace]
		byName := map[string]*tracepb.Span{}
		for _, s := range spans {
			for _, a := range s.span.Attributes {
				if strings.Contains(a.GetValue().GetStringValue(), "s3cret") {
					t.Errorf("span %q exports the query string: %s=%s", s.span.Name, a.Key, a.GetValue().GetStringValue())
				}
			}
			if s.service != "gatehouse-test" {
				t.Errorf("span %q has service.name %q", s.span.Name, s.service)
			}
			kind := map[tracepb.Span_SpanKind]string{tracepb.Span_SPAN_KIND_SERVER: "server", tracepb.Span_SPAN_KIND_CLIENT: "client"}[s.span.Kind]
			byName[s.span.Name+"/"+kind] = s.span
		}
		gws, gwc, gds, gdc := byName["gateway GET/server"], byName["HTTP GET/client"], byName["guard GET/server"], (*tracepb.Span)(nil)
		// Two client spans share a name: the gateway's (parent: the
		// gateway's server span) and the guard's (parent: the guard's).
		for _, s := range spans {
			if s.span.Kind != tracepb.Span_SPAN_KIND_CLIENT {
				continue
			}
			switch {
			case gws != nil && bytes.Equal(s.span.ParentSpanId, gws.SpanId):
				gwc = s.span
			case gds != nil && bytes.Equal(s.span.ParentSpanId, gds.SpanId):
				gdc = s.span
			}
		}
		if gws == nil || gwc == nil || gds == nil || gdc == nil {
			names := []string{}
			for n := range byName {
				names = append(names, n)
			}
			t.Fatalf("trace %s: want the gateway's and the guard's server and client spans, got %d spans %v (all traces: %d)", trace, len(spans), names, len(byTrace))
		}
		t.Logf("trace %s: %d spans, chain %x -> %x -> %x -> %x", trace, len(spans), gws.SpanId, gwc.SpanId, gds.SpanId, gdc.SpanId)
		if !bytes.Equal(gds.ParentSpanId, gwc.SpanId) {
			t.Errorf("trace %s: the guard's server span is not a child of the gateway's client span", trace)
		}
		if trace == callerTrace {
			if hex.EncodeToString(gws.ParentSpanId) != callerSpan {
				t.Errorf("the gateway's server span has parent %x, want the caller's %s", gws.ParentSpanId, callerSpan)
			}
			if want := strings.Split(tp, "-")[2]; hex.EncodeToString(gdc.SpanId) != want {
				t.Errorf("the backend's traceparent parent %s is not the guard's client span %x", want, gdc.SpanId)
			}
		} else if len(gws.ParentSpanId) != 0 {
			t.Errorf("a request without traceparent got a gateway span with parent %x", gws.ParentSpanId)
		}
	}
}

// TestObservabilityTracingIdentity: a token request with a caller's
// traceparent makes an identity server span in the caller's trace.
func TestObservabilityTracingIdentity(t *testing.T) {
	col := newCollector(t, "")
	file, publicURL, env := securityConfig(t, "http://127.0.0.1:1/callback", fmt.Sprintf("tracing: { otlpEndpoint: %s }\n", col.URL))
	srv := startServe(t, file, env, "identity")
	form := "grant_type=client_credentials&client_id=" + daemonID + "&client_secret=" + daemonSec +
		"&scope=https%3A%2F%2Fcontoso.onmicrosoft.com%2Fbackend%2F.default"
	req, _ := http.NewRequest("POST", publicURL+"/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "access_token") {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("gatehouse exit: %v", err)
	}
	for {
		select {
		case s := <-col.spans:
			if hex.EncodeToString(s.span.TraceId) == callerTrace && s.span.Name == "identity POST" &&
				hex.EncodeToString(s.span.ParentSpanId) == callerSpan && s.service == "gatehouse" {
				return
			}
		default:
			t.Fatal("no identity server span in the caller's trace")
		}
	}
}

// TestObservabilityConnectorMetrics: API connector calls are counted by
// connector, step and outcome, with their time, beside the audit line.
func TestObservabilityConnectorMetrics(t *testing.T) {
	caPEM, serverCert := connectorCA(t)
	api := newConnectorAPI(t, serverCert)
	file, publicURL, env := connectorConfig(t, api.srv.URL, string(caPEM))
	admin := testutil.FreePort(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(file), "gatehouse.yaml", string(b)+fmt.Sprintf("admin: { listen: 127.0.0.1:%d }\n", admin))
	srv := startServe(t, file, env, "identity", "admin")
	before := scrape(t, srv.url("admin"))

	const callback = "http://127.0.0.1:1/callback"
	authority := publicURL + "/contoso.onmicrosoft.com/B2C_1_none"
	for _, name := range []string{"Ada none", "Reject Me"} {
		conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, apiScope},
			Endpoint: oauth2.Endpoint{AuthURL: authority + "/oauth2/v2.0/authorize", TokenURL: authority + "/oauth2/v2.0/token"}}
		br := testutil.NewBrowser(t, callback, nil)
		page := br.Get(conf.AuthCodeURL("state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		page = br.Follow(page, "createAccount")
		email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
		page = br.Submit(page, "continue", map[string]string{
			"email": email, "newPassword": "Str0ng-Passw0rd!", "reenterPassword": "Str0ng-Passw0rd!", "displayName": name})
		if name == "Ada none" {
			br.Callback(page)
		} else if !strings.Contains(page.Body, "Display name refused by none") {
			t.Fatalf("refused sign-up: %d %.300s", page.Status, page.Body)
		}
	}
	after := scrape(t, srv.url("admin"))
	const labels = `connector="none-api",`
	for series, want := range map[string]float64{
		`gatehouse_identity_connector_calls_total{` + labels + `outcome="Continue",step="PostAttributeCollection"}`:        1,
		`gatehouse_identity_connector_calls_total{` + labels + `outcome="ValidationError",step="PostAttributeCollection"}`: 1,
		`gatehouse_identity_connector_duration_seconds_count{` + labels + `step="PostAttributeCollection"}`:                2,
		`gatehouse_identity_signups_total{flow="B2C_1_none",result="success"}`:                                             1,
		`gatehouse_identity_signups_total{flow="B2C_1_none",result="failure"}`:                                             1,
		`gatehouse_identity_failures_total{reason="blocked"}`:                                                              1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	if t.Failed() {
		for k, v := range after {
			if strings.Contains(k, "connector") {
				t.Logf("%s %v", k, v)
			}
		}
	}
}
