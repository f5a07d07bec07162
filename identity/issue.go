package identity

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

type issuedRefresh struct {
	token   string
	expires time.Time
}

// refreshTTL: SPA refresh tokens live 24 h (B2C, fixed); others per flow.
func (p *Provider) refreshTTL(flow *Flow, client *App) time.Duration {
	if client.Public() {
		return SPARefreshTokenTTL
	}
	return flow.RefreshTokenTTL
}

// familyTTL is the absolute end of a refresh family (the sliding window).
func (p *Provider) familyTTL(flow *Flow, client *App) time.Duration {
	if client.Public() {
		return SPARefreshTokenTTL
	}
	return flow.RollingRefreshTTL
}

// tokenClaims builds the claims every user token shares (the flow's
// claims of the grant plus iss, sub, aud, lifetimes, tfp, ver).
func (p *Provider) tokenClaims(flow *Flow, g *grant, aud string, ttl time.Duration, now time.Time) map[string]any {
	c := make(map[string]any, len(g.Claims)+14)
	for k, v := range g.Claims {
		c[k] = v
	}
	c["iss"] = p.issuerOf(flow)
	c["sub"] = g.UserID
	c["aud"] = aud
	c["exp"] = now.Add(ttl).Unix()
	c["nbf"] = now.Unix()
	c["iat"] = now.Unix()
	c["auth_time"] = g.AuthTime
	if flow.ACR {
		c["acr"] = strings.ToLower(flow.Name)
	} else {
		c["tfp"] = flow.Name
	}
	c["ver"] = "1.0"
	if g.NewUser && contains(flow.Claims, "newUser") {
		c["newUser"] = true
	}
	return c
}

// accessToken signs the access token of a grant for sc's resource.
func (p *Provider) accessToken(flow *Flow, client *App, g *grant, sc scopeSet, now time.Time) (string, error) {
	c := p.tokenClaims(flow, g, sc.Resource.ClientID, flow.AccessTokenTTL, now)
	c["azp"] = client.ClientID
	if len(sc.Names) > 0 {
		c["scp"] = strings.Join(sc.Names, " ")
	}
	return p.sign(c)
}

// idToken signs the id token of a grant: nonce echoed, at_hash over the
// access token and c_hash over the code issued with it (OIDC Core
// 3.3.2.11, 3.2.2.10), when there are.
func (p *Provider) idToken(flow *Flow, client *App, g *grant, now time.Time, access, code string) (string, error) {
	c := p.tokenClaims(flow, g, client.ClientID, flow.IDTokenTTL, now)
	if g.Nonce != "" {
		c["nonce"] = g.Nonce
	}
	if access != "" {
		c["at_hash"] = halfHash(p.keys.Algorithm(), access)
	}
	if code != "" {
		c["c_hash"] = halfHash(p.keys.Algorithm(), code)
	}
	return p.sign(c)
}

// halfHash is at_hash / c_hash: the base64url left half of the hash of
// the ASCII value, the hash being the one of the JWS alg (SHA-256 for
// RS256 and ES256).
func halfHash(alg, v string) string {
	var sum []byte
	switch {
	case strings.HasSuffix(alg, "384"):
		h := sha512.Sum384([]byte(v))
		sum = h[:]
	case strings.HasSuffix(alg, "512"):
		h := sha512.Sum512([]byte(v))
		sum = h[:]
	default:
		h := sha256.Sum256([]byte(v))
		sum = h[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// issue signs the id and access tokens of a user grant, starts a refresh
// family when offline_access was granted (code redemption) or hands out
// the rotated refresh token, and writes B2C's token response.
func (p *Provider) issue(w http.ResponseWriter, r *http.Request, flow *Flow, client *App, g *grant, rotated *issuedRefresh) {
	now := p.now()
	sc := p.reg.ParseGranted(client, g.Scopes)
	resp := map[string]any{"token_type": "Bearer", "not_before": now.Unix()}
	var access string
	if sc.Resource != nil {
		tok, err := p.accessToken(flow, client, g, sc, now)
		if err != nil {
			p.signFailed(w, err)
			return
		}
		access = tok
		resp["access_token"] = tok
		resp["expires_in"] = int64(flow.AccessTokenTTL / time.Second)
		resp["expires_on"] = now.Add(flow.AccessTokenTTL).Unix()
		resp["resource"] = sc.Resource.ClientID
	}
	if sc.OpenID {
		tok, err := p.idToken(flow, client, g, now, access, "")
		if err != nil {
			p.signFailed(w, err)
			return
		}
		resp["id_token"] = tok
		resp["id_token_expires_in"] = int64(flow.IDTokenTTL / time.Second)
		idp := g.IDP
		if idp == "" {
			idp = "LocalAccount"
		}
		pi, _ := json.Marshal(map[string]any{"ver": "1.0", "tid": p.reg.TenantID, "sub": nil, "name": g.Claims["name"], "preferred_username": nil, "idp": idp})
		resp["profile_info"] = base64.RawURLEncoding.EncodeToString(pi)
	}
	// MSAL asks for client_info=1 and builds its account id from it; B2C's
	// uid is "{objectId}-{policy}" (lower case) and utid the tenant id.
	if r.PostFormValue("client_info") == "1" && g.UserID != "" {
		ci, _ := json.Marshal(map[string]string{"uid": g.UserID + "-" + strings.ToLower(flow.Name), "utid": p.reg.TenantID})
		resp["client_info"] = base64.RawURLEncoding.EncodeToString(ci)
	}
	if sc.Offline {
		rt := rotated
		if rt == nil {
			rt = &issuedRefresh{token: randomToken(32), expires: now.Add(p.refreshTTL(flow, client))}
			data, _ := json.Marshal(g)
			fam := &store.RefreshFamily{
				ID: randomToken(16), UserID: g.UserID, ClientID: client.ClientID, Data: data,
				CreatedAt: now, ExpiresAt: now.Add(p.familyTTL(flow, client)),
			}
			if err := p.st.Refresh().Create(r.Context(), fam, hashToken(rt.token), rt.expires); err != nil {
				p.unavailable(w, err)
				return
			}
		}
		resp["refresh_token"] = rt.token
		resp["refresh_token_expires_in"] = int64(rt.expires.Sub(now) / time.Second)
	}
	resp["scope"] = strings.Join(g.Scopes, " ")
	writeTokenJSON(w, resp)
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return p.keys.Sign(b)
}

func (p *Provider) signFailed(w http.ResponseWriter, err error) {
	p.log.Error("identity: sign token", "err", err)
	p.oerr(http.StatusInternalServerError, "server_error", "AADB2C90085", "The service has encountered an internal error. Please reauthenticate and try again.").write(w)
}

func writeTokenJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	writeTokenBytes(w, b)
}

func writeTokenBytes(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
