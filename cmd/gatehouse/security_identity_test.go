package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

var (
	secFormRE   = regexp.MustCompile(`<form id="[^"]+" method="post" action="([^"]+)"`)
	secHiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// securityConfig is identityConfig with extra identity keys appended.
func securityConfig(t *testing.T, callback, extra string) (file, publicURL string, env []string) {
	file, publicURL, env = identityConfig(t, callback)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(b, []byte(extra)...), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, publicURL, env
}

// signInPage opens a sign-in page of the flow in a new browser and returns
// the browser and the request that posts the form with email and pw.
func signInPage(t *testing.T, publicURL, callback, email, pw string) (*testutil.Browser, *http.Request) {
	t.Helper()
	b := testutil.NewBrowser(t, callback, nil)
	q := url.Values{"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {callback},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}}
	page := b.Get(publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize?" + q.Encode())
	m := secFormRE.FindStringSubmatch(page.Body)
	if page.Status != 200 || m == nil {
		t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
	}
	form := url.Values{"action": {"next"}, "signInName": {email}, "password": {pw}}
	for _, h := range secHiddenRE.FindAllStringSubmatch(page.Body, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	target, _ := page.URL.Parse(html.UnescapeString(m[1]))
	req, _ := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b, req
}

// TestSecurityIdentityBinary runs issue 9's reproductions against the
// binary: simultaneous sign-ins on a fresh account verify at most the
// lockout threshold of passwords and leave it locked; simultaneous
// client-secret guesses get at most the limit of definite answers, then
// 429 (a forged X-Forwarded-For changes nothing), the right secret from
// the throttled address too; each is a security event in the log with
// the client address and without a password, secret or email address.
func TestSecurityIdentityBinary(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	// The per-address sign-in throttle is raised so the burst tests the
	// lockout (the throttle has its own unit tests).
	file, publicURL, env := securityConfig(t, callback, "  throttle: { signInFailuresPerIp: { limit: 1000, window: 5m } }\n")
	const email, pw = "victim@example.com", "Correct-Horse-9"
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw, "--display-name", "Victim"); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	srv := startServe(t, file, env, "identity")

	// 1. 100 simultaneous wrong passwords on a fresh account.
	const n = 100
	browsers := make([]*testutil.Browser, n)
	reqs := make([]*http.Request, n)
	for i := range n {
		browsers[i], reqs[i] = signInPage(t, publicURL, callback, email, fmt.Sprintf("wrong-guess-%d", i))
	}
	bodies := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := browsers[i].Client.Do(reqs[i])
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			bodies[i] = string(b)
		}()
	}
	close(start)
	wg.Wait()
	invalid, locked := 0, 0
	for _, b := range bodies {
		switch {
		case strings.Contains(b, "Invalid username or password."):
			invalid++
		case strings.Contains(b, "temporarily locked"):
			locked++
		default:
			t.Fatalf("unexpected answer: %.500s", b)
		}
	}
	verified := countEvents(srv.logs.String(), "signin_failed")
	t.Logf("%d simultaneous wrong passwords: %d verified (signin_failed events), %d invalid, %d locked", n, verified, invalid, locked)
	if verified < 1 || verified > 10 || locked < n-10 {
		t.Fatalf("%d simultaneous wrong passwords: %d verified, want at most the threshold (10)", n, verified)
	}
	if countEvents(srv.logs.String(), "account_locked") != 1 || countEvents(srv.logs.String(), "signin_locked") < n-10 {
		t.Fatalf("lockout events missing:\n%s", srv.logs.String())
	}
	// The right password now: locked, not checked.
	b, req := signInPage(t, publicURL, callback, email, pw)
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "temporarily locked") {
		t.Fatalf("right password after the burst: %d %.500s", res.StatusCode, body)
	}

	// 2. Client-secret guessing: 40 at once, each with a forged
	// X-Forwarded-For (no trusted proxy is configured: ignored).
	tokenURL := publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token"
	post := func(secret, xff string) (int, string, string) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID}, "client_secret": {secret},
			"scope": {"https://contoso.onmicrosoft.com/backend/.default"}}
		req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error(), ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header.Get("Retry-After")
	}
	codes := make([]int, 40)
	start = make(chan struct{})
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], _, _ = post(fmt.Sprintf("guessed-secret-%02d-xxxxxxxx", i), fmt.Sprintf("198.51.100.%d", i))
		}()
	}
	close(start)
	wg.Wait()
	unauthorized, throttled := 0, 0
	for _, c := range codes {
		switch c {
		case 401:
			unauthorized++
		case 429:
			throttled++
		}
	}
	t.Logf("40 simultaneous wrong client secrets: %d invalid_client, %d throttled", unauthorized, throttled)
	if unauthorized > 20 || unauthorized+throttled != 40 {
		t.Fatalf("40 simultaneous wrong client secrets: %d invalid_client, %d throttled (codes %v)", unauthorized, throttled, codes)
	}
	code, out, retry := post(daemonSec, "192.0.2.1")
	if code != 429 || !strings.Contains(out, `"temporarily_unavailable"`) || !strings.Contains(out, "AADB2C90229") || retry == "" {
		t.Fatalf("right secret from the throttled address: %d %s (Retry-After %q)", code, out, retry)
	}

	logs := srv.logs.String()
	if countEvents(logs, "client_auth_failed") != unauthorized || countEvents(logs, "client_throttled") < throttled {
		t.Fatalf("client events: %d failed, %d throttled in the log", countEvents(logs, "client_auth_failed"), countEvents(logs, "client_throttled"))
	}
	for _, secret := range []string{email, pw, "wrong-guess-1", "guessed-secret", daemonSec} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q in the clear", secret)
		}
	}
	if !strings.Contains(logs, `"ip":"127.0.0.1"`) || strings.Contains(logs, `"ip":"198.51.100.`) {
		t.Fatal("security events do not carry the TCP peer's address (or believed a forged X-Forwarded-For)")
	}
}

// countEvents counts the security events of kind in a JSON log.
func countEvents(logs, kind string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"security event"`) && strings.Contains(line, `"event":"`+kind+`"`) {
			n++
		}
	}
	return n
}
