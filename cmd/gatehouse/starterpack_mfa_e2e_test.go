package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// lastSMS is the newest code in the SMS outbox to a number.
func lastSMS(t *testing.T, dir, to string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	for i := len(files) - 1; i >= 0; i-- {
		b, _ := os.ReadFile(files[i])
		var m struct{ To, Code string }
		if json.Unmarshal(b, &m) == nil && m.To == to {
			return m.Code
		}
	}
	t.Fatalf("no SMS to %s in %s", to, dir)
	return ""
}

// TestStarterPackMFA runs SocialAndLocalAccountsWithMfa unchanged: a local
// sign-up goes on to B2C's phone page (no number on record: one is entered
// and proven with an SMS code from the outbox, then stored); the next
// sign-in asks for a code to the stored number, shown masked; a wrong code
// is refused.
func TestStarterPackMFA(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, mailDir, env := starterPackConfig(t, "SocialAndLocalAccountsWithMfa", callback)
	smsDir := filepath.Join(filepath.Dir(file), "sms") // starterPackConfig's identity.sms outbox
	env = withFacebook(t, file, nil, env)              // the pack's Facebook profile needs its key at start-up
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	const email, pw, phone = "mia@example.com", "Passw0rd!Long", "+4740000123"
	seen := map[string]bool{}

	// Sign-up, then the phone page.
	b := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1A_signup_signin", callback)
	p = b.Follow(p, "createAccount")
	p = b.Submit(p, "email_ver_but_send", map[string]string{"email": email})
	p = b.Submit(p, "email_ver_but_verify", map[string]string{"email": email, "email_ver_input": lastCode(t, mailDir, seen)})
	p = b.Submit(p, "continue", map[string]string{"email": email, "newPassword": pw, "reenterPassword": pw, "displayName": "Mia",
		"givenName": "Mia", "surname": "Mfa"})
	const id = "strongAuthenticationPhoneNumber"
	if p.Status != 200 || !strings.Contains(p.Body, `data-name="Phonefactor"`) || !strings.Contains(p.Body, `id="`+id+`_ver_but_send"`) {
		t.Fatalf("after sign-up, want the phone page: %d\n%s", p.Status, p.Body)
	}
	if r := b.Submit(p, id+"_ver_but_send", map[string]string{id: "12"}); !strings.Contains(r.Body, "valid phone number") {
		t.Fatalf("a malformed number was sent a code:\n%s", r.Body)
	}
	p = b.Submit(p, id+"_ver_but_send", map[string]string{id: "+47 4000 0123"})
	if r := b.Submit(p, "continue", nil); !strings.Contains(r.Body, "Verification is necessary") {
		t.Fatalf("continue before verifying:\n%s", r.Body)
	}
	p = b.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": lastSMS(t, smsDir, phone)})
	c := claimsOfPage(t, ctx, b, b.Submit(p, "continue", nil), conf, v, pkce)
	if c["sub"] == nil || c["name"] != "Mia" {
		t.Fatalf("sign-up claims %v", c)
	}

	// Sign-in in a new browser: password, then a code to the number on
	// record (masked on the page).
	b2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, "B2C_1A_signup_signin", callback)
	p = b2.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	if !strings.Contains(p.Body, `value="XXX-XXX-0123"`) || strings.Contains(p.Body, "40000123") {
		t.Fatalf("the number on record should be masked:\n%s", p.Body)
	}
	p = b2.Submit(p, id+"_ver_but_send", map[string]string{id: "+4799999999"}) // the form cannot change it
	code := lastSMS(t, smsDir, phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := b2.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": wrong}); !strings.Contains(r.Body, "does not match") {
		t.Fatalf("wrong code accepted:\n%s", r.Body)
	}
	p = b2.Submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": code})
	c2 := claimsOfPage(t, ctx, b2, b2.Submit(p, "continue", nil), conf, v, pkce)
	if c2["sub"] != c["sub"] {
		t.Fatalf("sign-in claims %v", c2)
	}

	// The same browser again: the SSO session passed the phone factor
	// (the pack's SM-MFA), so neither the password nor the phone page.
	sent, _ := filepath.Glob(filepath.Join(smsDir, "*.json"))
	p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, "B2C_1A_signup_signin", callback)
	if c3 := claimsOfPage(t, ctx, b2, p, conf, v, pkce); c3["sub"] != c["sub"] {
		t.Fatalf("SSO sign-in claims %v", c3)
	}
	if now, _ := filepath.Glob(filepath.Join(smsDir, "*.json")); len(now) != len(sent) {
		t.Errorf("the SSO sign-in sent %d SMS", len(now)-len(sent))
	}
}

// claimsOfPage redeems the code of a page that stopped at the callback.
func claimsOfPage(t *testing.T, ctx context.Context, b *testutil.Browser, p *testutil.Page, conf *oauth2.Config, v *oidc.IDTokenVerifier, pkce string) map[string]any {
	t.Helper()
	cb := b.Callback(p)
	_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	return claims
}
