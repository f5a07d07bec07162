package cache

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/redis/go-redis/v9"
)

func deadClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: testutil.ClosedAddr(t), DialTimeout: 200 * time.Millisecond,
		MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { c.Close() })
	return c
}
