// Package token validates JWT bearer tokens for the gateway (validate-jwt)
// and the guard: OpenID discovery, JWKS caching with throttled refresh, the
// checks of APIM's validate-jwt, and a cache of verified tokens.
//
// Security profile (decisions shared by the gateway and the guard):
//
//   - Only JWS compact serialization is accepted. JWE (5 parts), JSON
//     serialization (and so multiple signatures), nested tokens (cty JWT)
//     and tokens larger than [MaxTokenSize] are rejected as JwtInvalid.
//   - The algorithm is never trusted from the token: each key allows only the
//     algorithms of its type (RSA: RS*/PS*; EC: the ES* of its curve;
//     Ed25519: EdDSA; symmetric: HS* whose hash fits the key length) and, for
//     JWKS keys, the key's own "alg" when present.
//   - Header parameters that point at keys (jku, jwk, x5u, x5c) are never used
//     to find or trust keys; a token carrying any of them is REJECTED as
//     JwtInvalid (no legitimate issuer we target needs them, and parsing
//     attacker-supplied certificates or keys is attack surface). "crit" is
//     rejected whatever it lists (no extension is understood), as are "b64",
//     "zip" and "enc".
//   - "alg":"none" (exactly, with an empty signature) is accepted only when
//     Rules.RequireSignedTokens is false; any case variant of "none" is
//     always rejected (TokenSignatureInvalid).
//   - Lifetime: a token is valid while now < exp+ClockSkew (at exactly
//     exp+ClockSkew it has expired) and once now >= nbf-ClockSkew (at exactly
//     nbf-ClockSkew it is valid). A failing nbf is reported as TokenExpired
//     (validate-jwt has no separate reason). iat and typ are not checked.
//   - Verified tokens are cached per Checker keyed by the exact token text
//     (see verifiedCache for why not its SHA-256), at most 10,000 entries /
//     32 MiB, until exp; a hit re-checks exp/nbf only. A key removed from a
//     JWKS therefore stops new tokens at once but not already-cached ones.
//   - Messages never contain the token, keys or secrets; attacker-controlled
//     values (kid, claim values) are quoted and truncated.
package token

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Reasons of validate-jwt failures (APIM's LastError.Reason values).
const (
	ReasonTokenNotPresent           = "TokenNotPresent"
	ReasonJwtInvalid                = "JwtInvalid"
	ReasonTokenSignatureInvalid     = "TokenSignatureInvalid"
	ReasonTokenExpired              = "TokenExpired"
	ReasonTokenAudienceNotAllowed   = "TokenAudienceNotAllowed"
	ReasonTokenIssuerNotAllowed     = "TokenIssuerNotAllowed"
	ReasonTokenSignatureKeyNotFound = "TokenSignatureKeyNotFound"
	ReasonTokenClaimNotFound        = "TokenClaimNotFound"
	ReasonTokenClaimValueNotAllowed = "TokenClaimValueNotAllowed"
)

const (
	accessDenied                = " Access denied."
	maxEchoLen                  = 64
	defaultVerifiedCacheEntries = 10000
	defaultVerifiedCacheBytes   = 32 << 20
	minRSABits                  = 2048
	minHMACKeyBytes             = 32
	algNone                     = "none"
	matchAll, matchAny          = "all", "any"
)

// MaxTokenSize is the largest token accepted (16 KiB); larger ones are
// rejected before any decoding.
const MaxTokenSize = 16 << 10

// Key is a statically configured signing key (validate-jwt issuer-signing-keys).
// Exactly one of Symmetric, N/E and Certificate must be set.
type Key struct {
	ID          string // matches the token's kid; empty = try for any token
	Symmetric   []byte // decoded base64 HMAC key, at least 32 bytes (HS256; 48 for HS384, 64 for HS512)
	N, E        string // RSA modulus and exponent, base64url; modulus at least 2048 bits
	Certificate []byte // PEM or DER certificate whose public key verifies (a PEM "PUBLIC KEY" is accepted too); validity dates are not checked
}

// ClaimRule is one <claim> of required-claims.
type ClaimRule struct {
	Name      string
	Match     string // "all" (default) or "any"
	Separator string // splits a string claim into values
	Values    []string
}

// Rules is everything a validate-jwt (or the guard) checks.
type Rules struct {
	OpenIDConfigURLs []string
	// JWKSURLs are key sets named directly (a provider without discovery,
	// such as Sign in with Apple): their tokens need Issuers.
	JWKSURLs              []string
	Keys                  []Key
	Audiences             []string // any one must match; empty = no audience check
	Issuers               []string // any one must match; empty = issuers of the openid configs
	RequiredClaims        []ClaimRule
	ClockSkew             time.Duration
	RequireExpirationTime bool
	RequireSignedTokens   bool

	// IssuerAliases, when set and Issuers is empty, returns further issuers
	// accepted for an openid configuration that advertises iss
	// (validate-azure-ad-token: Entra's v1 issuer beside its v2 one).
	IssuerAliases func(iss string) []string
}

// Checker validates tokens against one Rules. Safe for concurrent use.
type Checker struct {
	rules    Rules
	entries  []*entry  // one per Rules.OpenIDConfigURLs
	static   []*verKey // from Rules.Keys, in order
	claims   []ClaimRule
	verified *verifiedCache
}

// NewChecker prepares rules; it fails on contradictory or malformed rules:
// a key that is not exactly one of symmetric / n+e / certificate or that
// cannot be parsed, an HMAC key shorter than 32 bytes, an RSA modulus under
// 2048 bits, a negative clock skew, empty audience/issuer/claim names, a
// claim match other than all/any, or signed tokens required with neither
// keys nor openid configs. d may be nil; a private Discovery (default
// client, slog.Default) is then used for the openid configs.
func NewChecker(r Rules, d *Discovery) (*Checker, error) {
	if r.ClockSkew < 0 {
		return nil, errors.New("token: clock skew must not be negative")
	}
	for _, a := range r.Audiences {
		if a == "" {
			return nil, errors.New("token: empty audience")
		}
	}
	for _, i := range r.Issuers {
		if i == "" {
			return nil, errors.New("token: empty issuer")
		}
	}
	if len(r.JWKSURLs) > 0 && len(r.Issuers) == 0 {
		return nil, errors.New("token: key sets without an openid configuration need the issuers")
	}
	if r.RequireSignedTokens && len(r.Keys) == 0 && len(r.OpenIDConfigURLs) == 0 && len(r.JWKSURLs) == 0 {
		return nil, errors.New("token: signed tokens are required but no issuer signing keys or openid configs are configured")
	}
	c := &Checker{rules: r, verified: newVerifiedCache(defaultVerifiedCacheEntries, defaultVerifiedCacheBytes)}
	for i, k := range r.Keys {
		vk, err := parseStaticKey(k)
		if err != nil {
			return nil, fmt.Errorf("token: issuer signing key %d: %w", i+1, err)
		}
		c.static = append(c.static, vk)
	}
	for _, cr := range r.RequiredClaims {
		if cr.Name == "" {
			return nil, errors.New("token: required claim without a name")
		}
		switch strings.ToLower(cr.Match) {
		case "", matchAll:
			cr.Match = matchAll
		case matchAny:
			cr.Match = matchAny
		default:
			return nil, fmt.Errorf("token: claim %q: match must be \"all\" or \"any\", not %q", cr.Name, cr.Match)
		}
		cr.Values = append([]string(nil), cr.Values...)
		c.claims = append(c.claims, cr)
	}
	if len(r.OpenIDConfigURLs)+len(r.JWKSURLs) > 0 && d == nil {
		d = NewDiscovery(nil, nil)
	}
	for _, u := range r.JWKSURLs {
		if err := checkFetchURL(u); err != nil {
			return nil, fmt.Errorf("token: key set %q: %w", u, err)
		}
		c.entries = append(c.entries, d.entry(jwksOnly+u))
	}
	for _, u := range r.OpenIDConfigURLs {
		if err := checkFetchURL(u); err != nil {
			return nil, fmt.Errorf("token: openid config %q: %w", u, err)
		}
		c.entries = append(c.entries, d.entry(u))
	}
	c.rules.Audiences = append([]string(nil), r.Audiences...)
	c.rules.Issuers = append([]string(nil), r.Issuers...)
	return c, nil
}

// Prefetch loads the openid configurations and key sets of the rules now
// (e.g. at start-up), waiting at most until ctx is done. Failures are
// returned (joined) for logging only: the Checker stays usable and retries
// under the usual refresh rules. A failed Prefetch counts as a retrieval
// attempt for the 5-minute throttle.
func (c *Checker) Prefetch(ctx context.Context) error {
	var errs []error
	for _, e := range c.entries {
		st := e.refetch(ctx)
		switch {
		case st == nil:
			errs = append(errs, fmt.Errorf("token: openid config %s: %w", e.url, ctx.Err()))
		case st.err != nil:
			errs = append(errs, fmt.Errorf("token: openid config %s: %w", e.url, st.err))
		}
	}
	return errors.Join(errs...)
}

// Token is a validated token. Tokens served from the verified-token cache
// are shared between callers: treat every field as read-only.
type Token struct {
	Raw       string
	Header    map[string]any // JSON numbers are json.Number
	Claims    map[string]any // JSON numbers are json.Number (their original text)
	Subject   string
	Issuer    string
	Audiences []string
	Expiry    time.Time // zero when the token has no exp
}

// Error is a validation failure with APIM's validate-jwt reason code
// (TokenNotPresent, JwtInvalid, TokenSignatureInvalid, TokenExpired,
// TokenAudienceNotAllowed, TokenIssuerNotAllowed, TokenSignatureKeyNotFound,
// TokenClaimNotFound, TokenClaimValueNotAllowed) and message.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(reason, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if reason != ReasonJwtInvalid && reason != ReasonTokenNotPresent {
		msg += accessDenied
	}
	return &Error{Reason: reason, Message: msg}
}

func invalid(detail string) *Error {
	return &Error{Reason: ReasonJwtInvalid, Message: "Invalid JWT: " + detail + "."}
}

// echo renders an attacker-controlled value for a message: quoted, escaped
// and truncated.
func echo(s string) string {
	if len(s) > maxEchoLen {
		s = s[:maxEchoLen] + "…"
	}
	return strconv.Quote(s)
}

// Validate checks raw (the bare token, no scheme) at time now. A token that
// validated before (same raw text, same Checker) is served from a cache
// without signature verification or parsing; only exp/nbf are re-checked
// against now. ctx bounds waiting for a key-set fetch.
func (c *Checker) Validate(ctx context.Context, raw string, now time.Time) (*Token, error) {
	if raw == "" {
		return nil, &Error{Reason: ReasonTokenNotPresent, Message: "JWT not present."}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if e := c.verified.get(raw); e != nil {
		if err := c.checkLifetime(e.tok.Expiry, e.nbf, e.hasNbf, now); err != nil {
			return nil, err
		}
		return e.tok, nil
	}
	tok, nbf, hasNbf, signed, err := c.validate(ctx, raw, now)
	if err != nil {
		return nil, err
	}
	if signed && !tok.Expiry.IsZero() {
		c.verified.put(&verifiedEntry{tok: tok, nbf: nbf, hasNbf: hasNbf}, now.Add(-c.rules.ClockSkew))
	}
	return tok, nil
}

// parsed is a token split and decoded, signature not yet verified.
type parsed struct {
	header map[string]any
	claims map[string]any
	alg    string
	kid    string
	sig    []byte
}

var b64 = base64.RawURLEncoding.Strict()

func (c *Checker) validate(ctx context.Context, raw string, now time.Time) (tok *Token, nbf time.Time, hasNbf, signed bool, err error) {
	p, perr := parse(raw)
	if perr != nil {
		return nil, nbf, false, false, perr
	}
	// Signature.
	if p.alg == algNone && !c.rules.RequireSignedTokens {
		if len(p.sig) != 0 {
			return nil, nbf, false, false, invalid("an unsigned token (alg none) must have an empty signature")
		}
	} else {
		if e := c.verifySignature(ctx, raw, p); e != nil {
			return nil, nbf, false, false, e
		}
		signed = true
	}
	// Registered claims.
	tok = &Token{Raw: strings.Clone(raw), Header: p.header, Claims: p.claims}
	if v, ok := p.claims["exp"]; ok {
		t, e := numericDate("exp", v)
		if e != nil {
			return nil, nbf, false, false, e
		}
		tok.Expiry = t
	} else if c.rules.RequireExpirationTime {
		return nil, nbf, false, false, fail(ReasonTokenExpired, "JWT has no expiration time (exp) and one is required.")
	}
	if v, ok := p.claims["nbf"]; ok {
		t, e := numericDate("nbf", v)
		if e != nil {
			return nil, nbf, false, false, e
		}
		nbf, hasNbf = t, true
	}
	if v, ok := p.claims["iss"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, nbf, false, false, invalid("claim iss must be a string")
		}
		tok.Issuer = s
	}
	if v, ok := p.claims["sub"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, nbf, false, false, invalid("claim sub must be a string")
		}
		tok.Subject = s
	}
	if v, ok := p.claims["aud"]; ok {
		switch a := v.(type) {
		case string:
			tok.Audiences = []string{a}
		case []any:
			tok.Audiences = make([]string, 0, len(a))
			for _, x := range a {
				s, isStr := x.(string)
				if !isStr {
					return nil, nbf, false, false, invalid("claim aud must be a string or an array of strings")
				}
				tok.Audiences = append(tok.Audiences, s)
			}
		default:
			return nil, nbf, false, false, invalid("claim aud must be a string or an array of strings")
		}
	}
	if e := c.checkLifetime(tok.Expiry, nbf, hasNbf, now); e != nil {
		return nil, nbf, false, false, e
	}
	if e := c.checkIssuer(ctx, tok.Issuer, p.claims); e != nil {
		return nil, nbf, false, false, e
	}
	if e := c.checkAudience(tok.Audiences); e != nil {
		return nil, nbf, false, false, e
	}
	if e := checkClaims(c.claims, p.claims); e != nil {
		return nil, nbf, false, false, e
	}
	return tok, nbf, hasNbf, signed, nil
}

// parse splits raw and decodes header and payload, enforcing the header
// profile described in the package documentation.
func parse(raw string) (*parsed, *Error) {
	if len(raw) > MaxTokenSize {
		return nil, invalid(fmt.Sprintf("token is larger than %d bytes", MaxTokenSize))
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, invalid("only the JWS compact serialization is supported")
	}
	switch n := strings.Count(raw, "."); n {
	case 2:
	case 4:
		return nil, invalid("encrypted tokens (JWE) are not supported")
	default:
		return nil, invalid("a JWT must have three dot-separated parts")
	}
	h64, rest, _ := strings.Cut(raw, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	hb, err := b64.DecodeString(h64)
	if err != nil {
		return nil, invalid("the header is not base64url")
	}
	p := &parsed{}
	if p.header, err = decodeObject(hb); err != nil {
		return nil, invalid("the header is not a JSON object")
	}
	alg, ok := p.header["alg"].(string)
	if !ok || alg == "" {
		return nil, invalid("the header has no alg")
	}
	p.alg = alg
	if v, ok := p.header["kid"]; ok {
		if p.kid, ok = v.(string); !ok {
			return nil, invalid("the header kid must be a string")
		}
	}
	for _, name := range [...]string{"jku", "jwk", "x5u", "x5c"} {
		if _, ok := p.header[name]; ok {
			return nil, invalid("header parameter " + name + " is not accepted")
		}
	}
	if _, ok := p.header["crit"]; ok {
		return nil, invalid("critical header parameters (crit) are not supported")
	}
	for _, name := range [...]string{"b64", "zip", "enc"} {
		if _, ok := p.header[name]; ok {
			return nil, invalid("header parameter " + name + " is not supported")
		}
	}
	if cty, _ := p.header["cty"].(string); strings.EqualFold(cty, "JWT") {
		return nil, invalid("nested tokens are not supported")
	}
	pb, err := b64.DecodeString(p64)
	if err != nil {
		return nil, invalid("the payload is not base64url")
	}
	if p.claims, err = decodeObject(pb); err != nil {
		return nil, invalid("the payload is not a JSON object")
	}
	if p.sig, err = b64.DecodeString(s64); err != nil {
		return nil, invalid("the signature is not base64url")
	}
	return p, nil
}

// decodeObject decodes exactly one JSON object, numbers as json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return m, nil
}

// maxNumericDate bounds exp/nbf to year 9999 so time arithmetic never
// overflows.
const maxNumericDate = 253402300799

func numericDate(name string, v any) (time.Time, *Error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, invalid("claim " + name + " must be a number")
	}
	if i, err := n.Int64(); err == nil {
		i = min(max(i, -maxNumericDate), maxNumericDate)
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(string(n), "-") {
			return time.Unix(maxNumericDate, 0), nil
		} else if errors.Is(err, strconv.ErrRange) {
			return time.Unix(-maxNumericDate, 0), nil
		}
		return time.Time{}, invalid("claim " + name + " must be a number")
	}
	f = min(max(f, -maxNumericDate), maxNumericDate)
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)), nil
}

// checkLifetime: valid iff now < exp+skew and now >= nbf-skew.
func (c *Checker) checkLifetime(exp, nbf time.Time, hasNbf bool, now time.Time) *Error {
	skew := c.rules.ClockSkew
	if !exp.IsZero() && !now.Before(exp.Add(skew)) {
		return fail(ReasonTokenExpired, "JWT expired at %s.", exp.UTC().Format(time.RFC3339))
	}
	if hasNbf && now.Before(nbf.Add(-skew)) {
		return fail(ReasonTokenExpired, "JWT is not valid before %s.", nbf.UTC().Format(time.RFC3339))
	}
	return nil
}

// tenantPlaceholder is how Entra ID's multi-tenant metadata
// (/common, /organizations) names its issuers:
// https://login.microsoftonline.com/{tenantid}/v2.0.
const tenantPlaceholder = "{tenantid}"

// tenantIssuer is a templated issuer with the token's own tenant (its tid
// claim, a GUID): Microsoft's rule for multi-tenant validation. The tid is
// in the signed token, so a token of one tenant cannot pass as another's.
func tenantIssuer(template string, claims map[string]any) (string, bool) {
	tid, _ := claims["tid"].(string)
	if !strings.Contains(template, tenantPlaceholder) || !isGUID(tid) {
		return "", false
	}
	return strings.Replace(template, tenantPlaceholder, tid, 1), true
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}

func (c *Checker) checkIssuer(ctx context.Context, iss string, claims map[string]any) *Error {
	if len(c.rules.Issuers) > 0 {
		for _, want := range c.rules.Issuers {
			if iss == want {
				return nil
			}
		}
		return fail(ReasonTokenIssuerNotAllowed, "JWT issuer %s is not allowed.", echo(iss))
	}
	if len(c.entries) == 0 {
		return nil
	}
	for _, e := range c.entries {
		st := e.current(ctx)
		if st == nil || st.keys == nil {
			continue
		}
		if strings.Contains(st.keys.issuer, tenantPlaceholder) {
			// A templated issuer is never matched as written.
			if want, ok := tenantIssuer(st.keys.issuer, claims); ok && want == iss {
				return nil
			}
			continue
		}
		if st.keys.issuer == iss {
			return nil
		}
		if c.rules.IssuerAliases != nil && iss != "" {
			for _, a := range c.rules.IssuerAliases(st.keys.issuer) {
				if a == iss {
					return nil
				}
			}
		}
	}
	return fail(ReasonTokenIssuerNotAllowed, "JWT issuer %s is not allowed.", echo(iss))
}

func (c *Checker) checkAudience(auds []string) *Error {
	if len(c.rules.Audiences) == 0 {
		return nil
	}
	for _, a := range auds {
		for _, want := range c.rules.Audiences {
			if a == want {
				return nil
			}
		}
	}
	if len(auds) == 0 {
		return fail(ReasonTokenAudienceNotAllowed, "JWT has no audience (aud).")
	}
	return fail(ReasonTokenAudienceNotAllowed, "JWT audience %s is not allowed.", echo(strings.Join(auds, ", ")))
}

// signingAlgorithms are the JWS algorithms understood at all.
var signingAlgorithms = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
	"HS256": jose.HS256, "HS384": jose.HS384, "HS512": jose.HS512,
}

// verifySignature finds the candidate keys for the token and verifies the
// signature with go-jose.
func (c *Checker) verifySignature(ctx context.Context, raw string, p *parsed) *Error {
	if strings.EqualFold(p.alg, algNone) {
		return fail(ReasonTokenSignatureInvalid, "JWT is not signed (alg %s) and signed tokens are required.", echo(p.alg))
	}
	alg, ok := signingAlgorithms[p.alg]
	if !ok {
		return fail(ReasonTokenSignatureInvalid, "JWT signature algorithm %s is not supported.", echo(p.alg))
	}
	if len(p.sig) == 0 {
		return fail(ReasonTokenSignatureInvalid, "JWT signature is missing.")
	}

	// Key sets of the openid configs (first fetch / lazy refresh inside).
	sets := make([]*state, len(c.entries))
	for i, e := range c.entries {
		sets[i] = e.current(ctx)
	}
	kidKnown := func() bool {
		for _, k := range c.static {
			if k.kid == p.kid {
				return true
			}
		}
		for _, st := range sets {
			if st != nil && st.keys != nil && st.keys.hasKid(p.kid) {
				return true
			}
		}
		return false
	}
	known := p.kid == "" || kidKnown()
	if !known && len(c.entries) > 0 {
		// Unknown kid: refetch (coalesced, throttled per URL) and look again.
		for i, e := range c.entries {
			sets[i] = e.refetch(ctx)
		}
		known = kidKnown()
	}

	var cands []*verKey
	for _, k := range c.static {
		// With a kid: keys with that id or without an id; if no key has
		// the id, every static key (APIM tries all keys).
		if p.kid == "" || k.kid == "" || k.kid == p.kid || !known {
			cands = append(cands, k)
		}
	}
	for _, st := range sets {
		if st == nil || st.keys == nil {
			continue
		}
		for _, k := range st.keys.keys {
			if p.kid == "" || k.kid == "" || k.kid == p.kid {
				cands = append(cands, k)
			}
		}
	}
	var usable []*verKey
	for _, k := range cands {
		if k.allows(alg) {
			usable = append(usable, k)
		}
	}
	if len(usable) == 0 || !known {
		if len(usable) > 0 {
			// kid unknown, but keys without a usable id may still verify.
			if c.tryKeys(raw, alg, usable) {
				return nil
			}
		}
		if !known {
			return fail(ReasonTokenSignatureKeyNotFound, "JWT signature validation failed: no signing key matches kid %s%s.", echo(p.kid), c.unavailableNote(sets))
		}
		if len(cands) > 0 {
			return fail(ReasonTokenSignatureInvalid, "JWT signature validation failed: algorithm %s is not allowed for the matching signing keys.", p.alg)
		}
		return fail(ReasonTokenSignatureKeyNotFound, "JWT signature validation failed: no signing key for algorithm %s%s.", p.alg, c.unavailableNote(sets))
	}
	if c.tryKeys(raw, alg, usable) {
		return nil
	}
	return fail(ReasonTokenSignatureInvalid, "JWT signature validation failed.")
}

func (c *Checker) unavailableNote(sets []*state) string {
	for _, st := range sets {
		if st == nil || st.err != nil {
			return " (signing keys could not be retrieved)"
		}
	}
	return ""
}

func (c *Checker) tryKeys(raw string, alg jose.SignatureAlgorithm, keys []*verKey) bool {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{alg})
	if err != nil || len(jws.Signatures) != 1 {
		return false
	}
	for _, k := range keys {
		if _, err := jws.Verify(k.key); err == nil {
			return true
		}
	}
	return false
}

// verKey is a key usable for verification with its allowed algorithms.
type verKey struct {
	kid  string
	key  any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte
	algs []jose.SignatureAlgorithm
}

func (k *verKey) allows(alg jose.SignatureAlgorithm) bool {
	for _, a := range k.algs {
		if a == alg {
			return true
		}
	}
	return false
}

// algorithmsFor derives the allowed algorithms from the key type alone.
func algorithmsFor(key any) ([]jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is shorter than %d", k.N.BitLen(), minRSABits)
		}
		return []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}, nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().Name {
		case "P-256":
			return []jose.SignatureAlgorithm{jose.ES256}, nil
		case "P-384":
			return []jose.SignatureAlgorithm{jose.ES384}, nil
		case "P-521":
			return []jose.SignatureAlgorithm{jose.ES512}, nil
		}
		return nil, fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("malformed Ed25519 key")
		}
		return []jose.SignatureAlgorithm{jose.EdDSA}, nil
	case []byte:
		var algs []jose.SignatureAlgorithm
		if len(k) >= 32 {
			algs = append(algs, jose.HS256)
		}
		if len(k) >= 48 {
			algs = append(algs, jose.HS384)
		}
		if len(k) >= 64 {
			algs = append(algs, jose.HS512)
		}
		if len(algs) == 0 {
			return nil, fmt.Errorf("symmetric key of %d bytes is shorter than %d", len(k), minHMACKeyBytes)
		}
		return algs, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}
