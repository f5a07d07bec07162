package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// smsWebhookMessage is the JSON Gatehouse posts to identity.sms.webhook
// (package identity/sms).
type smsWebhookMessage struct {
	To        string `json:"to"`
	Message   string `json:"message"`
	Code      string `json:"code"`
	Channel   string `json:"channel"`
	Locale    string `json:"locale"`
	Tenant    string `json:"tenant"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
}

// smsReceiver is an SMS gateway as the sms package documents it: it
// checks Gatehouse-Signature (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">)
// in constant time, refuses timestamps older than five minutes with 401,
// and records what it accepted.
type smsReceiver struct {
	*httptest.Server
	secret   []byte
	mu       sync.Mutex
	got      []smsWebhookMessage
	refused  int
	problems []string
}

func newSMSReceiver(t *testing.T, secret []byte) *smsReceiver {
	s := &smsReceiver{secret: secret}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *smsReceiver) refuse(w http.ResponseWriter, why string) {
	s.mu.Lock()
	s.refused++
	s.problems = append(s.problems, why)
	s.mu.Unlock()
	http.Error(w, why, http.StatusUnauthorized)
}

func (s *smsReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var ts, sig string
	for _, part := range strings.Split(r.Header.Get("Gatehouse-Signature"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	if ts == "" || sig == "" {
		s.refuse(w, "unsigned")
		return
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		s.refuse(w, "bad timestamp")
		return
	}
	if age := time.Since(time.Unix(n, 0)); age > 5*time.Minute || age < -5*time.Minute {
		s.refuse(w, "stale timestamp")
		return
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		s.refuse(w, "bad signature encoding")
		return
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		s.refuse(w, "wrong signature")
		return
	}
	var msg smsWebhookMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	// Webhook.Send reads the clock twice (body, then signature): the
	// signed t may be a second later than the body's timestamp.
	if d := n - msg.Timestamp; d < 0 || d > 1 {
		s.refuse(w, "body timestamp differs from the signed one")
		return
	}
	s.mu.Lock()
	s.got = append(s.got, msg)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// messages are the accepted messages so far.
func (s *smsReceiver) messages() []smsWebhookMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smsWebhookMessage(nil), s.got...)
}

// last is the newest accepted message, failing when none arrived after
// the first `after` messages.
func (s *smsReceiver) last(t *testing.T, after int) smsWebhookMessage {
	t.Helper()
	got := s.messages()
	if len(got) <= after {
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Fatalf("no new SMS at the webhook (%d accepted, refused %d: %v)", len(got), s.refused, s.problems)
	}
	return got[len(got)-1]
}

func (s *smsReceiver) refusals() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, append([]string(nil), s.problems...)
}

// mfaMailCode is the code of the one new mail in the outbox, which must be
// addressed to to.
func mfaMailCode(t *testing.T, dir string, seen map[string]bool, to string) string {
	t.Helper()
	var fresh []string
	for name, body := range outbox(t, dir) {
		if !seen[name] {
			seen[name] = true
			fresh = append(fresh, body)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("want one new mail in %s, got %d", dir, len(fresh))
	}
	if !regexp.MustCompile(`(?mi)^To:.*` + regexp.QuoteMeta(to)).MatchString(fresh[0]) {
		t.Fatalf("the code was not mailed to %s:\n%s", to, fresh[0])
	}
	m := mailCodeRE.FindStringSubmatch(fresh[0])
	if m == nil {
		t.Fatalf("no code in the mail:\n%s", fresh[0])
	}
	return m[1]
}

// authorizePrompt is authorizePolicy with prompt (login: an interactive
// sign-in even with a session).
func authorizePrompt(t *testing.T, ctx context.Context, b *testutil.Browser, publicURL, policy, callback, prompt string) (*testutil.Page, *oauth2.Config, *oidc.IDTokenVerifier, string) {
	t.Helper()
	provider := tenantProvider(t, ctx, publicURL, policy)
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "offline_access", webClientID}}
	pkce := oauth2.GenerateVerifier()
	p := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce), oidc.Nonce("n1"), oauth2.SetAuthURLParam("prompt", prompt)))
	return p, conf, provider.Verifier(&oidc.Config{ClientID: webClientID}), pkce
}

var (
	mfaInputRE     = regexp.MustCompile(`<input\s[^>]*>`)
	mfaTOTPSecret  = regexp.MustCompile(`id="totpSecret">([^<]*)</code>`)
	mfaTOTPURI     = regexp.MustCompile(`id="totpUri">([^<]*)</code>`)
	mfaTOTPQR      = regexp.MustCompile(`<img\s[^>]*id="totpQrCode"[^>]*>`)
	mfaSrcRE       = regexp.MustCompile(`src="([^"]*)"`)
	mfaGroupedKey  = regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,3})?$`)
	mfaSixDigitsRE = regexp.MustCompile(`^[0-9]{6}$`)
)

// inputTag is the <input> with element id id.
func inputTag(t *testing.T, body, id string) string {
	t.Helper()
	for _, tag := range mfaInputRE.FindAllString(body, -1) {
		if strings.Contains(tag, ` id="`+id+`"`) {
			return tag
		}
	}
	t.Fatalf("no input #%s in:\n%s", id, body)
	return ""
}

// Stable substrings of identity/userflow's messages.
const (
	wantCodeWrong   = "does not match our records" // msgCodeWrong
	wantTOTPInvalid = "The code is not valid"      // msgTOTPInvalid
)

// TestUserFlowMFA runs user flows with MFA through the binary: an email
// code (remembered for an hour in the browser that passed), an SMS code by
// a signed webhook (the first sign-in enrols the number, later ones use
// the number on record, masked) and an authenticator app (enrolled with
// the QR code's key; codes used once).
func TestUserFlowMFA(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	smsSecret := hex.EncodeToString(secret)
	recv := newSMSReceiver(t, []byte(smsSecret))

	// The receiver itself: unsigned, wrongly signed, tampered and stale
	// requests get 401, so a Gatehouse signing bug cannot go unnoticed.
	probe := func(body []byte, header string) int {
		req, _ := http.NewRequest("POST", recv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Gatehouse-Signature", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sign := func(key, body []byte, at time.Time) string {
		ts := strconv.FormatInt(at.Unix(), 10)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(ts + "." + string(body)))
		return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
	}
	probeBody := []byte(fmt.Sprintf(`{"to":"+4740000000","message":"x","code":"123456","channel":"sms","tenant":"contoso.onmicrosoft.com","id":"p","timestamp":%d}`, time.Now().Unix()))
	for name, header := range map[string]string{
		"unsigned":        "",
		"other secret":    sign([]byte("another-secret-of-32-bytes-000000"), probeBody, time.Now()),
		"tampered body":   sign([]byte(smsSecret), append([]byte(" "), probeBody...), time.Now()),
		"stale timestamp": sign([]byte(smsSecret), probeBody, time.Now().Add(-6*time.Minute)),
		"garbage":         "t=abc,v1=zz",
	} {
		if code := probe(probeBody, header); code != http.StatusUnauthorized {
			t.Fatalf("receiver answered %d to a %s request, want 401", code, name)
		}
	}
	if code := probe(probeBody, sign([]byte(smsSecret), probeBody, time.Now())); code != http.StatusNoContent {
		t.Fatalf("receiver refused a well-signed request: %d", code)
	}
	probeRefusals, _ := recv.refusals()
	if probeRefusals != 5 || len(recv.messages()) != 1 {
		t.Fatalf("receiver probes: %d refused, %d accepted", probeRefusals, len(recv.messages()))
	}
	sent := 1 // messages accepted so far

	port := testutil.FreePort(t)
	publicURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := t.TempDir()
	mailDir := filepath.Join(dir, "outbox")
	file := writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`identity:
  listen: 127.0.0.1:%d
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
  deploymentMode: Development
  email: { outbox: %s }
  sms: { webhook: %s/send, secret: env:SMS_SECRET, voice: true }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: B2C_1_mfa_email, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId],
        mfa: { methods: [email], enforcement: always, rememberFor: 1h } }
    - { name: B2C_1_mfa_phone, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId],
        mfa: { methods: [phone], enforcement: always } }
    - { name: B2C_1_mfa_totp, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId],
        mfa: { methods: [totp], enforcement: always } }
    - { name: B2C_1_plain, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId] }
    - { name: B2C_1_edit_mfa, type: profileEdit, attributes: [displayName], claims: [displayName, objectId],
        mfa: { methods: [email], enforcement: always } }
    - { name: B2C_1_reset_mfa, type: passwordReset, claims: [objectId], mfa: { methods: [email], enforcement: always } }
`, port, publicURL, tenantID, mailDir, recv.URL, webClientID, callback))
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret, "SMS_SECRET=" + smsSecret}
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	const pw = "Correct-Horse-9"
	for _, email := range []string{"ana@example.com", "ben@example.com", "cyd@example.com", "dan@example.com"} {
		if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw); code != 0 {
			t.Fatalf("users create %s: %d %s", email, code, errOut)
		}
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()

	// signIn starts a sign-in at flow in b and submits the password; the
	// returned function redeems the code of the page that reaches the
	// callback and gives the id token's claims.
	signIn := func(b *testutil.Browser, flow, email, prompt string) (*testutil.Page, func(*testutil.Page) map[string]any) {
		t.Helper()
		p, conf, v, pkce := authorizePrompt(t, ctx, b, publicURL, flow, callback, prompt)
		if p.Status != 200 || !strings.Contains(p.Body, `id="signInName"`) {
			t.Fatalf("%s: no sign-in page: %d\n%s", flow, p.Status, p.Body)
		}
		p = b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
		return p, func(p *testutil.Page) map[string]any {
			t.Helper()
			return claimsOfPage(t, ctx, b, p, conf, v, pkce)
		}
	}
	mustPage := func(what string, p *testutil.Page, want ...string) {
		t.Helper()
		if p.Status != 200 {
			t.Fatalf("%s: status %d, want 200\n%s", what, p.Status, p.Body)
		}
		for _, w := range want {
			if !strings.Contains(p.Body, w) {
				t.Fatalf("%s: no %q in:\n%s", what, w, p.Body)
			}
		}
	}

	// Email: a code to the address on record; the browser that passed is
	// remembered for an hour.
	{
		const flow, email = "B2C_1_mfa_email", "ana@example.com"
		seen := map[string]bool{}
		for name := range outbox(t, mailDir) {
			seen[name] = true
		}
		b := testutil.NewBrowser(t, callback, nil)
		p, claimsOf := signIn(b, flow, email, "")
		mustPage("MFA page", p, `data-name="Phonefactor"`, `id="mfaEmail_ver_but_send"`, `id="continue"`)
		if tag := inputTag(t, p.Body, "mfaEmail"); !strings.Contains(tag, `value="ana@example.com"`) || !strings.Contains(tag, "readonly") {
			t.Fatalf("the address should be shown read-only: %s", tag)
		}
		// The code goes to the address on record, whatever the form says.
		p = b.Submit(p, "mfaEmail_ver_but_send", map[string]string{"mfaEmail": "mallory@example.com"})
		mustPage("code sent", p, "Verification code has been sent", `id="mfaEmail_ver_input"`, `id="mfaEmail_ver_but_verify"`)
		code := mfaMailCode(t, mailDir, seen, email)
		if r := b.Submit(p, "continue", nil); r.Status != 200 || !strings.Contains(r.Body, "before continuing") {
			t.Fatalf("continue before verifying: %d\n%s", r.Status, r.Body)
		}
		wrong := "000000"
		if wrong == code {
			wrong = "111111"
		}
		mustPage("wrong code", b.Submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": wrong}), wantCodeWrong)
		p = b.Submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": code})
		mustPage("code verified", p)
		if strings.Contains(p.Body, wantCodeWrong) {
			t.Fatalf("the right code was refused:\n%s", p.Body)
		}
		claims := claimsOf(b.Submit(p, "continue", nil))
		sub, _ := claims["sub"].(string)
		if sub == "" {
			t.Fatalf("claims %v", claims)
		}

		// The same browser, interactively again: remembered for an hour,
		// no second factor and no mail.
		p, claimsOf = signIn(b, flow, email, "login")
		if c := claimsOf(p); c["sub"] != sub {
			t.Fatalf("remembered sign-in claims %v, want sub %s", c, sub)
		}
		if n := len(outbox(t, mailDir)); n != len(seen) {
			t.Errorf("a remembered sign-in mailed a code (%d mails, %d before)", n, len(seen))
		}

		// Another browser is asked again.
		b2 := testutil.NewBrowser(t, callback, nil)
		p, claimsOf = signIn(b2, flow, email, "")
		mustPage("MFA page in a new browser", p, `data-name="Phonefactor"`, `id="mfaEmail_ver_but_send"`)
		p = b2.Submit(p, "mfaEmail_ver_but_send", nil)
		p = b2.Submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": mfaMailCode(t, mailDir, seen, email)})
		if c := claimsOf(b2.Submit(p, "continue", nil)); c["sub"] != sub {
			t.Fatalf("new browser claims %v, want sub %s", c, sub)
		}
	}

	// Phone: the first sign-in enrols a number with an SMS code from the
	// webhook; later ones send to the number on record.
	{
		const flow, email, phone = "B2C_1_mfa_phone", "ben@example.com", "+4740001234"
		const id = "strongAuthenticationPhoneNumber"
		b := testutil.NewBrowser(t, callback, nil)
		p, claimsOf := signIn(b, flow, email, "")
		mustPage("enrolment page", p, `data-name="Phonefactor"`, `id="`+id+`"`, `id="`+id+`_ver_but_send"`)
		p = b.Submit(p, id+"_ver_but_send", map[string]string{id: "+47 4000 1234"})
		m := recv.last(t, sent)
		mustPage("code sent", p, `id="`+id+`_ver_input"`, `id="`+id+`_ver_but_verify"`)
		if m.To != phone || !mfaSixDigitsRE.MatchString(m.Code) || m.Channel != "sms" || m.Tenant != "contoso.onmicrosoft.com" ||
			!strings.Contains(m.Message, m.Code) || m.ID == "" || time.Since(time.Unix(m.Timestamp, 0)).Abs() > time.Minute {
			t.Fatalf("webhook message %+v", m)
		}
		wrong := "000000"
		if wrong == m.Code {
			wrong = "111111"
		}
		mustPage("wrong code", b.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": wrong}), wantCodeWrong)
		p = b.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": m.Code})
		mustPage("code verified", p)
		claims := claimsOf(b.Submit(p, "continue", nil))
		sub, _ := claims["sub"].(string)
		if sub == "" {
			t.Fatalf("claims %v", claims)
		}
		sent = len(recv.messages())

		// The same browser again (SSO): the session passed MFA, so no
		// page and no SMS.
		p, conf, v, pkce := authorizePrompt(t, ctx, b, publicURL, flow, callback, "")
		if c := claimsOfPage(t, ctx, b, p, conf, v, pkce); c["sub"] != sub {
			t.Fatalf("SSO sign-in after MFA: %v", c)
		}
		// A session from a flow without MFA does not stand in for it: the
		// MFA flow asks for the second factor (step-up), then its new
		// session carries MFA.
		b3 := testutil.NewBrowser(t, callback, nil)
		p, claimsOf = signIn(b3, "B2C_1_plain", email, "")
		if c := claimsOf(p); c["sub"] != sub {
			t.Fatalf("plain sign-in: %v", c)
		}
		p, _, _, _ = authorizePrompt(t, ctx, b3, publicURL, flow, callback, "none")
		if cb := b3.Callback(p); cb.Get("error") != "interaction_required" || cb.Get("code") != "" {
			t.Fatalf("prompt=none under a session without MFA: %v", cb)
		}
		p, conf, v, pkce = authorizePrompt(t, ctx, b3, publicURL, flow, callback, "")
		mustPage("step-up under a session without MFA", p, `data-name="Phonefactor"`, `id="`+id+`_ver_but_send"`)
		p = b3.Submit(p, id+"_ver_but_send", nil)
		m = recv.last(t, sent)
		sent = len(recv.messages())
		p = b3.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": m.Code})
		if c := claimsOfPage(t, ctx, b3, b3.Submit(p, "continue", nil), conf, v, pkce); c["sub"] != sub {
			t.Fatalf("step-up claims %v", c)
		}
		p, conf, v, pkce = authorizePrompt(t, ctx, b3, publicURL, flow, callback, "")
		if c := claimsOfPage(t, ctx, b3, p, conf, v, pkce); c["sub"] != sub {
			t.Fatalf("SSO after the step-up: %v", c)
		}
		if n := len(recv.messages()); n != sent {
			t.Fatalf("SSO sign-ins sent %d codes", n-sent)
		}

		// A new browser: the number on record, masked; the code goes to
		// it whatever number the form posts — here by a voice call
		// (identity.sms.voice: "Call me").
		b2 := testutil.NewBrowser(t, callback, nil)
		p, claimsOf = signIn(b2, flow, email, "")
		mustPage("sign-in page", p, `data-name="Phonefactor"`, `id="`+id+`_ver_but_send"`, `id="`+id+`_ver_but_call"`, ">Call me<")
		if tag := inputTag(t, p.Body, id); !strings.Contains(tag, `value="XXX-XXX-1234"`) || strings.Contains(p.Body, "40001234") {
			t.Fatalf("the number on record should be shown masked: %s\n%s", tag, p.Body)
		}
		p = b2.Submit(p, id+"_ver_but_call", map[string]string{id: "+4799999999"})
		m = recv.last(t, sent)
		mustPage("code sent to the number on record", p, `id="`+id+`_ver_input"`)
		if got := recv.messages(); len(got) != sent+1 {
			t.Fatalf("want one call, got %d: %+v", len(got)-sent, got[sent:])
		}
		spoken := strings.Join(strings.Split(m.Code, ""), " ")
		if m.To != phone || m.Channel != "call" || m.Tenant != "contoso.onmicrosoft.com" || !strings.Contains(m.Message, spoken) {
			t.Fatalf("the code went to %+v, want a call to %s reading %q", m, phone, spoken)
		}
		wrong = "000000"
		if wrong == m.Code {
			wrong = "111111"
		}
		mustPage("wrong code", b2.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": wrong}), wantCodeWrong)
		p = b2.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": m.Code})
		mustPage("code verified", p)
		if c := claimsOf(b2.Submit(p, "continue", nil)); c["sub"] != sub {
			t.Fatalf("second sign-in claims %v, want sub %s", c, sub)
		}
		if n, why := recv.refusals(); n != probeRefusals {
			t.Fatalf("the receiver refused Gatehouse's requests: %v", why[probeRefusals:])
		}
	}

	// TOTP: the first sign-in enrols an authenticator app; codes are
	// used once.
	{
		const flow, email = "B2C_1_mfa_totp", "cyd@example.com"
		b := testutil.NewBrowser(t, callback, nil)
		p, claimsOf := signIn(b, flow, email, "")
		mustPage("enrolment page", p, `id="totpQrCode"`, `id="totpSecret"`, `id="totpUri"`, `id="totpCode"`, `id="continue"`)
		img := mfaTOTPQR.FindString(p.Body)
		src := mfaSrcRE.FindStringSubmatch(img)
		if src == nil || !strings.HasPrefix(src[1], "data:image/png;base64,") {
			t.Fatalf("QR code not a PNG data: image: %s", img)
		}
		png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(htmlUnescape(src[1]), "data:image/png;base64,"))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("QR code is not a PNG (%v)", err)
		}
		sm := mfaTOTPSecret.FindStringSubmatch(p.Body)
		if sm == nil || !mfaGroupedKey.MatchString(sm[1]) {
			t.Fatalf("key not base32 in groups of 4: %q", sm)
		}
		secret := strings.ReplaceAll(sm[1], " ", "")
		um := mfaTOTPURI.FindStringSubmatch(p.Body)
		if um == nil {
			t.Fatalf("no otpauth URI:\n%s", p.Body)
		}
		uri, err := url.Parse(htmlUnescape(um[1]))
		if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != secret ||
			!strings.Contains(uri.Path, email) {
			t.Fatalf("otpauth URI %q (%v), key %s", um[1], err, secret)
		}
		code := func(at time.Time) string {
			t.Helper()
			c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// A wrong code: one that no step of the window accepts.
		now := time.Now()
		wrong := "000000"
		for _, w := range []string{"000000", "111111", "222222", "333333"} {
			if w != code(now.Add(-30*time.Second)) && w != code(now) && w != code(now.Add(30*time.Second)) && w != code(now.Add(60*time.Second)) {
				wrong = w
				break
			}
		}
		mustPage("wrong code", b.Submit(p, "continue", map[string]string{"totpCode": wrong}), wantTOTPInvalid)
		used := code(time.Now())
		claims := claimsOf(b.Submit(p, "continue", map[string]string{"totpCode": used}))
		sub, _ := claims["sub"].(string)
		if sub == "" {
			t.Fatalf("claims %v", claims)
		}

		// Enrolled: a new browser is asked for a code, without the QR code.
		b2 := testutil.NewBrowser(t, callback, nil)
		p, claimsOf = signIn(b2, flow, email, "")
		mustPage("second sign-in", p, `id="totpCode"`, `id="continue"`)
		for _, s := range []string{"totpQrCode", "totpSecret", "totpUri", secret[:8]} {
			if strings.Contains(p.Body, s) {
				t.Fatalf("an enrolled account's page shows %q:\n%s", s, p.Body)
			}
		}
		// The same code again (its step is used): a replay.
		r := b2.Submit(p, "continue", map[string]string{"totpCode": used})
		mustPage("replayed code", r, wantTOTPInvalid)
		// The next step's code (within the ±1-step window) is fresh.
		if c := claimsOf(b2.Submit(p, "continue", map[string]string{"totpCode": code(time.Now().Add(30 * time.Second))})); c["sub"] != sub {
			t.Fatalf("second sign-in claims %v, want sub %s", c, sub)
		}
	}

	// Profile edit and password reset with MFA: the second factor comes
	// before the profile page and before the new password.
	{
		const email = "dan@example.com"
		seen := map[string]bool{}
		for name := range outbox(t, mailDir) {
			seen[name] = true
		}
		b := testutil.NewBrowser(t, callback, nil)
		p, claimsOf := signIn(b, "B2C_1_edit_mfa", email, "")
		mustPage("profile edit: the MFA page first", p, `data-name="Phonefactor"`, `id="mfaEmail_ver_but_send"`)
		if strings.Contains(p.Body, `id="displayName"`) {
			t.Fatalf("the profile page before MFA:\n%s", p.Body)
		}
		p = b.Submit(p, "mfaEmail_ver_but_send", nil)
		p = b.Submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": mfaMailCode(t, mailDir, seen, email)})
		p = b.Submit(p, "continue", nil)
		mustPage("profile page after MFA", p, `id="displayName"`)
		if c := claimsOf(b.Submit(p, "continue", map[string]string{"displayName": "Dan MFA"})); c["name"] != "Dan MFA" {
			t.Fatalf("profile edit claims %v", c)
		}

		// Password reset in a new browser: the address, MFA, the password.
		const newPW = "Another-Horse-77"
		b2 := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePrompt(t, ctx, b2, publicURL, "B2C_1_reset_mfa", callback, "")
		mustPage("reset: the address page", p, `id="email_ver_but_send"`)
		if strings.Contains(p.Body, `id="newPassword"`) {
			t.Fatalf("the new password asked before MFA:\n%s", p.Body)
		}
		p = b2.Submit(p, "email_ver_but_send", map[string]string{"email": email})
		p = b2.Submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": mfaMailCode(t, mailDir, seen, email)})
		p = b2.Submit(p, "continue", nil)
		mustPage("reset: the MFA page", p, `data-name="Phonefactor"`, `id="mfaEmail_ver_but_send"`)
		p = b2.Submit(p, "mfaEmail_ver_but_send", nil)
		p = b2.Submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": mfaMailCode(t, mailDir, seen, email)})
		p = b2.Submit(p, "continue", nil)
		mustPage("reset: the new password page", p, `id="newPassword"`, `id="reenterPassword"`)
		c := claimsOfPage(t, ctx, b2, b2.Submit(p, "continue", map[string]string{"newPassword": newPW, "reenterPassword": newPW}), conf, v, pkce)
		if c["sub"] == nil {
			t.Fatalf("reset claims %v", c)
		}
		// The new password signs in (the plain flow: no MFA to pass).
		b3 := testutil.NewBrowser(t, callback, nil)
		p, _, _, _ = authorizePrompt(t, ctx, b3, publicURL, "B2C_1_plain", callback, "")
		if cb := b3.Callback(b3.Submit(p, "next", map[string]string{"signInName": email, "password": newPW})); cb.Get("code") == "" {
			t.Fatalf("sign-in with the new password: %v", cb)
		}
	}
}
