package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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

// stores are the counter and cache stores of a configuration. A reload
// keeps them when the redis settings are unchanged, so rate-limit and quota
// counters (and the memory cache) survive it.
type stores struct {
	redisURL    string
	failureMode string
	client      *redis.Client // nil without Redis
	limiter     ratelimit.Limiter
	cache       cache.Store
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
	if cfg.Redis == "" {
		var opts []ratelimit.MemoryOption
		if now != nil {
			opts = append(opts, ratelimit.WithClock(now))
		}
		s.limiter = ratelimit.NewMemory(opts...)
		s.cache = newMemoryCache()
		return s, nil
	}
	ro, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return nil, fmt.Errorf("gateway.redis is not a valid Redis URL")
	}
	s.client = redis.NewClient(ro)
	s.limiter = ratelimit.WithFailurePolicy(ratelimit.NewRedis(s.client, redisLimitPrefix),
		s.failureMode == "open", log)
	s.cache = newRedisCache(s.client, redisCachePrefix)
	return s, nil
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
