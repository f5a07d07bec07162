package ratelimit

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// windowScript decides sliding windows in one atomic step on Redis' own
// clock (TIME), so every gateway sharing the Redis sees the same windows:
// a request with several limits, and the requests of several callers that
// arrived together (coalescer), cost one round trip and one script call.
// Each window: prune, check, count, compute Retry-After.
//
// The windows come in groups, one per caller, decided one after the other.
// Per window, two keys: a sorted set (one member "<seq>:<n>" per counted
// batch, score = µs) and a hash (s = calls in the window, q = member
// sequence).
// ARGV per group: its order, "each" (decide the windows in order and stop
// after the first refusal, as separate calls in a row would) or "all"
// (count every window only when all of them fit); its number of windows;
// then per window: limit, window µs, n, mode ("take" | "peek" | "add").
// Returns per group the number of decisions, then per decision
// {allowed 0/1, remaining, retryAfter µs}.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowS = string.format('%d', now)

-- Each counter's state is read once per script call and written once at
-- its end, however many callers of the call use it: logs[z] is what the
-- call knows of sorted set z, order the sets in the order first read.
-- Calls counted by this script are all at now, so they become one member.
local logs, order = {}, {}

-- flush writes what this call changed of log s.
local function flush(s)
  if s.pending > 0 then
    s.seq = s.seq + 1
    redis.call('ZADD', s.z, nowS, string.format('%d:%d', s.seq, s.pending))
    -- The keys live for the window plus an eighth, so their TTL is
    -- refreshed only once per eighth of a window: a call counted before
    -- s.fresh still leaves the window before the keys expire.
    local refresh = now > s.fresh
    if refresh then
      s.fresh = now + math.ceil(s.win / 8)
    end
    redis.call('HSET', s.h, 's', string.format('%d', s.sum), 'q', string.format('%d', s.seq), 'x', string.format('%d', s.fresh))
    if refresh then -- after HSET: a hash created by it gets its TTL too
      local ttl = math.ceil((s.win + math.ceil(s.win / 8)) / 1000)
      redis.call('PEXPIRE', s.z, ttl)
      redis.call('PEXPIRE', s.h, ttl)
    end
  elseif s.dirty then -- pruned, nothing counted
    redis.call('HSET', s.h, 's', string.format('%d', s.sum))
  end
  s.pending, s.dirty = 0, false
end

-- load returns the state of log z (hash h) for window win: the calls in
-- the window (sum), the member sequence (seq), until when the TTL needs no
-- refresh (fresh). The first read in a call drops the calls that left the
-- window; with nothing expired it costs two reads.
local function load(z, h, win)
  local s = logs[z]
  if s ~= nil and s.win == win then
    return s
  end
  if s ~= nil then
    flush(s) -- the same counter with another window: read it again
  else
    order[#order + 1] = z
  end
  local cutoff = string.format('%d', now - win)
  local st = redis.call('HMGET', h, 's', 'q', 'x')
  s = {z = z, h = h, win = win, pending = 0, dirty = false,
    sum = tonumber(st[1] or 0), seq = tonumber(st[2] or 0), fresh = tonumber(st[3] or 0)}
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
  if #old > 0 then
    for i = 1, #old do
      s.sum = s.sum - tonumber(string.match(old[i], ':(%d+)$'))
    end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
    if s.sum <= 0 then -- every member counts at least one call: none is left
      redis.call('DEL', z, h)
      s.sum, s.seq, s.fresh = 0, 0, 0
    else
      s.dirty = true
    end
  end
  logs[z] = s
  return s
end

-- The reply, written in place (no table per decision: Lua tables are what
-- a decision costs most).
local out, no = {}, 0
local function put(allowed, rem, retry)
  out[no + 1], out[no + 2], out[no + 3] = allowed, rem, retry
  no = no + 3
end

-- refuse answers for n calls of log s that do not fit.
local function refuse(s, limit, win, n)
  local rem = limit - s.sum
  if rem < 0 then rem = 0 end
  if n > limit or limit <= 0 then
    return put(0, rem, win)
  end
  local need = s.sum + n - limit
  local freed = 0
  local i = 0
  while true do
    local batch = redis.call('ZRANGE', s.z, i, i + 63, 'WITHSCORES')
    if #batch == 0 then break end
    for j = 1, #batch, 2 do
      freed = freed + tonumber(string.match(batch[j], ':(%d+)$'))
      if freed >= need then
        return put(0, rem, tonumber(batch[j + 1]) + win - now)
      end
    end
    i = i + 64
  end
  if s.pending > 0 and freed + s.pending >= need then
    return put(0, rem, win) -- only calls counted in this script call free it
  end
  put(0, rem, 0)
end

-- decide answers one window (keys k+1, k+2; arguments from a): counted
-- when mode is add, or take and it fits; returns whether it was allowed.
local function decide(k, a, count)
  local limit, win, n, mode = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  local s = load(KEYS[k + 1], KEYS[k + 2], win)
  local fits = limit > 0 and s.sum + n <= limit
  if count and (mode == 'add' or (mode == 'take' and fits)) then
    s.sum = s.sum + n
    s.pending = s.pending + n
    put(1, limit - s.sum, 0)
    return true
  end
  if fits then
    put(1, limit - s.sum, 0)
    return true
  end
  refuse(s, limit, win, n)
  return false
end

local a, k = 1, 0
while a <= #ARGV do
  local ord, m = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local at = no + 1 -- the group's number of decisions goes here
  no = no + 1
  local decided = m
  if ord == 'all' then
    local allFit = true
    for i = 0, m - 1 do
      local limit, n = tonumber(ARGV[a + 4 * i]), tonumber(ARGV[a + 4 * i + 2])
      local s = load(KEYS[k + 2 * i + 1], KEYS[k + 2 * i + 2], tonumber(ARGV[a + 4 * i + 1]))
      if not (limit > 0 and s.sum + n <= limit) then allFit = false end
    end
    for i = 0, m - 1 do
      decide(k + 2 * i, a + 4 * i, allFit)
    end
  else
    for i = 0, m - 1 do
      if not decide(k + 2 * i, a + 4 * i, true) then
        decided = i + 1
        break
      end
    end
  end
  out[at] = decided
  a = a + 4 * m
  k = k + 2 * m
end
for _, z in ipairs(order) do
  flush(logs[z])
end
return out
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
	batch  *coalescer[windowGroup, []Decision]
}

// NewRedis returns a limiter storing its keys under prefix in client.
// The caller owns client: Close does not close it (the cache may share it).
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	r := &Redis{c: client, prefix: prefix}
	r.batch = newCoalescer(maxGroupsPerCall, r.runWindows)
	return r
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
	d, err := r.windows(ctx, "each", []Check{{Key: key, Limit: limit, Window: window, N: n}}, mode)
	if err != nil {
		return Decision{}, err
	}
	return d[0], nil
}

// windowGroup is one caller's windows for windowScript.
type windowGroup struct {
	order  string // "each" | "all"
	mode   string // of every window: "take" | "peek" | "add"
	checks []Check
}

// windows decides one caller's checks, every one in mode, in a script call
// it may share with concurrent callers.
func (r *Redis) windows(ctx context.Context, order string, checks []Check, mode string) ([]Decision, error) {
	for _, c := range checks {
		if err := checkWindow(c.Window); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err // the caller is gone: nothing is sent
	}
	ds, err := r.batch.do(ctx, windowGroup{order, mode, checks})
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis %s %q: %w", mode, checks[0].Key, err)
	}
	return ds, nil
}

// runWindows is one windowScript call for groups.
func (r *Redis) runWindows(ctx context.Context, groups []windowGroup) ([][]Decision, error) {
	var keys []string
	var args []any
	for _, g := range groups {
		args = append(args, g.order, len(g.checks))
		for _, c := range g.checks {
			keys = append(keys, r.windowKeys(c.Key)...)
			m, n := g.mode, c.N
			if m == "take" && n <= 0 {
				m, n = "peek", 1 // as Take does
			}
			args = append(args, c.Limit, c.Window.Microseconds(), n, m)
		}
	}
	v, err := windowScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, err
	}
	out := make([][]Decision, len(groups))
	for i, g := range groups {
		if len(v) == 0 || v[0] < 1 || v[0] > int64(len(g.checks)) || int64(len(v)) < 1+3*v[0] {
			return nil, fmt.Errorf("unexpected reply %v", v)
		}
		ds := make([]Decision, v[0])
		for j := range ds {
			x := v[1+3*j:]
			ds[j] = Decision{Allowed: x[0] == 1, Remaining: x[1], RetryAfter: time.Duration(x[2]) * time.Microsecond}
		}
		out[i], v = ds, v[1+3*len(ds):]
	}
	return out, nil
}

// TakeEach implements Batcher: one script call.
func (r *Redis) TakeEach(ctx context.Context, checks []Check) ([]Decision, error) {
	return r.windows(ctx, "each", checks, "take")
}

// TakeAll implements Batcher: one script call.
func (r *Redis) TakeAll(ctx context.Context, checks []Check) ([]Decision, error) {
	return r.windows(ctx, "all", checks, "take")
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
