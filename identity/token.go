package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/store"
)

const maxTokenRequest = 64 << 10

// token is the token endpoint.
func (p *Provider) token(w http.ResponseWriter, r *http.Request, rt *route) {
	if p.corsToken(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", b2cDesc(p.now(), "AADB2C90083", "The token endpoint takes POST."))
		return
	}
	if m := p.opts.Metrics; m != nil {
		defer func() { m.Token(r.PostForm.Get("grant_type"), idmetrics.StatusOf(w)) }()
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			p.bodyTooLarge(w, r, true, -1)
			return
		}
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request body must be application/x-www-form-urlencoded.").write(w)
		return
	}
	if bad := checkParams(r.Form); bad != nil {
		p.rejected(r, "token", "parameter", slog.String("parameter", bad.name), slog.Int("length", bad.length), slog.Bool("repeated", bad.repeated))
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", bad.message()).write(w)
		return
	}
	form := r.PostForm
	client, e := p.clientAuth(r, form)
	if e != nil {
		e.write(w)
		return
	}
	if rt.flow == nil { // the tenant-level endpoint
		if gt := form.Get("grant_type"); gt != "client_credentials" {
			p.oerr(http.StatusBadRequest, "unsupported_grant_type", "AADB2C90086", "The tenant's token endpoint issues Microsoft Graph tokens by client_credentials only; the grant_type ["+gt+"] needs a policy's token endpoint.").write(w)
			return
		}
		p.graphClientCredentials(w, form, client)
		return
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
		p.clientCredentials(w, form, rt.flow, client)
	case "authorization_code":
		p.redeemCode(w, r, form, rt.flow, client)
	case "refresh_token":
		p.redeemRefresh(w, r, form, rt.flow, client)
	case "":
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: grant_type.").write(w)
	default:
		p.oerr(http.StatusBadRequest, "unsupported_grant_type", "AADB2C90086", "The supplied grant_type ["+gt+"] is not supported.").write(w)
	}
}

// clientAuth authenticates the client: client_secret_basic or
// client_secret_post (not both); public clients must not send a secret
// (AADB2C90084), confidential ones must (AADB2C90079).
func (p *Provider) clientAuth(r *http.Request, form url.Values) (*App, *oauthError) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	bid, bsecret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		bid, err1 = url.QueryUnescape(bid)
		bsecret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The Authorization header is malformed.")
		}
		if secret != "" {
			return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The client authenticated with both client_secret_basic and client_secret_post; use one.")
		}
		if id != "" && !strings.EqualFold(id, bid) {
			return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "client_id does not match the Authorization header.")
		}
		id, secret = bid, bsecret
	}
	if id == "" {
		return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: client_id.")
	}
	client := p.reg.Apps[strings.ToLower(id)]
	if client == nil {
		return nil, p.oerr(http.StatusUnauthorized, "invalid_client", "AADB2C90018", "The client id '"+id+"' specified in the request is not registered in tenant '"+p.reg.Domain()+"'.")
	}
	if client.Public() {
		if secret != "" || basic {
			return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90084", "Public clients should not send a client_secret when redeeming a publicly acquired grant.")
		}
		return client, nil
	}
	if secret == "" {
		return nil, p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90079", "Clients must send a client_secret when redeeming a confidential grant.")
	}
	if e := p.checkClientSecret(r, client, secret); e != nil {
		return nil, e
	}
	return client, nil
}

// redeemCode is the authorization_code grant: the code is consumed
// atomically (single use, from any process), bound to the client, the
// redirect URI and the policy, and its PKCE challenge is verified.
func (p *Provider) redeemCode(w http.ResponseWriter, r *http.Request, form url.Values, flow *Flow, client *App) {
	code := form.Get("code")
	if code == "" {
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: code.").write(w)
		return
	}
	c, err := p.st.Codes().Consume(r.Context(), hashToken(code))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90080", "The provided grant has expired. Please re-authenticate and try again.").write(w)
			return
		}
		p.unavailable(w, err)
		return
	}
	var g grant
	if err := json.Unmarshal(c.Data, &g); err != nil {
		p.oerr(http.StatusInternalServerError, "server_error", "AADB2C90085", "The service has encountered an internal error. Please reauthenticate and try again.").write(w)
		return
	}
	if g.ClientID != client.ClientID {
		p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90088", "The provided grant has not been issued for this endpoint. Actual Value : "+client.ClientID+" and Expected Value : "+g.ClientID).write(w)
		return
	}
	if !strings.EqualFold(g.Flow, flow.Name) {
		p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90087", "The provided grant has not been issued for this endpoint. Actual Value : "+flow.Name+" and Expected Value : "+g.Flow).write(w)
		return
	}
	if form.Get("redirect_uri") != g.RedirectURI {
		p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90006", "The redirect URI '"+form.Get("redirect_uri")+"' provided in the request does not match the one the code was issued to.").write(w)
		return
	}
	if e := p.verifyPKCE(&g, form.Get("code_verifier")); e != nil {
		e.write(w)
		return
	}
	g.CodeChallenge, g.CodeChallengeMethod, g.RedirectURI = "", "", ""
	p.issue(w, r, flow, client, &g, nil)
}

func (p *Provider) verifyPKCE(g *grant, verifier string) *oauthError {
	if g.CodeChallenge == "" {
		if verifier != "" { // RFC 9700 §2.1.1: no downgrade
			return p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90183", "The supplied code_verifier is invalid: the authorization request had no code_challenge.")
		}
		return nil
	}
	if verifier == "" {
		return p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90183", "The request is missing required parameter: code_verifier.")
	}
	if l := len(verifier); l < 43 || l > 128 {
		return p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90183", "The supplied code_verifier is invalid.")
	}
	want := verifier
	if g.CodeChallengeMethod == "S256" {
		h := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(g.CodeChallenge)) != 1 {
		return p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90182", "The supplied code_verifier does not match associated code_challenge.")
	}
	return nil
}

// redeemRefresh is the refresh_token grant with rotation: the presented
// token is exchanged for a new one atomically; presenting a rotated-away
// token revokes the whole family.
func (p *Provider) redeemRefresh(w http.ResponseWriter, r *http.Request, form url.Values, flow *Flow, client *App) {
	rt := form.Get("refresh_token")
	if rt == "" {
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: refresh_token.").write(w)
		return
	}
	now := p.now()
	next := randomToken(32)
	nextExp := now.Add(p.refreshTTL(flow, client))
	fam, err := p.st.Refresh().Rotate(r.Context(), hashToken(rt), hashToken(next), nextExp)
	switch {
	case errors.Is(err, store.ErrReused):
		p.log.Warn("identity: refresh token reused; family revoked", "client_id", client.ClientID)
		p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90129", "The provided grant has been revoked. Please reauthenticate and try again.").write(w)
		return
	case errors.Is(err, store.ErrNotFound):
		p.oerr(http.StatusBadRequest, "invalid_grant", "AADB2C90080", "The provided grant has expired. Please re-authenticate and try again.").write(w)
		return
	case err != nil:
		p.unavailable(w, err)
		return
	}
	var g grant
	if err := json.Unmarshal(fam.Data, &g); err != nil {
		p.oerr(http.StatusInternalServerError, "server_error", "AADB2C90085", "The service has encountered an internal error. Please reauthenticate and try again.").write(w)
		return
	}
	// The token was already rotated: a mismatch means someone else's
	// token was presented, so the family is revoked.
	revoke := func(b2c, msg string) {
		if err := p.st.Refresh().Revoke(r.Context(), fam.ID); err != nil {
			p.log.Error("identity: revoke refresh family", "err", err)
		}
		p.oerr(http.StatusBadRequest, "invalid_grant", b2c, msg).write(w)
	}
	if fam.ClientID != client.ClientID {
		revoke("AADB2C90088", "The provided grant has not been issued for this endpoint. Actual Value : "+client.ClientID+" and Expected Value : "+fam.ClientID)
		return
	}
	if !strings.EqualFold(g.Flow, flow.Name) {
		revoke("AADB2C90087", "The provided grant has not been issued for this endpoint. Actual Value : "+flow.Name+" and Expected Value : "+g.Flow)
		return
	}
	u, err := p.st.Users().Get(r.Context(), fam.UserID)
	if errors.Is(err, store.ErrNotFound) {
		revoke("AADB2C90129", "The provided grant has been revoked. Please reauthenticate and try again.")
		return
	} else if err != nil {
		p.unavailable(w, err)
		return
	}
	if fam.CreatedAt.Before(u.RefreshTokensValidFrom) {
		revoke("AADB2C90129", "The provided grant has been revoked. Please reauthenticate and try again.")
		return
	}
	if nextExp.After(fam.ExpiresAt) {
		nextExp = fam.ExpiresAt
	}
	g.NewUser, g.Nonce = false, ""
	p.issue(w, r, flow, client, &g, &issuedRefresh{token: next, expires: nextExp})
}

func (p *Provider) unavailable(w http.ResponseWriter, err error) {
	p.log.Error("identity: store", "err", err)
	p.oerr(http.StatusServiceUnavailable, "temporarily_unavailable", "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes.").write(w)
}
