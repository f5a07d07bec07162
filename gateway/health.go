package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Reserved paths: answered by the gateway itself, before API routing. An
// API whose path is one of them is a load error.
var reservedPaths = map[string]bool{"healthz": true, "readyz": true, "metrics": true}

// readyTimeout bounds the Redis ping of /readyz.
const readyTimeout = time.Second

// serveOps answers GET /healthz and /readyz; false for any other path.
// Metrics are not served here: the admin listener serves the registry.
func (g *Gateway) serveOps(w http.ResponseWriter, r *http.Request) bool {
	var h func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case "/healthz":
		h = g.healthz
	case "/readyz":
		h = g.readyz
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed on "+r.URL.Path+".")
		return true
	}
	h(w, r)
	return true
}

// healthz: the process is alive.
func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// readyz: a configuration is loaded and, with Redis, Redis answers a ping
// within a second.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	st := g.acquire()
	if st == nil {
		writeReady(w, http.StatusServiceUnavailable, "no configuration loaded (gateway closed)")
		return
	}
	defer st.release()
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := st.stores.ping(ctx); err != nil {
		g.log.Warn("readyz: Redis does not answer", "error", err)
		writeReady(w, http.StatusServiceUnavailable, "redis: "+err.Error())
		return
	}
	writeReady(w, http.StatusOK, "")
}

func writeReady(w http.ResponseWriter, status int, reason string) {
	v := map[string]string{"status": "ready"}
	if status != http.StatusOK {
		v = map[string]string{"status": "not ready", "reason": reason}
	}
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
