package gateway

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const (
	keyGoldA   = "gold-primary-key-0000000000000001"
	keyGoldB   = "gold-secondary-key-000000000000002"
	keySilver  = "silver-primary-key-00000000000003"
	keyUnknown = "unknown-key-000000000000000000004"
)

func subscriptionConfig(t *testing.T, be string) string {
	t.Helper()
	return `
  products:
    - name: gold
      apis: [orders, custom]
      subscriptions: [{ name: alice, primaryKey: ` + keyGoldA + `, secondaryKey: ` + keyGoldB + ` }]
    - name: silver
      apis: [catalog]
      subscriptions: [{ name: bob, primaryKey: ` + keySilver + ` }]
  apis:
    - { name: orders, path: orders, serviceUrl: "` + be + `" }
    - { name: catalog, path: catalog, serviceUrl: "` + be + `" }
    - { name: custom, path: custom, serviceUrl: "` + be + `", subscriptionKeyHeader: X-Key, subscriptionKeyQuery: key }
`
}

func TestSubscriptionKeys(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), subscriptionConfig(t, be.URL), nil)
	_, srv := start(t, cfg, Options{})

	// Header, primary and secondary keys; the key header never reaches the backend.
	for _, k := range []string{keyGoldA, keyGoldB} {
		e := get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", k, "X-Other", "kept").echoed(t)
		if v := e.Headers.Get("Ocp-Apim-Subscription-Key"); v != "" {
			t.Errorf("key header forwarded: %q", v)
		}
		if e.Headers.Get("X-Other") != "kept" {
			t.Errorf("other headers lost: %v", e.Headers)
		}
	}
	// Query parameter; removed from the backend query, other parameters kept.
	e := get(t, srv.URL+"/orders/1?a=1&subscription-key="+q(keyGoldA)+"&b=2").echoed(t)
	if e.Query != "a=1&b=2" {
		t.Errorf("backend query %q, want a=1&b=2", e.Query)
	}

	missing := "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API."
	invalid := "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
	get(t, srv.URL+"/orders/1").wantError(t, 401, missing)
	get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", "").wantError(t, 401, missing)
	get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", keyUnknown).wantError(t, 401, invalid)
	get(t, srv.URL+"/orders/1?subscription-key="+q(keyUnknown)).wantError(t, 401, invalid)
	// A valid key of a product that does not include the API.
	get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", keySilver).wantError(t, 401, invalid)
	get(t, srv.URL+"/catalog/1", "Ocp-Apim-Subscription-Key", keySilver).echoed(t)
	// Near misses: a prefix, one character off, different case.
	for _, k := range []string{keyGoldA[:len(keyGoldA)-1], keyGoldA + "x", keyGoldA[:len(keyGoldA)-1] + "2", "G" + keyGoldA[1:]} {
		get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", k).wantError(t, 401, invalid)
	}

	// Renamed key parameters: the default names are then ordinary.
	e = get(t, srv.URL+"/custom/x?key="+q(keyGoldA)+"&subscription-key=z", "X-Key", keyGoldA, "Ocp-Apim-Subscription-Key", "passed").echoed(t)
	if e.Headers.Get("X-Key") != "" || e.Headers.Get("Ocp-Apim-Subscription-Key") != "passed" || e.Query != "subscription-key=z" {
		t.Errorf("custom key names: headers %v query %q", e.Headers, e.Query)
	}
	get(t, srv.URL+"/custom/x", "Ocp-Apim-Subscription-Key", keyGoldA).wantError(t, 401, missing)
}

func TestLookupKeyConstantTime(t *testing.T) {
	be := newBackend(t, "be")
	gw, err := New(loadConfig(t, t.TempDir(), subscriptionConfig(t, be.URL), nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	st := gw.cur.Load()
	if k := st.lookupKey(keyGoldB); k == nil || k.sub.Name != "alice" || k.product.name != "gold" {
		t.Fatalf("lookupKey(secondary) = %+v", k)
	}
	// A stored entry whose hash matches but whose key differs (impossible
	// with SHA-256, forced here) is still refused by the constant-time
	// comparison.
	forged := *st.keys[keyHash(keyGoldA)]
	forged.key = []byte(keyUnknown)
	st.keys[keyHash(keyGoldA)] = &forged
	if st.lookupKey(keyGoldA) != nil {
		t.Error("lookupKey trusted the hash alone")
	}
}

// TestSubscriptionRequiredRules walks APIM's table: whether every product
// of the API requires a subscription × whether the API does × key or not.
func TestSubscriptionRequiredRules(t *testing.T) {
	be := newBackend(t, "be")
	const key = "product-key-00000000000000000001"
	cases := []struct {
		name                    string
		productReq, apiReq      bool
		inProduct               bool
		noKeyStatus, keyStatus  int
		noKeyProduct, keyProduc string
	}{
		{"protected", true, true, true, 401, 200, "", "p"},
		{"api open, product protected", true, false, true, 200, 200, "none", "p"},
		{"open product, api protected", false, true, true, 200, 200, "p", "p"},
		{"both open", false, false, true, 200, 200, "p", "p"},
		{"api open, no product", true, false, false, 200, 401, "none", ""},
		{"api protected, no product", true, true, false, 401, 401, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			apis := "[]"
			if c.inProduct {
				apis = "[api]"
			}
			policy := `<policies><inbound><base/>
  <set-header name="X-Product" exists-action="override"><value>@(context.Product == null ? "none" : context.Product.Name)</value></set-header>
  <set-header name="X-Subscription" exists-action="override"><value>@(context.Subscription == null ? "none" : context.Subscription.Name)</value></set-header>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
			cfg := loadConfig(t, t.TempDir(), fmt.Sprintf(`
  products:
    - name: p
      apis: %s
      subscriptionRequired: %t
      subscriptions: [{ name: s, primaryKey: %s }]
  apis:
    - { name: api, path: api, serviceUrl: "%s", subscriptionRequired: %t, policy: api.xml }
`, apis, c.productReq, key, be.URL, c.apiReq), map[string]string{"api.xml": policy})
			_, srv := start(t, cfg, Options{})

			r := get(t, srv.URL+"/api/x")
			if r.status != c.noKeyStatus {
				t.Fatalf("without key: %d %s, want %d", r.status, r.body, c.noKeyStatus)
			}
			if r.status == 200 {
				e := r.echoed(t)
				if got := e.Headers.Get("X-Product"); got != c.noKeyProduct {
					t.Errorf("without key: context.Product %q, want %q", got, c.noKeyProduct)
				}
				if got := e.Headers.Get("X-Subscription"); got != "none" {
					t.Errorf("without key: context.Subscription %q", got)
				}
			}
			r = get(t, srv.URL+"/api/x", "Ocp-Apim-Subscription-Key", key)
			if r.status != c.keyStatus {
				t.Fatalf("with key: %d %s, want %d", r.status, r.body, c.keyStatus)
			}
			if r.status == 200 {
				e := r.echoed(t)
				if got := e.Headers.Get("X-Product"); got != c.keyProduc {
					t.Errorf("with key: context.Product %q, want %q", got, c.keyProduc)
				}
				if got := e.Headers.Get("X-Subscription"); got != "s" {
					t.Errorf("with key: context.Subscription %q, want s", got)
				}
			}
			if r.status == http.StatusUnauthorized {
				r.wantError(t, 401, msgKeyInvalid)
			}
		})
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	be := newBackend(t, "be")
	t.Setenv("GATEWAY_TEST_SECRET", "named-value-secret-123")
	cfg := loadConfig(t, t.TempDir(), subscriptionConfig(t, be.URL)+`
  namedValues:
    backend-secret: env:GATEWAY_TEST_SECRET
`, nil)
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, srv := start(t, cfg, Options{Logger: log})
	get(t, srv.URL+"/orders/1?subscription-key="+q(keyGoldA), "Authorization", "Bearer secret-token-xyz").echoed(t)
	get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", keyGoldB).echoed(t)
	get(t, srv.URL+"/orders/1", "Ocp-Apim-Subscription-Key", keyUnknown)
	if err := gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, `"msg":"gateway reloaded"`) {
		t.Errorf("expected request and reload lines:\n%s", out)
	}
	for _, secret := range []string{keyGoldA, keyGoldB, keyUnknown, "secret-token-xyz", "named-value-secret-123"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
