// Package idmetrics holds the identity role's Prometheus metrics
// (gatehouse_identity_*): sign-ins and sign-ups by flow and result,
// failures by reason, tokens by grant type and result, API connector calls
// with their latency, store latency by operation and HTTP requests by
// endpoint and status. A nil *Metrics counts nothing, so every hook is a
// plain method call.
package idmetrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/promreg"
	"github.com/gatehouse/gatehouse/internal/statuswriter"
)

// Results and failure reasons (label values).
const (
	Success = "success"
	Failure = "failure"

	ReasonWrongPassword = "wrong_password"
	ReasonLocked        = "locked"
	ReasonThrottled     = "throttled"
	ReasonUserExists    = "user_exists"
	ReasonWrongCode     = "wrong_code"
	ReasonBlocked       = "blocked" // an API connector's block page or validation error
)

// Reasons lists the failure reasons (created at zero).
var Reasons = []string{ReasonWrongPassword, ReasonLocked, ReasonThrottled, ReasonUserExists, ReasonWrongCode, ReasonBlocked}

// Grants are the token endpoint's grant types; others count as "other".
var Grants = []string{"authorization_code", "refresh_token", "client_credentials"}

// Metrics are the identity role's collectors.
type Metrics struct {
	signIns   *prometheus.CounterVec
	signUps   *prometheus.CounterVec
	failures  *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	connCalls *prometheus.CounterVec
	connTime  *prometheus.HistogramVec
	storeTime *prometheus.HistogramVec
	requests  *prometheus.CounterVec
	// storeCache holds the store histogram's observers by operation, so
	// a store call does not hash its label on every observation.
	storeCache observerCache
}

type observerCache struct {
	vec *prometheus.HistogramVec
	m   sync.Map // operation -> prometheus.Observer
}

func (c *observerCache) get(op string) prometheus.Observer {
	if o, ok := c.m.Load(op); ok {
		return o.(prometheus.Observer)
	}
	o, _ := c.m.LoadOrStore(op, c.vec.WithLabelValues(op))
	return o.(prometheus.Observer)
}

var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers the collectors in reg (a collector already registered
// there — a second identity role sharing the registry — is reused). A nil
// reg gives nil: nothing is counted.
func New(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_signins_total",
			Help: "Sign-ins with a password on the hosted pages, by flow and result (success, failure).",
		}, []string{"flow", "result"}),
		signUps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_signups_total",
			Help: "Local account sign-ups on the hosted pages, by flow and result (success, failure).",
		}, []string{"flow", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_failures_total",
			Help: "Failed sign-in and sign-up steps, by reason (wrong_password, locked, throttled, user_exists, wrong_code, blocked).",
		}, []string{"reason"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_tokens_total",
			Help: "Token endpoint requests, by grant type (authorization_code, refresh_token, client_credentials, other) and result (success, failure).",
		}, []string{"grant_type", "result"}),
		connCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_connector_calls_total",
			Help: "API connector calls, by connector, step and outcome (Continue, ShowBlockPage, ValidationError, Failed: the audit line's).",
		}, []string{"connector", "step", "outcome"}),
		connTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_identity_connector_duration_seconds",
			Help:    "API connector call time including retries, by connector and step.",
			Buckets: latencyBuckets,
		}, []string{"connector", "step"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_identity_store_duration_seconds",
			Help:    "Store call time, by operation (users.get_by_email, throttles.hit, codes.consume, ...).",
			Buckets: latencyBuckets,
		}, []string{"operation"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_identity_requests_total",
			Help: "Requests answered by the identity provider, by endpoint (config, keys, authorize, token, logout, pages, other) and status code.",
		}, []string{"endpoint", "code"}),
	}
	var err error
	for _, p := range []**prometheus.CounterVec{&m.signIns, &m.signUps, &m.failures, &m.tokens, &m.connCalls, &m.requests} {
		if *p, err = promreg.Register(reg, *p); err != nil {
			return nil, err
		}
	}
	for _, p := range []**prometheus.HistogramVec{&m.connTime, &m.storeTime} {
		if *p, err = promreg.Register(reg, *p); err != nil {
			return nil, err
		}
	}
	for _, r := range Reasons {
		m.failures.WithLabelValues(r)
	}
	for _, g := range Grants {
		m.tokens.WithLabelValues(g, Success)
		m.tokens.WithLabelValues(g, Failure)
	}
	m.storeCache.vec = m.storeTime
	return m, nil
}

// SignIn counts a password sign-in of flow.
func (m *Metrics) SignIn(flow, result string) {
	if m != nil {
		m.signIns.WithLabelValues(flow, result).Inc()
	}
}

// SignUp counts a local sign-up of flow.
func (m *Metrics) SignUp(flow, result string) {
	if m != nil {
		m.signUps.WithLabelValues(flow, result).Inc()
	}
}

// Failed counts a failure by reason.
func (m *Metrics) Failed(reason string) {
	if m != nil {
		m.failures.WithLabelValues(reason).Inc()
	}
}

// Token counts a token request by grant type and the status answered.
func (m *Metrics) Token(grant string, status int) {
	if m == nil {
		return
	}
	switch grant {
	case "authorization_code", "refresh_token", "client_credentials":
	default:
		grant = "other"
	}
	result := Success
	if status != http.StatusOK {
		result = Failure
	}
	m.tokens.WithLabelValues(grant, result).Inc()
}

// ConnectorCall counts one API connector call (the "api connector call"
// audit line's connector, step, outcome and duration).
func (m *Metrics) ConnectorCall(connector, step, outcome string, d time.Duration) {
	if m != nil {
		m.connCalls.WithLabelValues(connector, step, outcome).Inc()
		m.connTime.WithLabelValues(connector, step).Observe(d.Seconds())
	}
}

// StoreCall observes one store call (storemetrics.Observer).
func (m *Metrics) StoreCall(op string, d time.Duration) {
	if m != nil {
		m.storeCache.get(op).Observe(d.Seconds())
	}
}

// Request counts one answered request.
func (m *Metrics) Request(endpoint string, status int) {
	if m != nil {
		m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	}
}

// Recorder is the ResponseWriter Provider.ServeHTTP hands on when metrics
// are on: it remembers the status code and the endpoint the router chose.
type Recorder struct {
	*statuswriter.Writer
	m        *Metrics
	endpoint string
}

// Wrap returns w recording for m (w itself when m is nil); call Done on
// the result when the request is answered.
func (m *Metrics) Wrap(w http.ResponseWriter) http.ResponseWriter {
	if m == nil {
		return w
	}
	return &Recorder{Writer: statuswriter.New(w), m: m, endpoint: "other"}
}

// Done counts the request of w (a Wrap result; anything else is ignored).
func Done(w http.ResponseWriter) {
	if rw, ok := w.(*Recorder); ok {
		rw.m.Request(rw.endpoint, rw.Status())
	}
}

// SetEndpoint names the endpoint of w's request (no-op unless w is a
// Recorder).
func SetEndpoint(w http.ResponseWriter, endpoint string) {
	if rw, ok := w.(*Recorder); ok {
		rw.endpoint = endpoint
	}
}

// StatusOf is the status w has answered so far (0: not a Recorder).
func StatusOf(w http.ResponseWriter) int {
	if rw, ok := w.(*Recorder); ok {
		return rw.Status()
	}
	return 0
}

// MetricsOf returns the Metrics w records for (nil: none).
func MetricsOf(w http.ResponseWriter) *Metrics {
	if rw, ok := w.(*Recorder); ok {
		return rw.m
	}
	return nil
}
