package statuswriter

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(w http.ResponseWriter)
		want int
	}{
		{"nothing written", func(http.ResponseWriter) {}, 200},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("x")) }, 200},
		{"explicit", func(w http.ResponseWriter) { w.WriteHeader(429) }, 429},
		{"interim then final", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(404) }, 404},
		{"second WriteHeader ignored", func(w http.ResponseWriter) { w.WriteHeader(401); w.WriteHeader(500) }, 401},
		{"flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, 200},
	} {
		rec := httptest.NewRecorder()
		sw := New(rec)
		tc.h(sw)
		if sw.Status() != tc.want {
			t.Errorf("%s: Status %d, want %d", tc.name, sw.Status(), tc.want)
		}
	}
	rec := httptest.NewRecorder()
	if err := http.NewResponseController(New(rec)).Flush(); err != nil || !rec.Flushed {
		t.Fatalf("ResponseController through Unwrap: %v, flushed %v", err, rec.Flushed)
	}
}
