package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

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
