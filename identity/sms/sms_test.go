package sms

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	s, err := FromConfig(&config.SMS{Outbox: config.Path{Abs: dir}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "+4712345678", Text: "Your code is 123456", Code: "123456", Channel: "sms"}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	var m Message
	if err := json.Unmarshal(b, &m); err != nil || m.To != "+4712345678" || m.Code != "123456" {
		t.Fatalf("%s %v", b, err)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// TestWebhookSignature: a receiver verifying as the package doc says
// accepts the request; a body changed on the way does not verify.
func TestWebhookSignature(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	var got Message
	var verified bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get(SignatureHeader)
		ts := strings.TrimPrefix(strings.Split(sig, ",")[0], "t=")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		want := Sign(secret, body, time.Unix(sec, 0))
		verified = hmac.Equal([]byte(sig), []byte(want)) && !hmac.Equal([]byte(sig), []byte(Sign(secret, append(body, ' '), time.Unix(sec, 0))))
		_ = json.Unmarshal(body, &got)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	s, err := FromConfig(&config.SMS{Webhook: srv.URL + "/ok", Secret: config.NewSecret(string(secret))}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "+15555550100", Code: "654321", Channel: "sms", Tenant: "contoso.onmicrosoft.com"}); err != nil {
		t.Fatal(err)
	}
	if !verified || got.To != "+15555550100" || got.Code != "654321" {
		t.Fatalf("verified %v, got %+v", verified, got)
	}
	fail := &Webhook{URL: srv.URL + "/fail", Secret: secret}
	if err := fail.Send(context.Background(), Message{To: "+1"}); err == nil {
		t.Error("a 502 answer counted as sent")
	}
	for _, c := range []*config.SMS{{}, {Webhook: srv.URL}, {Webhook: srv.URL, Secret: config.NewSecret("short")},
		{Webhook: srv.URL, Outbox: config.Path{Abs: "/tmp/x"}}} { // production: the webhook, without a secret
		if _, err := FromConfig(c, false, nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	// Both (the contract's example): the outbox in development, the
	// webhook in production.
	both := &config.SMS{Webhook: srv.URL, Secret: config.NewSecret(string(secret)), Outbox: config.Path{Abs: "/tmp/x"}}
	if s, err := FromConfig(both, true, nil); err != nil {
		t.Errorf("development: %v", err)
	} else if _, ok := s.(*Outbox); !ok {
		t.Errorf("development sends by %T, want the outbox", s)
	}
	if s, err := FromConfig(both, false, nil); err != nil {
		t.Errorf("production: %v", err)
	} else if _, ok := s.(*Webhook); !ok {
		t.Errorf("production sends by %T, want the webhook", s)
	}
}
