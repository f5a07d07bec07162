package apim

import (
	"net/http"
	"sync"
	"testing"
)

func TestLimitConcurrency(t *testing.T) {
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		_, _ = w.Write([]byte("ok"))
	})
	g := tDoc(t, ScopeGlobal, `<policies><backend><limit-concurrency key="k" max-count="2"><forward-request/></limit-concurrency></backend></policies>`, nil)
	p := NewPipeline(g)
	codes := make(chan int, 3)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- tRun(t, p, be, tGet("/x"), nil).Code
		}()
	}
	<-entered
	<-entered
	// Both slots are taken: a third request is refused at once.
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, 429, `{"statusCode":429,"message":"Too many concurrent requests."}`)
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("status %d", c)
		}
	}
	// Slots are released afterwards.
	release2 := tRun(t, p, be, tGet("/x"), nil)
	if release2.Code != 200 {
		t.Fatal(release2.Code)
	}
}
