package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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

// Spans lose url.full's query before export.
func TestRedactQuery(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(redacting{mem}))
	_, span := tp.Tracer("t").Start(context.Background(), "HTTP GET")
	span.SetAttributes(attribute.String("url.full", "https://fn.example.net/api/hello?code=s3cret&x=1#f"), attribute.String("k", "v"))
	span.End()
	_, plain := tp.Tracer("t").Start(context.Background(), "HTTP GET")
	plain.SetAttributes(attribute.String("url.full", "https://fn.example.net/api/hello"))
	plain.End()
	got := mem.GetSpans()
	if len(got) != 2 {
		t.Fatalf("%d spans", len(got))
	}
	for _, s := range got {
		if v := attrOf(s.Attributes, "url.full"); v != "https://fn.example.net/api/hello" {
			t.Errorf("url.full = %q", v)
		}
	}
	if attrOf(got[0].Attributes, "k") != "v" {
		t.Errorf("other attributes lost: %v", got[0].Attributes)
	}
}

func attrOf(attrs []attribute.KeyValue, key string) string {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value.AsString()
		}
	}
	return ""
}
