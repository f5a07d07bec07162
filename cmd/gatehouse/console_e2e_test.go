package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleClient is a cookie-keeping HTTP client on the console that does
// not follow redirects (the test checks where each answer points).
type consoleClient struct {
	t    *testing.T
	b    *testutil.Browser
	base string // {publicUrl}/console
	csrf string
}

// signInConsole opens a console page in a new browser, signs in on the
// tenant's sign-in page and returns the page the browser lands on.
func signInConsole(t *testing.T, publicURL, start, email, pw string) (*consoleClient, *testutil.Page) {
	t.Helper()
	b := testutil.NewBrowser(t, "", nil)
	p := b.Get(publicURL + start)
	if p.Status != 200 || !strings.Contains(p.Body, `id="signInName"`) {
		t.Fatalf("%s without a session: %d %s\n%s", start, p.Status, p.URL, p.Body)
	}
	if q := p.URL.Query(); !strings.HasSuffix(p.URL.Path, "/authorize") && q.Get("code_challenge_method") != "S256" {
		// (Custom policies show their page at the authorize URL.)
		t.Logf("sign-in page at %s", p.URL)
	}
	p = b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	c := &consoleClient{t: t, b: b, base: publicURL + "/console"}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return c, p
}

func (c *consoleClient) do(method, path string, body io.Reader, header ...string) *testutil.Page {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := *c.b.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return p
}

func (c *consoleClient) get(path string) *testutil.Page { c.t.Helper(); return c.do("GET", path, nil) }

// post sends a form; with csrf the session's token is added.
func (c *consoleClient) post(path string, form url.Values, csrf bool, header ...string) *testutil.Page {
	c.t.Helper()
	if csrf {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", path, strings.NewReader(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

// upload posts a multipart form with one file.
func (c *consoleClient) upload(path, field, name string, data []byte, fields map[string]string) *testutil.Page {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", c.csrf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile(field, name)
	fw.Write(data)
	w.Close()
	return c.do("POST", path, &buf, "Content-Type", w.FormDataContentType())
}

// TestConsole runs the admin console through the binary, on the B2C
// starter pack (its sign-in policy is the console's sign-in): only admin
// accounts get in; a tampered or absent session goes back to sign-in;
// forms without the session's token or from another site are refused;
// users are created, disabled and searched through the directory API with
// the administrator in the audit log; policy keys are added without ever
// showing material; a policy upload with a mistake is refused at its
// line, a sound one replaces the file; an API connector test call reaches
// the API; the admin API answers JSON.
func TestConsole(t *testing.T) {
	var mu sync.Mutex
	var called []map[string]any
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		called = append(called, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":"1.0.0","action":"Continue"}`))
	}))
	defer api.Close()
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", "http://127.0.0.1:1/callback")
	cfg, _ := os.ReadFile(file)
	cfg = append(cfg, []byte(`  deploymentMode: Development
  apiConnectors:
    - { name: loyalty-api, endpointUrl: `+api.URL+`/validate, authenticationType: none }
`)...)
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	const adminEmail, adminPw, userEmail, userPw = "root@contoso.example", "Console-Admin-9", "plain@contoso.example", "Plain-User-9"
	if _, e, code := gatehouse(t, env, "users", "create", "--config", file, "--email", adminEmail, "--password", adminPw, "--display-name", "Ada Admin", "--admin"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := gatehouse(t, env, "users", "create", "--config", file, "--email", userEmail, "--password", userPw); code != 0 {
		t.Fatal(e)
	}
	startServe(t, file, env, "identity")
	anon := &consoleClient{t: t, b: testutil.NewBrowser(t, "", nil), base: publicURL + "/console"}

	// Without a session: pages go to the tenant's sign-in (code + PKCE to
	// the console's own callback), the admin API answers 401.
	p := anon.get("/users")
	loc, _ := url.Parse(p.Header.Get("Location"))
	if p.Status != 302 || !strings.HasSuffix(loc.Path, "/B2C_1A_signup_signin/oauth2/v2.0/authorize") || loc.Query().Get("code_challenge_method") != "S256" ||
		loc.Query().Get("redirect_uri") != publicURL+"/console/callback" || loc.Query().Get("nonce") == "" {
		t.Fatalf("no session: %d %s", p.Status, p.Header.Get("Location"))
	}
	if p := anon.get("/api/users"); p.Status != 401 || !strings.Contains(p.Body, `"code":"Unauthorized"`) {
		t.Fatalf("admin API without a session: %d %s", p.Status, p.Body)
	}

	// An account without the admin role signs in and is refused.
	_, p = signInConsole(t, publicURL, "/console/", userEmail, userPw)
	if p.Status != 403 || !strings.Contains(p.Body, "admin role") {
		t.Fatalf("a user without the admin role: %d\n%s", p.Status, p.Body)
	}

	// The administrator signs in; a return address off the console is
	// not followed (no open redirect).
	c, p := signInConsole(t, publicURL, "/console/signin?return=//evil.example/", adminEmail, adminPw)
	if p.Status != 200 || !strings.Contains(p.Body, `url=/console/"`) || c.csrf != "" {
		t.Fatalf("after sign-in: %d\n%s", p.Status, p.Body)
	}
	p = c.get("/")
	if p.Status != 200 || !strings.Contains(p.Body, "<h1>Overview</h1>") || !strings.Contains(p.Body, "<strong>2</strong> users") || c.csrf == "" {
		t.Fatalf("overview: %d\n%s", p.Status, p.Body)
	}
	if p.Header.Get("Content-Security-Policy") == "" || p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("console headers: %v", p.Header)
	}

	// Forged forms: no token, a wrong token, another site's Origin.
	newUser := url.Values{"email": {"new.person@contoso.example"}, "displayName": {"New Person"}, "password": {"New-Person-9x"}}
	if p := c.post("/users", newUser, false); p.Status != 403 {
		t.Fatalf("create without the token: %d", p.Status)
	}
	if p := c.post("/users", url.Values{"csrf": {"forged"}, "email": newUser["email"]}, false); p.Status != 403 {
		t.Fatalf("create with a forged token: %d", p.Status)
	}
	if p := c.post("/users", newUser, true, "Origin", "https://evil.example"); p.Status != 403 {
		t.Fatalf("create from another site: %d", p.Status)
	}
	if p := c.get("/users?q=new.person@contoso.example"); !strings.Contains(p.Body, "No users found.") {
		t.Fatalf("a refused form created a user:\n%s", p.Body)
	}

	// Create, with a validation error first (Graph's message on the form).
	weak := url.Values{"email": {"new.person@contoso.example"}, "displayName": {"New Person"}, "password": {"weak"}}
	if p := c.post("/users", weak, true); p.Status != 400 || !strings.Contains(p.Body, `role="alert"`) || !strings.Contains(p.Body, `value="new.person@contoso.example"`) {
		t.Fatalf("weak password: %d\n%s", p.Status, p.Body)
	}
	p = c.post("/users", newUser, true)
	created := p.Header.Get("Location")
	if p.Status != 303 || !strings.HasPrefix(created, "/console/users/") || !strings.HasSuffix(created, "?done=created") {
		t.Fatalf("create: %d %s\n%s", p.Status, created, p.Body)
	}
	userPath := strings.TrimSuffix(strings.TrimPrefix(created, "/console"), "?done=created")
	userID := strings.TrimPrefix(userPath, "/users/")
	if p := c.get(userPath + "?done=created"); !strings.Contains(p.Body, "The user was created.") || !strings.Contains(p.Body, "new.person@contoso.example") {
		t.Fatalf("the new user's page:\n%s", p.Body)
	}
	// Search finds it by address and by name.
	for _, q := range []string{"new.person@contoso.example", "New"} {
		if p := c.get("/users?q=" + url.QueryEscape(q)); !strings.Contains(p.Body, userPath) {
			t.Fatalf("search %q:\n%s", q, p.Body)
		}
	}
	// Disable it; the administrator cannot disable or delete itself.
	if p := c.post(userPath, url.Values{"action": {"disable"}}, true); p.Status != 303 {
		t.Fatalf("disable: %d\n%s", p.Status, p.Body)
	}
	if p := c.get(userPath); !strings.Contains(p.Body, `badge bad">disabled`) {
		t.Fatalf("disabled user:\n%s", p.Body)
	}
	var me struct {
		Users []struct{ ID string } `json:"users"`
	}
	p = c.get("/api/users?q=" + url.QueryEscape(adminEmail))
	if json.Unmarshal([]byte(p.Body), &me) != nil || len(me.Users) != 1 {
		t.Fatalf("admin API search: %d %s", p.Status, p.Body)
	}
	adminID := me.Users[0].ID
	if p := c.post("/users/"+adminID, url.Values{"action": {"disable"}}, true); p.Status != 400 || !strings.Contains(p.Body, "signed in with") {
		t.Fatalf("disable yourself: %d\n%s", p.Status, p.Body)
	}

	// Edit, set a password, enable again: the user signs in with the new
	// password (and, not being an administrator, is shown the door).
	if p := c.post(userPath, url.Values{"action": {"save"}, "displayName": {"Renamed Person"}, "givenName": {"Renamed"}}, true); p.Status != 303 {
		t.Fatalf("save: %d\n%s", p.Status, p.Body)
	}
	if p := c.post(userPath, url.Values{"action": {"password"}, "password": {"short"}}, true); p.Status != 400 || !strings.Contains(p.Body, `role="alert"`) {
		t.Fatalf("weak password reset: %d\n%s", p.Status, p.Body)
	}
	if p := c.post(userPath, url.Values{"action": {"password"}, "password": {"Reset-By-Admin-7"}}, true); p.Status != 303 {
		t.Fatalf("password reset: %d\n%s", p.Status, p.Body)
	}
	if p := c.post(userPath, url.Values{"action": {"enable"}}, true); p.Status != 303 {
		t.Fatalf("enable: %d\n%s", p.Status, p.Body)
	}
	if p := c.get(userPath); !strings.Contains(p.Body, `value="Renamed Person"`) || !strings.Contains(p.Body, `badge ok">enabled`) {
		t.Fatalf("after edit and enable:\n%s", p.Body)
	}
	if _, p := signInConsole(t, publicURL, "/console/", "new.person@contoso.example", "Reset-By-Admin-7"); p.Status != 403 || !strings.Contains(p.Body, "You signed in") {
		t.Fatalf("sign-in with the reset password: %d\n%s", p.Status, p.Body)
	}
	if p := c.post(userPath, url.Values{"action": {"rename"}}, true); p.Status != 400 {
		t.Fatalf("unknown action: %d", p.Status)
	}

	// The audit log names the administrator, as the directory API wrote it.
	p = c.get("/audit")
	if !strings.Contains(p.Body, "users.create") || !strings.Contains(p.Body, "users.update") || !strings.Contains(p.Body, "user "+adminID) || !strings.Contains(p.Body, userID) {
		t.Fatalf("audit log:\n%s", p.Body)
	}
	if p := c.get("/audit?log=signIns&user=" + adminID); !strings.Contains(p.Body, "signin_succeeded") {
		t.Fatalf("sign-in log:\n%s", p.Body)
	}

	// Policy keys: generated through the admin API (JSON, the token in a
	// header), listed with their dates and never with material.
	form := url.Values{"container": {"RestApiKey"}, "kind": {"oct"}, "use": {"sig"}, "expires": {"2031-01-01"}}
	p = c.do("POST", "/api/keys", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "X-CSRF-Token", c.csrf)
	var key struct {
		Container string `json:"container"`
		KID       string `json:"kid"`
	}
	if p.Status != 201 || json.Unmarshal([]byte(p.Body), &key) != nil || key.Container != "B2C_1A_RestApiKey" || strings.Contains(p.Body, `"k"`) {
		t.Fatalf("add key: %d %s", p.Status, p.Body)
	}
	if p := c.do("POST", "/api/keys", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded"); p.Status != 403 {
		t.Fatalf("admin API write without the token: %d", p.Status)
	}
	if p := c.get("/keys"); !strings.Contains(p.Body, key.KID) || !strings.Contains(p.Body, "2031-01-01") {
		t.Fatalf("keys page:\n%s", p.Body)
	}
	if p := c.get("/audit"); !strings.Contains(p.Body, "keys.add") {
		t.Fatalf("key not in the audit log:\n%s", p.Body)
	}

	// Policy upload: a mistake is shown at its line; a sound file
	// replaces the configured one.
	rpFile := filepath.Join(filepath.Dir(file), "policies", "SignUpOrSignin.xml")
	rp, err := os.ReadFile(rpFile)
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(rp, []byte(`ReferenceId="SignUpOrSignIn"`), []byte(`ReferenceId="NoSuchJourney"`), 1)
	p = c.upload("/policies", "policy", "SignUpOrSignin.xml", broken, nil)
	if p.Status != 400 || !strings.Contains(p.Body, "NoSuchJourney") || !regexp.MustCompile(`<td>\d+</td><td>\d+</td>`).MatchString(p.Body) {
		t.Fatalf("broken upload: %d\n%s", p.Status, p.Body)
	}
	if now, _ := os.ReadFile(rpFile); !bytes.Equal(now, rp) {
		t.Fatal("a refused upload changed the file")
	}
	edited := bytes.Replace(rp, []byte("<TrustFrameworkPolicy"), []byte("<!-- uploaded in the console -->\n<TrustFrameworkPolicy"), 1)
	if p := c.upload("/policies", "policy", "SignUpOrSignin.xml", edited, nil); p.Status != 303 || p.Header.Get("Location") != "/console/policies/B2C_1A_signup_signin?done=policy" {
		t.Fatalf("sound upload: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	if now, _ := os.ReadFile(rpFile); !bytes.Equal(now, edited) {
		t.Fatal("the upload did not replace the file")
	}

	// A body over 1 MiB is refused unread.
	if p := c.upload("/policies", "policy", "big.xml", bytes.Repeat([]byte("x"), 2<<20), nil); p.Status != 400 || !strings.Contains(p.Body, "too large") {
		t.Fatalf("a 2 MiB upload: %d\n%s", p.Status, p.Body)
	}

	// A connector test call reaches the API with B2C's request shape.
	p = c.post("/connectors/loyalty-api/test", url.Values{"email": {"probe@contoso.example"}, "step": {"PostAttributeCollection"}}, true)
	if p.Status != 200 || !strings.Contains(p.Body, "The API answered HTTP 200") {
		t.Fatalf("connector test: %d\n%s", p.Status, p.Body)
	}
	mu.Lock()
	if len(called) != 1 || called[0]["email"] != "probe@contoso.example" || called[0]["step"] != "PostAttributeCollection" {
		t.Fatalf("the API received %v", called)
	}
	mu.Unlock()

	// Apps and flows are listed (the console's own registration too).
	if p := c.get("/apps"); !strings.Contains(p.Body, webClientID) || !strings.Contains(p.Body, "Gatehouse admin console") {
		t.Fatalf("apps:\n%s", p.Body)
	}
	if p := c.get("/flows"); !strings.Contains(p.Body, "B2C_1A_signup_signin") || !strings.Contains(p.Body, "TrustFrameworkExtensions.xml") {
		t.Fatalf("flows:\n%s", p.Body)
	}

	// Delete needs the box ticked; the administrator cannot delete itself.
	if p := c.post(userPath, url.Values{"action": {"delete"}}, true); p.Status != 400 || !strings.Contains(p.Body, "Tick the box") {
		t.Fatalf("delete unconfirmed: %d\n%s", p.Status, p.Body)
	}
	if p := c.post("/users/"+adminID, url.Values{"action": {"delete"}, "confirm": {"on"}}, true); p.Status != 400 {
		t.Fatalf("delete yourself: %d", p.Status)
	}
	if p := c.post(userPath, url.Values{"action": {"delete"}, "confirm": {"on"}}, true); p.Status != 303 || p.Header.Get("Location") != "/console/users?done=deleted" {
		t.Fatalf("delete: %d %s", p.Status, p.Header.Get("Location"))
	}
	if p := c.get(userPath); p.Status != 404 {
		t.Fatalf("deleted user's page: %d", p.Status)
	}
	if p := c.get("/nowhere"); p.Status != 404 || !strings.Contains(p.Body, "no such page") {
		t.Fatalf("unknown page: %d", p.Status)
	}
	if p := c.get("/api/nowhere"); p.Status != 404 || !strings.Contains(p.Body, `"code":"NotFound"`) {
		t.Fatalf("unknown admin API resource: %d %s", p.Status, p.Body)
	}
	if p := c.get("/policies/B2C_1A_signup_signin"); p.Status != 200 || !strings.Contains(p.Body, "uploaded in the console") {
		t.Fatalf("policy page: %d", p.Status)
	}

	// Sign out ends the console session and the tenant's (its logout
	// endpoint, back to the console).
	p = c.post("/signout", url.Values{}, true)
	if loc := p.Header.Get("Location"); p.Status != 303 || !strings.Contains(loc, "/B2C_1A_signup_signin/oauth2/v2.0/logout?post_logout_redirect_uri=") {
		t.Fatalf("sign out: %d %s", p.Status, loc)
	}
	if p := c.get("/"); p.Status != 302 {
		t.Fatalf("after sign-out: %d", p.Status)
	}
	c, _ = signInConsole(t, publicURL, "/console/", adminEmail, adminPw)

	// A tampered session cookie is no session.
	u, _ := url.Parse(publicURL + "/console/")
	for _, ck := range c.b.Client.Jar.Cookies(u) {
		if ck.Name == "gh_console" {
			// One character in the middle (the last may only carry
			// padding bits).
			b := []byte(ck.Value)
			if i := len(b) / 2; b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			ck.Value, ck.Path = string(b), "/console/"
			c.b.Client.Jar.SetCookies(u, []*http.Cookie{ck})
		}
	}
	if p := c.get("/"); p.Status != 302 || !strings.Contains(p.Header.Get("Location"), "/authorize?") {
		t.Fatalf("tampered session: %d %s", p.Status, p.Header.Get("Location"))
	}
}

// TestConsoleConfig: identity.console's mistakes are config errors at
// their line; disabled, the console is not served.
func TestConsoleConfig(t *testing.T) {
	flows := `  userFlows:
    - { name: B2C_1_susi, type: signUpOrSignIn, attributes: [displayName], claims: [displayName], emailVerification: false }
`
	for _, c := range []struct{ body, want string }{
		{"  console: { userFlow: B2C_1_nope }\n", `identity.console.userFlow "B2C_1_nope" is not a sign-up-or-sign-in user flow`},
		{"  console: { sessionLifetime: 48h }\n", "identity.console.sessionLifetime must be between 5m and 24h"},
		{"  console: { userFlw: B2C_1_susi }\n", `unknown key "userFlw"`},
	} {
		file, _, _, env := identityRoleConfig(t, flows+c.body)
		out, errOut, code := gatehouse(t, env, "validate", "--config", file)
		if code != 1 || !strings.Contains(out+errOut, file+":") || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%s: exit %d\n%s%s", c.body, code, out, errOut)
		}
	}
	file, _, publicURL, env := identityRoleConfig(t, flows+"  console: { disabled: true }\n")
	startServe(t, file, env, "identity")
	resp, err := http.Get(publicURL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("disabled console: %d", resp.StatusCode)
	}
}
