package gateway

// Temporary: internal/cache has no constructors yet. Replace with
// cache.NewMemory / cache.NewRedis once they land.

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/internal/cache"
)

type memEntry struct {
	v   []byte
	exp time.Time
}

type memCache struct {
	mu sync.Mutex
	m  map[string]memEntry
}

func newMemoryCache() cache.Store { return &memCache{m: map[string]memEntry{}} }

func (c *memCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || (!e.exp.IsZero() && time.Now().After(e.exp)) {
		return nil, false, nil
	}
	return e.v, true, nil
}

func (c *memCache) Set(_ context.Context, key string, v []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := memEntry{v: v}
	if ttl > 0 {
		e.exp = time.Now().Add(ttl)
	}
	c.m[key] = e
	return nil
}

func (c *memCache) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

type redisCache struct {
	c      *redis.Client
	prefix string
}

func newRedisCache(c *redis.Client, prefix string) cache.Store { return &redisCache{c, prefix} }

func (r *redisCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (r *redisCache) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return r.c.Set(ctx, r.prefix+key, v, ttl).Err()
}

func (r *redisCache) Delete(ctx context.Context, key string) error {
	return r.c.Del(ctx, r.prefix+key).Err()
}
