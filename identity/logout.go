package identity

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// logout ends the SSO session (Interaction.SignOut) and redirects to
// post_logout_redirect_uri only when it exactly matches a redirect or
// post-logout URI of the client named by client_id or by the
// id_token_hint's aud; otherwise it shows a signed-out page (no open
// redirect).
func (p *Provider) logout(w http.ResponseWriter, r *http.Request, rt *route) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		p.page(w, http.StatusMethodNotAllowed, "Method not allowed", "", "The logout endpoint takes GET or POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	if err := r.ParseForm(); err != nil && tooLarge(err) {
		p.bodyTooLarge(w, r, false, -1)
		return
	}
	q := r.Form
	if bad := checkParams(q); bad != nil {
		// No redirect for a request over a cap: the signed-out page
		// would hide the problem, so it is a plain error page.
		p.rejected(r, "logout", "parameter", slog.String("parameter", bad.name), slog.Int("length", bad.length), slog.Bool("repeated", bad.repeated))
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90083", bad.message())
		return
	}
	target := q.Get("post_logout_redirect_uri")
	clientID := strings.ToLower(q.Get("client_id"))
	if hint := q.Get("id_token_hint"); hint != "" {
		aud, ok := p.hintAudience(r.Context(), hint)
		if !ok || (clientID != "" && !strings.EqualFold(aud, clientID)) {
			target = "" // a bad hint never earns a redirect
		}
		if clientID == "" {
			clientID = strings.ToLower(aud)
		}
	}
	if pages := p.pages(); pages != nil {
		pages.SignOut(w, r)
	}
	if target != "" {
		if c := p.reg.Apps[clientID]; c != nil && (contains(c.RedirectURIs, target) || contains(c.PostLogoutURIs, target)) {
			loc := target
			if st := q.Get("state"); st != "" {
				sep := "?"
				if strings.Contains(loc, "?") {
					sep = "&"
				}
				loc += sep + "state=" + urlQueryEscape(st)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, loc, http.StatusFound)
			return
		}
	}
	p.page(w, http.StatusOK, "Signed out", "", "You have signed out. You can close this window.")
}

// hintAudience verifies an id_token_hint (signature by one of our keys and
// our issuer; an expired hint is fine for logout) and returns its aud.
func (p *Provider) hintAudience(ctx context.Context, tok string) (string, bool) {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return "", false
	}
	h := jws.Signatures[0].Protected
	pub, alg, ok := p.keys.PublicKey(ctx, h.KeyID)
	if !ok || alg != h.Algorithm {
		return "", false
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil || !p.ownIssuer(c.Iss) {
		return "", false
	}
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return one, true
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil && len(many) == 1 {
		return many[0], true
	}
	return "", false
}
