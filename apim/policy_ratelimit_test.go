package apim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/ratelimit"
)

func TestRateLimitUnitHelpers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {59500 * time.Millisecond, 60}} {
		if got := rlCeilSeconds(c.d); got != c.want {
			t.Errorf("rlCeilSeconds(%v) = %d, want %d", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		id, name, ctxID, ctxName string
		want                     bool
	}{
		{"echo-api", "", "echo-api", "Echo API", true},
		{"echo-api", "", "/apis/echo-api", "Echo API", true},
		{"echo-api", "", "my-echo-api", "Echo API", false},
		{"", "Echo API", "echo-api", "Echo API", true},
		{"other", "Echo API", "echo-api", "Echo API", false}, // id wins over name
	} {
		if got := rlMatchNameID(c.id, c.name, c.ctxID, c.ctxName); got != c.want {
			t.Errorf("rlMatchNameID(%q,%q,%q,%q) = %v", c.id, c.name, c.ctxID, c.ctxName, got)
		}
	}
}

func TestRateLimitByKeyWindow(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)"
			remaining-calls-header-name="X-Remaining" total-calls-header-name="X-Total"
			remaining-calls-variable-name="left" retry-after-variable-name="wait" />`))
	for i, want := range []string{"2", "1", "0"} {
		w := h.do(p, acReq{})
		acExpect(t, w, 200, `{"ok":true}`)
		acHeader(t, w, "X-Remaining", want)
		acHeader(t, w, "X-Total", "3")
		h.advance(10 * time.Second)
		_ = i
	}
	// Calls at t=0,10,20; now t=30: the first leaves the window at t=60.
	var vars expr.Variables
	w := h.do(p, acReq{check: func(c *expr.Context) { vars = c.Variables }})
	acExpect(t, w, 429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 30 seconds."}`)
	acHeader(t, w, "Retry-After", "30")
	acHeader(t, w, "X-Reason", "RateLimitExceeded")
	if vars["wait"] != int32(30) || vars["left"] != int32(0) {
		t.Fatalf("variables wait=%#v left=%#v", vars["wait"], vars["left"])
	}
	// Another caller has its own counter.
	acExpect(t, h.do(p, acReq{ip: "192.0.2.2"}), 200, "")
	h.advance(30 * time.Second)
	w = h.do(p, acReq{})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Remaining", "0")
	if n := h.hits.Load(); n != 5 {
		t.Fatalf("backend hits %d, want 5", n)
	}
}

func TestRateLimitByKeyIncrementCondition(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.IpAddress)"
			increment-condition="@(context.Response.StatusCode == 200)" remaining-calls-header-name="X-Remaining" />`))
	for i := 0; i < 5; i++ {
		acExpect(t, h.do(p, acReq{target: "/echo/thing?status=500"}), 500, "")
	}
	w := h.do(p, acReq{})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Remaining", "1")
	acExpect(t, h.do(p, acReq{target: "/echo/thing?status=404"}), 404, "")
	acExpect(t, h.do(p, acReq{}), 200, "")
	w = h.do(p, acReq{})
	acExpect(t, w, 429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 60 seconds."}`)
	acHeader(t, w, "Retry-After", "60")
}

func TestRateLimitByKeyIncrementCountAndSharedKey(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	doc := func(count string) string {
		return acDoc(`<rate-limit-by-key calls="5" renewal-period="30" counter-key="shared" increment-count="` + count + `" retry-after-header-name="X-Retry-In" />`)
	}
	a, b := acLoad(t, ScopeAPI, doc("2")), acLoad(t, ScopeOperation, doc("1"))
	acExpect(t, h.do(a, acReq{}), 200, "")
	acExpect(t, h.do(b, acReq{}), 200, "")
	acExpect(t, h.do(a, acReq{}), 200, "") // 5 used: both policies share the key's counter
	w := h.do(b, acReq{})
	acExpect(t, w, 429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 30 seconds."}`)
	acHeader(t, w, "X-Retry-In", "30")
	acHeader(t, w, "Retry-After", "")
}

func TestRateLimitByKeySeed004(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	// A null key (no token: AsJwt() is null) counts under one empty key.
	p := acLoad(t, ScopeGlobal, acDoc(`
		<rate-limit-by-key calls="300" renewal-period="120" counter-key="@(context.Request.IpAddress)" />
		<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)" />`))
	acExpect(t, h.do(p, acReq{ip: "192.0.2.10"}), 200, "")
	acExpect(t, h.do(p, acReq{ip: "192.0.2.11"}), 200, "")
	acExpect(t, h.do(p, acReq{ip: "192.0.2.12"}), 429, "")
}

func TestRateLimitPerSubscription(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeProduct, acDoc(`
		<rate-limit calls="3" renewal-period="60" remaining-calls-header-name="X-Remaining">
			<api name="Echo API" calls="2" renewal-period="60">
				<operation id="get-thing" calls="1" renewal-period="20" />
			</api>
		</rate-limit>`))
	w := h.do(p, acReq{})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Remaining", "0") // the operation limit is the tightest
	w = h.do(p, acReq{})
	acExpect(t, w, 429, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 20 seconds."}`)
	// Another operation of the API: api limit (2) has 1 left.
	other := func(c *expr.Context) { c.Operation = &expr.Operation{Id: "post-thing", Name: "Post thing"} }
	w = h.do(p, acReq{mod: other})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Remaining", "0")
	acExpect(t, h.do(p, acReq{mod: other}), 429, "")
	// Another API: only the product-level limit applies (2 of 3 used: the
	// refused calls were not counted).
	otherAPI := func(c *expr.Context) { c.Api = &expr.Api{Id: "other-api", Name: "Other"} }
	w = h.do(p, acReq{mod: otherAPI})
	acExpect(t, w, 200, "")
	acHeader(t, w, "X-Remaining", "0")
	acExpect(t, h.do(p, acReq{mod: otherAPI}), 429, "")
	// Another subscription has its own counters; no subscription: no limit.
	sub2 := &expr.Subscription{Id: "sub2", CreatedDate: acT0}
	acExpect(t, h.do(p, acReq{sub: sub2, mod: otherAPI}), 200, "")
	for i := 0; i < 5; i++ {
		acExpect(t, h.do(p, acReq{noSub: true}), 200, "")
	}
}

func TestRateLimitLoadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		scope     Scope
		xml, want string
	}{
		{ScopeAPI, `<rate-limit calls="5" renewal-period="301" />`, "renewal-period must be an integer between 1 and 300"},
		{ScopeAPI, `<rate-limit calls="5" />`, `"renewal-period" is required`},
		{ScopeAPI, `<rate-limit calls="@(5)" renewal-period="60" />`, "does not accept expressions"},
		{ScopeGlobal, `<rate-limit calls="5" renewal-period="60" />`, "not allowed at global scope"},
		{ScopeAPI, `<rate-limit calls="5" renewal-period="60"><api calls="1" renewal-period="60" /></rate-limit>`, "needs a name or an id"},
		{ScopeAPI, `<rate-limit calls="5" renewal-period="60" counter-key="x" />`, `unknown attribute "counter-key"`},
		{ScopeAPI, `<rate-limit-by-key calls="5" renewal-period="60" />`, `"counter-key" is required`},
		{ScopeAPI, `<rate-limit-by-key calls="0" renewal-period="60" counter-key="k" />`, "calls must be an integer between 1"},
		{ScopeAPI, `<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" retry-after-header-name="@("x")" />`, "does not accept expressions"},
		{ScopeAPI, `<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" increment-condition="sometimes" />`, "increment-condition must be true or false"},
	} {
		acLoadErr(t, c.scope, acDoc(c.xml), c.want)
	}
	// Expressions are accepted for rate-limit-by-key's numbers.
	acLoad(t, ScopeAPI, acDoc(`<rate-limit-by-key calls="@(10)" renewal-period="@(60)" counter-key="k" increment-count="@(2)" />`))
}

// failingLimiter always errors (a Redis outage past the failure policy).
type failingLimiter struct{ ratelimit.Limiter }

func (failingLimiter) Take(context.Context, string, int64, time.Duration, int64) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis: connection refused")
}

func TestRateLimitLimiterDown(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	h.env.Limiter = failingLimiter{h.env.Limiter}
	p := acLoad(t, ScopeAPI, acDoc(`<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" />`))
	w := h.do(p, acReq{})
	acExpect(t, w, 503, "")
	acHeader(t, w, "X-Reason", "RateLimitUnavailable")
}
