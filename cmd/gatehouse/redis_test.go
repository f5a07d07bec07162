package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// limitConfig is a gateway whose only API allows `calls` per minute per
// caller address, counted in the Redis at redisAddr.
func limitConfig(t *testing.T, dir, redisAddr, backendURL, mode string, calls int) string {
	t.Helper()
	writeFile(t, dir, "limit.xml", fmt.Sprintf(`<policies>
  <inbound>
    <rate-limit-by-key calls="%d" renewal-period="60" counter-key="@("limit-" + context.Request.IpAddress)" />
  </inbound>
  <backend><forward-request /></backend>
</policies>`, calls))
	return writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`gateway:
  listen: 127.0.0.1:0
  redis: redis://%s/0
  redisFailureMode: %s
  policy: limit.xml
  apis:
    - { name: echo, path: echo, serviceUrl: %q, subscriptionRequired: false }
`, redisAddr, mode, backendURL))
}

// TestRedisExactLimitAcrossProcesses: three gateway processes sharing one
// Redis let exactly N of many concurrent calls through (APIM only
// approximates this).
func TestRedisExactLimitAcrossProcesses(t *testing.T) {
	rs := testutil.StartRedisServer(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer backend.Close()
	const limit = 37
	cfg := limitConfig(t, t.TempDir(), rs.Addr, backend.URL, "open", limit)
	var urls []string
	for i := 0; i < 3; i++ {
		urls = append(urls, startServe(t, cfg, nil, "gateway").url("gateway")+"/echo/x")
	}
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				resp, err := client.Get(urls[(w+i)%3])
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != limit || limited.Load() != 120-limit {
		t.Errorf("allowed %d, limited %d; want exactly %d allowed of 120", ok.Load(), limited.Load(), limit)
	}
}

// TestRedisOutage: with Redis gone, fail-open keeps serving and fail-closed
// answers 503; each logs one line, and both recover when Redis is back.
func TestRedisOutage(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer backend.Close()
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			rs := testutil.StartRedisServer(t)
			srv := startServe(t, limitConfig(t, t.TempDir(), rs.Addr, backend.URL, mode, 1000), nil, "gateway")
			url := srv.url("gateway") + "/echo/x"
			if resp, _ := call(t, "GET", url, nil); resp.StatusCode != 200 {
				t.Fatalf("before the outage: %d", resp.StatusCode)
			}
			rs.Stop()
			want := 200
			if mode == "closed" {
				want = 503
			}
			for i := 0; i < 20; i++ {
				resp, body := call(t, "GET", url, nil)
				if resp.StatusCode != want {
					t.Fatalf("during the outage, call %d: %d %s", i, resp.StatusCode, body)
				}
				if want == 503 {
					wantAPIMError(t, body, 503, "")
				}
			}
			if ready, _ := call(t, "GET", srv.url("gateway")+"/readyz", nil); ready.StatusCode != 503 {
				t.Errorf("readyz during the outage: %d", ready.StatusCode)
			}
			if n := strings.Count(srv.logs.String(), "unavailable"); n != 1 {
				t.Errorf("%d log lines about the outage, want 1:\n%s", n, srv.logs.String())
			}
			rs.Start()
			deadline := time.Now().Add(20 * time.Second)
			for {
				resp, _ := call(t, "GET", url, nil)
				if resp.StatusCode == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no recovery after Redis came back: %d", resp.StatusCode)
				}
				time.Sleep(100 * time.Millisecond) // polling for recovery, bounded by the deadline
			}
		})
	}
}
