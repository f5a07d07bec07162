package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Key prefixes of the gateway's state in a shared Redis.
const (
	redisLimitPrefix = "gatehouse:gw:rl:"
	redisCachePrefix = "gatehouse:gw:cache:"
)

// memoryCacheEntries and memoryCacheBytes bound the in-process cache
// (cache-store-value, cache-store): callers choose keys and, through the
// query strings that vary a response cache, how many there are.
const (
	memoryCacheEntries = 100_000
	memoryCacheBytes   = 256 << 20
)

// stores are the counter and cache stores of a configuration. A reload
// keeps them when the redis settings are unchanged, so rate-limit and quota
// counters (and the memory cache) survive it.
type stores struct {
	redisURL    string
	failureMode string
	client      *redis.Client // nil without Redis
	limiter     ratelimit.Limiter
	cache       cache.Store  // Redis when configured, else local
	local       cache.Store  // this process's memory (caching-type internal)
	users       atomic.Int64 // states holding these stores
}

// hold records one more state using s.
func (s *stores) hold() *stores {
	s.users.Add(1)
	return s
}

// drop releases one state's hold; the last one closes the stores.
func (s *stores) drop() {
	if s.users.Add(-1) == 0 {
		s.close()
	}
}

func (s *stores) sameSettings(cfg *config.Gateway) bool {
	return s.redisURL == cfg.Redis && (cfg.Redis == "" || s.failureMode == failureMode(cfg))
}

func failureMode(cfg *config.Gateway) string {
	if cfg.RedisFailureMode == "" {
		return "open"
	}
	return cfg.RedisFailureMode
}

func newStores(cfg *config.Gateway, now func() time.Time, log *slog.Logger) (*stores, error) {
	s := &stores{redisURL: cfg.Redis, failureMode: failureMode(cfg)}
	s.users.Store(1)
	copts := []cache.Option{cache.WithMaxBytes(memoryCacheBytes)}
	if now != nil {
		copts = append(copts, cache.WithClock(now))
	}
	s.local = cache.NewMemory(memoryCacheEntries, copts...)
	if cfg.Redis == "" {
		var lopts []ratelimit.MemoryOption
		if now != nil {
			lopts = append(lopts, ratelimit.WithClock(now))
		}
		s.limiter = ratelimit.NewMemory(lopts...)
		s.cache = s.local
		return s, nil
	}
	ro, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return nil, fmt.Errorf("gateway.redis is not a valid Redis URL")
	}
	// Rate limits sit on the request path: while Redis is down a request
	// must learn it in milliseconds, not after go-redis's default dial
	// retries (about half a second), and the failure policy answers from
	// then on without asking Redis until the next probe.
	if !hasURLParam(cfg.Redis, "dial_timeout") {
		ro.DialTimeout = 250 * time.Millisecond
	}
	ro.DialerRetries = 1
	ro.MaxRetries = 1
	s.client = redis.NewClient(ro)
	s.limiter = ratelimit.WithFailurePolicy(ratelimit.NewRedis(s.client, redisLimitPrefix),
		s.failureMode == "open", log, ratelimit.ProbeInterval(time.Second))
	s.cache = cache.NewRedis(s.client, redisCachePrefix)
	return s, nil
}

// hasURLParam reports whether the Redis URL sets a query option itself.
func hasURLParam(rawURL, name string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Query().Has(name)
}

// ping checks the backing store (Redis) within ctx; nil without Redis.
func (s *stores) ping(ctx context.Context) error {
	if s.client == nil {
		return nil
	}
	return s.client.Ping(ctx).Err()
}

func (s *stores) close() {
	_ = s.limiter.Close()
	if c, ok := s.cache.(io.Closer); ok {
		_ = c.Close()
	}
	if s.client != nil {
		_ = s.client.Close()
	}
}
