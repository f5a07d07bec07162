package apim

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestRetryCountAndInterval(t *testing.T) {
	be := newTBackend(t, nil)
	// condition "true" retries until count is used up: 1 + 2 calls.
	g := tDoc(t, ScopeGlobal, `<policies><backend><retry condition="true" count="2" interval="0"><forward-request/></retry></backend></policies>`, nil)
	tExpect(t, tRun(t, NewPipeline(g), be, tGet("/x"), nil), 200, "backend body")
	if be.count() != 3 {
		t.Fatalf("%d calls", be.count())
	}
	if d := retryWait(1, 1, 0, 0, true); d != 0 {
		t.Fatalf("first fast retry waited %s", d)
	}
	if d := retryWait(3, 1, 10, 2, false); d != 7*time.Second { // 1 + (2^2-1)*2
		t.Fatalf("exponential %s", d)
	}
	if d := retryWait(5, 1, 10, 4, false); d != 10*time.Second {
		t.Fatalf("capped %s", d)
	}
	if d := retryWait(3, 1, 0, 2, false); d != 5*time.Second { // linear 1 + 2*2
		t.Fatalf("linear %s", d)
	}
}

func TestRetryStopsWhenCallerLeaves(t *testing.T) {
	g := tDoc(t, ScopeGlobal, `<policies><inbound><retry condition="true" count="5" interval="30">`+appendHdr("try")+`</retry></inbound></policies>`, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := tGet("/x").WithContext(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	w := tRun(t, NewPipeline(g), nil, r, nil)
	if time.Since(start) > 5*time.Second || w.Code == http.StatusOK {
		t.Fatalf("took %s, status %d", time.Since(start), w.Code)
	}
}
