package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store in Redis (shared by every gateway), keys under a prefix,
// expiry by Redis (PX, millisecond resolution; a ttl below 1ms counts as
// 1ms). The caller owns the client.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a Store keeping its values under prefix in client.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: client, prefix: prefix}
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: redis get %q: %w", key, err)
	}
	return v, true, nil
}

// Set implements Store; ttl <= 0 deletes key instead.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return r.Delete(ctx, key)
	}
	ttl = max(ttl, time.Millisecond)
	if err := r.c.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("cache: redis set %q: %w", key, err)
	}
	return nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("cache: redis delete %q: %w", key, err)
	}
	return nil
}
