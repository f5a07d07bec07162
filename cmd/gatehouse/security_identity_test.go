package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

var (
	secFormRE   = regexp.MustCompile(`<form id="[^"]+" method="post" action="([^"]+)"`)
	secHiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"/?>`)
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
	return b, signInRequest(t, b, publicURL, callback, email, pw)
}

// signInRequest opens a sign-in page of the flow (a new transaction) in
// browser b and returns the request that posts its form with email and pw.
// prompt=login: the page even in a browser with an SSO session.
func signInRequest(t *testing.T, b *testutil.Browser, publicURL, callback, email, pw string) *http.Request {
	t.Helper()
	q := url.Values{"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {callback},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}, "prompt": {"login"}}
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
	return req
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
	// Every answer has its event: wait for the lines to come through the
	// log pipe before counting.
	srv.logs.waitFor(10*time.Second, func(log string) bool {
		// Each answer is one signin_failed (checked) or one signin_locked
		// (not checked); the failure that locks adds account_locked.
		return countEvents(log, "signin_failed")+countEvents(log, "signin_locked") >= n && countEvents(log, "account_locked") >= 1
	})
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

	srv.logs.waitFor(10*time.Second, func(log string) bool {
		return countEvents(log, "client_auth_failed") >= unauthorized && countEvents(log, "client_throttled") >= throttled
	})
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

// answer is one response of the hosted pages.
type answer struct {
	status int
	header http.Header
	body   string
}

// send posts req from browser b.
func send(t *testing.T, b *testutil.Browser, req *http.Request) answer {
	t.Helper()
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(body)}
}

// signedIn reports whether a is the redirect to callback with a code.
func signedIn(a answer, callback string) bool {
	loc := a.header.Get("Location")
	if a.status != http.StatusFound || !strings.HasPrefix(loc, callback) {
		return false
	}
	u, err := url.Parse(loc)
	return err == nil && u.Query().Get("code") != ""
}

// retryAfter is a's Retry-After in seconds, or 0 when it is missing or
// not a positive number.
func retryAfter(a answer) int {
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

const (
	lockedText       = "temporarily locked"
	invalidText      = "Invalid username or password."
	signInThrottled  = "We have received too many sign-in attempts from your network."
	codeSentText     = "Verification code has been sent to your inbox."
	codeWrongText    = "The verification code you have entered does not match our records."
	codeThrottled    = "There have been too many requests to verify this email address."
	tooManyAttempts  = "You've made too many incorrect attempts."
	deviceCookieName = "x-ms-cpim-dev_"
)

// TestSecurityBinaryFamiliarDevice reproduces issue 9's finding 4 (anyone
// can keep a user locked out forever) against the binary: after its owner
// has signed in once, strangers' wrong passwords lock the account for
// strangers (even with the right password, and with a forged device
// cookie) but not for the owner's browser, whose own failures are counted
// apart; events tell familiar from unfamiliar sources.
func TestSecurityBinaryFamiliarDevice(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	const email, pw = "bob@example.com", "Correct-Horse-9"
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw, "--display-name", "Bob"); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	srv := startServe(t, file, env, "identity")

	// The owner signs in once: the browser becomes a familiar device.
	owner := testutil.NewBrowser(t, callback, nil)
	if a := send(t, owner, signInRequest(t, owner, publicURL, callback, email, pw)); !signedIn(a, callback) {
		t.Fatalf("owner's first sign-in: %d %s %.500s", a.status, a.header.Get("Location"), a.body)
	}
	u, _ := url.Parse(publicURL)
	var device *http.Cookie
	for _, c := range owner.Client.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, deviceCookieName) {
			device = c
		}
	}
	if device == nil {
		t.Fatalf("no familiar-device cookie after a sign-in: %v", owner.Client.Jar.Cookies(u))
	}

	// A stranger (a fresh browser each time) tries 11 wrong passwords.
	invalid, locked := 0, 0
	for i := range 11 {
		b, req := signInPage(t, publicURL, callback, email, fmt.Sprintf("stranger-guess-%d", i))
		switch a := send(t, b, req); {
		case strings.Contains(a.body, invalidText):
			invalid++
		case strings.Contains(a.body, lockedText):
			locked++
		default:
			t.Fatalf("wrong password %d: %d %.500s", i, a.status, a.body)
		}
	}
	t.Logf("11 wrong passwords from strangers: %d invalid, %d locked", invalid, locked)
	if invalid != 9 || locked != 2 {
		t.Fatalf("11 wrong passwords from strangers: %d invalid, %d locked; want 9 and 2 (threshold 10)", invalid, locked)
	}
	// Locked for strangers: the right password is refused.
	b, req := signInPage(t, publicURL, callback, email, pw)
	if a := send(t, b, req); !strings.Contains(a.body, lockedText) {
		t.Fatalf("right password from a stranger after the lockout: %d %.500s", a.status, a.body)
	}
	// A forged device cookie of the right name is not familiar.
	forger := testutil.NewBrowser(t, callback, nil)
	forger.Client.Jar.SetCookies(u, []*http.Cookie{{Name: device.Name, Value: "99999999999.AAAA", Path: "/"}})
	if a := send(t, forger, signInRequest(t, forger, publicURL, callback, email, pw)); !strings.Contains(a.body, lockedText) {
		t.Fatalf("right password with a forged device cookie: %d %s %.500s", a.status, a.header.Get("Location"), a.body)
	}

	// The owner's browser is not locked out: a typo is just a typo (its
	// failures are counted apart), and the right password signs in.
	if a := send(t, owner, signInRequest(t, owner, publicURL, callback, email, "owner-typo")); !strings.Contains(a.body, invalidText) {
		t.Fatalf("owner's typo during the lockout: %d %.500s", a.status, a.body)
	}
	for i := range 2 {
		if a := send(t, owner, signInRequest(t, owner, publicURL, callback, email, pw)); !signedIn(a, callback) {
			t.Fatalf("owner's sign-in %d during the strangers' lockout: %d %s %.500s", i+1, a.status, a.header.Get("Location"), a.body)
		}
	}
	// Still locked for strangers.
	b, req = signInPage(t, publicURL, callback, email, pw)
	if a := send(t, b, req); !strings.Contains(a.body, lockedText) {
		t.Fatalf("right password from a stranger after the owner's sign-in: %d %.500s", a.status, a.body)
	}

	// 10 strangers' and 1 owner's wrong passwords checked; the strangers'
	// 11th, their right password (twice) and the forger's not.
	want := map[string]int{"signin_failed": 11, "account_locked": 1, "signin_locked": 4}
	srv.logs.waitFor(10*time.Second, func(log string) bool { return eventsAtLeast(log, want) })
	logs := srv.logs.String()
	for kind, n := range want {
		if got := countEvents(logs, kind); got != n {
			t.Fatalf("%d %s events, want %d", got, kind, n)
		}
	}
	if !strings.Contains(logs, `"source":"familiar"`) || !strings.Contains(logs, `"source":"unfamiliar"`) {
		t.Fatal("events do not tell familiar from unfamiliar sources")
	}
	for _, secret := range []string{email, pw, "stranger-guess-", "owner-typo", device.Value} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q in the clear", secret)
		}
	}
}

// TestSecurityBinaryPasswordSpray reproduces issue 9's password spraying
// (30 accounts × 1 password from one client were never slowed) against the
// binary with the default signInFailuresPerIp (20 per 5 min): 20 wrong
// passwords are checked, then 429 with Retry-After, a forged
// X-Forwarded-For (no trusted proxy) changes nothing, the right password
// from that address is not checked either, and an owner's familiar device
// on the same address still signs in.
func TestSecurityBinaryPasswordSpray(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	const n, limit, spray = 30, 20, "Summer2026!"
	create := func(email, pw string) {
		t.Helper()
		if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw, "--display-name", "User"); code != 0 {
			t.Fatalf("users create %s: %d %s", email, code, errOut)
		}
	}
	for i := range n {
		create(fmt.Sprintf("spray%d@example.com", i), fmt.Sprintf("Real-Passw0rd-%d", i))
	}
	const ownerEmail, ownerPW = "owner@example.com", "Owner-Passw0rd-1"
	create(ownerEmail, ownerPW)
	srv := startServe(t, file, env, "identity")

	owner := testutil.NewBrowser(t, callback, nil)
	if a := send(t, owner, signInRequest(t, owner, publicURL, callback, ownerEmail, ownerPW)); !signedIn(a, callback) {
		t.Fatalf("owner's sign-in: %d %s %.500s", a.status, a.header.Get("Location"), a.body)
	}

	// One password on 30 accounts from one client, each request in a new
	// browser with a different forged X-Forwarded-For.
	invalid, throttled := 0, 0
	for i := range n {
		b, req := signInPage(t, publicURL, callback, fmt.Sprintf("spray%d@example.com", i), spray)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		a := send(t, b, req)
		switch {
		case i < limit && a.status == http.StatusOK && strings.Contains(a.body, invalidText):
			invalid++
		case i >= limit && a.status == http.StatusTooManyRequests && strings.Contains(a.body, signInThrottled):
			if s := retryAfter(a); s < 1 || s > 300 {
				t.Fatalf("attempt %d: 429 with Retry-After %q", i+1, a.header.Get("Retry-After"))
			}
			throttled++
		default:
			t.Fatalf("attempt %d of %d: %d (Retry-After %q) %.500s", i+1, n, a.status, a.header.Get("Retry-After"), a.body)
		}
	}
	t.Logf("%d accounts × 1 password from one client: %d invalid, %d throttled (429)", n, invalid, throttled)

	// The right password from the throttled address: not checked.
	b, req := signInPage(t, publicURL, callback, "spray0@example.com", "Real-Passw0rd-0")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if a := send(t, b, req); a.status != http.StatusTooManyRequests || retryAfter(a) < 1 || signedIn(a, callback) {
		t.Fatalf("right password from the throttled address: %d %s %.500s", a.status, a.header.Get("Location"), a.body)
	}
	// The owner's familiar device on the same address is not throttled.
	if a := send(t, owner, signInRequest(t, owner, publicURL, callback, ownerEmail, ownerPW)); !signedIn(a, callback) {
		t.Fatalf("owner's familiar device after the spray: %d %s %.500s", a.status, a.header.Get("Location"), a.body)
	}

	srv.logs.waitFor(10*time.Second, func(log string) bool {
		return eventsAtLeast(log, map[string]int{"signin_failed": limit, "signin_throttled": n - limit + 1})
	})
	logs := srv.logs.String()
	if f, th := countEvents(logs, "signin_failed"), countEvents(logs, "signin_throttled"); f != limit || th != n-limit+1 {
		t.Fatalf("events: %d signin_failed, %d signin_throttled; want %d and %d", f, th, limit, n-limit+1)
	}
	for _, secret := range []string{"spray1@example.com", ownerEmail, spray, "Real-Passw0rd", ownerPW} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q in the clear", secret)
		}
	}
	if !strings.Contains(logs, `"ip":"127.0.0.1"`) || strings.Contains(logs, `"ip":"203.0.113.`) || strings.Contains(logs, `"ip":"198.51.100.`) {
		t.Fatal("security events do not carry the TCP peer's address (or believed a forged X-Forwarded-For)")
	}
}

// eventsAtLeast reports whether log holds at least want[kind] security
// events of each kind.
func eventsAtLeast(log string, want map[string]int) bool {
	for kind, n := range want {
		if countEvents(log, kind) < n {
			return false
		}
	}
	return true
}

// outbox is the messages in the outbox folder dir: file name -> content.
func outbox(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m[e.Name()] = string(b)
		}
	}
	return m
}

var mailCodeRE = regexp.MustCompile(`Your code is: ([0-9]{6})`)

// postForm posts page p's form with button pressed and fields from browser
// b, with a forged X-Forwarded-For.
func postForm(t *testing.T, b *testutil.Browser, p *testutil.Page, button string, fields map[string]string, xff string) *testutil.Page {
	t.Helper()
	m := secFormRE.FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(p.Body, `id="`+button+`"`) {
		t.Fatalf("no form with #%s on %s (%d):\n%s", button, p.URL, p.Status, p.Body)
	}
	form := url.Values{"action": {button}}
	for _, h := range secHiddenRE.FindAllStringSubmatch(p.Body, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	target, _ := p.URL.Parse(html.UnescapeString(m[1]))
	req, _ := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &testutil.Page{URL: res.Request.URL, Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

// TestSecurityBinaryCodeFlood reproduces issue 9's finding 5 (email codes
// unlimited across transactions: 180 guesses and 30 mails to one address
// in under a second) against the binary with the default limits, each
// request in a new sign-in transaction with a forged X-Forwarded-For: one
// address gets exactly codesPerEmail (10) mails, then B2C's throttled
// message with 429; guesses at one address's codes are answered for
// codeGuessesPerEmail (20), then 429; one client gets codesPerIp (30)
// code requests in all. Events are logged without codes or addresses.
func TestSecurityBinaryCodeFlood(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	dir := filepath.Join(t.TempDir(), "outbox")
	cfg, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), "emailVerification: false", "emailVerification: true", 1))
	cfg = append(cfg, fmt.Sprintf("  email: { from: no-reply@contoso.example, outbox: %q }\n", dir)...)
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, file, env, "identity")
	const codesPerEmail, codesPerIP, guessesPerEmail = 10, 30, 20

	authorize := publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {callback}, "scope": {"openid"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}.Encode()
	requests := 0
	// code asks for a code to email in a new transaction (a new browser).
	code := func(email string) (*testutil.Browser, *testutil.Page) {
		t.Helper()
		b := testutil.NewBrowser(t, callback, nil)
		p := b.Follow(b.Get(authorize), "createAccount")
		requests++
		return b, postForm(t, b, p, "email_ver_but_send", map[string]string{"email": email}, fmt.Sprintf("203.0.113.%d", requests))
	}
	throttledAnswer := func(p *testutil.Page, text string) bool {
		n, err := strconv.Atoi(p.Header.Get("Retry-After"))
		return p.Status == http.StatusTooManyRequests && strings.Contains(html.UnescapeString(p.Body), text) && err == nil && n > 0
	}
	to := func(mails map[string]string, email string) int {
		n := 0
		for _, m := range mails {
			if strings.Contains(m, "\r\nTo: <"+email+">\r\n") || strings.Contains(m, "\r\nTo: "+email+"\r\n") {
				n++
			}
		}
		return n
	}

	// 1. Codes to one address, each in a new transaction, until refused.
	sent := 0
	for {
		_, p := code("dave@example.com")
		if !strings.Contains(p.Body, codeSentText) {
			if !throttledAnswer(p, codeThrottled) {
				t.Fatalf("code request %d to one address: %d (Retry-After %q) %.1000s", sent+1, p.Status, p.Header.Get("Retry-After"), p.Body)
			}
			break
		}
		if sent++; sent > codesPerEmail {
			t.Fatalf("%d codes sent to one address, the limit is %d", sent, codesPerEmail)
		}
	}
	mails := outbox(t, dir)
	t.Logf("codes to one address in new transactions: %d sent, then 429; %d mails in the outbox", sent, len(mails))
	if sent != codesPerEmail || len(mails) != codesPerEmail || to(mails, "dave@example.com") != codesPerEmail {
		t.Fatalf("codes to one address: %d sent, %d mails (%d to it); want %d", sent, len(mails), to(mails, "dave@example.com"), codesPerEmail)
	}

	// 2. Wrong guesses at one address's codes: 5 transactions, a code and
	// 5 guesses each.
	guesses, wrong, refused := 0, 0, 0
	for range 5 {
		before := outbox(t, dir)
		b, p := code("erin@example.com")
		if !strings.Contains(p.Body, codeSentText) {
			t.Fatalf("code to a second address: %d %.1000s", p.Status, p.Body)
		}
		var mail string
		for name, m := range outbox(t, dir) {
			if _, old := before[name]; !old {
				mail = m
			}
		}
		cm := mailCodeRE.FindStringSubmatch(mail)
		if cm == nil {
			t.Fatalf("no code in the mail:\n%s", mail)
		}
		c, _ := strconv.Atoi(cm[1])
		guess := fmt.Sprintf("%06d", (c+1)%1_000_000)
		for range 5 {
			p = postForm(t, b, p, "email_ver_but_verify", map[string]string{"email_ver_input": guess}, fmt.Sprintf("198.51.100.%d", guesses))
			guesses++
			switch {
			case p.Status == http.StatusOK && strings.Contains(p.Body, codeWrongText):
				wrong++
			case throttledAnswer(p, tooManyAttempts):
				refused++
			default:
				t.Fatalf("guess %d: %d (Retry-After %q) %.1000s", guesses, p.Status, p.Header.Get("Retry-After"), p.Body)
			}
		}
	}
	t.Logf("%d wrong guesses at one address's codes in 5 transactions: %d checked, %d refused (429)", guesses, wrong, refused)
	if wrong != guessesPerEmail || refused != guesses-guessesPerEmail {
		t.Fatalf("%d guesses: %d checked, %d refused; want %d checked", guesses, wrong, refused, guessesPerEmail)
	}

	// 3. Codes to new addresses from the same client: the client's
	// allowance (codesPerIP requests, refused ones included) runs out.
	ipSent, ipRefused := 0, 0
	for i := range 20 {
		_, p := code(fmt.Sprintf("user%d@example.com", i))
		switch {
		case strings.Contains(p.Body, codeSentText):
			ipSent++
		case throttledAnswer(p, codeThrottled):
			ipRefused++
		default:
			t.Fatalf("code to user%d: %d %.1000s", i, p.Status, p.Body)
		}
	}
	mails = outbox(t, dir)
	t.Logf("20 more addresses from the client after %d requests: %d sent, %d refused; %d mails in all", requests-20, ipSent, ipRefused, len(mails))
	if ipSent != codesPerIP-(requests-20) || len(mails) != codesPerEmail+5+ipSent {
		t.Fatalf("codes to 20 addresses after %d requests: %d sent, %d mails; want %d sent (%d per client)", requests-20, ipSent, len(mails), codesPerIP-(requests-20), codesPerIP)
	}

	want := map[string]int{"code_sent": len(mails), "code_throttled": 1 + ipRefused, "code_failed": wrong, "code_guess_throttled": refused}
	srv.logs.waitFor(10*time.Second, func(log string) bool { return eventsAtLeast(log, want) })
	logs := srv.logs.String()
	for kind, n := range want {
		if got := countEvents(logs, kind); got != n {
			t.Fatalf("%d %s events, want %d", got, kind, n)
		}
	}
	// No code and no email address in the log.
	for _, m := range mails {
		c := mailCodeRE.FindStringSubmatch(m)
		if c == nil {
			t.Fatalf("no code in the mail:\n%s", m)
		}
		if regexp.MustCompile(`(^|[^0-9A-Za-z.])` + c[1] + `([^0-9A-Za-z]|$)`).MatchString(logs) {
			t.Fatalf("the log holds the code %s", c[1])
		}
	}
	if strings.Contains(logs, "@example.com") {
		t.Fatal("the log holds an email address in the clear")
	}
	if !strings.Contains(logs, `"ip":"127.0.0.1"`) || strings.Contains(logs, `"ip":"203.0.113.`) || strings.Contains(logs, `"ip":"198.51.100.`) {
		t.Fatal("security events do not carry the TCP peer's address (or believed a forged X-Forwarded-For)")
	}
}
