package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func versionPolicy(v string) string {
	return fmt.Sprintf(`<policies><inbound /><backend><forward-request /></backend>
<outbound><set-header name="x-policy-version" exists-action="override"><value>%s</value></set-header></outbound></policies>`, v)
}

// TestSIGHUPReloadDropsNothing: requests keep flowing while the policy is
// replaced by SIGHUP; not one fails, the new policy takes over, and a
// broken config is refused while the running one keeps serving.
func TestSIGHUPReloadDropsNothing(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer backend.Close()
	dir := t.TempDir()
	writeFile(t, dir, "p.xml", versionPolicy("1"))
	cfg := writeFile(t, dir, "c.yaml", fmt.Sprintf("gateway:\n  listen: 127.0.0.1:0\n  policy: p.xml\n  apis:\n    - {name: a, path: a, serviceUrl: %q, subscriptionRequired: false}\n", backend.URL))
	srv := startServe(t, cfg, nil, "gateway")
	url := srv.url("gateway") + "/a/x"

	var failures, sawV2 atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(url)
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
				} else if resp.Header.Get("x-policy-version") == "2" {
					sawV2.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	writeFile(t, dir, "p.xml", versionPolicy("2"))
	srv.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(20 * time.Second)
	for sawV2.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the workers' progress, bounded by the deadline
	}
	close(stop)
	wg.Wait()
	if sawV2.Load() < 50 {
		t.Fatal("the reloaded policy never answered")
	}
	if n := failures.Load(); n != 0 {
		t.Errorf("%d requests failed during the reload", n)
	}

	// A broken policy is refused; the running config keeps serving.
	writeFile(t, dir, "p.xml", "<policies><inbound><nonsense /></inbound></policies>")
	srv.cmd.Process.Signal(syscall.SIGHUP)
	srv.logs.waitFor(20*time.Second, func(logs string) bool { return strings.Contains(logs, "reload failed") })
	logs := srv.logs.String()
	if !strings.Contains(logs, "reload failed") || !strings.Contains(logs, filepath.Join(dir, "p.xml")+":1:") {
		t.Fatalf("no positioned reload error in the logs:\n%s", logs)
	}
	if resp, _ := call(t, "GET", url, nil); resp.StatusCode != 200 || resp.Header.Get("x-policy-version") != "2" {
		t.Errorf("after a failed reload: %d %v", resp.StatusCode, resp.Header)
	}
}
