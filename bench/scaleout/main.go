// Command scaleout measures Gatehouse with one and with three processes on
// PostgreSQL (identity.storage) and Redis (gateway.redis), in one run:
//
//	gateway, seed 004 policy (high limits, a valid RS256 token):
//	  1 process, in-memory counters
//	  1 process, Redis counters (exact limits over all processes)
//	  3 processes, Redis counters (wrk split over the three)
//	identity, client-credentials token endpoint:
//	  1 process on PostgreSQL
//	  3 processes on PostgreSQL
//
// and prints requests/s, p50 and p99. Load generator and every process
// share the machine's cores: on a small machine three processes cannot
// scale up, they only add scheduling and connection overhead.
//
// It needs wrk, redis-server and PostgreSQL at 127.0.0.1:5432 with trust
// auth (a scratch database is created and dropped), and builds
// ./cmd/gatehouse.
//
//	go run ./bench/scaleout [-d 8s] [-c 64]
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchkit"
	"github.com/jackc/pgx/v5"
)

const (
	tenantID  = "8d2f6a4e-0000-4000-8000-000000000001"
	apiID     = "22222222-2222-4222-8222-222222222222"
	daemonID  = "33333333-3333-4333-8333-333333333333"
	daemonSec = "daemon-secret-0123456789abcdef"
	ccScope   = "https://contoso.onmicrosoft.com/backend/.default"
	flow      = "B2C_1_signupsignin1"
	pgAdmin   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

func main() {
	dur := flag.Duration("d", 8*time.Second, "duration of each measured run")
	conns := flag.Int("c", 64, "connections in total (split over the processes)")
	flag.Parse()
	for _, tool := range []string{"wrk", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s not found: apt-get install -y wrk redis-server", tool)
		}
	}
	dir, err := os.MkdirTemp("", "gatehouse-scaleout-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	fail := func(v ...any) {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		log.Fatal(v...)
	}

	bin := benchkit.BuildGatehouse(dir)
	pg, drop, err := scratchDatabase()
	if err != nil {
		log.Fatal(err)
	}
	cleanups = append(cleanups, drop)
	redisAddr, stopRedis, err := startRedis()
	if err != nil {
		fail(err)
	}
	cleanups = append(cleanups, stopRedis)

	backend := benchkit.HelloBackend()
	iss := benchkit.NewIssuer()
	seed, err := benchkit.Seed004Policy(iss)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seed004.xml"), []byte(seed), 0o600); err != nil {
		fail(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "DAEMON_SECRET=" + daemonSec}
	public := "http://" + benchkit.FreeAddr() // the load balancer's address: one issuer for every process

	memCfg := writeConfig(dir, "memory.yaml", public, pg, "", backend)
	redisCfg := writeConfig(dir, "redis.yaml", public, pg, redisAddr, backend)
	mem := startGatehouse(bin, memCfg, env)
	cleanups = append(cleanups, mem.Stop)
	var procs []*benchkit.Gatehouse
	for i := 0; i < 3; i++ {
		p := startGatehouse(bin, redisCfg, env)
		cleanups = append(cleanups, p.Stop)
		procs = append(procs, p)
	}

	auth := "Authorization: Bearer " + iss.Token()
	ccLua := filepath.Join(dir, "cc.lua")
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID}, "client_secret": {daemonSec}, "scope": {ccScope}}.Encode()
	if err := benchkit.WritePostScript(ccLua, body); err != nil {
		fail(err)
	}
	gw := func(ps ...*benchkit.Gatehouse) []target {
		var ts []target
		for _, p := range ps {
			ts = append(ts, target{url: p.URLs["gateway"] + "/hello/hello", header: auth})
		}
		return ts
	}
	cc := func(ps ...*benchkit.Gatehouse) []target {
		var ts []target
		for _, p := range ps {
			ts = append(ts, target{url: p.URLs["identity"] + "/contoso.onmicrosoft.com/" + flow + "/oauth2/v2.0/token", script: ccLua})
		}
		return ts
	}
	runs := []struct {
		name    string
		targets []target
	}{
		{"gateway seed004, 1 proc, memory", gw(mem)},
		{"gateway seed004, 1 proc, Redis", gw(procs[0])},
		{"gateway seed004, 3 procs, Redis", gw(procs...)},
		{"client credentials, 1 proc, PG", cc(procs[0])},
		{"client credentials, 3 procs, PG", cc(procs...)},
	}
	fmt.Printf("wrk, %d connections in total, %s per run; %d cores shared by wrk, Redis, PostgreSQL and every gatehouse process\n\n", *conns, *dur, benchkit.NumCPU())
	fmt.Printf("%-34s %12s %10s %10s %8s\n", "target", "requests/s", "p50", "p99", "errors")
	res := map[string]result{}
	for _, r := range runs {
		runAll(r.targets, *conns, 2*time.Second) // warm-up: pools, JWKS, claims templates
		out := runAll(r.targets, *conns, *dur)
		res[r.name] = out
		fmt.Printf("%-34s %12.0f %10s %10s %8d\n", r.name, out.rps, out.p50, out.p99, out.errors)
	}
	fmt.Printf("\nRedis cost (1 proc Redis / memory): %.2f\n", res[runs[1].name].rps/res[runs[0].name].rps)
	fmt.Printf("gateway 3 procs / 1 proc (Redis):   %.2f\n", res[runs[2].name].rps/res[runs[1].name].rps)
	fmt.Printf("client credentials 3 / 1 procs:     %.2f\n", res[runs[4].name].rps/res[runs[3].name].rps)
}

// writeConfig is the config of every process: identity on PostgreSQL,
// gateway with seed 004's policy (Redis counters when redisAddr is set).
func writeConfig(dir, name, public, pg, redisAddr, backend string) string {
	redis := ""
	if redisAddr != "" {
		redis = "  redis: redis://" + redisAddr + "/0\n"
	}
	cfg := fmt.Sprintf(`identity:
  listen: 127.0.0.1:0
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: %q
  masterKey: env:GH_MASTER_KEY
  apps:
    - { name: Backend, clientId: %s, type: web, identifierUri: https://contoso.onmicrosoft.com/backend, scopes: [Hello], clientSecrets: [env:DAEMON_SECRET] }
    - { name: Daemon, clientId: %s, type: daemon, clientSecrets: [env:DAEMON_SECRET], permissions: [%q] }
  userFlows:
    - { name: %s, type: signUpOrSignIn, emailVerification: false }
gateway:
  listen: 127.0.0.1:0
%s  policy: seed004.xml
  apis:
    - { name: hello, path: hello, serviceUrl: 'http://%s/api', subscriptionRequired: false }
`, public, tenantID, pg, apiID, daemonID, ccScope, flow, redis, backend)
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		log.Fatal(err)
	}
	return file
}

// scratchDatabase creates a fresh database and returns its URL and a
// function that drops it.
func scratchDatabase() (string, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgAdmin)
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at 127.0.0.1:5432: %w", err)
	}
	defer c.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "gatehouse_bench_" + hex.EncodeToString(b)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, pgAdmin)
		if err != nil {
			log.Printf("dropping %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			log.Printf("dropping %s: %v", name, err)
		}
	}
	return "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable", drop, nil
}

// startRedis runs a throwaway redis-server (no persistence).
func startRedis() (string, func(), error) {
	addr := benchkit.FreeAddr()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("redis-server on %s did not start", addr)
}

// startGatehouse runs `gatehouse serve` and waits for both listeners.
func startGatehouse(bin, file string, env []string) *benchkit.Gatehouse {
	cmd := exec.Command(bin, "serve", "--config", file, "--log-level", "info")
	cmd.Dir = filepath.Dir(file)
	cmd.Env = append(os.Environ(), env...)
	g, err := benchkit.StartGatehouse(cmd, "gatehouse: ", "gateway", "identity")
	if err != nil {
		log.Fatalf("gatehouse did not start:\n%v", err)
	}
	return g
}

type target struct {
	url, header, script string
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// runAll runs one wrk per target at once (the connections split between
// them) and sums the throughput; latencies are the worst of the targets.
func runAll(ts []target, conns int, d time.Duration) result {
	var mu sync.Mutex
	var sum result
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := wrk(t, max(1, conns/len(ts)), max(1, 2/len(ts)), d)
			mu.Lock()
			defer mu.Unlock()
			sum.rps += r.rps
			sum.errors += r.errors
			sum.p50, sum.p99 = max(sum.p50, r.p50), max(sum.p99, r.p99)
		}()
	}
	wg.Wait()
	return sum
}

// wrk runs one wrk; errors count non-2xx responses and socket errors.
func wrk(t target, conns, threads int, d time.Duration) result {
	w, err := benchkit.Wrk{URL: t.url, Header: t.header, Script: t.script, Threads: threads, Conns: conns, Duration: d}.Run()
	if err != nil {
		log.Fatalf("wrk %s: %v", t.url, err)
	}
	return result{
		rps:    w.RPS,
		p50:    benchkit.Latency(w.P50).Round(10 * time.Microsecond),
		p99:    benchkit.Latency(w.P99).Round(10 * time.Microsecond),
		errors: w.Non2xx + w.SocketErrors,
	}
}
