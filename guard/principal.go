package guard

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/token"
)

// Headers App Service authentication passes to the application.
const (
	HeaderPrincipal     = "X-MS-CLIENT-PRINCIPAL"
	HeaderPrincipalID   = "X-MS-CLIENT-PRINCIPAL-ID"
	HeaderPrincipalName = "X-MS-CLIENT-PRINCIPAL-NAME"
	HeaderPrincipalIDP  = "X-MS-CLIENT-PRINCIPAL-IDP"
	HeaderAccessToken   = "X-MS-TOKEN-AAD-ACCESS-TOKEN"
)

// IdentityProvider is the auth_typ and X-MS-CLIENT-PRINCIPAL-IDP value.
const IdentityProvider = "aad"

// Principal is the decoded X-MS-CLIENT-PRINCIPAL header.
type Principal struct {
	AuthType string  `json:"auth_typ"`
	Claims   []Claim `json:"claims"`
	NameType string  `json:"name_typ"`
	RoleType string  `json:"role_typ"`
}

// Claim is one claim of a Principal.
type Claim struct {
	Type  string `json:"typ"`
	Value string `json:"val"`
}

// DecodePrincipal decodes an X-MS-CLIENT-PRINCIPAL header value.
func DecodePrincipal(h string) (*Principal, error) {
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return nil, err
	}
	p := &Principal{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, err
	}
	return p, nil
}

// isPrincipalHeader reports whether name is one of the headers only the
// guard may set. Underscores count as dashes: CGI-style servers (PHP,
// nginx's underscores_in_headers) map both to the same variable.
func isPrincipalHeader(name string) bool {
	n := strings.ToUpper(strings.ReplaceAll(name, "_", "-"))
	return strings.HasPrefix(n, "X-MS-CLIENT-PRINCIPAL") || strings.HasPrefix(n, "X-MS-TOKEN-")
}

func stripPrincipalHeaders(h http.Header) {
	for k := range h {
		if isPrincipalHeader(k) {
			delete(h, k)
		}
	}
}

// bearer returns the token of the Authorization header ("Bearer" compared
// case-insensitively); present is false when there is none, it is not a
// bearer token, or there are several Authorization headers.
func bearer(r *http.Request) (raw string, present bool) {
	v := r.Header.Values("Authorization")
	if len(v) != 1 {
		return "", false
	}
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	raw = strings.TrimSpace(rest)
	return raw, raw != ""
}

// Claims that name the caller for X-MS-CLIENT-PRINCIPAL-NAME, in order.
var nameClaims = []string{"preferred_username", "upn", "email", "emails", "name", "unique_name"}

// setPrincipalHeaders passes the validated token to the application as
// App Service does. Claims keep the token's names (no WS-Federation URI
// mapping); array claims become one claim per element; name_typ is the
// claim that gave X-MS-CLIENT-PRINCIPAL-NAME and role_typ is "roles".
func setPrincipalHeaders(h http.Header, tok *token.Token) {
	names := make([]string, 0, len(tok.Claims))
	for k := range tok.Claims {
		names = append(names, k)
	}
	sort.Strings(names)
	p := Principal{AuthType: IdentityProvider, RoleType: "roles", Claims: make([]Claim, 0, len(names))}
	for _, n := range names {
		for _, v := range claimStrings(tok.Claims[n]) {
			p.Claims = append(p.Claims, Claim{Type: n, Value: v})
		}
	}
	id := firstString(tok.Claims["oid"])
	if id == "" {
		id = tok.Subject
	}
	name := ""
	for _, c := range nameClaims {
		if name = firstString(tok.Claims[c]); name != "" {
			p.NameType = c
			break
		}
	}
	if p.NameType == "" {
		p.NameType = "name"
	}
	b, _ := json.Marshal(p)
	set := func(k, v string) {
		if v != "" && validHeaderValue(v) {
			h[k] = []string{v}
		}
	}
	set(HeaderPrincipal, base64.StdEncoding.EncodeToString(b))
	set(HeaderPrincipalID, id)
	set(HeaderPrincipalName, name)
	set(HeaderPrincipalIDP, IdentityProvider)
	set(HeaderAccessToken, tok.Raw)
}

// validHeaderValue refuses control characters (claim values are the
// issuer's, but a header must not carry line breaks or NULs).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func claimStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case bool:
		if x {
			return []string{"true"}
		}
		return []string{"false"}
	case []any:
		var out []string
		for _, e := range x {
			if _, nested := e.([]any); nested {
				b, _ := json.Marshal(e)
				out = append(out, string(b))
				continue
			}
			out = append(out, claimStrings(e)...)
		}
		return out
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		return []string{string(b)}
	}
}

func firstString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			s, _ := x[0].(string)
			return s
		}
	}
	return ""
}

// unauthorizedBody is the text App Service authentication answers 401
// with.
const unauthorizedBody = "You do not have permission to view this directory or page."

// unauthenticated answers a request without a valid token: 302 to the
// login URL for browser navigations under RedirectToLogin, else 401 with a
// Bearer challenge (RFC 6750: error="invalid_token" only when a token was
// presented).
func (g *Guard) unauthenticated(w http.ResponseWriter, r *http.Request, info *Info, presented bool) {
	if g.auth.Unauthenticated == RedirectToLogin && !presented && isNavigation(r) {
		u := *g.loginURL
		q := u.Query()
		back := &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: removeCode(r.URL.RawQuery)}
		q.Set("post_login_redirect_uri", back.RequestURI())
		u.RawQuery = q.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	realm := g.auth.Realm
	if realm == "" {
		realm = info.origHost
		if strings.ContainsAny(realm, "\"\\") || !validHeaderValue(realm) {
			realm = ""
		}
	}
	c := `Bearer realm="` + realm + `"`
	if presented {
		c += `, error="invalid_token"`
	}
	h := w.Header()
	h.Set("WWW-Authenticate", c)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(unauthorizedBody))
	}
}

// isNavigation reports whether r looks like a browser navigation rather
// than an API call.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return false
	}
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" {
		return m == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
