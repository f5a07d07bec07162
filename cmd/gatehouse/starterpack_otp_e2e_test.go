package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestCustomPolicyOneTimePassword runs B2C's one-time password profiles
// (testdata/otp-policy.xml): SendCode makes an 8-character code from the
// policy's CharacterSet and the policy's REST call mails it (the test's
// API records it); a wrong code is refused with the profile's message, the
// right one verifies the address, which reaches the token; the fourth code
// for one address in a sign-in is refused (NumCodeGenerationAttempts 3).
func TestCustomPolicyOneTimePassword(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const policy = "B2C_1A_signin_otp"
	var mu sync.Mutex
	var sent []map[string]string
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if r.URL.Path != "/send" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		sent = append(sent, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(api.Close)
	file, publicURL, _, env := starterPackConfig(t, "LocalAccounts", callback)
	ca := writeFile(t, filepath.Dir(file), "api-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})))
	env = append(env, "SSL_CERT_FILE="+ca)
	const email, pw, contact = "otto@example.com", "Correct-Horse-9", "otto.home@example.net"
	addTestPolicy(t, file, "otp-policy.xml", env, email, pw, "https://TESTSERVER", api.URL)
	startServe(t, file, env, "identity")
	ctx := context.Background()
	lastOTP := func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		if len(sent) == 0 {
			t.Fatal("no code was sent")
		}
		return sent[len(sent)-1]
	}

	b := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, policy, callback)
	p = b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	if !strings.Contains(p.Body, `id="contactEmailControl_but_send_code"`) {
		t.Fatalf("want the contact page:\n%s", p.Body)
	}
	p = b.Submit(p, "contactEmailControl_but_send_code", map[string]string{"contactEmail": contact})
	got := lastOTP()
	code := got["otp"]
	if got["to"] != contact || len(code) != 8 || strings.Trim(code, "0123456789ABCDEF") != "" {
		t.Fatalf("the REST call got %v (want an 8-character code of 0-9,A-F to %s)", got, contact)
	}
	if r := b.Submit(p, "contactEmailControl_but_verify_code", map[string]string{"verificationCode": "00000000"}); !strings.Contains(r.Body, "Wrong code, try again.") {
		t.Fatalf("a wrong code:\n%s", r.Body)
	}
	p = b.Submit(p, "contactEmailControl_but_verify_code", map[string]string{"verificationCode": code})
	if !strings.Contains(p.Body, `id="contactEmailControl_but_change_claims"`) {
		t.Fatalf("the right code did not verify the address:\n%s", p.Body)
	}
	if c := claimsOfPage(t, ctx, b, b.Submit(p, "continue", nil), conf, v, pkce); c["contact_email"] != contact {
		t.Fatalf("claims %v", c)
	}

	// NumCodeGenerationAttempts: three codes per address and sign-in.
	b2 := testutil.NewBrowser(t, callback, nil)
	p, _, _, _ = authorizePolicy(t, ctx, b2, publicURL, policy, callback)
	p = b2.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	p = b2.Submit(p, "contactEmailControl_but_send_code", map[string]string{"contactEmail": contact})
	for i := 0; i < 2; i++ {
		if p = b2.Submit(p, "contactEmailControl_but_send_new_code", nil); strings.Contains(p.Body, "maximum number of code generation") {
			t.Fatalf("code %d refused:\n%s", i+2, p.Body)
		}
	}
	if p = b2.Submit(p, "contactEmailControl_but_send_new_code", nil); !strings.Contains(p.Body, "maximum number of code generation attempts") {
		t.Fatalf("a fourth code was made:\n%s", p.Body)
	}
}
