// Package cache is the store behind cache-lookup-value / cache-store-value:
// in memory, or in Redis when the gateway has one (APIM's "external" cache).
package cache

import (
	"context"
	"time"
)

// Store keeps byte values with a time to live.
type Store interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}
