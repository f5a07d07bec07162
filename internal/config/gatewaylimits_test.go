package config

import (
	"strings"
	"testing"
)

func TestGatewayLimits(t *testing.T) {
	base := strings.Replace(goodGateway, "  redis: redis://127.0.0.1:6379/0\n", "", 1)
	vars := env(map[string]string{"HELLO_FUNCTION_KEY": "k", "SPA_SUB_KEY": "0123456789abcdef0123"})
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(base+"  limits: { maxRequestBodyBytes: 1048576, maxBufferedBodyBytes: 67108864 }\n"), vars)
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Gateway.Limits
	if l == nil || l.MaxRequestBodyBytes != 1<<20 || l.MaxBufferedBodyBytes != 64<<20 || l.Pos.Line != 19 {
		t.Fatalf("limits = %+v", l)
	}
	for _, c := range []struct{ yaml, want string }{
		{"  limits: { maxRequestBodyBytes: -1 }\n", "gatehouse.yaml:19:11: gateway.limits.maxRequestBodyBytes must be a number of bytes"},
		{"  limits: { maxBufferedBodyBytes: -5 }\n", "gateway.limits.maxBufferedBodyBytes must be a number of bytes"},
		{"  limits: { maxRequestBodyBytes: 536870912 }\n", "gateway.limits.maxBufferedBodyBytes (268435456) is smaller than maxRequestBodyBytes (536870912)"},
		{"  limits: { maxBufferedBodyBytes: 1000, maxRequestBodyBytes: 2000 }\n", "(1000) is smaller than maxRequestBodyBytes (2000)"},
		{"  limits: { maxBodyBytes: 5 }\n", `unknown key "maxBodyBytes"`},
		{"  limits: { maxRequestBodyBytes: 16MiB }\n", "expected a whole number"},
	} {
		_, err := Parse("/etc/gh/gatehouse.yaml", []byte(base+c.yaml), vars)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
