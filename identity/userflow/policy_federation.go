package userflow

import (
	"cmp"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/store"
)

// Identity providers the browser visits (identity/ief/federation): the
// journey stops with a Redirect; the provider sends the browser back to
// the tenant's redirect URI, {publicUrl}/{tenant}.onmicrosoft.com/oauth2/authresp,
// with the transaction in its state parameter.
//
// The answer is bound to the browser that left: a random value in the
// "x-ms-cpim-trans" cookie (HttpOnly, SameSite=None on https so a
// provider's form post carries it, Lax on http) whose keyed hash the
// journey keeps. Someone who learns the redirect's state (from a log or
// the provider) cannot finish the sign-in in another browser.

const (
	federationCookie = "x-ms-cpim-trans"
	keyBinding       = "binding"
	// federationTTL bounds how long a sign-in may stay at a provider.
	federationTTL = 15 * time.Minute
)

func (f *Flows) binding(value string) string {
	return hex.EncodeToString(f.mac("federation binding", value))
}

// redirect sends the browser to an identity provider.
func (c *call) redirect(rd *journey.Redirect) {
	v := randomID()
	c.pol.Journey.Federation[keyBinding] = c.f.binding(v)
	if err := c.store(); err != nil {
		c.f.fail(c.w, c.r, err)
		return
	}
	ck := &http.Cookie{Name: federationCookie, Value: v, Path: c.f.cookiePath(), HttpOnly: true, Secure: c.f.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(federationTTL / time.Second)}
	if c.f.secure {
		ck.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(c.w, ck)
	securityHeaders(c.w.Header(), "default-src 'none'; form-action *; frame-ancestors 'none'; base-uri 'none'")
	if rd.Form == nil {
		http.Redirect(c.w, c.r, rd.URL, http.StatusFound)
		return
	}
	// POST binding: a form the browser posts on load would need a script;
	// a button works without one.
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = postTmpl.Execute(c.w, rd)
}

var postTmpl = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Continue</title></head><body>
<form method="post" action="{{.URL}}">{{range $k, $v := .Form}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button type="submit" id="continue">Continue</button></form></body></html>
`))

// callback takes an identity provider's answer (GET query or form post).
func (f *Flows) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_invalid")
		return
	}
	answer := map[string]string{}
	for k, vs := range r.Form {
		if len(vs) != 1 || len(k) > 64 {
			f.errorPage(w, r, http.StatusBadRequest, "error_invalid")
			return
		}
		answer[k] = vs[0]
	}
	// OAuth2 and OpenID Connect return the state; SAML its RelayState.
	state := cmp.Or(answer["state"], answer["RelayState"])
	txID, ok := journey.SplitFederationState(state)
	if !ok {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_tx")
		return
	}
	tx, err := f.comp.Transaction(r.Context(), txID)
	if errors.Is(err, store.ErrNotFound) {
		f.errorPage(w, r, http.StatusBadRequest, "error_expired")
		return
	} else if err != nil {
		f.fail(w, r, err)
		return
	}
	flow := f.flowOf(tx)
	if flow == nil {
		f.errorPage(w, r, http.StatusBadRequest, "error_no_flow")
		return
	}
	pf := f.policies[strings.ToLower(flow.Name)]
	c, ok := f.resume(w, r, tx, flow, pf)
	if !ok {
		return
	}
	js := c.pol.Journey
	ck, cerr := r.Cookie(federationCookie)
	if js.Page == "" || !journey.CheckFederationState(state, js) || cerr != nil ||
		!hmac.Equal([]byte(f.binding(ck.Value)), []byte(js.Federation[keyBinding])) {
		// Not this browser's pending redirect (or answered already).
		f.errorPage(w, r, http.StatusForbidden, "error_csrf")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: federationCookie, Path: f.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: f.secure})
	c.pol.Interactive = true // the user signed in at the provider
	c.advance(pf, &journey.Input{Profile: js.Page, Action: journey.ActionFederated, Values: answer})
}

// samlMetadata serves the policy's SAML service-provider metadata for one
// SAML2 identity provider's profile, as B2C does at
// /{tenant}/{policy}/samlp/metadata?idptp={technical profile}: what the
// provider's administrator registers (entity id, assertion consumer
// service, signing certificate).
func (f *Flows) samlMetadata(w http.ResponseWriter, r *http.Request) {
	flow := tenant.FlowFromContext(r.Context())
	var pf *policyFlow
	if flow != nil {
		pf = f.policies[strings.ToLower(flow.Name)]
	}
	if pf == nil {
		http.NotFound(w, r)
		return
	}
	tp := pf.policy.Profiles[r.URL.Query().Get("idptp")]
	md, ok := f.federations[ief.ProviderSAML2].(interface {
		Metadata(ctx context.Context, pol *ief.Policy, tp *ief.TechnicalProfile) ([]byte, error)
	})
	if tp == nil || tp.Provider == nil || tp.Provider.Name != ief.ProviderSAML2 || !ok {
		http.NotFound(w, r)
		return
	}
	b, err := md.Metadata(r.Context(), pf.policy, tp)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}
