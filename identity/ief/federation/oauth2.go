package federation

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
)

// OAuth2 is the OAuth2 identity provider (Protocol Name="OAuth2"): B2C's
// metadata authorization_endpoint, AccessTokenEndpoint (HttpBinding GET or
// POST, AccessTokenResponseFormat json or form-encoded), ClaimsEndpoint
// (ClaimsEndpointAccessTokenName, default access_token; or
// BearerTokenTransmissionMethod AuthorizationHeader), client_id, scope,
// UsePKCE, ResolveJsonPathsInJsonTokens, and the client_secret key.
type OAuth2 struct{ o Options }

// NewOAuth2 returns the OAuth2 provider.
func NewOAuth2(o Options) *OAuth2 { return &OAuth2{o: o.withDefaults()} }

// Start redirects to the authorization endpoint.
func (p *OAuth2) Start(_ context.Context, c *journey.Call) (*journey.Redirect, error) {
	md := c.Profile.Metadata
	u, err := url.Parse(md["authorization_endpoint"])
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("federation: %s: authorization_endpoint %q is not a URL", c.Profile.ID, md["authorization_endpoint"])
	}
	st := random()
	c.State.Federation[keyState] = st
	q := u.Query()
	q.Set("client_id", md["client_id"])
	q.Set("redirect_uri", p.o.RedirectURI)
	q.Set("response_type", "code")
	if s := md["scope"]; s != "" {
		q.Set("scope", s)
	}
	if md["UsePKCE"] == "true" {
		v := random()
		c.State.Federation[keyVerifier] = v
		q.Set("code_challenge", challenge(v))
		q.Set("code_challenge_method", "S256")
	}
	addParams(q, md["AdditionalRequestQueryParameters"])
	q.Set("state", stateParam(c))
	u.RawQuery = q.Encode()
	return &journey.Redirect{URL: u.String()}, nil
}

// stateParam is the state sent to the provider (journey.FederationState).
func stateParam(c *journey.Call) string {
	return journey.FederationState(c.State.Values[journey.TransactionValue], c.State)
}

// addParams adds "a=b&c=d" pairs (B2C's AdditionalRequestQueryParameters).
func addParams(q url.Values, extra string) {
	if extra == "" {
		return
	}
	if more, err := url.ParseQuery(extra); err == nil {
		for k, vs := range more {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
	}
}

// Finish exchanges the code for an access token and reads the claims
// endpoint.
func (p *OAuth2) Finish(ctx context.Context, c *journey.Call, answer map[string]string) (journey.Bag, error) {
	if err := answerError(answer); err != nil {
		return nil, err
	}
	if !journey.CheckFederationState(answer["state"], c.State) {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("the state parameter does not match the sign-in"))
	}
	code := answer["code"]
	if code == "" {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("no code in the answer"))
	}
	md := c.Profile.Metadata
	secret, err := p.o.secret(ctx, c)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.o.RedirectURI},
		"client_id": {md["client_id"]}}
	if secret != "" && md["token_endpoint_auth_method"] != "client_secret_basic" {
		form.Set("client_secret", secret)
	}
	if v := c.State.Federation[keyVerifier]; v != "" {
		form.Set("code_verifier", v)
	}
	var req *http.Request
	if strings.EqualFold(md["HttpBinding"], "GET") {
		u, perr := url.Parse(md["AccessTokenEndpoint"])
		if perr != nil {
			return nil, perr
		}
		q := u.Query()
		for k, vs := range form {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, md["AccessTokenEndpoint"], strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, err
	}
	if secret != "" && md["token_endpoint_auth_method"] == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(md["client_id"]), url.QueryEscape(secret))
	}
	req.Header.Set("Accept", "application/json")
	b, h, err := p.o.fetch(req)
	if err != nil {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("access token: %w", err))
	}
	tok, err := decode(b, h)
	if err != nil {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("access token answer: %w", err))
	}
	at, _ := tok["access_token"].(string)
	if at == "" {
		return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("the access token answer has no access_token"))
	}
	got := map[string]any{}
	// ExtraParamsInAccessTokenEndpointResponse: claims taken from the token
	// answer itself (comma-separated names).
	for _, name := range strings.Split(md["ExtraParamsInAccessTokenEndpointResponse"], ",") {
		if name = strings.TrimSpace(name); name != "" && tok[name] != nil {
			got[name] = tok[name]
		}
	}
	if ce := md["ClaimsEndpoint"]; ce != "" {
		u, err := url.Parse(ce)
		if err != nil {
			return nil, err
		}
		bearer := strings.EqualFold(md["BearerTokenTransmissionMethod"], "AuthorizationHeader")
		if !bearer {
			q := u.Query()
			q.Set(cmp.Or(md["ClaimsEndpointAccessTokenName"], "access_token"), at)
			if f := md["ClaimsEndpointFormatName"]; f != "" {
				q.Set(f, md["ClaimsEndpointFormat"])
			}
			addParams(q, md["ExtraParamsInClaimsEndpointRequest"])
			u.RawQuery = q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		if bearer {
			req.Header.Set("Authorization", "Bearer "+at)
		}
		req.Header.Set("Accept", "application/json")
		b, h, err := p.o.fetch(req)
		if err != nil {
			return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("claims endpoint: %w", err))
		}
		m, err := decode(b, h)
		if err != nil {
			return nil, p.o.invalid(ctx, c.Profile.ID, fmt.Errorf("claims endpoint answer: %w", err))
		}
		for k, v := range m {
			got[k] = v
		}
	}
	got["access_token"] = at // for an output claim of the provider's token (idp_access_token)
	paths, _ := restful.ParseBool(md["ResolveJsonPathsInJsonTokens"])
	return claims(c, got, paths), nil
}
