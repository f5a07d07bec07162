package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/devca"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// Tests of issue 9's fixes against the real binary: request caps and the
// authorize throttle, listener read limits, file modes, the admin
// listener, HSTS and HTTP/2, names without markup, admin-action events.

// echoBackend counts the bytes of each request body it reads.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "read %d bytes", n)
	}))
	t.Cleanup(be.Close)
	return be
}

func gatewayYAML(backendURL string) string {
	return fmt.Sprintf(`gateway:
  listen: 127.0.0.1:0
  apis:
    - { name: up, path: up, serviceUrl: %q, subscriptionRequired: false }
`, backendURL)
}

// TestServeAdminListener: /metrics is served on the admin listener (every
// role's metrics from one registry) and on no role's listener; /healthz,
// /readyz stay on the role listeners for probes; pprof only when enabled.
func TestServeAdminListener(t *testing.T) {
	be := echoBackend(t)
	file, _, env := identityConfig(t, "http://127.0.0.1:1/cb")
	src, _ := os.ReadFile(file)
	dir := filepath.Dir(file)
	writeFile(t, dir, "gatehouse.yaml", string(src)+gatewayYAML(be.URL)+"admin:\n  listen: 127.0.0.1:0\n  pprof: true\n")
	srv := startServe(t, file, env, "identity", "gateway", "admin")
	if resp, body := call(t, "GET", srv.url("gateway")+"/up/x", nil); resp.StatusCode != 200 {
		t.Fatalf("gateway: %d %s", resp.StatusCode, body)
	}
	for _, role := range []string{"gateway", "identity"} {
		if resp, _ := call(t, "GET", srv.url(role)+"/metrics", nil); resp.StatusCode != 404 {
			t.Errorf("%s listener /metrics: %d, want 404", role, resp.StatusCode)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, body := call(t, "GET", srv.url(role)+p, nil); resp.StatusCode != 200 {
				t.Errorf("%s %s: %d %s", role, p, resp.StatusCode, body)
			}
		}
	}
	resp, body := call(t, "GET", srv.url("admin")+"/metrics", nil)
	for _, want := range []string{`gatehouse_gateway_requests_total{api="up",code="200",operation=""} 1`, `gatehouse_security_events_total{event="request_rejected"} 0`, "go_goroutines ", "process_resident_memory_bytes "} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("admin /metrics: %d, lacks %s", resp.StatusCode, want)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/debug/pprof/"} {
		if resp, body := call(t, "GET", srv.url("admin")+p, nil); resp.StatusCode != 200 {
			t.Errorf("admin %s: %d %s", p, resp.StatusCode, body)
		}
	}

	// Without admin: /metrics is served nowhere; an admin without pprof
	// serves no profiles.
	be2 := echoBackend(t)
	file2 := writeFile(t, t.TempDir(), "gatehouse.yaml", gatewayYAML(be2.URL))
	srv2 := startServe(t, file2, nil, "gateway")
	if resp, _ := call(t, "GET", srv2.url("gateway")+"/metrics", nil); resp.StatusCode != 404 {
		t.Errorf("gateway /metrics without admin: %d, want 404", resp.StatusCode)
	}
	file3 := writeFile(t, t.TempDir(), "gatehouse.yaml", gatewayYAML(be2.URL)+"admin: { listen: 127.0.0.1:0 }\n")
	srv3 := startServe(t, file3, nil, "gateway", "admin")
	if resp, _ := call(t, "GET", srv3.url("admin")+"/debug/pprof/", nil); resp.StatusCode != 404 {
		t.Errorf("admin without pprof: /debug/pprof/ %d, want 404", resp.StatusCode)
	}
	// --pprof-listen is loopback only.
	if _, errOut, code := gatehouse(t, nil, "serve", "--config", file3, "--pprof-listen", "0.0.0.0:0"); code != 2 || !strings.Contains(errOut, "loopback only") {
		t.Errorf("--pprof-listen 0.0.0.0: code %d %s", code, errOut)
	}
}

// TestServeHSTSAndHTTP2: TLS listeners speak HTTP/2 (ALPN) and send
// Strict-Transport-Security — by default on identity, not on the gateway
// unless tls.hsts asks for it.
func TestServeHSTSAndHTTP2(t *testing.T) {
	_, pool, files, err := devca.Ensure(filepath.Join(t.TempDir(), "tls"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsLine := fmt.Sprintf("  tls: { certificate: %q, key: %q }\n", "file:"+files.ServerCert, "file:"+files.ServerKey)
	file, publicURL, env := identityConfig(t, "https://127.0.0.1:1/cb")
	src, _ := os.ReadFile(file)
	cfg := strings.Replace(string(src), "  publicUrl: "+publicURL, "  publicUrl: "+strings.Replace(publicURL, "http:", "https:", 1)+"\n"+tlsLine[:len(tlsLine)-1], 1)
	be := echoBackend(t)
	gw := gatewayYAML(be.URL) + strings.Replace(tlsLine, " }", `, hsts: "max-age=600; includeSubDomains" }`, 1)
	gw2 := fmt.Sprintf("guard:\n  listen: 127.0.0.1:0\n  upstream: %s\n", be.URL) + tlsLine
	writeFile(t, filepath.Dir(file), "gatehouse.yaml", cfg+gw+gw2)
	srv := startServe(t, file, env, "identity", "gateway", "guard")

	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	for _, c := range []struct {
		role, hsts string
	}{
		{"identity", "max-age=31536000"},
		{"guard", "max-age=31536000"},
		{"gateway", "max-age=600; includeSubDomains"},
	} {
		u := srv.url(c.role)
		if !strings.HasPrefix(u, "https://") {
			t.Fatalf("%s is not on TLS: %s", c.role, u)
		}
		path := "/healthz"
		if c.role == "guard" {
			path = "/x"
		}
		resp, err := h2.Get(u + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("%s: %s, want HTTP/2", c.role, resp.Proto)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != c.hsts {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", c.role, got, c.hsts)
		}
		resp, err = h1.Get(u + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 1 || resp.Header.Get("Strict-Transport-Security") != c.hsts {
			t.Errorf("%s over HTTP/1.1: %s, HSTS %q", c.role, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
		}
	}

	// A gateway on TLS without tls.hsts sends none (APIM sends none).
	gwOnly := writeFile(t, t.TempDir(), "gatehouse.yaml", gatewayYAML(be.URL)+tlsLine)
	srv2 := startServe(t, gwOnly, nil, "gateway")
	resp, err := h2.Get(srv2.url("gateway") + "/up/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("gateway default: %s, HSTS %q", resp.Proto, resp.Header.Get("Strict-Transport-Security"))
	}
}

// trickle sends a request's headers and the first byte of a body it
// announces as much longer, then reads until the server closes the
// connection: it returns what was read and whether the connection was
// closed. The read is the synchronisation; its deadline only stops a
// broken server from hanging the test (the configured limits are 1 s).
func trickle(t *testing.T, base, path string, length int) (string, bool) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\na", path, u.Host, length)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, err := io.ReadAll(conn)
	return string(got), err == nil
}

// TestServeSlowBodyClosed: a client trickling a body has its connection
// closed — by the read timeout on identity, by the minimum body rate on
// the gateway — while a body sent at a normal rate goes through.
func TestServeSlowBodyClosed(t *testing.T) {
	be := echoBackend(t)
	file, _, env := identityConfig(t, "http://127.0.0.1:1/cb")
	src, _ := os.ReadFile(file)
	writeFile(t, filepath.Dir(file), "gatehouse.yaml", string(src)+gatewayYAML(be.URL)+
		"timeouts: { read: 1s, bodyMinRate: 1000, bodyGrace: 1s }\n")
	srv := startServe(t, file, env, "identity", "gateway")

	if got, closed := trickle(t, srv.url("identity"), "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token", 1000); !closed {
		t.Errorf("identity: the trickling connection is still open (read so far: %q)", got)
	}
	if got, closed := trickle(t, srv.url("gateway"), "/up/upload", 100000); !closed {
		t.Errorf("gateway: the trickling connection is still open (read so far: %q)", got)
	}
	// 4 MB at full speed: read whole by the backend.
	resp, err := http.Post(srv.url("gateway")+"/up/upload", "application/octet-stream", strings.NewReader(strings.Repeat("x", 4<<20)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != fmt.Sprintf("read %d bytes", 4<<20) {
		t.Errorf("normal upload: %d %s", resp.StatusCode, body)
	}
	// The same connection serves the next request after a body that was
	// read whole (no deadline left behind).
	resp, err = http.Get(srv.url("gateway") + "/up/again")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("next request: %d", resp.StatusCode)
	}
}

// TestServeIdentityRequestCaps: the review's 5 MiB state is refused (413)
// and stores nothing; parameters over their caps are OAuth errors; the
// third sign-in transaction from one address in the window is 429 with
// B2C's throttling text; the database files are 0600.
func TestServeIdentityRequestCaps(t *testing.T) {
	const callback = "http://127.0.0.1:1/cb"
	file, publicURL, env := identityConfig(t, callback)
	src, _ := os.ReadFile(file)
	writeFile(t, filepath.Dir(file), "gatehouse.yaml", string(src)+"  throttle: { authorizePerIp: { limit: 2, window: 1h } }\n")
	srv := startServe(t, file, env, "identity")
	authorizeURL := publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize"
	params := func() url.Values {
		return url.Values{"client_id": {webClientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	dataDir := filepath.Join(filepath.Dir(file), "data")

	big := params()
	big.Set("state", strings.Repeat("s", 5<<20))
	before := dirSize(t, dataDir)
	resp, err := noRedirect.Post(authorizeURL, "application/x-www-form-urlencoded", strings.NewReader(big.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "at most 65536 bytes") {
		t.Errorf("5 MiB state: %d %.300s", resp.StatusCode, body)
	}
	if grew := dirSize(t, dataDir) - before; grew > 1<<20 {
		t.Errorf("the database grew by %d bytes for a refused request", grew)
	}
	long := params()
	long.Set("nonce", strings.Repeat("n", 513))
	resp, err = noRedirect.Get(authorizeURL + "?" + long.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "'nonce' is too long") {
		t.Errorf("long nonce: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	for i := 1; i <= 3; i++ {
		resp, err := noRedirect.Get(authorizeURL + "?" + params().Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := 200
		if i == 3 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("authorize %d: %d, want %d: %.300s", i, resp.StatusCode, want, body)
		}
		if i == 3 && (!strings.Contains(string(body), "AADB2C90244") || resp.Header.Get("Retry-After") == "") {
			t.Errorf("throttled authorize: Retry-After %q %.400s", resp.Header.Get("Retry-After"), body)
		}
	}
	if !srv.logs.waitFor(10*time.Second, func(logs string) bool {
		return strings.Contains(logs, `"event":"request_rejected"`) && strings.Contains(logs, `"reason":"rate"`)
	}) {
		t.Errorf("no request_rejected events in the log")
	}
	checkModes(t, dataDir, 0o700, "gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm")
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// checkModes: dir has dirMode (0 = not checked) and each file 0600.
func checkModes(t *testing.T, dir string, dirMode fs.FileMode, files ...string) {
	t.Helper()
	if dirMode != 0 {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != dirMode {
			t.Errorf("%s: %v %v, want %o", dir, fi.Mode().Perm(), err, dirMode)
		}
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Error(err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", f, m)
		}
	}
}

// TestDevFileModesAndAdmin: `gatehouse dev` keeps its folder 0700 and the
// master key, dev.json and the database 0600, warns about the master key,
// and serves metrics on a loopback admin listener (adminUrl), not on the
// gateway.
func TestDevFileModesAndAdmin(t *testing.T) {
	dev := startDev(t)
	checkModes(t, dev.data, 0o700, "tenant.json", "dev.json", "gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "tls/ca-key.pem", "tls/server-key.pem")
	if !strings.Contains(dev.banner, "master key") {
		t.Errorf("the banner does not warn about the master key:\n%s", dev.banner)
	}
	if !strings.HasPrefix(dev.info.AdminURL, "http://127.0.0.1:") {
		t.Fatalf("adminUrl = %q", dev.info.AdminURL)
	}
	resp, body := call(t, "GET", dev.info.AdminURL+"metrics", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "gatehouse_security_events_total") || !strings.Contains(body, "gatehouse_gateway_config_reloads_total") {
		t.Errorf("admin /metrics: %d %.300s", resp.StatusCode, body)
	}
}

// TestServeSignUpRefusesMarkupName: a display name with markup is refused
// on the hosted sign-up page with a field error and no account is stored;
// `gatehouse users create --display-name` refuses it too.
func TestServeSignUpRefusesMarkupName(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, publicURL, env := identityConfig(t, callback)
	startServe(t, file, env, "identity")
	b := testutil.NewBrowser(t, callback, nil)
	q := url.Values{"client_id": {webClientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	page := b.Get(publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/authorize?" + q.Encode())
	page = b.Follow(page, "createAccount")
	const evil = `<img src=x onerror=alert(1)>`
	page = b.Submit(page, "continue", map[string]string{
		"email": "mallory@example.com", "newPassword": "Passw0rd!x", "reenterPassword": "Passw0rd!x", "displayName": evil,
	})
	if page.Status != 200 || !strings.Contains(page.Body, "characters that are not allowed") || strings.Contains(page.Body, evil) {
		t.Errorf("sign-up with a markup name: %d\n%.2000s", page.Status, page.Body)
	}
	out, errOut, code := gatehouse(t, env, "users", "list", "--json", "--config", file)
	if code != 0 || strings.Contains(out, "mallory") {
		t.Errorf("users after the refused sign-up: %d %s %s", code, out, errOut)
	}
	_, errOut, code = gatehouse(t, env, "users", "create", "--config", file, "--email", "m@example.com", "--password", "Passw0rd!x", "--display-name", evil)
	if code != 1 || !strings.Contains(errOut, "not allowed") {
		t.Errorf("users create with a markup name: %d %s", code, errOut)
	}
	// A plain name with & and ' is fine.
	page = b.Submit(page, "continue", map[string]string{
		"email": "mallory@example.com", "newPassword": "Passw0rd!x", "reenterPassword": "Passw0rd!x", "displayName": "Mallory O'Brien & Sons",
	})
	if cb := b.Callback(page); cb.Get("code") == "" {
		t.Errorf("sign-up with a plain name: %v", cb)
	}
}

// TestAdminActionEvents: every admin command logs one admin_action
// security event (JSON on stderr) without the email address or secrets.
func TestAdminActionEvents(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/cb")
	const email, pw = "Ada@Example.com", "Passw0rd!x"
	events := func(errOut string) []map[string]any {
		var out []map[string]any
		sc := bufio.NewScanner(strings.NewReader(errOut))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["event"] == "admin_action" {
				out = append(out, m)
			}
		}
		return out
	}
	var accounts []any
	for _, c := range []struct {
		action string
		args   []string
	}{
		{"users.create", []string{"users", "create", "--email", email, "--password", pw}},
		{"keys.add", []string{"keys", "add", "--name", "RestApiKey", "--generate", "oct"}},
		{"keys.rotate-signing", []string{"keys", "rotate-signing"}},
		{"keys.delete", []string{"keys", "delete", "--name", "RestApiKey"}},
		{"users.delete", []string{"users", "delete", "--email", email}},
	} {
		_, errOut, code := gatehouse(t, env, append(c.args, "--config", file)...)
		if code != 0 {
			t.Fatalf("%v: %d %s", c.args, code, errOut)
		}
		ev := events(errOut)
		if len(ev) != 1 || ev[0]["action"] != c.action || ev[0]["msg"] != "security event" {
			t.Errorf("%s: events %v\n%s", c.action, ev, errOut)
			continue
		}
		if strings.Contains(strings.ToLower(errOut), "ada@example.com") || strings.Contains(errOut, pw) {
			t.Errorf("%s: the event shows the address or password: %s", c.action, errOut)
		}
		if strings.HasPrefix(c.action, "users.") {
			accounts = append(accounts, ev[0]["account"])
		}
	}
	if len(accounts) != 2 || accounts[0] == nil || accounts[0] != accounts[1] {
		t.Errorf("account hashes %v: want one keyed hash for both user events", accounts)
	}
}
