package apim

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestQuotaUnitTimeSpan(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00:00"},
		{406 * time.Second, "00:06:46"},
		{406*time.Second + time.Millisecond, "00:06:47"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23:59:59"},
		{2*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second, "2.03:04:05"},
	} {
		if got := quotaTimeSpan(c.d); got != c.want {
			t.Errorf("quotaTimeSpan(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestQuotaUnitFirstUse(t *testing.T) {
	t.Parallel()
	x := &Exec{}
	if !quotaFirstUse(x, "a") || quotaFirstUse(x, "a") || !quotaFirstUse(x, "b") {
		t.Fatal("quotaFirstUse does not count each key once per request")
	}
	if y := (&Exec{}); !quotaFirstUse(y, "a") {
		t.Fatal("requests share quotaFirstUse state")
	}
	runtime.KeepAlive(x)
}

func TestQuotaCalls(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeProduct, acDoc(`<quota calls="2" renewal-period="3600" />`))
	acExpect(t, h.do(p, acReq{}), 200, "")
	acExpect(t, h.do(p, acReq{}), 200, "")
	// The subscription started at acT0-10m: the period renews at acT0+50m.
	w := h.do(p, acReq{})
	acExpect(t, w, 403, `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 00:50:00."}`)
	acHeader(t, w, "Retry-After", "3000")
	acHeader(t, w, "X-Reason", "QuotaExceeded")
	// StartDate wins over CreatedDate; another subscription has its own quota.
	start := acT0.Add(-30 * time.Minute)
	sub2 := &expr.Subscription{Id: "sub2", CreatedDate: acT0.Add(-48 * time.Hour), StartDate: &start}
	acExpect(t, h.do(p, acReq{sub: sub2}), 200, "")
	acExpect(t, h.do(p, acReq{sub: sub2}), 200, "")
	acExpect(t, h.do(p, acReq{sub: sub2}), 403, `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 00:30:00."}`)
	h.advance(50 * time.Minute)
	acExpect(t, h.do(p, acReq{}), 200, "")
	// No subscription: the policy does not apply.
	acExpect(t, h.do(p, acReq{noSub: true}), 200, "")
}

func TestQuotaBandwidthAndAPIs(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeProduct, acDoc(`
		<quota calls="100" renewal-period="0">
			<api name="Echo API" bandwidth="2" renewal-period="86400">
				<operation name="Get thing" calls="10" renewal-period="86400" />
			</api>
		</quota>`))
	// 1500 + 600 response bytes exhaust 2 KB; the counter stays at the limit.
	acExpect(t, h.do(p, acReq{target: "/echo/thing?size=1500"}), 200, "")
	acExpect(t, h.do(p, acReq{target: "/echo/thing?size=600"}), 200, "")
	w := h.do(p, acReq{})
	// acT0 is 12:00; the subscription started at 11:50: 23:50:00 remain.
	acExpect(t, w, 403, `{"statusCode":403,"message":"Out of bandwidth quota. Quota will be replenished in 23:50:00."}`)
	acHeader(t, w, "Retry-After", "85800")
	// Other APIs only see the product quota.
	other := func(c *expr.Context) { c.Api = &expr.Api{Id: "other-api", Name: "Other"} }
	acExpect(t, h.do(p, acReq{mod: other, target: "/echo/thing?size=5000"}), 200, "")
	// Request bodies count too.
	q := acLoad(t, ScopeProduct, acDoc(`<quota bandwidth="1" renewal-period="60" />`))
	sub3 := &expr.Subscription{Id: "sub3", CreatedDate: acT0}
	acExpect(t, h.do(q, acReq{sub: sub3, method: "POST", body: strings.Repeat("y", 1100)}), 200, "")
	acExpect(t, h.do(q, acReq{sub: sub3}), 403, `{"statusCode":403,"message":"Out of bandwidth quota. Quota will be replenished in 00:01:00."}`)
}

func TestQuotaByKey(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	// Two policies on the same key in one request count once.
	p := acLoad(t, ScopeAPI, acDoc(`
		<quota-by-key calls="3" renewal-period="300" counter-key="@(context.Request.IpAddress)" first-period-start="2025-06-01T11:58:00Z" />
		<quota-by-key calls="3" renewal-period="300" counter-key="@(context.Request.IpAddress)" first-period-start="2025-06-01T11:58:00Z" />`))
	for i := 0; i < 3; i++ {
		acExpect(t, h.do(p, acReq{}), 200, "")
	}
	w := h.do(p, acReq{})
	acExpect(t, w, 403, `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 00:03:00."}`)
	acHeader(t, w, "Retry-After", "180")
	acHeader(t, w, "X-Reason", "QuotaExceeded")
	acExpect(t, h.do(p, acReq{ip: "192.0.2.99"}), 200, "")
	h.advance(3 * time.Minute)
	acExpect(t, h.do(p, acReq{}), 200, "")
}

func TestQuotaByKeyIncrementCondition(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<quota-by-key calls="2" renewal-period="3600" counter-key="@(context.Request.IpAddress)"
			increment-condition="@(context.Response.StatusCode &gt;= 200 &amp;&amp; context.Response.StatusCode &lt; 300)" />`))
	for i := 0; i < 4; i++ {
		acExpect(t, h.do(p, acReq{target: "/echo/thing?status=503"}), 503, "")
	}
	acExpect(t, h.do(p, acReq{}), 200, "")
	acExpect(t, h.do(p, acReq{target: "/echo/thing?status=201"}), 201, "")
	// Default first-period-start 0001-01-01: periods are aligned to whole hours.
	acExpect(t, h.do(p, acReq{}), 403, `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 01:00:00."}`)
}

func TestQuotaLoadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		scope     Scope
		xml, want string
	}{
		{ScopeAPI, `<quota calls="5" renewal-period="60" />`, "not allowed at api scope"},
		{ScopeProduct, `<quota renewal-period="60" />`, "calls or bandwidth is required"},
		{ScopeProduct, `<quota calls="5" />`, `"renewal-period" is required`},
		{ScopeProduct, `<quota calls="@(5)" renewal-period="60" />`, "does not accept expressions"},
		{ScopeProduct, `<quota calls="5" renewal-period="60"><api calls="1" renewal-period="60" /></quota>`, "needs a name or an id"},
		{ScopeProduct, `<quota calls="5" renewal-period="60" counter-key="k" />`, `unknown attribute "counter-key"`},
		{ScopeAPI, `<quota-by-key calls="5" renewal-period="60" />`, `"counter-key" is required`},
		{ScopeAPI, `<quota-by-key calls="5" renewal-period="60" counter-key="k" first-period-start="yesterday" />`, "first-period-start must be an ISO 8601 time"},
		{ScopeAPI, `<quota-by-key calls="5" renewal-period="@(60)" counter-key="k" />`, "does not accept expressions"},
	} {
		acLoadErr(t, c.scope, acDoc(c.xml), c.want)
	}
}
