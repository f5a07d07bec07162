// Package sms sends one-time codes to phones (MFA, phone sign-up): to the
// tenant's SMS gateway through a webhook, or to an outbox folder in
// development. Gatehouse does not speak to carriers itself; a webhook
// receiver forwards to Twilio, Azure Communication Services, a carrier...
//
// The webhook is a POST of JSON:
//
//	{"to": "+4712345678", "message": "...", "code": "123456", "channel": "sms",
//	 "locale": "de", "tenant": "contoso.onmicrosoft.com", "id": "<random>", "timestamp": 1796300000}
//
// with the header Gatehouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
// of "<t>.<body>" under the configured secret>. A receiver recomputes the
// HMAC, compares in constant time and refuses a timestamp older than five
// minutes (replays). Any 2xx answer is success.
package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/outbox"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Message is one code to send.
type Message struct {
	To      string `json:"to"` // E.164
	Text    string `json:"message"`
	Code    string `json:"code"`
	Channel string `json:"channel"` // sms or call
	Locale  string `json:"locale,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// FromConfig builds the sender of identity.sms (nil config: nil sender).
// With both a webhook and an outbox (the config contract's example line),
// development uses the outbox and production the webhook.
func FromConfig(cfg *config.SMS, development bool, log *slog.Logger) (Sender, error) {
	if cfg == nil {
		return nil, nil
	}
	switch {
	case cfg.Outbox.IsSet() && (cfg.Webhook == "" || development):
		return &Outbox{Dir: cfg.Outbox.Abs, Logger: log}, nil
	case cfg.Webhook != "":
		if cfg.Outbox.IsSet() && log != nil {
			log.Warn("identity.sms: outbox is for development; this production deployment sends to the webhook")
		}
		if !cfg.Secret.IsSet() || len(cfg.Secret.Bytes) < 16 {
			return nil, errors.New("identity.sms: the webhook needs a secret of at least 16 bytes (env:NAME or file:PATH) to sign its requests")
		}
		return &Webhook{URL: cfg.Webhook, Secret: cfg.Secret.Bytes}, nil
	}
	return nil, errors.New("identity.sms: give webhook (with secret) or outbox")
}

// Outbox writes each message as a JSON file into Dir (0600, atomically):
// codes can be read there in development.
type Outbox struct {
	Dir    string
	Logger *slog.Logger
}

// Send writes m.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path, err := outbox.Write(o.Dir, ".json", b, time.Now())
	if err != nil {
		return err
	}
	if o.Logger != nil {
		o.Logger.LogAttrs(ctx, slog.LevelInfo, "sms written to outbox", slog.String("file", path))
	}
	return nil
}

// Webhook posts messages, signed, to URL.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client // nil: 10 s timeout
	Now    func() time.Time
}

// SignatureHeader is the webhook's signature header.
const SignatureHeader = "Gatehouse-Signature"

// Sign is the Gatehouse-Signature value of body at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts m.
func (h *Webhook) Send(ctx context.Context, m Message) error {
	clock := time.Now
	if h.Now != nil {
		clock = h.Now
	}
	now := clock() // one instant for the body's timestamp and the signature's t
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	body, err := json.Marshal(struct {
		Message
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
	}{m, hex.EncodeToString(id), now.Unix()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(h.Secret, body, now))
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sms webhook: %s", resp.Status)
	}
	return nil
}
