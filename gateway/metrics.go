package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/promreg"
)

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	rejections *prometheus.CounterVec
	reloads    *prometheus.CounterVec
	// Request bodies read into memory (body.go).
	bodyMemory   prometheus.Gauge
	bodyRead     prometheus.Counter
	bodyRefusals prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_gateway_requests_total",
			Help: "Requests answered by the gateway, by API, operation and status code (api=\"\" when no API matched).",
		}, []string{"api", "operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_gateway_request_duration_seconds",
			Help:    "Time from receiving a request to the end of its response, by API.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"api"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_gateway_policy_rejections_total",
			Help: "Requests refused by a policy (rate-limit, quota, validate-jwt, ip-filter, ...), by policy and reason.",
		}, []string{"policy", "reason"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_gateway_config_reloads_total",
			Help: "Configuration reloads, by result (success or failure).",
		}, []string{"result"}),
		bodyMemory: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_gateway_request_body_memory_bytes",
			Help: "Bytes of request bodies held in memory now (read by a policy or an expression; streamed bodies are not held).",
		}),
		bodyRead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_gateway_request_body_read_bytes_total",
			Help: "Bytes of memory reserved for reading request bodies since the start.",
		}),
		bodyRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_gateway_request_body_budget_refusals_total",
			Help: "Requests answered 503 because their body did not fit the gateway's memory budget for bodies (gateway.limits.maxBufferedBodyBytes).",
		}),
	}
	var err error
	m.requests, err = promreg.Register(reg, m.requests)
	if err != nil {
		return nil, err
	}
	if m.duration, err = promreg.Register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.rejections, err = promreg.Register(reg, m.rejections); err != nil {
		return nil, err
	}
	if m.reloads, err = promreg.Register(reg, m.reloads); err != nil {
		return nil, err
	}
	if m.bodyMemory, err = promreg.Register(reg, m.bodyMemory); err != nil {
		return nil, err
	}
	if m.bodyRead, err = promreg.Register(reg, m.bodyRead); err != nil {
		return nil, err
	}
	if m.bodyRefusals, err = promreg.Register(reg, m.bodyRefusals); err != nil {
		return nil, err
	}
	// Make the series visible before the first event.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m, nil
}

func (m *metrics) observe(api, op string, code int, d time.Duration) {
	m.requests.WithLabelValues(api, op, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(api).Observe(d.Seconds())
}

func (m *metrics) rejected(policy, reason string) {
	m.rejections.WithLabelValues(policy, reason).Inc()
}

func (m *metrics) bodyHeld(n int64) {
	m.bodyMemory.Add(float64(n))
	m.bodyRead.Add(float64(n))
}

func (m *metrics) bodyReleased(n int64) { m.bodyMemory.Sub(float64(n)) }

func (m *metrics) bodyRejected() { m.bodyRefusals.Inc() }
