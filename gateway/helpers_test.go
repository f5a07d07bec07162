package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// echo is what the test backend saw.
type echo struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Headers http.Header `json:"headers"`
	Body    string      `json:"body"`
	Backend string      `json:"backend"`
}

// newBackend starts a backend that answers every request with an echo of
// it, tagged with name.
func newBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e := echo{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Headers: r.Header, Body: string(b), Backend: name}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(s.Close)
	return s
}

// writeFiles writes name → content under dir (creating folders).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadConfig writes gatehouse.yaml (and files) into dir and loads it with
// config.Load; yaml is the body of the gateway: section, indented by 2.
func loadConfig(t *testing.T, dir, yaml string, files map[string]string) *config.Gateway {
	t.Helper()
	writeFiles(t, dir, files)
	p := filepath.Join(dir, "gatehouse.yaml")
	src := "gateway:\n  listen: 127.0.0.1:0\n" + yaml
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("config.Load:\n%v\n--- config ---\n%s", err, src)
	}
	return cfg.Gateway
}

// start loads the gateway and serves it.
func start(t *testing.T, cfg *config.Gateway, opts Options) (*Gateway, *httptest.Server) {
	t.Helper()
	gw, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		srv.Close()
		_ = gw.Close()
	})
	return gw, srv
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request; headers are name, value pairs.
func do(t *testing.T, method, u string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func get(t *testing.T, u string, headers ...string) response {
	t.Helper()
	return do(t, http.MethodGet, u, nil, headers...)
}

// echoed decodes the backend echo of a 200 response.
func (r response) echoed(t *testing.T) echo {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	var e echo
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("backend echo: %v in %q", err, r.body)
	}
	return e
}

// wantError checks APIM's {"statusCode":N,"message":"..."} body.
func (r response) wantError(t *testing.T, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var v struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if v.StatusCode != status || v.Message != message {
		t.Errorf("error body %s, want statusCode %d message %q", r.body, status, message)
	}
}

func q(s string) string { return url.QueryEscape(s) }
