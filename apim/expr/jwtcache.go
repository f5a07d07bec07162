package expr

import "sync"

// jwtCache remembers AsJwt results by token text. Policies such as seed
// 004's `rate-limit-by-key counter-key="@(...AsJwt()?.Subject)"` parse the
// caller's token on every request, and callers reuse one token for up to an
// hour; decoding it again costs ~5 µs and ~100 allocations, a lookup ~50 ns.
// A *Jwt is never modified after parsing (expressions only read it), so one
// value can be shared by every request that carries the same token.
var jwtCache = newTokenCache(4096)

// tokenCache is a bounded map that forgets everything when full: tokens
// expire within hours, so a rare full reset costs less than LRU bookkeeping
// on every hit.
type tokenCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]*Jwt
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[string]*Jwt, max)}
}

func (c *tokenCache) get(raw string) (*Jwt, bool) {
	c.mu.RLock()
	j, ok := c.m[raw]
	c.mu.RUnlock()
	return j, ok
}

func (c *tokenCache) put(raw string, j *Jwt) {
	// Only well-formed tokens are worth keeping; junk would just evict them.
	if j == nil || len(raw) > 16<<10 {
		return
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[raw] = j
	c.mu.Unlock()
}
