package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"software.sslmate.com/src/go-pkcs12"
)

func testPFX(t *testing.T, enc *pkcs12.Encoder, cn, password string, nbf, exp time.Time) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: nbf, NotAfter: exp}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	b, err := enc.Encode(key, c, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type keysList struct {
	Containers []struct {
		Name   string
		Type   string
		Backup bool
		Keys   []struct {
			KID         string
			Type        string
			Use         string
			NBF         int64
			EXP         int64
			Active      bool
			Certificate *struct{ Subject string }
		}
	}
}

func TestKeysCommands(t *testing.T) {
	data := t.TempDir()
	// Before `gatehouse dev` made the data dir's master key.
	_, errOut, code := gatehouse(t, nil, "keys", "list", "--data", data)
	if code != 1 || !strings.Contains(errOut, "tenant.json") {
		t.Fatalf("no tenant.json: %d %q", code, errOut)
	}
	mk := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	writeFile(t, data, "tenant.json", fmt.Sprintf(`{"tenantId": "x", "masterKey": %q}`, mk))

	const secret = "Rest-API-pa55word-0123456789"
	secretFile := writeFile(t, data, "secret.txt", secret+"\n")
	now := time.Now().UTC()
	oldPFX := writeFile(t, data, "old.pfx", string(testPFX(t, pkcs12.LegacyDES, "old", "pw1", now.Add(-time.Hour), now.Add(30*24*time.Hour))))
	newPFX := writeFile(t, data, "new.pfx", string(testPFX(t, pkcs12.Modern, "new", "pw2", now.Add(-time.Hour), now.Add(60*24*time.Hour))))

	for _, args := range [][]string{
		{"--name", "RestApiPassword", "--secret-file", secretFile, "--use", "enc"},
		{"--name", "B2C_1A_ClientCert", "--pfx", oldPFX, "--password", "pw1"},
		{"--name", "ClientCert", "--pfx", newPFX, "--password", "pw2", "--not-before", now.Add(24 * time.Hour).Format(time.RFC3339)},
		{"--name", "TokenSigningKeyContainer", "--generate", "rsa"},
		{"--name", "Later", "--generate", "oct", "--not-before", fmt.Sprint(now.Add(time.Hour).Unix()), "--expires", "2999-01-01"},
	} {
		out, errOut, code := gatehouse(t, nil, append([]string{"keys", "add", "--data", data}, args...)...)
		if code != 0 {
			t.Fatalf("add %v: %d %s", args, code, errOut)
		}
		if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE") {
			t.Fatalf("add printed material: %s", out)
		}
	}
	// Errors: exit 1 (problems) or 2 (usage), on stderr.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--name", "Bad", "--pfx", oldPFX, "--password", "nope"}, 1, "password is wrong"},
		{[]string{"--name", "RestApiPassword", "--generate", "rsa"}, 1, "AADB2C90089"},
		{[]string{"--name", "X", "--generate", "dsa"}, 1, "rsa, ec or oct"},
		{[]string{"--name", "X"}, 2, "exactly one"},
		{[]string{"--generate", "oct"}, 2, "--name is required"},
		{[]string{"--name", "X", "--generate", "oct", "--expires", "soon"}, 2, "not a time"},
		{[]string{"--name", "X", "--generate", "oct", "--use", "both"}, 1, "sig or enc"},
	} {
		out, errOut, code := gatehouse(t, nil, append([]string{"keys", "add", "--data", data}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("add %v: %d %q %q, want %d %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}

	out, errOut, code := gatehouse(t, nil, "keys", "list", "--data", data, "--json")
	var list keysList
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE") || strings.Contains(out, "material") {
		t.Fatalf("list shows material: %s", out)
	}
	byName := map[string]int{}
	for i, c := range list.Containers {
		byName[c.Name] = i
	}
	if len(list.Containers) != 4 {
		t.Fatalf("containers: %s", out)
	}
	cc := list.Containers[byName["B2C_1A_ClientCert"]]
	if cc.Type != "RSA" || len(cc.Keys) != 2 || !cc.Keys[0].Active || cc.Keys[1].Active ||
		cc.Keys[0].Certificate.Subject != "CN=old" || cc.Keys[1].NBF != now.Add(24*time.Hour).Unix() || cc.Keys[0].EXP == 0 {
		t.Errorf("ClientCert = %+v", cc)
	}
	rp := list.Containers[byName["B2C_1A_RestApiPassword"]]
	if rp.Type != "oct" || len(rp.Keys) != 1 || rp.Keys[0].Use != "enc" || !rp.Keys[0].Active || rp.Keys[0].NBF != 0 || rp.Keys[0].KID == "" {
		t.Errorf("RestApiPassword = %+v", rp)
	}
	if l := list.Containers[byName["B2C_1A_Later"]]; l.Keys[0].Active || l.Keys[0].Use != "sig" {
		t.Errorf("Later = %+v", l)
	}

	out, _, code = gatehouse(t, nil, "keys", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "CONTAINER") || !strings.Contains(out, "B2C_1A_TokenSigningKeyContainer") {
		t.Errorf("table: %d %s", code, out)
	}

	// The database files hold no plaintext.
	files, _ := filepath.Glob(filepath.Join(data, "gatehouse.db*"))
	if len(files) == 0 {
		t.Fatal("no database")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds the secret in clear", f)
		}
	}

	out, errOut, code = gatehouse(t, nil, "keys", "delete", "--data", data, "--name", "RestApiPassword")
	if code != 0 || !strings.Contains(out, "B2C_1A_RestApiPassword.bak") {
		t.Fatalf("delete: %d %s %s", code, out, errOut)
	}
	_, errOut, code = gatehouse(t, nil, "keys", "delete", "--data", data, "--name", "RestApiPassword")
	if code != 1 || !strings.Contains(errOut, "no such key container") {
		t.Errorf("delete missing: %d %q", code, errOut)
	}
	out, _, _ = gatehouse(t, nil, "keys", "list", "--data", data, "--json")
	if !strings.Contains(out, `"B2C_1A_RestApiPassword.bak"`) || !strings.Contains(out, `"backup": true`) {
		t.Errorf("after delete: %s", out)
	}
}

// TestKeysWithConfig: --config uses the identity section's store and
// masterKey.
func TestKeysWithConfig(t *testing.T) {
	dir := t.TempDir()
	mk := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	cfg := writeFile(t, dir, "gatehouse.yaml", `identity:
  listen: 127.0.0.1:0
  publicUrl: https://127.0.0.1:8080
  tenant: { name: contoso, id: 8d2f6a4e-0000-4000-8000-000000000001 }
  storage: sqlite://./data/gatehouse.db
  masterKey: env:GH_KEYS_MASTER
`)
	env := []string{"GH_KEYS_MASTER=" + mk}
	_, errOut, code := gatehouse(t, env, "keys", "add", "--config", cfg, "--name", "FacebookSecret", "--generate", "oct")
	if code != 0 {
		t.Fatalf("add: %d %s", code, errOut)
	}
	out, _, code := gatehouse(t, env, "keys", "list", "--config", cfg, "--json")
	if code != 0 || !strings.Contains(out, "B2C_1A_FacebookSecret") {
		t.Fatalf("list: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "gatehouse.db")); err != nil {
		t.Fatalf("not the config's store: %v", err)
	}
	_, errOut, code = gatehouse(t, []string{"GH_KEYS_MASTER=c2hvcnQ="}, "keys", "list", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "masterKey") {
		t.Errorf("short master key: %d %q", code, errOut)
	}
}

// TestKeysRotateSigning: an operator starts a rotation through the store;
// the identity role publishes the successor and keeps signing with the
// current key until the successor's publish-ahead period has passed.
func TestKeysRotateSigning(t *testing.T) {
	file, publicURL, env := identityConfig(t, "http://127.0.0.1:1/callback")
	jwksKids := func() []string {
		resp, body := call(t, "GET", publicURL+"/contoso.onmicrosoft.com/B2C_1_signupsignin1/discovery/v2.0/keys", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("jwks: %d %s", resp.StatusCode, body)
		}
		var set struct{ Keys []struct{ Kid string } }
		json.Unmarshal([]byte(body), &set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}
	srv := startServe(t, file, env, "identity")
	first := jwksKids()
	if len(first) != 1 {
		t.Fatalf("first start publishes %v", first)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	out, errOut, code := gatehouse(t, env, "keys", "rotate-signing", "--config", file)
	if code != 0 || !strings.Contains(out, "is published now and signs from") {
		t.Fatalf("rotate-signing: %d %s %s", code, out, errOut)
	}
	again, _, _ := gatehouse(t, env, "keys", "rotate-signing", "--config", file)
	if strings.Fields(again)[3] != strings.Fields(out)[3] {
		t.Errorf("a second rotate-signing made another key: %q vs %q", again, out)
	}

	startServe(t, file, env, "identity")
	kids := jwksKids()
	next := strings.Fields(out)[3]
	if len(kids) != 2 || !slices.Contains(kids, first[0]) || !slices.Contains(kids, next) {
		t.Fatalf("after rotation JWKS = %v, want %s and %s", kids, first[0], next)
	}
	cc := clientcredentials.Config{ClientID: daemonID, ClientSecret: daemonSec,
		TokenURL: publicURL + "/contoso.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/token",
		Scopes:   []string{"https://contoso.onmicrosoft.com/backend/.default"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[0])
	if !strings.Contains(string(hdr), `"kid":"`+first[0]+`"`) {
		t.Errorf("the successor signs before its time: header %s", hdr)
	}
}
