package gateway

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// BenchmarkForward: one request through the gateway to a backend
// (handler called directly; backend over loopback), tracing off: the
// path whose cost must not grow with the tracing hooks (131 allocs/op
// before and after them).
func BenchmarkForward(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer be.Close()
	dir := b.TempDir()
	p := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(p, []byte("gateway:\n  listen: 127.0.0.1:0\n  apis:\n    - { name: a, path: api, serviceUrl: \""+be.URL+"\", subscriptionRequired: false }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		b.Fatal(err)
	}
	gw, err := New(cfg.Gateway, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			gw.ServeHTTP(rec, httptest.NewRequest("GET", "/api/x", nil))
			if rec.Code != 200 {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
