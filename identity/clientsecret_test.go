package identity

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestClientSecretGuessingThrottled: wrong client secrets are counted per
// client address and per client id across the store; over the limit the
// token endpoint answers 429 temporarily_unavailable (AADB2C90229) with
// Retry-After without comparing the secret, the real client on another
// address keeps working, and every failure is a security event without
// the secret (issue 9, item 10).
func TestClientSecretGuessingThrottled(t *testing.T) {
	e := newEnv(t, "RS256")
	logs := &syncBuf{}
	ev, err := secevent.New(slog.New(slog.NewJSONHandler(logs, nil)), nil, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	e.p.opts.Events = ev
	var mu sync.Mutex
	now := time.Now()
	e.p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	lim := e.p.secrets.init(e.p)
	lim.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // the test's proxy

	post := func(secret, from string) (int, http.Header, map[string]any) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID}, "client_secret": {secret},
			"scope": {"https://contoso.onmicrosoft.com/backend/.default"}}
		req, _ := http.NewRequest("POST", e.authority()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil, nil
		}
		defer res.Body.Close()
		var m map[string]any
		_ = jsonDecode(res, &m)
		return res.StatusCode, res.Header, m
	}

	// 30 guesses at once from one address.
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, 30)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], _, _ = post("guess-guess-guess-"+string(rune('a'+i)), "203.0.113.9")
		}()
	}
	close(start)
	wg.Wait()
	unauthorized, throttled := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			throttled++
		}
	}
	t.Logf("30 concurrent wrong secrets: %d invalid_client, %d throttled", unauthorized, throttled)
	if unauthorized > 20 || unauthorized+throttled != 30 || throttled < 10 {
		t.Fatalf("30 concurrent wrong secrets: %d invalid_client, %d throttled; want at most 20 definite answers", unauthorized, throttled)
	}
	// The address is throttled: even the right secret is not compared.
	code, h, body := post(daemonSec, "203.0.113.9")
	if code != http.StatusTooManyRequests || body["error"] != "temporarily_unavailable" ||
		!strings.HasPrefix(body["error_description"].(string), "AADB2C90229") || h.Get("Retry-After") == "" {
		t.Fatalf("right secret from the throttled address: %d %v %v", code, h, body)
	}
	// The client is under attack: another address that has failed is
	// refused, one that has not (the real daemon) is served.
	if code, _, _ := post("wrong-wrong-wrong-wrong", "198.51.100.1"); code != http.StatusTooManyRequests {
		t.Fatalf("a new address's wrong secret for the attacked client: %d, want 429", code)
	}
	if code, _, _ := post(daemonSec, "198.51.100.1"); code != http.StatusTooManyRequests {
		t.Fatalf("right secret from an address that failed while the client is attacked: %d, want 429", code)
	}
	if code, _, body := post(daemonSec, "192.0.2.50"); code != http.StatusOK {
		t.Fatalf("the real client on its own address: %d %v", code, body)
	}
	// The window ends: the address may try again.
	mu.Lock()
	now = now.Add(5*time.Minute + time.Second)
	mu.Unlock()
	if code, _, body := post(daemonSec, "203.0.113.9"); code != http.StatusOK {
		t.Fatalf("after the window: %d %v", code, body)
	}
	log := logs.String()
	if strings.Count(log, `"event":"client_auth_failed"`) != unauthorized || !strings.Contains(log, `"event":"client_throttled"`) {
		t.Fatalf("events: %s", log)
	}
	if strings.Contains(log, "guess-guess") || strings.Contains(log, daemonSec) || !strings.Contains(log, `"ip":"203.0.113.9"`) {
		t.Fatalf("a secret in the security log, or no address: %s", log)
	}
}

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
