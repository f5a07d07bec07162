package identity

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// respond sends the authorization response (or error) to the client's
// verified redirect URI per response_mode, with iss (RFC 9207). No
// X-Frame-Options or frame-ancestors: prompt=none runs in a hidden iframe.
func (p *Provider) respond(w http.ResponseWriter, req *AuthRequest, params url.Values) {
	if req.State != "" {
		params.Set("state", req.State)
	}
	iss := req.Issuer
	if iss == "" {
		iss = p.issuer
	}
	params.Set("iss", iss)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch req.ResponseMode {
	case "form_post":
		p.formPost(w, req.RedirectURI, params)
	case "fragment":
		w.Header().Set("Location", req.RedirectURI+"#"+params.Encode())
		w.WriteHeader(http.StatusFound)
	default:
		sep := "?"
		if strings.Contains(req.RedirectURI, "?") {
			sep = "&"
		}
		w.Header().Set("Location", req.RedirectURI+sep+params.Encode())
		w.WriteHeader(http.StatusFound)
	}
}

func (p *Provider) respondError(w http.ResponseWriter, req *AuthRequest, code, desc string) {
	p.respond(w, req, url.Values{"error": {code}, "error_description": {desc}})
}

var formPostTmpl = template.Must(template.New("fp").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Working...</title></head>
<body><form method="post" action="{{.Action}}">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><p>Script is disabled. Click Submit to continue.</p><button type="submit">Submit</button></noscript></form>
<script nonce="{{.Nonce}}">document.forms[0].submit();</script></body></html>
`))

// formPost renders the auto-submitting form of response_mode=form_post
// under a strict CSP: only its own nonce'd script, posting only to the
// redirect URI's origin.
func (p *Provider) formPost(w http.ResponseWriter, action string, params url.Values) {
	nonce := randomToken(18)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action "+origin(action)+"; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_ = formPostTmpl.Execute(w, map[string]any{"Action": template.URL(action), "Params": map[string][]string(params), "Nonce": nonce})
}
