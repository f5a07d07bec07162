package identity

import (
	"net/http"
	"strings"
)

// corsPublic lets any origin read the discovery document and the JWKS
// (MSAL.js fetches them from the SPA's origin).
func corsPublic(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// corsToken answers CORS for the token endpoint: only the origins of SPA
// redirect URIs are allowed. It reports whether the request was a
// preflight (and is answered).
func (p *Provider) corsToken(w http.ResponseWriter, r *http.Request) bool {
	o := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := o != "" && p.spaOrigins[strings.ToLower(o)]
	if allowed {
		h.Set("Access-Control-Allow-Origin", o)
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if allowed {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}
