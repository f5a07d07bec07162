package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
	"software.sslmate.com/src/go-pkcs12"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var master = bytes.Repeat([]byte{7}, 32)

type env struct {
	st    *sqlite.Store
	path  string
	clock *clock
	m     *Manager
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "g.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: t0}
	m, err := NewManager(st.PolicyKeys(), master, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, path: path, clock: c, m: m}
}

// cert makes a self-signed certificate valid from nbf to exp.
func cert(t *testing.T, key crypto.Signer, cn string, nbf, exp time.Time) *x509.Certificate {
	t.Helper()
	sn, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: cn}, NotBefore: nbf, NotAfter: exp,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pfx encodes a real PKCS#12 file with go-pkcs12's encoder.
func pfx(t *testing.T, enc *pkcs12.Encoder, key crypto.Signer, c *x509.Certificate, password string) []byte {
	t.Helper()
	b, err := enc.Encode(key, c, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPFXModernAndLegacy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	r := e.m.Resolver(0)
	for _, tc := range []struct {
		name string
		enc  *pkcs12.Encoder
	}{{"Modern_AES256_PBES2", pkcs12.Modern}, {"LegacyDES_TripleDES_SHA1", pkcs12.LegacyDES}} {
		t.Run(tc.name, func(t *testing.T) {
			key := rsaKey(t)
			c := cert(t, key, tc.name, t0.Add(-time.Hour), t0.Add(90*24*time.Hour))
			k, err := e.m.AddPFX(ctx, tc.name, pfx(t, tc.enc, key, c, "pa55-word"), "pa55-word", AddOptions{})
			if err != nil {
				t.Fatalf("AddPFX: %v", err)
			}
			if k.Container != "B2C_1A_"+tc.name || k.Type != "RSA" || k.Use != UseSig || k.Certificate == nil ||
				!k.NotBefore.Equal(c.NotBefore) || !k.Expires.Equal(c.NotAfter) {
				t.Fatalf("key = %+v (cert %+v)", k, k.Certificate)
			}
			if want := (&material{chain: []*x509.Certificate{c}}).kid(); k.KID != want || len(k.KID) != 27 {
				t.Fatalf("kid = %q, want the x5t thumbprint %q", k.KID, want)
			}
			tc, err := r.Certificate(ctx, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.Leaf.Equal(c) || !key.Equal(tc.PrivateKey) || len(tc.Certificate) != 1 {
				t.Fatal("Certificate does not return the uploaded certificate and key")
			}
			if _, err := r.Secret(ctx, k.Container); !errors.Is(err, ErrKeyType) {
				t.Fatalf("Secret of a certificate container: %v", err)
			}
			// The same certificate again: already there.
			if _, err := e.m.AddPFX(ctx, k.Container, pfx(t, pkcs12.Modern, key, c, "x"), "x", AddOptions{}); !errors.Is(err, ErrExists) {
				t.Fatalf("second upload: %v", err)
			}
		})
	}
}

// TestOpenSSLPFX: files made by the openssl command (AES by default in
// OpenSSL 3, and the 3DES/SHA-1 form B2C requires).
func TestOpenSSLPFX(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-days", "30", "-subj", "/CN=openssl")
	run("pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-out", "aes.pfx", "-passout", "pass:pw")
	run("pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-out", "des.pfx", "-passout", "pass:pw",
		"-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1")
	e := newEnv(t)
	e.clock.t = time.Now().UTC()
	for i, f := range []string{"aes.pfx", "des.pfx"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.AddPFX(t.Context(), fmt.Sprint("OpenSSL", i), b, "pw", AddOptions{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := e.m.AddPFX(t.Context(), fmt.Sprint("OpenSSLBad", i), b, "nope", AddOptions{}); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("%s with a wrong password: %v", f, err)
		}
	}
	pemData, _ := os.ReadFile(filepath.Join(dir, "k.pem"))
	certData, _ := os.ReadFile(filepath.Join(dir, "c.pem"))
	if _, err := e.m.AddPEM(t.Context(), "OpenSSLPEM", AddOptions{}, pemData, certData); err != nil {
		t.Fatalf("AddPEM: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	e := newEnv(t)
	key := rsaKey(t)
	c := cert(t, key, "pw", t0.Add(-time.Hour), t0.Add(time.Hour))
	for _, enc := range []*pkcs12.Encoder{pkcs12.Modern, pkcs12.LegacyDES} {
		if _, err := e.m.AddPFX(t.Context(), "Pw", pfx(t, enc, key, c, "right"), "wrong", AddOptions{}); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := e.m.AddPFX(t.Context(), "Pw", []byte("not a pfx"), "", AddOptions{}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("garbage PFX: %v", err)
	}
	if list, _ := e.m.List(t.Context()); len(list) != 0 {
		t.Fatalf("failed uploads left containers: %v", list)
	}
}

// TestRollover: a certificate uploaded ahead of time takes over by itself
// at its activation date; the old one stops at its expiry; with none valid
// the container answers AADB2C90220.
func TestRollover(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	r := e.m.Resolver(30 * time.Second)
	day := 24 * time.Hour
	oldKey, newKey := rsaKey(t), rsaKey(t)
	oldCert := cert(t, oldKey, "old", t0.Add(-10*day), t0.Add(3*day))
	newCert := cert(t, newKey, "new", t0.Add(-time.Hour), t0.Add(60*day))
	if _, err := e.m.AddPFX(ctx, "ClientCert", pfx(t, pkcs12.Modern, oldKey, oldCert, "a"), "a", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	leaf := func() string {
		t.Helper()
		c, err := r.Certificate(ctx, "B2C_1A_ClientCert")
		if err != nil {
			t.Fatalf("Certificate at %s: %v", e.clock.Now(), err)
		}
		return c.Leaf.Subject.CommonName
	}
	if got := leaf(); got != "old" {
		t.Fatalf("active = %s", got)
	}
	// Upload the successor, activation tomorrow.
	e.clock.Advance(time.Minute)
	nk, err := e.m.AddPFX(ctx, "ClientCert", pfx(t, pkcs12.LegacyDES, newKey, newCert, "b"), "b",
		AddOptions{NotBefore: t0.Add(day)})
	if err != nil {
		t.Fatal(err)
	}
	if !nk.NotBefore.Equal(t0.Add(day)) {
		t.Fatalf("nbf = %s", nk.NotBefore)
	}
	r.Invalidate("") // as if the TTL had passed
	if got := leaf(); got != "old" {
		t.Fatalf("before the new key's nbf the active key is %s", got)
	}
	c, _ := e.m.Container(ctx, "ClientCert")
	if a := c.Active(); a == nil || a.Certificate.Subject != "CN=old" || len(c.Keys) != 2 {
		t.Fatalf("container = %+v", c)
	}
	// Time passes: the new key is active, without reloading.
	e.clock.Advance(day)
	if got := leaf(); got != "new" {
		t.Fatalf("after nbf the active key is %s", got)
	}
	// The old one expires; the new one stays.
	e.clock.Advance(3 * day)
	if got := leaf(); got != "new" {
		t.Fatalf("after the old expiry the active key is %s", got)
	}
	// The new one expires too: AADB2C90220.
	e.clock.Advance(60 * day)
	_, err = r.Certificate(ctx, "ClientCert")
	var na *NoActiveKeyError
	if !errors.Is(err, ErrNoActiveKey) || !errors.As(err, &na) || na.Container != "B2C_1A_ClientCert" ||
		!strings.Contains(err.Error(), "AADB2C90220") || !strings.Contains(err.Error(), "B2C_1A_ClientCert") {
		t.Fatalf("all expired: %v", err)
	}
	if _, err := e.m.Active(ctx, "ClientCert", e.clock.Now()); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Active: %v", err)
	}
	if _, err := r.Secret(ctx, "Missing"); !errors.Is(err, ErrNoContainer) || !strings.Contains(err.Error(), "B2C_1A_Missing") {
		t.Fatalf("missing container: %v", err)
	}
}

// TestActiveRule: keys without an activation date count as the oldest.
func TestActiveRule(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	add := func(secret string, o AddOptions) *Key {
		t.Helper()
		e.clock.Advance(time.Second)
		k, err := e.m.AddSecret(ctx, "Rule", []byte(secret), o)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	r := e.m.Resolver(time.Nanosecond)
	secret := func() string {
		t.Helper()
		s, err := r.Secret(ctx, "Rule")
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	add("s1", AddOptions{})
	if secret() != "s1" {
		t.Fatal("s1 not active")
	}
	add("s2", AddOptions{NotBefore: t0.Add(-time.Hour)})
	add("s3", AddOptions{}) // newer, but without nbf: oldest
	if got := secret(); got != "s2" {
		t.Fatalf("active = %s, want s2", got)
	}
	add("s4", AddOptions{NotBefore: t0.Add(-2 * time.Hour), Expires: t0.Add(time.Hour)}) // earlier nbf
	if got := secret(); got != "s2" {
		t.Fatalf("active = %s, want s2", got)
	}
	add("s5", AddOptions{Expires: t0.Add(time.Hour), NotBefore: t0})
	if got := secret(); got != "s5" {
		t.Fatalf("active = %s, want s5", got)
	}
	e.clock.Advance(time.Hour)
	if got := secret(); got != "s2" {
		t.Fatalf("after s5 expired: %s, want s2", got)
	}
	if _, err := e.m.AddSecret(ctx, "Rule", []byte("x"), AddOptions{Expires: t0}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("an already expired key: %v", err)
	}
	if _, err := e.m.AddSecret(ctx, "Rule", []byte("x"), AddOptions{Use: "both"}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("bad use: %v", err)
	}
}

// TestEncryptionAtRest reads the raw rows: no plaintext secret or key.
func TestEncryptionAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const secret = "s3cr3t-REST-password-value"
	if _, err := e.m.AddSecret(ctx, "RestApiPassword", []byte(secret), AddOptions{Use: UseEnc}); err != nil {
		t.Fatal(err)
	}
	key := rsaKey(t)
	c := cert(t, key, "atrest", t0.Add(-time.Hour), t0.Add(time.Hour))
	if _, err := e.m.AddPFX(ctx, "RestApiCert", pfx(t, pkcs12.Modern, key, c, "p"), "p", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	db, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT container, material, COALESCE(public, x'') FROM policy_keys")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var mat, pub []byte
		if err := rows.Scan(&name, &mat, &pub); err != nil {
			t.Fatal(err)
		}
		n++
		for _, plain := range [][]byte{[]byte(secret), pkcs8, pkcs1, key.D.Bytes()} {
			if bytes.Contains(mat, plain) || bytes.Contains(pub, plain) {
				t.Fatalf("%s: plaintext material in the database", name)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d rows", n)
	}
	// The store hands out ciphertext only.
	got, _ := e.st.PolicyKeys().List(ctx, "B2C_1A_RestApiPassword")
	if len(got) != 1 || bytes.Contains(got[0].Material, []byte(secret)) {
		t.Fatal("store returned plaintext")
	}
	// Another master key cannot read it.
	other, _ := NewManager(e.st.PolicyKeys(), bytes.Repeat([]byte{8}, 32), Options{Now: e.clock.Now})
	if _, err := other.Resolver(0).Secret(ctx, "RestApiPassword"); err == nil || !strings.Contains(err.Error(), "cannot decrypt") {
		t.Fatalf("other master key: %v", err)
	}
	// Nothing that describes a key shows material.
	list, _ := e.m.List(ctx)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("keys", "key", list[0].Keys[0], "c", list)
	shown := fmt.Sprintf("%v %+v %s", list, *list[0], list[0].Keys[0]) + logs.String()
	if strings.Contains(shown, secret) || strings.Contains(shown, "PRIVATE") {
		t.Fatalf("material shown: %s", shown)
	}
	s, err := e.m.Resolver(0).Secret(ctx, "RestApiPassword")
	if err != nil || string(s) != secret {
		t.Fatalf("Secret = %q, %v", s, err)
	}
}

func TestGenerateAndTypes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for kind, kty := range map[string]string{"rsa": "RSA", "ec": "EC", "oct": "oct"} {
		k, err := e.m.Generate(ctx, "Gen"+kind, kind, AddOptions{})
		if err != nil || k.Type != kty || k.Use != UseSig || len(k.KID) != 43 || k.Certificate != nil {
			t.Fatalf("Generate %s = %+v, %v", kind, k, err)
		}
	}
	s, err := e.m.Resolver(0).Secret(ctx, "Genoct")
	if err != nil || len(s) != 32 {
		t.Fatalf("generated secret: %d bytes, %v", len(s), err)
	}
	if _, err := e.m.Resolver(0).Certificate(ctx, "Genrsa"); !errors.Is(err, ErrKeyType) {
		t.Fatalf("Certificate of a generated RSA key: %v", err)
	}
	// AADB2C90089: one type per container.
	_, err = e.m.AddSecret(ctx, "Genrsa", []byte("x"), AddOptions{})
	if !errors.Is(err, ErrKeyType) || !errors.Is(err, store.ErrKeyType) || !strings.Contains(err.Error(), "AADB2C90089") {
		t.Fatalf("secret into an RSA container: %v", err)
	}
	if _, err := e.m.Generate(ctx, "X", "dsa", AddOptions{}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("dsa: %v", err)
	}
	if _, err := e.m.AddSecret(ctx, "bad name!", []byte("x"), AddOptions{}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := e.m.AddSecret(ctx, "X.bak", []byte("x"), AddOptions{}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("into a backup: %v", err)
	}
}

func TestAddPEM(t *testing.T) {
	e := newEnv(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := cert(t, key, "pem", t0.Add(-time.Hour), t0.Add(time.Hour))
	der, _ := x509.MarshalECPrivateKey(key)
	bundle := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	k, err := e.m.AddPEM(t.Context(), "Pem", AddOptions{Use: UseEnc}, bundle)
	if err != nil || k.Type != "EC" || k.Use != UseEnc {
		t.Fatalf("AddPEM = %+v, %v", k, err)
	}
	tc, err := e.m.Resolver(0).Certificate(t.Context(), "Pem")
	if err != nil || !tc.Leaf.Equal(c) {
		t.Fatalf("Certificate: %v", err)
	}
	other := rsaKey(t)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	mismatch := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	if _, err := e.m.AddPEM(t.Context(), "Pem2", AddOptions{}, mismatch); !errors.Is(err, ErrBadKey) {
		t.Fatalf("mismatched key: %v", err)
	}
}

func TestDeleteKeepsBackup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.m.AddSecret(ctx, "Del", []byte("one"), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r := e.m.Resolver(time.Nanosecond)
	bak, err := e.m.Delete(ctx, "B2C_1A_Del")
	if err != nil || bak != "B2C_1A_Del.bak" {
		t.Fatalf("Delete = %q, %v", bak, err)
	}
	if _, err := r.Secret(ctx, "Del"); !errors.Is(err, ErrNoContainer) {
		t.Fatalf("after delete: %v", err)
	}
	c, err := e.m.Container(ctx, bak)
	if err != nil || !c.Backup || len(c.Keys) != 1 || c.Active() != nil {
		t.Fatalf("backup = %+v, %v", c, err)
	}
	if _, err := r.Secret(ctx, bak); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("a backup is never active: %v", err)
	}
	// A second delete of a recreated container replaces the backup.
	if _, err := e.m.AddSecret(ctx, "Del", []byte("two"), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Delete(ctx, "Del"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Delete(ctx, bak); err != nil {
		t.Fatalf("delete the backup: %v", err)
	}
	if _, err := e.m.Delete(ctx, "Del"); !errors.Is(err, ErrNoContainer) {
		t.Fatalf("delete missing: %v", err)
	}
	if list, _ := e.m.List(ctx); len(list) != 0 {
		t.Fatalf("left: %+v", list)
	}
}

// TestResolverTTL: a key added by another process is seen after the TTL.
func TestResolverTTL(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.m.AddSecret(ctx, "Ttl", []byte("v1"), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r := e.m.Resolver(30 * time.Second)
	if s, _ := r.Secret(ctx, "Ttl"); string(s) != "v1" {
		t.Fatalf("Secret = %q", s)
	}
	cli, _ := NewManager(e.st.PolicyKeys(), master, Options{Now: e.clock.Now})
	if _, err := cli.AddSecret(ctx, "Ttl", []byte("v2"), AddOptions{NotBefore: t0}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	if s, _ := r.Secret(ctx, "Ttl"); string(s) != "v1" {
		t.Fatalf("within the TTL: %q", s)
	}
	e.clock.Advance(21 * time.Second)
	if s, _ := r.Secret(ctx, "Ttl"); string(s) != "v2" {
		t.Fatalf("after the TTL: %q", s)
	}
}

func secretOf(v string) config.Secret {
	s := config.NewSecret(v)
	s.Pos = config.Pos{File: "gatehouse.yaml", Line: 9, Col: 5}
	return s
}

func TestLoadConfig(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	pos := config.Pos{File: "gatehouse.yaml", Line: 7, Col: 7}
	key := rsaKey(t)
	c := cert(t, key, "cfg", t0.Add(-time.Hour), t0.Add(30*24*time.Hour))
	pfxSecret := secretOf(string(pfx(t, pkcs12.Modern, key, c, "pw")))
	pks := []config.PolicyKey{
		{Pos: pos, Name: "RestApiUsername", Secret: secretOf("alice")},
		{Pos: pos, Name: "B2C_1A_RestApiCert", PFX: pfxSecret, Password: secretOf("pw")},
		{Pos: pos, Name: "Signing", Generate: "rsa"},
	}
	count := func(name string) int {
		c, err := e.m.Container(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return len(c.Keys)
	}
	for range 2 { // idempotent
		if err := LoadConfig(ctx, e.m, pks); err != nil {
			t.Fatalf("LoadConfig: %v", err)
		}
		e.clock.Advance(time.Minute)
	}
	for _, n := range []string{"RestApiUsername", "RestApiCert", "Signing"} {
		if got := count(n); got != 1 {
			t.Fatalf("%s has %d keys after two loads", n, got)
		}
	}
	// Changed material: a new version, active at once.
	pks[0].Secret = secretOf("bob")
	key2 := rsaKey(t)
	c2 := cert(t, key2, "cfg2", t0.Add(-time.Hour), t0.Add(30*24*time.Hour))
	pks[1].PFX = secretOf(string(pfx(t, pkcs12.LegacyDES, key2, c2, "pw")))
	if err := LoadConfig(ctx, e.m, pks); err != nil {
		t.Fatal(err)
	}
	if err := LoadConfig(ctx, e.m, pks); err != nil {
		t.Fatal(err)
	}
	if count("RestApiUsername") != 2 || count("RestApiCert") != 2 {
		t.Fatal("changed material did not add exactly one version")
	}
	r := e.m.Resolver(0)
	if s, _ := r.Secret(ctx, "RestApiUsername"); string(s) != "bob" {
		t.Fatalf("active secret = %q", s)
	}
	if tc, _ := r.Certificate(ctx, "RestApiCert"); tc == nil || tc.Leaf.Subject.CommonName != "cfg2" {
		t.Fatal("the new certificate is not active")
	}
	// Back to the first certificate: cannot be re-activated.
	pks[1].PFX = pfxSecret
	err := LoadConfig(ctx, e.m, pks)
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Pos != pos || !strings.Contains(errs[0].Msg, "older version") {
		t.Fatalf("rollback: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	e := newEnv(t)
	key := rsaKey(t)
	c := cert(t, key, "cfg", t0.Add(-time.Hour), t0.Add(time.Hour))
	pos := config.Pos{File: "gatehouse.yaml", Line: 3, Col: 7}
	pwPos := config.Pos{File: "gatehouse.yaml", Line: 4, Col: 20}
	wrongPw := secretOf("wrong")
	wrongPw.Pos = pwPos
	pks := []config.PolicyKey{
		{Pos: pos, Name: "Cert", PFX: secretOf(string(pfx(t, pkcs12.LegacyDES, key, c, "right"))), Password: wrongPw},
		{Pos: pos, Name: "Garbage", PFX: secretOf("not a pfx")},
		{Pos: pos, Name: "Nothing"},
		{Pos: pos, Secret: secretOf("x")},
		{Pos: pos, Name: "Both", Secret: secretOf("x"), Generate: "oct"},
		{Pos: pos, Name: "PwNoPfx", Secret: secretOf("x"), Password: secretOf("p")},
		{Pos: pos, Name: "BadUse", Secret: secretOf("x"), Use: "both"},
		{Pos: pos, Name: "BadGen", Generate: "dsa"},
		{Pos: pos, Name: "Empty", Secret: secretOf("")},
		{Pos: pos, Name: "Ok", Secret: secretOf("fine")},
		{Pos: pos, Name: "B2C_1A_ok", Secret: secretOf("dup")},
	}
	err := LoadConfig(t.Context(), e.m, pks)
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("LoadConfig: %v", err)
	}
	want := []string{"password is wrong", "not a readable PKCS#12", "exactly one", "name is required", "exactly one",
		"password is only for pfx", "must be sig or enc", "must be rsa, ec or oct", "secret is empty", "given twice"}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) || !strings.HasPrefix(errs[i].Error(), "gatehouse.yaml:") {
			t.Errorf("error %d = %q, want %q", i, errs[i], w)
		}
	}
	if errs[0].Pos != pwPos {
		t.Errorf("wrong password at %v, want the password's position", errs[0].Pos)
	}
	// Entries without problems were loaded.
	if _, err := e.m.Container(t.Context(), "Ok"); err != nil {
		t.Fatal(err)
	}
	// A type clash with the container.
	err = LoadConfig(t.Context(), e.m, []config.PolicyKey{{Pos: pos, Name: "Ok", Generate: "rsa"}})
	if !errors.As(err, &errs) || !strings.Contains(errs[0].Msg, "AADB2C90089") {
		t.Fatalf("type clash: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2025-06-01T10:00:00Z":      time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
		"2025-06-01T12:00:00+02:00": time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"1748772000":                time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
		"":                          {},
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTime("tomorrow"); err == nil {
		t.Error("ParseTime accepted tomorrow")
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{"X": "B2C_1A_X", "b2c_1a_X": "B2C_1A_X", "B2C_1A_X": "B2C_1A_X"} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q", in, got)
		}
	}
}

// TestGenerateCertificate: a self-signed RSA certificate whose private key
// the resolver returns, with the key's dates taken from the certificate.
func TestGenerateCertificate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	k, err := e.m.GenerateCertificate(ctx, "SamlSigning", "contoso SAML", 365*24*time.Hour, AddOptions{Origin: "generated"})
	if err != nil || k.Type != "RSA" || k.Certificate == nil || !strings.Contains(k.Certificate.Subject, "contoso SAML") {
		t.Fatalf("GenerateCertificate = %+v, %v", k, err)
	}
	c, err := e.m.Resolver(0).Certificate(ctx, "B2C_1A_SamlSigning")
	if err != nil || c.Leaf == nil || c.Leaf.CheckSignature(c.Leaf.SignatureAlgorithm, c.Leaf.RawTBSCertificate, c.Leaf.Signature) != nil {
		t.Fatalf("resolver: %v", err)
	}
	if pub, ok := c.PrivateKey.(*rsa.PrivateKey); !ok || !pub.PublicKey.Equal(c.Leaf.PublicKey) {
		t.Fatalf("the private key does not match the certificate")
	}
	if k.Expires.IsZero() || k.Expires.After(c.Leaf.NotAfter) {
		t.Errorf("key expiry %v, certificate %v", k.Expires, c.Leaf.NotAfter)
	}
}
