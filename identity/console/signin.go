package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// The console signs administrators in as any app of the tenant does: an
// authorization request to the sign-in user flow (code flow with PKCE,
// state and nonce), then the code redeemed at the flow's token endpoint.
// The token request is served in-process, so the console needs no route
// back to its own public URL.

// flowURL is an endpoint of the sign-in flow under base (the public URL
// or its path).
func (c *Console) flowURL(base, endpoint string) string {
	return strings.TrimRight(base, "/") + "/" + c.o.Registry.Domain() + "/" + c.o.Flow + "/oauth2/v2.0/" + endpoint
}

func (c *Console) redirectURI() string {
	return strings.TrimRight(c.o.Registry.PublicURL, "/") + "/console/callback"
}

// startSignIn sends the browser to the sign-in flow, remembering the
// console page it asked for.
func (c *Console) startSignIn(w http.ResponseWriter, r *http.Request, back string) {
	if !strings.HasPrefix(back, c.path+"/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = c.path + "/" // only console pages: no open redirect
	}
	t := signIn{State: randomToken(), Nonce: randomToken(), Verifier: randomToken(), Return: back,
		Expires: c.o.Now().Add(signInTTL)}
	v, err := c.seal.seal(signInCookie, t)
	if err != nil {
		c.problem(w, r, nil, http.StatusInternalServerError, "The sign-in could not be started.")
		return
	}
	c.setCookie(w, signInCookie, v, signInTTL, false)
	challenge := sha256.Sum256([]byte(t.Verifier))
	q := url.Values{"client_id": {c.clientID}, "redirect_uri": {c.redirectURI()},
		"response_type": {"code"}, "response_mode": {"query"}, "scope": {"openid"}, "state": {t.State},
		"nonce": {t.Nonce}, "code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"}}
	http.Redirect(w, r, c.flowURL(c.o.Registry.PublicURL, "authorize")+"?"+q.Encode(), http.StatusFound)
}

// callback takes the sign-in flow's answer: checks the state, redeems the
// code, checks the id token and the account's admin role, and starts the
// console session.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	var t signIn
	if !c.readCookie(r, signInCookie, &t) || !c.o.Now().Before(t.Expires) {
		c.problem(w, r, nil, http.StatusBadRequest, "The sign-in took too long or was started in another browser. Sign in again.")
		return
	}
	q := r.URL.Query()
	if !sameToken(q.Get("state"), t.State) {
		c.problem(w, r, nil, http.StatusBadRequest, "The sign-in answer does not belong to this sign-in. Sign in again.")
		return
	}
	c.setCookie(w, signInCookie, "", 0, false) // one use
	if e := q.Get("error"); e != "" {
		c.problem(w, r, nil, http.StatusUnauthorized, "The sign-in did not complete: "+e+": "+q.Get("error_description"))
		return
	}
	idToken, err := c.redeem(r, q.Get("code"), t.Verifier)
	if err != nil {
		c.o.Logger.Warn("console: code redemption failed", "err", err)
		c.problem(w, r, nil, http.StatusUnauthorized, "The sign-in could not be completed: "+err.Error())
		return
	}
	sub, nonce, err := c.o.VerifyIDToken(r.Context(), idToken, c.o.Flow, c.clientID)
	if err != nil || !sameToken(nonce, t.Nonce) {
		c.problem(w, r, nil, http.StatusUnauthorized, "The sign-in answer was not valid. Sign in again.")
		return
	}
	u, err := c.o.Users.Get(r.Context(), sub)
	if err != nil && !isNotFound(err) {
		c.storeFailed(w, r, err)
		return
	}
	if err != nil || !IsAdmin(u) {
		c.problem(w, r, nil, http.StatusForbidden, "You signed in, but this account may not use the console: it needs the admin role (gatehouse users create --admin).")
		return
	}
	s := session{UserID: u.ID, Expires: c.o.Now().Add(c.o.SessionLifetime), CSRF: randomToken()}
	v, err := c.seal.seal(sessionCookie, s)
	if err != nil {
		c.problem(w, r, nil, http.StatusInternalServerError, "The console session could not be started.")
		return
	}
	c.setCookie(w, sessionCookie, v, c.o.SessionLifetime, true)
	// A page (not a redirect) moves the browser on: the Strict session
	// cookie is not sent on the redirect that ends a cross-site sign-in
	// (a federated one), only on a navigation from the console's own site.
	c.render(w, r, nil, http.StatusOK, "continue", "Signed in", map[string]string{"Return": t.Return})
}

// redeem exchanges the code at the flow's token endpoint (in-process) and
// returns the id token.
func (c *Console) redeem(r *http.Request, code, verifier string) (string, error) {
	if code == "" {
		return "", errors.New("the answer has no code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {c.clientID},
		"code": {code}, "redirect_uri": {c.redirectURI()}, "code_verifier": {verifier}, "scope": {"openid"}}
	u, _ := url.Parse(c.o.Registry.PublicURL)
	tr, err := http.NewRequestWithContext(r.Context(), http.MethodPost, c.flowURL(u.Path, "token"), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	tr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tr.RemoteAddr = r.RemoteAddr
	rec := newRecorder()
	c.o.Provider.ServeHTTP(rec, tr)
	var out struct {
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil {
		return "", errors.New("the token endpoint answered HTTP " + http.StatusText(rec.status))
	}
	if out.IDToken == "" {
		return "", errors.New(out.Error + ": " + out.ErrorDescription)
	}
	return out.IDToken, nil
}

// signOut ends the console session and the tenant's sign-in session (the
// flow's logout endpoint), then comes back to the console.
func (c *Console) signOut(q *req) {
	c.setCookie(q.w, sessionCookie, "", 0, true)
	v := url.Values{"post_logout_redirect_uri": {strings.TrimRight(c.o.Registry.PublicURL, "/") + "/console/"}}
	http.Redirect(q.w, q.r, c.flowURL(c.o.Registry.PublicURL, "logout")+"?"+v.Encode(), http.StatusSeeOther)
}

// recorder is the response of an in-process call (the token endpoint, the
// directory API).
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{h: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
