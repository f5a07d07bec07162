package idmetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A nil *Metrics (no registry) takes every hook and counts nothing.
func TestNil(t *testing.T) {
	m, err := New(nil)
	if err != nil || m != nil {
		t.Fatalf("New(nil) = %v, %v", m, err)
	}
	m.SignIn("f", Success)
	m.SignUp("f", Failure)
	m.Failed(ReasonLocked)
	m.Token("client_credentials", 200)
	m.ConnectorCall("c", "s", "Continue", time.Millisecond)
	m.StoreCall("users.get", time.Millisecond)
	m.Request("token", 200)
	w := httptest.NewRecorder()
	if m.Wrap(w) != http.ResponseWriter(w) {
		t.Fatal("a nil Metrics wrapped the writer")
	}
	Done(w)
	SetEndpoint(w, "token")
	if StatusOf(w) != 0 || MetricsOf(w) != nil {
		t.Fatal("a plain writer has a status or metrics")
	}
}

// Two roles sharing a registry share the collectors; the recorder counts
// the endpoint and the status the handler wrote.
func TestSharedRegistryAndRecorder(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m1.Token("refresh_token", 400)
	m2.Token("password", 200)
	if got := testutil.ToFloat64(m1.tokens.WithLabelValues("refresh_token", Failure)); got != 1 {
		t.Errorf("refresh_token failures = %v", got)
	}
	if got := testutil.ToFloat64(m1.tokens.WithLabelValues("other", Success)); got != 1 {
		t.Errorf("other grant = %v", got)
	}
	w := m1.Wrap(httptest.NewRecorder())
	SetEndpoint(w, "token")
	w.WriteHeader(http.StatusTooManyRequests)
	if StatusOf(w) != 429 || MetricsOf(w) != m1 {
		t.Fatalf("status %d", StatusOf(w))
	}
	Done(w)
	if got := testutil.ToFloat64(m2.requests.WithLabelValues("token", "429")); got != 1 {
		t.Errorf("requests{token,429} = %v", got)
	}
	m1.StoreCall("users.get", time.Millisecond)
	m2.StoreCall("users.get", time.Millisecond)
	if got := testutil.CollectAndCount(m1.storeTime); got != 1 {
		t.Errorf("store series = %d", got)
	}
}
