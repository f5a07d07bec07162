package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

const (
	testPassword = "pa55-hunter2-secret"
	testToken    = "ya29.token-secret-xyz"
)

var testMsg = Message{To: "bob@example.com", Subject: "Contoso account email verification code",
	Text: "Your code is: 654321\n.leading dot\nThanks", HTML: "<p>Your code is: <b>654321</b></p>"}

// parts checks raw is a multipart/alternative message with Message-ID and
// Date, and returns its decoded text and HTML parts.
func parts(t *testing.T, raw []byte) (text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@contoso.com>") {
		t.Fatalf("Message-ID %q", id)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Fatalf("Date: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	if text == "" || html == "" {
		t.Fatalf("parts: text %q html %q", text, html)
	}
	return text, html
}

func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	o := Outbox(dir)
	o.From = "Contoso <noreply@contoso.com>"
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := o.Send(context.Background(), testMsg); err != nil {
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
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	if msg.Header.Get("To") != "<bob@example.com>" || !strings.Contains(msg.Header.Get("From"), "<noreply@contoso.com>") {
		t.Fatalf("headers: %v", msg.Header)
	}
	text, html := parts(t, raw)
	if !strings.Contains(text, "654321") || !strings.Contains(html, "<b>654321</b>") {
		t.Fatalf("code not in parts: %q %q", text, html)
	}
	if strings.Contains(logs.String(), "654321") || logs.Len() == 0 {
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

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"mail.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
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

// received is one connection's session, reported when it ends.
type received struct {
	tls        bool
	mech, user string // the authentication that succeeded
	authFailed bool
	from, to   string
	data       []byte
}

// server is a small SMTP server on 127.0.0.1 (RFC 5321 and 4954 as far as
// the sender needs): EHLO, STARTTLS (when offered), AUTH PLAIN, LOGIN,
// CRAM-MD5 and XOAUTH2 checked against user/password/token, MAIL, RCPT,
// DATA, NOOP, RSET, QUIT. Implicit serves TLS from the first byte.
type server struct {
	implicit, startTLS bool
	mechs              string // advertised: "PLAIN LOGIN CRAM-MD5 XOAUTH2"
	user, pass, token  string
	tc                 *tls.Config
	sessions           chan received
	addr               string
}

func startServer(t *testing.T, cert tls.Certificate, s *server) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.tc = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.sessions = make(chan received, 16)
	s.addr = ln.Addr().String()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				s.sessions <- s.serve(conn)
			}()
		}
	}()
	return s
}

func (s *server) serve(conn net.Conn) (rec received) {
	if s.implicit {
		conn = tls.Server(conn, s.tc)
		rec.tls = true
	}
	tp := textproto.NewConn(conn)
	say := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	read := func() (string, bool) {
		l, err := tp.ReadLine()
		return l, err == nil
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	unb64 := func(s string) string {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		return string(b)
	}
	say("220 mail.test ESMTP")
	for {
		line, ok := read()
		if !ok {
			return rec
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"mail.test"}
			if s.startTLS && !rec.tls {
				lines = append(lines, "STARTTLS")
			}
			if s.mechs != "" {
				lines = append(lines, "AUTH "+s.mechs)
			}
			lines = append(lines, "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				say("250%s%s", sep, l)
			}
		case "STARTTLS":
			if !s.startTLS || rec.tls {
				say("502 no")
				continue
			}
			say("220 go ahead")
			tconn := tls.Server(conn, s.tc)
			if err := tconn.Handshake(); err != nil {
				return rec
			}
			conn, rec.tls = tconn, true
			tp = textproto.NewConn(conn)
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			mech = strings.ToUpper(mech)
			if !strings.Contains(" "+s.mechs+" ", " "+mech+" ") {
				say("504 unsupported")
				continue
			}
			ok, user := false, ""
			switch mech {
			case "PLAIN":
				if ir == "" {
					say("334 ")
					ir, _ = read()
				}
				f := strings.Split(unb64(ir), "\x00")
				ok, user = len(f) == 3 && f[1] == s.user && f[2] == s.pass, f[len(f)-2]
			case "LOGIN":
				say("334 %s", b64("Username:"))
				u, _ := read()
				say("334 %s", b64("Password:"))
				p, _ := read()
				user = unb64(u)
				ok = user == s.user && unb64(p) == s.pass
			case "CRAM-MD5":
				challenge := "<12345.67890@mail.test>"
				say("334 %s", b64(challenge))
				r, _ := read()
				u, digest, _ := strings.Cut(unb64(r), " ")
				h := hmac.New(md5.New, []byte(s.pass))
				h.Write([]byte(challenge))
				user, ok = u, u == s.user && digest == hex.EncodeToString(h.Sum(nil))
			case "XOAUTH2":
				f := strings.Split(unb64(ir), "\x01")
				if len(f) == 4 {
					user = strings.TrimPrefix(f[0], "user=")
					ok = user == s.user && f[1] == "auth=Bearer "+s.token
				}
			}
			if ok {
				rec.mech, rec.user = mech, user
				say("235 2.7.0 authenticated")
			} else {
				rec.authFailed = true
				say("535 5.7.8 authentication failed")
			}
		case "MAIL":
			if s.mechs != "" && rec.mech == "" {
				say("530 5.7.0 authentication required")
				continue
			}
			rec.from, _, _ = strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ")
			say("250 ok")
		case "RCPT":
			rec.to, _, _ = strings.Cut(strings.TrimPrefix(arg, "TO:"), " ")
			say("250 ok")
		case "DATA":
			say("354 go ahead")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return rec
			}
			rec.data = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
			say("250 queued")
		case "NOOP", "RSET":
			say("250 ok")
		case "QUIT":
			say("221 bye")
			return rec
		default:
			say("502 unknown")
		}
	}
}

// sender is an SMTPSender for s: Host mail.test (the certificate's name),
// dialled at the server's address.
func (s *server) sender(pool *x509.CertPool, tlsPolicy, auth string) *SMTPSender {
	return &SMTPSender{Host: "mail.test", Port: 587, TLS: tlsPolicy, Auth: auth, Username: s.user, Password: s.pass,
		Token: func(context.Context) (string, error) { return s.token, nil }, From: "Contoso <noreply@contoso.com>",
		Timeout: 10 * time.Second, TLSConfig: &tls.Config{RootCAs: pool}, dialAddr: s.addr}
}

func checkDelivered(t *testing.T, rec received, wantTLS bool, wantMech string) {
	t.Helper()
	if rec.tls != wantTLS || rec.mech != wantMech || rec.from != "<noreply@contoso.com>" || rec.to != "<bob@example.com>" {
		t.Fatalf("session %+v", rec)
	}
	text, html := parts(t, rec.data)
	if !strings.Contains(text, "654321") || !strings.Contains(text, "\n.leading dot") || !strings.Contains(html, "<b>654321</b>") {
		t.Fatalf("parts %q %q", text, html)
	}
}

// noSecrets fails when err's text (as it would be logged) holds a secret.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Error("send", "err", err)
	for _, s := range []string{testPassword, testToken, b64(testPassword), b64(testToken)} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("secret in %q", logs.String())
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSMTPAuthMechanisms(t *testing.T) {
	cert, pool := testCert(t)
	for _, c := range []struct{ auth, mech string }{
		{config.SMTPAuthPlain, "PLAIN"}, {config.SMTPAuthLogin, "LOGIN"},
		{config.SMTPAuthCRAMMD5, "CRAM-MD5"}, {config.SMTPAuthXOAUTH2, "XOAUTH2"},
	} {
		t.Run(c.auth, func(t *testing.T) {
			srv := startServer(t, cert, &server{startTLS: true, mechs: "PLAIN LOGIN CRAM-MD5 XOAUTH2",
				user: "noreply@contoso.com", pass: testPassword, token: testToken})
			s := srv.sender(pool, config.SMTPTLSStartTLSRequired, c.auth)
			if err := s.Send(context.Background(), testMsg); err != nil {
				t.Fatal(err)
			}
			rec := <-srv.sessions
			checkDelivered(t, rec, true, c.mech)
			if rec.user != "noreply@contoso.com" {
				t.Fatalf("user %q", rec.user)
			}
			// Wrong credentials: refused, and the error holds no secret.
			s.Password, s.Token = testPassword+"x", func(context.Context) (string, error) { return testToken + "x", nil }
			err := s.Send(context.Background(), testMsg)
			if err == nil {
				t.Fatal("wrong credentials accepted")
			}
			if rec := <-srv.sessions; !rec.authFailed || rec.data != nil {
				t.Fatalf("session %+v", rec)
			}
			noSecrets(t, err)
		})
	}
}

func TestSMTPTLSPolicies(t *testing.T) {
	cert, pool := testCert(t)
	const mechs = "PLAIN LOGIN XOAUTH2"
	newServer := func(s server) *server {
		s.user, s.pass, s.token = "u", testPassword, testToken
		return startServer(t, cert, &s)
	}
	t.Run("implicit", func(t *testing.T) {
		srv := newServer(server{implicit: true, mechs: mechs})
		if err := srv.sender(pool, config.SMTPTLSImplicit, config.SMTPAuthPlain).Send(context.Background(), testMsg); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, <-srv.sessions, true, "PLAIN")
	})
	t.Run("starttls-required refuses a server without STARTTLS", func(t *testing.T) {
		srv := newServer(server{mechs: mechs})
		err := srv.sender(pool, config.SMTPTLSStartTLSRequired, config.SMTPAuthPlain).Send(context.Background(), testMsg)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err %v", err)
		}
		noSecrets(t, err)
		if rec := <-srv.sessions; rec.mech != "" || rec.authFailed || rec.data != nil {
			t.Fatalf("session %+v", rec)
		}
	})
	t.Run("starttls-required refuses an untrusted certificate", func(t *testing.T) {
		srv := newServer(server{startTLS: true, mechs: mechs})
		s := srv.sender(pool, config.SMTPTLSStartTLSRequired, config.SMTPAuthPlain)
		s.TLSConfig = nil // the system roots do not hold the test certificate
		if err := s.Send(context.Background(), testMsg); err == nil {
			t.Fatal("untrusted certificate accepted")
		}
		if rec := <-srv.sessions; rec.mech != "" || rec.data != nil {
			t.Fatalf("session %+v", rec)
		}
	})
	t.Run("starttls-optional uses STARTTLS when offered", func(t *testing.T) {
		srv := newServer(server{startTLS: true, mechs: mechs})
		if err := srv.sender(pool, config.SMTPTLSStartTLSOptional, config.SMTPAuthLogin).Send(context.Background(), testMsg); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, <-srv.sessions, true, "LOGIN")
	})
	t.Run("starttls-optional sends in clear without credentials", func(t *testing.T) {
		srv := newServer(server{})
		if err := srv.sender(pool, config.SMTPTLSStartTLSOptional, config.SMTPAuthNone).Send(context.Background(), testMsg); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, <-srv.sessions, false, "")
	})
	for _, auth := range []string{config.SMTPAuthPlain, config.SMTPAuthLogin, config.SMTPAuthXOAUTH2} {
		t.Run("no credentials in clear text: "+auth, func(t *testing.T) {
			srv := newServer(server{mechs: mechs})
			err := srv.sender(pool, config.SMTPTLSStartTLSOptional, auth).Send(context.Background(), testMsg)
			if err == nil {
				t.Fatal("credentials sent without TLS")
			}
			noSecrets(t, err)
			if rec := <-srv.sessions; rec.mech != "" || rec.authFailed || rec.data != nil {
				t.Fatalf("session %+v", rec)
			}
		})
	}
	t.Run("none does not use STARTTLS", func(t *testing.T) {
		srv := newServer(server{startTLS: true})
		if err := srv.sender(pool, config.SMTPTLSNone, config.SMTPAuthNone).Send(context.Background(), testMsg); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, <-srv.sessions, false, "")
	})
}

// TestSMTPClientCredentials: XOAUTH2 with a token from a real token
// endpoint (client credentials grant), fetched once and reused.
func TestSMTPClientCredentials(t *testing.T) {
	cert, pool := testCert(t)
	const clientSecret = "client-secret-abc"
	var fetches atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "https://outlook.office365.com/.default" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if id != "app-id" || secret != clientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"bad secret `+secret+`"}`)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`+testToken+`","token_type":"Bearer","expires_in":3600}`)
	}))
	defer ts.Close()
	srv := startServer(t, cert, &server{startTLS: true, mechs: "XOAUTH2", user: "noreply@contoso.com", token: testToken})
	s := srv.sender(pool, config.SMTPTLSStartTLSRequired, config.SMTPAuthXOAUTH2)
	s.Token = ClientCredentials(ts.URL, "app-id", clientSecret, []string{"https://outlook.office365.com/.default"})
	for range 2 {
		if err := s.Send(context.Background(), testMsg); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, <-srv.sessions, true, "XOAUTH2")
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d token fetches, want 1", n)
	}
	s.Token = ClientCredentials(ts.URL, "app-id", testPassword, []string{"https://outlook.office365.com/.default"})
	err := s.Send(context.Background(), testMsg)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("err %v", err)
	}
	noSecrets(t, err)
}

// TestSMTPFromConfig: the sender built from config keys delivers.
func TestSMTPFromConfig(t *testing.T) {
	cert, pool := testCert(t)
	srv := startServer(t, cert, &server{implicit: true, mechs: "LOGIN", user: "u", pass: testPassword})
	host, port, _ := net.SplitHostPort(srv.addr)
	p, _ := strconv.Atoi(port)
	snd, err := FromConfig(&config.Email{From: "Contoso <noreply@contoso.com>", SMTP: &config.SMTP{Host: host, Port: p,
		TLS: "implicit", Auth: "login", Username: "u", Password: config.NewSecret(testPassword)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := snd.(*SMTPSender)
	s.TLSConfig = &tls.Config{RootCAs: pool}
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, <-srv.sessions, true, "LOGIN")
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("mail", "sender", s)
	logs.WriteString(fmt.Sprintf("%v %+v %s", s, s, s))
	if strings.Contains(logs.String(), testPassword) || !strings.Contains(logs.String(), "auth=login") {
		t.Fatalf("logged sender: %s", logs.String())
	}
	if s.Timeout != 30*time.Second || s.ConnectTimeout != 10*time.Second {
		t.Fatalf("timeouts %v %v", s.Timeout, s.ConnectTimeout)
	}
}

// TestSMTPTimeout: a server that never answers is given up on when the
// timeout ends, or when the caller cancels.
func TestSMTPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() { // never greets; returns when the client hangs up
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	s := &SMTPSender{Host: host, Port: p, Timeout: 200 * time.Millisecond}
	if err := s.Send(context.Background(), testMsg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	s.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Send(ctx, testMsg) }()
	<-accepted // the first Send's connection
	<-accepted // this one: the client waits for the greeting
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
