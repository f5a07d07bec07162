package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/store"
)

// Transaction loads a pending sign-in (store.ErrNotFound when unknown or
// expired).
func (p *Provider) Transaction(ctx context.Context, id string) (*Transaction, error) {
	t, err := p.st.Transactions().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.ExpiresAt.IsZero() && !p.now().Before(t.ExpiresAt) {
		return nil, store.ErrNotFound
	}
	var tx Transaction
	if err := json.Unmarshal(t.Data, &tx); err != nil {
		return nil, err
	}
	return &tx, nil
}

// SaveTransaction stores the transaction (and the pages' progress) until
// CreatedAt + the transaction lifetime (1 h).
func (p *Provider) SaveTransaction(ctx context.Context, tx *Transaction) error {
	data, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	return p.st.Transactions().Put(ctx, &store.Transaction{ID: tx.ID, Data: data, ExpiresAt: tx.CreatedAt.Add(p.opts.TransactionTTL)})
}

// Complete finishes the sign-in of tx: it issues the code and sends the
// browser back to the app. The transaction is deleted (single use).
func (p *Provider) Complete(w http.ResponseWriter, r *http.Request, tx *Transaction, res Result) {
	flow := p.reg.Flows[strings.ToLower(tx.Flow)]
	if flow == nil {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90046", "We are having trouble loading your current state. You might want to try starting your session over from the beginning.")
		return
	}
	if err := p.st.Transactions().Delete(r.Context(), tx.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.Warn("identity: delete transaction", "err", err)
	}
	p.complete(w, r, flow, &tx.Request, res)
}

// Fail ends tx with an OAuth error sent to the app, e.g. access_denied
// "AADB2C90091: The user has cancelled entering self-asserted information.".
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, tx *Transaction, code, description string) {
	if err := p.st.Transactions().Delete(r.Context(), tx.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.Warn("identity: delete transaction", "err", err)
	}
	if !p.verifiedRedirect(&tx.Request) {
		p.page(w, http.StatusBadRequest, "Sign-in failed", "", description)
		return
	}
	if strings.HasPrefix(description, "AADB2C") && !strings.Contains(description, "Correlation ID") {
		description += "\r\nCorrelation ID: " + ids.NewGUID() + "\r\nTimestamp: " + p.now().UTC().Format("2006-01-02 15:04:05Z")
	}
	p.respondError(w, &tx.Request, code, description)
}

// verifiedRedirect re-checks a stored request's redirect URI (defence in
// depth: the registry may have changed since it was stored).
func (p *Provider) verifiedRedirect(req *AuthRequest) bool {
	c := p.reg.Apps[req.ClientID]
	return c != nil && contains(c.RedirectURIs, req.RedirectURI)
}

// complete issues what the response type asks for (the authorization
// code, tokens of the implicit and hybrid flows) and redirects.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, flow *Flow, req *AuthRequest, res Result) {
	if !p.verifiedRedirect(req) {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90006", "The redirect URI is not registered for the client.")
		return
	}
	if res.User == nil || res.User.ID == "" {
		p.respondError(w, req, "server_error", b2cDesc(p.now(), "AADB2C90085", "The service has encountered an internal error. Please reauthenticate and try again."))
		return
	}
	now := p.now()
	auth := res.AuthTime
	if auth.IsZero() {
		auth = now
	}
	g := &grant{
		ClientID: req.ClientID, RedirectURI: req.RedirectURI, Flow: flow.Name, Scopes: req.Scopes,
		Nonce: req.Nonce, CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod,
		UserID: res.User.ID, AuthTime: auth.Unix(), NewUser: res.NewUser, IDP: res.IdentityProvider,
		Claims: userClaims(flow, res.User, &res),
	}
	data, err := json.Marshal(g)
	if err != nil {
		p.respondError(w, req, "server_error", b2cDesc(now, "AADB2C90085", "The service has encountered an internal error."))
		return
	}
	rtype, ok := parseResponseType(req.ResponseType)
	client := p.reg.Apps[req.ClientID]
	if !ok || client == nil {
		p.respondError(w, req, "server_error", b2cDesc(now, "AADB2C90085", "The service has encountered an internal error."))
		return
	}
	// Re-checked here: the registration may have changed since the
	// request was stored.
	if (rtype.idToken && !client.ImplicitIDTokens) || (rtype.token && !client.ImplicitAccessTokens) {
		p.respondError(w, req, "unauthorized_client", b2cDesc(now, "AADB2C90057", "The provided application is not configured to allow the 'OAuth' Implicit flow."))
		return
	}
	params := url.Values{}
	var code string
	if rtype.code {
		code = randomToken(32)
		if err := p.st.Codes().Put(r.Context(), &store.Code{Hash: hashToken(code), Data: data, ExpiresAt: now.Add(CodeTTL)}); err != nil {
			p.log.Error("identity: store code", "err", err)
			p.respondError(w, req, "temporarily_unavailable", b2cDesc(now, "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes."))
			return
		}
		params.Set("code", code)
	}
	if rtype.tokens() && !p.implicitTokens(params, flow, client, g, rtype, code, now) {
		p.respondError(w, req, "server_error", b2cDesc(now, "AADB2C90085", "The service has encountered an internal error. Please reauthenticate and try again."))
		return
	}
	p.respond(w, req, params)
}

// implicitTokens adds the tokens of an implicit or hybrid response:
// access_token with token_type, expires_in and scope; id_token with
// at_hash / c_hash over what travels with it.
func (p *Provider) implicitTokens(params url.Values, flow *Flow, client *App, g *grant, rtype responseType, code string, now time.Time) bool {
	sc := p.reg.ParseGranted(client, g.Scopes)
	var access string
	if rtype.token && sc.Resource != nil {
		tok, err := p.accessToken(flow, client, g, sc, now)
		if err != nil {
			p.log.Error("identity: sign token", "err", err)
			return false
		}
		access = tok
		params.Set("access_token", tok)
		params.Set("token_type", "Bearer")
		params.Set("expires_in", strconv.FormatInt(int64(flow.AccessTokenTTL/time.Second), 10))
		params.Set("scope", strings.Join(g.Scopes, " "))
	}
	if rtype.idToken {
		tok, err := p.idToken(flow, client, g, now, access, code)
		if err != nil {
			p.log.Error("identity: sign token", "err", err)
			return false
		}
		params.Set("id_token", tok)
	}
	return true
}
