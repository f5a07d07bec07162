package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestLocaleBinary: the binary's sign-in page with ui_locales=de is German
// (<html lang="de">, B2C's ids unchanged), a wrong password gets the German
// message, and the flow's next page stays German; without ui_locales the
// browser's Accept-Language (fr) chooses.
func TestLocaleBinary(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	const email, pw = "hans@example.com", "Correct-Horse-9"
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", email, "--password", pw); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	startServe(t, file, env, "identity")
	authorize := func(extra url.Values) string {
		q := url.Values{"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {callback},
			"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"}}
		for k, v := range extra {
			q[k] = v
		}
		return publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize?" + q.Encode()
	}
	want := func(p *testutil.Page, ss ...string) {
		t.Helper()
		for _, s := range ss {
			if !strings.Contains(p.Body, s) {
				t.Fatalf("want %q in (status %d):\n%s", s, p.Status, p.Body)
			}
		}
	}

	b := testutil.NewBrowser(t, callback, nil)
	p := b.Get(authorize(url.Values{"ui_locales": {"de"}}))
	want(p, `<html lang="de">`, "<title>Anmelden</title>", "Melden Sie sich mit Ihrer E-Mail-Adresse an",
		`<label for="signInName" id="signInName_label">E-Mail-Adresse</label>`, `<label for="password" id="password_label">Kennwort</label>`,
		`id="forgotPassword"`, "Kennwort vergessen?", `id="createAccount"`, "Jetzt registrieren",
		`<button type="submit" id="next" name="action" value="next">Anmelden</button>`)
	r := b.Submit(p, "next", map[string]string{"signInName": email, "password": "wrong-password"})
	want(r, `<html lang="de">`, "Ungültiger Benutzername oder ungültiges Kennwort.")
	if strings.Contains(r.Body, "Invalid username or password.") {
		t.Fatalf("English message:\n%s", r.Body)
	}
	want(b.Follow(p, "createAccount"), `<html lang="de">`, "Konto erstellen", ">Neues Kennwort</label>")

	// No ui_locales: the browser's languages choose; none supported: English.
	for al, ss := range map[string][]string{
		"fr-FR,fr;q=0.9,en;q=0.5": {`<html lang="fr">`, "Connectez-vous avec votre adresse e-mail", "Mot de passe oublié ?"},
		"sv-SE,sv;q=0.9":          {`<html lang="en">`, "Sign in with your email address", "Forgot your password?"},
	} {
		req, _ := http.NewRequest("GET", authorize(nil), nil)
		req.Header.Set("Accept-Language", al)
		a := send(t, testutil.NewBrowser(t, callback, nil), req)
		want(&testutil.Page{Status: a.status, Body: a.body}, ss...)
	}
}
