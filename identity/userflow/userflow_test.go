package userflow

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/mail"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/sms"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

// completer is a test double of the provider's side.
type completer struct {
	mu      sync.Mutex
	txs     map[string]*tenant.Transaction
	results []tenant.Result
}

func (c *completer) Transaction(_ context.Context, id string) (*tenant.Transaction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, ok := c.txs[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	cp := *tx
	return &cp, nil
}

func (c *completer) SaveTransaction(_ context.Context, tx *tenant.Transaction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *tx
	c.txs[tx.ID] = &cp
	return nil
}

func (c *completer) Complete(w http.ResponseWriter, _ *http.Request, tx *tenant.Transaction, res tenant.Result) {
	c.mu.Lock()
	c.results = append(c.results, res)
	delete(c.txs, tx.ID)
	c.mu.Unlock()
	fmt.Fprintf(w, "COMPLETE user=%s new=%v", res.User.ID, res.NewUser)
}

func (c *completer) Fail(w http.ResponseWriter, _ *http.Request, tx *tenant.Transaction, code, desc string) {
	c.mu.Lock()
	delete(c.txs, tx.ID)
	c.mu.Unlock()
	fmt.Fprintf(w, "FAIL %s %s", code, desc)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t      *testing.T
	srv    *httptest.Server
	flows  *Flows
	st     store.Store
	comp   *completer
	clock  *clock
	outbox string
	smsDir string
	reg    *tenant.Registry
	client *http.Client
	n      int
}

type envOpts struct {
	page   *config.Page
	hasher *password.Hasher
	conn   Connectors
	// tweak changes the flows before the pages compile them.
	tweak func(*tenant.Registry)
	// policies are custom policies, each a flow.
	policies *ief.Set
}

func newEnv(t testing.TB, o envOpts) *env {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := t.(*testing.T)
	e := &env{t: tb, st: st, comp: &completer{txs: map[string]*tenant.Transaction{}},
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, outbox: t.TempDir()}
	e.srv = httptest.NewUnstartedServer(nil)
	e.reg = &tenant.Registry{TenantName: "contoso", TenantID: "00000000-0000-0000-0000-000000000001",
		PublicURL: "http://" + e.srv.Listener.Addr().String(), Flows: map[string]*tenant.Flow{}}
	for _, fl := range []*tenant.Flow{
		{Name: "B2C_1_susi", Type: "signUpOrSignIn", Attributes: []string{"displayName", "givenName", "city", "extension_loyalty"}, EmailVerification: true},
		{Name: "B2C_1_susi_nover", Type: "signUpOrSignIn", Attributes: []string{"displayName"}},
		{Name: "B2C_1_simple", Type: "signUpOrSignIn", Password: password.Simple},
		{Name: "B2C_1_custom", Type: "signUpOrSignIn", Password: tenant.PasswordRules{MinLength: 4, MaxLength: 6, DigitsOnly: true}},
		{Name: "B2C_1_reset", Type: "passwordReset"},
		{Name: "B2C_1_edit", Type: "profileEdit", Attributes: []string{"displayName", "city"}},
		{Name: "B2C_1_mfa", Type: "signUpOrSignIn", MFA: &tenant.MFA{Methods: []string{"email"}, Enforcement: "always", RememberFor: time.Hour}},
		{Name: "B2C_1_mfa_totp", Type: "signUpOrSignIn", MFA: &tenant.MFA{Methods: []string{"totp"}, Enforcement: "always"}},
		{Name: "B2C_1_mfa_every", Type: "signUpOrSignIn", MFA: &tenant.MFA{Methods: []string{"email"}, Enforcement: "always"}},
		{Name: "B2C_1_mfa_phone", Type: "signUpOrSignIn", MFA: &tenant.MFA{Methods: []string{"phone"}, Enforcement: "conditional"}},
		{Name: "B2C_1_api", Type: "signUpOrSignIn", Attributes: []string{"displayName", "postalCode"},
			APIConnectors: map[string]string{"postAttributeCollection": "validate", "preTokenIssuance": "enrich"}},
	} {
		e.reg.Flows[strings.ToLower(fl.Name)] = fl
	}
	if o.tweak != nil {
		o.tweak(e.reg)
	}
	if o.policies != nil {
		for _, id := range o.policies.IDs() {
			e.reg.Flows[strings.ToLower(id)] = &tenant.Flow{Name: id, Type: "journey", Custom: true}
		}
	}
	h := o.hasher
	if h == nil {
		h = password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1}, 0)
	}
	ob := mail.Outbox(e.outbox)
	e.smsDir = t.TempDir()
	e.flows, err = New(Options{Registry: e.reg, Store: st, Completer: e.comp, Mail: ob, SMS: &sms.Outbox{Dir: e.smsDir}, Page: o.page,
		Hasher: h, Now: e.clock.Now, Key: []byte("test key"), Connectors: o.conn, Policies: o.policies,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/{policy}/authorize", func(w http.ResponseWriter, r *http.Request) {
		tx, err := e.comp.Transaction(r.Context(), r.URL.Query().Get("tx"))
		if err != nil {
			http.Error(w, "no tx", 400)
			return
		}
		e.flows.Begin(w, r, tx)
	})
	mux.HandleFunc("/{tenant}/{policy}/api/", func(w http.ResponseWriter, r *http.Request) {
		fl := e.reg.Flows[strings.ToLower(r.PathValue("policy"))]
		if fl == nil {
			http.NotFound(w, r)
			return
		}
		e.flows.ServeHTTP(w, r.WithContext(tenant.WithFlow(r.Context(), fl)))
	})
	e.srv.Config.Handler = mux
	e.srv.Start()
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() { e.srv.Close(); st.Close() })
	return e
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

// begin stores a transaction for flow and shows its first page.
func (e *env) begin(flow string) resp {
	e.n++
	id := fmt.Sprintf("tx%d-%d", e.n, time.Now().UnixNano())
	_ = e.comp.SaveTransaction(context.Background(), &tenant.Transaction{ID: id, Flow: flow,
		Request: tenant.AuthRequest{ClientID: "app", RedirectURI: "https://app.example/cb", ResponseMode: "query"}})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/"+flow+"/authorize?tx="+id, nil)
	return e.do(req)
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"/?>`)
	actionRE = regexp.MustCompile(`<form id="[^"]+" method="post" action="([^"]+)"`)
	idRE     = regexp.MustCompile(` id="([^"]+)"`)
	hrefRE   = regexp.MustCompile(`<a href="([^"]+)" id="([^"]+)"`)
)

func elementIDs(body string) map[string]bool {
	m := map[string]bool{}
	for _, s := range idRE.FindAllStringSubmatch(body, -1) {
		m[s[1]] = true
	}
	return m
}

func (e *env) wantIDs(body string, want ...string) {
	e.t.Helper()
	got := elementIDs(body)
	for _, id := range want {
		if !got[id] {
			e.t.Fatalf("missing element id %q in:\n%s", id, body)
		}
	}
}

// submit posts the page's form with the pressed button and inputs.
func (e *env) submit(page resp, action string, fields map[string]string) resp {
	e.t.Helper()
	m := actionRE.FindStringSubmatch(page.body)
	if m == nil {
		e.t.Fatalf("no form in:\n%s", page.body)
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
	return e.do(req)
}

func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

func (e *env) follow(page resp, linkID string) resp {
	e.t.Helper()
	for _, m := range hrefRE.FindAllStringSubmatch(page.body, -1) {
		if m[2] == linkID {
			req, _ := http.NewRequest("GET", e.srv.URL+htmlUnescape(m[1]), nil)
			return e.do(req)
		}
	}
	e.t.Fatalf("no link %s", linkID)
	return resp{}
}

var codeRE = regexp.MustCompile(`Your code is: (\d{6})`)

// lastCode reads the newest verification code from the outbox.
func (e *env) lastCode() string {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	if len(files) == 0 {
		e.t.Fatal("no mail")
	}
	b, _ := os.ReadFile(files[len(files)-1])
	m := codeRE.FindStringSubmatch(string(b))
	if m == nil {
		e.t.Fatalf("no code in %s", b)
	}
	return m[1]
}

func mustContain(t *testing.T, r resp, s string) {
	t.Helper()
	if !strings.Contains(r.body, s) && !strings.Contains(r.body, html.EscapeString(s)) {
		t.Fatalf("want %q in (status %d):\n%s", s, r.status, r.body)
	}
}

func (e *env) users() int {
	us, err := e.st.Users().List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(us)
}

func (e *env) addUser(email, pw string) *store.User {
	h, _ := e.flows.hasher.Hash(context.Background(), pw)
	u := &store.User{ID: ids.NewGUID(), Email: email, PasswordHash: h, DisplayName: "Old Name",
		Identities: []store.Identity{{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: email}},
		CreatedAt:  e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.st.Users().Create(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

const goodPW = "Passw0rd!x"

func TestSignUpThenSignIn(t *testing.T) {
	e := newEnv(t, envOpts{})
	p := e.begin("B2C_1_susi")
	e.wantIDs(p.body, "api", "localAccountForm", "signInName", "password", "next", "createAccount", "forgotPassword")
	mustContain(t, p, `<html lang="en">`)
	mustContain(t, p, `<label for="signInName"`)

	p = e.follow(p, "createAccount")
	e.wantIDs(p.body, "attributeVerification", "email", "email_ver_but_send", "cancel")
	p = e.submit(p, "email_ver_but_send", map[string]string{"email": "not-an-email"})
	mustContain(t, p, msgInvalidEmail)
	mustContain(t, p, `aria-describedby="email_error"`)
	p = e.submit(p, "email_ver_but_send", map[string]string{"email": "Alice@Example.com"})
	mustContain(t, p, msgCodeSent)
	e.wantIDs(p.body, "email_ver_input", "email_ver_but_verify", "email_ver_but_resend")
	// Continue before verifying is refused.
	if r := e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW}); !strings.Contains(r.body, msgVerifyFirst) {
		t.Fatalf("continue without verification: %s", r.body)
	}
	p = e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": "000000x"})
	mustContain(t, p, msgCodeWrong)
	p = e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": e.lastCode()})
	mustContain(t, p, msgVerified)
	e.wantIDs(p.body, "newPassword", "reenterPassword", "displayName", "givenName", "city", "extension_loyalty", "continue", "cancel")

	// Failing steps store nothing.
	p2 := e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW + "x",
		"displayName": "Alice", "givenName": "Alice", "city": "Oslo", "extension_loyalty": "7"})
	mustContain(t, p2, msgMismatch)
	p2 = e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW, "displayName": "Alice"})
	mustContain(t, p2, msgRequired)
	if e.users() != 0 {
		t.Fatal("user stored after a failed step")
	}
	r := e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW,
		"displayName": "Alice", "givenName": "Alice", "city": "Oslo", "extension_loyalty": "7"})
	mustContain(t, r, "new=true")
	u, err := e.st.Users().GetByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Alice" || u.Attributes["city"] != "Oslo" || len(u.Identities) != 1 ||
		u.Identities[0] != (store.Identity{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "alice@example.com"}) ||
		!strings.HasPrefix(u.PasswordHash, "$argon2id$") || len(u.ID) != 36 {
		t.Fatalf("user: %+v", u)
	}
	// SSO cookie flags (http: Lax, no Secure).
	var sso string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "x-ms-cpim-sso_contoso.onmicrosoft.com=") {
			sso = c
		}
	}
	if !strings.Contains(sso, "HttpOnly") || !strings.Contains(sso, "SameSite=Lax") || strings.Contains(sso, "Secure") {
		t.Fatalf("sso cookie: %q", sso)
	}

	// Sign in: wrong password and unknown account give one message.
	p = e.begin("B2C_1_susi")
	r = e.submit(p, "next", map[string]string{"signInName": "alice@example.com", "password": "nope"})
	mustContain(t, r, msgInvalidCredentials)
	r2 := e.submit(p, "next", map[string]string{"signInName": "nobody@example.com", "password": "nope"})
	mustContain(t, r2, msgInvalidCredentials)
	r = e.submit(p, "next", map[string]string{"signInName": "ALICE@example.com", "password": goodPW})
	mustContain(t, r, "user="+u.ID+" new=false")

	// The session cookie now identifies the user.
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	for _, c := range e.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, ok := e.flows.Session(req)
	if !ok || res.User.ID != u.ID {
		t.Fatal("no session")
	}
	rec := httptest.NewRecorder()
	e.flows.SignOut(rec, req)
	if _, ok := e.flows.Session(req); ok {
		t.Fatal("session survived sign-out")
	}
	if !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Fatal("cookie not cleared")
	}
}

func TestSecureCookie(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.flows.secure = true
	e.addUser("bob@example.com", goodPW)
	r := e.submit(e.begin("B2C_1_susi"), "next", map[string]string{"signInName": "bob@example.com", "password": goodPW})
	sso := ""
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "x-ms-cpim-sso_") {
			sso = c
		}
	}
	if !strings.Contains(sso, "Secure") || !strings.Contains(sso, "SameSite=None") || !strings.Contains(sso, "HttpOnly") {
		t.Fatalf("sso cookie: %q", sso)
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("carol@example.com", goodPW)
	p := e.begin("B2C_1_susi")
	try := func(pw string) resp {
		return e.submit(p, "next", map[string]string{"signInName": "carol@example.com", "password": pw})
	}
	for i := 0; i < 9; i++ {
		mustContain(t, try(fmt.Sprintf("wrong%d", i)), msgInvalidCredentials)
	}
	for i := 0; i < 3; i++ { // the same wrong password counts once
		mustContain(t, try("wrong8"), msgInvalidCredentials)
	}
	mustContain(t, try("wrong9"), password.LockedMessage)
	// Locked: even the right password is not checked.
	mustContain(t, try(goodPW), password.LockedMessage)
	// Periods: 10 × 1 min, then 2 min; a failure after unlock re-locks.
	for i := 0; i < 12; i++ {
		l, _ := e.st.Lockouts().Get(context.Background(), lockKey("carol@example.com"))
		want := password.Period(time.Minute, i)
		if got := l.LockedUntil.Sub(e.clock.Now()); got != want {
			t.Fatalf("period %d: %v want %v", i, got, want)
		}
		e.clock.Advance(want - time.Second)
		mustContain(t, try(goodPW), password.LockedMessage)
		e.clock.Advance(time.Second)
		mustContain(t, try(fmt.Sprintf("again%d", i)), password.LockedMessage)
	}
	l, _ := e.st.Lockouts().Get(context.Background(), lockKey("carol@example.com"))
	e.clock.Advance(l.LockedUntil.Sub(e.clock.Now()))
	mustContain(t, try(goodPW), "user="+u.ID)
	l, _ = e.st.Lockouts().Get(context.Background(), lockKey("carol@example.com"))
	if l.Failures != 0 || l.Lockouts != 0 {
		t.Fatalf("not reset: %+v", l)
	}
}

func TestPasswordRules(t *testing.T) {
	e := newEnv(t, envOpts{})
	cases := []struct{ flow, pw, want string }{
		{"B2C_1_susi_nover", "abcdefgh", "at least 3"},
		{"B2C_1_susi_nover", "short1A", "between 8 and 64"},
		{"B2C_1_susi_nover", "abcdefG1", ""},
		{"B2C_1_simple", "abcdefgh", ""},
		{"B2C_1_simple", "abcdefg", "between 8 and 64"},
		{"B2C_1_custom", "12345", ""},
		{"B2C_1_custom", "1234a", "only numbers"},
		{"B2C_1_custom", "1234567", "between 4 and 6"},
	}
	for i, c := range cases {
		p := e.follow(e.begin(c.flow), "createAccount")
		e.wantIDs(p.body, "email", "newPassword", "reenterPassword", "continue", "cancel", "newPassword_help")
		r := e.submit(p, "continue", map[string]string{"email": fmt.Sprintf("u%d@example.com", i),
			"newPassword": c.pw, "reenterPassword": c.pw, "displayName": "U"})
		if c.want == "" {
			mustContain(t, r, "new=true")
		} else {
			mustContain(t, r, c.want)
			mustContain(t, r, `aria-describedby="newPassword_help newPassword_error"`)
		}
	}
	// Existing account on sign-up.
	p := e.follow(e.begin("B2C_1_simple"), "createAccount")
	r := e.submit(p, "continue", map[string]string{"email": "u3@example.com", "newPassword": "abcdefgh", "reenterPassword": "abcdefgh"})
	mustContain(t, r, msgUserExists)
}

func TestSSPR(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("dave@example.com", goodPW)
	_, _ = e.st.Lockouts().Update(context.Background(), lockKey(u.Email), func(l *store.Lockout) error {
		l.LockedUntil = e.clock.Now().Add(time.Hour)
		return nil
	})
	p := e.follow(e.begin("B2C_1_susi"), "forgotPassword")
	p = e.submit(p, "email_ver_but_send", map[string]string{"email": "dave@example.com"})
	p = e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": e.lastCode()})
	e.wantIDs(p.body, "newPassword", "reenterPassword", "continue")
	mustContain(t, p, `readonly`)
	r := e.submit(p, "continue", map[string]string{"newPassword": "weak", "reenterPassword": "weak"})
	mustContain(t, r, "between 8 and 64")
	r = e.submit(p, "continue", map[string]string{"newPassword": "N3w-Passw0rd", "reenterPassword": "N3w-Passw0rd"})
	mustContain(t, r, "user="+u.ID+" new=false")
	// The reset unlocked the account; the new password signs in.
	r = e.submit(e.begin("B2C_1_susi"), "next", map[string]string{"signInName": "dave@example.com", "password": "N3w-Passw0rd"})
	mustContain(t, r, "user="+u.ID)
}

func TestPasswordResetFlowCodeLimits(t *testing.T) {
	e := newEnv(t, envOpts{})
	p := e.begin("B2C_1_reset")
	e.wantIDs(p.body, "email", "email_ver_but_send", "cancel")
	p = e.submit(p, "email_ver_but_send", map[string]string{"email": "nobody@example.com"})
	for i := 0; i < maxCodeAttempts; i++ {
		mustContain(t, e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": "999999x"}), msgCodeWrong)
	}
	mustContain(t, e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": e.lastCode()}), msgTooManyAttempts)
	// Expiry.
	p = e.submit(p, "email_ver_but_resend", nil)
	e.clock.Advance(codeTTL + time.Second)
	mustContain(t, e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": e.lastCode()}), msgCodeExpired)
	e.clock.Advance(-codeTTL - time.Second)
	// Unknown account: found out only after proving the mailbox.
	p = e.submit(p, "email_ver_but_resend", nil)
	p = e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": e.lastCode()})
	mustContain(t, e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW}), msgNoAccount)
	// At most 10 codes per transaction (3 sent so far).
	for i := 3; i < maxCodes; i++ {
		mustContain(t, e.submit(p, "email_ver_but_send", map[string]string{"email": "nobody@example.com"}), msgCodeSent)
	}
	mustContain(t, e.submit(p, "email_ver_but_send", map[string]string{"email": "nobody@example.com"}), msgThrottled)
}

func TestProfileEdit(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("erin@example.com", goodPW)
	// Without a session: sign in first.
	p := e.begin("B2C_1_edit")
	e.wantIDs(p.body, "signInName", "password", "next")
	if elementIDs(p.body)["createAccount"] {
		t.Fatal("sign-up link in profile edit")
	}
	p = e.submit(p, "next", map[string]string{"signInName": "erin@example.com", "password": goodPW})
	e.wantIDs(p.body, "email", "displayName", "city", "continue", "cancel")
	mustContain(t, p, `value="Old Name"`)
	r := e.submit(p, "continue", map[string]string{"displayName": "Erin", "city": "Rome"})
	mustContain(t, r, "user="+u.ID)
	got, _ := e.st.Users().Get(context.Background(), u.ID)
	if got.DisplayName != "Erin" || got.Attributes["city"] != "Rome" {
		t.Fatalf("not updated: %+v", got)
	}
	// With the SSO session: straight to the profile page.
	p = e.begin("B2C_1_edit")
	e.wantIDs(p.body, "displayName", "city", "continue")
	mustContain(t, p, `value="Erin"`)
	mustContain(t, e.submit(p, "cancel", nil), "FAIL access_denied AADB2C90091: The user has cancelled entering self-asserted information.")
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addUser("frank@example.com", goodPW)
	p := e.begin("B2C_1_susi")
	bad := strings.Replace(p.body, `name="csrf_token" value="`, `name="csrf_token" value="x`, 1)
	r := e.submit(resp{body: bad}, "next", map[string]string{"signInName": "frank@example.com", "password": goodPW})
	if r.status != http.StatusForbidden || strings.Contains(r.body, "COMPLETE") {
		t.Fatalf("bad token accepted: %d %s", r.status, r.body)
	}
	// Right token, other browser (no cookie).
	other := *e
	jar, _ := cookiejar.New(nil)
	other.client = &http.Client{Jar: jar}
	r = other.submit(p, "next", map[string]string{"signInName": "frank@example.com", "password": goodPW})
	if r.status != http.StatusForbidden {
		t.Fatalf("cross-browser token accepted: %d", r.status)
	}
	mustContain(t, e.submit(p, "next", map[string]string{"signInName": "frank@example.com", "password": goodPW}), "COMPLETE")
}

func TestHeaders(t *testing.T) {
	e := newEnv(t, envOpts{page: &config.Page{Logo: "https://cdn.example/logo.png", PrimaryColor: "#aa0000", Background: "red;}</style><script>"}})
	p := e.begin("B2C_1_susi")
	csp := p.header.Get("Content-Security-Policy")
	for _, s := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self' https://app.example", "style-src 'self' 'nonce-", "img-src 'self' data: https://cdn.example"} {
		if !strings.Contains(csp, s) {
			t.Errorf("CSP %q lacks %q", csp, s)
		}
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if p.header.Get(k) != v {
			t.Errorf("%s = %q", k, p.header.Get(k))
		}
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)[1]
	mustContain(t, p, `<style nonce="`+nonce+`">`)
	mustContain(t, p, "--primary: #aa0000")
	mustContain(t, p, "--bg: #f3f4f6") // the unsafe background was refused
	mustContain(t, p, `src="https://cdn.example/logo.png"`)
	if strings.Contains(p.body, "<script") {
		t.Fatal("script in page")
	}
}

func TestCustomTemplate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unified.html")
	_ = os.WriteFile(path, []byte(`<!DOCTYPE html><html lang="en"><head><title>Contoso</title><link rel="stylesheet" href="https://cdn.example/b2c.css"></head><body><h1 class="brand">Contoso</h1><div id="api"></div><footer>custom footer</footer></body></html>`), 0o600)
	e := newEnv(t, envOpts{page: &config.Page{Template: config.Path{Abs: path}}})
	p := e.begin("B2C_1_susi")
	mustContain(t, p, `<h1 class="brand">Contoso</h1><div id="api" data-name="Unified">`)
	mustContain(t, p, "custom footer")
	e.wantIDs(p.body, "signInName", "password", "next", "createAccount", "forgotPassword")
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "'nonce-") {
		t.Fatal(p.header.Get("Content-Security-Policy"))
	}
	_ = os.WriteFile(path, []byte(`<html><body>no container</body></html>`), 0o600)
	if _, err := New(Options{Registry: e.reg, Store: e.st, Completer: e.comp, Page: &config.Page{Template: config.Path{Abs: path}}}); err == nil {
		t.Fatal("template without <div id=\"api\"></div> accepted")
	}
}

func TestUnknownTransactionAndFlowMismatch(t *testing.T) {
	e := newEnv(t, envOpts{})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/B2C_1_susi/api/CombinedSigninAndSignup/unified?tx=nope", nil)
	if r := e.do(req); r.status != http.StatusBadRequest {
		t.Fatalf("unknown tx: %d", r.status)
	}
	p := e.begin("B2C_1_susi")
	tx := hiddenRE.FindStringSubmatch(p.body)[2]
	req, _ = http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/B2C_1_reset/api/CombinedSigninAndSignup/unified?tx="+tx, nil)
	if r := e.do(req); r.status != http.StatusBadRequest {
		t.Fatalf("flow mismatch: %d", r.status)
	}
}

// BenchmarkPasswordSignIn posts the sign-in form (real argon2id parameters)
// through the handler, store and session creation.
func BenchmarkPasswordSignIn(b *testing.B) {
	e := newEnv(b, envOpts{hasher: password.NewHasher(password.Default, 0)})
	e.t = &testing.T{}
	e.addUser("bench@example.com", goodPW)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar}
		for pb.Next() {
			e.comp.mu.Lock()
			e.n++
			id := fmt.Sprintf("btx%d", e.n)
			e.comp.txs[id] = &tenant.Transaction{ID: id, Flow: "B2C_1_susi", Request: tenant.AuthRequest{RedirectURI: "https://app.example/cb"}}
			e.comp.mu.Unlock()
			res, err := cl.Get(e.srv.URL + "/contoso.onmicrosoft.com/B2C_1_susi/authorize?tx=" + id)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			form := url.Values{"action": {"next"}, "signInName": {"bench@example.com"}, "password": {goodPW}}
			for _, h := range hiddenRE.FindAllStringSubmatch(string(body), -1) {
				form.Set(h[1], h[2])
			}
			res, err = cl.PostForm(e.srv.URL+"/contoso.onmicrosoft.com/B2C_1_susi/api/SelfAsserted", form)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(body), "COMPLETE") {
				b.Errorf("sign-in failed: %s", body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// sessionPolicy is a relying party on the built-in starter-pack base whose
// UserJourneyBehaviors set the SSO session's terms.
func sessionPolicy(id, kind string, secs int) ief.Source {
	return ief.Source{Path: id + ".xml", Data: []byte(fmt.Sprintf(`<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06"
 PolicySchemaVersion="0.3.0.0" TenantId="contoso.onmicrosoft.com" PolicyId="%s" PublicPolicyUri="http://contoso.onmicrosoft.com/%s">
 <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_TrustFrameworkLocalization</PolicyId></BasePolicy>
 <RelyingParty><DefaultUserJourney ReferenceId="SignUpOrSignIn"/>
  <UserJourneyBehaviors><SessionExpiryType>%s</SessionExpiryType><SessionExpiryInSeconds>%d</SessionExpiryInSeconds></UserJourneyBehaviors>
  <TechnicalProfile Id="PolicyProfile"><DisplayName>PolicyProfile</DisplayName><Protocol Name="OpenIdConnect"/>
   <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/></OutputClaims><SubjectNamingInfo ClaimType="sub"/></TechnicalProfile>
 </RelyingParty></TrustFrameworkPolicy>`, id, id, kind, secs))}
}

// TestPolicySessionTerms: a custom policy's SessionExpiryInSeconds and
// SessionExpiryType govern the session its sign-in starts; a forged
// cookie with other terms is no session.
func TestPolicySessionTerms(t *testing.T) {
	set, err := ief.Load([]ief.Source{sessionPolicy("B2C_1A_abs", "Absolute", 900), sessionPolicy("B2C_1A_roll", "Rolling", 900)}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpts{policies: set})
	e.addUser("gina@example.com", goodPW)
	session := func() (*tenant.Result, bool, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
		value := ""
		for _, c := range e.client.Jar.Cookies(req.URL) {
			req.AddCookie(c)
			if strings.HasPrefix(c.Name, "x-ms-cpim-sso_") {
				value = c.Value
			}
		}
		res, ok := e.flows.Session(req)
		return res, ok, value
	}
	signIn := func(policy string) {
		t.Helper()
		mustContain(t, e.submit(e.begin(policy), "next", map[string]string{"signInName": "gina@example.com", "password": goodPW}), "COMPLETE")
	}

	signIn("B2C_1A_abs")
	if _, ok, v := session(); !ok || !strings.HasPrefix(v, "A900.") {
		t.Fatalf("absolute session: %v %q", ok, v)
	}
	e.clock.Advance(899 * time.Second)
	if _, ok, _ := session(); !ok {
		t.Fatal("absolute session ended early")
	}
	e.clock.Advance(2 * time.Second) // used at 899 s: an absolute session is not extended
	if _, ok, _ := session(); ok {
		t.Fatal("absolute session outlived its 900 s")
	}

	signIn("B2C_1A_roll")
	_, _, v := session()
	if !strings.HasPrefix(v, "R900.") {
		t.Fatalf("rolling cookie %q", v)
	}
	for i := 0; i < 3; i++ { // each use within 900 s extends it
		e.clock.Advance(800 * time.Second)
		if _, ok, _ := session(); !ok {
			t.Fatalf("rolling session ended after use %d", i)
		}
	}
	// Other terms on the same id are another (unknown) session.
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "x-ms-cpim-sso_contoso.onmicrosoft.com", Value: "R86400." + v[len("R900."):]})
	if _, ok := e.flows.Session(req); ok {
		t.Fatal("a cookie with changed terms was accepted")
	}
}
