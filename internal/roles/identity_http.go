package roles

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/console"
	"github.com/gatehouse/gatehouse/store"
)

// identityRequestLimit bounds every identity request. A database that stops
// answering without closing connections (a network partition) would
// otherwise hold requests forever; with the deadline the store reports
// ErrUnavailable and the caller gets a clean 503. Sign-ins take ~0.1 s, so
// the limit is far from normal work.
const identityRequestLimit = 10 * time.Second

// identityHandler serves /healthz and /readyz beside the provider (these
// paths are not tenants) and applies identityRequestLimit.
func identityHandler(p http.Handler, st store.Store, graphPrefix string, directory http.Handler, cons *console.Console) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cons != nil && (r.URL.Path == cons.Path() || strings.HasPrefix(r.URL.Path, cons.Path()+"/")) {
			// The admin console ({publicUrl}/console/).
			ctx, cancel := context.WithTimeout(r.Context(), identityRequestLimit)
			defer cancel()
			cons.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if strings.HasPrefix(r.URL.Path, graphPrefix) {
			// The Graph-compatible directory API ({publicUrl}/graph/v1.0).
			ctx, cancel := context.WithTimeout(r.Context(), identityRequestLimit)
			defer cancel()
			directory.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		switch r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok"))
			return
		case "/readyz":
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			if err := st.Ping(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				json.NewEncoder(w).Encode(map[string]string{"status": "not ready", "reason": "the store does not answer"})
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"status": "ready"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), identityRequestLimit)
		defer cancel()
		p.ServeHTTP(w, r.WithContext(ctx))
	})
}
