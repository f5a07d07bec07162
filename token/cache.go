package token

import (
	"sync"
	"time"
)

// verifiedCache remembers successfully validated signed tokens with an exp.
//
// It is keyed by the raw token text itself rather than a SHA-256 of it:
// hashing an 800-byte token costs ~600 ns on the reference box, twice the
// cached-validation budget, while a Go map lookup with an exact string
// compare costs ~10 ns and has no collision risk at all. Memory is bounded
// by entry count and total bytes (tokens are at most MaxTokenSize).
type verifiedCache struct {
	mu         sync.RWMutex
	m          map[string]*verifiedEntry
	bytes      int
	maxEntries int
	maxBytes   int
}

type verifiedEntry struct {
	tok    *Token
	nbf    time.Time
	hasNbf bool
}

func newVerifiedCache(maxEntries, maxBytes int) *verifiedCache {
	return &verifiedCache{m: make(map[string]*verifiedEntry), maxEntries: maxEntries, maxBytes: maxBytes}
}

func (c *verifiedCache) get(raw string) *verifiedEntry {
	c.mu.RLock()
	e := c.m[raw]
	c.mu.RUnlock()
	return e
}

// put stores e. cutoff is now minus the clock skew: entries whose exp is
// not after it can never be served again and are dropped first when the
// cache is full.
func (c *verifiedCache) put(e *verifiedEntry, cutoff time.Time) {
	raw := e.tok.Raw
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[raw]; ok {
		return
	}
	if len(c.m) >= c.maxEntries || c.bytes+len(raw) > c.maxBytes {
		c.evict(cutoff)
	}
	if len(c.m) >= c.maxEntries || c.bytes+len(raw) > c.maxBytes {
		return
	}
	c.m[raw] = e
	c.bytes += len(raw)
}

// evict drops the entries expired at cutoff and, if that frees less than an
// eighth, about an eighth of all entries (map order is random).
func (c *verifiedCache) evict(cutoff time.Time) {
	for k, v := range c.m {
		if !v.tok.Expiry.After(cutoff) {
			delete(c.m, k)
			c.bytes -= len(k)
		}
	}
	if len(c.m) < c.maxEntries*7/8 && c.bytes < c.maxBytes*7/8 {
		return
	}
	drop := len(c.m)/8 + 1
	for k := range c.m {
		if drop == 0 {
			break
		}
		delete(c.m, k)
		c.bytes -= len(k)
		drop--
	}
}

func (c *verifiedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
