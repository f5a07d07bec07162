package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/tracing"
	"github.com/gatehouse/gatehouse/keys"
)

// defaultTokenLifetime is assumed when the token endpoint gives no
// expires_in.
const defaultTokenLifetime = 5 * time.Minute

// tokenSource caches a client-credentials token and makes concurrent
// callers share one acquisition (a single flight).
type tokenSource struct {
	cc      ClientCredentials
	keys    keys.Resolver
	tr      *http.Transport
	now     func() time.Time
	timeout time.Duration

	mu       sync.Mutex
	tok      string
	expires  time.Time // when to stop using tok (expiry - EarlyRefresh)
	inflight *flight
	fetches  int // acquisitions made (for tests and metrics)
}

type flight struct {
	done chan struct{}
	tok  string
	err  error
}

func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.tok != "" && s.now().Before(s.expires) {
		t := s.tok
		s.mu.Unlock()
		return t, nil
	}
	f := s.inflight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.inflight = f
		s.fetches++
		// The acquisition outlives a caller that gives up: the others
		// still wait for it.
		go s.fetch(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *tokenSource) fetch(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tok, ttl, err := s.acquire(ctx)
	s.mu.Lock()
	if err == nil {
		s.tok = tok
		early := s.cc.EarlyRefresh
		if early >= ttl {
			early = ttl / 2 // a short-lived token is still reused for a while
		}
		s.expires = s.now().Add(ttl - early)
	}
	s.inflight = nil
	s.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

func (s *tokenSource) acquire(ctx context.Context) (string, time.Duration, error) {
	secret, err := s.keys.Secret(ctx, s.cc.ClientSecret)
	if err != nil {
		return "", 0, fmt.Errorf("client secret %s: %w", s.cc.ClientSecret, err)
	}
	cfg := clientcredentials.Config{ClientID: s.cc.ClientID, ClientSecret: string(secret), TokenURL: s.cc.TokenURL,
		Scopes: s.cc.Scopes, AuthStyle: oauth2.AuthStyleInHeader}
	if s.cc.SecretInBody {
		cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: tracing.Transport(s.tr),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	t, err := cfg.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			// Not re.Error(): it quotes the whole body.
			return "", 0, fmt.Errorf("token endpoint answered HTTP %d (error %q)", re.Response.StatusCode, re.ErrorCode)
		}
		return "", 0, fmt.Errorf("token endpoint: %w", cause(err))
	}
	if t.AccessToken == "" {
		return "", 0, errors.New("token endpoint returned no access_token")
	}
	// The lifetime is taken relative (expires_in) so that the injected
	// clock decides when the token is stale.
	ttl := defaultTokenLifetime
	switch x := t.Extra("expires_in").(type) {
	case float64:
		if x > 0 {
			ttl = time.Duration(x) * time.Second
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil && n > 0 {
			ttl = time.Duration(n) * time.Second
		}
	default:
		if t.ExpiresIn > 0 {
			ttl = time.Duration(t.ExpiresIn) * time.Second
		} else if !t.Expiry.IsZero() {
			ttl = time.Until(t.Expiry)
		}
	}
	return t.AccessToken, ttl, nil
}

func (s *tokenSource) invalidate() {
	s.mu.Lock()
	s.tok, s.expires = "", time.Time{}
	s.mu.Unlock()
}
