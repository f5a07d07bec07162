package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// noFile fails the test when path exists.
func noFile(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %s exists (err %v)", what, path, err)
	}
}

// TestCLIValidateIsReadOnly: validate never creates or migrates the
// database, whether the config is valid or not, and reports every problem
// (YAML and referenced files) at once.
func TestCLIValidateIsReadOnly(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	db := filepath.Join(filepath.Dir(file), "data", "gatehouse.db")
	out, errOut, code := gatehouse(t, env, "validate", "--config", file)
	if code != 0 || !strings.HasPrefix(out, "OK ") {
		t.Fatalf("validate: %d %s %s", code, out, errOut)
	}
	noFile(t, db, "valid config")

	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `identity:
  listen: 127.0.0.1:0
  publicUrl: https://127.0.0.1:8080
  tenant: { name: contoso, id: 8d2f6a4e-0000-4000-8000-000000000001 }
  storage: sqlite://./data/gatehouse.db
  masterKey: c2hvcnQ=
gateway:
  listen: 127.0.0.1:0
  policy: missing.xml
  apis:
    - { name: a, path: a, serviceUrl: "http://127.0.0.1:1" }
`)
	out, _, code = gatehouse(t, nil, "validate", "--config", bad)
	if code != 1 || !strings.Contains(out, "missing.xml") {
		t.Fatalf("invalid config: %d %s", code, out)
	}
	noFile(t, filepath.Join(dir, "data"), "invalid config")
}

// TestCLIServeChecksBeforeOpening: a config error or a busy port stops
// serve before it creates a database.
func TestCLIServeChecksBeforeOpening(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	db := filepath.Join(filepath.Dir(file), "data", "gatehouse.db")
	// Without the master key's variable: a config error.
	_, errOut, code := gatehouse(t, env[1:], "serve", "--config", file)
	if code != 1 || !strings.Contains(errOut, "GH_MASTER_KEY") {
		t.Fatalf("config error: %d %s", code, errOut)
	}
	noFile(t, db, "config error")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	src, _ := os.ReadFile(file)
	cfg := string(src)
	i := strings.Index(cfg, "listen: ")
	j := i + strings.Index(cfg[i:], "\n")
	writeFile(t, filepath.Dir(file), "gatehouse.yaml", cfg[:i]+"listen: "+busy.Addr().String()+cfg[j:])
	_, errOut, code = gatehouse(t, env, "serve", "--config", file)
	if code != 1 || !strings.Contains(errOut, "identity") {
		t.Fatalf("busy port: %d %s", code, errOut)
	}
	noFile(t, db, "busy port")
}

// TestCLIWrongMasterKey: a master key that does not decrypt the stored
// signing keys names the database and says what to do.
func TestCLIWrongMasterKey(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	db := filepath.Join(filepath.Dir(file), "data", "gatehouse.db")
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", "a@example.com", "--password", "Correct-Horse-9"); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	if _, errOut, code := gatehouse(t, env, "keys", "rotate-signing", "--config", file); code != 0 {
		t.Fatalf("rotate-signing: %d %s", code, errOut)
	}
	other := append([]string{"GH_MASTER_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))}, env[1:]...)
	_, errOut, code := gatehouse(t, other, "serve", "--config", file)
	if code != 1 || !strings.Contains(errOut, db) || !strings.Contains(errOut, "identity.masterKey") {
		t.Fatalf("wrong master key: %d %s", code, errOut)
	}
}

// TestCLIMaintenanceNeedsAStore: list and delete commands do not create a
// database for a mistyped path; they name it.
func TestCLIMaintenanceNeedsAStore(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"users", "list", "--data", typo},
		{"users", "delete", "--data", typo, "--email", "a@example.com"},
		{"users", "create", "--data", typo, "--email", "a@example.com", "--password", "Correct-Horse-9"},
	} {
		_, errOut, code := gatehouse(t, nil, args...)
		if code != 1 || !strings.Contains(errOut, typo) {
			t.Errorf("%v: %d %s", args, code, errOut)
		}
		noFile(t, typo, strings.Join(args[:2], " "))
	}
	// An existing folder without a database: list names the database.
	dir := t.TempDir()
	_, errOut, code := gatehouse(t, nil, "users", "list", "--data", dir)
	if db := filepath.Join(dir, "gatehouse.db"); code != 1 || !strings.Contains(errOut, db) {
		t.Errorf("no database: %d %s", code, errOut)
	}
	noFile(t, filepath.Join(dir, "gatehouse.db"), "users list")
}

// TestCLIKeysOutput: keys add reports "active" as keys list does; one
// clear message for a key of the wrong type; rotate-signing prints one
// sentence and no raw log line.
func TestCLIKeysOutput(t *testing.T) {
	data := t.TempDir()
	mk := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	writeFile(t, data, "tenant.json", `{"tenantId": "x", "masterKey": "`+mk+`"}`)
	out, errOut, code := gatehouse(t, nil, "keys", "add", "--data", data, "--name", "Secret", "--generate", "oct")
	if code != 0 {
		t.Fatalf("add: %d %s", code, errOut)
	}
	var added struct {
		KID    string
		Active bool
	}
	json.Unmarshal([]byte(out), &added)
	if !added.Active {
		t.Errorf("keys add says inactive: %s", out)
	}
	out, _, _ = gatehouse(t, nil, "keys", "list", "--data", data, "--json")
	var list keysList
	json.Unmarshal([]byte(out), &list)
	if len(list.Containers) != 1 || list.Containers[0].Keys[0].KID != added.KID || !list.Containers[0].Keys[0].Active {
		t.Errorf("keys list: %s", out)
	}

	_, errOut, code = gatehouse(t, nil, "keys", "add", "--data", data, "--name", "Secret", "--generate", "rsa")
	if code != 1 || !strings.Contains(errOut, "AADB2C90089") || strings.Contains(errOut, "store:") || strings.Count(errOut, "keys:") > 0 ||
		strings.Count(errOut, "\n") != 1 {
		t.Errorf("wrong type: %d %q", code, errOut)
	}

	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	gatehouse(t, env, "users", "create", "--config", file, "--email", "a@example.com", "--password", "Correct-Horse-9")
	out, errOut, code = gatehouse(t, env, "keys", "rotate-signing", "--config", file)
	if code != 0 || strings.Count(out, "\n") != 1 || strings.Contains(errOut, "keyring:") {
		t.Errorf("rotate-signing: %d stdout %q stderr %q", code, out, errOut)
	}
}

// TestCLIKeysOneMessage: an error is one message, not a stack of package
// prefixes.
func TestCLIKeysOneMessage(t *testing.T) {
	data := t.TempDir()
	writeFile(t, data, "tenant.json", `{"tenantId": "x", "masterKey": "`+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))+`"}`)
	gatehouse(t, nil, "keys", "add", "--data", data, "--name", "A", "--generate", "oct")
	_, errOut, code := gatehouse(t, nil, "keys", "delete", "--data", data, "--name", "Missing")
	if code != 1 || errOut != "gatehouse keys delete: no such key container: B2C_1A_Missing\n" {
		t.Errorf("delete missing: %d %q", code, errOut)
	}
}

// TestCLILogLevel: a bad --log-level lists the valid levels.
func TestCLILogLevel(t *testing.T) {
	_, errOut, code := gatehouse(t, nil, "serve", "--config", "x.yaml", "--log-level", "verbose")
	if code != 2 || !strings.Contains(errOut, "debug, info, warn or error") {
		t.Errorf("%d %q", code, errOut)
	}
}

// TestCLIReloadUnchangedIdentity: SIGHUP with an unchanged identity
// section warns about nothing.
func TestCLIReloadUnchangedIdentity(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	srv := startServe(t, file, env, "identity")
	srv.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(srv.logs.String(), "config re-read") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the child's log, bounded by the deadline
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "config re-read") {
		t.Fatalf("no reload line:\n%s", logs)
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "reload") {
			t.Errorf("warning on an unchanged reload: %s", l)
		}
	}
	// A changed identity section is warned about.
	src, _ := os.ReadFile(file)
	os.WriteFile(file, bytes.Replace(src, []byte("attributes: [displayName]"), []byte("attributes: [displayName, surname]"), 1), 0o600)
	srv.cmd.Process.Signal(syscall.SIGHUP)
	for !strings.Contains(srv.logs.String(), "identity section changed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(srv.logs.String(), "identity section changed") {
		t.Errorf("no warning for a changed identity section:\n%s", srv.logs.String())
	}
}

// TestCLIHelp: help X, X --help and X -h print that command's help on
// stdout and exit 0; flag names read as --name VALUE.
func TestCLIHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "gatehouse serve --config FILE"},
		{[]string{"--help"}, "gatehouse serve --config FILE"},
		{[]string{"help", "serve"}, "--config FILE"},
		{[]string{"serve", "--help"}, "--log-level"},
		{[]string{"validate", "-h"}, "--json"},
		{[]string{"dev", "--help"}, "--data DIR"},
		{[]string{"help", "dev"}, "--ports auto"},
		{[]string{"users", "--help"}, "users create --email E"},
		{[]string{"help", "users"}, "users list"},
		{[]string{"users", "create", "--help"}, "--password-stdin"},
		{[]string{"help", "users", "list"}, "--data DIR"},
		{[]string{"keys", "--help"}, "rotate-signing"},
		{[]string{"keys", "add", "-h"}, "--password-file FILE"},
		{[]string{"policy", "--help"}, "policy check"},
		{[]string{"policy", "check", "--help"}, "--scope SCOPE"},
		{[]string{"help", "completion"}, "bash"},
		{[]string{"version", "--help"}, "version"},
	} {
		out, errOut, code := gatehouse(t, nil, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) || errOut != "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
		if strings.Contains(out, "-data gatehouse") || regexp.MustCompile(`\n  -[a-z]`).MatchString(out) {
			t.Errorf("%v: flag help reads wrong:\n%s", tc.args, out)
		}
	}
	// A bad flag: stderr, exit 2, a pointer to --help.
	_, errOut, code := gatehouse(t, nil, "validate", "--nope")
	if code != 2 || !strings.Contains(errOut, "gatehouse validate --help") {
		t.Errorf("bad flag: %d %q", code, errOut)
	}
}

// TestCLIFlagsAfterArgs: flags may follow arguments; --json gives the
// documented shape for policy check and validate; GATEHOUSE_CONFIG is the
// default --config.
func TestCLIFlagsAfterArgs(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.xml", "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>")
	bad := writeFile(t, dir, "bad.xml", "<policies>\n<inbound><nonsense /></inbound></policies>")
	out, _, code := gatehouse(t, nil, "policy", "check", good, bad, "--json")
	var pc struct {
		OK    bool
		Files []struct {
			File string
			OK   bool
		}
		Problems []struct {
			File      string
			Line, Col int
			Message   string
		}
	}
	if err := json.Unmarshal([]byte(out), &pc); err != nil || code != 1 || pc.OK || len(pc.Files) != 2 || !pc.Files[0].OK || pc.Files[1].OK ||
		len(pc.Problems) == 0 || pc.Problems[0].File != bad || pc.Problems[0].Line != 2 || pc.Problems[0].Message == "" {
		t.Errorf("policy check --json: %d %v\n%s", code, err, out)
	}

	cfg := writeFile(t, dir, "c.yaml", "gateway:\n  listen: 127.0.0.1:0\n  policy: bad.xml\n  apis:\n    - {name: a, path: a, serviceUrl: \"http://127.0.0.1:1\"}\n")
	out, _, code = gatehouse(t, []string{"GATEHOUSE_CONFIG=" + cfg}, "validate", "--json")
	var v struct {
		File     string
		OK       bool
		Problems []struct {
			File      string
			Line, Col int
			Message   string
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 || v.OK || v.File != cfg || len(v.Problems) == 0 ||
		v.Problems[0].File != bad || v.Problems[0].Line != 2 {
		t.Errorf("validate --json with GATEHOUSE_CONFIG: %d %v\n%s", code, err, out)
	}
	writeFile(t, dir, "bad.xml", "<policies><inbound /><backend><forward-request /></backend><outbound /></policies>")
	out, _, code = gatehouse(t, nil, "validate", "--json", "--config", cfg)
	if json.Unmarshal([]byte(out), &v); code != 0 || !v.OK || len(v.Problems) != 0 || !strings.Contains(out, `"problems": []`) {
		t.Errorf("valid --json: %d %s", code, out)
	}
}

// TestCLIVersion: the version line carries the Go version; completion
// scripts name the commands.
func TestCLIVersionAndCompletion(t *testing.T) {
	out, _, code := gatehouse(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := gatehouse(t, nil, "completion", sh)
		if code != 0 || !strings.Contains(out, "rotate-signing") || !strings.Contains(out, "password-stdin") {
			t.Errorf("completion %s: %d %q", sh, code, errOut)
		}
		if sh == "bash" {
			if bash, err := exec.LookPath("bash"); err == nil {
				script := writeFile(t, t.TempDir(), "c.bash", out)
				if b, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
					t.Errorf("bash -n: %v %s", err, b)
				}
			}
		}
	}
	if _, _, code := gatehouse(t, nil, "completion", "tcsh"); code != 2 {
		t.Errorf("completion tcsh: %d", code)
	}
}

// TestCLIPasswordSources: --password-file and --password-stdin.
func TestCLIPasswordSources(t *testing.T) {
	data := t.TempDir()
	pw := writeFile(t, data, "pw", "Correct-Horse-9\n")
	out, errOut, code := gatehouse(t, nil, "users", "create", "--data", data, "--email", "a@example.com", "--password-file", pw)
	if code != 0 || !strings.Contains(out, "a@example.com") {
		t.Fatalf("--password-file: %d %s", code, errOut)
	}
	cmd := exec.Command(os.Args[0], "users", "create", "--data", data, "--email", "b@example.com", "--password-stdin")
	cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("Correct-Horse-9\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--password-stdin: %v %s", err, b)
	}
	_, errOut, code = gatehouse(t, nil, "users", "create", "--data", data, "--email", "c@example.com", "--password", "x", "--password-file", pw)
	if code != 2 || !strings.Contains(errOut, "one of") {
		t.Errorf("two sources: %d %q", code, errOut)
	}
	// Flags after the subcommand's arguments are fine too.
	out, _, code = gatehouse(t, nil, "users", "list", "--json", "--data", data)
	if code != 0 || !strings.Contains(out, "b@example.com") {
		t.Errorf("list: %d %s", code, out)
	}
}

// TestCLIDevPrintConfig: the config dev runs is one gatehouse validate
// accepts; printing it opens no database.
func TestCLIDevPrintConfig(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := gatehouse(t, nil, "dev", "--print-config", "--data", data)
	if code != 0 || !strings.Contains(out, "identity:") || !strings.Contains(out, "file:") {
		t.Fatalf("print-config: %d %s", code, errOut)
	}
	mk, _ := os.ReadFile(filepath.Join(data, "tenant.json"))
	var ten struct{ MasterKey, DaemonClientSecret string }
	json.Unmarshal(mk, &ten)
	if ten.MasterKey == "" || strings.Contains(out, ten.MasterKey) || strings.Contains(out, ten.DaemonClientSecret) {
		t.Errorf("a secret is in the printed config (or no tenant.json):\n%s", out)
	}
	file := writeFile(t, t.TempDir(), "gatehouse.yaml", out)
	vout, _, code := gatehouse(t, nil, "validate", "--config", file)
	if code != 0 {
		t.Fatalf("validate rejects the printed config: %s\n%s", vout, out)
	}
	noFile(t, filepath.Join(data, "gatehouse.db"), "print-config and validate")
}

// TestCLIDevBanner: dev labels every URL, names the page to open first
// and says how to trust the CA on each system.
func TestCLIDevBanner(t *testing.T) {
	dev := startDev(t)
	for _, want := range []string{"Open first", dev.info.SPA.URL, dev.info.SPA.MSAL5URL, dev.info.IdentityURL, dev.info.GatewayURL,
		dev.info.GuardURL, dev.info.AdminURL, "dev.json", "update-ca-certificates", "security add-trusted-cert",
		"certutil -addstore -f ROOT " + dev.info.CACertificate, "Firefox", "--print-config"} {
		if !strings.Contains(dev.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, dev.banner)
		}
	}
}

// TestCLIDevBusyPort: a default port in use suggests --ports auto.
func TestCLIDevBusyPort(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		defer ln.Close()
	} // else something holds it already: the same case
	_, errOut, code := gatehouse(t, nil, "dev", "--data", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "--ports auto") {
		t.Errorf("busy port: %d %q", code, errOut)
	}
}

// TestUsersCreateAdmin: --admin gives the account the admin role (the
// console's sign-in), shown by users list; other accounts have none.
func TestUsersCreateAdmin(t *testing.T) {
	file, _, env := identityConfig(t, "http://127.0.0.1:1/callback")
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", "root@example.com", "--password", "Correct-Horse-9", "--admin"); code != 0 {
		t.Fatalf("users create --admin: %d %s", code, errOut)
	}
	if _, errOut, code := gatehouse(t, env, "users", "create", "--config", file, "--email", "pat@example.com", "--password", "Correct-Horse-9"); code != 0 {
		t.Fatalf("users create: %d %s", code, errOut)
	}
	out, _, _ := gatehouse(t, env, "users", "list", "--config", file, "--json")
	var list struct {
		Value []struct {
			Identities []struct{ IssuerAssignedID string }
			Roles      []string
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Value) != 2 {
		t.Fatalf("users list: %v\n%s", err, out)
	}
	for _, u := range list.Value {
		admin := len(u.Roles) == 1 && u.Roles[0] == "admin"
		if admin != (u.Identities[0].IssuerAssignedID == "root@example.com") {
			t.Errorf("%s has roles %v", u.Identities[0].IssuerAssignedID, u.Roles)
		}
	}
}
