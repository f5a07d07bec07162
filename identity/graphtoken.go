package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Microsoft Graph's resource: the audience of the tokens the directory
// API (package identity/graph) accepts, asked for as {GraphAudience}/.default
// at the tenant-level token endpoint, as Entra ID's
// login.microsoftonline.com/{tenant}/oauth2/v2.0/token.
const (
	GraphAudience = "https://graph.microsoft.com"
	graphAppID    = "00000003-0000-0000-c000-000000000000" // Graph's well-known app id, also accepted as the scope
	graphTokenTTL = time.Hour
)

// graphClientCredentials issues a Graph access token to a confidential
// app: its graphPermissions are the roles. An app without any still gets
// a token, as in Entra ID, and the directory API refuses it (403).
func (p *Provider) graphClientCredentials(w http.ResponseWriter, form url.Values, client *App) {
	if client.Public() {
		p.oerr(http.StatusBadRequest, "unauthorized_client", "AADB2C90058", "The provided application is not configured to allow the client credentials grant: it is a public client.").write(w)
		return
	}
	switch scope := strings.TrimSpace(form.Get("scope")); scope {
	case GraphAudience + "/.default", graphAppID + "/.default":
	case "":
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: scope.").write(w)
		return
	default:
		p.oerr(http.StatusBadRequest, "invalid_scope", "AADB2C90117", "The scope '"+scope+"' is not supported at the tenant's token endpoint: it issues Microsoft Graph tokens ("+GraphAudience+"/.default); other APIs' tokens come from a policy's token endpoint.").write(w)
		return
	}
	now := p.now()
	c := map[string]any{"aud": GraphAudience, "iss": p.issuer, "sub": client.ClientID, "azp": client.ClientID, "appid": client.ClientID,
		"tid": p.reg.TenantID, "ver": "1.0", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(graphTokenTTL).Unix()}
	if len(client.GraphPermissions) > 0 {
		c["roles"] = client.GraphPermissions
	}
	claims, err := json.Marshal(c)
	if err != nil {
		p.signFailed(w, err)
		return
	}
	tok, err := p.keys.Sign(claims)
	if err != nil {
		p.signFailed(w, err)
		return
	}
	b, _ := json.Marshal(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int64(graphTokenTTL / time.Second),
		"ext_expires_in": int64(graphTokenTTL / time.Second)})
	writeTokenBytes(w, b)
}

// GraphCaller is who a verified Graph token speaks for.
type GraphCaller struct {
	AppID string
	Roles []string
}

// Has reports whether the caller holds one of roles.
func (c *GraphCaller) Has(roles ...string) bool {
	return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(c.Roles, r) })
}

// ErrGraphToken: the bearer token is not a valid Graph token of this
// tenant (signature, issuer, audience or lifetime).
var ErrGraphToken = errors.New("identity: not a valid Graph token of this tenant")

// VerifyGraphToken checks a Graph access token this provider issued:
// signed by one of its keys, its issuer, Graph's audience, within its
// lifetime (a minute of clock skew).
func (p *Provider) VerifyGraphToken(ctx context.Context, raw string) (*GraphCaller, error) {
	payload, ok := p.verifySigned(ctx, raw)
	if !ok {
		return nil, ErrGraphToken
	}
	var c struct {
		Iss   string   `json:"iss"`
		Aud   string   `json:"aud"`
		Azp   string   `json:"azp"`
		Exp   *int64   `json:"exp"`
		Nbf   int64    `json:"nbf"`
		Roles []string `json:"roles"`
	}
	const skew = int64(60)
	now := p.now().Unix()
	if json.Unmarshal(payload, &c) != nil || c.Iss != p.issuer || c.Aud != GraphAudience || c.Exp == nil ||
		*c.Exp+skew <= now || c.Nbf > now+skew {
		return nil, ErrGraphToken
	}
	return &GraphCaller{AppID: c.Azp, Roles: c.Roles}, nil
}

// verifySigned checks that raw is a compact JWS signed by one of this
// provider's keys (the header's kid and alg must agree with the key) and
// returns its payload.
func (p *Provider) verifySigned(ctx context.Context, raw string) ([]byte, bool) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, false
	}
	h := jws.Signatures[0].Protected
	pub, alg, ok := p.keys.PublicKey(ctx, h.KeyID)
	if !ok || alg != h.Algorithm {
		return nil, false
	}
	payload, err := jws.Verify(pub)
	return payload, err == nil
}

// ErrIDToken: not an id token this provider issued to the client.
var ErrIDToken = errors.New("identity: not a valid id token for this client")

// IDTokenClaims are the claims of an id token the admin console checks.
type IDTokenClaims struct {
	Subject string `json:"sub"`
	Nonce   string `json:"nonce"`
	Name    string `json:"name"`
}

// VerifyIDToken checks an id token this provider issued to clientID for
// flow: signature, issuer, audience and lifetime (a minute of skew).
func (p *Provider) VerifyIDToken(ctx context.Context, raw, flow, clientID string) (*IDTokenClaims, error) {
	payload, ok := p.verifySigned(ctx, raw)
	f := p.reg.Flows[strings.ToLower(flow)]
	if !ok || f == nil {
		return nil, ErrIDToken
	}
	var c struct {
		IDTokenClaims
		Iss string `json:"iss"`
		Aud string `json:"aud"`
		Exp *int64 `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	const skew = int64(60)
	now := p.now().Unix()
	if json.Unmarshal(payload, &c) != nil || c.Iss != p.issuerOf(f) || c.Aud != clientID || c.Exp == nil ||
		*c.Exp+skew <= now || c.Nbf > now+skew || c.Subject == "" {
		return nil, ErrIDToken
	}
	return &c.IDTokenClaims, nil
}
