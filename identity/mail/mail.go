// Package mail sends the identity pages' email (verification codes): SMTP
// in production, an outbox folder of .eml files in development.
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
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	Text    string
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

// Compose renders m as an RFC 5322 message (CRLF line ends, MIME UTF-8
// text, quoted-printable body).
func Compose(from string, m Message, now time.Time) ([]byte, error) {
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
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := fa.Address[strings.LastIndexByte(fa.Address, '@')+1:]
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", fa.String())
	hdr("To", ta.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `text/plain; charset="utf-8"`)
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
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
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return err
	}
	r := make([]byte, 6)
	_, _ = rand.Read(r)
	name := now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r) + ".eml"
	tmp, err := os.CreateTemp(o.Dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(msg)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp.Name())
		return errors.Join(werr, cerr)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	path := filepath.Join(o.Dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if o.Logger != nil {
		o.Logger.LogAttrs(ctx, slog.LevelInfo, "email written to outbox", slog.String("file", path))
	}
	return nil
}

// SMTPSender sends through a mail server: implicit TLS on port 465,
// otherwise STARTTLS (required unless the host is a loopback address).
type SMTPSender struct {
	Host     string
	Port     int // default 587
	Username string
	Password string
	From     string
	// Timeout bounds the whole exchange (default 30 s).
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests: RootCAs).
	TLSConfig *tls.Config

	dialAddr string // tests: dial here instead of Host:Port
}

// SMTP returns a sender for a configured server.
func SMTP(cfg config.SMTP) *SMTPSender {
	return &SMTPSender{Host: cfg.Host, Port: cfg.Port, Username: cfg.Username, Password: cfg.Password.Value}
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
	msg, err := Compose(from(s.From), m, time.Now())
	if err != nil {
		return err
	}
	fa, _ := mail.ParseAddress(from(s.From))
	ta, _ := mail.ParseAddress(m.To)
	port := s.Port
	if port == 0 {
		port = 587
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	tc := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tc = s.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.Host
		}
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	if s.dialAddr != "" {
		addr = s.dialAddr
	}
	d := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	if port == 465 {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: smtp dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("mail: smtp: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: smtp hello: %w", err)
	}
	if port != 465 {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("mail: smtp starttls: %w", err)
			}
		} else if !isLoopback(s.Host) {
			return errors.New("mail: smtp server does not offer STARTTLS")
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: smtp auth: %w", err)
		}
	}
	if err := c.Mail(fa.Address); err != nil {
		return fmt.Errorf("mail: smtp MAIL: %w", err)
	}
	if err := c.Rcpt(ta.Address); err != nil {
		return fmt.Errorf("mail: smtp RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: smtp end of data: %w", err)
	}
	return c.Quit()
}
