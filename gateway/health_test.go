package gateway

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

func TestHealthReadyMetrics(t *testing.T) {
	be := newBackend(t, "be")
	limit := `<policies><inbound><base/>
  <rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - name: api
      path: api
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      policy: limit.xml
      operations:
        - { name: get-thing, method: GET, urlTemplate: "/things/{id}" }
`, map[string]string{"limit.xml": limit})
	reg := prometheus.NewRegistry()
	gw, srv := start(t, cfg, Options{Registry: reg})

	if r := get(t, srv.URL+"/healthz"); r.status != 200 || r.body != "ok" {
		t.Errorf("/healthz: %d %q", r.status, r.body)
	}
	r := get(t, srv.URL+"/readyz")
	if r.status != 200 || !strings.Contains(r.body, `"ready"`) {
		t.Errorf("/readyz: %d %q", r.status, r.body)
	}
	if r := do(t, "POST", srv.URL+"/healthz", nil); r.status != 405 {
		t.Errorf("POST /healthz: %d", r.status)
	}

	get(t, srv.URL+"/api/things/1").echoed(t)
	if r := get(t, srv.URL+"/api/things/2"); r.status != 429 {
		t.Errorf("second call: %d, want 429 from rate-limit-by-key", r.status)
	}
	get(t, srv.URL+"/nothing")
	get(t, srv.URL+"/api/else")
	if err := gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gatehouse_gateway_requests_total{api="api",code="200",operation="get-thing"} 1`,
		`gatehouse_gateway_requests_total{api="api",code="429",operation="get-thing"} 1`,
		`gatehouse_gateway_requests_total{api="",code="404",operation=""} 1`,
		`gatehouse_gateway_requests_total{api="api",code="404",operation=""} 1`,
		`gatehouse_gateway_request_duration_seconds_count{api="api"} 3`,
		`gatehouse_gateway_policy_rejections_total{policy="rate-limit-by-key",reason="RateLimitExceeded"} 1`,
		`gatehouse_gateway_config_reloads_total{result="success"} 1`,
		`gatehouse_gateway_config_reloads_total{result="failure"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, body)
		}
	}
	// /metrics is not served on the gateway's (public) listener: the
	// admin listener serves the registry.
	if r := get(t, srv.URL+"/metrics"); r.status != 404 {
		t.Errorf("/metrics on the gateway listener: %d, want 404", r.status)
	}
	// The same registry serves a second gateway (collectors are shared).
	gw2, err := New(cfg, Options{Registry: reg})
	if err != nil {
		t.Fatalf("second gateway on the same registry: %v", err)
	}
	_ = gw2.Close()
}

func TestReadyzWithRedis(t *testing.T) {
	rs := testutil.StartRedisServer(t)
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  redis: redis://`+rs.Addr+`/0
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	_, srv := start(t, cfg, Options{})
	if r := get(t, srv.URL+"/readyz"); r.status != 200 {
		t.Fatalf("/readyz with Redis up: %d %s", r.status, r.body)
	}
	rs.Stop()
	r := get(t, srv.URL+"/readyz")
	var v map[string]string
	_ = json.Unmarshal([]byte(r.body), &v)
	if r.status != 503 || !strings.HasPrefix(v["reason"], "redis: ") {
		t.Errorf("/readyz with Redis down: %d %s", r.status, r.body)
	}
	if r := get(t, srv.URL+"/healthz"); r.status != 200 {
		t.Errorf("/healthz with Redis down: %d", r.status)
	}
	rs.Start()
	if r := get(t, srv.URL+"/readyz"); r.status != 200 {
		t.Errorf("/readyz after Redis came back: %d %s", r.status, r.body)
	}
}

func TestReservedPaths(t *testing.T) {
	for _, p := range []string{"healthz", "/Metrics/", "readyz"} {
		cfg := loadConfig(t, t.TempDir(), `
  apis:
    - { name: api, path: "`+p+`", serviceUrl: "http://127.0.0.1:1" }
`, nil)
		_, err := New(cfg, Options{})
		if err == nil || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), "gatehouse.yaml:") {
			t.Errorf("path %q: error %v", p, err)
		}
	}
}
