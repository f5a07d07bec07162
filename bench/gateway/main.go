// Command gateway benchmarks the gateway with wrk, in one run:
//
//	(a) the backend directly
//	(b) gatehouse with no policy
//	(c) gatehouse with seed 004's policy (high limits, a valid RS256 token)
//	(d) nginx as a plain keep-alive reverse proxy — the reference
//	(e) (c) with its rate-limit counters in Redis (-redis, default
//	    127.0.0.1:6379; skipped when it does not answer)
//
// and prints requests/s, p50 and p99 for each with the ratios b/d, c/d and
// e/c. It needs wrk and nginx (Debian packages) and builds ./cmd/gatehouse.
//
//	go run ./bench/gateway [-d 10s] [-c 64] [-t 2] [-rounds 3] [-redis ADDR]
//	                       [-baseline OLD-BINARY] [-cpuprofile FILE]
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchkit"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each wrk run")
	conns := flag.Int("c", 64, "wrk connections")
	threads := flag.Int("t", 2, "wrk threads")
	profile := flag.String("cpuprofile", "", "write a CPU profile of gatehouse during run (c) to this file")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis for run (e); empty skips it")
	rounds := flag.Int("rounds", 3, "runs of every target, interleaved; the median is reported")
	baseline := flag.String("baseline", "", "a gatehouse binary (an earlier build) to run as (b0) and (c0) beside this one's (b) and (c)")
	flag.Parse()
	for _, tool := range []string{"wrk", "nginx"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				log.Fatalf("%s not found: apt-get install -y wrk nginx-light", tool)
			}
		}
	}
	dir, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	backend := benchkit.HelloBackend()
	iss := benchkit.NewIssuer()
	token := iss.Token()

	bin := benchkit.BuildGatehouse(dir)

	plain := startGatehouse(bin, dir, "plain", backend, "", "", "")
	defer plain.Stop()
	seed, err := benchkit.Seed004Policy(iss)
	if err != nil {
		log.Fatal(err)
	}
	pprofAddr := ""
	if *profile != "" {
		pprofAddr = benchkit.FreeAddr()
	}
	full := startGatehouse(bin, dir, "seed004", backend, seed, pprofAddr, "")
	defer full.Stop()
	var shared *benchkit.Gatehouse
	if *redisAddr != "" {
		if c, err := net.DialTimeout("tcp", *redisAddr, time.Second); err == nil {
			c.Close()
			shared = startGatehouse(bin, dir, "seed004-redis", backend, seed, "", *redisAddr)
			defer shared.Stop()
		} else {
			log.Printf("run (e) skipped: Redis at %s: %v", *redisAddr, err)
		}
	}
	ngx := startNginx(dir, backend)
	defer ngx.stop()

	auth := "Authorization: Bearer " + token
	type run struct{ name, url, header string }
	runs := []run{
		{"a backend direct", "http://" + backend + "/api/hello", ""},
		{"b gateway, no policy", plain.URLs["gateway"] + "/hello/hello", ""},
		{"c gateway, seed 004 policy", full.URLs["gateway"] + "/hello/hello", auth},
		{"d nginx proxy", "http://" + ngx.addr + "/api/hello", ""},
	}
	if shared != nil {
		runs = append(runs, run{"e (c), counters in Redis", shared.URLs["gateway"] + "/hello/hello", auth})
	}
	if *baseline != "" {
		plain0 := startGatehouse(*baseline, dir, "plain0", backend, "", "", "")
		defer plain0.Stop()
		full0 := startGatehouse(*baseline, dir, "seed004-0", backend, seed, "", "")
		defer full0.Stop()
		runs = append(runs, run{"b0 (b), baseline binary", plain0.URLs["gateway"] + "/hello/hello", ""},
			run{"c0 (c), baseline binary", full0.URLs["gateway"] + "/hello/hello", auth})
	}
	// The targets run in turn, round after round, and each reports its
	// median: two cores shared by every process make single runs noisy,
	// and interleaving spreads a slow spell over all targets alike.
	all := map[string][]benchkit.WrkResult{}
	for _, r := range runs {
		// A short warm-up fills connection pools, JWKS and token caches.
		wrk(r.url, r.header, *threads, *conns, 2*time.Second)
	}
	for round := 0; round < *rounds; round++ {
		for _, r := range runs {
			var prof chan error
			if r.name[0] == 'c' && pprofAddr != "" && round == 0 {
				prof = make(chan error, 1)
				go func() { prof <- benchkit.FetchProfile(pprofAddr, *dur-time.Second, *profile) }()
			}
			out := wrk(r.url, r.header, *threads, *conns, *dur)
			if prof != nil {
				if err := <-prof; err != nil {
					log.Print("profile: ", err)
				}
			}
			all[r.name] = append(all[r.name], out)
		}
	}
	fmt.Printf("wrk -t%d -c%d -d%s, median of %d interleaved rounds, GOMAXPROCS of each process = all %d cores\n\n", *threads, *conns, *dur, *rounds, benchkit.NumCPU())
	fmt.Printf("%-28s %12s %10s %10s  %s\n", "target", "requests/s", "p50", "p99", "every round")
	res := map[string]benchkit.WrkResult{}
	for _, r := range runs {
		rs := all[r.name]
		sorted := slices.SortedFunc(slices.Values(rs), func(a, b benchkit.WrkResult) int { return cmp.Compare(a.RPS, b.RPS) })
		m := sorted[len(sorted)/2]
		res[strings.Fields(r.name)[0]] = m
		var each []string
		non2xx := 0
		for _, x := range rs {
			each = append(each, fmt.Sprintf("%.0f", x.RPS))
			non2xx += x.Non2xx
		}
		fmt.Printf("%-28s %12.0f %10s %10s  %s (non-2xx: %d)\n", r.name, m.RPS, m.P50, m.P99, strings.Join(each, " "), non2xx)
	}
	fmt.Printf("\nb/d = %.2f (target >= 0.6)\nc/d = %.2f (target >= 0.5)\n", res["b"].RPS/res["d"].RPS, res["c"].RPS/res["d"].RPS)
	if e, ok := res["e"]; ok {
		fmt.Printf("e/c = %.2f (target >= 0.8)\n", e.RPS/res["c"].RPS)
	}
	if _, ok := res["b0"]; ok {
		fmt.Printf("b0/d = %.2f, c0/d = %.2f (the baseline binary)\n", res["b0"].RPS/res["d"].RPS, res["c0"].RPS/res["d"].RPS)
	}
}

// startGatehouse runs `gatehouse serve` with one API in front of backend and
// the given global policy (none when empty), its counters in Redis when
// redisAddr is set (under a fresh prefix: every run starts from zero).
func startGatehouse(bin, dir, name, backend, policy, pprofAddr, redisAddr string) *benchkit.Gatehouse {
	cfg := fmt.Sprintf("gateway:\n  listen: 127.0.0.1:0\n  apis:\n    - {name: hello, path: hello, serviceUrl: 'http://%s/api', subscriptionRequired: false}\n", backend)
	if redisAddr != "" {
		cfg += fmt.Sprintf("  redis: 'redis://%s/0'\n", redisAddr)
	}
	if policy != "" {
		os.WriteFile(filepath.Join(dir, name+".xml"), []byte(policy), 0o600)
		cfg += "  policy: " + name + ".xml\n"
	}
	file := filepath.Join(dir, name+".yaml")
	os.WriteFile(file, []byte(cfg), 0o600)
	// Info level: the "listening" line tells the address; request logs are
	// at debug, so nothing else is written under load.
	cmd := exec.Command(bin, "serve", "--config", file, "--log-level", "info")
	if pprofAddr != "" {
		cmd.Args = append(cmd.Args, "--pprof-listen", pprofAddr)
	}
	g, err := benchkit.StartGatehouse(cmd, "", "gateway")
	if err != nil {
		log.Fatalf("gatehouse %s did not start", name)
	}
	return g
}

type nginx struct {
	*exec.Cmd
	addr string
}

// stop ends nginx with its workers: SIGTERM makes the master stop them
// (SIGKILL would leave the workers running, orphaned, after every run).
func (n nginx) stop() {
	_ = n.Process.Signal(syscall.SIGTERM)
	_ = n.Wait()
}

func startNginx(dir, backend string) nginx {
	addr := benchkit.FreeAddr()
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server %[2]s; keepalive 256; }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`, dir, backend, addr)
	file := filepath.Join(dir, "nginx.conf")
	os.WriteFile(file, []byte(conf), 0o600)
	bin := "nginx"
	if _, err := exec.LookPath(bin); err != nil {
		bin = "/usr/sbin/nginx"
	}
	cmd := exec.Command(bin, "-c", file, "-p", dir, "-e", filepath.Join(dir, "nginx-error.log"))
	if err := cmd.Start(); err != nil {
		log.Fatal("nginx: ", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nginx{cmd, addr}
}

// wrk runs wrk and reports what it printed: the gateway table shows wrk's
// own latency text and counts only non-2xx responses.
func wrk(url, header string, threads, conns int, d time.Duration) benchkit.WrkResult {
	r, err := benchkit.Wrk{URL: url, Header: header, Threads: threads, Conns: conns, Duration: d}.Run()
	if err != nil {
		log.Fatalf("wrk %s: %v", url, err)
	}
	return r
}
