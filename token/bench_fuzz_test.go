package token

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func FuzzValidate(f *testing.F) {
	testKeys(f)
	rs := &testKey{kid: "rs", alg: "RS256", priv: rsaPriv}
	es := &testKey{kid: "es", alg: "ES256", priv: ecP256}
	hs := &testKey{alg: "HS256", priv: hmacSecret}
	p := newIDP(f, rs, es)
	strict, _, _, _ := oidcChecker(f, p, Rules{
		Keys:                  []Key{{Symmetric: hmacSecret}},
		Audiences:             []string{"api://gatehouse"},
		RequiredClaims:        []ClaimRule{{Name: "scp", Separator: " ", Match: "any", Values: []string{"read"}}},
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	})
	lax, err := NewChecker(Rules{Keys: []Key{{Symmetric: hmacSecret}}, RequiredClaims: []ClaimRule{{Name: "roles", Values: []string{"a"}}}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		mint(f, rs, nil, std(map[string]any{"scp": "read write"})),
		mint(f, es, nil, std(nil)),
		mint(f, hs, map[string]any{"crit": []string{"x"}}, std(nil)),
		unsigned(f, "none", std(map[string]any{"roles": []any{"a", 1, nil, map[string]any{}}})),
		"a.b.c", "....", "", ".", "e30.e30.", "e30.e30.e30.e30.e30", "{}",
		b64e([]byte(`{"alg":"ES256","kid":"es"}`)) + ".e30." + b64e(make([]byte, 64)),
		b64e([]byte(`{"alg":"none"}`)) + "." + b64e([]byte(`{"exp":1e999,"nbf":-1e999,"aud":[[]],"roles":"a"}`)) + ".",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, c := range []*Checker{strict, lax} {
			tok, err := c.Validate(context.Background(), raw, t0)
			if (tok == nil) == (err == nil) {
				t.Fatalf("token %v with error %v", tok, err)
			}
			if err != nil {
				var te *Error
				if !errors.As(err, &te) || te.Reason == "" || te.Message == "" {
					t.Fatalf("bad error %#v", err)
				}
				if len(raw) > 16 && strings.Contains(te.Message, raw) {
					t.Fatal("message echoes the token")
				}
			}
		}
	})
}

func benchChecker(b *testing.B, k func() *testKey) (*Checker, string) {
	testKeys(b)
	tk := k()
	p := newIDP(b, tk)
	c, _, _, _ := oidcChecker(b, p, Rules{
		Audiences:             []string{"api://gatehouse"},
		RequiredClaims:        []ClaimRule{{Name: "scp", Separator: " ", Values: []string{"read"}}},
		ClockSkew:             30e9,
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
	})
	if err := c.Prefetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c, mint(b, tk, nil, std(map[string]any{"scp": "read write", "tid": "00000000-0000-0000-0000-000000000000", "name": "Benchmark User"}))
}

func BenchmarkValidateCached(b *testing.B) {
	c, raw := benchChecker(b, func() *testKey { return &testKey{kid: "rs", alg: "RS256", priv: rsaPriv} })
	ctx := context.Background()
	mustValidate(b, c, raw, t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Validate(ctx, raw, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCachedParallel(b *testing.B) {
	c, raw := benchChecker(b, func() *testKey { return &testKey{kid: "rs", alg: "RS256", priv: rsaPriv} })
	ctx := context.Background()
	mustValidate(b, c, raw, t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Validate(ctx, raw, t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchUncached(b *testing.B, k func() *testKey) {
	c, raw := benchChecker(b, k)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, _, err := c.validate(ctx, raw, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateRS256Uncached(b *testing.B) {
	benchUncached(b, func() *testKey { return &testKey{kid: "rs", alg: "RS256", priv: rsaPriv} })
}

func BenchmarkValidateES256Uncached(b *testing.B) {
	benchUncached(b, func() *testKey { return &testKey{kid: "es", alg: "ES256", priv: ecP256} })
}

func BenchmarkValidateEdDSAUncached(b *testing.B) {
	benchUncached(b, func() *testKey { return &testKey{kid: "ed", alg: "EdDSA", priv: edPriv} })
}
