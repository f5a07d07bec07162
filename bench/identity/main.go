// Command identity benchmarks the identity role (the B2C-compatible OpenID
// provider) for both signing algorithms, ES256 and RS256, in one run:
//
//	(1) client-credentials tokens/s: a daemon (client_secret_post) asks for
//	    https://contoso.onmicrosoft.com/backend/.default, driven by wrk with
//	    -c keep-alive connections (a Go loop when wrk is missing)
//	(2) auth-code round trips: a signed-in browser (SSO cookie) does GET
//	    authorize (PKCE S256) → 302 with code → POST token; -n sequential
//	    round trips for p50/p99, then -b concurrent browsers for round trips/s
//	(3) password sign-ins/s: a fresh browser per sign-in (no SSO cookie) does
//	    GET authorize → sign-in page → POST the form → 302 with code, with -b
//	    concurrent browsers (argon2id at OWASP parameters dominates)
//
// It builds ./cmd/gatehouse and runs `gatehouse serve` with an sqlite store
// in a temporary directory. The load generator shares the machine's cores.
//
//	go run ./bench/identity [-d 10s] [-c 32] [-b 8] [-n 500] [-cpuprofile prefix]
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchkit"
)

const (
	tenantID    = "8d2f6a4e-0000-4000-8000-000000000001"
	webClientID = "11111111-1111-4111-8111-111111111111"
	apiClientID = "22222222-2222-4222-8222-222222222222"
	daemonID    = "33333333-3333-4333-8333-333333333333"
	webSecret   = "web-secret-0123456789abcdef"
	daemonSec   = "daemon-secret-0123456789abcdef"
	apiScope    = "https://contoso.onmicrosoft.com/backend/Hello"
	ccScope     = "https://contoso.onmicrosoft.com/backend/.default"
	callback    = "http://127.0.0.1:1/callback" // never reached: browsers stop at it
	policy      = "B2C_1_signupsignin1"
	// customPolicy is the LocalAccounts starter pack's relying party on the
	// policy engine (testdata/b2c-starterpack), beside the user flow.
	customPolicy = "B2C_1A_signup_signin"
	email        = "bench.user@example.com"
	password     = "Str0ng-Passw0rd!"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each timed load run")
	conns := flag.Int("c", 32, "concurrent keep-alive connections for client credentials")
	browsers := flag.Int("b", 8, "concurrent browsers for auth-code round trips and sign-ins")
	seq := flag.Int("n", 500, "sequential auth-code round trips for the latency percentiles")
	algs := flag.String("algs", "ES256,RS256", "signing algorithms to measure")
	profile := flag.String("cpuprofile", "", "write CPU profiles of gatehouse during client credentials to {prefix}-{alg}.pprof")
	flag.Parse()

	dir, err := os.MkdirTemp("", "gatehouse-bench-identity-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := benchkit.BuildGatehouse(dir)
	_, wrkErr := exec.LookPath("wrk")
	gen := "wrk -t2"
	if wrkErr != nil {
		gen = "a Go loop"
	}
	fmt.Printf("%d cores shared by gatehouse and the load generator; client credentials by %s -c%d, %d browsers, -d %s\n\n",
		benchkit.NumCPU(), gen, *conns, *browsers, *dur)

	var rows []row
	for _, alg := range strings.Split(*algs, ",") {
		alg = strings.TrimSpace(alg)
		pprofAddr, pprofFile := "", ""
		if *profile != "" {
			pprofAddr, pprofFile = benchkit.FreeAddr(), *profile+"-"+alg+".pprof"
		}
		gh := startGatehouse(bin, filepath.Join(dir, alg), alg, pprofAddr)
		r := row{alg: alg}
		func() {
			defer gh.Stop()
			r.cc = benchClientCredentials(gh, *conns, *dur, wrkErr == nil, pprofAddr, pprofFile)
			r.seq, r.conc = benchAuthCode(gh, *seq, *browsers, *dur)
			r.signIn = benchSignIn(gh, gh.authorize, *browsers, *dur)
			r.policySignIn = benchSignIn(gh, gh.policyAuthorize, *browsers, *dur)
		}()
		rows = append(rows, r)
	}

	fmt.Printf("\n%-6s | %-29s | %-35s | %s\n", "", "client credentials", "auth-code round trip", "password sign-in")
	fmt.Printf("%-6s | %9s %9s %9s | %8s %8s %8s %8s | %10s %8s %8s\n",
		"alg", "tokens/s", "p50", "p99", "p50", "p99", "rt/s", "p99(b)", "sign-ins/s", "p50", "p99")
	for _, r := range rows {
		fmt.Printf("%-6s | %9.0f %9s %9s | %8s %8s %8.0f %8s | %10.1f %8s %8s\n", r.alg,
			r.cc.rps, ms(r.cc.p50), ms(r.cc.p99),
			ms(r.seq.p50), ms(r.seq.p99), r.conc.rps, ms(r.conc.p99),
			r.signIn.rps, ms(r.signIn.p50), ms(r.signIn.p99))
	}
	fmt.Printf("\n%-6s | %-38s\n", "", "password sign-in, starter pack on the policy engine")
	fmt.Printf("%-6s | %10s %8s %8s | %s\n", "alg", "sign-ins/s", "p50", "p99", "÷ user flow")
	for _, r := range rows {
		fmt.Printf("%-6s | %10.1f %8s %8s | %.2f\n", r.alg, r.policySignIn.rps, ms(r.policySignIn.p50), ms(r.policySignIn.p99),
			r.policySignIn.rps/r.signIn.rps)
	}
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("%s errors: client credentials %d, auth code %d sequential + %d concurrent, sign-ins %d, policy sign-ins %d\n",
			r.alg, r.cc.errors, r.seq.errors, r.conc.errors, r.signIn.errors, r.policySignIn.errors)
	}
	fmt.Println("\ntargets: client credentials >= 1500 tokens/s (ES256), >= 800 (RS256); password sign-ins >= 40/s")
	for _, r := range rows {
		target := 800.0
		if r.alg == "ES256" {
			target = 1500
		}
		fmt.Printf("  %s client credentials %.0f/s: %s; sign-ins %.1f/s: %s\n", r.alg,
			r.cc.rps, verdict(r.cc.rps >= target), r.signIn.rps, verdict(r.signIn.rps >= 40))
	}
}

type row struct {
	alg                                 string
	cc, seq, conc, signIn, policySignIn result
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// gatehouse is a running `gatehouse serve` with the identity role.
type gatehouse struct {
	*benchkit.Gatehouse
	authorize, token string
	policyAuthorize  string // the starter pack's B2C_1A_signup_signin
}

// authorizeURL is the web app's authorize request with PKCE S256 (at the
// user flow's authorize endpoint).
func (g *gatehouse) authorizeURL(challenge, state string) string {
	return authorizeAt(g.authorize, challenge, state)
}

func authorizeAt(endpoint, challenge, state string) string {
	q := url.Values{
		"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {callback},
		"scope": {"openid offline_access " + apiScope}, "state": {state}, "nonce": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	return endpoint + "?" + q.Encode()
}

// startGatehouse runs the identity role with a web app, an API exposing
// Hello and a daemon (as cmd/gatehouse's identityConfig), signing with alg.
func startGatehouse(bin, dir, alg, pprofAddr string) *gatehouse {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		log.Fatal(err)
	}
	policies := starterPack(dir)
	addr := benchkit.FreeAddr()
	publicURL := "http://" + addr
	cfg := fmt.Sprintf(`identity:
  listen: %s
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_MASTER_KEY
  signing: { algorithm: %s }
  email: { outbox: ./outbox }
  # One load generator is one address: lift the per-address cap on sign-in
  # transactions (600 per 5 minutes) above what a run makes.
  throttle: { authorizePerIp: { limit: 1000000, window: 5m } }
  customPolicies: [%s]
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET],
        permissions: [%q] }
    - { name: Backend, clientId: %s, type: web, identifierUri: https://contoso.onmicrosoft.com/backend,
        scopes: [Hello], clientSecrets: [env:WEB_SECRET] }
    - { name: Daemon, clientId: %s, type: daemon, clientSecrets: [env:DAEMON_SECRET],
        permissions: [%q] }
  userFlows:
    - name: %s
      type: signUpOrSignIn
      attributes: [displayName]
      emailVerification: false
      claims: [displayName, emails, objectId, newUser]
`, addr, publicURL, tenantID, alg, policies, webClientID, callback, apiScope, apiClientID, daemonID, ccScope, policy)
	file := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		log.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	// Info level: the "listening" line tells the address; request logs are
	// at debug, so nothing else is written under load.
	cmd := exec.Command(bin, "serve", "--config", file, "--log-level", "info")
	if pprofAddr != "" {
		cmd.Args = append(cmd.Args, "--pprof-listen", pprofAddr)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GH_MASTER_KEY="+base64.StdEncoding.EncodeToString(key),
		"WEB_SECRET="+webSecret, "DAEMON_SECRET="+daemonSec)
	gh, err := benchkit.StartGatehouse(cmd, "gatehouse "+alg+": ", "identity")
	if err != nil {
		log.Fatalf("gatehouse (%s) did not start:\n%v", alg, err)
	}

	authority := publicURL + "/contoso.onmicrosoft.com/" + policy + "/v2.0/"
	resp, err := http.Get(authority + ".well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	var disco struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disco)
	resp.Body.Close()
	if err != nil || disco.TokenEndpoint == "" {
		log.Fatalf("discovery: %v %+v", err, disco)
	}
	return &gatehouse{Gatehouse: gh, authorize: disco.AuthorizationEndpoint, token: disco.TokenEndpoint,
		policyAuthorize: publicURL + "/contoso.onmicrosoft.com/" + customPolicy + "/oauth2/v2.0/authorize"}
}

// starterPack writes the LocalAccounts starter pack (testdata, run from
// the repository root) into dir/policies with its placeholders filled and
// returns the files as a YAML list.
func starterPack(dir string) string {
	fill := strings.NewReplacer("yourtenant.onmicrosoft.com", "contoso.onmicrosoft.com",
		"ProxyIdentityExperienceFrameworkAppId", "9c6c3f55-6fa4-4b3b-93a2-0e7f0f2d8d11",
		"IdentityExperienceFrameworkAppId", "b7a2e3b4-51a0-4f7e-9a2c-6d1c7e8f9a22")
	files, err := filepath.Glob(filepath.Join("testdata", "b2c-starterpack", "LocalAccounts", "*.xml"))
	if err != nil || len(files) == 0 {
		log.Fatalf("the starter pack (testdata/b2c-starterpack/LocalAccounts): run from the repository root: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o700); err != nil {
		log.Fatal(err)
	}
	var list []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		out := filepath.Join(dir, "policies", filepath.Base(f))
		if err := os.WriteFile(out, []byte(fill.Replace(string(data))), 0o600); err != nil {
			log.Fatal(err)
		}
		list = append(list, strconv.Quote(out))
	}
	return strings.Join(list, ", ")
}

// ---- client credentials

func ccBody() string {
	return url.Values{
		"grant_type": {"client_credentials"}, "client_id": {daemonID}, "client_secret": {daemonSec}, "scope": {ccScope},
	}.Encode()
}

func benchClientCredentials(g *gatehouse, conns int, d time.Duration, useWrk bool, pprofAddr, pprofFile string) result {
	// A token first: the grant works and is signed with the expected algorithm.
	resp, err := http.Post(g.token, "application/x-www-form-urlencoded", strings.NewReader(ccBody()))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(body, &tok)
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		log.Fatalf("client credentials: %d %s", resp.StatusCode, body)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[0])
	log.Printf("client-credentials token header %s", hdr)

	run := func(d time.Duration) result {
		if useWrk {
			return wrk(g.token, conns, d)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
		payload := ccBody()
		return load(conns, d, func(int) error {
			resp, err := client.Post(g.token, "application/x-www-form-urlencoded", strings.NewReader(payload))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
	}
	run(2 * time.Second) // warm-up: connections, the claims template
	var prof chan error
	if pprofAddr != "" {
		prof = make(chan error, 1)
		go func() { prof <- benchkit.FetchProfile(pprofAddr, d-time.Second, pprofFile) }()
	}
	r := run(d)
	if prof != nil {
		if err := <-prof; err != nil {
			log.Print("profile: ", err)
		} else {
			log.Printf("CPU profile written to %s", pprofFile)
		}
	}
	return r
}

// wrk POSTs the client-credentials form with 2 threads; errors count
// non-2xx responses and socket errors.
func wrk(target string, conns int, d time.Duration) result {
	script := filepath.Join(os.TempDir(), fmt.Sprintf("gatehouse-bench-cc-%d.lua", os.Getpid()))
	if err := benchkit.WritePostScript(script, ccBody()); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(script)
	w, err := benchkit.Wrk{URL: target, Script: script, Threads: 2, Conns: conns, Duration: d}.Run()
	if err != nil {
		log.Fatalf("wrk: %v", err)
	}
	return result{rps: w.RPS, p50: benchkit.Latency(w.P50), p99: benchkit.Latency(w.P99), errors: w.Non2xx + w.SocketErrors}
}

// ---- browsers

// browser is a JavaScript-free browser: a cookie jar, and redirects
// followed until the app's redirect URI.
type browser struct {
	client *http.Client
}

func newBrowser(tr http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{client: &http.Client{
		Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), callback) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) (*page, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return &page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(body)}, err
}

func (b *browser) get(u string) (*page, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

// The hosted page's markup (identity/userflow/templates/page.html).
var (
	formRE   = regexp.MustCompile(`<form[^>]*\baction="([^"]*)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	anchorRE = regexp.MustCompile(`<a href="([^"]*)" id="([^"]+)"`)
)

func (b *browser) follow(p *page, id string) (*page, error) {
	for _, m := range anchorRE.FindAllStringSubmatch(p.body, -1) {
		if m[2] == id {
			u, err := p.url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				return nil, err
			}
			return b.get(u.String())
		}
	}
	return nil, fmt.Errorf("no link #%s on %s (status %d)", id, p.url, p.status)
}

// submit fills the page's form with fields and presses the button id.
func (b *browser) submit(p *page, button string, fields map[string]string) (*page, error) {
	m := formRE.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, `id="`+button+`"`) {
		return nil, fmt.Errorf("no form with button #%s on %s (status %d):\n%.2000s", button, p.url, p.status, p.body)
	}
	form := url.Values{"action": {button}}
	for _, h := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	target, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// code returns the code of a redirect to the callback with the given state.
func code(p *page, state string) (string, error) {
	loc := p.header.Get("Location")
	if p.status < 300 || p.status > 399 || !strings.HasPrefix(loc, callback) {
		return "", fmt.Errorf("expected a redirect to the app, got %d %s: %.500s", p.status, loc, p.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		return "", fmt.Errorf("callback %v", q)
	}
	return q.Get("code"), nil
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn runs the hosted sign-in (or sign-up) pages in b from authorize to
// the redirect with a code.
func (g *gatehouse) signIn(b *browser, signUp bool) (string, string, error) {
	return g.signInAt(b, g.authorize, signUp)
}

// signInAt signs in at an authorize endpoint (a user flow's or a custom
// policy's: both pages have signInName, password and next).
func (g *gatehouse) signInAt(b *browser, endpoint string, signUp bool) (string, string, error) {
	verifier, challenge := pkce()
	state := randState()
	p, err := b.get(authorizeAt(endpoint, challenge, state))
	if err != nil {
		return "", "", err
	}
	if p.status != 200 || !strings.Contains(p.body, `id="signInName"`) {
		return "", "", fmt.Errorf("sign-in page: %d %.500s", p.status, p.body)
	}
	if signUp {
		if p, err = b.follow(p, "createAccount"); err != nil {
			return "", "", err
		}
		p, err = b.submit(p, "continue", map[string]string{
			"email": email, "newPassword": password, "reenterPassword": password, "displayName": "Bench User",
		})
	} else {
		p, err = b.submit(p, "next", map[string]string{"signInName": email, "password": password})
	}
	if err != nil {
		return "", "", err
	}
	c, err := code(p, state)
	return c, verifier, err
}

// roundTrip is a signed-in app's auth-code round trip: authorize (the SSO
// session answers at once) and the code redeemed at the token endpoint.
func (g *gatehouse) roundTrip(b *browser) error {
	verifier, challenge := pkce()
	state := randState()
	p, err := b.get(g.authorizeURL(challenge, state))
	if err != nil {
		return err
	}
	c, err := code(p, state)
	if err != nil {
		return err
	}
	return g.redeem(b.client.Transport, c, verifier)
}

func (g *gatehouse) redeem(tr http.RoundTripper, code, verifier string) error {
	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {webClientID}, "client_secret": {webSecret},
		"code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier},
		"scope": {"openid offline_access " + apiScope},
	}
	resp, err := (&http.Client{Transport: tr}).PostForm(g.token, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken  string `json:"access_token"`
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 || err != nil || tok.IDToken == "" || tok.AccessToken == "" {
		return fmt.Errorf("token: status %d, %v", resp.StatusCode, err)
	}
	return nil
}

func benchAuthCode(g *gatehouse, n, browsers int, d time.Duration) (seq, conc result) {
	// Sign the user up once, then sign in each concurrent browser.
	bs := make([]*browser, browsers)
	for i := range bs {
		bs[i] = newBrowser(&http.Transport{})
		c, v, err := g.signIn(bs[i], i == 0)
		if err == nil {
			err = g.redeem(bs[i].client.Transport, c, v)
		}
		if err != nil {
			log.Fatalf("sign-up/sign-in: %v", err)
		}
	}
	// Sequential: one browser, n round trips, after a short warm-up.
	for range 20 {
		g.roundTrip(bs[0])
	}
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for range n {
		t := time.Now()
		if err := g.roundTrip(bs[0]); err != nil {
			seq.errors++
			if seq.errors == 1 {
				log.Print("auth code: ", err)
			}
			continue
		}
		lat = append(lat, time.Since(t))
	}
	seq.rps = float64(len(lat)) / time.Since(start).Seconds()
	seq.p50, seq.p99 = percentiles(lat)
	conc = load(browsers, d, func(w int) error { return g.roundTrip(bs[w]) })
	return seq, conc
}

func benchSignIn(g *gatehouse, endpoint string, browsers int, d time.Duration) result {
	// A transport per worker: a fresh browser (cookie jar) per sign-in, but
	// keep-alive connections, as many browsers behind one NAT would not
	// exhaust ephemeral ports either.
	trs := make([]http.RoundTripper, browsers)
	for i := range trs {
		trs[i] = &http.Transport{}
	}
	return load(browsers, d, func(w int) error {
		_, _, err := g.signInAt(newBrowser(trs[w]), endpoint, false)
		return err
	})
}

// load runs fn in conc goroutines for d and reports successes per second
// and their latency percentiles.
func load(conc int, d time.Duration, fn func(worker int) error) result {
	var (
		mu     sync.Mutex
		all    []time.Duration
		errs   int
		logged bool
		wg     sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			nerr := 0
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := fn(w); err != nil {
					nerr++
					mu.Lock()
					if !logged {
						logged = true
						log.Print(err)
					}
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{rps: float64(len(all)) / time.Since(start).Seconds(), errors: errs}
	r.p50, r.p99 = percentiles(all)
	return r
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return at(0.50), at(0.99)
}
