// Package tracing is Gatehouse's OpenTelemetry tracing: W3C trace context
// (traceparent, tracestate, baggage) continued from incoming requests and
// sent on outgoing ones (gateway to backend, guard to upstream, API
// connectors), spans exported over OTLP/HTTP to the config's
// tracing.otlpEndpoint.
//
// Tracing is off unless the config has a tracing: section. Off, Handler and
// Transport return what they are given — no wrapper, no span, no cost on
// the hot path — and the gateway and guard pass a caller's traceparent on
// to the backend unchanged as an ordinary header, as APIM does.
package tracing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gatehouse/gatehouse/internal/config"
)

// DefaultServiceName is service.name when tracing.serviceName is empty.
const DefaultServiceName = "gatehouse"

var (
	enabled    atomic.Bool
	transports sync.Map // *http.Transport -> *otelhttp.Transport
)

// Enabled reports whether a tracing: section started an exporter.
func Enabled() bool { return enabled.Load() }

// Start sets up tracing from cfg and returns the function that flushes
// the spans still buffered and stops the exporter (call it after the
// listeners have shut down). A nil cfg leaves tracing off (stop does
// nothing). Nothing is contacted at start: the exporter connects when it
// first sends, and failures to send are logged, never fatal.
func Start(cfg *config.Tracing, log *slog.Logger) (stop func(context.Context) error, err error) {
	if cfg == nil {
		return func(context.Context) error { return nil }, nil
	}
	if log == nil {
		log = slog.Default()
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(TracesURL(cfg.OTLPEndpoint))}
	if len(cfg.Headers) > 0 {
		h := make(map[string]string, len(cfg.Headers))
		for k, v := range cfg.Headers {
			h[k] = v.Value
		}
		opts = append(opts, otlptracehttp.WithHeaders(h))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, &config.Error{Pos: cfg.Pos, Msg: "tracing: " + err.Error()}
	}
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	ratio := 1.0
	if cfg.SampleRatio != nil {
		ratio = *cfg.SampleRatio
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(redacting{exp}),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
		// A caller's sampling decision (the traceparent flag) is kept;
		// new traces are sampled at the ratio.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "err", err)
	}))
	enabled.Store(true)
	log.Info("tracing on", "otlpEndpoint", TracesURL(cfg.OTLPEndpoint), "serviceName", name, "sampleRatio", ratio)
	return func(ctx context.Context) error {
		enabled.Store(false)
		err := tp.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			log.Warn("tracing: spans dropped at shutdown", "err", err)
		}
		return err
	}, nil
}

// TracesURL is the OTLP/HTTP traces URL of an otlpEndpoint: the endpoint
// is the collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT), to which
// /v1/traces is added unless its path already ends so.
func TracesURL(endpoint string) string {
	if strings.HasSuffix(endpoint, "/v1/traces") {
		return endpoint
	}
	return strings.TrimSuffix(endpoint, "/") + "/v1/traces"
}

// Handler returns h making one server span per request of role
// (continuing an incoming traceparent) when tracing is on, h itself when
// off. /healthz and /readyz make no spans.
func Handler(role string, h http.Handler) http.Handler {
	if !enabled.Load() {
		return h
	}
	return otelhttp.NewHandler(h, role,
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return op + " " + r.Method }))
}

// Transport returns rt making one client span per request and sending
// the trace context (traceparent) when tracing is on, rt itself when off.
// Wrappers of an *http.Transport are made once and reused.
func Transport(rt http.RoundTripper) http.RoundTripper {
	if !enabled.Load() {
		return rt
	}
	ht, ok := rt.(*http.Transport)
	if !ok {
		return otelhttp.NewTransport(rt)
	}
	if t, ok := transports.Load(ht); ok {
		return t.(http.RoundTripper)
	}
	t, _ := transports.LoadOrStore(ht, otelhttp.NewTransport(ht))
	return t.(http.RoundTripper)
}

// redacting removes the query string from spans' url.full before they
// are exported: backend URLs may carry secrets there (an Azure Functions
// ?code= key from a named value, a subscription-key), and Gatehouse never
// logs those. Server spans record the path only.
type redacting struct{ sdktrace.SpanExporter }

func (r redacting) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, copied := spans, false
	for i, s := range spans {
		attrs := s.Attributes()
		for j, a := range attrs {
			if a.Key != "url.full" || !strings.ContainsAny(a.Value.AsString(), "?#") {
				continue
			}
			if !copied {
				out, copied = append([]sdktrace.ReadOnlySpan(nil), spans...), true
			}
			c := append([]attribute.KeyValue(nil), attrs...)
			c[j] = attribute.String("url.full", RedactURL(a.Value.AsString()))
			out[i] = redactedSpan{s, c}
			break
		}
	}
	return r.SpanExporter.ExportSpans(ctx, out)
}

// redactedSpan is a span with other attributes.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }

// RedactURL is u without its query and fragment.
func RedactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
