package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
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
