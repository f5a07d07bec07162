package site

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestHandler(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "index.html"), []byte("<h1>spa</h1>"), 0o644)
	os.MkdirAll(filepath.Join(root, "msal5"), 0o755)
	os.WriteFile(filepath.Join(root, "msal5", "index.html"), []byte("<h1>five</h1>"), 0o644)
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	os.WriteFile(filepath.Join(root, ".env"), []byte("SECRET=1"), 0o644)
	h, err := Handler(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/", 200, "<h1>spa</h1>"},
		{"GET", "/msal5/", 200, "<h1>five</h1>"},
		{"GET", "/index.html", 301, ""}, // the file server's canonical redirect to "./"
		{"GET", "/empty/", 404, ""},     // no listing of folders without index.html
		{"GET", "/.env", 404, ""},       // dot-files are never served
		{"GET", "/missing.js", 404, ""},
		{"POST", "/", 405, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.code || (c.body != "" && rec.Body.String() != c.body) {
			t.Errorf("%s %s: %d %q", c.method, c.path, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff header", c.method, c.path)
		}
	}
	if _, err := Handler(filepath.Join(root, "nope")); err == nil {
		t.Error("a missing root was accepted")
	}
}
