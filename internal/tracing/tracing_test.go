package tracing

import (
	"context"
	"net/http"
	"testing"
)

// Off (no tracing: section), Handler and Transport hand back what they
// are given: the hot path keeps its handler and transport unwrapped.
func TestOffIsIdentity(t *testing.T) {
	stop, err := Start(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	if Enabled() {
		t.Fatal("tracing on without a config")
	}
	h := http.NewServeMux()
	if got := Handler("gateway", h); got != http.Handler(h) {
		t.Errorf("Handler wrapped h while off: %T", got)
	}
	tr := &http.Transport{}
	if got := Transport(tr); got != http.RoundTripper(tr) {
		t.Errorf("Transport wrapped the transport while off: %T", got)
	}
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":                   "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":                  "http://127.0.0.1:4318/v1/traces",
		"https://otel.example.com/otlp":           "https://otel.example.com/otlp/v1/traces",
		"https://otel.example.com/otlp/v1/traces": "https://otel.example.com/otlp/v1/traces",
	} {
		if got := TracesURL(in); got != want {
			t.Errorf("TracesURL(%q) = %q, want %q", in, got, want)
		}
	}
}
