package config

import (
	"net/mail"
	"slices"
	"time"
)

// email validates identity.email.
func (v *validator) email(e *Email) {
	if e == nil {
		return
	}
	at := func(key string, def Pos) Pos {
		if p, ok := e.KeyPos[key]; ok {
			return p
		}
		return def
	}
	if e.From != "" {
		if _, err := mail.ParseAddress(e.From); err != nil {
			v.add(at("from", e.Pos), "identity.email.from %q is not an email address (examples: no-reply@contoso.com, \"Contoso <no-reply@contoso.com>\")", e.From)
		}
	}
	if e.SMTP == nil && !e.Outbox.IsSet() {
		v.add(e.Pos, "identity.email needs smtp: (a mail server) or outbox: (a folder, in development)")
	}
	s := e.SMTP
	if s == nil {
		return
	}
	sat := func(key string) Pos {
		if p, ok := s.KeyPos[key]; ok {
			return p
		}
		return s.Pos
	}
	if s.Host == "" {
		v.add(s.Pos, "identity.email.smtp.host is required")
	}
	if s.Port < 0 || s.Port > 65535 {
		v.add(sat("port"), "identity.email.smtp.port must be between 1 and 65535, got %d", s.Port)
	}
	tlsPolicies := []string{SMTPTLSStartTLSRequired, SMTPTLSStartTLSOptional, SMTPTLSImplicit, SMTPTLSNone}
	if s.TLS != "" && !slices.Contains(tlsPolicies, s.TLS) {
		v.add(sat("tls"), "identity.email.smtp.tls must be starttls-required, starttls-optional, implicit or none, got %q", s.TLS)
	}
	mechs := []string{SMTPAuthPlain, SMTPAuthLogin, SMTPAuthCRAMMD5, SMTPAuthXOAUTH2, SMTPAuthNone}
	if s.Auth != "" && !slices.Contains(mechs, s.Auth) {
		v.add(sat("auth"), "identity.email.smtp.auth must be plain, login, cram-md5, xoauth2 or none, got %q", s.Auth)
		return
	}
	auth := s.EffectiveAuth()
	authPos := sat("auth")
	switch auth {
	case SMTPAuthPlain, SMTPAuthLogin, SMTPAuthCRAMMD5:
		if s.Username == "" {
			v.add(authPos, "identity.email.smtp.username is required with auth: %s", auth)
		}
		if !s.Password.IsSet() {
			v.add(authPos, "identity.email.smtp.password is required with auth: %s (env:NAME or file:PATH)", auth)
		}
	case SMTPAuthXOAUTH2:
		if s.Username == "" {
			v.add(authPos, "identity.email.smtp.username is required with auth: xoauth2 (the mailbox the token is for)")
		}
		if s.Token.IsSet() == (s.OAuth2 != nil) {
			v.add(authPos, "identity.email.smtp auth: xoauth2 needs either token: (env:NAME or file:PATH) or oauth2: (client credentials)")
		}
		if s.Password.IsSet() {
			v.add(s.Password.Pos, "identity.email.smtp.password is not used with auth: xoauth2 (use token: or oauth2:)")
		}
	case SMTPAuthNone:
		if s.Password.IsSet() {
			v.add(s.Password.Pos, "identity.email.smtp.password is set but auth is none (set auth: or username:)")
		}
	}
	if auth != SMTPAuthXOAUTH2 {
		if s.Token.IsSet() {
			v.add(s.Token.Pos, "identity.email.smtp.token is only used with auth: xoauth2")
		}
		if s.OAuth2 != nil {
			v.add(s.OAuth2.Pos, "identity.email.smtp.oauth2 is only used with auth: xoauth2")
		}
	}
	if o := s.OAuth2; o != nil {
		if o.TokenURL == "" {
			v.add(o.Pos, "identity.email.smtp.oauth2.tokenUrl is required")
		} else {
			v.url(o.Pos, "identity.email.smtp.oauth2.tokenUrl", o.TokenURL)
		}
		if o.ClientID == "" {
			v.add(o.Pos, "identity.email.smtp.oauth2.clientId is required")
		}
		if !o.ClientSecret.IsSet() {
			v.add(o.Pos, "identity.email.smtp.oauth2.clientSecret is required (env:NAME or file:PATH)")
		}
	}
	// Credentials in clear text to another host: refused when sending, so
	// refused here.
	if s.EffectiveTLS() == SMTPTLSNone && (auth == SMTPAuthPlain || auth == SMTPAuthLogin || auth == SMTPAuthXOAUTH2) &&
		!isLoopbackHost(s.Host) {
		v.add(sat("tls"), "identity.email.smtp: auth: %s sends credentials in clear text, so it needs TLS (tls: none is only allowed for a loopback host)", auth)
	}
	for _, d := range []struct {
		key string
		d   Duration
	}{{"connectTimeout", s.ConnectTimeout}, {"timeout", s.Timeout}} {
		if d.d.IsSet() && (d.d.D < time.Second || d.d.D > 10*time.Minute) {
			v.add(orPos(d.d.Pos, s.Pos), "identity.email.smtp.%s must be between 1s and 10m, got %v", d.key, d.d.D)
		}
	}
}
