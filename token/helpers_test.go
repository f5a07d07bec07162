package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// t0 is the validation time of most tests.
var t0 = time.Unix(1_750_000_000, 0)

// testKey is a signing key with its public JWK.
type testKey struct {
	kid  string
	alg  string
	priv any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, []byte
}

func (k *testKey) public() any {
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		return &p.PublicKey
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	case ed25519.PrivateKey:
		return p.Public()
	}
	return k.priv
}

func (k *testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.public(), KeyID: k.kid, Use: "sig"}
}

var (
	keysOnce                    sync.Once
	rsaPriv, rsaPriv2           *rsa.PrivateKey
	ecP256, ecP384, ecP521, ec2 *ecdsa.PrivateKey
	edPriv                      ed25519.PrivateKey
	hmacSecret                  = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048)
		var e error
		rsaPriv2, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		ecP256, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		ec2, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		ecP384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		ecP521, e = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(e)
		_, edPriv, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		if err != nil {
			panic(err)
		}
	})
}

func b64e(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw signs input with alg; ECDSA signatures are raw r||s.
func signRaw(alg string, priv any, input []byte) ([]byte, error) {
	var h crypto.Hash
	switch alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	}
	if alg == "EdDSA" {
		return ed25519.Sign(priv.(ed25519.PrivateKey), input), nil
	}
	var digest []byte
	if h != 0 {
		hh := h.New()
		hh.Write(input)
		digest = hh.Sum(nil)
	}
	switch alg[:2] {
	case "RS":
		return rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), h, digest)
	case "PS":
		return rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		k := priv.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*n)
		r.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out, nil
	case "HS":
		switch h {
		case crypto.SHA256:
			mac := hmac.New(sha256.New, priv.([]byte))
			mac.Write(input)
			return mac.Sum(nil), nil
		case crypto.SHA384:
			mac := hmac.New(sha512.New384, priv.([]byte))
			mac.Write(input)
			return mac.Sum(nil), nil
		default:
			mac := hmac.New(sha512.New, priv.([]byte))
			mac.Write(input)
			return mac.Sum(nil), nil
		}
	}
	return nil, errors.New("unknown alg " + alg)
}

// mint builds a compact JWS. hdr entries override alg/kid (nil value
// deletes).
func mint(t testing.TB, k *testKey, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": k.alg, "typ": "JWT"}
	if k.kid != "" {
		h["kid"] = k.kid
	}
	for n, v := range hdr {
		if v == nil {
			delete(h, n)
		} else {
			h[n] = v
		}
	}
	input := b64e(mustJSON(t, h)) + "." + b64e(mustJSON(t, claims))
	sig, err := signRaw(h["alg"].(string), k.priv, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64e(sig)
}

// std returns the usual claims valid at t0.
func std(extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": "https://idp.example/",
		"sub": "user-1",
		"aud": "api://gatehouse",
		"exp": t0.Add(time.Hour).Unix(),
		"nbf": t0.Add(-time.Minute).Unix(),
		"iat": t0.Add(-time.Minute).Unix(),
	}
	for n, v := range extra {
		if v == nil {
			delete(c, n)
		} else {
			c[n] = v
		}
	}
	return c
}

// fakeClock is a settable clock for Discovery.Now.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// idp is an httptest OpenID provider with request counters.
type idp struct {
	srv        *httptest.Server
	issuer     string
	mu         sync.Mutex
	keys       []jose.JSONWebKey
	rawJWKS    []byte // overrides keys when set
	status     atomic.Int32
	configHits atomic.Int32
	jwksHits   atomic.Int32
	gate       chan struct{} // when set, JWKS requests block until closed
}

func newIDP(t testing.TB, keys ...*testKey) *idp {
	t.Helper()
	p := &idp{issuer: "https://idp.example/"}
	for _, k := range keys {
		p.keys = append(p.keys, k.jwk())
	}
	p.status.Store(200)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.configHits.Add(1)
		if s := int(p.status.Load()); s != 200 {
			http.Error(w, "down", s)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.issuer, "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if s := int(p.status.Load()); s != 200 {
			http.Error(w, "down", s)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if p.rawJWKS != nil {
			_, _ = w.Write(p.rawJWKS)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: p.keys})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) url() string { return p.srv.URL + "/.well-known/openid-configuration" }

func (p *idp) setKeys(keys ...*testKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = nil
	for _, k := range keys {
		p.keys = append(p.keys, k.jwk())
	}
}

// logCounter counts slog records at Warn and above and keeps their text.
type logCounter struct {
	mu    sync.Mutex
	warns []string
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	l.mu.Lock()
	l.warns = append(l.warns, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.warns)
}

// oidcChecker returns a Checker on p with a fake clock starting at t0.
func oidcChecker(t testing.TB, p *idp, r Rules) (*Checker, *Discovery, *fakeClock, *logCounter) {
	t.Helper()
	lc := &logCounter{}
	d := NewDiscovery(p.srv.Client(), slog.New(lc))
	clk := newClock(t0)
	d.Now = clk.Now
	r.OpenIDConfigURLs = append(r.OpenIDConfigURLs, p.url())
	c, err := NewChecker(r, d)
	if err != nil {
		t.Fatal(err)
	}
	return c, d, clk, lc
}

// settle waits until no retrieval is running for any URL of c.
func settle(c *Checker) {
	for _, e := range c.entries {
		e.mu.Lock()
		f := e.flight
		e.mu.Unlock()
		if f != nil {
			<-f
		}
	}
}

// wantReason asserts err is a *Error with reason.
func wantReason(t testing.TB, err error, reason string) *Error {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("want *Error with reason %s, got %v", reason, err)
	}
	if te.Reason != reason {
		t.Fatalf("want reason %s, got %s (%q)", reason, te.Reason, te.Message)
	}
	return te
}

func mustValidate(t testing.TB, c *Checker, raw string, now time.Time) *Token {
	t.Helper()
	tok, err := c.Validate(context.Background(), raw, now)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return tok
}
