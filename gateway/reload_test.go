package gateway

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

func TestReloadUnderLoad(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	dirA, dirB := t.TempDir(), t.TempDir()
	api := func(be string) string {
		return `
  apis:
    - { name: api, path: api, serviceUrl: "` + be + `", subscriptionRequired: false }
`
	}
	cfgA := loadConfig(t, dirA, api(a.URL), nil)
	cfgB := loadConfig(t, dirB, api(b.URL), nil)
	gw, srv := start(t, cfgA, Options{})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var (
		stop     atomic.Bool
		ok, fail atomic.Int64
		seen     sync.Map
		wg       sync.WaitGroup
		firstErr atomic.Value
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				res, err := client.Get(srv.URL + "/api/x")
				if err != nil {
					fail.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					fail.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", res.StatusCode, body))
					continue
				}
				ok.Add(1)
				switch {
				case strings.Contains(string(body), `"backend":"a"`):
					seen.Store("a", true)
				case strings.Contains(string(body), `"backend":"b"`):
					seen.Store("b", true)
				}
			}
		}()
	}
	// Reload back and forth while the requests run; every fifth reload is
	// broken and must leave the working config in place.
	bad := &config.Gateway{Listen: "x", Apis: []config.API{{Name: "api", Path: "healthz", ServiceURL: b.URL}}}
	for i := 0; i < 60; i++ {
		next := cfgA
		if i%2 == 0 {
			next = cfgB
		}
		if i%5 == 4 {
			if err := gw.Reload(bad); err == nil {
				t.Fatal("bad config accepted")
			}
			continue
		}
		if err := gw.Reload(next); err != nil {
			t.Fatal(err)
		}
		// Let some requests run on this state before the next swap.
		target := ok.Load() + 20
		for ok.Load() < target && fail.Load() == 0 {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := fail.Load(); n != 0 {
		t.Fatalf("%d failed requests during reloads (of %d); first: %v", n, n+ok.Load(), firstErr.Load())
	}
	if _, okA := seen.Load("a"); !okA {
		t.Error("no request reached backend a")
	}
	if _, okB := seen.Load("b"); !okB {
		t.Error("no request reached backend b")
	}
	t.Logf("%d requests, 60 reloads, 0 failures", ok.Load())
}

func TestReloadBadConfigKeepsOld(t *testing.T) {
	a := newBackend(t, "a")
	dir := t.TempDir()
	cfg := loadConfig(t, dir, `
  policy: global.xml
  apis:
    - { name: api, path: api, serviceUrl: "`+a.URL+`", subscriptionRequired: false }
`, map[string]string{"global.xml": `<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>`})
	gw, srv := start(t, cfg, Options{})
	get(t, srv.URL+"/api/x").echoed(t)

	// The policy file becomes broken: the reload fails with its position.
	writeFiles(t, dir, map[string]string{"global.xml": "<policies>\n  <inbound>\n    <no-such-policy/>\n  </inbound>\n</policies>"})
	cfg2, err := config.Load(filepath.Join(dir, "gatehouse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	err = gw.Reload(cfg2.Gateway)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "global.xml")+":3:5:") {
		t.Fatalf("reload error %v, want global.xml:3:5", err)
	}
	get(t, srv.URL+"/api/x").echoed(t) // old config still serves
	if err := gw.Reload(nil); err == nil {
		t.Error("nil config accepted")
	}
	get(t, srv.URL+"/api/x").echoed(t)
}

func TestReloadKeepsMemoryCounters(t *testing.T) {
	be := newBackend(t, "be")
	dir := t.TempDir()
	limit := `<policies><inbound><base/>
  <rate-limit-by-key calls="2" renewal-period="60" counter-key="fixed" />
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
	cfg := loadConfig(t, dir, `
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false, policy: limit.xml }
`, map[string]string{"limit.xml": limit})
	gw, srv := start(t, cfg, Options{})
	get(t, srv.URL+"/api/1").echoed(t)
	old := gw.cur.Load().stores
	if err := gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if gw.cur.Load().stores != old {
		t.Error("memory stores not carried over")
	}
	get(t, srv.URL+"/api/2").echoed(t)
	if r := get(t, srv.URL+"/api/3"); r.status != 429 {
		t.Errorf("third call after reload: %d, want 429 (counter lost in reload)", r.status)
	}
}

func TestReloadSwitchesRedis(t *testing.T) {
	rs := testutil.StartRedisServer(t)
	be := newBackend(t, "be")
	dir := t.TempDir()
	mem := loadConfig(t, dir, `
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	red := loadConfig(t, t.TempDir(), `
  redis: redis://`+rs.Addr+`/0
  redisFailureMode: closed
  apis:
    - { name: api, path: api, serviceUrl: "`+be.URL+`", subscriptionRequired: false }
`, nil)
	gw, srv := start(t, mem, Options{})
	memStores := gw.cur.Load().stores
	if err := gw.Reload(red); err != nil {
		t.Fatal(err)
	}
	st := gw.cur.Load()
	if st.stores == memStores || st.stores.client == nil {
		t.Fatal("Redis stores not created")
	}
	if memStores.users.Load() != 0 {
		t.Errorf("old memory stores still held by %d states", memStores.users.Load())
	}
	get(t, srv.URL+"/api/x").echoed(t)
	redisStores := st.stores
	if err := gw.Reload(red); err != nil {
		t.Fatal(err)
	}
	if gw.cur.Load().stores != redisStores {
		t.Error("Redis stores not kept when the settings are unchanged")
	}
	if err := gw.Reload(mem); err != nil {
		t.Fatal(err)
	}
	// The replaced Redis client is closed once unused.
	if err := redisStores.client.Ping(t.Context()).Err(); err == nil {
		t.Error("old Redis client still open")
	}
}

func TestLoadErrorsFromSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	bad := "<policies>\n  <inbound>\n    <base />\n    <not-a-policy />\n  </inbound>\n</policies>"
	cfgPath := filepath.Join(dir, "gatehouse.yaml")
	cfg := loadConfig(t, dir, `
  policy: global.xml
  fragments:
    frag: frag.xml
  products:
    - { name: p, apis: [api], policy: product.xml }
  apis:
    - name: api
      path: api
      serviceUrl: http://127.0.0.1:1
      policy: missing.xml
      operations:
        - { name: op, method: GET, urlTemplate: "/x/{*rest}/y", policy: op.xml }
        - { name: op2, method: GET, urlTemplate: "/z", policy: op.xml }
`, map[string]string{
		"global.xml":  bad,
		"product.xml": "<policies>\n<inbound>\n<base/>\n<set-header/>\n</inbound>\n</policies>",
		"op.xml":      "<policies>\n  <inbound>\n    <base/>\n    <bogus/>\n  </inbound>\n</policies>",
		"frag.xml":    "<fragment>\n  <unknown-thing/>\n</fragment>",
	})
	_, err := New(cfg, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	var errs config.Errors
	if !asErrors(err, &errs) {
		t.Fatalf("error %T is not config.Errors", err)
	}
	text := err.Error()
	for _, want := range []string{
		filepath.Join(dir, "global.xml") + ":4:5: ",
		filepath.Join(dir, "frag.xml") + ":2:3: ",
		filepath.Join(dir, "product.xml") + ":4:1: ",
		filepath.Join(dir, "op.xml") + ":4:5: ",
		cfgPath + ":", // missing.xml and the bad template, at their config lines
		"missing.xml",
		"must be the last segment",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("errors lack %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, dir) || strings.Count(line, ":") < 3 {
			t.Errorf("line %q is not file:line:col: message", line)
		}
	}
}

func asErrors(err error, out *config.Errors) bool {
	e, ok := err.(config.Errors)
	*out = e
	return ok
}
