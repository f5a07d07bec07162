package identity

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func benchCC(b *testing.B, alg string) {
	e := newEnv(b, alg)
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID}, "client_secret": {daemonSec},
		"scope": {apiURI + "/.default"}}.Encode()
	path := "/contoso.onmicrosoft.com/" + flowName + "/oauth2/v2.0/token"
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			e.p.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkClientCredentialsES256 measures the client-credentials path
// through the HTTP handler (parallel on all cores).
func BenchmarkClientCredentialsES256(b *testing.B) { benchCC(b, "ES256") }

// BenchmarkClientCredentialsRS256: the same with RSA-2048.
func BenchmarkClientCredentialsRS256(b *testing.B) { benchCC(b, "RS256") }
