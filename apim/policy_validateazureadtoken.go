package apim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/token"
)

// validate-azure-ad-token: validate-jwt bound to one Microsoft Entra ID
// tenant. Keys and issuer come from the tenant's OpenID configuration at
// {authority}/{tenant-id}/v2.0/.well-known/openid-configuration, where
// authority is the authentication-endpoint attribute or Env.EntraAuthority
// (gateway.entraAuthority; default https://login.microsoftonline.com).
//
// Checks, in order: token present (header-name, default Authorization with
// the Bearer scheme required; or query-parameter-name; or token-value) ->
// signature (tenant JWKS) -> exp required and valid (no clock skew) ->
// issuer is the configuration's v2 issuer https://login.microsoftonline.com/
// {tid}/v2.0 or the matching v1 issuer https://sts.windows.net/{tid}/ ->
// audiences (any) -> required-claims -> backend-application-ids (aud is one
// of them, as GUID or api://GUID) -> client-application-ids (azp, else
// appid, is one of them). Failures are policy errors with Source
// "validate-azure-ad-token" and validate-jwt's reasons; a client
// application mismatch is TokenClientApplicationNotAllowed.
//
// Element order is not enforced (the documentation's statements disagree);
// each list element may appear once. client-application-ids is optional
// as in the current documentation, but a policy must restrict the token by
// at least one of client-application-ids, backend-application-ids and
// audiences: a bare tenant check would admit every app's token.

func init() {
	Register(Spec{
		Name:     "validate-azure-ad-token",
		Sections: []Section{Inbound},
		Compile:  compileValidateAzureADToken,
	})
}

// ReasonTokenClientApplicationNotAllowed is validate-azure-ad-token's reason
// for a token whose client application (azp / appid) is not listed.
const ReasonTokenClientApplicationNotAllowed = "TokenClientApplicationNotAllowed"

// DefaultEntraAuthority is the Entra ID authority of Azure's public cloud.
const DefaultEntraAuthority = "https://login.microsoftonline.com"

type validateAzureADTokenPolicy struct {
	jwtBase
	tenant    Value
	authority Value // authentication-endpoint; unset = Env.EntraAuthority

	clientIDs  []string
	backendIDs []string
	audiences  []Value
	claims     []jwtClaim
	dynamic    bool // some rule is an expression
}

func compileValidateAzureADToken(b *Builder, n *rawxml.Node) (Policy, error) {
	const policy = "validate-azure-ad-token"
	if err := b.Attrs(n, "tenant-id", "header-name", "query-parameter-name", "token-value",
		"authentication-endpoint", "failed-validation-httpcode", "failed-validation-error-message",
		"output-token-variable-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "client-application-ids", "backend-application-ids", "audiences",
		"required-claims", "decryption-keys"); err != nil {
		return nil, err
	}
	p := &validateAzureADTokenPolicy{jwtBase: jwtBase{source: policy}}
	if err := p.compileBase(b, n, "Authorization"); err != nil {
		return nil, err
	}
	// The Bearer scheme is expected on the Authorization header (only there:
	// extract ignores requireScheme for other headers).
	p.requireScheme = Value{Set: true, Lit: "Bearer", Pos: n.Pos}
	var err error
	if p.tenant, err = b.Attr(n, "tenant-id"); err != nil {
		return nil, err
	}
	if !p.tenant.Set {
		return nil, b.Errorf(n.Pos, "%s: attribute \"tenant-id\" is required", policy)
	}
	if !p.tenant.IsExpr() && !acUnresolved(p.tenant.Lit) {
		t, err := entraTenant(p.tenant.Lit)
		if err != nil {
			return nil, b.Errorf(p.tenant.Pos, "%s: tenant-id: %v", policy, err)
		}
		p.tenant.Lit = t
	}
	if p.authority, err = b.Attr(n, "authentication-endpoint"); err != nil {
		return nil, err
	}
	if p.authority.Set && !p.authority.IsExpr() && !acUnresolved(p.authority.Lit) {
		a, err := entraAuthority(p.authority.Lit)
		if err != nil {
			return nil, b.Errorf(p.authority.Pos, "%s: authentication-endpoint: %v", policy, err)
		}
		p.authority.Lit = a
	}
	p.dynamic = p.tenant.IsExpr() || p.authority.IsExpr()

	seen := map[string]bool{}
	for _, c := range n.Children {
		if seen[c.Name] {
			return nil, b.Errorf(c.Pos, "%s: %s may appear only once", policy, c.Name)
		}
		seen[c.Name] = true
		switch c.Name {
		case "client-application-ids":
			if p.clientIDs, err = aadCompileIDs(b, c, policy); err != nil {
				return nil, err
			}
		case "backend-application-ids":
			if p.backendIDs, err = aadCompileIDs(b, c, policy); err != nil {
				return nil, err
			}
		case "audiences":
			if p.audiences, err = jwtCompileList(b, c, policy, "audience", &p.dynamic); err != nil {
				return nil, err
			}
		case "required-claims":
			if p.claims, err = jwtCompileClaims(b, c, policy, &p.dynamic); err != nil {
				return nil, err
			}
		case "decryption-keys":
			var err error
			if p.decryption, err = compileDecryptionKeys(b, c, policy); err != nil {
				return nil, err
			}
		}
	}
	if len(p.clientIDs) == 0 && len(p.backendIDs) == 0 && len(p.audiences) == 0 {
		return nil, b.Errorf(n.Pos, "%s: client-application-ids (or backend-application-ids or audiences) is required: "+
			"without them every token of the tenant would be accepted", policy)
	}
	for _, a := range p.audiences {
		if !a.IsExpr() && a.Lit == "" {
			return nil, b.Errorf(a.Pos, "%s: empty audience", policy)
		}
	}
	return p, nil
}

// aadCompileIDs compiles client- or backend-application-ids: constant
// application-id elements (named values allowed), at least one.
func aadCompileIDs(b *Builder, c *rawxml.Node, policy string) ([]string, error) {
	var dynamic bool
	vs, err := jwtCompileList(b, c, policy, "application-id", &dynamic)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.IsExpr() {
			return nil, b.Errorf(v.Pos, "%s: application-id does not accept policy expressions", policy)
		}
		if v.Lit == "" {
			return nil, b.Errorf(v.Pos, "%s: empty application-id", policy)
		}
		out = append(out, v.Lit)
	}
	return out, nil
}

// entraTenant normalizes tenant-id: a GUID or a domain name
// (contoso.onmicrosoft.com), also written as https://contoso.onmicrosoft.com.
func entraTenant(s string) (string, error) {
	t := strings.TrimSpace(s)
	for _, pre := range []string{"https://", "http://"} {
		if len(t) > len(pre) && strings.EqualFold(t[:len(pre)], pre) {
			t = t[len(pre):]
		}
	}
	t = strings.TrimSuffix(t, "/")
	switch strings.ToLower(t) {
	case "common", "organizations", "consumers":
		return "", fmt.Errorf("multi-tenant endpoint %q is not supported: name one tenant (GUID or domain)", t)
	}
	if isGUID(t) || isDomainName(t) {
		return t, nil
	}
	return "", fmt.Errorf("%q is not a tenant GUID or domain name (e.g. contoso.onmicrosoft.com)", s)
}

// entraAuthority normalizes an authority URL (no trailing slash).
func entraAuthority(s string) (string, error) {
	a := strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(a)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an http(s) URL", s)
	}
	return a, nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func isDomainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// entraV1Issuer returns the v1 issuer (https://sts.windows.net/{tid}/) that
// belongs to a v2 issuer https://{login host}/{tid}/v2.0 of an Entra OpenID
// configuration; none for other issuers. Azure China's v1 issuer host is
// sts.chinacloudapi.cn.
func entraV1Issuer(iss string) []string {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	tid, ver, ok := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if !ok || ver != "v2.0" || !isGUID(tid) {
		return nil
	}
	host := "sts.windows.net"
	switch strings.ToLower(u.Hostname()) {
	case "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		host = "sts.chinacloudapi.cn"
	}
	return []string{"https://" + host + "/" + tid + "/"}
}

// rules evaluates the rule set for x; key identifies it when p.dynamic.
func (p *validateAzureADTokenPolicy) rules(x *Exec) (r token.Rules, key string, err error) {
	tenant, err := acStr(x, p.tenant)
	if err != nil {
		return r, "", err
	}
	if tenant, err = entraTenant(tenant); err != nil {
		return r, "", acExprError(p.source, "tenant-id: "+err.Error())
	}
	authority := DefaultEntraAuthority
	if x.Env != nil && x.Env.EntraAuthority != "" {
		authority = x.Env.EntraAuthority
	}
	if p.authority.Set {
		a, err := acStr(x, p.authority)
		if err != nil {
			return r, "", err
		}
		if authority, err = entraAuthority(a); err != nil {
			return r, "", acExprError(p.source, "authentication-endpoint: "+err.Error())
		}
	}
	authority = strings.TrimRight(authority, "/")
	r.OpenIDConfigURLs = []string{authority + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration"}
	r.IssuerAliases = entraV1Issuer
	r.RequireExpirationTime = true
	r.RequireSignedTokens = true
	if r.Audiences, err = jwtEval(x, p.audiences); err != nil {
		return
	}
	if r.RequiredClaims, err = jwtEvalClaims(x, p.claims); err != nil {
		return
	}
	if p.dynamic {
		var sb strings.Builder
		sb.WriteString(r.OpenIDConfigURLs[0])
		jwtKeyLists(&sb, [][]string{r.Audiences}, r.RequiredClaims)
		key = sb.String()
	}
	return r, key, nil
}

func (p *validateAzureADTokenPolicy) checker(x *Exec) (*token.Checker, error) {
	return p.cachedChecker(x, p.dynamic, func() (token.Rules, string, error) { return p.rules(x) })
}

func (p *validateAzureADTokenPolicy) Exec(x *Exec) error {
	tok, err := p.validate(x, p.checker)
	if err != nil {
		return err
	}
	if len(p.backendIDs) > 0 && !aadAudienceAllowed(tok.Audiences, p.backendIDs) {
		if len(tok.Audiences) == 0 {
			return p.fail(x, token.ReasonTokenAudienceNotAllowed, "JWT has no audience (aud). Access denied.")
		}
		return p.fail(x, token.ReasonTokenAudienceNotAllowed,
			"JWT audience "+aadEcho(strings.Join(tok.Audiences, ", "))+" is not a backend application. Access denied.")
	}
	if len(p.clientIDs) > 0 {
		app, claim := aadClientApp(tok.Claims)
		if app == "" {
			return p.fail(x, ReasonTokenClientApplicationNotAllowed,
				"JWT has no client application id (azp or appid). Access denied.")
		}
		if !aadContainsFold(p.clientIDs, app) {
			return p.fail(x, ReasonTokenClientApplicationNotAllowed,
				"JWT client application ("+claim+") "+aadEcho(app)+" is not allowed. Access denied.")
		}
	}
	p.output(x, tok)
	return nil
}

// aadClientApp returns the client application id of an Entra token: azp
// (v2 tokens), else appid (v1 tokens).
func aadClientApp(claims map[string]any) (id, claim string) {
	for _, c := range []string{"azp", "appid"} {
		if s, ok := claims[c].(string); ok && s != "" {
			return s, c
		}
	}
	return "", ""
}

// aadAudienceAllowed reports whether one audience is one of the backend
// application ids, each side in either GUID or api://GUID form.
func aadAudienceAllowed(auds, ids []string) bool {
	for _, a := range auds {
		for _, id := range ids {
			if strings.EqualFold(strings.TrimPrefix(a, "api://"), strings.TrimPrefix(id, "api://")) {
				return true
			}
		}
	}
	return false
}

func aadContainsFold(ids []string, s string) bool {
	for _, id := range ids {
		if strings.EqualFold(id, s) {
			return true
		}
	}
	return false
}

// aadEcho quotes and truncates an attacker-controlled value for a message.
func aadEcho(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
