package identity

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authorize is the authorization endpoint (GET or POST).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, rt *route) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		p.page(w, http.StatusMethodNotAllowed, "Method not allowed", "", "The authorization endpoint takes GET or POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			p.bodyTooLarge(w, r, false, -1)
			return
		}
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90083", "The request could not be read.")
		return
	}
	q := r.Form
	// Every parameter is bounded (requestcaps.go). A problem with the
	// client id or redirect URI is a page; any other goes back to the
	// verified redirect URI below, never carrying an oversized state.
	bad := checkParams(q)
	if bad != nil {
		p.rejected(r, "authorize", "parameter", slog.String("parameter", bad.name), slog.Int("length", bad.length), slog.Bool("repeated", bad.repeated))
		if bad.name == "client_id" || bad.name == "redirect_uri" {
			p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90083", bad.message())
			return
		}
	}
	// Client and redirect URI first: until both are verified, errors are
	// pages, never redirects (RFC 9700 §4.1).
	clientID := strings.ToLower(q.Get("client_id"))
	if clientID == "" {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90008", "The request does not contain a client id parameter.")
		return
	}
	client := p.reg.Apps[clientID]
	if client == nil {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90018", "The client id '"+q.Get("client_id")+"' specified in the request is not registered in tenant '"+p.reg.Domain()+"'.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90036", "The request does not contain a URI to redirect to.")
		return
	}
	if !contains(client.RedirectURIs, redirectURI) {
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90006", "The redirect URI '"+redirectURI+"' provided in the request is not registered for the client id '"+client.ClientID+"'.")
		return
	}
	req := &AuthRequest{
		ClientID:            client.ClientID,
		RedirectURI:         redirectURI,
		ResponseType:        q.Get("response_type"),
		ResponseMode:        q.Get("response_mode"),
		State:               q.Get("state"),
		Nonce:               q.Get("nonce"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
		Prompt:              q.Get("prompt"),
		LoginHint:           q.Get("login_hint"),
		DomainHint:          q.Get("domain_hint"),
		UILocales:           q.Get("ui_locales"),
		Extra:               extraParams(q),
		Issuer:              p.issuerOf(rt.flow),
	}
	// From here on errors go back to the verified redirect URI.
	if bad != nil {
		if bad.name == "state" {
			req.State = ""
		}
		if bad.name == "response_mode" {
			req.ResponseMode = ""
		}
		if req.ResponseMode != "fragment" && req.ResponseMode != "form_post" {
			rt, _ := parseResponseType(req.ResponseType)
			req.ResponseMode = rt.defaultMode() // never the query for tokens
		}
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90083", bad.message()))
		return
	}
	rtype, rtypeOK := parseResponseType(req.ResponseType)
	switch req.ResponseMode {
	case "query", "fragment", "form_post":
	default:
		bad := req.ResponseMode
		req.ResponseMode = rtype.defaultMode()
		if bad != "" {
			p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90014", "The requested response mode '"+bad+"' provided in the request is not supported."))
			return
		}
	}
	if !rtypeOK {
		code := "unsupported_response_type"
		if req.ResponseType == "" {
			code = "invalid_request"
		}
		p.respondError(w, req, code, b2cDesc(p.now(), "AADB2C90013", "The requested response type '"+req.ResponseType+"' provided in the request is not supported. Supported: code, id_token, token, code id_token, code token, id_token token, code id_token token."))
		return
	}
	// Tokens never travel in the query (OAuth 2.0 Multiple Response Type
	// Encoding Practices §5): the error goes to the fragment.
	if rtype.tokens() && req.ResponseMode == "query" {
		req.ResponseMode = "fragment"
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90014", "The requested response mode 'query' provided in the request is not supported for response type '"+req.ResponseType+"': tokens are returned in the fragment or by form_post."))
		return
	}
	if client.Type == "daemon" {
		p.respondError(w, req, "unauthorized_client", b2cDesc(p.now(), "AADB2C90068", "The provided application with ID '"+client.ClientID+"' is not valid against this service: a daemon app signs no users in."))
		return
	}
	// Tokens from the authorization endpoint only for an app whose
	// registration allows them (Azure's implicit grant checkboxes).
	if (rtype.idToken && !client.ImplicitIDTokens) || (rtype.token && !client.ImplicitAccessTokens) {
		p.respondError(w, req, "unauthorized_client", b2cDesc(p.now(), "AADB2C90057", "The provided application is not configured to allow the 'OAuth' Implicit flow."))
		return
	}
	if !rtype.code {
		// No code, no PKCE: a challenge would bind nothing.
		req.CodeChallenge, req.CodeChallengeMethod = "", ""
	}
	if rtype.code {
		if e := p.checkPKCE(client, req); e != "" {
			p.respondError(w, req, "invalid_request", e)
			return
		}
	}
	raw := q.Get("scope")
	if strings.TrimSpace(raw) == "" {
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90010", "The request does not contain a scope parameter."))
		return
	}
	granted, multi := p.reg.GrantedScopes(client, strings.Fields(raw))
	if multi {
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90146", "The scope '"+raw+"' provided in request specifies more than one resource for an access token, which isn't supported."))
		return
	}
	if len(granted) == 0 || (len(granted) == 1 && granted[0] == "offline_access") {
		p.respondError(w, req, "invalid_scope", b2cDesc(p.now(), "AADB2C90055", "The scope '"+raw+"' must specify resource: openid, the client id or a granted API scope."))
		return
	}
	sc := p.reg.ParseGranted(client, granted)
	if rtype.idToken && !sc.OpenID {
		p.respondError(w, req, "invalid_scope", b2cDesc(p.now(), "AADB2C90055", "The scope '"+raw+"' must include openid for response type '"+req.ResponseType+"'."))
		return
	}
	if rtype.token && sc.Resource == nil {
		p.respondError(w, req, "invalid_scope", b2cDesc(p.now(), "AADB2C90055", "The scope '"+raw+"' must specify a resource (the client id or a granted API scope) for response type '"+req.ResponseType+"'."))
		return
	}
	// OIDC Core 3.2.2.1, 3.3.2.11: an id token from this endpoint needs
	// a nonce (replay protection).
	if rtype.idToken && req.Nonce == "" {
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90083", "The request is missing required parameter: nonce."))
		return
	}
	if !rtype.code {
		// No code, no refresh token: offline_access grants nothing.
		kept := granted[:0:0]
		for _, g := range granted {
			if g != "offline_access" {
				kept = append(kept, g)
			}
		}
		granted = kept
	}
	req.Scopes = granted
	for _, pr := range strings.Fields(req.Prompt) {
		switch pr {
		case "none", "login", "consent", "select_account":
		default:
			p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90043", "The prompt included in the request contains invalid values. Expected 'none', 'login', 'consent' or 'select_account'."))
			return
		}
	}
	if ma := q.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90120", "The maximum allowed age '"+ma+"' is invalid."))
			return
		}
		req.MaxAge = &n
	}
	p.startSignIn(w, r, rt.flow, req)
}

// responseType is a parsed response_type: what the authorization
// endpoint returns.
type responseType struct{ code, idToken, token bool }

// parseResponseType accepts the OpenID Connect response types B2C
// supports, space separated in any order: code, id_token, token and
// their combinations (not "none").
func parseResponseType(s string) (responseType, bool) {
	var t responseType
	parts := strings.Split(s, " ")
	for _, v := range parts {
		var f *bool
		switch v {
		case "code":
			f = &t.code
		case "id_token":
			f = &t.idToken
		case "token":
			f = &t.token
		default:
			return responseType{}, false
		}
		if *f {
			return responseType{}, false
		}
		*f = true
	}
	return t, true
}

// tokens: the response carries tokens (implicit or hybrid).
func (t responseType) tokens() bool { return t.idToken || t.token }

// defaultMode is the response type's default response_mode: query for
// code alone, fragment when tokens are returned.
func (t responseType) defaultMode() string {
	if t.tokens() {
		return "fragment"
	}
	return "query"
}

// checkPKCE: SPAs must send an S256 challenge (AADB2C99059); web apps may
// use S256 or plain, or none.
func (p *Provider) checkPKCE(client *App, req *AuthRequest) string {
	if req.CodeChallenge == "" {
		if req.CodeChallengeMethod != "" || client.Public() {
			return b2cDesc(p.now(), "AADB2C99059", "The supplied request must present a code_challenge.")
		}
		return ""
	}
	if req.CodeChallengeMethod == "" {
		req.CodeChallengeMethod = "plain" // RFC 7636 §4.3
	}
	switch req.CodeChallengeMethod {
	case "S256":
		if len(req.CodeChallenge) != 43 {
			return b2cDesc(p.now(), "AADB2C90183", "The supplied code_challenge is invalid: an S256 challenge is 43 base64url characters.")
		}
	case "plain":
		if client.Public() {
			return b2cDesc(p.now(), "AADB2C99059", "The supplied request must present a code_challenge with code_challenge_method S256 (plain is not allowed for single-page applications).")
		}
		if l := len(req.CodeChallenge); l < 43 || l > 128 {
			return b2cDesc(p.now(), "AADB2C90183", "The supplied code_challenge is invalid: 43 to 128 characters.")
		}
	default:
		return b2cDesc(p.now(), "AADB2C90183", "The code_challenge_method '"+req.CodeChallengeMethod+"' is not supported (S256 or plain).")
	}
	return ""
}

// startSignIn: SSO when a session exists (unless prompt=login or max_age
// demands fresh credentials); prompt=none without one is login_required;
// otherwise the hosted pages take over with a stored transaction.
func (p *Provider) startSignIn(w http.ResponseWriter, r *http.Request, flow *Flow, req *AuthRequest) {
	pages := p.pages()
	if pages == nil {
		p.page(w, http.StatusServiceUnavailable, "Unavailable", "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes.")
		return
	}
	prompts := strings.Fields(req.Prompt)
	none, login := contains(prompts, "none"), contains(prompts, "login")
	if none && login {
		p.respondError(w, req, "invalid_request", b2cDesc(p.now(), "AADB2C90043", "The prompt values 'none' and 'login' cannot be combined."))
		return
	}
	var res *Result
	if !login && (flow.Type == "signUpOrSignIn" || flow.Type == "journey") {
		if s, ok := pages.Session(r); ok && s != nil && s.User != nil {
			res = s
			if req.MaxAge != nil && p.now().Sub(s.AuthTime) > time.Duration(*req.MaxAge)*time.Second {
				res = nil
			}
		}
	}
	// A flow with MFA trusts only a session whose sign-in passed a second
	// factor; under any other the flow's journey runs (the session stands
	// in for the password, the second factor is asked: a step-up).
	stepUp := res != nil && !flow.Custom && flow.MFA != nil && !res.MFA
	if res != nil && !flow.Custom && !stepUp {
		res.NewUser = false
		p.complete(w, r, flow, req, *res)
		return
	}
	if none && stepUp {
		p.respondError(w, req, "interaction_required", b2cDesc(p.now(), "AADB2C90077", "The session did not pass the multi-factor authentication this user flow requires; sign in interactively."))
		return
	}
	if none && res == nil {
		p.respondError(w, req, "login_required", b2cDesc(p.now(), "AADB2C90077", "User does not have an existing session and request prompt parameter has a value of 'None'."))
		return
	}
	// Each transaction is a row an anonymous caller makes the store keep
	// for an hour: bounded per client address across processes.
	ok, wait, err := p.allowTransaction(r.Context(), r)
	if err != nil {
		p.log.Error("identity: authorize throttle", "err", err)
		p.page(w, http.StatusServiceUnavailable, "Unavailable", "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes.")
		return
	}
	if !ok {
		p.rejected(r, "authorize", "rate", slog.Int("limit", p.limits.AuthorizePerIP.N), slog.Duration("window", p.limits.AuthorizePerIP.Window))
		w.Header().Set("Retry-After", retryAfter(wait))
		p.page(w, http.StatusTooManyRequests, "Too many requests", "AADB2C90244", "There are too many requests at this moment. Please wait for some time and try again.")
		return
	}
	// A custom policy's journey (its REST steps) runs on SSO too: the
	// pages run it for a transaction marked SSO.
	tx := &Transaction{ID: randomToken(32), Flow: flow.Name, Request: *req, CreatedAt: p.now(), SSO: res != nil}
	if err := p.SaveTransaction(r.Context(), tx); err != nil {
		p.log.Error("identity: store transaction", "err", err)
		p.page(w, http.StatusServiceUnavailable, "Unavailable", "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes.")
		return
	}
	pages.Begin(w, r, tx)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
