// Package secevent records security events — failed sign-ins, lockouts,
// throttled callers, code floods, client-secret guesses, admin actions —
// as one structured log line each (message "security event", attribute
// event=<kind>) and one Prometheus counter increment
// (gatehouse_security_events_total{event}).
//
// Events never carry secrets. Identifiers an attacker chooses or that are
// personal (email addresses, sign-in names) are logged as a keyed hash
// (Recorder.Hash), so an operator can correlate the events of one account
// across processes that share the key without the log holding the address.
package secevent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/promreg"
)

// Kind names an event; the values are the metric's label values.
type Kind string

// The events Gatehouse records.
const (
	SignInFailed       Kind = "signin_failed"        // wrong password or unknown account
	AccountLocked      Kind = "account_locked"       // a failure locked the account
	SignInLocked       Kind = "signin_locked"        // an attempt on a locked account
	SignInThrottled    Kind = "signin_throttled"     // a client address over its attempt rate
	CodeSent           Kind = "code_sent"            // an email one-time code was sent
	CodeThrottled      Kind = "code_throttled"       // a code request over the per-address / per-client limit
	CodeFailed         Kind = "code_failed"          // a wrong one-time code
	CodeGuessThrottled Kind = "code_guess_throttled" // code guesses over the limit
	ClientAuthFailed   Kind = "client_auth_failed"   // a wrong client secret at the token endpoint
	ClientThrottled    Kind = "client_throttled"     // client-secret guessing slowed down
	RequestRejected    Kind = "request_rejected"     // a request over a size or parameter limit
	AdminAction        Kind = "admin_action"         // a user, key or config change by an operator
	SignInSucceeded    Kind = "signin_succeeded"     // a sign-in completed (tokens issued to the app)
	ConnectorFailed    Kind = "connector_failed"     // an API connector or RESTful profile call failed
)

// Kinds lists every Kind (the counter is created with each at zero, so a
// dashboard sees the series before the first event).
var Kinds = []Kind{SignInFailed, AccountLocked, SignInLocked, SignInThrottled, CodeSent, CodeThrottled,
	CodeFailed, CodeGuessThrottled, ClientAuthFailed, ClientThrottled, RequestRejected, AdminAction, SignInSucceeded, ConnectorFailed}

// Recorder emits events. The zero value and a nil *Recorder log to
// slog.Default and count nothing.
type Recorder struct {
	log     *slog.Logger
	counter *prometheus.CounterVec
	key     []byte
	sink    func(ctx context.Context, kind Kind, attrs []slog.Attr)
}

// SetSink passes every event on to sink as well (the audit log); set it
// before the recorder is shared.
func (r *Recorder) SetSink(sink func(ctx context.Context, kind Kind, attrs []slog.Attr)) {
	r.sink = sink
}

// New returns a Recorder that logs to log (nil: slog.Default), counts in
// reg (nil: not counted; a counter already registered there is reused) and
// hashes identifiers with key (nil: hashes are unkeyed SHA-256, fine only
// for tests).
func New(log *slog.Logger, reg prometheus.Registerer, key []byte) (*Recorder, error) {
	r := &Recorder{log: log, key: key}
	if reg != nil {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_security_events_total",
			Help: "Security events (failed sign-ins, lockouts, throttled callers, code floods, client-secret guesses, admin actions), by event.",
		}, []string{"event"})
		c, err := promreg.Register(reg, c)
		if err != nil {
			return nil, err
		}
		for _, k := range Kinds {
			c.WithLabelValues(string(k))
		}
		r.counter = c
	}
	return r, nil
}

// Emit records one event with attrs (never a secret; hash identifiers with
// Hash first).
func (r *Recorder) Emit(ctx context.Context, kind Kind, attrs ...slog.Attr) {
	log := slog.Default()
	if r != nil && r.log != nil {
		log = r.log
	}
	if r != nil && r.counter != nil {
		r.counter.WithLabelValues(string(kind)).Inc()
	}
	all := make([]slog.Attr, 0, len(attrs)+1)
	all = append(all, slog.String("event", string(kind)))
	all = append(all, attrs...)
	level := slog.LevelWarn
	if kind == SignInSucceeded || kind == AdminAction {
		level = slog.LevelInfo // expected events: kept for the audit log, not warnings
	}
	log.LogAttrs(ctx, level, "security event", all...)
	if r != nil && r.sink != nil {
		r.sink(ctx, kind, attrs)
	}
}

// Hash returns a short keyed hash of an identifier (case-folded and
// trimmed, so "A@x.com " and "a@x.com" match) for correlating events.
func (r *Recorder) Hash(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	var sum []byte
	if r != nil && len(r.key) > 0 {
		m := hmac.New(sha256.New, r.key)
		m.Write([]byte("gatehouse secevent\x00"))
		m.Write([]byte(id))
		sum = m.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(id))
		sum = s[:]
	}
	return hex.EncodeToString(sum[:12])
}
