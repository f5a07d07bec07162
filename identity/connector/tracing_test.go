package connector

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// TestTraceparent: with tracing on, a connector call carries the
// sign-in's trace to the API as a W3C traceparent.
func TestTraceparent(t *testing.T) {
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer col.Close()
	stop, err := tracing.Start(&config.Tracing{OTLPEndpoint: col.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())

	p := newPKI(t)
	a := newAPI(t, p, tls.NoClientCert, nil)
	f := newFixture(t, p, config.APIConnector{Name: "v", EndpointURL: a.srv.URL, AuthenticationType: "none",
		AllowInsecureAuthInProduction: true}, stepPAC, Options{})
	ctx, span := otel.Tracer("test").Start(context.Background(), "sign-up")
	if _, err := f.cs.Call(ctx, tenant.StepPostAttributeCollection, f.flow, signupClaims()); err != nil {
		t.Fatal(err)
	}
	span.End()
	tp := a.last().Header.Get("Traceparent")
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || parts[1] != span.SpanContext().TraceID().String() || parts[2] == span.SpanContext().SpanID().String() {
		t.Fatalf("traceparent %q: want trace %s with the connector's client span as parent", tp, span.SpanContext().TraceID())
	}
}
