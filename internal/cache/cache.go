// Package cache is the store behind cache-lookup-value / cache-store-value:
// in memory, or in Redis when the gateway has one (APIM's "external" cache).
//
// Set with ttl <= 0 stores nothing and removes any value the key had
// (cache-store-value requires a positive duration; a later lookup must not
// see a stale value). Values are copied: callers may reuse their slices.
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
