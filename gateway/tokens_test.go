package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// tokenServer is a client-credentials endpoint that counts requests and
// issues "tok-<client>-<scope>-<n>".
func tokenServer(t *testing.T, delay time.Duration, expiresIn int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := n.Add(1)
		_ = r.ParseForm()
		if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_secret") != "s3cret-"+r.Form.Get("client_id") {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("tok-%s-%s-%d", r.Form.Get("client_id"), r.Form.Get("scope"), c),
			"token_type":   "Bearer", "expires_in": expiresIn,
		})
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestTokenSourceCachesAndShares(t *testing.T) {
	ts, count := tokenServer(t, 50*time.Millisecond, 3600)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src, opts := newTokenSource(&config.ManagedIdentity{TokenEndpoint: ts.URL, ClientID: "main", ClientSecret: config.Secret{Value: "s3cret-main"},
		Identities: []config.ManagedIdentity{{TokenEndpoint: ts.URL, ClientID: "other", ClientSecret: config.Secret{Value: "s3cret-other"}}}}, http.DefaultTransport, clock)
	if strings.Join(opts.ClientIDs, ",") != "main,other" {
		t.Fatalf("ids %v", opts.ClientIDs)
	}
	var wg sync.WaitGroup
	toks := make([]string, 10)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.Token(t.Context(), "", "https://storage.azure.com")
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		}()
	}
	wg.Wait()
	if count.Load() != 1 || toks[0] != "tok-main-https://storage.azure.com/.default-1" || toks[9] != toks[0] {
		t.Fatalf("%d requests, tokens %v", count.Load(), toks)
	}
	// same client by id: cached; /.default kept as is; other client separate
	if tok, _ := src.Token(t.Context(), "main", "https://storage.azure.com"); tok != toks[0] {
		t.Fatal(tok)
	}
	if tok, _ := src.Token(t.Context(), "other", "api://x/.default"); tok != "tok-other-api://x/.default-2" {
		t.Fatal(tok)
	}
	// shortly before expiry: refreshed
	mu.Lock()
	now = now.Add(56 * time.Minute)
	mu.Unlock()
	if tok, _ := src.Token(t.Context(), "", "https://storage.azure.com"); tok != "tok-main-https://storage.azure.com/.default-3" {
		t.Fatal(tok)
	}
	if _, err := src.Token(t.Context(), "nobody", "r"); err == nil {
		t.Fatal("unknown client accepted")
	}
}

func TestManagedIdentityPolicyThroughGateway(t *testing.T) {
	ts, count := tokenServer(t, 0, 3600)
	be := newBackend(t, "be")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"api.xml": `<policies><inbound><base/><authentication-managed-identity resource="https://management.azure.com" /></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
		"var.xml": `<policies><inbound><base/><authentication-managed-identity resource="@(&quot;api://&quot; + &quot;app&quot;)" client-id="other" output-token-variable-name="t" />
<set-header name="X-Tok" exists-action="override"><value>@((string)context.Variables["t"])</value></set-header></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
		"bad.xml": `<policies><inbound><base/><authentication-managed-identity resource="r" client-id="bad" ignore-error="true" /></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
	})
	cfg := loadConfig(t, dir, `
  managedIdentity:
    tokenEndpoint: "`+ts.URL+`"
    clientId: main
    clientSecret: s3cret-main
    identities:
      - { tokenEndpoint: "`+ts.URL+`", clientId: other, clientSecret: s3cret-other }
      - { tokenEndpoint: "`+ts.URL+`", clientId: bad, clientSecret: wrong }
  apis:
    - { name: a, path: a, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: api.xml }
    - { name: v, path: v, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: var.xml }
    - { name: b, path: b, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: bad.xml }
`, nil)
	_, srv := start(t, cfg, Options{})
	for range 3 {
		e := get(t, srv.URL+"/a/x").echoed(t)
		if got := e.Headers.Get("Authorization"); got != "Bearer tok-main-https://management.azure.com/.default-1" {
			t.Fatalf("Authorization %q", got)
		}
	}
	e := get(t, srv.URL+"/v/x").echoed(t)
	if e.Headers.Get("X-Tok") != "tok-other-api://app/.default-2" || e.Headers.Get("Authorization") != "" {
		t.Fatalf("%v", e.Headers)
	}
	// ignore-error: the endpoint refuses, the request goes on without a token
	e = get(t, srv.URL+"/b/x").echoed(t)
	if e.Headers.Get("Authorization") != "" {
		t.Fatal("token set")
	}
	if count.Load() != 3 {
		t.Fatalf("%d token requests, want 3", count.Load())
	}
}

func TestManagedIdentityNeedsConfig(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"api.xml": `<policies><inbound><base/><authentication-managed-identity resource="r" /></inbound></policies>`,
	})
	cfg := loadConfig(t, dir, `
  apis:
    - { name: a, path: a, serviceUrl: "http://127.0.0.1:1", subscriptionRequired: false, policy: api.xml }
`, nil)
	_, err := New(cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "configure gateway.managedIdentity") || !strings.Contains(err.Error(), "api.xml:1:") {
		t.Fatalf("%v", err)
	}
}

func TestCrossDomainAtGatewayRoot(t *testing.T) {
	be := newBackend(t, "be")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"global.xml": `<policies><inbound><cross-domain><cross-domain-policy><allow-access-from domain="*"/></cross-domain-policy></cross-domain></inbound><backend><forward-request/></backend><outbound/><on-error/></policies>`,
	})
	cfg := loadConfig(t, dir, `
  policy: global.xml
  apis:
    - { name: a, path: a, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{})
	r := get(t, srv.URL+"/crossdomain.xml")
	if r.status != 200 || !strings.Contains(r.body, `<allow-access-from domain="*"/>`) || r.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	if get(t, srv.URL+"/other").status != 404 {
		t.Fatal("other path answered")
	}
}
