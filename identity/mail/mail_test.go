package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	o := Outbox(dir)
	o.From = "Contoso <noreply@contoso.com>"
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	err := o.Send(context.Background(), Message{To: "a@example.com", Subject: "Contoso account email verification code",
		Text: "Your code is: 123456\nThanks"})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if !bytes.Contains(raw, []byte("\r\n\r\n")) {
		t.Fatal("no CRLF header/body separator")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("To") != "<a@example.com>" || msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Fatalf("headers: %v", msg.Header)
	}
	body, _ := io.ReadAll(msg.Body)
	if !strings.Contains(string(body), "123456") {
		t.Fatalf("code not in file: %s", body)
	}
	if strings.Contains(logs.String(), "123456") || logs.Len() == 0 {
		t.Fatalf("log: %q", logs.String())
	}
	fi, _ := os.Stat(files[0])
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := o.Send(context.Background(), Message{To: "a@example.com", Subject: "x\r\nBcc: evil@example.com"}); err == nil {
		t.Fatal("header injection accepted")
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

type received struct {
	from, to, auth string
	data           string
	tls            bool
}

// smtpServer speaks just enough SMTP (EHLO, STARTTLS, AUTH PLAIN, MAIL,
// RCPT, DATA, QUIT) to receive one message.
func smtpServer(t *testing.T, cert tls.Certificate, implicit bool) (string, chan received) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan received, 1)
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var rec received
		if implicit {
			conn = tls.Server(conn, tc)
			rec.tls = true
		}
		r, w := bufio.NewReader(conn), conn
		say := func(s string) { _, _ = io.WriteString(w, s+"\r\n") }
		say("220 test ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			cmd := strings.ToUpper(line)
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				if rec.tls {
					say("250-test\r\n250 AUTH PLAIN")
				} else {
					say("250-test\r\n250 STARTTLS")
				}
			case cmd == "STARTTLS":
				say("220 go ahead")
				tconn := tls.Server(conn, tc)
				if err := tconn.Handshake(); err != nil {
					return
				}
				conn, rec.tls = tconn, true
				r, w = bufio.NewReader(conn), conn
			case strings.HasPrefix(cmd, "AUTH PLAIN"):
				b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line[len("AUTH PLAIN"):]))
				rec.auth = string(b)
				say("235 ok")
			case strings.HasPrefix(cmd, "MAIL FROM:"):
				rec.from = line[10:]
				say("250 ok")
			case strings.HasPrefix(cmd, "RCPT TO:"):
				rec.to = line[8:]
				say("250 ok")
			case cmd == "DATA":
				say("354 go")
				var b strings.Builder
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
					b.WriteString(l)
				}
				rec.data = b.String()
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				out <- rec
				return
			default:
				say("502 unknown")
			}
		}
	}()
	return ln.Addr().String(), out
}

func TestSMTP(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, implicit := range []bool{false, true} {
		addr, out := smtpServer(t, cert, implicit)
		host, port, _ := net.SplitHostPort(addr)
		s := &SMTPSender{Host: host, From: "noreply@contoso.com", Username: "u", Password: "p",
			Timeout: 5 * time.Second, TLSConfig: &tls.Config{RootCAs: pool}}
		if implicit {
			// Port 465 means implicit TLS; the test server listens on a
			// random port, so the dial address is overridden.
			s.Port = 465
			s.dialAddr = addr
		} else {
			s.Port = atoi(port)
		}
		if err := s.Send(context.Background(), Message{To: "bob@example.com", Subject: "Code", Text: "Your code is 654321"}); err != nil {
			t.Fatalf("implicit=%v: %v", implicit, err)
		}
		rec := <-out
		if !rec.tls || rec.from != "<noreply@contoso.com>" || rec.to != "<bob@example.com>" || rec.auth != "\x00u\x00p" ||
			!strings.Contains(rec.data, "654321") {
			t.Fatalf("implicit=%v: %+v", implicit, rec)
		}
	}
}

func TestSMTPTimeout(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second) // never greets
			c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &SMTPSender{Host: host, Port: atoi(port), Timeout: 200 * time.Millisecond}
	start := time.Now()
	if err := s.Send(context.Background(), Message{To: "a@example.com", Subject: "x"}); err == nil {
		t.Fatal("no timeout")
	}
	if time.Since(start) > 1500*time.Millisecond {
		t.Fatal("timeout not honoured")
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
