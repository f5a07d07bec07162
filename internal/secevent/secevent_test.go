package secevent

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEmitLogsAndCounts(t *testing.T) {
	var buf bytes.Buffer
	reg := prometheus.NewRegistry()
	r, err := New(slog.New(slog.NewJSONHandler(&buf, nil)), reg, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	r.Emit(t.Context(), SignInFailed, slog.String("user", r.Hash("A@Example.com ")), slog.String("ip", "192.0.2.1"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if line["msg"] != "security event" || line["event"] != "signin_failed" || line["ip"] != "192.0.2.1" || line["level"] != "WARN" {
		t.Fatalf("log line = %v", line)
	}
	if strings.Contains(buf.String(), "example.com") {
		t.Fatalf("the address leaked into the log: %s", buf.String())
	}
	if got := testutil.ToFloat64(r.counter.WithLabelValues("signin_failed")); got != 1 {
		t.Fatalf("counter = %v, want 1", got)
	}
	// A second recorder on the same registry shares the counter.
	r2, err := New(nil, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2.counter.WithLabelValues("signin_failed").Inc()
	if got := testutil.ToFloat64(r.counter.WithLabelValues("signin_failed")); got != 2 {
		t.Fatalf("shared counter = %v, want 2", got)
	}
}

func TestHashIsKeyedAndNormalised(t *testing.T) {
	a, _ := New(nil, nil, []byte("one"))
	b, _ := New(nil, nil, []byte("two"))
	if a.Hash("x@y.z") != a.Hash(" X@Y.Z") {
		t.Fatal("Hash does not fold case and space")
	}
	if a.Hash("x@y.z") == b.Hash("x@y.z") {
		t.Fatal("Hash ignores its key")
	}
	var nilRec *Recorder
	if nilRec.Hash("x") == "" {
		t.Fatal("nil recorder hash is empty")
	}
	nilRec.Emit(t.Context(), AdminAction) // must not panic
}
