package apim

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/token"
)

// validate-jwt. Rules are compiled into a token.Checker. The Checker needs
// the gateway's Env (Discovery, Certificates), which the Builder does not
// carry, so it is built on the first request and kept per Env; when some
// rule is an expression (audiences, issuers, claim values, clock-skew,
// require-*), one Checker is kept per distinct evaluated rule set (bounded).
//
// Token extraction: with header-name="Authorization" a leading scheme
// ("Bearer ") is stripped, and require-scheme makes it mandatory (a missing or
// different scheme is TokenNotPresent); any other header must carry the bare
// token; query-parameter-name reads context.Request.Url's query;
// token-value is used as is.

func init() {
	Register(Spec{
		Name:     "validate-jwt",
		Sections: []Section{Inbound},
		Compile:  compileValidateJWT,
	})
}

type jwtKey struct {
	id     string
	sym    []byte
	n, e   string
	certID string
}

type jwtClaim struct {
	name, match, sep string
	values           []Value
}

type validateJWTPolicy struct {
	jwtBase
	requireExp, requireSigned Value
	clockSkew                 Value

	openid    []string
	keys      []jwtKey
	audiences []Value
	issuers   []Value
	claims    []jwtClaim
	dynamic   bool // some rule is an expression
}

// jwtBase is what validate-jwt and validate-azure-ad-token share: where the
// token comes from, how failures are reported, the output variable and the
// Checker cache.
type jwtBase struct {
	source                    string // LastError.Source
	header, query, tokenValue Value
	requireScheme             Value // enforced for the Authorization header only
	status, message           Value
	outputVar                 string
	// decryption are the decryption-keys of encrypted (JWE) tokens.
	decryption []jweKey

	static  atomic.Pointer[jwtChecker] // rules without expressions: the Checker of the last Env
	mu      sync.Mutex
	byRules map[jwtRulesKey]*token.Checker // rules with expressions
}

type jwtChecker struct {
	env *Env
	c   *token.Checker
}

type jwtRulesKey struct {
	env   *Env
	rules string
}

const jwtMaxCheckers = 256

// jwtChildOrder is the documented order of validate-jwt's child elements.
var jwtChildOrder = []string{"openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims"}

func compileValidateJWT(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "validate-jwt"
	if err := b.Attrs(n, "header-name", "query-parameter-name", "token-value",
		"failed-validation-httpcode", "failed-validation-error-message",
		"require-expiration-time", "require-scheme", "require-signed-tokens",
		"clock-skew", "output-token-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, jwtChildOrder...); err != nil {
		return nil, err
	}
	p := &validateJWTPolicy{jwtBase: jwtBase{source: policy}}
	if err := p.compileBase(b, n, ""); err != nil {
		return nil, err
	}
	var err error
	for _, a := range []struct {
		name string
		v    *Value
	}{
		{"require-expiration-time", &p.requireExp},
		{"require-scheme", &p.requireScheme},
		{"require-signed-tokens", &p.requireSigned},
		{"clock-skew", &p.clockSkew},
	} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return nil, err
		}
	}
	for _, a := range []struct {
		name string
		v    Value
	}{{"require-expiration-time", p.requireExp}, {"require-signed-tokens", p.requireSigned}} {
		if err := acCheckBool(b, a.v, policy, a.name); err != nil {
			return nil, err
		}
	}
	if p.clockSkew.Set && !p.clockSkew.IsExpr() {
		if _, ok := jwtParseSkew(p.clockSkew.Lit); !ok {
			return nil, b.Errorf(p.clockSkew.Pos, "%s: clock-skew must be a number of seconds, not %q", policy, p.clockSkew.Lit)
		}
	}
	p.dynamic = p.requireExp.IsExpr() || p.requireSigned.IsExpr() || p.clockSkew.IsExpr()

	order := -1
	seen := map[string]bool{}
	for _, c := range n.Children {
		i := jwtIndexOf(jwtChildOrder, c.Name)
		if i < order {
			return nil, b.Errorf(c.Pos, "%s: %s must come before %s (elements must follow the documented order: %s)",
				policy, c.Name, jwtChildOrder[order], strings.Join(jwtChildOrder, ", "))
		}
		order = i
		if c.Name != "openid-config" && seen[c.Name] {
			return nil, b.Errorf(c.Pos, "%s: %s may appear only once", policy, c.Name)
		}
		seen[c.Name] = true
		switch c.Name {
		case "openid-config":
			if err := b.Attrs(c, "url", "validate-connectivity"); err != nil {
				return nil, err
			}
			if err := b.Children(c); err != nil {
				return nil, err
			}
			u, err := b.ConstAttr(c, "url")
			if err != nil {
				return nil, err
			}
			if _, err := acConstBool(b, c, policy, "validate-connectivity", true); err != nil {
				return nil, err
			}
			url := strings.TrimSpace(u.Lit)
			if url == "" {
				return nil, b.Errorf(c.Pos, "%s: openid-config needs a url", policy)
			}
			if !acUnresolved(url) && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
				return nil, b.Errorf(u.Pos, "%s: openid-config url must be an http(s) URL, not %q", policy, url)
			}
			p.openid = append(p.openid, url)
		case "issuer-signing-keys":
			if err := p.compileKeys(b, c); err != nil {
				return nil, err
			}
		case "decryption-keys":
			if p.decryption, err = compileDecryptionKeys(b, c, policy); err != nil {
				return nil, err
			}
		case "audiences":
			if p.audiences, err = jwtCompileList(b, c, policy, "audience", &p.dynamic); err != nil {
				return nil, err
			}
		case "issuers":
			if p.issuers, err = jwtCompileList(b, c, policy, "issuer", &p.dynamic); err != nil {
				return nil, err
			}
		case "required-claims":
			if p.claims, err = jwtCompileClaims(b, c, policy, &p.dynamic); err != nil {
				return nil, err
			}
		}
	}
	if err := p.trial(); err != nil {
		return nil, b.Errorf(n.Pos, "%s: %v", policy, err)
	}
	return p, nil
}

// trial builds a Checker from the constant rules at load so that malformed
// keys (short HMAC keys, bad RSA n/e), empty audiences and the like are load
// errors rather than failures of the first request. Parts only known at
// request time (certificate-id keys, expressions, unresolved named values in
// a lenient load) are left out; openid configs are not fetched.
func (p *validateJWTPolicy) trial() error {
	if p.dynamic {
		return nil
	}
	r, _, err := p.rules(&Exec{}, false)
	if err != nil {
		return err
	}
	r.OpenIDConfigURLs = nil
	unresolved := false
	for _, k := range p.keys {
		if k.certID != "" || (k.sym == nil && k.n == "") || acUnresolved(k.n) || acUnresolved(k.e) {
			unresolved = true
			continue
		}
		r.Keys = append(r.Keys, token.Key{ID: k.id, Symmetric: k.sym, N: k.n, E: k.e})
	}
	if len(r.Keys) == 0 && (len(p.openid) > 0 || unresolved) {
		r.RequireSignedTokens = false
	}
	for _, list := range [][]string{r.Audiences, r.Issuers} {
		for _, s := range list {
			if acUnresolved(s) {
				return nil
			}
		}
	}
	if _, err := token.NewChecker(r, nil); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "token: "))
	}
	return nil
}

func jwtIndexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}

// jwtParseSkew parses clock-skew: seconds (APIM's timespan in seconds).
func jwtParseSkew(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func (p *validateJWTPolicy) compileKeys(b *Builder, c *rawxml.Node) error {
	const policy = "validate-jwt"
	if err := b.Attrs(c); err != nil {
		return err
	}
	if err := b.Children(c, "key"); err != nil {
		return err
	}
	if len(c.Children) == 0 {
		return b.Errorf(c.Pos, "%s: issuer-signing-keys needs at least one key", policy)
	}
	for _, kn := range c.Children {
		if err := b.Attrs(kn, "certificate-id", "n", "e", "id"); err != nil {
			return err
		}
		if err := b.Children(kn); err != nil {
			return err
		}
		var k jwtKey
		var err error
		if k.certID, err = acConstStr(b, kn, "certificate-id"); err != nil {
			return err
		}
		if k.n, err = acConstStr(b, kn, "n"); err != nil {
			return err
		}
		if k.e, err = acConstStr(b, kn, "e"); err != nil {
			return err
		}
		id, err := b.ConstAttr(kn, "id")
		if err != nil {
			return err
		}
		k.id = id.Lit
		text, err := b.Text(kn)
		if err != nil {
			return err
		}
		if text.IsExpr() {
			return b.Errorf(kn.Pos, "%s: key does not accept policy expressions", policy)
		}
		sym := strings.TrimSpace(text.Lit)
		forms := 0
		if sym != "" {
			forms++
		}
		if k.certID != "" {
			forms++
		}
		if k.n != "" || k.e != "" {
			forms++
			if k.n == "" || k.e == "" {
				return b.Errorf(kn.Pos, "%s: an RSA key needs both n and e", policy)
			}
		}
		if forms != 1 {
			return b.Errorf(kn.Pos, "%s: a key is exactly one of: base64 text, certificate-id, or n and e", policy)
		}
		if sym != "" && !acUnresolved(sym) {
			if k.sym, err = jwtDecodeBase64(sym); err != nil {
				return b.Errorf(kn.Pos, "%s: key is not valid base64: %v", policy, err)
			}
		}
		p.keys = append(p.keys, k)
	}
	return nil
}

func jwtDecodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			return k, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, err
}

// jwtCompileList compiles a list element (audiences, issuers ...) of child
// elements whose text is a value; *dynamic is set when one is an expression.
func jwtCompileList(b *Builder, c *rawxml.Node, policy, child string, dynamic *bool) ([]Value, error) {
	if err := b.Attrs(c); err != nil {
		return nil, err
	}
	if err := b.Children(c, child); err != nil {
		return nil, err
	}
	if len(c.Children) == 0 {
		return nil, b.Errorf(c.Pos, "%s: at least one %s must be specified in %s", policy, child, c.Name)
	}
	var out []Value
	for _, e := range c.Children {
		v, err := jwtCompileValue(b, e, dynamic)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// jwtCompileValue compiles a leaf element whose text is a value (trimmed
// when literal); *dynamic is set when it is an expression.
func jwtCompileValue(b *Builder, e *rawxml.Node, dynamic *bool) (Value, error) {
	v, err := b.leafText(e)
	if err != nil {
		return Value{}, err
	}
	v.Set = true
	if v.IsExpr() {
		*dynamic = true
	} else {
		v.Lit = strings.TrimSpace(v.Lit)
	}
	return v, nil
}

// jwtCompileClaims compiles required-claims; *dynamic is set when a value
// is an expression.
func jwtCompileClaims(b *Builder, c *rawxml.Node, policy string, dynamic *bool) ([]jwtClaim, error) {
	if err := b.Attrs(c); err != nil {
		return nil, err
	}
	if err := b.Children(c, "claim"); err != nil {
		return nil, err
	}
	var claims []jwtClaim
	for _, cn := range c.Children {
		if err := b.Attrs(cn, "name", "match", "separator"); err != nil {
			return nil, err
		}
		if err := b.Children(cn, "value"); err != nil {
			return nil, err
		}
		var cl jwtClaim
		var err error
		if cl.name, err = acConstStr(b, cn, "name"); err != nil {
			return nil, err
		}
		if cl.name == "" {
			return nil, b.Errorf(cn.Pos, "%s: claim needs a name", policy)
		}
		if cl.match, err = acConstStr(b, cn, "match"); err != nil {
			return nil, err
		}
		switch cl.match {
		case "":
			cl.match = "all"
		case "all", "any":
		default:
			return nil, b.Errorf(cn.Pos, "%s: claim match must be all or any, not %q", policy, cl.match)
		}
		if cl.sep, err = acConstStr(b, cn, "separator"); err != nil {
			return nil, err
		}
		for _, vn := range cn.Children {
			v, err := jwtCompileValue(b, vn, dynamic)
			if err != nil {
				return nil, err
			}
			cl.values = append(cl.values, v)
		}
		claims = append(claims, cl)
	}
	return claims, nil
}

// jwtEval evaluates a list of values (trimmed); nil for an empty list.
func jwtEval(x *Exec, vs []Value) ([]string, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s, err := acStr(x, v)
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, nil
}

// jwtEvalClaims evaluates required-claims into token rules.
func jwtEvalClaims(x *Exec, claims []jwtClaim) ([]token.ClaimRule, error) {
	var out []token.ClaimRule
	for _, c := range claims {
		vals, err := jwtEval(x, c.values)
		if err != nil {
			return nil, err
		}
		out = append(out, token.ClaimRule{Name: c.name, Match: c.match, Separator: c.sep, Values: vals})
	}
	return out, nil
}

// jwtKeyLists renders evaluated string lists and claim values into a cache
// key for rules with expressions.
func jwtKeyLists(sb *strings.Builder, lists [][]string, claims []token.ClaimRule) {
	for _, c := range claims {
		lists = append(lists, c.Values)
	}
	for _, list := range lists {
		sb.WriteString("\x00")
		for _, s := range list {
			sb.WriteString(s)
			sb.WriteString("\x01")
		}
	}
}

// rules evaluates the rule set for x. key identifies it when p.dynamic.
func (p *validateJWTPolicy) rules(x *Exec, keys bool) (r token.Rules, key string, err error) {
	r.OpenIDConfigURLs = p.openid
	if r.RequireExpirationTime, err = acBool(x, p.requireExp, true); err != nil {
		return
	}
	if r.RequireSignedTokens, err = acBool(x, p.requireSigned, true); err != nil {
		return
	}
	if p.clockSkew.Set {
		s, e := acStr(x, p.clockSkew)
		if e != nil {
			return r, "", e
		}
		d, ok := jwtParseSkew(s)
		if !ok {
			return r, "", acExprError("validate-jwt", fmt.Sprintf("clock-skew must be a number of seconds, not %q", s))
		}
		r.ClockSkew = d
	}
	if r.Audiences, err = jwtEval(x, p.audiences); err != nil {
		return
	}
	if r.Issuers, err = jwtEval(x, p.issuers); err != nil {
		return
	}
	if r.RequiredClaims, err = jwtEvalClaims(x, p.claims); err != nil {
		return
	}
	for _, k := range p.keys {
		if !keys {
			break
		}
		tk := token.Key{ID: k.id, Symmetric: k.sym, N: k.n, E: k.e}
		if k.certID != "" {
			der, e := jwtCertificate(x.Env, k.certID)
			if e != nil {
				return r, "", e
			}
			tk.Certificate = der
		}
		r.Keys = append(r.Keys, tk)
	}
	if p.dynamic {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%t|%t|%d", r.RequireExpirationTime, r.RequireSignedTokens, r.ClockSkew)
		jwtKeyLists(&sb, [][]string{r.Audiences, r.Issuers}, r.RequiredClaims)
		key = sb.String()
	}
	return r, key, nil
}

func jwtCertificate(env *Env, id string) ([]byte, error) {
	if env != nil {
		if c, ok := env.Certificates[id]; ok {
			if c.Leaf != nil {
				return c.Leaf.Raw, nil
			}
			if len(c.Certificate) > 0 {
				return c.Certificate[0], nil
			}
		}
	}
	return nil, fmt.Errorf("validate-jwt: certificate-id %q: no such certificate is configured", id)
}

// checker returns the Checker for x, building it on first use.
func (p *validateJWTPolicy) checker(x *Exec) (*token.Checker, error) {
	return p.cachedChecker(x, p.dynamic, func() (token.Rules, string, error) { return p.rules(x, true) })
}

func (p *validateJWTPolicy) Exec(x *Exec) error {
	tok, err := p.validate(x, p.checker)
	if err != nil {
		return err
	}
	p.output(x, tok)
	return nil
}

// compileBase reads the token source (header-name, query-parameter-name,
// token-value), failed-validation-httpcode, failed-validation-error-message
// and output-token-variable-name. Exactly one source is required, unless
// defaultHeader is set: then at most one, and defaultHeader when none.
func (p *jwtBase) compileBase(b *Builder, n *rawxml.Node, defaultHeader string) error {
	var err error
	for _, a := range []struct {
		name string
		v    *Value
	}{
		{"header-name", &p.header},
		{"query-parameter-name", &p.query},
		{"token-value", &p.tokenValue},
		{"failed-validation-httpcode", &p.status},
		{"failed-validation-error-message", &p.message},
	} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return err
		}
	}
	if p.outputVar, err = acConstStr(b, n, "output-token-variable-name"); err != nil {
		return err
	}
	sources := 0
	for _, v := range []Value{p.header, p.query, p.tokenValue} {
		if v.Set {
			sources++
		}
	}
	switch {
	case defaultHeader == "" && sources != 1:
		return b.Errorf(n.Pos, "%s: exactly one of header-name, query-parameter-name and token-value is required", p.source)
	case sources > 1:
		return b.Errorf(n.Pos, "%s: at most one of header-name, query-parameter-name and token-value may be given", p.source)
	case sources == 0:
		p.header = Value{Set: true, Lit: defaultHeader, Pos: n.Pos}
	}
	return acCheckStatus(b, p.status, p.source, "failed-validation-httpcode")
}

// cachedChecker returns the Checker for x's Env (and, when dynamic, for the
// evaluated rules), building it with rules on first use.
func (p *jwtBase) cachedChecker(x *Exec, dynamic bool, rules func() (token.Rules, string, error)) (*token.Checker, error) {
	if !dynamic {
		if c := p.static.Load(); c != nil && c.env == x.Env {
			return c.c, nil
		}
	}
	r, key, err := rules()
	if err != nil {
		return nil, err
	}
	var disc *token.Discovery
	if x.Env != nil {
		disc = x.Env.Discovery
	}
	if !dynamic {
		c, err := token.NewChecker(r, disc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.source, err)
		}
		p.static.Store(&jwtChecker{x.Env, c})
		return c, nil
	}
	k := jwtRulesKey{x.Env, key}
	p.mu.Lock()
	c, ok := p.byRules[k]
	p.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err = token.NewChecker(r, disc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.source, err)
	}
	p.mu.Lock()
	if p.byRules == nil || len(p.byRules) >= jwtMaxCheckers {
		p.byRules = map[jwtRulesKey]*token.Checker{}
	}
	p.byRules[k] = c
	p.mu.Unlock()
	return c, nil
}

// extract returns the bare token ("" = not present).
func (p *jwtBase) extract(x *Exec) (string, error) {
	req := x.Ctx.Request
	switch {
	case p.tokenValue.Set:
		s, err := acStr(x, p.tokenValue)
		return strings.TrimSpace(s), err
	case p.query.Set:
		name, err := acStr(x, p.query)
		if err != nil || req == nil {
			return "", err
		}
		u := req.Url
		if u == nil {
			u = req.OriginalUrl
		}
		if u == nil {
			return "", nil
		}
		return strings.TrimSpace(u.Query.Get(name)), nil
	}
	name, err := acStr(x, p.header)
	if err != nil || req == nil {
		return "", err
	}
	v := strings.TrimSpace(req.Headers.Get(name))
	if v == "" || !strings.EqualFold(name, "Authorization") {
		return v, nil
	}
	scheme, rest, hasScheme := strings.Cut(v, " ")
	rest = strings.TrimSpace(rest)
	if !hasScheme && !strings.Contains(v, ".") {
		return "", nil // a scheme alone ("Bearer"): no token
	}
	if p.requireScheme.Set {
		want, err := acStr(x, p.requireScheme)
		if err != nil {
			return "", err
		}
		if want = strings.TrimSpace(want); want != "" {
			if !hasScheme || !strings.EqualFold(scheme, want) {
				return "", nil
			}
			return rest, nil
		}
	}
	if hasScheme {
		return rest, nil
	}
	return v, nil
}

// validate extracts the token and validates it with the Checker that
// checker returns; every token failure is a policy error of p.source.
func (p *jwtBase) validate(x *Exec, checker func(*Exec) (*token.Checker, error)) (*token.Token, error) {
	raw, err := p.extract(x)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, p.fail(x, token.ReasonTokenNotPresent, "JWT not present.")
	}
	if raw, err = p.decrypt(x, raw); err != nil {
		return nil, err
	}
	c, err := checker(x)
	if err != nil {
		return nil, err
	}
	tok, err := c.Validate(x.Context(), raw, x.Now())
	if err != nil {
		var te *token.Error
		if errors.As(err, &te) {
			return nil, p.fail(x, te.Reason, te.Message)
		}
		return nil, p.fail(x, token.ReasonJwtInvalid, err.Error())
	}
	return tok, nil
}

// output stores the validated token in output-token-variable-name.
func (p *jwtBase) output(x *Exec, tok *token.Token) {
	if p.outputVar != "" {
		acSetVar(x, p.outputVar, expr.AsJwt(tok.Raw))
	}
}

func (p *jwtBase) fail(x *Exec, reason, msg string) error {
	status, err := acInt(x, p.status, http.StatusUnauthorized)
	if err != nil {
		return err
	}
	if p.message.Set {
		custom, err := acStr(x, p.message)
		if err != nil {
			return err
		}
		if custom != "" {
			msg = custom
		}
	}
	return &PolicyError{Source: p.source, Reason: reason, Message: msg, Status: int(status)}
}
