package userflow

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// TestVerificationEmail: the code email sent through the outbox is
// multipart/alternative with B2C's wording in both parts and the pages'
// branding (logo, primary colour) in the HTML one.
func TestVerificationEmail(t *testing.T) {
	e := newEnv(t, envOpts{page: &config.Page{Logo: "https://cdn.example/logo.png", PrimaryColor: "#aa0000"}})
	p := e.follow(e.begin("B2C_1_susi"), "createAccount")
	mustContain(t, e.submit(p, "email_ver_but_send", map[string]string{"email": "Alice<b>@Example.com"}), msgInvalidEmail)
	mustContain(t, e.submit(p, "email_ver_but_send", map[string]string{"email": "alice@example.com"}), msgCodeSent)
	code := e.lastCode()
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	raw, _ := os.ReadFile(files[len(files)-1])
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); s != "contoso account email verification code" {
		t.Fatalf("subject %q", s)
	}
	if msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Fatalf("headers %v", msg.Header)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("content type %q", mt)
	}
	got := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		got[ct] = string(b)
	}
	text, html := got["text/plain"], got["text/html"]
	for _, s := range []string{"Verify your email address", "Thanks for verifying your alice@example.com account!",
		"Your code is: " + code, "Sincerely,\r\ncontoso"} {
		if !strings.Contains(text, s) {
			t.Errorf("text part lacks %q:\n%s", s, text)
		}
	}
	for _, s := range []string{"Verify your email address", "alice@example.com</a> account!", ">" + code + "</span>",
		`<img src="https://cdn.example/logo.png" alt="contoso"`, "color:#aa0000", "border-top:4px solid #aa0000"} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML part lacks %q:\n%s", s, html)
		}
	}
}

// TestVerificationEmailEscapes: names and addresses are escaped in the
// HTML part, and a root-relative logo is made absolute.
func TestVerificationEmailEscapes(t *testing.T) {
	m := verificationEmail(`A&B <x>`, `"a<b>"@example.com`, "123456", newTheme(&config.Page{Logo: "/logo.png"}), "https://login.contoso.com/base")
	if strings.Contains(m.HTML, "<x>") || strings.Contains(m.HTML, "a<b>") || !strings.Contains(m.HTML, "A&amp;B &lt;x&gt;") {
		t.Fatalf("not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, `src="https://login.contoso.com/logo.png"`) || !strings.Contains(m.HTML, "#0b5cad") {
		t.Fatalf("branding:\n%s", m.HTML)
	}
	if m.Subject != "A&B <x> account email verification code" || !strings.Contains(m.Text, "Your code is: 123456") {
		t.Fatalf("%+v", m)
	}
}
