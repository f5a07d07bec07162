package identity

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/ids"
)

// b2cDesc formats an error_description as B2C does:
// "AADB2Cxxxxx: message\r\nCorrelation ID: ...\r\nTimestamp: ...".
func b2cDesc(now time.Time, code, msg string) string {
	return code + ": " + msg + "\r\nCorrelation ID: " + ids.NewGUID() + "\r\nTimestamp: " + now.UTC().Format("2006-01-02 15:04:05Z")
}

// oauthError is an OAuth 2.0 error response.
type oauthError struct {
	status int
	code   string
	desc   string
	// retryAfter, when set, is sent as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (p *Provider) oerr(status int, code, b2c, msg string) *oauthError {
	return &oauthError{status: status, code: code, desc: b2cDesc(p.now(), b2c, msg)}
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (e *oauthError) write(w http.ResponseWriter) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfter(e.retryAfter))
	}
	writeOAuthError(w, e.status, e.code, e.desc)
}

var errorPageTmpl = template.Must(template.New("err").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Code}}<p><small>{{.Code}} · Correlation ID: {{.Correlation}} · {{.Time}}</small></p>{{end}}
</body></html>
`))

// page renders a plain page (errors that must not go back to an
// unverified redirect URI, the signed-out page).
func (p *Provider) page(w http.ResponseWriter, status int, title, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = errorPageTmpl.Execute(w, map[string]string{
		"Title": title, "Message": msg, "Code": code,
		"Correlation": ids.NewGUID(), "Time": p.now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}
