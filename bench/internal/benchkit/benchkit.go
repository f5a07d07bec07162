// Package benchkit holds what the programs under bench/ share: building and
// starting gatehouse, a local OpenID issuer and backend, loopback ports,
// running wrk and reading its output, and fetching pprof profiles.
//
// Helpers that cannot sensibly go on without their result (a port, a
// build) stop the program with log.Fatal, as the benches did before.
package benchkit

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
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

// NumCPU is the machine's core count as nproc reports it (0 if unknown).
func NumCPU() int {
	out, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Serve runs h on a free loopback port and returns host:port.
func Serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return ln.Addr().String()
}

// HelloBackend serves a small fixed plain-text answer on every path and
// returns its host:port: the API behind the gateway.
func HelloBackend() string {
	return Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello World, time and date are Wed, 25 Nov 2026 00:00:00 UTC"))
	}))
}

// BuildGatehouse builds ./cmd/gatehouse into dir and returns the binary.
func BuildGatehouse(dir string) string {
	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatal("build: ", err)
	}
	return bin
}

// Gatehouse is a running `gatehouse serve`.
type Gatehouse struct {
	Cmd  *exec.Cmd
	URLs map[string]string // role ("gateway", "identity") → URL it listens on
}

// StartGatehouse starts cmd, a `gatehouse serve --log-level info` command,
// and waits for its JSON "listening" line of every role in roles. After
// that its log lines at ERROR level are logged with errPrefix, or dropped
// when errPrefix is empty. If the process stops first, the error holds
// what it logged.
func StartGatehouse(cmd *exec.Cmd, errPrefix string, roles ...string) (*Gatehouse, error) {
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	g := &Gatehouse{Cmd: cmd, URLs: map[string]string{}}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var logs []string
	for sc.Scan() {
		logs = append(logs, sc.Text())
		var rec struct{ Msg, Role, URL string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
			g.URLs[rec.Role] = rec.URL
		}
		if g.listening(roles) {
			go func() {
				for sc.Scan() {
					if errPrefix != "" && strings.Contains(sc.Text(), `"level":"ERROR"`) {
						log.Printf("%s%s", errPrefix, sc.Text())
					}
				}
			}()
			return g, nil
		}
	}
	cmd.Wait()
	return nil, errors.New(strings.Join(logs, "\n"))
}

func (g *Gatehouse) listening(roles []string) bool {
	for _, r := range roles {
		if g.URLs[r] == "" {
			return false
		}
	}
	return true
}

// Stop interrupts gatehouse and waits for it to exit.
func (g *Gatehouse) Stop() {
	g.Cmd.Process.Signal(os.Interrupt)
	g.Cmd.Wait()
}

// FetchProfile saves a CPU profile of d from a gatehouse pprof listener.
func FetchProfile(addr string, d time.Duration, file string) error {
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

// Issuer is a local OpenID provider for seed 004's validate-jwt: discovery
// and a JWKS with one RS256 key.
type Issuer struct {
	URL    string
	signer jose.Signer
}

// NewIssuer serves a new issuer on a free loopback port.
func NewIssuer() *Issuer {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	is := &Issuer{}
	is.signer, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	mux := http.NewServeMux()
	is.URL = "http://" + Serve(mux)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL + "/", "jwks_uri": is.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return is
}

// Token is a token for audience bench-api, valid for two hours.
func (is *Issuer) Token() string {
	now := time.Now()
	tok, err := jwt.Signed(is.signer).Claims(map[string]any{
		"iss": is.URL + "/", "sub": "bench-user", "aud": "bench-api",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(2 * time.Hour).Unix(),
	}).Serialize()
	if err != nil {
		log.Fatal(err)
	}
	return tok
}

// Seed004Policy is examples/seed004/policy.xml pointed at the issuer is,
// with rate limits too high to be reached.
func Seed004Policy(is *Issuer) (string, error) {
	policy, err := os.ReadFile("examples/seed004/policy.xml")
	if err != nil {
		return "", err
	}
	return strings.NewReplacer(
		"{PrimaryStorageEndpoint}", "https://spa.example",
		"{b2cpolicy-well-known-openid}", is.URL+"/.well-known/openid-configuration",
		"{backend-api-application-client-id}", "bench-api",
		`calls="300"`, `calls="1000000000"`, `calls="15"`, `calls="1000000000"`,
	).Replace(string(policy)), nil
}

// Wrk is one wrk run with --latency.
type Wrk struct {
	URL            string
	Threads, Conns int
	Duration       time.Duration
	Header, Script string // -H and -s, when set
}

// WrkResult is what wrk reported.
type WrkResult struct {
	RPS          float64
	P50, P99     string // as wrk prints them, such as "1.23ms"; see Latency
	Non2xx       int    // non-2xx or 3xx responses
	SocketErrors int    // connect, read, write and timeout errors
}

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	p50Re    = regexp.MustCompile(`\s50%\s+(\S+)`)
	p99Re    = regexp.MustCompile(`\s99%\s+(\S+)`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockRe   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	latRe    = regexp.MustCompile(`^([\d.]+)(us|ms|s)$`)
)

// Run runs wrk and parses its output. The error holds wrk's output.
func (w Wrk) Run() (WrkResult, error) {
	args := []string{"-t", strconv.Itoa(w.Threads), "-c", strconv.Itoa(w.Conns), "-d", w.Duration.String(), "--latency"}
	if w.Header != "" {
		args = append(args, "-H", w.Header)
	}
	if w.Script != "" {
		args = append(args, "-s", w.Script)
	}
	out, err := exec.Command("wrk", append(args, w.URL)...).CombinedOutput()
	if err != nil {
		return WrkResult{}, fmt.Errorf("%v\n%s", err, out)
	}
	s := string(out)
	var r WrkResult
	if m := rpsRe.FindStringSubmatch(s); m != nil {
		r.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := p50Re.FindStringSubmatch(s); m != nil {
		r.P50 = m[1]
	}
	if m := p99Re.FindStringSubmatch(s); m != nil {
		r.P99 = m[1]
	}
	if m := non2xxRe.FindStringSubmatch(s); m != nil {
		r.Non2xx, _ = strconv.Atoi(m[1])
	}
	if m := sockRe.FindStringSubmatch(s); m != nil {
		for _, n := range m[1:] {
			v, _ := strconv.Atoi(n)
			r.SocketErrors += v
		}
	}
	return r, nil
}

// Latency parses a latency as wrk prints it ("850.00us", "1.23ms", "2.00s");
// anything else is 0.
func Latency(s string) time.Duration {
	m := latRe.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[2]]
	return time.Duration(v * float64(unit))
}

// WritePostScript writes a wrk Lua script that POSTs body as a form.
func WritePostScript(file, body string) error {
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n", body)
	return os.WriteFile(file, []byte(lua), 0o600)
}
