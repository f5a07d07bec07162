package apim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

const tResponseCachePolicy = `<policies>
  <inbound><base/>
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" downstream-caching-type="public" caching-type="internal">
      <vary-by-header>Accept</vary-by-header>
      <vary-by-query-parameter>v</vary-by-query-parameter>
    </cache-lookup>
  </inbound>
  <outbound><base/>
    <set-header name="X-Outbound" exists-action="override"><value>ran</value></set-header>
    <cache-store duration="60"/>
  </outbound>
</policies>`

// Whole-response caching: a hit skips the backend and runs outbound; the
// key varies by the named query parameter and header; private,
// non-GET, cookie-setting and failed responses are never shared.
func TestCacheLookupStore(t *testing.T) {
	status := http.StatusOK
	cookie := false
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if cookie {
			w.Header().Set("Set-Cookie", "s=1")
		}
		w.Header().Set("X-Backend-Query", r.URL.RawQuery)
		w.WriteHeader(status)
		w.Write([]byte("answer for " + r.URL.RawQuery))
	})
	p := tPipe(t, tResponseCachePolicy)
	env := &Env{Cache: cache.NewMemory(100)}
	get := func(target string, hdr ...string) *http.Response {
		r := tGet(target)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return tRun(t, p, be, r, env).Result()
	}
	first := get("/x?v=1")
	if be.count() != 1 || first.Header.Get("Cache-Control") != "public, max-age=60, must-revalidate" {
		t.Fatalf("first: %d calls, %v", be.count(), first.Header)
	}
	hit := get("/x?v=1&other=9") // other is not in the key
	if be.count() != 1 || hit.StatusCode != 200 || hit.Header.Get("X-Outbound") != "ran" || hit.Header.Get("X-Backend-Query") != "v=1" {
		t.Fatalf("hit: %d calls, %d %v", be.count(), hit.StatusCode, hit.Header)
	}
	if cc := hit.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") || !strings.HasSuffix(cc, ", must-revalidate") {
		t.Fatalf("hit Cache-Control %q", cc)
	}
	for i, c := range []struct {
		target string
		hdr    []string
	}{
		{"/x?v=2", nil}, // another v
		{"/x?v=1", []string{"Accept", "text/xml"}},        // another Accept
		{"/x?v=1", []string{"Authorization", "Bearer t"}}, // private: never from the shared cache
		{"/x?v=1", []string{"Authorization", "Bearer t"}},
	} {
		get(c.target, c.hdr...)
		if be.count() != 2+i {
			t.Fatalf("case %d (%s %v): %d backend calls, want %d", i, c.target, c.hdr, be.count(), 2+i)
		}
	}
	// POST is not cached.
	r := tGet("/x?v=1")
	r.Method = http.MethodPost
	tRun(t, p, be, r, env)
	if be.count() != 6 {
		t.Fatalf("POST served from the cache")
	}
	// Failed and cookie-setting responses are not stored.
	status = http.StatusInternalServerError
	get("/x?v=3")
	get("/x?v=3")
	status, cookie = http.StatusOK, true
	get("/x?v=4")
	get("/x?v=4")
	if be.count() != 10 {
		t.Fatalf("a 500 or a Set-Cookie response was stored: %d calls", be.count())
	}
	tLoadErr(t, `<policies><inbound><cache-store/></inbound></policies>`, `"duration" is required`)
	tLoadErr(t, `<policies><inbound><cache-lookup downstream-caching-type="shared"/></inbound></policies>`, "downstream-caching-type")
}

// caching-type external: two gateway processes share responses through
// Redis.
func TestCacheLookupStoreRedis(t *testing.T) {
	rc := testutil.Redis(t)
	prefix := testutil.RedisPrefix(t, rc)
	be := newTBackend(t, nil)
	p := tPipe(t, strings.Replace(tResponseCachePolicy, `caching-type="internal"`, `caching-type="external"`, 1))
	one := &Env{Cache: cache.NewRedis(rc, prefix)}
	two := &Env{Cache: cache.NewRedis(testutil.RedisClient(t), prefix)}
	tExpect(t, tRun(t, p, be, tGet("/x?v=1"), one), 200, "backend body")
	tExpect(t, tRun(t, p, be, tGet("/x?v=1"), two), 200, "backend body")
	if be.count() != 1 {
		t.Fatalf("the second process called the backend: %d calls", be.count())
	}
	// caching-type internal stays in each process's memory.
	internal := tPipe(t, tResponseCachePolicy)
	one.LocalCache, two.LocalCache = cache.NewMemory(10), cache.NewMemory(10)
	tRun(t, internal, be, tGet("/y"), one)
	tRun(t, internal, be, tGet("/y"), one)
	tRun(t, internal, be, tGet("/y"), two)
	if be.count() != 3 {
		t.Fatalf("internal caching: %d backend calls, want 3 (one per process)", be.count())
	}
}
