package keys

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// DefaultTTL is how long a CachedResolver keeps a container's keys before
// reading the store again: a key added or deleted by another process (the
// CLI) takes effect within it. The choice of the active key is made on
// every call with the current time, so a key whose activation date or
// expiry passes takes over or stops at once.
const DefaultTTL = 30 * time.Second

// CachedResolver is the Resolver of a Manager.
type CachedResolver struct {
	m   *Manager
	ttl time.Duration

	mu    sync.Mutex
	cache map[string]*cached
}

var _ Resolver = (*CachedResolver)(nil)

type cached struct {
	rows     []*store.PolicyKey
	loadedAt time.Time
	certs    map[string]*tls.Certificate // by kid, decoded on first use
}

// Resolver returns a Resolver over the Manager's store with a cache of ttl
// (DefaultTTL when <= 0).
func (m *Manager) Resolver(ttl time.Duration) *CachedResolver {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &CachedResolver{m: m, ttl: ttl, cache: map[string]*cached{}}
}

// Invalidate drops the cached keys of a container ("" drops all).
func (r *CachedResolver) Invalidate(container string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if container == "" {
		clear(r.cache)
		return
	}
	delete(r.cache, lookupName(container))
}

// active returns the container's active row at now and its cache entry.
func (r *CachedResolver) active(ctx context.Context, container, what string) (*store.PolicyKey, *cached, error) {
	name := lookupName(container)
	now := r.m.now()
	r.mu.Lock()
	e := r.cache[name]
	r.mu.Unlock()
	if e == nil || now.Sub(e.loadedAt) >= r.ttl || now.Before(e.loadedAt) {
		rows, err := r.m.st.List(ctx, name)
		if err != nil {
			return nil, nil, fmt.Errorf("keys: reading %s: %w", name, err)
		}
		e = &cached{rows: rows, loadedAt: now, certs: map[string]*tls.Certificate{}}
		r.mu.Lock()
		r.cache[name] = e
		r.mu.Unlock()
	}
	row, err := activeRow(name, e.rows, now, what)
	return row, e, err
}

// Secret is the active secret of a Manual or generated oct container. A
// fresh copy is returned on every call.
func (r *CachedResolver) Secret(ctx context.Context, container string) ([]byte, error) {
	row, _, err := r.active(ctx, container, "secret")
	if err != nil {
		return nil, err
	}
	if row.Type != "oct" {
		return nil, fmt.Errorf("%w: %s holds %s keys, not secrets", ErrKeyType, row.Container, row.Type)
	}
	return r.m.open(row)
}

// Certificate is the active certificate and private key of an Upload
// container.
func (r *CachedResolver) Certificate(ctx context.Context, container string) (*tls.Certificate, error) {
	row, e, err := r.active(ctx, container, "certificate")
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	c := e.certs[row.KID]
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	chain, err := parseChain(row.Public)
	if err != nil || len(chain) == 0 {
		return nil, fmt.Errorf("%w: %s holds %s keys without a certificate", ErrKeyType, row.Container, row.Type)
	}
	der, err := r.m.open(row)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("keys: %s/%s: %w", row.Container, row.KID, err)
	}
	c = &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	r.mu.Lock()
	e.certs[row.KID] = c
	r.mu.Unlock()
	return c, nil
}
