package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/token"
)

// OIDC is the OpenID Connect identity provider (Protocol
// Name="OpenIdConnect" with a METADATA URL): B2C's metadata METADATA,
// client_id, response_types (code: the code flow, with PKCE; id_token:
// the id_token posted back), response_mode, scope, token_endpoint_auth_method
// (client_secret_post, client_secret_basic), and the client_secret key.
// The id_token is validated by package token against the provider's keys,
// issuer and the client id; its nonce must be the one sent.
type OIDC struct {
	o         Options
	discovery *token.Discovery
	mu        sync.Mutex
	docs      map[string]*metadata
	checkers  map[*ief.TechnicalProfile]*token.Checker
}

type metadata struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	Issuer                string `json:"issuer"`
	fetched               time.Time
}

// NewOIDC returns the OpenID Connect provider.
func NewOIDC(o Options) *OIDC {
	o = o.withDefaults()
	d := token.NewDiscovery(o.Client, o.Logger)
	d.Now = o.Now
	return &OIDC{o: o, discovery: d, docs: map[string]*metadata{}, checkers: map[*ief.TechnicalProfile]*token.Checker{}}
}

// endpoints are a profile's endpoints: from its METADATA (discovery), or
// its own authorization_endpoint, AccessTokenEndpoint and issuer (a
// provider without discovery, such as Sign in with Apple).
func (p *OIDC) endpoints(ctx context.Context, md map[string]string) (*metadata, error) {
	if md["METADATA"] == "" {
		return &metadata{AuthorizationEndpoint: md["authorization_endpoint"], TokenEndpoint: md["AccessTokenEndpoint"], Issuer: md["issuer"]}, nil
	}
	return p.metadataFor(ctx, md["METADATA"])
}

// metadataFor reads a provider's openid configuration (kept an hour).
func (p *OIDC) metadataFor(ctx context.Context, u string) (*metadata, error) {
	p.mu.Lock()
	m := p.docs[u]
	p.mu.Unlock()
	if m != nil && p.o.Now().Sub(m.fetched) < time.Hour {
		return m, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	b, _, err := p.o.fetch(req)
	if err != nil {
		return nil, err
	}
	m = &metadata{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("openid configuration %s: %w", u, err)
	}
	if m.AuthorizationEndpoint == "" || m.Issuer == "" {
		return nil, fmt.Errorf("openid configuration %s has no authorization_endpoint or issuer", u)
	}
	m.fetched = p.o.Now()
	p.mu.Lock()
	p.docs[u] = m
	p.mu.Unlock()
	return m, nil
}

func (p *OIDC) checker(tp *ief.TechnicalProfile) (*token.Checker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.checkers[tp]; c != nil {
		return c, nil
	}
	r := token.Rules{Audiences: []string{tp.Metadata["client_id"]}, RequireSignedTokens: true, RequireExpirationTime: true,
		ClockSkew: 5 * time.Minute}
	if u := tp.Metadata["METADATA"]; u != "" {
		r.OpenIDConfigURLs = []string{u}
	} else {
		r.JWKSURLs, r.Issuers = []string{tp.Metadata["JWKS"]}, []string{tp.Metadata["issuer"]}
	}
	c, err := token.NewChecker(r, p.discovery)
	if err != nil {
		return nil, err
	}
	p.checkers[tp] = c
	return c, nil
}

func codeFlow(md map[string]string) bool {
	return strings.Contains(" "+cmp.Or(md["response_types"], "code")+" ", " code ")
}

// Start redirects to the provider's authorization endpoint.
func (p *OIDC) Start(ctx context.Context, c *journey.Call) (*journey.Redirect, error) {
	md := c.Profile.Metadata
	m, err := p.endpoints(ctx, md)
	if err != nil {
		return nil, p.o.invalid(ctx, c.Profile.ID, err)
	}
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil {
		return nil, p.o.invalid(ctx, c.Profile.ID, err)
	}
	c.State.Federation[keyState] = random()
	nonce := random()
	c.State.Federation[keyNonce] = nonce
	q := u.Query()
	q.Set("client_id", md["client_id"])
	q.Set("redirect_uri", p.o.RedirectURI)
	q.Set("scope", cmp.Or(md["scope"], "openid"))
	q.Set("nonce", nonce)
	if codeFlow(md) {
		v := random()
		c.State.Federation[keyVerifier] = v
		q.Set("response_type", "code")
		q.Set("code_challenge", challenge(v))
		q.Set("code_challenge_method", "S256")
		q.Set("response_mode", cmp.Or(md["response_mode"], "form_post"))
	} else {
		q.Set("response_type", "id_token")
		q.Set("response_mode", "form_post") // an id_token never travels in a URL
	}
	// The sign-in's hints go on to the provider, as B2C passes them.
	for name, param := range map[string]string{"OIDC:LoginHint": "login_hint", "OIDC:Prompt": "prompt"} {
		if v := c.State.Values[name]; v != "" {
			q.Set(param, v)
		}
	}
	q.Set("state", stateParam(c))
	u.RawQuery = q.Encode()
	return &journey.Redirect{URL: u.String()}, nil
}

// Finish validates the id_token (redeeming the code first in the code
// flow) and maps its claims.
func (p *OIDC) Finish(ctx context.Context, c *journey.Call, answer map[string]string) (journey.Bag, error) {
	if err := answerError(answer); err != nil {
		return nil, err
	}
	if !journey.CheckFederationState(answer["state"], c.State) {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("the state parameter does not match the sign-in"))
	}
	md := c.Profile.Metadata
	raw, accessToken := answer["id_token"], ""
	if codeFlow(md) {
		if answer["code"] == "" {
			return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("no code in the answer"))
		}
		var err error
		if raw, accessToken, err = p.redeem(ctx, c, answer["code"]); err != nil {
			return nil, err
		}
	}
	if raw == "" {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("no id_token in the answer"))
	}
	chk, err := p.checker(c.Profile)
	if err != nil {
		return nil, err
	}
	tok, err := chk.Validate(ctx, raw, p.o.Now())
	if err != nil {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("id_token: %w", err))
	}
	if n, _ := tok.Claims["nonce"].(string); n == "" || n != c.State.Federation[keyNonce] {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("id_token: the nonce is not the sign-in's"))
	}
	// ValidTokenIssuerPrefixes: which tenants of a multi-tenant provider
	// (Entra ID's /organizations) may sign in.
	if prefixes := md["ValidTokenIssuerPrefixes"]; prefixes != "" {
		allowed := false
		for _, pre := range strings.Split(prefixes, ",") {
			if pre = strings.TrimSpace(pre); pre != "" && strings.HasPrefix(tok.Issuer, pre) {
				allowed = true
			}
		}
		if !allowed {
			return nil, &journey.UserError{Code: "AADB2C90238", Message: "The provided token does not contain a valid issuer: your organization is not allowed to sign in here."}
		}
	}
	got := map[string]any{}
	for k, v := range tok.Claims {
		got[k] = v
	}
	if accessToken != "" {
		got["access_token"] = accessToken
	}
	// ReadBodyClaimsOnIdpRedirect: claims the provider posts beside the
	// code (Apple's "user" JSON, once: names and email on the first
	// sign-in), read as paths such as user.name.firstName.
	paths := false
	if md["ReadBodyClaimsOnIdpRedirect"] != "" && answer["user"] != "" && len(answer["user"]) <= 4096 {
		var user map[string]any
		if json.Unmarshal([]byte(answer["user"]), &user) == nil {
			got["user"], paths = user, true
		}
	}
	return claims(c, got, paths), nil
}

// redeem exchanges the code at the token endpoint.
func (p *OIDC) redeem(ctx context.Context, c *journey.Call, code string) (idToken, accessToken string, err error) {
	md := c.Profile.Metadata
	m, err := p.endpoints(ctx, md)
	if err != nil {
		return "", "", p.o.invalid(ctx, c.Profile.ID, err)
	}
	if m.TokenEndpoint == "" {
		return "", "", p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("openid configuration has no token_endpoint"))
	}
	secret, err := p.o.secret(ctx, c)
	if err != nil {
		return "", "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.o.RedirectURI},
		"code_verifier": {c.State.Federation[keyVerifier]}}
	basic := md["token_endpoint_auth_method"] == "client_secret_basic"
	switch {
	case md["token_endpoint_auth_method"] == "private_key_jwt":
		a, err := p.o.clientAssertion(ctx, c, m.TokenEndpoint)
		if err != nil {
			return "", "", err
		}
		form.Set("client_id", md["client_id"])
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	case !basic:
		form.Set("client_id", md["client_id"])
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(md["client_id"]), url.QueryEscape(secret))
	}
	b, h, err := p.o.fetch(req)
	if err != nil {
		return "", "", p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("token endpoint: %w", err))
	}
	tok, err := decode(b, h)
	if err != nil {
		return "", "", p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("token endpoint answer: %w", err))
	}
	idToken, _ = tok["id_token"].(string)
	accessToken, _ = tok["access_token"].(string)
	return idToken, accessToken, nil
}
