package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of discovery fetches.
const (
	// MaxDocumentSize bounds the openid configuration and JWKS responses.
	MaxDocumentSize = 1 << 20
	// FetchTimeout bounds one retrieval (configuration plus JWKS).
	FetchTimeout = 10 * time.Second
	// DefaultRefreshInterval is how often metadata is re-pulled.
	DefaultRefreshInterval = time.Hour
	// DefaultMinRefetchInterval is the minimum time between two retrievals
	// of one URL (unknown kid, failed retrieval, refresh).
	DefaultMinRefetchInterval = 5 * time.Minute
)

// Discovery fetches and caches OpenID configuration documents and their key
// sets, one entry per URL, shared by every rule set in the process.
// Metadata is refreshed hourly; an unknown kid triggers a refetch that is
// coalesced across callers and happens at most once per 5 minutes per URL;
// cached keys keep working while the URL is down.
//
// Retrieval rules per URL, with t the Discovery clock:
//   - first use: fetch, callers wait (bounded by their ctx);
//   - nothing cached and the last retrieval failed: refetch (callers wait)
//     at most once per MinRefetchInterval;
//   - cached keys older than RefreshInterval, or the last retrieval failed:
//     refetch in the background at most once per MinRefetchInterval; callers
//     keep using the cached keys;
//   - a kid missing from every cached set: refetch (callers wait) at most
//     once per MinRefetchInterval.
//
// Concurrent callers share one retrieval. A failed retrieval logs one Warn
// line and keeps the cached keys. A response that yields no usable signing
// key counts as a failure.
//
// The exported fields may be set after NewDiscovery and before first use.
type Discovery struct {
	// Now is the clock for refresh and throttling (nil: time.Now). Tests
	// use it to step over the 5-minute and 1-hour rules without sleeping.
	Now func() time.Time
	// RefreshInterval is the metadata lifetime (0: DefaultRefreshInterval).
	RefreshInterval time.Duration
	// MinRefetchInterval is the retrieval throttle per URL
	// (0: DefaultMinRefetchInterval).
	MinRefetchInterval time.Duration

	client  *http.Client
	log     *slog.Logger
	mu      sync.Mutex
	entries map[string]*entry
}

// NewDiscovery returns a cache that fetches with client (nil: a client with
// sane timeouts). log receives one Warn line per failed retrieval (nil:
// slog.Default()).
func NewDiscovery(client *http.Client, log *slog.Logger) *Discovery {
	if client == nil {
		client = &http.Client{Timeout: FetchTimeout}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Discovery{client: client, log: log, entries: map[string]*entry{}}
}

func (d *Discovery) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Discovery) refreshInterval() time.Duration {
	if d.RefreshInterval > 0 {
		return d.RefreshInterval
	}
	return DefaultRefreshInterval
}

func (d *Discovery) minRefetch() time.Duration {
	if d.MinRefetchInterval > 0 {
		return d.MinRefetchInterval
	}
	return DefaultMinRefetchInterval
}

func (d *Discovery) entry(u string) *entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.entries[u]
	if e == nil {
		e = &entry{d: d, url: u}
		d.entries[u] = e
	}
	return e
}

// state is the immutable outcome of the latest retrieval of one URL.
type state struct {
	keys      *keySet   // last good key set; nil if none ever
	fetchedAt time.Time // when keys were retrieved (Discovery clock)
	err       error     // error of the latest attempt; nil if it succeeded
}

type entry struct {
	d   *Discovery
	url string
	st  atomic.Pointer[state]
	// next is the earliest Discovery-clock time (UnixNano) of the next
	// retrieval; 0 before the first.
	next atomic.Int64

	mu     sync.Mutex
	flight chan struct{} // closed when the running retrieval ends; nil if none
}

// current returns the state to validate with, starting retrievals as the
// rules say. It may return nil when the first retrieval is not done when
// ctx ends.
func (e *entry) current(ctx context.Context) *state {
	st := e.st.Load()
	if st == nil || st.keys == nil {
		return e.fetch(ctx, true)
	}
	if st.err != nil || e.d.now().Sub(st.fetchedAt) >= e.d.refreshInterval() {
		e.fetch(ctx, false)
	}
	return st
}

// refetch retrieves again if the throttle allows (joining a running
// retrieval) and returns the resulting state.
func (e *entry) refetch(ctx context.Context) *state { return e.fetch(ctx, true) }

func (e *entry) fetch(ctx context.Context, wait bool) *state {
	now := e.d.now()
	if !wait && now.UnixNano() < e.next.Load() {
		return e.st.Load()
	}
	e.mu.Lock()
	f := e.flight
	if f == nil {
		if n := e.next.Load(); n != 0 && now.UnixNano() < n {
			e.mu.Unlock()
			return e.st.Load()
		}
		e.next.Store(now.Add(e.d.minRefetch()).UnixNano())
		f = make(chan struct{})
		e.flight = f
		go e.run(f, now)
	}
	e.mu.Unlock()
	if wait {
		select {
		case <-f:
		case <-ctx.Done():
		}
	}
	return e.st.Load()
}

func (e *entry) run(done chan struct{}, started time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), FetchTimeout)
	ks, err := e.d.load(ctx, e.url)
	cancel()
	old := e.st.Load()
	ns := &state{keys: ks, fetchedAt: started}
	if err != nil {
		ns = &state{err: err}
		cached := 0
		if old != nil && old.keys != nil {
			ns.keys, ns.fetchedAt = old.keys, old.fetchedAt
			cached = len(old.keys.keys)
		}
		e.d.log.Warn("token: openid configuration retrieval failed", "url", e.url, "err", err, "cached_keys", cached)
	}
	e.st.Store(ns)
	e.mu.Lock()
	e.flight = nil
	e.mu.Unlock()
	close(done)
}

// load retrieves the openid configuration at u and its JWKS.
func (d *Discovery) load(ctx context.Context, u string) (ks *keySet, err error) {
	defer func() {
		if r := recover(); r != nil {
			ks, err = nil, fmt.Errorf("panic while loading metadata: %v", r)
		}
	}()
	if jwks, ok := strings.CutPrefix(u, jwksOnly); ok {
		return d.loadJWKS(ctx, jwks, "")
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := d.getJSON(ctx, u, &doc); err != nil {
		return nil, fmt.Errorf("openid configuration: %w", err)
	}
	if doc.Issuer == "" {
		return nil, errors.New("openid configuration has no issuer")
	}
	if doc.JWKSURI == "" {
		return nil, errors.New("openid configuration has no jwks_uri")
	}
	return d.loadJWKS(ctx, doc.JWKSURI, doc.Issuer)
}

// jwksOnly marks an entry that is a JWKS URL itself (Rules.JWKSURLs), not
// an openid configuration.
const jwksOnly = "jwks:"

// loadJWKS retrieves a key set; issuer is the openid configuration's ("" for
// a JWKS named directly: Rules.Issuers then says who may issue).
func (d *Discovery) loadJWKS(ctx context.Context, jwksURI, issuer string) (ks *keySet, err error) {
	if err := checkFetchURL(jwksURI); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := d.getJSON(ctx, jwksURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	ks = &keySet{issuer: issuer}
	skipped := 0
	for _, rk := range set.Keys {
		var j jose.JSONWebKey
		if err := j.UnmarshalJSON(rk); err != nil {
			skipped++
			continue
		}
		k, err := jwkToKey(&j)
		if err != nil {
			skipped++
			continue
		}
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return nil, fmt.Errorf("jwks has no usable signing key (%d skipped)", skipped)
	}
	return ks, nil
}

func (d *Discovery) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxDocumentSize))
		return fmt.Errorf("unexpected status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		return err
	}
	if len(b) > MaxDocumentSize {
		return fmt.Errorf("response larger than %d bytes", MaxDocumentSize)
	}
	return json.Unmarshal(b, v)
}

func checkFetchURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}
