package apim

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/redis/go-redis/v9"
)

// commandCounter counts the commands a Redis client sends (pipelines
// count each command), so a test can see the round trips a request costs.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// Seed 004's two rate-limit-by-key policies in a row cost one Redis script
// call per request, and decide exactly as two separate policies would: the
// per-subject limit refuses the third request, which the per-IP counter
// has counted, as it would have one policy after the other.
func TestRateLimitByKeyRunIsOneRedisCall(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	c := testutil.Redis(t)
	counter := &commandCounter{}
	c.AddHook(counter)
	lim := ratelimit.NewRedis(c, testutil.RedisPrefix(t, c))
	h.env.Limiter = lim
	p := acLoad(t, ScopeGlobal, acDoc(`
		<rate-limit-by-key calls="300" renewal-period="120" counter-key="@(context.Request.IpAddress)" remaining-calls-header-name="X-Ip-Left" />
		<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)" remaining-calls-header-name="X-Sub-Left" />`))
	acExpect(t, h.do(p, acReq{ip: "192.0.2.10"}), 200, "") // loads the script (EVALSHA, then EVAL once)
	before := counter.n.Load()
	w := h.do(p, acReq{ip: "192.0.2.10"})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Ip-Left", "298")
	acHeader(t, w, "X-Sub-Left", "0")
	if n := counter.n.Load() - before; n != 1 {
		t.Fatalf("a request through two rate-limit-by-key policies sent %d Redis commands, want 1", n)
	}
	var last *expr.LastError
	w = h.do(p, acReq{ip: "192.0.2.10", check: func(c *expr.Context) { last = c.LastError }})
	acExpect(t, w, 429, "")
	acHeader(t, w, "X-Reason", "RateLimitExceeded")
	if last == nil || last.Source != "rate-limit-by-key" || last.Path == "" {
		t.Fatalf("LastError %+v", last)
	}
	// The refusal came from the second policy: the first had counted the call.
	if d, _ := lim.Peek(context.Background(), "rlk:192.0.2.10", 300, 120e9); d.Remaining != 297 {
		t.Fatalf("per-IP counter after the refused call: %d left, want 297", d.Remaining)
	}
	if n := h.hits.Load(); n != 2 {
		t.Fatalf("backend hits %d, want 2", n)
	}
}

// A run ends after a policy that sets a variable (the next one's key may
// read it), and a follower whose key fails reports its own error.
func TestRateLimitByKeyRunBoundaries(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	d, err := ParseDocument("test.xml", []byte(acDoc(`
		<rate-limit-by-key calls="5" renewal-period="60" counter-key="a" remaining-calls-variable-name="left" />
		<rate-limit-by-key calls="5" renewal-period="60" counter-key="@("b" + context.Variables.GetValueOrDefault<int>("left"))" />
		<rate-limit-by-key calls="5" renewal-period="60" counter-key="@(context.Request.Headers["X-Missing"][0])" />`)), ScopeGlobal, &LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(d)
	var links []int
	for _, s := range *d.sections[Inbound] {
		links = append(links, len(s.(*step).p.(*rateLimitByKeyPolicy).followers))
	}
	if len(links) != 3 || links[0] != 0 || links[1] != 1 || links[2] != 0 {
		t.Fatalf("followers per policy %v, want [0 1 0]", links)
	}
	var last *expr.LastError
	w := h.do(p, acReq{check: func(c *expr.Context) { last = c.LastError }})
	acExpect(t, w, 500, "")
	if last == nil || last.Path == "" || last.Reason == "RateLimitExceeded" {
		t.Fatalf("LastError %+v", last)
	}
	// "b4" was counted with the variable the first policy set.
	if d, _ := h.env.Limiter.Peek(context.Background(), "rlk:b4", 5, 60e9); d.Remaining != 4 {
		t.Fatalf("rlk:b4: %+v", d)
	}
}
