package apim

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// tCache is an in-memory cache.Store.
type tCache struct {
	mu  sync.Mutex
	m   map[string][]byte
	ttl map[string]time.Duration
}

func newTCache() *tCache { return &tCache{m: map[string][]byte{}, ttl: map[string]time.Duration{}} }

func (c *tCache) Get(_ context.Context, k string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok, nil
}
func (c *tCache) Set(_ context.Context, k string, v []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k], c.ttl[k] = v, ttl
	return nil
}
func (c *tCache) Delete(_ context.Context, k string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
	return nil
}

func TestCacheValueRoundTrip(t *testing.T) {
	c := newTCache()
	env := &Env{Cache: c}
	store := tPipe(t, `<policies><inbound><cache-store-value key="k" value="hello" duration="60" caching-type="internal"/><return-response/></inbound></policies>`)
	tRun(t, store, nil, tGet("/x"), env)
	if c.ttl["apim:value:k"] != time.Minute {
		t.Fatalf("%v", c.ttl)
	}
	lookup := tPipe(t, `<policies><inbound><cache-lookup-value key="k" variable-name="v"/><cache-lookup-value key="missing" variable-name="m"/><cache-lookup-value key="missing" variable-name="d" default-value="dflt"/><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), env)
	lookup.Serve(newRecorder(), x)
	if x.Ctx.Variables["v"] != "hello" || x.Ctx.Variables["d"] != "dflt" {
		t.Fatalf("%v", x.Ctx.Variables)
	}
	if _, ok := x.Ctx.Variables["m"]; ok {
		t.Fatal("a miss without default-value must leave the variable unset")
	}
	remove := tPipe(t, `<policies><inbound><cache-remove-value key="k"/><return-response/></inbound></policies>`)
	tRun(t, remove, nil, tGet("/x"), env)
	if len(c.m) != 0 {
		t.Fatal(c.m)
	}
	tLoadErr(t, `<policies><inbound><cache-store-value key="k" value="v"/></inbound></policies>`, "\"value\" and \"duration\" are required")
	tLoadErr(t, `<policies><inbound><cache-lookup-value key="k" variable-name="v" caching-type="disk"/></inbound></policies>`, "caching-type must be one of")
}

func TestCacheValueTypes(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, v := range []any{"s", true, int32(7), int64(1) << 40, 2.5, ts, 90 * time.Second, []byte{1, 2}, nil} {
		data, err := encodeCached(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeCached(data)
		if err != nil {
			t.Fatal(err)
		}
		if b, ok := v.([]byte); ok {
			if string(back.([]byte)) != string(b) {
				t.Fatalf("%v -> %v", v, back)
			}
			continue
		}
		if tv, ok := v.(time.Time); ok {
			if !back.(time.Time).Equal(tv) {
				t.Fatalf("%v -> %v", v, back)
			}
			continue
		}
		if back != v {
			t.Fatalf("%#v -> %#v", v, back)
		}
	}
	jwt := &expr.Jwt{Raw: "a.b.c"}
	if _, err := encodeCached(jwt); err != nil {
		t.Fatal(err)
	}
}

func TestCacheValueJObjectRoundTrip(t *testing.T) {
	needExpr(t)
	env := &Env{Cache: newTCache()}
	store := tPipe(t, `<policies><inbound><cache-store-value key="j" value="@(JObject.Parse(&quot;{\&quot;a\&quot;:1}&quot;))" duration="60"/><return-response/></inbound></policies>`)
	tRun(t, store, nil, tGet("/x"), env)
	lookup := tPipe(t, `<policies><inbound><cache-lookup-value key="j" variable-name="v"/><set-variable name="a" value="@(((JObject)context.Variables[&quot;v&quot;])[&quot;a&quot;].ToString())"/><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), env)
	lookup.Serve(newRecorder(), x)
	if x.Ctx.Variables["a"] != "1" {
		t.Fatalf("%#v", x.Ctx.Variables)
	}
}
