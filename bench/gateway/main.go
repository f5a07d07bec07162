// Command gateway benchmarks the gateway with wrk, in one run:
//
//	(a) the backend directly
//	(b) gatehouse with no policy
//	(c) gatehouse with seed 004's policy (high limits, a valid RS256 token)
//	(d) nginx as a plain keep-alive reverse proxy — the reference
//
// and prints requests/s, p50 and p99 for each with the ratios c/b and c/d.
// It needs wrk and nginx (Debian packages) and builds ./cmd/gatehouse.
//
//	go run ./bench/gateway [-d 10s] [-c 64] [-t 2]
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each wrk run")
	conns := flag.Int("c", 64, "wrk connections")
	threads := flag.Int("t", 2, "wrk threads")
	profile := flag.String("cpuprofile", "", "write a CPU profile of gatehouse during run (c) to this file")
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

	backend := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello World, time and date are Wed, 25 Nov 2026 00:00:00 UTC"))
	}))
	iss := newIssuer()
	token := iss.token()

	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatal("build: ", err)
	}

	plain := startGatehouse(bin, dir, "plain", backend, "", "")
	defer plain.stop()
	policy, err := os.ReadFile("examples/seed004/policy.xml")
	if err != nil {
		log.Fatal(err)
	}
	seed := strings.NewReplacer(
		"{PrimaryStorageEndpoint}", "https://spa.example",
		"{b2cpolicy-well-known-openid}", iss.url+"/.well-known/openid-configuration",
		"{backend-api-application-client-id}", "bench-api",
		`calls="300"`, `calls="1000000000"`, `calls="15"`, `calls="1000000000"`,
	).Replace(string(policy))
	pprofAddr := ""
	if *profile != "" {
		pprofAddr = freeAddr()
	}
	full := startGatehouse(bin, dir, "seed004", backend, seed, pprofAddr)
	defer full.stop()
	ngx := startNginx(dir, backend)
	defer ngx.Process.Kill()

	auth := "Authorization: Bearer " + token
	runs := []struct{ name, url, header string }{
		{"a backend direct", "http://" + backend + "/api/hello", ""},
		{"b gateway, no policy", plain.url + "/hello/hello", ""},
		{"c gateway, seed 004 policy", full.url + "/hello/hello", auth},
		{"d nginx proxy", "http://" + ngx.addr + "/api/hello", ""},
	}
	res := map[byte]result{}
	fmt.Printf("wrk -t%d -c%d -d%s, GOMAXPROCS of each process = all %d cores\n\n", *threads, *conns, *dur, numCPU())
	fmt.Printf("%-28s %12s %10s %10s\n", "target", "requests/s", "p50", "p99")
	for _, r := range runs {
		// A short warm-up fills connection pools, JWKS and token caches.
		wrk(r.url, r.header, *threads, *conns, 2*time.Second)
		var prof chan error
		if r.name[0] == 'c' && pprofAddr != "" {
			prof = make(chan error, 1)
			go func() { prof <- fetchProfile(pprofAddr, *dur-time.Second, *profile) }()
		}
		out := wrk(r.url, r.header, *threads, *conns, *dur)
		if prof != nil {
			if err := <-prof; err != nil {
				log.Print("profile: ", err)
			}
		}
		res[r.name[0]] = out
		fmt.Printf("%-28s %12.0f %10s %10s  (non-2xx: %d)\n", r.name, out.rps, out.p50, out.p99, out.errors)
	}
	fmt.Printf("\nc/b = %.2f (target >= 0.85)\nc/d = %.2f (target >= 0.45)\n", res['c'].rps/res['b'].rps, res['c'].rps/res['d'].rps)
}

func numCPU() int { n, _ := strconv.Atoi(strings.TrimSpace(run("nproc"))); return n }

func run(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

// serve runs h on a free loopback port and returns host:port.
func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return ln.Addr().String()
}

type issuer struct {
	url    string
	key    *rsa.PrivateKey
	signer jose.Signer
}

func newIssuer() *issuer {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	is := &issuer{key: key}
	is.signer, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	mux := http.NewServeMux()
	is.url = "http://" + serve(mux)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.url + "/", "jwks_uri": is.url + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return is
}

func (is *issuer) token() string {
	now := time.Now()
	tok, err := jwt.Signed(is.signer).Claims(map[string]any{
		"iss": is.url + "/", "sub": "bench-user", "aud": "bench-api",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(2 * time.Hour).Unix(),
	}).Serialize()
	if err != nil {
		log.Fatal(err)
	}
	return tok
}

type proc struct {
	cmd *exec.Cmd
	url string
}

func (p *proc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	p.cmd.Wait()
}

// startGatehouse runs `gatehouse serve` with one API in front of backend and
// the given global policy (none when empty).
func startGatehouse(bin, dir, name, backend, policy, pprofAddr string) *proc {
	cfg := fmt.Sprintf("gateway:\n  listen: 127.0.0.1:0\n  apis:\n    - {name: hello, path: hello, serviceUrl: 'http://%s/api', subscriptionRequired: false}\n", backend)
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
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var rec struct{ Msg, URL string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
			go func() {
				for sc.Scan() {
				}
			}()
			return &proc{cmd, rec.URL}
		}
	}
	log.Fatalf("gatehouse %s did not start", name)
	return nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fetchProfile saves a CPU profile of d from a gatehouse pprof listener.
func fetchProfile(addr string, d time.Duration, file string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

type nginx struct {
	*exec.Cmd
	addr string
}

func startNginx(dir, backend string) nginx {
	addr := freeAddr()
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

type result struct {
	rps      float64
	p50, p99 string
	errors   int
}

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	p50Re    = regexp.MustCompile(`\s50%\s+(\S+)`)
	p99Re    = regexp.MustCompile(`\s99%\s+(\S+)`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func wrk(url, header string, threads, conns int, d time.Duration) result {
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", d.String(), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk %s: %v\n%s", url, err, out)
	}
	s := string(out)
	var r result
	if m := rpsRe.FindStringSubmatch(s); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := p50Re.FindStringSubmatch(s); m != nil {
		r.p50 = m[1]
	}
	if m := p99Re.FindStringSubmatch(s); m != nil {
		r.p99 = m[1]
	}
	if m := non2xxRe.FindStringSubmatch(s); m != nil {
		r.errors, _ = strconv.Atoi(m[1])
	}
	return r
}
