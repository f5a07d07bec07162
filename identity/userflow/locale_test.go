package userflow

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
)

// beginLang starts a transaction of flow with ui_locales, the browser
// sending acceptLanguage.
func (e *env) beginLang(flow, uiLocales, acceptLanguage string) resp {
	e.t.Helper()
	e.n++
	id := fmt.Sprintf("tx%d-%d", e.n, time.Now().UnixNano())
	_ = e.comp.SaveTransaction(context.Background(), &tenant.Transaction{ID: id, Flow: flow,
		Request: tenant.AuthRequest{ClientID: "app", RedirectURI: "https://app.example/cb", ResponseMode: "query",
			UILocales: uiLocales}})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/"+flow+"/authorize?tx="+id, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return e.do(req)
}

// TestLocaleUILocales: ui_locales=de shows the sign-up or sign-in flow in
// German on every page (kept in the transaction), B2C's element ids
// unchanged, with German error messages and a German verification email.
func TestLocaleUILocales(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addUser("alice@example.com", goodPW)
	p := e.beginLang("B2C_1_susi", "de", "fr")
	e.wantIDs(p.body, "api", "localAccountForm", "signInName", "password", "next", "createAccount", "forgotPassword")
	for _, s := range []string{`<html lang="de">`, "<title>Anmelden</title>", "Melden Sie sich mit Ihrer E-Mail-Adresse an",
		">E-Mail-Adresse</label>", ">Kennwort</label>", "Kennwort vergessen?", "Sie haben kein Konto?", "Jetzt registrieren"} {
		mustContain(t, p, s)
	}
	if strings.Contains(p.body, ">Sign in<") || strings.Contains(p.body, ">Password<") {
		t.Fatalf("English left:\n%s", p.body)
	}
	r := e.submit(p, "next", map[string]string{"signInName": "alice@example.com", "password": "wrong"})
	mustContain(t, r, "Ungültiger Benutzername oder ungültiges Kennwort.")
	mustContain(t, r, `<html lang="de">`)
	r = e.submit(p, "next", map[string]string{"signInName": "", "password": ""})
	mustContain(t, r, "Geben Sie Ihre E-Mail-Adresse ein.")
	mustContain(t, r, "Geben Sie Ihr Kennwort ein.")

	// Sign-up: the next pages keep German without ui_locales in their URLs.
	p = e.follow(p, "createAccount")
	e.wantIDs(p.body, "email", "email_ver_but_send", "cancel")
	mustContain(t, p, `<html lang="de">`)
	mustContain(t, p, "Konto erstellen")
	mustContain(t, p, "Prüfcode senden")
	mustContain(t, e.submit(p, "email_ver_but_send", map[string]string{"email": "nope"}), "Geben Sie eine gültige E-Mail-Adresse ein.")
	p = e.submit(p, "email_ver_but_send", map[string]string{"email": "bob@example.com"})
	mustContain(t, p, "Der Prüfcode wurde an Ihren Posteingang gesendet.")
	e.wantIDs(p.body, "email_ver_input", "email_ver_but_verify", "email_ver_but_resend")
	mustContain(t, p, "Code überprüfen")

	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	raw, _ := os.ReadFile(files[len(files)-1])
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); s != "Prüfcode für die E-Mail-Adresse Ihres Kontos bei contoso" {
		t.Fatalf("subject %q", s)
	}
	m := regexp.MustCompile(`Ihr Code lautet: (\d{6})`).FindSubmatch(raw)
	if m == nil || !bytes.Contains(raw, []byte(`lang=3D"de"`)) && !bytes.Contains(raw, []byte(`lang="de"`)) {
		t.Fatalf("email not German:\n%s", raw)
	}
	mustContain(t, e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": "000000x"}),
		"Der eingegebene Prüfcode stimmt nicht mit unseren Daten überein.")
	p = e.submit(p, "email_ver_but_verify", map[string]string{"email_ver_input": string(m[1])})
	mustContain(t, p, "Die E-Mail-Adresse wurde überprüft.")
	mustContain(t, p, "8 bis 64 Zeichen, davon 3 der folgenden 4 Arten")
	mustContain(t, p, ">Anzeigename</label>")
	mustContain(t, p, ">Erstellen</button>")
	r = e.submit(p, "continue", map[string]string{"newPassword": "short", "reenterPassword": "short"})
	mustContain(t, r, "Das Kennwort muss zwischen 8 und 64 Zeichen lang sein.")
	mustContain(t, r, "Diese Information ist erforderlich.")
	r = e.submit(p, "continue", map[string]string{"newPassword": goodPW, "reenterPassword": goodPW + "x"})
	mustContain(t, r, "Die Kennwörter stimmen nicht überein.")
}

// TestLocaleAcceptLanguage: without ui_locales the browser's languages
// choose (French); ui_locales wins over them; an unsupported language
// gets English.
func TestLocaleAcceptLanguage(t *testing.T) {
	e := newEnv(t, envOpts{})
	p := e.beginLang("B2C_1_susi", "", "fr-CH, fr;q=0.9, en;q=0.8")
	for _, s := range []string{`<html lang="fr">`, "Connectez-vous avec votre adresse e-mail", ">Mot de passe</label>",
		"Mot de passe oublié ?", "Inscrivez-vous maintenant", ">Se connecter</button>"} {
		mustContain(t, p, s)
	}
	p = e.beginLang("B2C_1_susi", "sv", "sv-SE, da;q=0.5")
	mustContain(t, p, `<html lang="en">`)
	mustContain(t, p, "Sign in with your email address")
	p = e.beginLang("B2C_1_susi", "es-MX", "fr")
	mustContain(t, p, `<html lang="es">`)
	mustContain(t, p, "¿Ha olvidado la contraseña?")
	p = e.beginLang("B2C_1_susi", "", "zh-CN,zh;q=0.9")
	mustContain(t, p, `<html lang="zh-Hans">`)
	mustContain(t, p, "忘记了密码?")
}

// TestLocaleResetAndProfile: password reset and profile edit follow the
// language too.
func TestLocaleResetAndProfile(t *testing.T) {
	e := newEnv(t, envOpts{})
	p := e.beginLang("B2C_1_reset", "pt-BR", "")
	mustContain(t, p, `<html lang="pt-BR">`)
	mustContain(t, p, "Redefinir sua senha")
	mustContain(t, p, ">Enviar código de verificação</button>")
	mustContain(t, p, ">Cancelar</button>")

	e.addUser("carol@example.com", goodPW)
	p = e.beginLang("B2C_1_edit", "ja", "")
	mustContain(t, p, `<html lang="ja">`)
	mustContain(t, p, "メール アドレスでサインイン")
	p = e.submit(p, "next", map[string]string{"signInName": "carol@example.com", "password": goodPW})
	mustContain(t, p, `<html lang="ja">`)
	mustContain(t, p, "プロファイルの編集")
	mustContain(t, p, ">表示名</label>")
	mustContain(t, p, ">市区町村</label>")
	mustContain(t, e.submit(p, "continue", map[string]string{"displayName": "", "city": "Kyoto"}), "この情報は必須です。")
}

// TestLocaleMessageIDs: the English messages the steps write are the
// English table's texts (so English pages are unchanged), and the password
// package's texts are recognised for every rule set.
func TestLocaleMessageIDs(t *testing.T) {
	for msg, id := range msgIDs {
		if got := locale.English.T(id); got != msg {
			t.Errorf("%s: table %q, code %q", id, got, msg)
		}
		if translate("de", msg) == msg {
			t.Errorf("%s: not translated", id)
		}
	}
	for _, r := range []tenant.PasswordRules{{}, password.Simple, password.Strong,
		{MinLength: 4, MaxLength: 6, DigitsOnly: true}, {MinLength: 10, MaxLength: 20, Classes: 4}} {
		msgs := []string{password.Describe(r)}
		for _, pw := range []string{"a", "abcdefghijkl", "123456", "abc\x01defghij", string([]byte{0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'})} {
			if err := password.Check(r, pw); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		for _, msg := range msgs {
			if translate("nl", msg) == msg {
				t.Errorf("rules %+v: %q not translated", r, msg)
			}
			if translate(locale.English, msg) != msg {
				t.Errorf("English changed %q", msg)
			}
		}
	}
	if got := translate("de", "An API connector's own message."); got != "An API connector's own message." {
		t.Errorf("unknown text translated: %q", got)
	}
}

// TestLocaleFlowLanguages: a flow's languages limit the choice and its
// defaultLanguage is shown when nothing matches.
func TestLocaleFlowLanguages(t *testing.T) {
	e := newEnv(t, envOpts{tweak: func(reg *tenant.Registry) {
		fl := reg.Flows["b2c_1_reset"]
		fl.Languages, fl.DefaultLanguage = []string{"it", "fr"}, "it"
	}})
	for _, c := range []struct{ ui, al, want string }{
		{"", "de", `<html lang="it">`},
		{"", "de, fr;q=0.5", `<html lang="fr">`},
		{"en", "", `<html lang="it">`},
		{"fr", "it", `<html lang="fr">`},
	} {
		mustContain(t, e.beginLang("B2C_1_reset", c.ui, c.al), c.want)
	}
	mustContain(t, e.beginLang("B2C_1_reset", "", ""), "Reimposta la password")
	// Other flows keep all languages and English as the default.
	mustContain(t, e.beginLang("B2C_1_susi", "", "sv"), `<html lang="en">`)
	mustContain(t, e.beginLang("B2C_1_susi", "", "de"), `<html lang="de">`)
}

// Error pages outside a flow's pages speak the browser's language.
func TestErrorPageLanguage(t *testing.T) {
	e := newEnv(t, envOpts{})
	req, _ := http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/B2C_1_susi/api/CombinedSigninAndSignup/unified?tx=nope", nil)
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	r := e.do(req)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `lang="de"`) ||
		!strings.Contains(r.body, "Ihre Sitzung ist abgelaufen. Beginnen Sie erneut in der Anwendung.") || !strings.Contains(r.body, "<title>Fehler</title>") {
		t.Errorf("%d\n%s", r.status, r.body)
	}
	req, _ = http.NewRequest("GET", e.srv.URL+"/contoso.onmicrosoft.com/B2C_1_susi/api/CombinedSigninAndSignup/unified?tx=nope", nil)
	if r := e.do(req); !strings.Contains(r.body, `lang="en"`) || !strings.Contains(r.body, "Your session has expired.") {
		t.Errorf("English default:\n%s", r.body)
	}
}
