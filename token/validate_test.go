package token

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestHappyPathsJWKS(t *testing.T) {
	testKeys(t)
	cases := []*testKey{
		{kid: "rs", alg: "RS256", priv: rsaPriv},
		{kid: "rs384", alg: "RS384", priv: rsaPriv},
		{kid: "rs512", alg: "RS512", priv: rsaPriv},
		{kid: "ps", alg: "PS256", priv: rsaPriv},
		{kid: "es", alg: "ES256", priv: ecP256},
		{kid: "es384", alg: "ES384", priv: ecP384},
		{kid: "es512", alg: "ES512", priv: ecP521},
		{kid: "ed", alg: "EdDSA", priv: edPriv},
	}
	p := newIDP(t, cases...)
	c, _, _, _ := oidcChecker(t, p, Rules{Audiences: []string{"api://gatehouse"}, RequireExpirationTime: true, RequireSignedTokens: true})
	for _, k := range cases {
		t.Run(k.alg, func(t *testing.T) {
			raw := mint(t, k, nil, std(nil))
			tok := mustValidate(t, c, raw, t0)
			if tok.Subject != "user-1" || tok.Issuer != "https://idp.example/" || tok.Raw != raw {
				t.Fatalf("token fields: %+v", tok)
			}
			if len(tok.Audiences) != 1 || tok.Audiences[0] != "api://gatehouse" {
				t.Fatalf("audiences %v", tok.Audiences)
			}
			if !tok.Expiry.Equal(t0.Add(time.Hour)) {
				t.Fatalf("expiry %v", tok.Expiry)
			}
			if tok.Header["kid"] != k.kid {
				t.Fatalf("header %v", tok.Header)
			}
		})
	}
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("jwks fetched %d times, want 1", n)
	}
}

func TestHappyPathsStaticKeys(t *testing.T) {
	testKeys(t)
	n := base64.RawURLEncoding.EncodeToString(rsaPriv.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(rsaPriv.E)).Bytes())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"}, NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecP256.PublicKey, ecP256)
	if err != nil {
		t.Fatal(err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cases := []struct {
		name string
		key  Key
		tk   *testKey
	}{
		{"HS256", Key{Symmetric: hmacSecret}, &testKey{alg: "HS256", priv: hmacSecret}},
		{"HS384", Key{Symmetric: hmacSecret}, &testKey{alg: "HS384", priv: hmacSecret}},
		{"HS512", Key{Symmetric: hmacSecret}, &testKey{alg: "HS512", priv: hmacSecret}},
		{"HS256 with id", Key{ID: "h1", Symmetric: hmacSecret}, &testKey{kid: "h1", alg: "HS256", priv: hmacSecret}},
		{"RSA n/e", Key{N: n, E: e}, &testKey{alg: "RS256", priv: rsaPriv}},
		{"RSA n/e PS512", Key{N: n, E: e}, &testKey{alg: "PS512", priv: rsaPriv}},
		{"certificate PEM", Key{Certificate: pemCert}, &testKey{alg: "ES256", priv: ecP256}},
		{"certificate DER", Key{Certificate: der}, &testKey{kid: "whatever", alg: "ES256", priv: ecP256}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewChecker(Rules{Keys: []Key{tc.key}, RequireExpirationTime: true, RequireSignedTokens: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, c, mint(t, tc.tk, nil, std(nil)), t0)
		})
	}
}

func TestStaticKeyIDMatching(t *testing.T) {
	testKeys(t)
	other := []byte(strings.Repeat("x", 32))
	c, err := NewChecker(Rules{Keys: []Key{{ID: "a", Symmetric: other}, {ID: "b", Symmetric: hmacSecret}}, RequireSignedTokens: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// kid b matches the second key.
	mustValidate(t, c, mint(t, &testKey{kid: "b", alg: "HS256", priv: hmacSecret}, nil, std(nil)), t0)
	// kid a matches the first key, whose secret differs: invalid signature.
	_, err = c.Validate(context.Background(), mint(t, &testKey{kid: "a", alg: "HS256", priv: hmacSecret}, nil, std(nil)), t0)
	wantReason(t, err, ReasonTokenSignatureInvalid)
	// no kid: all keys tried.
	mustValidate(t, c, mint(t, &testKey{alg: "HS256", priv: hmacSecret}, nil, std(nil)), t0)
	// unknown kid: all keys tried (APIM), the right one verifies.
	mustValidate(t, c, mint(t, &testKey{kid: "zzz", alg: "HS256", priv: hmacSecret}, nil, std(nil)), t0)
	// unknown kid, no key verifies: key not found.
	_, err = c.Validate(context.Background(), mint(t, &testKey{kid: "zzz", alg: "HS256", priv: []byte(strings.Repeat("y", 32))}, nil, std(nil)), t0)
	wantReason(t, err, ReasonTokenSignatureKeyNotFound)
}

func TestAudiencesAndIssuers(t *testing.T) {
	testKeys(t)
	k := &testKey{alg: "HS256", priv: hmacSecret}
	c, err := NewChecker(Rules{
		Keys:                  []Key{{Symmetric: hmacSecret}},
		Audiences:             []string{"a", "b"},
		Issuers:               []string{"x", "y"},
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := []map[string]any{
		{"aud": "a", "iss": "x"},
		{"aud": "b", "iss": "y"},
		{"aud": []string{"z", "b"}, "iss": "x"},
		{"aud": []string{"a"}, "iss": "y"},
	}
	for _, cl := range ok {
		tok := mustValidate(t, c, mint(t, k, nil, std(cl)), t0)
		if len(tok.Audiences) == 0 {
			t.Fatal("no audiences")
		}
	}
	bad := []struct {
		claims map[string]any
		reason string
	}{
		{map[string]any{"aud": "c", "iss": "x"}, ReasonTokenAudienceNotAllowed},
		{map[string]any{"aud": []string{"c", "d"}, "iss": "x"}, ReasonTokenAudienceNotAllowed},
		{map[string]any{"aud": []string{}, "iss": "x"}, ReasonTokenAudienceNotAllowed},
		{map[string]any{"aud": "A", "iss": "x"}, ReasonTokenAudienceNotAllowed},
		{map[string]any{"aud": nil, "iss": "x"}, ReasonTokenAudienceNotAllowed},
		{map[string]any{"aud": "a", "iss": "z"}, ReasonTokenIssuerNotAllowed},
		{map[string]any{"aud": "a", "iss": "x/"}, ReasonTokenIssuerNotAllowed},
		{map[string]any{"aud": "a", "iss": nil}, ReasonTokenIssuerNotAllowed},
		{map[string]any{"aud": 5, "iss": "x"}, ReasonJwtInvalid},
		{map[string]any{"aud": []any{"a", 5}, "iss": "x"}, ReasonJwtInvalid},
		{map[string]any{"aud": "a", "iss": 7}, ReasonJwtInvalid},
	}
	for _, b := range bad {
		_, err := c.Validate(context.Background(), mint(t, k, nil, std(b.claims)), t0)
		wantReason(t, err, b.reason)
	}
	// No audiences configured: no audience check; no issuers and no openid
	// configs: no issuer check.
	c2, err := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequireSignedTokens: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, c2, mint(t, k, nil, std(map[string]any{"aud": "anything", "iss": "whoever"})), t0)
	mustValidate(t, c2, mint(t, k, nil, std(map[string]any{"aud": nil, "iss": nil})), t0)
}

func TestIssuerFromOpenIDConfig(t *testing.T) {
	testKeys(t)
	k := &testKey{kid: "rs", alg: "RS256", priv: rsaPriv}
	p := newIDP(t, k)
	c, _, _, _ := oidcChecker(t, p, Rules{RequireSignedTokens: true})
	mustValidate(t, c, mint(t, k, nil, std(nil)), t0)
	for _, iss := range []any{"https://idp.example", "https://IDP.example/", "https://evil.example/", nil} {
		_, err := c.Validate(context.Background(), mint(t, k, nil, std(map[string]any{"iss": iss})), t0)
		wantReason(t, err, ReasonTokenIssuerNotAllowed)
	}
	// Explicit issuers replace the openid issuer.
	c2, _, _, _ := oidcChecker(t, p, Rules{Issuers: []string{"https://other/"}, RequireSignedTokens: true})
	_, err := c2.Validate(context.Background(), mint(t, k, nil, std(nil)), t0)
	wantReason(t, err, ReasonTokenIssuerNotAllowed)
	mustValidate(t, c2, mint(t, k, nil, std(map[string]any{"iss": "https://other/"})), t0)
}

func TestRequiredClaims(t *testing.T) {
	testKeys(t)
	k := &testKey{alg: "HS256", priv: hmacSecret}
	claims := std(map[string]any{
		"scp":    "read write  admin",
		"roles":  []string{"r1", "r2"},
		"groups": []any{"g1 g2", 7},
		"level":  3,
		"ratio":  1.5,
		"admin":  true,
		"tid":    "t-1",
	})
	cases := []struct {
		name   string
		rules  []ClaimRule
		reason string // "" = accepted
		msg    string
	}{
		{"all present", []ClaimRule{{Name: "tid", Values: []string{"t-1"}}}, "", ""},
		{"all default", []ClaimRule{{Name: "roles", Values: []string{"r1", "r2"}}}, "", ""},
		{"all explicit missing one", []ClaimRule{{Name: "roles", Match: "all", Values: []string{"r1", "r3"}}}, ReasonTokenClaimValueNotAllowed, `Claim roles value of "[\"r1\",\"r2\"]" is not allowed. Access denied.`},
		{"any one", []ClaimRule{{Name: "roles", Match: "any", Values: []string{"r9", "r2"}}}, "", ""},
		{"any none", []ClaimRule{{Name: "tid", Match: "any", Values: []string{"t-2", "t-3"}}}, ReasonTokenClaimValueNotAllowed, `Claim tid value of "t-1" is not allowed. Access denied.`},
		{"separator all", []ClaimRule{{Name: "scp", Separator: " ", Values: []string{"write", "admin"}}}, "", ""},
		{"no separator is whole string", []ClaimRule{{Name: "scp", Values: []string{"write"}}}, ReasonTokenClaimValueNotAllowed, ""},
		{"separator any", []ClaimRule{{Name: "scp", Match: "ANY", Separator: " ", Values: []string{"delete", "read"}}}, "", ""},
		{"empty part not a value", []ClaimRule{{Name: "scp", Separator: " ", Values: []string{""}}}, ReasonTokenClaimValueNotAllowed, ""},
		{"array element split", []ClaimRule{{Name: "groups", Separator: " ", Values: []string{"g2", "7"}}}, "", ""},
		{"number text", []ClaimRule{{Name: "level", Values: []string{"3"}}}, "", ""},
		{"number other text", []ClaimRule{{Name: "level", Values: []string{"3.0"}}}, ReasonTokenClaimValueNotAllowed, ""},
		{"float text", []ClaimRule{{Name: "ratio", Values: []string{"1.5"}}}, "", ""},
		{"bool", []ClaimRule{{Name: "admin", Values: []string{"true"}}}, "", ""},
		{"bool wrong case", []ClaimRule{{Name: "admin", Values: []string{"True"}}}, ReasonTokenClaimValueNotAllowed, ""},
		{"presence only", []ClaimRule{{Name: "tid"}}, "", ""},
		{"case sensitive", []ClaimRule{{Name: "tid", Values: []string{"T-1"}}}, ReasonTokenClaimValueNotAllowed, ""},
		{"several rules all hold", []ClaimRule{{Name: "tid", Values: []string{"t-1"}}, {Name: "roles", Match: "any", Values: []string{"r2"}}}, "", ""},
		{"missing claims listed", []ClaimRule{{Name: "tid"}, {Name: "dept", Values: []string{"x"}}, {Name: "org"}}, ReasonTokenClaimNotFound, "JWT token is missing the following claims: dept, org. Access denied."},
	}
	raw := mint(t, k, nil, claims)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequiredClaims: tc.rules, RequireSignedTokens: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Validate(context.Background(), raw, t0)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			te := wantReason(t, err, tc.reason)
			if tc.msg != "" && te.Message != tc.msg {
				t.Fatalf("message %q, want %q", te.Message, tc.msg)
			}
		})
	}
}

func TestLifetimeEdges(t *testing.T) {
	testKeys(t)
	k := &testKey{alg: "HS256", priv: hmacSecret}
	const skew = 30 * time.Second
	exp, nbf := t0, t0.Add(-10*time.Minute)
	raw := mint(t, k, nil, std(map[string]any{"exp": exp.Unix(), "nbf": nbf.Unix()}))
	for _, cached := range []bool{false, true} {
		c, err := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, ClockSkew: skew, RequireExpirationTime: true, RequireSignedTokens: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cached { // prime the verified-token cache
			mustValidate(t, c, raw, exp)
			if c.verified.len() != 1 {
				t.Fatal("not cached")
			}
		}
		// exp: valid iff now < exp+skew.
		mustValidate(t, c, raw, exp.Add(skew-time.Second))
		mustValidate(t, c, raw, exp.Add(skew-time.Nanosecond))
		_, err = c.Validate(context.Background(), raw, exp.Add(skew))
		te := wantReason(t, err, ReasonTokenExpired)
		if !strings.HasSuffix(te.Message, "Access denied.") {
			t.Fatalf("message %q", te.Message)
		}
		_, err = c.Validate(context.Background(), raw, exp.Add(skew+time.Second))
		wantReason(t, err, ReasonTokenExpired)
		// nbf: valid iff now >= nbf-skew.
		mustValidate(t, c, raw, nbf.Add(-skew))
		mustValidate(t, c, raw, nbf.Add(-skew+time.Second))
		_, err = c.Validate(context.Background(), raw, nbf.Add(-skew-time.Second))
		wantReason(t, err, ReasonTokenExpired)
		_, err = c.Validate(context.Background(), raw, nbf.Add(-skew-time.Nanosecond))
		wantReason(t, err, ReasonTokenExpired)
	}
	// Zero skew: exp itself is already expired.
	c0, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequireSignedTokens: true}, nil)
	mustValidate(t, c0, raw, exp.Add(-time.Second))
	_, err := c0.Validate(context.Background(), raw, exp)
	wantReason(t, err, ReasonTokenExpired)

	// Fractional NumericDate.
	rawFrac := mint(t, k, nil, std(map[string]any{"exp": float64(exp.Unix()) + 0.5}))
	mustValidate(t, c0, rawFrac, exp.Add(400*time.Millisecond))
	_, err = c0.Validate(context.Background(), rawFrac, exp.Add(500*time.Millisecond))
	wantReason(t, err, ReasonTokenExpired)

	// Absurd values never overflow.
	mustValidate(t, c0, mint(t, k, nil, std(map[string]any{"exp": 1e300})), t0)
	mustValidate(t, c0, mint(t, k, nil, std(map[string]any{"exp": int64(1) << 62})), t0)
	_, err = c0.Validate(context.Background(), mint(t, k, nil, std(map[string]any{"exp": -1e300})), t0)
	wantReason(t, err, ReasonTokenExpired)
	_, err = c0.Validate(context.Background(), mint(t, k, nil, std(map[string]any{"exp": "tomorrow"})), t0)
	wantReason(t, err, ReasonJwtInvalid)
	_, err = c0.Validate(context.Background(), mint(t, k, nil, std(map[string]any{"nbf": true})), t0)
	wantReason(t, err, ReasonJwtInvalid)
}

func TestRequireExpirationTime(t *testing.T) {
	testKeys(t)
	k := &testKey{alg: "HS256", priv: hmacSecret}
	noExp := mint(t, k, nil, std(map[string]any{"exp": nil}))
	withExp := mint(t, k, nil, std(nil))
	strict, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequireExpirationTime: true, RequireSignedTokens: true}, nil)
	lax, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequireExpirationTime: false, RequireSignedTokens: true}, nil)
	_, err := strict.Validate(context.Background(), noExp, t0)
	wantReason(t, err, ReasonTokenExpired)
	tok := mustValidate(t, lax, noExp, t0)
	if !tok.Expiry.IsZero() {
		t.Fatal("expiry should be zero")
	}
	mustValidate(t, lax, noExp, t0.Add(100*365*24*time.Hour))
	if lax.verified.len() != 0 {
		t.Fatal("token without exp must not be cached")
	}
	mustValidate(t, strict, withExp, t0)
	_, err = lax.Validate(context.Background(), withExp, t0.Add(2*time.Hour))
	wantReason(t, err, ReasonTokenExpired)
}

func TestVerifiedCache(t *testing.T) {
	testKeys(t)
	k := &testKey{alg: "HS256", priv: hmacSecret}
	c, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, Audiences: []string{"api://gatehouse"}, RequireSignedTokens: true}, nil)
	raw := mint(t, k, nil, std(nil))
	a := mustValidate(t, c, raw, t0)
	b := mustValidate(t, c, raw, t0.Add(time.Minute))
	if a != b {
		t.Fatal("second validation not served from the cache")
	}
	// Failures are not cached.
	bad := mint(t, k, nil, std(map[string]any{"aud": "other"}))
	for range 2 {
		_, err := c.Validate(context.Background(), bad, t0)
		wantReason(t, err, ReasonTokenAudienceNotAllowed)
	}
	if c.verified.len() != 1 {
		t.Fatalf("cache has %d entries, want 1", c.verified.len())
	}
	// Expired on a hit.
	_, err := c.Validate(context.Background(), raw, t0.Add(2*time.Hour))
	wantReason(t, err, ReasonTokenExpired)
	// Different checker (other rules): not shared.
	c2, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, Audiences: []string{"nope"}, RequireSignedTokens: true}, nil)
	_, err = c2.Validate(context.Background(), raw, t0)
	wantReason(t, err, ReasonTokenAudienceNotAllowed)
	// Unsigned tokens are not cached.
	c3, _ := NewChecker(Rules{RequireSignedTokens: false}, nil)
	mustValidate(t, c3, unsigned(t, "none", std(nil)), t0)
	if c3.verified.len() != 0 {
		t.Fatal("unsigned token cached")
	}
}

func TestVerifiedCacheBounded(t *testing.T) {
	vc := newVerifiedCache(8, 1<<20)
	for i := range 100 {
		raw := strings.Repeat("x", i+1)
		exp := t0.Add(time.Hour)
		if i%2 == 0 {
			exp = t0.Add(-time.Hour) // already expired: evicted first
		}
		vc.put(&verifiedEntry{tok: &Token{Raw: raw, Expiry: exp}}, t0)
		if vc.len() > 8 {
			t.Fatalf("cache grew to %d", vc.len())
		}
	}
	if vc.get(strings.Repeat("x", 100)) == nil {
		t.Fatal("latest entry missing")
	}
	vb := newVerifiedCache(1000, 100)
	for i := range 50 {
		vb.put(&verifiedEntry{tok: &Token{Raw: strings.Repeat("y", 10) + string(rune('a'+i%26)) + strings.Repeat("z", i), Expiry: t0.Add(time.Hour)}}, t0)
		if vb.bytes > 100 {
			t.Fatalf("cache holds %d bytes", vb.bytes)
		}
	}
}

func TestNewCheckerRejectsBadRules(t *testing.T) {
	testKeys(t)
	small := newSmallRSA(t)
	bad := []Rules{
		{Keys: []Key{{}}},
		{Keys: []Key{{Symmetric: []byte("short")}}},
		{Keys: []Key{{Symmetric: []byte{}}, {N: "AQAB"}}},
		{Keys: []Key{{Symmetric: hmacSecret, N: "x", E: "AQAB"}}},
		{Keys: []Key{{N: "!!", E: "AQAB"}}},
		{Keys: []Key{{N: base64.RawURLEncoding.EncodeToString(small.N.Bytes()), E: "AQAB"}}},
		{Keys: []Key{{N: base64.RawURLEncoding.EncodeToString(rsaPriv.N.Bytes()), E: "AA"}}},
		{Keys: []Key{{Certificate: []byte("not a cert")}}},
		{Keys: []Key{{Symmetric: hmacSecret}}, ClockSkew: -time.Second},
		{Keys: []Key{{Symmetric: hmacSecret}}, Audiences: []string{""}},
		{Keys: []Key{{Symmetric: hmacSecret}}, Issuers: []string{""}},
		{Keys: []Key{{Symmetric: hmacSecret}}, RequiredClaims: []ClaimRule{{Name: ""}}},
		{Keys: []Key{{Symmetric: hmacSecret}}, RequiredClaims: []ClaimRule{{Name: "x", Match: "most"}}},
		{RequireSignedTokens: true},
		{OpenIDConfigURLs: []string{"ftp://x/"}},
		{OpenIDConfigURLs: []string{"/relative"}},
	}
	for i, r := range bad {
		if _, err := NewChecker(r, nil); err == nil {
			t.Errorf("rules %d accepted", i)
		}
	}
}

func TestTokenNotPresent(t *testing.T) {
	c, _ := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}}, nil)
	_, err := c.Validate(context.Background(), "", t0)
	te := wantReason(t, err, ReasonTokenNotPresent)
	if te.Message != "JWT not present." {
		t.Fatal(te.Message)
	}
}
