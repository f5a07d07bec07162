package userflow

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"
)

// lastSMS is the newest SMS code in the outbox.
func (e *env) lastSMS(to string) string {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.smsDir, "*.json"))
	sort.Strings(files)
	for i := len(files) - 1; i >= 0; i-- {
		b, _ := os.ReadFile(files[i])
		var m struct{ To, Code string }
		if json.Unmarshal(b, &m) == nil && m.To == to {
			return m.Code
		}
	}
	e.t.Fatalf("no SMS to %s", to)
	return ""
}

func (e *env) newBrowser() {
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestMFAEmailAlways: every sign-in of the flow asks for a code to the
// account's address; a browser that passed is remembered for rememberFor;
// a flow without rememberFor asks every time.
func TestMFAEmailAlways(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("gus@example.com", goodPW)
	signIn := func(flow string) resp {
		return e.submit(e.begin(flow), "next", map[string]string{"signInName": "gus@example.com", "password": goodPW})
	}
	p := signIn("B2C_1_mfa")
	e.wantIDs(p.body, "mfaEmail", "mfaEmail_ver_but_send", "continue")
	mustContain(t, p, `value="gus@example.com"`)
	mustContain(t, p, `readonly`)
	mustContain(t, p, `data-name="Phonefactor"`)
	// The address is the account's, whatever the form says.
	p = e.submit(p, "mfaEmail_ver_but_send", map[string]string{"mfaEmail": "mallory@example.com"})
	mustContain(t, p, msgCodeSent)
	if r := e.submit(p, "continue", nil); !strings.Contains(r.body, msgVerifyFirst) {
		t.Fatalf("continue without the code:\n%s", r.body)
	}
	code := e.lastCode()
	mustContain(t, e.submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": "000000x"}), msgCodeWrong)
	p = e.submit(p, "mfaEmail_ver_but_verify", map[string]string{"mfaEmail_ver_input": code})
	mustContain(t, e.submit(p, "continue", nil), "user="+u.ID)
	// Remembered: the next sign-in in this browser needs no code.
	mustContain(t, signIn("B2C_1_mfa"), "user="+u.ID)
	// Not remembered in another browser, nor by a flow without rememberFor.
	mustContain(t, signIn("B2C_1_mfa_every"), "mfaEmail_ver_but_send")
	e.newBrowser()
	mustContain(t, signIn("B2C_1_mfa"), "mfaEmail_ver_but_send")
}

// TestMFAPhoneConditional: a browser new to the account is asked for a
// phone code (the first time the user enters the number, which is then
// stored); a familiar browser without recent failures is not; recent
// failures make it ask again, with the number on record masked.
func TestMFAPhoneConditional(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("hal@example.com", goodPW)
	signIn := func(pw string) resp {
		return e.submit(e.begin("B2C_1_mfa_phone"), "next", map[string]string{"signInName": "hal@example.com", "password": pw})
	}
	const id = "strongAuthenticationPhoneNumber"
	p := signIn(goodPW)
	e.wantIDs(p.body, id, id+"_ver_but_send")
	mustContain(t, e.submit(p, id+"_ver_but_send", map[string]string{id: "555"}), "valid phone number")
	p = e.submit(p, id+"_ver_but_send", map[string]string{id: "+47 4000 0777"})
	p = e.submit(p, id+"_ver_but_verify", map[string]string{id + "_ver_input": e.lastSMS("+4740000777")})
	mustContain(t, e.submit(p, "continue", nil), "user="+u.ID)
	got, _ := e.st.Users().Get(context.Background(), u.ID)
	if got.Attributes["strongAuthenticationPhoneNumber"] != "+4740000777" {
		t.Fatalf("phone not stored: %+v", got.Attributes)
	}
	// The same browser is now familiar: no second factor.
	mustContain(t, signIn(goodPW), "user="+u.ID)
	// Recent failures make the sign-in risky again: the number on record.
	for i := 0; i < riskyFailures; i++ {
		mustContain(t, signIn("wrong-"+string(rune('a'+i))), msgInvalidCredentials)
	}
	p = signIn(goodPW)
	mustContain(t, p, `value="XXX-XXX-0777"`)
	if strings.Contains(p.body, "40000777") {
		t.Fatal("the number on record is shown in full")
	}
}

var totpSecretRE = regexp.MustCompile(`id="totpSecret">([A-Z2-7 ]+)</code>`)

// TestMFATOTP: the first sign-in enrols an authenticator app on the same
// page (QR code, key, otpauth URI) with its first right code; later
// sign-ins ask for a code; a code is used once (a replay in the same time
// step is refused); the secret is stored sealed.
func TestMFATOTP(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.addUser("ida@example.com", goodPW)
	signIn := func() resp {
		e.newBrowser()
		return e.submit(e.begin("B2C_1_mfa_totp"), "next", map[string]string{"signInName": "ida@example.com", "password": goodPW})
	}
	p := signIn()
	e.wantIDs(p.body, "totpEnrolment", "totpQrCode", "totpSecret", "totpUri", "totpCode", "continue")
	mustContain(t, p, `src="data:image/png;base64,`)
	m := totpSecretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret:\n%s", p.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code := func() string {
		c, err := otptotp.GenerateCodeCustom(secret, e.clock.Now(), otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mustContain(t, e.submit(p, "continue", map[string]string{"totpCode": "123"}), "6-digit code")
	wrong := "000000"
	if wrong == code() {
		wrong = "111111"
	}
	mustContain(t, e.submit(p, "continue", map[string]string{"totpCode": wrong}), msgTOTPInvalid)
	used := code()
	mustContain(t, e.submit(p, "continue", map[string]string{"totpCode": used}), "user="+u.ID)
	got, _ := e.st.Users().Get(context.Background(), u.ID)
	if got.Attributes[attrTOTPSecret] == "" || strings.Contains(got.Attributes[attrTOTPSecret], secret) {
		t.Fatalf("secret not stored sealed: %q", got.Attributes[attrTOTPSecret])
	}
	// Enrolled: no QR code; the same code again (same step) is a replay.
	p = signIn()
	if strings.Contains(p.body, "totpQrCode") || !strings.Contains(p.body, `id="totpCode"`) {
		t.Fatalf("second sign-in page:\n%s", p.body)
	}
	mustContain(t, e.submit(p, "continue", map[string]string{"totpCode": used}), msgTOTPInvalid)
	e.clock.Advance(30 * time.Second)
	mustContain(t, e.submit(p, "continue", map[string]string{"totpCode": code()}), "user="+u.ID)
}
