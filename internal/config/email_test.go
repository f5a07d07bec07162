package config

import (
	"strings"
	"testing"
	"time"
)

// TestEmailSMTP: identity.email.smtp's auth, TLS and timeout keys parse,
// defaults apply, and bad values are refused with their file:line:col
// (and never with a secret's value).
func TestEmailSMTP(t *testing.T) {
	src := `identity:
  listen: 127.0.0.1:8080
  email:
    from: "Contoso <no-reply@contoso.com>"
    smtp:
      host: smtp.office365.com
      auth: xoauth2
      username: no-reply@contoso.com
      token: env:SMTP_TOKEN
      timeout: 20s
      connectTimeout: 5s
`
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(src), env(map[string]string{"SMTP_TOKEN": "tok-123"}))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Identity.Email.SMTP
	if s.EffectiveAuth() != SMTPAuthXOAUTH2 || s.Token.Value != "tok-123" || s.EffectiveTLS() != SMTPTLSStartTLSRequired ||
		s.EffectivePort() != 587 || s.Timeout.D != 20*time.Second || s.ConnectTimeout.D != 5*time.Second {
		t.Fatalf("parsed %+v", s)
	}
	for _, c := range []struct {
		s       SMTP
		tls     string
		port    int
		auth    string
		comment string
	}{
		{SMTP{Host: "smtp.example", Port: 465}, SMTPTLSImplicit, 465, SMTPAuthNone, "465 is implicit TLS"},
		{SMTP{Host: "smtp.example", TLS: SMTPTLSImplicit}, SMTPTLSImplicit, 465, SMTPAuthNone, "implicit defaults to 465"},
		{SMTP{Host: "127.0.0.1", Port: 1025}, SMTPTLSStartTLSOptional, 1025, SMTPAuthNone, "a loopback relay"},
		{SMTP{Host: "smtp.example", Username: "u"}, SMTPTLSStartTLSRequired, 587, SMTPAuthPlain, "plain with a username"},
	} {
		if c.s.EffectiveTLS() != c.tls || c.s.EffectivePort() != c.port || c.s.EffectiveAuth() != c.auth {
			t.Errorf("%s: %s %d %s", c.comment, c.s.EffectiveTLS(), c.s.EffectivePort(), c.s.EffectiveAuth())
		}
	}

	bad := `identity:
  listen: 127.0.0.1:8080
  email:
    from: not an address
    smtp:
      host: smtp.example
      port: 587
      tls: starttls-maybe
      auth: login
      username: u
      timeout: 1h
`
	_, err = Parse("/etc/gh/gatehouse.yaml", []byte(bad), env(nil))
	if err == nil {
		t.Fatal("bad smtp accepted")
	}
	for _, want := range []string{
		`gatehouse.yaml:4:11: identity.email.from "not an address" is not an email address`,
		`gatehouse.yaml:8:12: identity.email.smtp.tls must be starttls-required, starttls-optional, implicit or none, got "starttls-maybe"`,
		`gatehouse.yaml:9:13: identity.email.smtp.password is required with auth: login`,
		`gatehouse.yaml:11:16: identity.email.smtp.timeout must be between 1s and 10m`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}

	for _, c := range []struct{ src, want string }{
		{"    smtp: { host: smtp.example, auth: ntlm }\n", `gatehouse.yaml:4:39: identity.email.smtp.auth must be plain, login, cram-md5, xoauth2 or none, got "ntlm"`},
		{"    smtp: { host: smtp.example, auth: xoauth2, username: u }\n", "gatehouse.yaml:4:39: identity.email.smtp auth: xoauth2 needs either token:"},
		{"    smtp: { host: smtp.example, auth: xoauth2, username: u, password: hunter2-secret, token: env:T }\n", "identity.email.smtp.password is not used with auth: xoauth2"},
		{"    smtp: { host: smtp.example, tls: none, username: u, password: hunter2-secret }\n", "gatehouse.yaml:4:38: identity.email.smtp: auth: plain sends credentials in clear text"},
		{"    smtp: { host: smtp.example, auth: xoauth2, username: u, oauth2: { clientId: c } }\n", "identity.email.smtp.oauth2.tokenUrl is required"},
		{"    smtp: { host: smtp.example, auth: xoauth2, username: u, oauth2: { tokenUrl: nope, clientId: c, clientSecret: s } }\n", `identity.email.smtp.oauth2.tokenUrl "nope" is not an absolute http(s) URL`},
		{"    smtp: { host: smtp.example, token: env:T }\n", "identity.email.smtp.token is only used with auth: xoauth2"},
		{"    smtp: { port: 70000 }\n", "identity.email.smtp.host is required"},
		{"    from: a@b.example\n", "gatehouse.yaml:4:5: identity.email needs smtp: (a mail server) or outbox:"},
	} {
		_, err := Parse("/etc/gh/gatehouse.yaml", []byte("identity:\n  listen: 127.0.0.1:8080\n  email:\n"+c.src), env(map[string]string{"T": "tok-secret"}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2-secret") || strings.Contains(err.Error(), "tok-secret")) {
			t.Errorf("secret in error: %v", err)
		}
	}
	// Loopback relays (mailpit) may take credentials without TLS.
	if _, err := Parse("/etc/gh/gatehouse.yaml", []byte("identity:\n  listen: 127.0.0.1:8080\n  email:\n    smtp: { host: localhost, port: 1025, tls: none, username: u, password: p }\n"), env(nil)); err != nil {
		t.Fatal(err)
	}
}
