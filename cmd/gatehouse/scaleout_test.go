package main

// Scale-out: three `gatehouse serve` processes with the identity and gateway
// roles share one PostgreSQL database (identity.storage) and one Redis
// (gateway.redis). An in-test HTTP front (the load balancer) carries the
// single identity publicUrl, so the issuer is the same whichever process
// answers, while a header pins a request to one process when the test needs
// to choose.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

const (
	// pinHeader sends a request through the front to process N (0-based)
	// only, with no retry.
	pinHeader     = "X-Scaleout-Backend"
	scaleCallback = "http://127.0.0.1:1/callback" // never reached: the browser stops at it
	scaleFlow     = "B2C_1_signupsignin1"
	scalePassword = "Str0ng-Passw0rd!"
)

// front is the load balancer: round robin over the live identity
// listeners, retrying on another process when one cannot be reached
// (any request whose connection was refused; an idempotent GET/HEAD or a
// client-credentials token request after any transport error).
type front struct {
	srv      *httptest.Server
	tr       *http.Transport
	mu       sync.Mutex
	backends []string
	rr       atomic.Uint64
	retries  atomic.Int64
}

func newFront(t *testing.T) *front {
	f := &front{tr: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 20 * time.Second}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(func() {
		f.srv.Close()
		f.tr.CloseIdleConnections()
	})
	return f
}

func (f *front) set(i int, backend string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.backends) <= i {
		f.backends = append(f.backends, "")
	}
	f.backends[i] = backend
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "front: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	backends := append([]string(nil), f.backends...)
	f.mu.Unlock()
	var order []int
	if v := r.Header.Get(pinHeader); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(backends) {
			http.Error(w, "front: bad "+pinHeader, http.StatusBadRequest)
			return
		}
		order = []int{i}
	} else {
		start := int(f.rr.Add(1))
		for k := range backends {
			order = append(order, (start+k)%len(backends))
		}
	}
	form, _ := url.ParseQuery(string(body))
	idempotent := r.Method == http.MethodGet || r.Method == http.MethodHead ||
		(strings.HasSuffix(r.URL.Path, "/token") && form.Get("grant_type") == "client_credentials")
	for n, i := range order {
		u, err := url.Parse(backends[i])
		if err != nil || backends[i] == "" {
			continue
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
		out.RequestURI = ""
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header.Del(pinHeader)
		resp, err := f.tr.RoundTrip(out)
		if err != nil {
			var op *net.OpError
			refused := errors.As(err, &op) && op.Op == "dial"
			if (refused || idempotent) && n < len(order)-1 {
				f.retries.Add(1)
				continue
			}
			http.Error(w, "front: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "front: no backend", http.StatusBadGateway)
}

// pinned adds the pin header to every request.
type pinned struct {
	base http.RoundTripper
	n    int
}

func (p pinned) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(pinHeader, strconv.Itoa(p.n))
	return p.base.RoundTrip(r)
}

// tcpProxy sits between Gatehouse and PostgreSQL. cut closes every
// connection and refuses (accepts and closes) new ones, as a database
// restart does; restore lets them through again.
//
// partition instead stops forwarding without closing anything (a network
// partition: packets vanish, nothing is refused); restore then resets the
// stalled connections, as TCP eventually does.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	frozen atomic.Bool
	conns  map[net.Conn]bool
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			if p.frozen.Load() {
				p.conns[c] = true // held open, never answered
				p.mu.Unlock()
				continue
			}
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && !p.frozen.Load() {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				dst.Close()
				src.Close()
			}
			go pipe(c, up)
			go pipe(up, c)
		}
	}()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) partition() { p.frozen.Store(true) }

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen.Load() {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
		p.frozen.Store(false)
	}
	p.down = false
}

// cluster is n `gatehouse serve` processes of one config behind a front.
type cluster struct {
	front   *front
	dir     string
	file    string
	env     []string
	public  string
	procs   []*server
	apiCall *atomic.Int64 // calls that reached the gateway's backend
	client  *http.Client
}

type clusterOpts struct {
	n         int    // processes (3)
	storage   string // identity.storage (a fresh PostgreSQL database)
	redisAddr string // gateway.redis (a throwaway redis-server)
	mode      string // gateway.redisFailureMode (open)
	calls     int    // the gateway's rate limit per minute (1000)
}

// scaleoutYAML is the config every process of a cluster runs. Listeners
// are on port 0: only publicUrl (the front) must be the same everywhere.
func scaleoutYAML(public, storage, redisAddr, mode, backend, signing string) string {
	return fmt.Sprintf(`identity:
  listen: 127.0.0.1:0
  publicUrl: %s
  tenant: { name: contoso, id: %s }
  storage: %q
  masterKey: env:GH_MASTER_KEY
%s  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET],
        permissions: [%q] }
    - { name: Backend, clientId: %s, type: web, identifierUri: https://contoso.onmicrosoft.com/backend,
        scopes: [Hello], clientSecrets: [env:WEB_SECRET] }
    - { name: Daemon, clientId: %s, type: daemon, clientSecrets: [env:DAEMON_SECRET],
        permissions: ["https://contoso.onmicrosoft.com/backend/.default"] }
  userFlows:
    - name: %s
      type: signUpOrSignIn
      attributes: [displayName]
      emailVerification: false
      claims: [displayName, emails, objectId, newUser]
gateway:
  listen: 127.0.0.1:0
  redis: redis://%s/0
  redisFailureMode: %s
  policy: limit.xml
  apis:
    - { name: echo, path: echo, serviceUrl: %q, subscriptionRequired: false }
`, public, tenantID, storage, signing, webClientID, scaleCallback, apiScope, apiClientID, daemonID, scaleFlow,
		redisAddr, mode, backend)
}

func startCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	if o.n == 0 {
		o.n = 3
	}
	if o.storage == "" {
		o.storage = testutil.Postgres(t)
	}
	if o.redisAddr == "" {
		o.redisAddr = testutil.StartRedisServer(t).Addr
	}
	if o.mode == "" {
		o.mode = "open"
	}
	if o.calls == 0 {
		o.calls = 1000
	}
	c := &cluster{front: newFront(t), dir: t.TempDir(), apiCall: &atomic.Int64{},
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	c.public = c.front.srv.URL
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.apiCall.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(backend.Close)
	// The counter key is the same for every caller: one limit over all
	// three gateways.
	writeFile(t, c.dir, "limit.xml", fmt.Sprintf(`<policies>
  <inbound>
    <rate-limit-by-key calls="%d" renewal-period="60" counter-key="scaleout" />
  </inbound>
  <backend><forward-request /></backend>
</policies>`, o.calls))
	c.file = writeFile(t, c.dir, "gatehouse.yaml", scaleoutYAML(c.public, o.storage, o.redisAddr, o.mode, backend.URL, ""))
	key := make([]byte, 32)
	rand.Read(key)
	c.env = []string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "WEB_SECRET=" + webSecret, "DAEMON_SECRET=" + daemonSec}
	// One after the other: the first creates the schema and the signing
	// key, the others find them.
	for i := 0; i < o.n; i++ {
		s := startServe(t, c.file, c.env, "identity", "gateway")
		c.procs = append(c.procs, s)
		c.front.set(i, s.url("identity"))
	}
	t.Cleanup(c.client.CloseIdleConnections)
	return c
}

func (c *cluster) endpoint(name string) string {
	return c.public + "/contoso.onmicrosoft.com/" + scaleFlow + "/" + name
}

// signIn signs a user up (or in) through the hosted pages of process n and
// returns the authorization code and its PKCE verifier.
func (c *cluster) signIn(t *testing.T, n int, signUp bool, email string) (code, verifier string) {
	t.Helper()
	b := c.browser(t, n)
	page, verifier := c.startSignIn(t, b)
	if signUp {
		page = b.Follow(page, "createAccount")
		page = b.Submit(page, "continue", map[string]string{
			"email": email, "newPassword": scalePassword, "reenterPassword": scalePassword, "displayName": "Scale Out",
		})
	} else {
		page = b.Submit(page, "next", map[string]string{"signInName": email, "password": scalePassword})
	}
	q := b.Callback(page)
	if q.Get("code") == "" {
		t.Fatalf("callback without code: %v", q)
	}
	return q.Get("code"), verifier
}

func (c *cluster) browser(t *testing.T, n int) *testutil.Browser {
	b := testutil.NewBrowser(t, scaleCallback, nil)
	b.Client.Transport = pinned{b.Client.Transport, n}
	return b
}

// startSignIn opens the sign-in page (the authorize request).
func (c *cluster) startSignIn(t *testing.T, b *testutil.Browser) (*testutil.Page, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	page := b.Get(c.authorizeURL(verifier))
	if page.Status != 200 || !strings.Contains(page.Body, `id="signInName"`) {
		t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
	}
	return page, verifier
}

func (c *cluster) authorizeURL(verifier string) string {
	q := url.Values{
		"client_id": {webClientID}, "response_type": {"code"}, "redirect_uri": {scaleCallback},
		"scope": {"openid offline_access " + apiScope}, "state": {oauth2.GenerateVerifier()},
		"nonce": {oauth2.GenerateVerifier()}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
	return c.endpoint("oauth2/v2.0/authorize") + "?" + q.Encode()
}

// token posts to the token endpoint through the front (pinned to process
// n unless n < 0) and returns the status and the decoded JSON body.
func (c *cluster) token(t *testing.T, n int, form url.Values) (int, map[string]any) {
	t.Helper()
	status, body, err := c.tokenErr(n, form)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("token response %d is not JSON: %q", status, body)
	}
	return status, m
}

func (c *cluster) tokenErr(n int, form url.Values) (int, []byte, error) {
	req, _ := http.NewRequest("POST", c.endpoint("oauth2/v2.0/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if form.Get("grant_type") == "client_credentials" {
		req.SetBasicAuth(daemonID, daemonSec)
	} else {
		req.SetBasicAuth(webClientID, webSecret)
	}
	if n >= 0 {
		req.Header.Set(pinHeader, strconv.Itoa(n))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {scaleCallback},
		"code_verifier": {verifier}, "scope": {"openid offline_access " + apiScope}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

var ccForm = url.Values{"grant_type": {"client_credentials"}, "scope": {"https://contoso.onmicrosoft.com/backend/.default"}}

// get fetches a URL through the front (pinned to n unless n < 0).
func (c *cluster) get(n int, u string) (int, []byte, error) {
	req, _ := http.NewRequest("GET", u, nil)
	if n >= 0 {
		req.Header.Set(pinHeader, strconv.Itoa(n))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// kids are the key ids of process n's JWKS.
func (c *cluster) kids(t *testing.T, n int) []string {
	t.Helper()
	status, body, err := c.get(n, c.endpoint("discovery/v2.0/keys"))
	if err != nil || status != 200 {
		t.Fatalf("jwks of process %d: %d %v %s", n, status, err, body)
	}
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func jwtKid(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var hdr struct{ Kid string }
	json.Unmarshal(b, &hdr)
	return hdr.Kid
}

// TestScaleOutSignInRedeemRefresh: sign-in on process 1, code redemption
// on 2, refresh on 3 (tokens verify against the one issuer); a replayed
// refresh token on another process revokes the family; one code redeemed
// on all three at once succeeds exactly once.
func TestScaleOutSignInRedeemRefresh(t *testing.T) {
	c := startCluster(t, clusterOpts{})
	ctx := oidc.ClientContext(context.Background(), c.client)
	issuer := c.public + "/" + tenantID + "/v2.0/"
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, issuer), c.public+"/contoso.onmicrosoft.com/"+scaleFlow+"/v2.0/")
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})

	code, pkce := c.signIn(t, 0, true, "scale.user@example.com")
	status, tok := c.token(t, 1, codeForm(code, pkce))
	if status != 200 {
		t.Fatalf("redeeming on process 2: %d %v", status, tok)
	}
	idt, err := verifier.Verify(ctx, fmt.Sprint(tok["id_token"]))
	if err != nil {
		t.Fatalf("id token from process 2: %v", err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	if claims["newUser"] != true {
		t.Errorf("claims = %v", claims)
	}
	rt0 := fmt.Sprint(tok["refresh_token"])
	status, tok = c.token(t, 2, refreshForm(rt0))
	if status != 200 {
		t.Fatalf("refresh on process 3: %d %v", status, tok)
	}
	if _, err := verifier.Verify(ctx, fmt.Sprint(tok["id_token"])); err != nil {
		t.Errorf("id token from process 3: %v", err)
	}
	rt1 := fmt.Sprint(tok["refresh_token"])
	if rt1 == rt0 || rt1 == "" {
		t.Fatalf("refresh did not rotate: %v", tok)
	}
	// Replay of the rotated-away token on process 1: refused, family revoked.
	if status, tok = c.token(t, 0, refreshForm(rt0)); status != 400 || tok["error"] != "invalid_grant" {
		t.Errorf("replayed refresh token on process 1: %d %v", status, tok)
	}
	if status, tok = c.token(t, 1, refreshForm(rt1)); status != 400 || tok["error"] != "invalid_grant" {
		t.Errorf("newest refresh token after the replay, on process 2: %d %v", status, tok)
	}

	// One code, three processes, the same instant: exactly one success.
	for round := 0; round < 3; round++ {
		code, pkce := c.signIn(t, 0, false, "scale.user@example.com")
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, 3)
		bodies := make([]map[string]any, 3)
		for n := 0; n < 3; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s, b, err := c.tokenErr(n, codeForm(code, pkce))
				if err != nil {
					t.Error(err)
					return
				}
				statuses[n] = s
				json.Unmarshal(b, &bodies[n])
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for n, s := range statuses {
			switch {
			case s == 200:
				ok++
			case s == 400 && bodies[n]["error"] == "invalid_grant":
			default:
				t.Errorf("round %d, process %d: %d %v", round, n+1, s, bodies[n])
			}
		}
		t.Logf("round %d: one code on three processes: statuses %v", round, statuses)
		if ok != 1 {
			t.Errorf("round %d: %d successful redemptions of one code (statuses %v), want exactly 1", round, ok, statuses)
		}
	}
}

// TestScaleOutRateLimitExact: a limit of N per window over the three
// gateways of the cluster lets exactly N of many concurrent calls through.
func TestScaleOutRateLimitExact(t *testing.T) {
	const limit, total = 41, 150
	c := startCluster(t, clusterOpts{calls: limit})
	var urls []string
	for _, p := range c.procs {
		urls = append(urls, p.url("gateway")+"/echo/x")
	}
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 15; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/15; i++ {
				resp, err := c.client.Get(urls[(w+i)%3])
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != limit || limited.Load() != total-limit || c.apiCall.Load() != limit {
		t.Errorf("allowed %d (backend saw %d), limited %d; want exactly %d of %d", ok.Load(), c.apiCall.Load(), limited.Load(), limit, total)
	}
}

// TestScaleOutSigningKeyRotation: there is no operator command that
// rotates the token-signing key; rotation follows identity.signing.rotateEvery,
// and a successor is published PublishAhead (24 h) before it signs.
// Restarting one process with a rotateEvery shorter than the current key's
// age + 24 h makes it publish the successor at once; every other process
// serves it in its JWKS within the keyring's refresh interval (1 min),
// while tokens stay signed by the current key everywhere.
func TestScaleOutSigningKeyRotation(t *testing.T) {
	c := startCluster(t, clusterOpts{})
	before := c.kids(t, 0)
	if len(before) != 1 {
		t.Fatalf("JWKS before rotation: %v", before)
	}
	for n := 1; n < 3; n++ {
		if k := c.kids(t, n); fmt.Sprint(k) != fmt.Sprint(before) {
			t.Fatalf("process %d serves %v, process 1 %v", n+1, k, before)
		}
	}
	// Process 1 restarts with rotation on (graceful stop: SIGTERM).
	c.procs[0].cmd.Process.Signal(syscall.SIGTERM)
	c.procs[0].cmd.Wait()
	rotated := strings.Replace(scaleoutYAMLFromFile(t, c.file), "  masterKey: env:GH_MASTER_KEY\n",
		"  masterKey: env:GH_MASTER_KEY\n  signing: { rotateEvery: 1h }\n", 1)
	file := writeFile(t, c.dir, "rotate.yaml", rotated)
	c.procs[0] = startServe(t, file, c.env, "identity", "gateway")
	c.front.set(0, c.procs[0].url("identity"))
	published := time.Now()

	after := c.kids(t, 0)
	var next string
	for _, k := range after {
		if k != before[0] {
			next = k
		}
	}
	if len(after) != 2 || next == "" {
		t.Fatalf("process 1 after restarting with rotateEvery: JWKS %v, want the old and a new key", after)
	}
	deadline := published.Add(90 * time.Second) // refresh interval 60 s + slack
	for n := 1; n < 3; n++ {
		for !strings.Contains(fmt.Sprint(c.kids(t, n)), next) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d does not publish the new key %s %v after publication", n+1, next, time.Since(published))
			}
			time.Sleep(500 * time.Millisecond) // polling the JWKS, bounded by the deadline
		}
	}
	t.Logf("new key %s served by every process %v after process 1 published it", next, time.Since(published).Round(time.Second))
	if d := time.Since(published); d > 70*time.Second {
		t.Logf("note: propagation took %v (> 70 s)", d)
	}
	// The successor signs only from its NotBefore (24 h ahead): every
	// process still signs with the old key.
	for n := 0; n < 3; n++ {
		status, tok := c.token(t, n, ccForm)
		if status != 200 {
			t.Fatalf("client credentials on process %d: %d %v", n+1, status, tok)
		}
		if kid := jwtKid(t, fmt.Sprint(tok["access_token"])); kid != before[0] {
			t.Errorf("process %d signs with %s, want the current key %s", n+1, kid, before[0])
		}
	}
}

func scaleoutYAMLFromFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScaleOutKillOneProcess: SIGKILL one process while 8 clients hammer
// the front (discovery, JWKS, client credentials; the front retries on the
// other processes): no request is lost, and every user signed up before
// the kill — on any process — is in the store afterwards; a refresh token
// issued by the killed process works on another one.
func TestScaleOutKillOneProcess(t *testing.T) {
	c := startCluster(t, clusterOpts{})
	var emails []string
	for n := 0; n < 3; n++ {
		for i := 0; i < 2; i++ {
			e := fmt.Sprintf("before.%d.%d@example.com", n, i)
			c.signIn(t, n, true, e)
			emails = append(emails, e)
		}
	}

	stop := make(chan struct{})
	var okN, failN atomic.Int64
	var failMu sync.Mutex
	var fails []string
	var wg sync.WaitGroup
	targets := []string{c.endpoint("v2.0/.well-known/openid-configuration"), c.endpoint("discovery/v2.0/keys"), ""}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var status int
				var body []byte
				var err error
				if u := targets[(w+i)%3]; u != "" {
					status, body, err = c.get(-1, u)
				} else {
					status, body, err = c.tokenErr(-1, ccForm)
				}
				if err != nil || status != 200 {
					failN.Add(1)
					failMu.Lock()
					if len(fails) < 5 {
						fails = append(fails, fmt.Sprintf("%d %v %.200s", status, err, body))
					}
					failMu.Unlock()
					continue
				}
				okN.Add(1)
			}
		}()
	}
	time.Sleep(time.Second) // load before the kill
	// The last sign-up through process 3 commits just before it dies.
	code, pkce := c.signIn(t, 2, true, "last.before.kill@example.com")
	emails = append(emails, "last.before.kill@example.com")
	status, tok := c.token(t, 2, codeForm(code, pkce))
	if status != 200 {
		t.Fatalf("redeem on process 3: %d %v", status, tok)
	}
	beforeKill := okN.Load()
	if err := c.procs[2].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	time.Sleep(2 * time.Second) // load after the kill
	close(stop)
	wg.Wait()
	t.Logf("%d requests ok (%d after the kill, %v), %d failed, %d retried on another process",
		okN.Load(), okN.Load()-beforeKill, time.Since(killed).Round(time.Millisecond), failN.Load(), c.front.retries.Load())
	if failN.Load() != 0 {
		t.Errorf("%d requests lost; first: %v", failN.Load(), fails)
	}
	if okN.Load()-beforeKill == 0 {
		t.Error("no request served after the kill")
	}

	out, errOut, code2 := gatehouse(t, c.env, "users", "list", "--config", c.file, "--json")
	if code2 != 0 {
		t.Fatalf("users list: %d %s", code2, errOut)
	}
	for _, e := range emails {
		if !strings.Contains(out, e) {
			t.Errorf("user %s, signed up before the kill, is missing", e)
		}
	}
	// State written by the dead process serves on the others.
	if status, tok := c.token(t, 0, refreshForm(fmt.Sprint(tok["refresh_token"]))); status != 200 {
		t.Errorf("refresh token of the killed process, on process 1: %d %v", status, tok)
	}
	c.signIn(t, 1, false, "before.2.0@example.com")
}

// TestScaleOutPostgresOutage: PostgreSQL goes away (a TCP proxy between
// Gatehouse and the database cuts every connection and refuses new ones):
// requests that need the store answer 503 promptly — token requests with
// the OAuth JSON error — and work again once the database is back, with
// no restart. Client credentials and JWKS need no store and keep working.
//
// Two kinds of outage: "restart" closes every connection and refuses new
// ones (what a PostgreSQL restart does); "partition" silently stops
// forwarding (packets vanish), which only timeouts can detect.
func TestScaleOutPostgresOutage(t *testing.T) {
	for _, kind := range []string{"restart", "partition"} {
		t.Run(kind, func(t *testing.T) { postgresOutage(t, kind) })
	}
}

func postgresOutage(t *testing.T, kind string) {
	pg := testutil.Postgres(t)
	proxy := startTCPProxy(t, testutil.PostgresAddr)
	c := startCluster(t, clusterOpts{storage: strings.Replace(pg, testutil.PostgresAddr, proxy.addr(), 1)})

	code, pkce := c.signIn(t, 0, true, "outage@example.com")
	status, tok := c.token(t, 1, codeForm(code, pkce))
	if status != 200 {
		t.Fatalf("redeem: %d %v", status, tok)
	}
	rt := fmt.Sprint(tok["refresh_token"])
	pendingCode, pendingPKCE := c.signIn(t, 2, false, "outage@example.com")
	pendingBrowser := c.browser(t, 0)
	pendingPage, _ := c.startSignIn(t, pendingBrowser)

	if kind == "partition" {
		proxy.partition()
	} else {
		proxy.cut()
	}
	const bound = 15 * time.Second
	timed := func(what string, f func() (int, string)) {
		t.Helper()
		start := time.Now()
		status, body := f()
		d := time.Since(start)
		if d > bound {
			t.Errorf("%s during the outage took %v (> %v)", what, d, bound)
		}
		if status != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %d, want 503: %.300s", what, status, body)
		}
		t.Logf("%s during the outage: %d in %v", what, status, d.Round(time.Millisecond))
	}
	procs := 3
	if kind == "partition" {
		procs = 1 // the processes behave alike; each hang costs the front's timeout
	}
	for n := 0; n < procs; n++ {
		for _, g := range []struct {
			name string
			form url.Values
		}{{"refresh", refreshForm(rt)}, {"code redemption", codeForm(pendingCode, pendingPKCE)}} {
			timed(fmt.Sprintf("%s on process %d", g.name, n+1), func() (int, string) {
				s, b, err := c.tokenErr(n, g.form)
				if err != nil {
					t.Fatal(err)
				}
				var e struct{ Error string }
				if json.Unmarshal(b, &e) != nil || e.Error != "temporarily_unavailable" {
					t.Errorf("%s on process %d: body %q is not an OAuth temporarily_unavailable error", g.name, n+1, b)
				}
				return s, string(b)
			})
		}
		timed(fmt.Sprintf("authorize on process %d", n+1), func() (int, string) {
			p := c.browser(t, n).Get(c.authorizeURL(oauth2.GenerateVerifier()))
			return p.Status, p.Body
		})
		// Store-free endpoints keep serving.
		if s, b := c.token(t, n, ccForm); s != 200 {
			t.Errorf("client credentials on process %d during the outage: %d %v", n+1, s, b)
		}
		if s, _, err := c.get(n, c.endpoint("discovery/v2.0/keys")); err != nil || s != 200 {
			t.Errorf("JWKS on process %d during the outage: %d %v", n+1, s, err)
		}
	}
	timed("sign-in form submission", func() (int, string) {
		p := pendingBrowser.Submit(pendingPage, "next", map[string]string{"signInName": "outage@example.com", "password": scalePassword})
		return p.Status, p.Body
	})

	proxy.restore()
	restored := time.Now()
	deadline := restored.Add(30 * time.Second)
	for {
		s, b, err := c.tokenErr(2, refreshForm(rt))
		if err == nil && s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refresh not working %v after PostgreSQL came back: %d %v %s", time.Since(restored), s, err, b)
		}
		time.Sleep(200 * time.Millisecond) // polling for recovery, bounded by the deadline
	}
	t.Logf("recovered %v after PostgreSQL came back", time.Since(restored).Round(time.Millisecond))
	for n := 0; n < 3; n++ {
		// Every process's pool recovers; the code survived the outage.
		if n == 0 {
			if s, b := c.token(t, 0, codeForm(pendingCode, pendingPKCE)); s != 200 {
				t.Errorf("code issued before the outage, after it: %d %v", s, b)
			}
		}
		c.signIn(t, n, false, "outage@example.com")
	}
}

// TestScaleOutRedisOutage: Redis stops under three gateways: with
// redisFailureMode open every gateway keeps serving, with closed every one
// answers 503 (APIM's error body); /readyz says not ready; all recover
// when Redis is back, without a restart.
func TestScaleOutRedisOutage(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer backend.Close()
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			rs := testutil.StartRedisServer(t)
			cfg := limitConfig(t, t.TempDir(), rs.Addr, backend.URL, mode, 1000)
			var gws []string
			for i := 0; i < 3; i++ {
				gws = append(gws, startServe(t, cfg, nil, "gateway").url("gateway"))
			}
			for _, g := range gws {
				if resp, _ := call(t, "GET", g+"/echo/x", nil); resp.StatusCode != 200 {
					t.Fatalf("before the outage: %d", resp.StatusCode)
				}
			}
			rs.Stop()
			want := 200
			if mode == "closed" {
				want = 503
			}
			for i, g := range gws {
				for j := 0; j < 5; j++ {
					resp, body := call(t, "GET", g+"/echo/x", nil)
					if resp.StatusCode != want {
						t.Fatalf("gateway %d during the outage: %d %s", i+1, resp.StatusCode, body)
					}
					if want == 503 {
						wantAPIMError(t, body, 503, "")
					}
				}
				if ready, _ := call(t, "GET", g+"/readyz", nil); ready.StatusCode != 503 {
					t.Errorf("gateway %d readyz during the outage: %d", i+1, ready.StatusCode)
				}
			}
			rs.Start()
			deadline := time.Now().Add(20 * time.Second)
			for i, g := range gws {
				for {
					resp, _ := call(t, "GET", g+"/echo/x", nil)
					ready, _ := call(t, "GET", g+"/readyz", nil)
					if resp.StatusCode == 200 && ready.StatusCode == 200 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("gateway %d: no recovery after Redis came back: %d, readyz %d", i+1, resp.StatusCode, ready.StatusCode)
					}
					time.Sleep(100 * time.Millisecond) // polling for recovery, bounded by the deadline
				}
			}
		})
	}
}
