package main

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

var secretRE = regexp.MustCompile(`id="authenticatorInfoControl_secretKey">([A-Z2-7]+)<`)

// TestCustomPolicyTOTP runs B2C's TOTP display controls on the LocalAccounts
// pack (testdata/totp-policy.xml): an account without an app gets the
// enrolment page (QR code image, otpauth deep link, account name and secret
// as text, app links), then the code page whose validation profiles are
// AzureMfa BeginVerifyOTP and VerifyOTP; a wrong code is refused; the next
// sign-in skips enrolment (GetAvailableDevices) and refuses the code
// already used (a replay), then takes the next one; an SSO sign-in after
// it asks nothing. The steps are in sub journeys, as Microsoft's sample
// has them.
func TestCustomPolicyTOTP(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const policy = "B2C_1A_signup_signin_totp"
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	const email, pw = "tia@example.com", "Correct-Horse-9"
	addTestPolicy(t, file, "totp-policy.xml", env, email, pw)
	startServe(t, file, env, "identity")
	ctx := context.Background()

	b := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, policy, callback)
	p = b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	for _, want := range []string{`class="AuthenticatorAppIconControl"`, `class="QrCodeControl"`, `id="totpQrCodeControl_image" src="data:image/png;base64,`,
		`href="otpauth://totp/Contoso%3A` + strings.ReplaceAll(email, "@", "%40") + "?secret=", `id="authenticatorInfoControl_totpIdentifier">` + email + `<`, "Scan the QR code"} {
		if !strings.Contains(html.UnescapeString(p.Body), want) && !strings.Contains(p.Body, want) {
			t.Fatalf("enrolment page without %q: %d\n%s", want, p.Status, p.Body)
		}
	}
	m := secretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page:\n%s", p.Body)
	}
	secret := m[1]
	p = b.Submit(p, "continue", nil)
	if !strings.Contains(p.Body, `id="otpCode"`) {
		t.Fatalf("after enrolment, want the code page:\n%s", p.Body)
	}
	if r := b.Submit(p, "continue", map[string]string{"otpCode": "000000"}); !strings.Contains(r.Body, "The code is not valid") {
		t.Fatalf("a wrong code:\n%s", r.Body)
	}
	now := time.Now()
	code, _ := totp.GenerateCode(secret, now)
	c := claimsOfPage(t, ctx, b, b.Submit(p, "continue", map[string]string{"otpCode": code}), conf, v, pkce)
	if c["sub"] == nil {
		t.Fatalf("claims after enrolment %v", c)
	}

	// The next sign-in: no enrolment page; the same code is a replay.
	b2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, policy, callback)
	p = b2.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	if strings.Contains(p.Body, "QrCodeControl") || !strings.Contains(p.Body, `id="otpCode"`) {
		t.Fatalf("second sign-in: want the code page only:\n%s", p.Body)
	}
	if r := b2.Submit(p, "continue", map[string]string{"otpCode": code}); !strings.Contains(r.Body, "The code is not valid") {
		t.Fatalf("the code used at enrolment was taken again:\n%s", r.Body)
	}
	next, _ := totp.GenerateCode(secret, now.Add(30*time.Second)) // the ±1 step window
	if c2 := claimsOfPage(t, ctx, b2, b2.Submit(p, "continue", map[string]string{"otpCode": next}), conf, v, pkce); c2["sub"] != c["sub"] {
		t.Fatalf("second sign-in claims %v (want sub %v)", c2, c["sub"])
	}
	// The same browser again: its SSO session passed the authenticator
	// (SM-MFA-TOTP), so no page at all.
	p, conf, v, pkce = authorizePolicy(t, ctx, b2, publicURL, policy, callback)
	if c3 := claimsOfPage(t, ctx, b2, p, conf, v, pkce); c3["sub"] != c["sub"] {
		t.Fatalf("SSO sign-in claims %v", c3)
	}
	// A session from the pack's own sign-in (no second factor) skips the
	// password page but not the authenticator code.
	b3 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, b3, publicURL, "B2C_1A_signup_signin", callback)
	claimsOfPage(t, ctx, b3, b3.Submit(p, "next", map[string]string{"signInName": email, "password": pw}), conf, v, pkce)
	p, _, _, _ = authorizePolicy(t, ctx, b3, publicURL, policy, callback)
	if !strings.Contains(p.Body, `id="otpCode"`) || strings.Contains(p.Body, `id="password"`) {
		t.Fatalf("under a session without MFA: want the code page only:\n%s", p.Body)
	}
}
