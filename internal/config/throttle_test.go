package config

import (
	"strings"
	"testing"
	"time"
)

// TestIdentityLockoutAndThrottle: identity.lockout and identity.throttle
// parse, and bad values are refused with their file:line:col.
func TestIdentityLockoutAndThrottle(t *testing.T) {
	src := `identity:
  listen: 127.0.0.1:8080
  lockout: { threshold: 5, duration: 30s, familiarDevices: 30d }
  throttle:
    signInFailuresPerIp: { limit: 50, window: 10m }
    codesPerEmail: { limit: 3, window: 1h }
`
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	id := cfg.Identity
	if id.Lockout.Threshold != 5 || id.Lockout.FamiliarDevices.D != 30*24*time.Hour ||
		id.Throttle.SignInFailuresPerIP.Limit != 50 || id.Throttle.SignInFailuresPerIP.Window.D != 10*time.Minute ||
		id.Throttle.CodesPerEmail.Limit != 3 || id.Throttle.CodesPerIP != nil {
		t.Fatalf("parsed %+v %+v", id.Lockout, id.Throttle)
	}
	bad := `identity:
  listen: 127.0.0.1:8080
  lockout: { threshold: -1, duration: 10h, familiarDevices: 500d }
  throttle:
    codesPerIp: { limit: 0, window: 1h }
    codeGuessesPerIp:
      limit: 5
      window: 48h
    clientSecretFailuresPerIp: { limit: 5 }
`
	_, err = Parse("/etc/gh/gatehouse.yaml", []byte(bad), env(nil))
	if err == nil {
		t.Fatal("bad limits accepted")
	}
	for _, want := range []string{
		"gatehouse.yaml:3:12: identity.lockout.threshold must be between 1 and 1000",
		"identity.lockout.duration must be between 1s and 5h",
		"identity.lockout.familiarDevices must be between 1h and 400d",
		"gatehouse.yaml:5:17: identity.throttle.codesPerIp.limit must be between 1 and 1000000, got 0",
		"gatehouse.yaml:8:15: identity.throttle.codeGuessesPerIp.window must be between 1s and 24h",
		"identity.throttle.clientSecretFailuresPerIp.window is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	_, err = Parse("/etc/gh/gatehouse.yaml", []byte("identity:\n  listen: 127.0.0.1:8080\n  throttle: { guessesPerMoon: { limit: 1, window: 1h } }\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `gatehouse.yaml:3:15: unknown key "guessesPerMoon" in identity.throttle`) {
		t.Fatalf("unknown throttle key: %v", err)
	}
}
