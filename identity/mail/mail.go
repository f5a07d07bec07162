// Package mail sends the identity pages' email (verification codes): SMTP
// in production (github.com/wneessen/go-mail: STARTTLS or implicit TLS,
// AUTH PLAIN, LOGIN, CRAM-MD5 or XOAUTH2), an outbox folder of .eml files
// in development. Both carry the same multipart/alternative message.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/outbox"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Message is one email: a plain-text body and, when HTML is set, an HTML
// alternative of it.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// FromConfig returns the sender the config asks for: SMTP when smtp is set,
// else the outbox folder; nil config or neither is an error.
func FromConfig(cfg *config.Email, logger *slog.Logger) (Sender, error) {
	if cfg == nil {
		return nil, errors.New("mail: no email configuration")
	}
	switch {
	case cfg.SMTP != nil:
		s := SMTP(*cfg.SMTP)
		s.From = cfg.From
		return s, nil
	case cfg.Outbox.IsSet():
		o := Outbox(cfg.Outbox.Abs)
		o.From = cfg.From
		o.Logger = logger
		return o, nil
	}
	return nil, errors.New("mail: email needs smtp or outbox")
}

// build makes the go-mail message: From, To, Subject, Date, Message-ID
// (random, at the sender's domain), MIME UTF-8 quoted-printable text and,
// with HTML, multipart/alternative.
func build(from string, m Message, now time.Time) (*gomail.Msg, error) {
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: from address: %w", err)
	}
	ta, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: to address: %w", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("mail: line break in subject")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	domain := fa.Address[strings.LastIndexByte(fa.Address, '@')+1:]
	g := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8))
	g.FromMailAddress(fa)
	g.ToMailAddress(ta)
	g.Subject(m.Subject)
	g.SetDateWithValue(now)
	g.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + domain)
	crlf := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n") }
	g.SetBodyString(gomail.TypeTextPlain, crlf(m.Text))
	if m.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, crlf(m.HTML))
	}
	return g, nil
}

// Compose renders m as an RFC 5322 message (CRLF line ends), as it is sent.
func Compose(from string, m Message, now time.Time) ([]byte, error) {
	g, err := build(from, m, now)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := g.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("mail: compose: %w", err)
	}
	return b.Bytes(), nil
}

// OutboxSender writes each message to a new .eml file in Dir (mode 0600).
// The file holds the whole message (a verification code can be read there
// in development); the log line names the file, never the content.
type OutboxSender struct {
	Dir    string
	From   string // default "noreply@gatehouse.invalid"
	Logger *slog.Logger
	Now    func() time.Time
}

// Outbox returns a sender writing to dir.
func Outbox(dir string) *OutboxSender { return &OutboxSender{Dir: dir} }

func from(f string) string {
	if f == "" {
		return "noreply@gatehouse.invalid"
	}
	return f
}

// Send writes the message atomically (temporary file, then rename).
func (o *OutboxSender) Send(ctx context.Context, m Message) error {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	msg, err := Compose(from(o.From), m, now)
	if err != nil {
		return err
	}
	path, err := outbox.Write(o.Dir, ".eml", msg, now)
	if err != nil {
		return err
	}
	if o.Logger != nil {
		o.Logger.LogAttrs(ctx, slog.LevelInfo, "email written to outbox", slog.String("file", path))
	}
	return nil
}

// SMTPSender sends through a mail server. The zero TLS policy is
// config.SMTP's default (implicit on 465, STARTTLS required elsewhere but
// optional for a loopback host); the zero Auth is plain with a Username,
// else none. Credentials go only over TLS, or to a loopback host.
type SMTPSender struct {
	Host     string
	Port     int    // default 587, or 465 for implicit TLS
	TLS      string // config.SMTPTLS*
	Auth     string // config.SMTPAuth*
	Username string
	Password string // plain, login, cram-md5
	// Token returns XOAUTH2's access token.
	Token func(ctx context.Context) (string, error)
	From  string
	// ConnectTimeout bounds connecting (default 10 s); Timeout the whole
	// delivery of a message (default 30 s).
	ConnectTimeout time.Duration
	Timeout        time.Duration
	// TLSConfig overrides the TLS settings (tests: RootCAs).
	TLSConfig *tls.Config

	dialAddr string // tests: dial here instead of Host:Port
}

// LogValue shows where the sender delivers, never its credentials.
func (s *SMTPSender) LogValue() slog.Value {
	cfg := config.SMTP{Host: s.Host, Port: s.Port, TLS: s.TLS, Auth: s.Auth, Username: s.Username}
	return slog.GroupValue(slog.String("host", s.Host), slog.Int("port", cfg.EffectivePort()),
		slog.String("tls", cfg.EffectiveTLS()), slog.String("auth", cfg.EffectiveAuth()), slog.String("username", s.Username))
}

// String is LogValue's text (fmt's %v and %+v print no credentials).
func (s *SMTPSender) String() string { return "smtp " + s.LogValue().String() }

// SMTP returns a sender for a configured server. With oauth2, XOAUTH2
// tokens come from the client credentials grant (cached until they
// expire).
func SMTP(cfg config.SMTP) *SMTPSender {
	s := &SMTPSender{Host: cfg.Host, Port: cfg.EffectivePort(), TLS: cfg.EffectiveTLS(), Auth: cfg.EffectiveAuth(),
		Username: cfg.Username, Password: cfg.Password.Value,
		ConnectTimeout: cfg.ConnectTimeout.Or(10 * time.Second), Timeout: cfg.Timeout.Or(30 * time.Second)}
	switch {
	case cfg.Token.IsSet():
		tok := cfg.Token.Value
		s.Token = func(context.Context) (string, error) { return tok, nil }
	case cfg.OAuth2 != nil:
		s.Token = ClientCredentials(cfg.OAuth2.TokenURL, cfg.OAuth2.ClientID, cfg.OAuth2.ClientSecret.Value, cfg.OAuth2.Scopes)
	}
	return s
}

// ClientCredentials returns a token function that acquires access tokens
// by the OAuth 2.0 client credentials grant and reuses each until shortly
// before it expires. Its errors never carry the secret or the response.
func ClientCredentials(tokenURL, clientID, clientSecret string, scopes []string) func(context.Context) (string, error) {
	cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, Scopes: scopes}
	hc := &http.Client{Timeout: 30 * time.Second}
	ts := cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, hc))
	return func(context.Context) (string, error) {
		t, err := ts.Token()
		if err != nil {
			if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
				code := re.ErrorCode
				if code == "" && re.Response != nil {
					code = re.Response.Status
				}
				return "", fmt.Errorf("mail: xoauth2 token from %s: %s", tokenURL, code)
			}
			return "", fmt.Errorf("mail: xoauth2 token from %s: %w", tokenURL, err)
		}
		return t.AccessToken, nil
	}
}

// tlsOnly refuses to start an authentication that would send credentials
// in clear text (go-mail's XOAUTH2 does not check; its PLAIN and LOGIN do).
type tlsOnly struct{ gosmtp.Auth }

func (a tlsOnly) Start(si *gosmtp.ServerInfo) (string, []byte, error) {
	if !si.TLS && !isLoopback(si.Name) {
		return "", nil, errors.New("refusing to send credentials over an unencrypted connection")
	}
	return a.Auth.Start(si)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers one message.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg, err := build(from(s.From), m, time.Now())
	if err != nil {
		return err
	}
	cfg := config.SMTP{Host: s.Host, Port: s.Port, TLS: s.TLS, Auth: s.Auth, Username: s.Username}
	port, policy, auth := cfg.EffectivePort(), cfg.EffectiveTLS(), cfg.EffectiveAuth()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	connectTimeout := s.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tc = s.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.Host
		}
	}
	// go-mail's per-command timeout is a backstop: ctx ends first, and
	// closes the connection.
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout + 5*time.Second), gomail.WithTLSConfig(tc)}
	switch policy {
	case config.SMTPTLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case config.SMTPTLSStartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case config.SMTPTLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case config.SMTPTLSStartTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		return fmt.Errorf("mail: unknown TLS policy %q", policy)
	}
	switch auth {
	case config.SMTPAuthNone:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthNoAuth))
	case config.SMTPAuthPlain:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	case config.SMTPAuthLogin:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthLogin), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	case config.SMTPAuthCRAMMD5:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthCramMD5), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	case config.SMTPAuthXOAUTH2:
		if s.Token == nil {
			return errors.New("mail: xoauth2 needs a token")
		}
		tok, err := s.Token(ctx)
		if err != nil {
			return err
		}
		opts = append(opts, gomail.WithSMTPAuthCustom(tlsOnly{gosmtp.XOAuth2Auth(s.Username, tok)}))
	default:
		return fmt.Errorf("mail: unknown auth mechanism %q", auth)
	}
	// The dialer bounds connecting, and closing the connection when ctx
	// ends (timeout or the caller's cancel) bounds the whole exchange.
	addr := s.dialAddr
	opts = append(opts, gomail.WithDialContextFunc(func(dctx context.Context, network, a string) (net.Conn, error) {
		if addr != "" {
			a = addr
		}
		d := &net.Dialer{Timeout: connectTimeout}
		var conn net.Conn
		var err error
		if policy == config.SMTPTLSImplicit {
			conn, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(dctx, network, a)
		} else {
			conn, err = d.DialContext(dctx, network, a)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}))
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mail: smtp %s: %w (%w)", s.Host, ctx.Err(), err)
		}
		return fmt.Errorf("mail: smtp %s: %w", s.Host, err)
	}
	return nil
}
