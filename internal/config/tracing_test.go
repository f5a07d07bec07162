package config

import (
	"strings"
	"testing"
)

func TestTracing(t *testing.T) {
	base := strings.Replace(goodGateway, "  redis: redis://127.0.0.1:6379/0\n", "", 1)
	vars := env(map[string]string{"HELLO_FUNCTION_KEY": "k", "SPA_SUB_KEY": "0123456789abcdef0123", "OTLP_KEY": "secret-key"})
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(base+`tracing:
  otlpEndpoint: http://127.0.0.1:4318
  serviceName: edge
  sampleRatio: 0.25
  headers: { X-Api-Key: env:OTLP_KEY }
`), vars)
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Tracing
	if tr == nil || tr.OTLPEndpoint != "http://127.0.0.1:4318" || tr.ServiceName != "edge" || tr.SampleRatio == nil ||
		*tr.SampleRatio != 0.25 || tr.Headers["X-Api-Key"].Value != "secret-key" || tr.Pos.Line != 20 {
		t.Fatalf("tracing = %+v", tr)
	}
	if cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(base), vars); err != nil || cfg.Tracing != nil {
		t.Fatalf("no tracing section: %+v %v", cfg, err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"tracing: { serviceName: x }\n", "gatehouse.yaml:19:10: tracing.otlpEndpoint is required"},
		{"tracing: { otlpEndpoint: 127.0.0.1:4318 }\n", `gatehouse.yaml:19:10: tracing.otlpEndpoint "127.0.0.1:4318" is not an http(s) URL`},
		{"tracing: { otlpEndpoint: grpc://c:4317 }\n", "is not an http(s) URL"},
		{"tracing: { otlpEndpoint: http://c:4318, sampleRatio: 1.5 }\n", "tracing.sampleRatio must be between 0 and 1, got 1.5"},
		{"tracing: { otlpEndpoint: http://c:4318, sampleRatio: -0.1 }\n", "tracing.sampleRatio must be between 0 and 1"},
		{"tracing: { otlpEndpoint: http://c:4318, sampleRatio: all }\n", `gatehouse.yaml:19:54: tracing.sampleRatio: expected a number, got "all"`},
		{"tracing: { otlpEndpoint: http://c:4318, headers: { \"a b\": x } }\n", `tracing.headers: "a b" is not a header name`},
		{"tracing: { otlpEndpoint: http://c:4318, headers: { K: env:NOT_SET } }\n", "NOT_SET"},
		{"tracing: { otlpEndpoint: http://c:4318, exporter: otlp }\n", `unknown key "exporter"`},
	} {
		_, err := Parse("/etc/gh/gatehouse.yaml", []byte(base+c.yaml), vars)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
