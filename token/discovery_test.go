package token

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenFor mints a distinct token (jti) with kid k so the verified-token
// cache never short-cuts the key lookup.
func tokenFor(t testing.TB, k *testKey, i int) string {
	return mint(t, k, nil, std(map[string]any{"jti": fmt.Sprint(i)}))
}

func TestDiscoveryFetchedOnce(t *testing.T) {
	testKeys(t)
	k := &testKey{kid: "a", alg: "ES256", priv: ecP256}
	p := newIDP(t, k)
	c, d, _, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Validate(context.Background(), tokenFor(t, k, i), t0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A second checker on the same Discovery shares the cache.
	c2, err := NewChecker(Rules{OpenIDConfigURLs: []string{p.url()}, RequireSignedTokens: true}, d)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, c2, tokenFor(t, k, 1000), t0)
	if p.configHits.Load() != 1 || p.jwksHits.Load() != 1 {
		t.Fatalf("config fetched %d, jwks %d times; want 1, 1", p.configHits.Load(), p.jwksHits.Load())
	}
}

func TestDiscoveryUnknownKidThrottled(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	b := &testKey{kid: "b", alg: "ES256", priv: ecP256}
	ghost := &testKey{kid: "ghost", alg: "ES256", priv: ec2}
	p := newIDP(t, a)
	c, _, clk, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	mustValidate(t, c, tokenFor(t, a, 0), t0)
	if p.jwksHits.Load() != 1 {
		t.Fatal("initial fetch")
	}

	// Within 5 minutes of the first retrieval an unknown kid does not refetch.
	p.setKeys(a, b)
	clk.Advance(4 * time.Minute)
	_, err := c.Validate(context.Background(), tokenFor(t, b, 1), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("jwks fetched %d times, want 1", n)
	}

	// At 5 minutes: 50 concurrent validations with the new kid share one
	// refetch. The JWKS handler is held until that refetch has arrived so
	// the callers pile up on it.
	clk.Advance(time.Minute)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Validate(context.Background(), tokenFor(t, b, 100+i), t0)
			errs <- err
		}()
	}
	for p.jwksHits.Load() < 2 {
		runtime.Gosched()
	}
	p.mu.Lock()
	p.gate = nil
	p.mu.Unlock()
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := p.jwksHits.Load(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2", n)
	}

	// A second unknown kid within 5 minutes: no refetch, even under load.
	clk.Advance(5*time.Minute - time.Second)
	for i := range 20 {
		_, err := c.Validate(context.Background(), tokenFor(t, ghost, i), t0)
		te := wantReason(t, err, ReasonTokenSignatureKeyNotFound)
		if !strings.Contains(te.Message, `"ghost"`) || !strings.HasSuffix(te.Message, "Access denied.") {
			t.Fatalf("message %q", te.Message)
		}
	}
	if n := p.jwksHits.Load(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2", n)
	}
	// 5 minutes after the last retrieval: exactly one more.
	clk.Advance(time.Second)
	for i := range 20 {
		_, err := c.Validate(context.Background(), tokenFor(t, ghost, 100+i), t0)
		wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	}
	if n := p.jwksHits.Load(); n != 3 {
		t.Fatalf("jwks fetched %d times, want 3", n)
	}
	// Known keys kept working throughout without fetches.
	mustValidate(t, c, tokenFor(t, a, 999), t0)
	if n := p.jwksHits.Load(); n != 3 {
		t.Fatalf("jwks fetched %d times, want 3", n)
	}
}

func TestDiscoveryHourlyRefreshPicksUpRotation(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	b := &testKey{kid: "b", alg: "EdDSA", priv: edPriv}
	p := newIDP(t, a)
	c, _, clk, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	mustValidate(t, c, tokenFor(t, a, 0), t0)

	p.setKeys(b) // rotation: a removed, b added
	clk.Advance(59 * time.Minute)
	mustValidate(t, c, tokenFor(t, a, 1), t0)
	settle(c)
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("refreshed before the hour: %d fetches", n)
	}
	clk.Advance(time.Minute)
	// Stale keys still serve this request; the refresh runs in the background.
	mustValidate(t, c, tokenFor(t, a, 2), t0)
	settle(c)
	if n := p.jwksHits.Load(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2", n)
	}
	// b is known now without another fetch; a is gone (and unknown kids are
	// throttled, so no fetch either).
	mustValidate(t, c, tokenFor(t, b, 3), t0)
	_, err := c.Validate(context.Background(), tokenFor(t, a, 4), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	if n := p.jwksHits.Load(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2", n)
	}
}

func TestDiscoveryServerDownKeepsCache(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "ES256", priv: ecP256}
	p := newIDP(t, a)
	c, _, clk, lc := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	mustValidate(t, c, tokenFor(t, a, 0), t0)

	// 500: the hourly refresh fails, one Warn line, cache kept.
	p.status.Store(500)
	clk.Advance(2 * time.Hour)
	raw := tokenFor(t, a, 1)
	mustValidate(t, c, raw, t0)
	settle(c)
	if lc.count() != 1 {
		t.Fatalf("%d warn lines, want 1", lc.count())
	}
	for i := range 10 {
		mustValidate(t, c, tokenFor(t, a, 10+i), t0)
	}
	settle(c)
	if lc.count() != 1 || p.jwksHits.Load() != 1 || p.configHits.Load() != 2 {
		t.Fatalf("warns %d, jwks %d, config %d", lc.count(), p.jwksHits.Load(), p.configHits.Load())
	}
	// Last retrieval failed: retried after 5 minutes, in the background.
	clk.Advance(5 * time.Minute)
	mustValidate(t, c, tokenFor(t, a, 30), t0)
	settle(c)
	if lc.count() != 2 || p.configHits.Load() != 3 {
		t.Fatalf("warns %d, config %d", lc.count(), p.configHits.Load())
	}
	// Closed server: connection errors, cached keys still work.
	p.srv.Close()
	clk.Advance(5 * time.Minute)
	mustValidate(t, c, tokenFor(t, a, 40), t0)
	settle(c)
	mustValidate(t, c, tokenFor(t, a, 41), t0)
	if lc.count() != 3 {
		t.Fatalf("warns %d, want 3", lc.count())
	}
	// An unknown kid while down: key not found, cache still fine.
	clk.Advance(5 * time.Minute)
	_, err := c.Validate(context.Background(), tokenFor(t, &testKey{kid: "new", alg: "ES256", priv: ec2}, 50), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	mustValidate(t, c, tokenFor(t, a, 51), t0)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, w := range lc.warns {
		if strings.Contains(w, raw) || strings.Contains(w, "eyJ") {
			t.Fatalf("log line contains a token: %s", w)
		}
		if !strings.Contains(w, p.url()) {
			t.Fatalf("log line without URL: %s", w)
		}
	}
}

func TestDiscoveryFirstFetchFailsThenRecovers(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	p := newIDP(t, a)
	p.status.Store(503)
	c, _, clk, lc := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	if err := c.Prefetch(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("prefetch error %v", err)
	}
	for _, raw := range []string{tokenFor(t, a, 0), mint(t, &testKey{alg: "RS256", priv: rsaPriv}, nil, std(nil))} {
		_, err := c.Validate(context.Background(), raw, t0)
		te := wantReason(t, err, ReasonTokenSignatureKeyNotFound)
		if !strings.Contains(te.Message, "could not be retrieved") {
			t.Fatalf("message %q", te.Message)
		}
	}
	if p.configHits.Load() != 1 || lc.count() != 1 {
		t.Fatalf("config %d, warns %d", p.configHits.Load(), lc.count())
	}
	p.status.Store(200)
	clk.Advance(4 * time.Minute)
	_, err := c.Validate(context.Background(), tokenFor(t, a, 1), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	clk.Advance(time.Minute)
	mustValidate(t, c, tokenFor(t, a, 2), t0)
	if p.configHits.Load() != 2 {
		t.Fatalf("config %d", p.configHits.Load())
	}
}

func TestDiscoveryPrefetchWarms(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	p := newIDP(t, a)
	c, _, _, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	if err := c.Prefetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.jwksHits.Load() != 1 {
		t.Fatal("prefetch did not fetch")
	}
	mustValidate(t, c, tokenFor(t, a, 0), t0)
	if p.jwksHits.Load() != 1 {
		t.Fatal("validate refetched")
	}
}

func TestDiscoveryContextCancelledWhileWaiting(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	p := newIDP(t, a)
	gate := make(chan struct{})
	p.gate = gate
	c, _, _, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Validate(ctx, tokenFor(t, a, 0), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
	if err := c.Prefetch(ctx); err == nil {
		t.Fatal("prefetch with cancelled ctx succeeded")
	}
	p.mu.Lock()
	p.gate = nil
	p.mu.Unlock()
	close(gate)
	settle(c)
	mustValidate(t, c, tokenFor(t, a, 1), t0)
}

func TestDiscoveryMultipleConfigs(t *testing.T) {
	testKeys(t)
	a := &testKey{kid: "a", alg: "RS256", priv: rsaPriv}
	b := &testKey{kid: "b", alg: "ES256", priv: ecP256}
	p1, p2 := newIDP(t, a), newIDP(t, b)
	p2.issuer = "https://second.example/"
	c, _, clk, _ := oidcChecker(t, p1, Rules{OpenIDConfigURLs: []string{p2.url()}, RequireSignedTokens: true})
	clk.Advance(10 * time.Minute)
	mustValidate(t, c, tokenFor(t, a, 0), t0)
	mustValidate(t, c, mint(t, b, nil, std(map[string]any{"iss": "https://second.example/"})), t0)
	// Issuer of either config is accepted with either key (APIM semantics).
	mustValidate(t, c, mint(t, b, nil, std(map[string]any{"jti": "x"})), t0)
	// kid b is known from p2: p1 is not refetched.
	if p1.jwksHits.Load() != 1 || p2.jwksHits.Load() != 1 {
		t.Fatalf("jwks hits %d, %d", p1.jwksHits.Load(), p2.jwksHits.Load())
	}
}

func TestDiscoveryBadDocuments(t *testing.T) {
	testKeys(t)
	big := `{"keys":[` + strings.Repeat(`{"kty":"oct","k":"AAAA"},`, MaxDocumentSize/24) + `{}]}`
	cases := map[string]struct {
		config func(base string) string
		jwks   string
	}{
		"no issuer":       {func(b string) string { return `{"jwks_uri":"` + b + `/jwks"}` }, `{"keys":[]}`},
		"no jwks_uri":     {func(b string) string { return `{"issuer":"x"}` }, `{"keys":[]}`},
		"relative jwks":   {func(b string) string { return `{"issuer":"x","jwks_uri":"/jwks"}` }, `{"keys":[]}`},
		"file jwks":       {func(b string) string { return `{"issuer":"x","jwks_uri":"file:///etc/passwd"}` }, `{"keys":[]}`},
		"config not json": {func(b string) string { return `<html>` }, `{"keys":[]}`},
		"oversize jwks":   {func(b string) string { return `{"issuer":"x","jwks_uri":"` + b + `/jwks"}` }, big},
		"no usable keys":  {func(b string) string { return `{"issuer":"x","jwks_uri":"` + b + `/jwks"}` }, `{"keys":[{"kty":"oct","k":"AAAA"}]}`},
		"jwks not json":   {func(b string) string { return `{"issuer":"x","jwks_uri":"` + b + `/jwks"}` }, `nope`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/jwks" {
					_, _ = w.Write([]byte(tc.jwks))
					return
				}
				_, _ = w.Write([]byte(tc.config(srv.URL)))
			}))
			defer srv.Close()
			d := NewDiscovery(srv.Client(), slog.New(slog.DiscardHandler))
			c, err := NewChecker(Rules{OpenIDConfigURLs: []string{srv.URL + "/.well-known/openid-configuration"}, RequireSignedTokens: true}, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Prefetch(context.Background()); err == nil {
				t.Fatal("bad document accepted")
			}
		})
	}
	if len(big) <= MaxDocumentSize {
		t.Fatal("oversize document too small")
	}
}

// TestTenantTemplatedIssuer: Entra ID's multi-tenant metadata names its
// issuer https://login.microsoftonline.com/{tenantid}/v2.0; a token passes
// when its iss is that issuer for its own (signed) tid, and only then.
func TestTenantTemplatedIssuer(t *testing.T) {
	testKeys(t)
	k := &testKey{kid: "a", alg: "ES256", priv: ecP256}
	p := newIDP(t, k)
	p.issuer = "https://login.example/{tenantid}/v2.0"
	c, _, _, _ := oidcChecker(t, p, Rules{Audiences: []string{"api://gatehouse"}})
	const tid, other = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-0000-000000000001"
	ok := mint(t, k, nil, std(map[string]any{"iss": "https://login.example/" + tid + "/v2.0", "tid": tid}))
	mustValidate(t, c, ok, t0)
	for name, claims := range map[string]map[string]any{
		"another tenant's issuer":  {"iss": "https://login.example/" + other + "/v2.0", "tid": tid},
		"no tid":                   {"iss": "https://login.example/" + tid + "/v2.0"},
		"the template itself":      {"iss": "https://login.example/{tenantid}/v2.0", "tid": "{tenantid}"},
		"a tid that is not a GUID": {"iss": "https://login.example/evil/v2.0", "tid": "evil"},
		"a tid with a path in it":  {"iss": "https://login.example/a/b/v2.0", "tid": "a/b"},
	} {
		if _, err := c.Validate(context.Background(), mint(t, k, nil, std(claims)), t0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
