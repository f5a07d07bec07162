package identity

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
)

// Request caps of the identity role. Everything an anonymous caller sends
// is bounded before it is parsed or stored; the README's Security section
// lists these numbers.
const (
	// MaxRequestBody is the largest request body of any identity endpoint
	// (authorize POST, token, logout, the hosted pages' forms): 64 KiB.
	MaxRequestBody = 64 << 10
	// MaxRequestURL is the longest request target (path and query): 8 KiB,
	// about what B2C and Entra accept.
	MaxRequestURL = 8 << 10
	// maxPageField bounds each field of a hosted page's form, and
	// maxPageFields their number.
	maxPageField  = 4096
	maxPageFields = 64
)

// paramCaps are the longest values of the protocol parameters (bytes).
// RFC 6749 §3.1 also forbids repeating any of them.
var paramCaps = map[string]int{
	// authorize and logout
	"client_id":                256,
	"redirect_uri":             2048,
	"post_logout_redirect_uri": 2048,
	"response_type":            64,
	"response_mode":            32,
	"scope":                    2048,
	"state":                    2048,
	"nonce":                    512,
	"code_challenge":           128, // RFC 7636: at most 128
	"code_challenge_method":    16,
	"prompt":                   64,
	"login_hint":               320,
	"domain_hint":              256,
	"ui_locales":               256,
	"max_age":                  16,
	"id_token_hint":            16 << 10,
	"p":                        256,
	// token
	"grant_type":            64,
	"code":                  1024,
	"code_verifier":         128,
	"refresh_token":         1024,
	"client_secret":         1024,
	"client_assertion_type": 256,
	"client_info":           8,
}

// Bounds of the other query parameters an authorize request may carry
// for {OAUTH-KV:name}: they are stored with the transaction, so an
// anonymous caller's extras are few and short (longer ones are dropped).
const (
	maxExtraParams     = 16
	maxExtraParamName  = 64
	maxExtraParamValue = 512
)

// extraParams are q's parameters that are not protocol parameters, within
// the bounds above (in name order; a repeated one keeps its first value).
func extraParams(q url.Values) map[string]string {
	names := make([]string, 0, len(q))
	for k := range q {
		if _, protocol := paramCaps[k]; !protocol && k != "" && len(k) <= maxExtraParamName {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out map[string]string
	for _, k := range names {
		if v := q.Get(k); v != "" && len(v) <= maxExtraParamValue && len(out) < maxExtraParams {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// paramProblem is a parameter over its cap or repeated.
type paramProblem struct {
	name     string
	length   int
	repeated bool
}

// message is the error description of a paramProblem.
func (pp *paramProblem) message() string {
	if pp.repeated {
		return "The request parameter '" + pp.name + "' is given more than once."
	}
	return "The request parameter '" + pp.name + "' is too long (" + strconv.Itoa(pp.length) + " bytes; at most " + strconv.Itoa(paramCaps[pp.name]) + ")."
}

// checkParams finds the first (by name) capped parameter of form that is
// too long or repeated; nil when all are within bounds.
func checkParams(form url.Values) *paramProblem {
	names := make([]string, 0, len(form))
	for k := range form {
		if _, ok := paramCaps[k]; ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		vs := form[k]
		if len(vs) > 1 {
			return &paramProblem{name: k, repeated: true}
		}
		if len(vs) == 1 && len(vs[0]) > paramCaps[k] {
			return &paramProblem{name: k, length: len(vs[0])}
		}
	}
	return nil
}

// tooLarge tells a body over MaxRequestBody from a malformed one.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// allowTransaction counts a sign-in transaction of the caller's address
// in the store (atomic across processes) and reports whether it is within
// identity.throttle.authorizePerIp, and when the window ends.
func (p *Provider) allowTransaction(ctx context.Context, r *http.Request) (bool, time.Duration, error) {
	now := p.now()
	lim := p.limits.AuthorizePerIP
	n, ends, err := p.st.Throttles().Hit(ctx, "authorize:ip:"+ThrottleKey(p.limits.ClientIP(r)), 1, now, lim.Window)
	if err != nil {
		return false, 0, err
	}
	return n <= lim.N, ends.Sub(now), nil
}

// rejected records a request refused by a cap (secevent.RequestRejected):
// the endpoint, the reason, the client address; never the values.
func (p *Provider) rejected(r *http.Request, endpoint, reason string, attrs ...slog.Attr) {
	all := append([]slog.Attr{
		slog.String("endpoint", endpoint), slog.String("reason", reason), slog.String("ip", p.limits.ClientIP(r).String()),
	}, attrs...)
	p.opts.Events.Emit(r.Context(), secevent.RequestRejected, all...)
}

// retryAfter is a Retry-After value in whole seconds, rounded up (a
// client that waits that long finds the window over), at least 1.
func retryAfter(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}

// capRequest applies the role-wide caps before routing: the request
// target's length, the body's length (declared or read), and for the
// hosted pages' POSTs the size and number of form fields. It answers and
// returns false when a cap is exceeded.
func (p *Provider) capRequest(w http.ResponseWriter, r *http.Request) bool {
	asJSON := strings.HasSuffix(strings.ToLower(r.URL.Path), "/token")
	if n := len(r.URL.RawPath) + len(r.URL.Path) + len(r.URL.RawQuery); n > MaxRequestURL || len(r.RequestURI) > MaxRequestURL {
		p.rejected(r, "any", "url_too_long", slog.Int("length", max(n, len(r.RequestURI))))
		msg := "The request URL is too long (at most " + strconv.Itoa(MaxRequestURL) + " bytes)."
		if asJSON {
			p.oerr(http.StatusRequestURITooLong, "invalid_request", "AADB2C90083", msg).write(w)
		} else {
			p.page(w, http.StatusRequestURITooLong, "Request too long", "AADB2C90083", msg)
		}
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength > MaxRequestBody {
		p.bodyTooLarge(w, r, asJSON, r.ContentLength)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	return true
}

// bodyTooLarge answers a request whose body is over MaxRequestBody (413).
func (p *Provider) bodyTooLarge(w http.ResponseWriter, r *http.Request, asJSON bool, length int64) {
	p.rejected(r, "any", "body_too_large", slog.Int64("length", length))
	msg := "The request body is too large (at most " + strconv.Itoa(MaxRequestBody) + " bytes)."
	// The rest of the body is not read: the connection closes after the
	// answer.
	w.Header().Set("Connection", "close")
	if asJSON {
		p.oerr(http.StatusRequestEntityTooLarge, "invalid_request", "AADB2C90083", msg).write(w)
		return
	}
	p.page(w, http.StatusRequestEntityTooLarge, "Request too large", "AADB2C90083", msg)
}

// capPageForm parses a hosted page's POST (the pages' own ParseForm then
// finds it parsed) and checks its fields' sizes and number.
func (p *Provider) capPageForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return true
	}
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			p.bodyTooLarge(w, r, false, -1)
			return false
		}
		return true // the pages answer a malformed form themselves
	}
	fields := 0
	for k, vs := range r.PostForm {
		fields += len(vs)
		for _, v := range vs {
			if len(v) > maxPageField {
				p.rejected(r, "pages", "field_too_long", slog.String("field", truncate(k, 64)), slog.Int("length", len(v)))
				p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90083", "A field of the form is too long (at most "+strconv.Itoa(maxPageField)+" bytes).")
				return false
			}
		}
	}
	if fields > maxPageFields {
		p.rejected(r, "pages", "too_many_fields", slog.Int("fields", fields))
		p.page(w, http.StatusBadRequest, "Bad request", "AADB2C90083", "The form has too many fields (at most "+strconv.Itoa(maxPageFields)+").")
		return false
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
