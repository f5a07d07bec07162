package userflow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/secevent"
)

// lockedBuf is a log sink for concurrent writers.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// count is how many security events of kind the log holds.
func (l *lockedBuf) count(kind secevent.Kind) int {
	return strings.Count(l.String(), `"event":"`+string(kind)+`"`)
}

// secEnv is an env whose security events go to a captured JSON log.
func secEnv(t *testing.T) (*env, *lockedBuf) {
	e := newEnv(t, envOpts{})
	logs := &lockedBuf{}
	ev, err := secevent.New(slog.New(slog.NewJSONHandler(logs, nil)), nil, []byte("event key"))
	if err != nil {
		t.Fatal(err)
	}
	e.flows.events = ev
	return e, logs
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func doWith(c *http.Client, req *http.Request) (resp, error) {
	res, err := c.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}, nil
}

// beginWith starts a transaction of flow in browser c.
func (e *env) beginWith(c *http.Client, flow string) resp {
	e.t.Helper()
	e.n++
	id := fmt.Sprintf("tx%d-%d", e.n, time.Now().UnixNano())
	_ = e.comp.SaveTransaction(context.Background(), &tenant.Transaction{ID: id, Flow: flow,
		Request: tenant.AuthRequest{ClientID: "app", RedirectURI: "https://app.example/cb", ResponseMode: "query"}})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/"+flow+"/authorize?tx="+id, nil)
	r, err := doWith(c, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// submitWith posts page's form from browser c (safe on any goroutine);
// header adds request headers.
func (e *env) submitWith(c *http.Client, page resp, action string, fields map[string]string, header ...string) (resp, error) {
	m := actionRE.FindStringSubmatch(page.body)
	if m == nil {
		return resp{}, fmt.Errorf("no form in:\n%s", page.body)
	}
	form := url.Values{"action": {action}}
	for _, h := range hiddenRE.FindAllStringSubmatch(page.body, -1) {
		form.Set(h[1], h[2])
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+htmlUnescape(m[1]), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return doWith(c, req)
}

func (e *env) followWith(c *http.Client, page resp, linkID string) resp {
	e.t.Helper()
	for _, m := range hrefRE.FindAllStringSubmatch(page.body, -1) {
		if m[2] == linkID {
			req, _ := http.NewRequest("GET", e.srv.URL+htmlUnescape(m[1]), nil)
			r, err := doWith(c, req)
			if err != nil {
				e.t.Fatal(err)
			}
			return r
		}
	}
	e.t.Fatalf("no link %s", linkID)
	return resp{}
}

// burst signs in to email with passwords[i] on n transactions posted at
// once (released by a closed channel) and returns the responses.
func (e *env) burst(c *http.Client, email string, passwords []string) []resp {
	e.t.Helper()
	pages := make([]resp, len(passwords))
	for i := range pages {
		pages[i] = e.beginWith(c, "B2C_1_susi")
	}
	out := make([]resp, len(passwords))
	errs := make([]error, len(passwords))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range passwords {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = e.submitWith(c, pages[i], "next", map[string]string{"signInName": email, "password": passwords[i]})
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

func tally(rs []resp) (ok, invalid, locked, other int) {
	for _, r := range rs {
		switch {
		case strings.Contains(r.body, "COMPLETE"):
			ok++
		case strings.Contains(r.body, msgInvalidCredentials):
			invalid++
		case strings.Contains(r.body, password.LockedMessage) || strings.Contains(r.body, "temporarily locked"):
			locked++
		default:
			other++
		}
	}
	return
}

func distinct(n int, prefix string) []string {
	pws := make([]string, n)
	for i := range pws {
		pws[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return pws
}

// TestSignInConcurrentLockout: simultaneous sign-ins verify at most the
// threshold of passwords on a fresh account and one after a lock, and the
// correct password among them gets through only as the one verified
// attempt (issue 9, item 1).
func TestSignInConcurrentLockout(t *testing.T) {
	e, logs := secEnv(t)
	e.flows.limits.SignInFailuresPerIP = tenant.Limit{N: 100000, Window: time.Hour} // this test is about the lockout
	e.addUser("alice@example.com", goodPW)
	h := e.flows.hasher
	browser := newBrowser()

	before := h.Verifications()
	rs := e.burst(browser, "alice@example.com", distinct(200, "wrong"))
	verified := h.Verifications() - before
	ok, invalid, locked, other := tally(rs)
	t.Logf("fresh account, 200 concurrent wrong: %d verified; %d invalid, %d locked", verified, invalid, locked)
	if verified != 10 || ok != 0 || other != 0 || invalid+locked != 200 {
		t.Fatalf("200 concurrent wrong passwords on a fresh account: %d verified (want 10), %d ok, %d invalid, %d locked, %d other", verified, ok, invalid, locked, other)
	}
	// Locked: the correct password is not checked.
	before = h.Verifications()
	if _, _, l, _ := tally(e.burst(browser, "alice@example.com", []string{goodPW})); l != 1 || h.Verifications() != before {
		t.Fatal("the correct password was checked on a locked account")
	}

	// After the lock, the next failure re-locks at once: of 40 wrong
	// passwords at once exactly one is checked.
	e.clock.Advance(time.Minute)
	before = h.Verifications()
	rs = e.burst(browser, "alice@example.com", distinct(40, "again"))
	verified = h.Verifications() - before
	ok, invalid, locked, other = tally(rs)
	t.Logf("after the lock, 40 concurrent wrong: %d verified; %d invalid, %d locked", verified, invalid, locked)
	if verified != 1 || ok != 0 || other != 0 || invalid+locked != 40 {
		t.Fatalf("40 concurrent wrong after a lock: %d verified (want 1), %d ok, %d invalid, %d locked, %d other", verified, ok, invalid, locked, other)
	}
	// The finding's case: 39 wrong and the correct one at once after the
	// lock. Only one attempt may be in flight, so either a wrong one wins
	// the slot (locked again, the correct one never checked) or the
	// correct one does, and is the first password checked: the account is
	// then unlocked and later wrong ones count afresh — at most threshold
	// from unfamiliar sources plus threshold from the browser, which the
	// success made a familiar device (the burst shares its cookie jar).
	e.clock.Advance(time.Hour)
	pws := append(distinct(39, "later"), goodPW)
	before = h.Verifications()
	rs = e.burst(browser, "alice@example.com", pws)
	verified = h.Verifications() - before
	ok, invalid, locked, other = tally(rs)
	t.Logf("after the lock, 40 concurrent (39 wrong + the right one): %d verified; %d ok, %d invalid, %d locked", verified, ok, invalid, locked)
	switch {
	case other != 0:
		t.Fatalf("40 concurrent after a lock: %d unexpected answers", other)
	case ok == 0 && verified != 1:
		t.Fatalf("40 concurrent after a lock, no success: %d verified; want 1", verified)
	case ok == 1 && verified > 21:
		t.Fatalf("40 concurrent after a lock, success: %d verified; want the success plus at most 2×10", verified)
	}
	if n := logs.count(secevent.SignInFailed); n < 10 {
		t.Fatalf("%d signin_failed events, want one per verified wrong password", n)
	}
	if logs.count(secevent.AccountLocked) < 1 || logs.count(secevent.SignInLocked) < 190 {
		t.Fatalf("missing account_locked / signin_locked events:\n%s", logs.String()[:2000])
	}
	noSecrets(t, logs.String(), "alice@example.com", goodPW, "wrong-1", "again-1")
}

// noSecrets fails when the log holds any of secrets in the clear.
func noSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(strings.ToLower(log), strings.ToLower(s)) {
			t.Fatalf("the security log holds %q in the clear", s)
		}
	}
	if !strings.Contains(log, `"ip":"127.0.0.1"`) {
		t.Fatalf("security events without the client address:\n%.2000s", log)
	}
}

// TestFamiliarDeviceSurvivesLockout: strangers locking an account out do
// not lock out its owner's familiar device (issue 9, item 2).
func TestFamiliarDeviceSurvivesLockout(t *testing.T) {
	e, logs := secEnv(t)
	e.addUser("bob@example.com", goodPW)
	owner, stranger := newBrowser(), newBrowser()
	if ok, _, _, _ := tally(e.burst(owner, "bob@example.com", []string{goodPW})); ok != 1 {
		t.Fatal("owner's first sign-in failed")
	}
	for i := range 10 {
		e.burst(stranger, "bob@example.com", []string{fmt.Sprintf("guess-%d", i)})
	}
	if _, _, l, _ := tally(e.burst(stranger, "bob@example.com", []string{goodPW})); l != 1 {
		t.Fatal("the account is not locked for the stranger")
	}
	// A lock period later the stranger fails once more: locked again.
	for p := range 3 {
		e.clock.Advance(password.Period(time.Minute, p))
		e.burst(stranger, "bob@example.com", []string{fmt.Sprintf("later-%d", p)})
		if ok, _, _, _ := tally(e.burst(owner, "bob@example.com", []string{goodPW})); ok != 1 {
			t.Fatalf("period %d: the owner's familiar device is locked out too", p)
		}
	}
	// The familiar device has its own counter: its failures lock it.
	for i := range 10 {
		e.burst(owner, "bob@example.com", []string{fmt.Sprintf("typo-%d", i)})
	}
	if _, _, l, _ := tally(e.burst(owner, "bob@example.com", []string{goodPW})); l != 1 {
		t.Fatal("failures from the familiar device never lock it")
	}
	// A forged or foreign device cookie is not familiar.
	forger := newBrowser()
	u, _ := url.Parse(e.srv.URL)
	forger.Jar.SetCookies(u, []*http.Cookie{{Name: e.flows.deviceCookieName("bob@example.com"), Value: "99999999999.AAAA", Path: "/"}})
	if _, _, l, _ := tally(e.burst(forger, "bob@example.com", []string{goodPW})); l != 1 {
		t.Fatal("a forged device cookie made the browser familiar")
	}
	if !strings.Contains(logs.String(), `"source":"familiar"`) || !strings.Contains(logs.String(), `"source":"unfamiliar"`) {
		t.Fatal("events do not tell familiar from unfamiliar sources")
	}
}

// TestSignInSprayThrottled: one client address trying one password on 30
// accounts is throttled after signInFailuresPerIp (20 per 5 min), with 429
// and Retry-After; X-Forwarded-For from an untrusted peer changes nothing;
// a familiar device still signs in; the window's end lifts it.
func TestSignInSprayThrottled(t *testing.T) {
	e, logs := secEnv(t)
	e.addUser("carol@example.com", goodPW)
	owner := newBrowser()
	if ok, _, _, _ := tally(e.burst(owner, "carol@example.com", []string{goodPW})); ok != 1 {
		t.Fatal("owner's sign-in failed")
	}
	attacker := newBrowser()
	throttled := 0
	for i := range 30 {
		p := e.beginWith(attacker, "B2C_1_susi")
		r, err := e.submitWith(attacker, p, "next", map[string]string{"signInName": fmt.Sprintf("victim%d@example.com", i), "password": "Summer2026!"},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusTooManyRequests {
			throttled++
			mustContain(t, r, msgSignInThrottled)
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		} else if !strings.Contains(r.body, msgInvalidCredentials) {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	if throttled != 10 {
		t.Fatalf("30 accounts × 1 password from one address: %d throttled, want 10 (limit 20)", throttled)
	}
	// The owner's familiar device, on the same address, is not throttled.
	if ok, _, _, _ := tally(e.burst(owner, "carol@example.com", []string{goodPW})); ok != 1 {
		t.Fatal("a familiar device was throttled with the spraying address")
	}
	e.clock.Advance(5 * time.Minute)
	if _, inv, _, _ := tally(e.burst(attacker, "victim0@example.com", []string{"x"})); inv != 1 {
		t.Fatal("still throttled after the window")
	}
	if logs.count(secevent.SignInThrottled) != 10 {
		t.Fatalf("%d signin_throttled events, want 10", logs.count(secevent.SignInThrottled))
	}
	noSecrets(t, logs.String(), "victim1@example.com", "Summer2026!")
}

// TestCodeFloodThrottled: verification codes are bounded per email
// address and per client address across transactions, and so are code
// guesses (issue 9, item 3).
func TestCodeFloodThrottled(t *testing.T) {
	e, logs := secEnv(t)
	b := newBrowser()
	send := func(email string) resp {
		t.Helper()
		p := e.followWith(b, e.beginWith(b, "B2C_1_susi"), "createAccount")
		r, err := e.submitWith(b, p, "email_ver_but_send", map[string]string{"email": email})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Per email address: 10 per hour, whatever the transactions.
	for i := range 10 {
		if r := send("dave@example.com"); !strings.Contains(r.body, msgCodeSent) {
			t.Fatalf("code %d: %s", i+1, r.body)
		}
	}
	r := send("dave@example.com")
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, msgThrottled) || r.header.Get("Retry-After") == "" {
		t.Fatalf("11th code to one address in new transactions: %d %s", r.status, r.body)
	}
	// Per client address: 30 per hour (11 requested so far).
	sent := 0
	for i := range 25 {
		if r := send(fmt.Sprintf("user%d@example.com", i)); strings.Contains(r.body, msgCodeSent) {
			sent++
		}
	}
	if sent != 19 {
		t.Fatalf("codes to 25 addresses after 11 requests: %d sent, want 19 (30 per address)", sent)
	}
	e.clock.Advance(time.Hour)

	// Guesses per email address: 20 per hour across codes and transactions.
	guesses, throttled := 0, 0
	for range 5 {
		p := send("erin@example.com")
		for range 5 {
			var err error
			p, err = e.submitWith(b, p, "email_ver_but_verify", map[string]string{"email_ver_input": "000000"})
			if err != nil {
				t.Fatal(err)
			}
			guesses++
			if p.status == http.StatusTooManyRequests {
				throttled++
				mustContain(t, p, msgTooManyAttempts)
			}
		}
	}
	if throttled != guesses-20 {
		t.Fatalf("%d guesses at one address's codes: %d throttled, want %d", guesses, throttled, guesses-20)
	}
	for _, k := range []secevent.Kind{secevent.CodeSent, secevent.CodeThrottled, secevent.CodeFailed, secevent.CodeGuessThrottled} {
		if logs.count(k) == 0 {
			t.Fatalf("no %s event", k)
		}
	}
	if n := logs.count(secevent.CodeSent); n != 10+19+5 {
		t.Fatalf("%d code_sent events, want %d", n, 10+19+5)
	}
	noSecrets(t, logs.String(), "dave@example.com", "erin@example.com")
}
