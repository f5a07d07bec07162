package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

const (
	spaOrigin = "https://contoso-spa.example"
	apiAppID  = "00001111-aaaa-2222-bbbb-3333cccc4444"
)

// seed004Config writes seed 004's inbound policy verbatim (raw quotes and
// all) with its three placeholders filled, and a config that puts it at the
// global ("All APIs") scope in front of backendURL.
func seed004Config(t *testing.T, discoveryURL, backendURL string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "policies/global.xml", seed004Policy(t, spaOrigin, discoveryURL))
	return writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`admin:
  listen: 127.0.0.1:0
gateway:
  listen: 127.0.0.1:0
  policy: policies/global.xml
  apis:
    - name: hello
      path: hello
      serviceUrl: %s/api
      subscriptionRequired: false
`, backendURL))
}

// seed004Policy is seed 004's policy file with its placeholders filled.
func seed004Policy(t *testing.T, origin, discoveryURL string) string {
	t.Helper()
	src, err := os.ReadFile("../../examples/seed004/policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(
		"{PrimaryStorageEndpoint}", origin,
		"{b2cpolicy-well-known-openid}", discoveryURL,
		"{backend-api-application-client-id}", apiAppID,
	).Replace(string(src))
}

type apimError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func call(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func wantAPIMError(t *testing.T, body string, status int, msg string) {
	t.Helper()
	var e apimError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %q is not APIM's error JSON: %v", body, err)
	}
	if e.StatusCode != status || (msg != "" && e.Message != msg) {
		t.Errorf("error body = %+v, want %d %q", e, status, msg)
	}
}

// TestSeed004EndToEnd runs the real binary with seed 004's policy between a
// local OpenID issuer and a local backend: preflight, token checks and both
// rate limits (15/min per JWT subject, 300/2 min per IP).
func TestSeed004EndToEnd(t *testing.T) {
	issuer := testutil.NewIssuer(t)
	var backendCalls atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backendCalls.Add(1)
		if r.URL.Path != "/api/hello" {
			http.Error(w, "unexpected path "+r.URL.Path, 404)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "the token must be passed on", 400)
			return
		}
		fmt.Fprintf(w, "Hello World, time and date are %s", time.Now().Format(time.RFC1123))
	}))
	defer backend.Close()

	srv := startServe(t, seed004Config(t, issuer.DiscoveryURL(), backend.URL), nil, "gateway", "admin")
	hello := srv.url("gateway") + "/hello/hello"
	token := func(sub string) string {
		return "Bearer " + issuer.Token(t, map[string]any{"sub": sub, "aud": apiAppID})
	}

	t.Run("preflight from the SPA origin is answered by the gateway", func(t *testing.T) {
		resp, _ := call(t, "OPTIONS", hello, map[string]string{
			"Origin": spaOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
		})
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Access-Control-Allow-Origin") != spaOrigin ||
			h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Max-Age") != "120" ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight: %d %v", resp.StatusCode, h)
		}
		resp, _ = call(t, "OPTIONS", hello, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign origin allowed: %v", resp.Header)
		}
	})

	t.Run("missing, foreign-audience and unsigned tokens are refused with APIM's body", func(t *testing.T) {
		const msg = "Unauthorized. Access token is missing or invalid."
		resp, body := call(t, "GET", hello, nil)
		if resp.StatusCode != 401 {
			t.Fatalf("no token: %d %s", resp.StatusCode, body)
		}
		wantAPIMError(t, body, 401, msg)
		other := issuer.Token(t, map[string]any{"sub": "x", "aud": "another-api"})
		resp, body = call(t, "GET", hello, map[string]string{"Authorization": "Bearer " + other})
		if resp.StatusCode != 401 {
			t.Fatalf("foreign aud: %d %s", resp.StatusCode, body)
		}
		wantAPIMError(t, body, 401, msg)
		parts := strings.Split(issuer.Token(t, map[string]any{"sub": "x", "aud": apiAppID}), ".")
		none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
		resp, body = call(t, "GET", hello, map[string]string{"Authorization": "Bearer " + none})
		if resp.StatusCode != 401 {
			t.Fatalf("alg none: %d %s", resp.StatusCode, body)
		}
		if n := backendCalls.Load(); n != 0 {
			t.Errorf("backend called %d times for refused requests", n)
		}
	})

	t.Run("valid token reaches the function, with CORS headers", func(t *testing.T) {
		resp, body := call(t, "GET", hello, map[string]string{"Authorization": token("user-a"), "Origin": spaOrigin})
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "Hello World, time and date are ") {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("response lacks CORS origin: %v", resp.Header)
		}
	})

	t.Run("16th call of one subject within a minute is 429", func(t *testing.T) {
		// user-a already made one call above.
		for i := 2; i <= 15; i++ {
			if resp, body := call(t, "GET", hello, map[string]string{"Authorization": token("user-a")}); resp.StatusCode != 200 {
				t.Fatalf("call %d: %d %s", i, resp.StatusCode, body)
			}
		}
		resp, body := call(t, "GET", hello, map[string]string{"Authorization": token("user-a")})
		if resp.StatusCode != 429 {
			t.Fatalf("16th call: %d %s", resp.StatusCode, body)
		}
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
		wantAPIMError(t, body, 429, fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", ra))
		// Another subject is not affected by user-a's limit.
		if resp, body := call(t, "GET", hello, map[string]string{"Authorization": token("user-b")}); resp.StatusCode != 200 {
			t.Fatalf("other subject: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("the 301st call from one address within two minutes is 429", func(t *testing.T) {
		// So far the IP counter holds 17 calls: 16 of user-a (the refused
		// 16th passed the IP limit first) and 1 of user-b.
		ok, counted := 0, 17
		for u := 0; counted < 300; u++ {
			sub := fmt.Sprintf("ip-user-%d", u)
			for i := 0; i < 15 && counted < 300; i++ {
				resp, body := call(t, "GET", hello, map[string]string{"Authorization": token(sub)})
				if resp.StatusCode != 200 {
					t.Fatalf("call %d: %d %s", counted+1, resp.StatusCode, body)
				}
				ok++
				counted++
			}
		}
		resp, body := call(t, "GET", hello, map[string]string{"Authorization": token("fresh-user")})
		if resp.StatusCode != 429 {
			t.Fatalf("301st call from the address: %d %s", resp.StatusCode, body)
		}
		if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 120 {
			t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
		if ok != 283 {
			t.Errorf("allowed %d calls before the address limit, want 283", ok)
		}
	})

	t.Run("health endpoints and metrics", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, body := call(t, "GET", srv.url("gateway")+p, nil); resp.StatusCode != 200 {
				t.Errorf("%s: %d %s", p, resp.StatusCode, body)
			}
		}
		// Metrics are on the admin listener only.
		if resp, _ := call(t, "GET", srv.url("gateway")+"/metrics", nil); resp.StatusCode != 404 {
			t.Errorf("gateway /metrics: %d, want 404", resp.StatusCode)
		}
		_, body := call(t, "GET", srv.url("admin")+"/metrics", nil)
		for _, want := range []string{"gatehouse_gateway_requests_total", `gatehouse_gateway_policy_rejections_total{policy="rate-limit-by-key",reason="RateLimitExceeded"}`, `reason="TokenClaimValueNotAllowed"`} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("SIGTERM shuts down cleanly", func(t *testing.T) {
		srv.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- srv.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("did not stop")
		}
	})
}
