package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// scaleConfig is a gateway of apis APIs with ops operations each, every
// operation with a path parameter, as large APIOps tenants have.
func scaleConfig(b *testing.B, apis, ops int) *config.Config {
	cfg, err := config.Parse("/scale.yaml", scaleYAML(apis, ops), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func scaleYAML(apis, ops int) []byte {
	var s strings.Builder
	s.WriteString("gateway:\n  listen: 127.0.0.1:0\n  apis:\n")
	for i := range apis {
		fmt.Fprintf(&s, "    - name: api%d\n      path: svc%d/v1\n      serviceUrl: http://backend.invalid/api%d\n      subscriptionRequired: false\n      operations:\n", i, i, i)
		for j := range ops {
			fmt.Fprintf(&s, "        - { name: op%d, method: GET, urlTemplate: \"/items%d/{id}\" }\n", j, j)
		}
	}
	return []byte(s.String())
}

// answer is the backend: every request is answered in-process, so the
// benchmark measures the gateway's routing, not a network.
type answer struct{}

func (answer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
}

// BenchmarkScaleLoad reads and loads a config of 2,000 APIs of 20
// operations (the target: under 2 s).
func BenchmarkScaleLoad(b *testing.B) {
	src := scaleYAML(2000, 20)
	for b.Loop() {
		cfg, err := config.Parse("/scale.yaml", src, func(string) (string, bool) { return "", false })
		if err != nil {
			b.Fatal(err)
		}
		gw, err := New(cfg.Gateway, Options{Transport: answer{}})
		if err != nil {
			b.Fatal(err)
		}
		gw.Close()
	}
}

// BenchmarkScaleRoute: a request to the last of 1 or 2,000 APIs (20
// operations each, the last operation): routing must cost the same.
func BenchmarkScaleRoute(b *testing.B) {
	for _, n := range []int{1, 2000} {
		b.Run(fmt.Sprintf("apis=%d", n), func(b *testing.B) {
			cfg := scaleConfig(b, n, 20)
			gw, err := New(cfg.Gateway, Options{Transport: answer{}})
			if err != nil {
				b.Fatal(err)
			}
			defer gw.Close()
			target := fmt.Sprintf("/svc%d/v1/items19/42", n-1)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				gw.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
