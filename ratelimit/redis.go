package ratelimit

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// windowScript is the whole sliding-window decision: prune, check, count,
// compute Retry-After, in one atomic step on Redis' own clock (TIME), so
// every gateway sharing the Redis sees the same window.
//
// KEYS[1] sorted set: one member "<seq>:<n>" per counted batch, score = µs.
// KEYS[2] hash: s = calls in the window, q = member sequence.
// ARGV: limit, window µs, n, mode ("take" | "peek" | "add").
// Returns {allowed 0/1, remaining, retryAfter µs}.
var windowScript = redis.NewScript(`
local z, h = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local mode = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cutoff = string.format('%d', now - win)
local sum = tonumber(redis.call('HGET', h, 's') or 0)
local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
if #old > 0 then
  for i = 1, #old do
    sum = sum - tonumber(string.match(old[i], ':(%d+)$'))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
  if redis.call('ZCARD', z) == 0 then
    redis.call('DEL', z, h)
    sum = 0
  else
    redis.call('HSET', h, 's', string.format('%d', sum))
  end
end
local fits = limit > 0 and sum + n <= limit
if mode == 'add' or (mode == 'take' and fits) then
  local seq = redis.call('HINCRBY', h, 'q', 1)
  redis.call('ZADD', z, string.format('%d', now), string.format('%d:%d', seq, n))
  sum = redis.call('HINCRBY', h, 's', n)
  local ttl = math.ceil(win / 1000)
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', h, ttl)
  return {1, limit - sum, 0}
end
if fits then
  return {1, limit - sum, 0}
end
local rem = limit - sum
if rem < 0 then rem = 0 end
if n > limit or limit <= 0 then
  return {0, rem, win}
end
local need = sum + n - limit
local freed = 0
local i = 0
while true do
  local batch = redis.call('ZRANGE', z, i, i + 63, 'WITHSCORES')
  if #batch == 0 then break end
  for j = 1, #batch, 2 do
    freed = freed + tonumber(string.match(batch[j], ':(%d+)$'))
    if freed >= need then
      return {0, rem, tonumber(batch[j + 1]) + win - now}
    end
  end
  i = i + 64
end
return {0, rem, 0}
`)

// quotaScript is the whole fixed-window quota decision.
//
// KEYS[1] hash: p = current period start (µs), l = period length, c = calls,
// b = bytes.
// ARGV: calls limit, bytes limit, period µs (0 = never renews), a period
// start µs (any period boundary), add calls, add bytes.
// Returns {allowed, calls used, bytes used, renewal µs (-1 never), bandwidth}.
var quotaScript = redis.NewScript(`
local k = KEYS[1]
local calls = tonumber(ARGV[1])
local blim = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local ac = tonumber(ARGV[5])
local ab = tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cur, pend = 0, -1
if period > 0 then
  cur = start + math.floor((now - start) / period) * period
  pend = cur + period
end
local curs = string.format('%d', cur)
local st = redis.call('HMGET', k, 'p', 'l', 'c', 'b')
local uc, ub = 0, 0
if st[1] == curs and st[2] == ARGV[3] then
  uc = tonumber(st[3]) or 0
  ub = tonumber(st[4]) or 0
end
local function over(u, a, l)
  return l > 0 and (u + a > l or (a == 0 and u >= l))
end
local cx = over(uc, ac, calls)
local bx = over(ub, ab, blim)
local allowed = 0
if not cx and not bx then
  allowed = 1
  if ac > 0 or ab > 0 then
    uc = uc + ac
    ub = ub + ab
    redis.call('HSET', k, 'p', curs, 'l', ARGV[3], 'c', string.format('%d', uc), 'b', string.format('%d', ub))
    if pend >= 0 then
      local ttl = math.ceil((pend - now) / 1000)
      if ttl < 1 then ttl = 1 end
      redis.call('PEXPIRE', k, ttl)
    else
      redis.call('PERSIST', k)
    end
  end
end
local renewal = -1
if pend >= 0 then renewal = pend - now end
local bw = 0
if bx and not cx then bw = 1 end
return {allowed, uc, ub, renewal, bw}
`)

// Redis is the Limiter shared by several gateway processes: every decision
// is one Lua script (EVALSHA, falling back to EVAL on NOSCRIPT) that reads
// Redis' own clock, so all gateways agree exactly. Rate-limit keys are a
// sorted-set log plus a small hash, both with TTL = window; quota keys are
// a hash with TTL = end of the period (no TTL when the quota never renews).
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a limiter storing its keys under prefix in client.
// The caller owns client: Close does not close it (the cache may share it).
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: client, prefix: prefix}
}

// Ping checks that Redis answers (for readyz and tests).
func (r *Redis) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// Close implements Limiter; it does not close the client.
func (r *Redis) Close() error { return nil }

// windowKeys returns the two keys of a rate-limit key; a hash tag derived
// from key keeps them in one Redis Cluster slot whatever key contains.
func (r *Redis) windowKeys(key string) []string {
	h := fnv.New64a()
	h.Write([]byte(key))
	tag := "{" + strconv.FormatUint(h.Sum64(), 16) + "}"
	return []string{r.prefix + "rl:" + tag + ":z:" + key, r.prefix + "rl:" + tag + ":h:" + key}
}

func (r *Redis) window(ctx context.Context, key string, limit int64, window time.Duration, n int64, mode string) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	v, err := windowScript.Run(ctx, r.c, r.windowKeys(key), limit, window.Microseconds(), n, mode).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis %s %q: %w", mode, key, err)
	}
	if len(v) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis %s %q: unexpected reply %v", mode, key, v)
	}
	return Decision{Allowed: v[0] == 1, Remaining: v[1], RetryAfter: time.Duration(v[2]) * time.Microsecond}, nil
}

// Take implements Limiter.
func (r *Redis) Take(ctx context.Context, key string, limit int64, window time.Duration, n int64) (Decision, error) {
	if n <= 0 {
		return r.window(ctx, key, limit, window, 1, "peek")
	}
	return r.window(ctx, key, limit, window, n, "take")
}

// Peek implements Limiter.
func (r *Redis) Peek(ctx context.Context, key string, limit int64, window time.Duration) (Decision, error) {
	return r.window(ctx, key, limit, window, 1, "peek")
}

// Add implements Limiter.
func (r *Redis) Add(ctx context.Context, key string, window time.Duration, n int64) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	_, err := r.window(ctx, key, 0, window, n, "add")
	return err
}

// Quota implements Limiter.
func (r *Redis) Quota(ctx context.Context, key string, calls, kbytes int64, period time.Duration, start time.Time, addCalls, addBytes int64) (QuotaDecision, error) {
	if period < 0 {
		return QuotaDecision{}, ErrInvalidWindow
	}
	calls, addCalls, addBytes = max(calls, 0), max(addCalls, 0), max(addBytes, 0)
	byteLimit := max(kbytes, 0) * 1024
	periodUS := period.Microseconds()
	// Move start by whole periods next to now so the script's float
	// arithmetic stays exact (start may be 0001-01-01). The script
	// recomputes the period from Redis' clock.
	var startUS int64
	if periodUS > 0 {
		startUS, _ = quotaPeriod(time.Now().UnixMicro(), start.UnixMicro(), periodUS)
	}
	v, err := quotaScript.Run(ctx, r.c, []string{r.prefix + "q:" + key},
		calls, byteLimit, periodUS, startUS, addCalls, addBytes).Int64Slice()
	if err != nil {
		return QuotaDecision{}, fmt.Errorf("ratelimit: redis quota %q: %w", key, err)
	}
	if len(v) != 5 {
		return QuotaDecision{}, fmt.Errorf("ratelimit: redis quota %q: unexpected reply %v", key, v)
	}
	d := QuotaDecision{
		Allowed:        v[0] == 1,
		CallsRemaining: remainingQuota(v[1], calls),
		BytesRemaining: remainingQuota(v[2], byteLimit),
		Bandwidth:      v[4] == 1,
	}
	if v[3] > 0 {
		d.Renewal = time.Duration(v[3]) * time.Microsecond
	}
	return d, nil
}
