package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// starterPack copies one of the B2C starter packs (testdata, unchanged)
// into dir with the placeholders filled as B2C's guide tells a tenant to:
// the tenant name and the two IdentityExperienceFramework app ids. It
// returns the files, base first as B2C uploads them.
func starterPack(t *testing.T, pack, dir string) []string {
	t.Helper()
	fill := strings.NewReplacer("yourtenant.onmicrosoft.com", "contoso.onmicrosoft.com",
		"ProxyIdentityExperienceFrameworkAppId", "9c6c3f55-6fa4-4b3b-93a2-0e7f0f2d8d11",
		"IdentityExperienceFrameworkAppId", "b7a2e3b4-51a0-4f7e-9a2c-6d1c7e8f9a22")
	src := filepath.Join("..", "..", "testdata", "b2c-starterpack", pack)
	order := map[string]int{"TrustFrameworkBase.xml": 0, "TrustFrameworkLocalization.xml": 1, "TrustFrameworkExtensions.xml": 2}
	files, _ := filepath.Glob(filepath.Join(src, "*.xml"))
	sort.Slice(files, func(i, j int) bool {
		oi, ok := order[filepath.Base(files[i])]
		if !ok {
			oi = 3
		}
		oj, ok := order[filepath.Base(files[j])]
		if !ok {
			oj = 3
		}
		return oi < oj || oi == oj && files[i] < files[j]
	})
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, writeFile(t, dir, "policies/"+filepath.Base(f), fill.Replace(string(data))))
	}
	if len(out) < 5 { // SocialAccounts has no PasswordReset.xml
		t.Fatalf("starter pack %s: %d files", pack, len(out))
	}
	return out
}

// starterPackConfig serves a starter pack with two web apps and an email
// outbox.
func starterPackConfig(t *testing.T, pack, callback string) (file, publicURL, mailDir string, env []string) {
	t.Helper()
	dir := t.TempDir()
	files := starterPack(t, pack, dir)
	port := testutil.FreePort(t)
	publicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	key := make([]byte, 32)
	rand.Read(key)
	mailDir = filepath.Join(dir, "outbox")
	var list []string
	for _, f := range files {
		list = append(list, fmt.Sprintf("%q", f))
	}
	file = writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`identity:
  listen: 127.0.0.1:%d
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
  email: { outbox: %s }
  sms: { outbox: %s/sms }
  customPolicies: [%s]
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
    - { name: Second, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
`, port, publicURL, tenantID, mailDir, dir, strings.Join(list, ", "), webClientID, callback, apiClientID, callback))
	os.MkdirAll(dir+"/data", 0o700)
	return file, publicURL, mailDir, []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret}
}

// addPolicies lists more policy files in a starter-pack config (before
// the pack's own; the order does not matter to the engine).
func addPolicies(t *testing.T, file string, paths ...string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var quoted []string
	for _, p := range paths {
		quoted = append(quoted, fmt.Sprintf("%q", p))
	}
	cfg := strings.Replace(string(b), "  customPolicies: [", "  customPolicies: ["+strings.Join(quoted, ", ")+", ", 1)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addTestPolicy adds testdata/name to a starter-pack config (with
// replacements such as a test server's URL), checks the config validates,
// and creates a local account for the test to sign in with.
func addTestPolicy(t *testing.T, file, name string, env []string, email, password string, replace ...string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	addPolicies(t, file, writeFile(t, filepath.Dir(file), "policies/"+name, strings.NewReplacer(replace...).Replace(string(src))))
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", password); code != 0 {
		t.Fatalf("users create %s: %s", email, errOut)
	}
}

// lastCode is the newest verification code mailed to the outbox.
func lastCode(t *testing.T, dir string, seen map[string]bool) string {
	t.Helper()
	for name, body := range outbox(t, dir) {
		if seen[name] {
			continue
		}
		seen[name] = true
		if m := mailCodeRE.FindStringSubmatch(body); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no new code in %s", dir)
	return ""
}

// TestStarterPackLocalAccounts runs Microsoft's LocalAccounts starter pack,
// unchanged, through the binary: B2C_1A_signup_signin (sign-up with email
// verification, sign-in, a wrong password, SSO on a second app),
// B2C_1A_PasswordReset and B2C_1A_ProfileEdit, with the tokens carrying
// the claims the relying party lists.
func TestStarterPackLocalAccounts(t *testing.T) {
	runStarterPack(t, "LocalAccounts", verificationIDs{send: "email_ver_but_send", verify: "email_ver_but_verify",
		verified: "email_ver_but_edit", code: "email_ver_input"})
}

// verificationIDs are the buttons and code field of an email
// verification: B2C's built-in one on a Verified.Email claim, or a
// VerificationControl display control.
type verificationIDs struct{ send, verify, verified, code string }

// TestStarterPackDisplayControlsLocalAccounts: the same with the display
// controls pack (VerificationControl with AadSspr SendCode/VerifyCode).
func TestStarterPackDisplayControlsLocalAccounts(t *testing.T) {
	runStarterPack(t, "Display Controls Starterpack/LocalAccounts", verificationIDs{send: "emailVerificationControl_but_send_code",
		verify: "emailVerificationControl_but_verify_code", verified: "emailVerificationControl_but_change_claims", code: "verificationCode"})
}

func runStarterPack(t *testing.T, pack string, ids verificationIDs) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, mailDir, env := starterPackConfig(t, pack, callback)
	admin := testutil.FreePort(t)
	b0, _ := os.ReadFile(file)
	if err := os.WriteFile(file, append(b0, fmt.Sprintf("admin: { listen: 127.0.0.1:%d }\n", admin)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	seen := map[string]bool{}
	const email, pw, pw2 = "ada@example.com", "Passw0rd!Long", "N3w-Passw0rd!x"

	authorize := func(b *testutil.Browser, policy, client string) (*testutil.Page, *oauth2.Config, *oidc.IDTokenVerifier, string) {
		provider := tenantProvider(t, ctx, publicURL, policy)
		conf := &oauth2.Config{ClientID: client, ClientSecret: webSecret, RedirectURL: callback,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "offline_access", client}}
		pkce := oauth2.GenerateVerifier()
		p := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce), oidc.Nonce("n1")))
		return p, conf, provider.Verifier(&oidc.Config{ClientID: client}), pkce
	}
	claimsOf := func(b *testutil.Browser, p *testutil.Page, conf *oauth2.Config, v *oidc.IDTokenVerifier, pkce string) map[string]any {
		t.Helper()
		cb := b.Callback(p)
		if cb.Get("code") == "" {
			t.Fatalf("no code: %v", cb)
		}
		_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
		return claims
	}
	verifyEmail := func(b *testutil.Browser, p *testutil.Page, addr string) *testutil.Page {
		t.Helper()
		p = b.Submit(p, ids.send, map[string]string{"email": addr})
		if p.Status != 200 || !strings.Contains(p.Body, `id="`+ids.verify+`"`) {
			t.Fatalf("after send code: %d\n%s", p.Status, p.Body)
		}
		p = b.Submit(p, ids.verify, map[string]string{"email": addr, ids.code: lastCode(t, mailDir, seen)})
		if p.Status != 200 || !strings.Contains(p.Body, `id="`+ids.verified+`"`) {
			t.Fatalf("after verify code: %d\n%s", p.Status, p.Body)
		}
		return p
	}

	// Sign-up: the unified page's create-account link, email verification,
	// then the rest of the page.
	b := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorize(b, "B2C_1A_signup_signin", webClientID)
	if p.Status != 200 || !strings.Contains(p.Body, `data-name="Unified"`) {
		t.Fatalf("authorize: %d\n%s", p.Status, p.Body)
	}
	p = b.Follow(p, "createAccount")
	if !strings.Contains(p.Body, `data-name="SelfAsserted"`) {
		t.Fatalf("sign-up page:\n%s", p.Body)
	}
	p = verifyEmail(b, p, email)
	// (The test browser posts only the fields given: a real one posts the
	// verified, read-only address too.)
	p = b.Submit(p, "continue", map[string]string{"email": email, "newPassword": pw, "reenterPassword": pw + "x", "displayName": "Ada L",
		"givenName": "Ada", "surname": "Lovelace"})
	if !strings.Contains(p.Body, "do not match") {
		t.Fatalf("mismatched passwords accepted: %d\n%s", p.Status, p.Body)
	}
	p = b.Submit(p, "continue", map[string]string{"email": email, "newPassword": pw, "reenterPassword": pw, "displayName": "Ada L",
		"givenName": "Ada", "surname": "Lovelace"})
	c := claimsOf(b, p, conf, v, pkce)
	if c["name"] != "Ada L" || c["given_name"] != "Ada" || c["family_name"] != "Lovelace" || c["sub"] == "" || c["tid"] == nil {
		t.Errorf("sign-up token claims %v", c)
	}
	sub := c["sub"]

	// SSO: the second app signs in without a page.
	p, conf2, v2, pkce2 := authorize(b, "B2C_1A_signup_signin", apiClientID)
	if c2 := claimsOf(b, p, conf2, v2, pkce2); c2["sub"] != sub || c2["name"] != "Ada L" {
		t.Errorf("SSO token claims %v", c2)
	}

	// prompt=none with a session: profile edit needs a page, so the app
	// gets interaction_required.
	provider := tenantProvider(t, ctx, publicURL, "B2C_1A_ProfileEdit")
	pe := &oauth2.Config{ClientID: webClientID, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	if cb := b.Callback(b.Get(pe.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))); cb.Get("error") != "interaction_required" {
		t.Errorf("prompt=none on a journey that needs a page: %v", cb)
	}

	// Sign-in in a new browser: a wrong password first.
	b2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorize(b2, "B2C_1A_signup_signin", webClientID)
	p = b2.Submit(p, "next", map[string]string{"signInName": email, "password": "wrong-Passw0rd"})
	if p.Status != 200 || !strings.Contains(p.Body, `id="pageError"`) || !strings.Contains(p.Body, "role=\"alert\"") {
		t.Fatalf("wrong password: %d\n%s", p.Status, p.Body)
	}
	p = b2.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	if c := claimsOf(b2, p, conf, v, pkce); c["sub"] != sub {
		t.Errorf("sign-in claims %v", c)
	}

	// Password reset, then the new password signs in.
	b3 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorize(b3, "B2C_1A_PasswordReset", webClientID)
	p = verifyEmail(b3, p, email)
	p = b3.Submit(p, "continue", map[string]string{"email": email})
	if !strings.Contains(p.Body, `id="newPassword"`) {
		t.Fatalf("new password page: %d\n%s", p.Status, p.Body)
	}
	p = b3.Submit(p, "continue", map[string]string{"newPassword": pw2, "reenterPassword": pw2})
	if c := claimsOf(b3, p, conf, v, pkce); c["sub"] != sub {
		t.Errorf("password reset claims %v", c)
	}
	b4 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorize(b4, "B2C_1A_signup_signin", webClientID)
	p = b4.Submit(p, "next", map[string]string{"signInName": email, "password": pw2})
	claimsOf(b4, p, conf, v, pkce)

	// Profile edit in the signed-in browser: SSO skips the sign-in page.
	p, conf, v, pkce = authorize(b4, "B2C_1A_ProfileEdit", webClientID)
	if !strings.Contains(p.Body, `id="givenName"`) {
		t.Fatalf("profile page: %d\n%s", p.Status, p.Body)
	}
	p = b4.Submit(p, "continue", map[string]string{"givenName": "Augusta", "surname": "King"})
	// ProfileEdit's relying party lists sub and tid only.
	if c := claimsOf(b4, p, conf, v, pkce); c["sub"] != sub || c["tid"] != tenantID || c["given_name"] != nil {
		t.Errorf("profile edit claims %v", c)
	}
	// The directory has the change: the next sign-in's token says so.
	p, conf, v, pkce = authorize(b4, "B2C_1A_signup_signin", webClientID)
	if c := claimsOf(b4, p, conf, v, pkce); c["given_name"] != "Augusta" || c["family_name"] != "King" || c["name"] != "Ada L" {
		t.Errorf("claims after profile edit %v", c)
	}

	// The engine's sign-ups and sign-ins move the identity metrics as the
	// user flows' do.
	m := scrape(t, fmt.Sprintf("http://127.0.0.1:%d", admin))
	const f = `flow="B2C_1A_signup_signin"`
	if m[`gatehouse_identity_signups_total{`+f+`,result="success"}`] != 1 || m[`gatehouse_identity_signins_total{`+f+`,result="success"}`] < 2 ||
		m[`gatehouse_identity_signins_total{`+f+`,result="failure"}`] != 1 {
		t.Errorf("metrics: signups %v, sign-ins %v / %v", m[`gatehouse_identity_signups_total{`+f+`,result="success"}`],
			m[`gatehouse_identity_signins_total{`+f+`,result="success"}`], m[`gatehouse_identity_signins_total{`+f+`,result="failure"}`])
	}
}

// TestStarterPacksValidate: `gatehouse validate` accepts all eight packs
// as Microsoft ships them (placeholders filled): local accounts, social
// (Facebook) and MFA (PhoneFactor), with and without display controls.
func TestStarterPacksValidate(t *testing.T) {
	for _, pack := range []string{"LocalAccounts", "Display Controls Starterpack/LocalAccounts",
		"SocialAccounts", "SocialAndLocalAccounts", "SocialAndLocalAccountsWithMfa",
		"Display Controls Starterpack/SocialAccounts", "Display Controls Starterpack/SocialAndLocalAccounts",
		"Display Controls Starterpack/SocialAndLocalAccountsWithMfa"} {
		t.Run(pack, func(t *testing.T) {
			file, _, _, env := starterPackConfig(t, pack, "http://127.0.0.1:1/callback")
			if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestStarterPackPagesRefuse: the engine's pages refuse what a forged or
// stale request tries — the sign-up link without its CSRF token, a form
// for a page that is not the current one — and answer the app as B2C
// does on cancel and on the forgot-password link; smart lockout applies to
// login-NonInteractive.
func TestStarterPackPagesRefuse(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	startServe(t, file, env, "identity")
	ctx := context.Background()
	provider := tenantProvider(t, ctx, publicURL, "B2C_1A_signup_signin")
	conf := &oauth2.Config{ClientID: webClientID, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	start := func() (*testutil.Browser, *testutil.Page) {
		b := testutil.NewBrowser(t, callback, nil)
		p := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if !strings.Contains(p.Body, `id="createAccount"`) {
			t.Fatalf("unified page: %d\n%s", p.Status, p.Body)
		}
		return b, p
	}

	// The sign-up link without (or with another) CSRF token.
	b, p := start()
	link := regexp.MustCompile(`href="([^"]*claimsexchange=SignUpWithLogonEmailExchange[^"]*)"`).FindStringSubmatch(p.Body)
	if link == nil {
		t.Fatalf("no sign-up link:\n%s", p.Body)
	}
	u, _ := p.URL.Parse(html.UnescapeString(link[1]))
	q := u.Query()
	q.Set("csrf_token", "forged")
	u.RawQuery = q.Encode()
	if got := b.Get(u.String()); got.Status != http.StatusForbidden {
		t.Errorf("sign-up link with a forged CSRF token: %d", got.Status)
	}

	// A form for a page that is not the current one changes nothing.
	got := b.Submit(p, "next", map[string]string{"page": "LocalAccountSignUpWithLogonEmail", "email": "x@example.com"})
	if got.Status != 200 || !strings.Contains(got.Body, `data-name="Unified"`) {
		t.Errorf("stale page form: %d\n%s", got.Status, got.Body)
	}

	// Cancel on the sign-up page; the forgot-password link.
	p = b.Follow(p, "createAccount")
	if cb := b.Callback(b.Submit(p, "cancel", nil)); cb.Get("error") != "access_denied" || !strings.HasPrefix(cb.Get("error_description"), "AADB2C90091") {
		t.Errorf("cancel: %v", cb)
	}
	b, p = start()
	if cb := b.Callback(b.Follow(p, "forgotPassword")); cb.Get("error") != "access_denied" || !strings.HasPrefix(cb.Get("error_description"), "AADB2C90118") {
		t.Errorf("forgot password: %v", cb)
	}

	// Smart lockout: the tenth wrong password (the default threshold) locks
	// the address (an unknown one too: nothing tells them apart).
	b, p = start()
	for i := 0; i < 9; i++ {
		p = b.Submit(p, "next", map[string]string{"signInName": "nobody@example.com", "password": fmt.Sprintf("wrong-%d", i)})
		if !strings.Contains(p.Body, "Invalid username or password.") {
			t.Fatalf("attempt %d: %d\n%s", i, p.Status, p.Body)
		}
	}
	p = b.Submit(p, "next", map[string]string{"signInName": "nobody@example.com", "password": "wrong-again"})
	if !strings.Contains(p.Body, "locked") {
		t.Errorf("the tenth wrong password: %d\n%s", p.Status, p.Body)
	}
}

// germanLayer adds German to the starter pack as B2C's localization guide
// does: a supported language, the sign-in page's resources for it, and the
// content definition's reference. Strings it leaves out come from
// Gatehouse's built-in German.
const germanLayer = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_German" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_German">
  <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_TrustFrameworkExtensions</PolicyId></BasePolicy>
  <BuildingBlocks>
    <ContentDefinitions>
      <ContentDefinition Id="api.signuporsignin">
        <LocalizedResourcesReferences MergeBehavior="Prepend">
          <LocalizedResourcesReference Language="de" LocalizedResourcesReferenceId="api.signuporsignin.de" />
        </LocalizedResourcesReferences>
      </ContentDefinition>
    </ContentDefinitions>
    <Localization Enabled="true">
      <SupportedLanguages DefaultLanguage="en" MergeBehavior="Append">
        <SupportedLanguage>de</SupportedLanguage>
      </SupportedLanguages>
      <LocalizedResources Id="api.signuporsignin.de">
        <LocalizedStrings>
          <LocalizedString ElementType="ClaimType" ElementId="signInName" StringId="DisplayName">E-Mail-Adresse</LocalizedString>
          <LocalizedString ElementType="UxElement" StringId="button_signin">Anmelden</LocalizedString>
          <LocalizedString ElementType="ErrorMessage" StringId="DefaultMessage">Benutzername oder Kennwort ist falsch.</LocalizedString>
        </LocalizedStrings>
      </LocalizedResources>
    </Localization>
  </BuildingBlocks>
</TrustFrameworkPolicy>`

const germanRP = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_signup_signin_de" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_signup_signin_de">
  <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_German</PolicyId></BasePolicy>
  <RelyingParty>
    <DefaultUserJourney ReferenceId="SignUpOrSignIn" />
    <TechnicalProfile Id="PolicyProfile">
      <DisplayName>PolicyProfile</DisplayName>
      <Protocol Name="OpenIdConnect" />
      <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/></OutputClaims>
      <SubjectNamingInfo ClaimType="sub" />
    </TechnicalProfile>
  </RelyingParty>
</TrustFrameworkPolicy>`

// TestStarterPackLocalization: ui_locales (then Accept-Language) picks the
// policy's German resources — its label, button and error message — with
// Gatehouse's built-in German for the strings it leaves out; English is the
// default.
func TestStarterPackLocalization(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	dir := filepath.Dir(file)
	addPolicies(t, file, writeFile(t, dir, "policies/German.xml", germanLayer), writeFile(t, dir, "policies/SignUpOrSignin_de.xml", germanRP))
	startServe(t, file, env, "identity")
	provider := tenantProvider(t, context.Background(), publicURL, "B2C_1A_signup_signin_de")
	conf := &oauth2.Config{ClientID: webClientID, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	open := func(opts ...oauth2.AuthCodeOption) (*testutil.Browser, *testutil.Page) {
		br := testutil.NewBrowser(t, callback, nil)
		return br, br.Get(conf.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))...))
	}
	br, p := open(oauth2.SetAuthURLParam("ui_locales", "de"))
	for _, want := range []string{`lang="de"`, ">E-Mail-Adresse</label>", ">Anmelden</button>", ">Kennwort vergessen?</a>"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("German page lacks %s:\n%s", want, p.Body)
		}
	}
	p = br.Submit(p, "next", map[string]string{"signInName": "nobody@example.com", "password": "wrong-Passw0rd"})
	if !strings.Contains(p.Body, "Benutzername oder Kennwort ist falsch.") {
		t.Errorf("German error:\n%s", p.Body)
	}
	// Accept-Language when ui_locales is absent; English by default.
	req, _ := http.NewRequest("GET", conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
	req.Header.Set("Accept-Language", "de-AT,de;q=0.9,en;q=0.5")
	res, err := testutil.NewBrowser(t, callback, nil).Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), ">Anmelden</button>") {
		t.Errorf("Accept-Language de-AT: not German")
	}
	if _, p := open(); !strings.Contains(p.Body, `lang="en"`) || !strings.Contains(p.Body, ">Sign in</button>") {
		t.Errorf("default page not English:\n%s", p.Body)
	}
}

// TestStarterPackSSOScope: a relying party with SingleSignOn Scope
// Application signs an app in silently only where that app signed in with
// the session; the tenant-scoped policy stays silent for every app.
func TestStarterPackSSOScope(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, mailDir, env := starterPackConfig(t, "LocalAccounts", callback)
	dir := filepath.Dir(file)
	susi, err := os.ReadFile(filepath.Join(dir, "policies", "SignUpOrSignin.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scoped := strings.NewReplacer("B2C_1A_signup_signin", "B2C_1A_signup_signin_app",
		"</Endpoints>", `</Endpoints>
    <UserJourneyBehaviors><SingleSignOn Scope="Application" /></UserJourneyBehaviors>`).Replace(string(susi))
	addPolicies(t, file, writeFile(t, dir, "policies/SignUpOrSignin_app.xml", scoped))
	startServe(t, file, env, "identity")
	ctx := context.Background()
	authorize := func(br *testutil.Browser, policy, client string) *testutil.Page {
		provider := tenantProvider(t, ctx, publicURL, policy)
		conf := &oauth2.Config{ClientID: client, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
		return br.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	}
	silent := func(p *testutil.Page) bool { return p.Status == http.StatusFound && p.Header.Get("Location") != "" }

	// Sign up through the application-scoped policy from the web app.
	br := testutil.NewBrowser(t, callback, nil)
	p := br.Follow(authorize(br, "B2C_1A_signup_signin_app", webClientID), "createAccount")
	seen := map[string]bool{}
	p = br.Submit(p, "email_ver_but_send", map[string]string{"email": "scope@example.com"})
	p = br.Submit(p, "email_ver_but_verify", map[string]string{"email": "scope@example.com", "email_ver_input": lastCode(t, mailDir, seen)})
	p = br.Submit(p, "continue", map[string]string{"email": "scope@example.com", "newPassword": "Passw0rd!Long",
		"reenterPassword": "Passw0rd!Long", "displayName": "Scope", "givenName": "S", "surname": "Cope"})
	if !silent(p) {
		t.Fatalf("sign-up: %d\n%s", p.Status, p.Body)
	}
	if p := authorize(br, "B2C_1A_signup_signin_app", webClientID); !silent(p) {
		t.Errorf("the same app again: %d, want a silent sign-in", p.Status)
	}
	if p := authorize(br, "B2C_1A_signup_signin_app", apiClientID); silent(p) || !strings.Contains(p.Body, `id="signInName"`) {
		t.Errorf("another app on the application-scoped policy: %d, want the sign-in page", p.Status)
	}
	if p := authorize(br, "B2C_1A_signup_signin", apiClientID); !silent(p) {
		t.Errorf("another app on the tenant-scoped policy: %d, want a silent sign-in", p.Status)
	}
}

// TestStarterPackCustomTemplate: a content definition's LoadUri is the
// tenant's own template (a file beside the policies): the page is built
// into its div#api, its script is removed unless the relying party allows
// scripts (ScriptExecution Allow on a contract page version), and the
// page's Content-Security-Policy lets its stylesheets load.
func TestStarterPackCustomTemplate(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	dir := filepath.Dir(file)
	writeFile(t, dir, "policies/templates/unified.html", `<!DOCTYPE html><html><head><title>Contoso</title>
<link rel="stylesheet" href="https://cdn.contoso.example/b2c.css"></head>
<body><header id="contoso-brand">Contoso</header><div id="api"></div>
<script>document.body.dataset.tenant = "contoso";</script><a href="javascript:alert(1)">x</a></body></html>`)
	layer := `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_BrandingLayer" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_BrandingLayer">
  <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_TrustFrameworkExtensions</PolicyId></BasePolicy>
  <BuildingBlocks><ContentDefinitions>
    <ContentDefinition Id="api.signuporsignin"><LoadUri>templates/unified.html</LoadUri></ContentDefinition>
  </ContentDefinitions></BuildingBlocks>
</TrustFrameworkPolicy>`
	rp := func(id, behaviors string) string {
		return `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="` + id + `" PublicPolicyUri="http://contoso.onmicrosoft.com/` + id + `">
  <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_BrandingLayer</PolicyId></BasePolicy>
  <RelyingParty><DefaultUserJourney ReferenceId="SignUpOrSignIn" />` + behaviors + `
    <TechnicalProfile Id="PolicyProfile"><Protocol Name="OpenIdConnect" />
      <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/></OutputClaims>
      <SubjectNamingInfo ClaimType="sub" /></TechnicalProfile>
  </RelyingParty>
</TrustFrameworkPolicy>`
	}
	addPolicies(t, file, writeFile(t, dir, "policies/Branded.xml", layer),
		writeFile(t, dir, "policies/SignUpOrSignin_branded.xml", rp("B2C_1A_branded", "")),
		writeFile(t, dir, "policies/SignUpOrSignin_scripts.xml", rp("B2C_1A_branded_scripts", `
    <UserJourneyBehaviors><ScriptExecution>Allow</ScriptExecution></UserJourneyBehaviors>`)))
	startServe(t, file, env, "identity")
	open := func(policy string) *testutil.Page {
		provider := tenantProvider(t, context.Background(), publicURL, policy)
		conf := &oauth2.Config{ClientID: webClientID, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
		return testutil.NewBrowser(t, callback, nil).Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	}
	p := open("B2C_1A_branded")
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(p.Body, `id="contoso-brand"`) || !strings.Contains(p.Body, `id="signInName"`) ||
		strings.Contains(p.Body, "<script") || strings.Contains(p.Body, "javascript:") ||
		!strings.Contains(csp, "script-src 'none'") || !strings.Contains(csp, "style-src 'self' 'nonce-") || !strings.Contains(csp, " https:") {
		t.Errorf("branded page without scripts: CSP %q\n%s", csp, p.Body)
	}
	p = open("B2C_1A_branded_scripts")
	csp = p.Header.Get("Content-Security-Policy")
	// The tenant's scripts run under the page's nonce (CSP still refuses
	// javascript: URLs and inline handlers).
	if !strings.Contains(p.Body, `<script nonce="`) || !strings.Contains(p.Body, `document.body.dataset.tenant`) ||
		!strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("branded page with ScriptExecution Allow: CSP %q\n%s", csp, p.Body)
	}
}

// predicateLayer adds a nickname to the starter pack's sign-up page,
// checked by a PredicateValidation, with German texts for it.
const predicateLayer = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_Nickname" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_Nickname">
  <BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_TrustFrameworkExtensions</PolicyId></BasePolicy>
  <BuildingBlocks>
    <ClaimsSchema>
      <ClaimType Id="nickname"><DisplayName>Nickname</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType>
        <PredicateValidationReference Id="NicknameRules" /></ClaimType>
    </ClaimsSchema>
    <Predicates>
      <Predicate Id="Length3To10" Method="IsLengthRange" HelpText="3 to 10 characters">
        <Parameters><Parameter Id="Minimum">3</Parameter><Parameter Id="Maximum">10</Parameter></Parameters>
      </Predicate>
    </Predicates>
    <PredicateValidations>
      <PredicateValidation Id="NicknameRules">
        <PredicateGroups>
          <PredicateGroup Id="LengthGroup"><UserHelpText>The nickname must have</UserHelpText>
            <PredicateReferences><PredicateReference Id="Length3To10" /></PredicateReferences></PredicateGroup>
        </PredicateGroups>
      </PredicateValidation>
    </PredicateValidations>
    <ContentDefinitions>
      <ContentDefinition Id="api.localaccountsignup">
        <LocalizedResourcesReferences MergeBehavior="Prepend">
          <LocalizedResourcesReference Language="de" LocalizedResourcesReferenceId="api.localaccountsignup.de" />
        </LocalizedResourcesReferences>
      </ContentDefinition>
    </ContentDefinitions>
    <Localization Enabled="true">
      <SupportedLanguages DefaultLanguage="en" MergeBehavior="Append"><SupportedLanguage>de</SupportedLanguage></SupportedLanguages>
      <LocalizedResources Id="api.localaccountsignup.de">
        <LocalizedStrings>
          <LocalizedString ElementType="InputValidation" ElementId="NicknameRules" StringId="LengthGroup">Der Spitzname braucht</LocalizedString>
          <LocalizedString ElementType="Predicate" ElementId="Length3To10" StringId="HelpText">3 bis 10 Zeichen</LocalizedString>
        </LocalizedStrings>
      </LocalizedResources>
    </Localization>
  </BuildingBlocks>
  <ClaimsProviders><ClaimsProvider><DisplayName>Local Account</DisplayName><TechnicalProfiles>
    <TechnicalProfile Id="LocalAccountSignUpWithLogonEmail">
      <OutputClaims><OutputClaim ClaimTypeReferenceId="nickname" /></OutputClaims>
    </TechnicalProfile>
  </TechnicalProfiles></ClaimsProvider></ClaimsProviders>
</TrustFrameworkPolicy>`

// TestStarterPackPredicates: a PredicateValidation on a sign-up field
// refuses a value with its groups' and predicates' help texts, in the
// page language from the policy's InputValidation and Predicate strings.
func TestStarterPackPredicates(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	dir := filepath.Dir(file)
	addPolicies(t, file, writeFile(t, dir, "policies/Nickname.xml", predicateLayer),
		writeFile(t, dir, "policies/SignUpOrSignin_nick.xml", strings.NewReplacer("B2C_1A_signup_signin_de", "B2C_1A_signup_signin_nick",
			"<PolicyId>B2C_1A_German</PolicyId>", "<PolicyId>B2C_1A_Nickname</PolicyId>").Replace(germanRP)))
	startServe(t, file, env, "identity")
	provider := tenantProvider(t, context.Background(), publicURL, "B2C_1A_signup_signin_nick")
	conf := &oauth2.Config{ClientID: webClientID, RedirectURL: callback, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	for _, c := range []struct{ lang, want string }{
		{"en", "The nickname must have 3 to 10 characters"},
		{"de", "Der Spitzname braucht 3 bis 10 Zeichen"},
	} {
		br := testutil.NewBrowser(t, callback, nil)
		p := br.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("ui_locales", c.lang)))
		p = br.Follow(p, "createAccount")
		if !strings.Contains(p.Body, `id="nickname"`) {
			t.Fatalf("no nickname field:\n%s", p.Body)
		}
		p = br.Submit(p, "continue", map[string]string{"email": "nick@example.com", "nickname": "ab"})
		if !strings.Contains(p.Body, c.want) {
			t.Errorf("%s: no %q on\n%s", c.lang, c.want, p.Body)
		}
	}
}
