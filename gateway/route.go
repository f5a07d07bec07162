package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/config"
)

// apiRoute is one API with its operations and precomputed pipelines.
type apiRoute struct {
	cfg        *config.API
	name       string
	path       string   // as configured, without surrounding slashes
	segs       []string // path segments, compared case-insensitively
	serviceURL *url.URL
	serviceEsc string    // serviceURL's path, escaped, dot segments resolved
	ctxAPI     *expr.Api // shared, read-only
	ops        []*opRoute
	keyHeader  string
	keyQuery   string
	required   bool       // the API's own subscriptionRequired
	products   []*product // products that include the API, config order
	open       *product   // first product including the API that needs no key
	// pipes[i] are the pipelines of product i-1 (i = 0: no product); nil
	// when that product does not include the API.
	pipes []*routePipes
	// version selects the API among those sharing its path: the value of
	// the header versionHeader or the query parameter versionQuery ("":
	// requests that give none).
	version, versionHeader, versionQuery string
}

// versionMatches reports whether r asks for a's version (always, for an
// API without one). query is r's query, parsed by the first candidate
// that needs it and kept for the others.
func (a *apiRoute) versionMatches(r *http.Request, query *url.Values) bool {
	var got string
	switch {
	case a.versionHeader != "":
		got = r.Header.Get(a.versionHeader)
	case a.versionQuery != "":
		if *query == nil {
			*query = r.URL.Query()
		}
		got = query.Get(a.versionQuery)
	default:
		return true
	}
	return strings.EqualFold(strings.TrimSpace(got), a.version)
}

type routePipes struct {
	api *apim.Pipeline   // global + product + API (APIs without operations, preflights)
	ops []*apim.Pipeline // parallel to apiRoute.ops
}

// opRoute is one operation: method + compiled URL template.
type opRoute struct {
	cfg    *config.Operation
	index  int
	method string // upper case; "*" = any
	segs   []tmplSeg
	query  []tmplQuery
	ctxOp  expr.Operation
	rank   []byte // specificity, compared lexicographically (higher wins)
}

type segKind byte

// Segment kinds in increasing specificity.
const (
	segWildcard segKind = iota // {*name}: the rest of the path
	segParam                   // {name}: one whole segment
	segPattern                 // literal text mixed with parameters
	segLiteral
)

type tmplSeg struct {
	kind   segKind
	lit    string         // segLiteral
	name   string         // segParam, segWildcard
	re     *regexp.Regexp // segPattern, anchored, case-insensitive
	params []string       // segPattern parameter names, in order
}

type tmplQuery struct {
	name  string // query parameter that must be present
	param string // template parameter receiving its value; "" for a literal
	lit   string // literal value required when param == ""
}

var paramNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// parseTemplate compiles an operation urlTemplate such as
// "/users/{id}/files/{*path}?version={v}".
func parseTemplate(t string) ([]tmplSeg, []tmplQuery, error) {
	p, q, _ := strings.Cut(t, "?")
	if !strings.HasPrefix(p, "/") {
		return nil, nil, fmt.Errorf("urlTemplate must start with '/'")
	}
	seen := map[string]bool{}
	addName := func(n string) error {
		if !paramNameRe.MatchString(n) {
			return fmt.Errorf("template parameter name %q is not valid", n)
		}
		if seen[strings.ToLower(n)] {
			return fmt.Errorf("template parameter {%s} is used twice", n)
		}
		seen[strings.ToLower(n)] = true
		return nil
	}
	raw := strings.Split(p[1:], "/")
	segs := make([]tmplSeg, 0, len(raw))
	for i, s := range raw {
		if !strings.ContainsAny(s, "{}") {
			lit, err := url.PathUnescape(s)
			if err != nil {
				return nil, nil, fmt.Errorf("segment %q is not valid URL text", s)
			}
			segs = append(segs, tmplSeg{kind: segLiteral, lit: lit})
			continue
		}
		if strings.HasPrefix(s, "{*") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1 {
			name := s[2 : len(s)-1]
			if i != len(raw)-1 {
				return nil, nil, fmt.Errorf("the wildcard {*%s} must be the last segment", name)
			}
			if err := addName(name); err != nil {
				return nil, nil, err
			}
			segs = append(segs, tmplSeg{kind: segWildcard, name: name})
			continue
		}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1 {
			name := s[1 : len(s)-1]
			if err := addName(name); err != nil {
				return nil, nil, err
			}
			segs = append(segs, tmplSeg{kind: segParam, name: name})
			continue
		}
		seg, err := parsePattern(s, addName)
		if err != nil {
			return nil, nil, err
		}
		segs = append(segs, seg)
	}
	var query []tmplQuery
	if q != "" {
		for _, pair := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(pair, "=")
			if k == "" {
				return nil, nil, fmt.Errorf("query part %q has an empty name", pair)
			}
			tq := tmplQuery{name: k}
			if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
				tq.param = v[1 : len(v)-1]
				if err := addName(tq.param); err != nil {
					return nil, nil, err
				}
			} else if strings.ContainsAny(v, "{}") {
				return nil, nil, fmt.Errorf("query value %q: a parameter must be the whole value", v)
			} else {
				tq.lit = v
			}
			query = append(query, tq)
		}
	}
	return segs, query, nil
}

// parsePattern compiles a segment mixing literal text and {params}, such as
// "{name}.{ext}" or "v{version}".
func parsePattern(s string, addName func(string) error) (tmplSeg, error) {
	seg := tmplSeg{kind: segPattern}
	var b strings.Builder
	b.WriteString("(?i)^")
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.Contains(rest, "}") {
				return seg, fmt.Errorf("segment %q has an unmatched '}'", s)
			}
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		if strings.Contains(rest[:open], "}") {
			return seg, fmt.Errorf("segment %q has an unmatched '}'", s)
		}
		b.WriteString(regexp.QuoteMeta(rest[:open]))
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return seg, fmt.Errorf("segment %q has an unmatched '{'", s)
		}
		name := rest[open+1 : open+end]
		if strings.HasPrefix(name, "*") {
			return seg, fmt.Errorf("the wildcard {%s} must be a whole segment", name)
		}
		if err := addName(name); err != nil {
			return seg, err
		}
		seg.params = append(seg.params, name)
		b.WriteString("(.+?)")
		rest = rest[open+end+1:]
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return seg, fmt.Errorf("segment %q: %v", s, err)
	}
	seg.re = re
	return seg, nil
}

// rankOf orders templates: earlier, more literal segments win; then more
// segments; then more query conditions; then an exact method over "*".
func rankOf(segs []tmplSeg, query []tmplQuery, method string) []byte {
	r := make([]byte, 0, len(segs)+3)
	for _, s := range segs {
		r = append(r, byte(s.kind)+1)
	}
	r = append(r, 0, byte(min(len(query), 250)))
	if method != "*" {
		r = append(r, 1)
	} else {
		r = append(r, 0)
	}
	return r
}

// templateKey is the template with parameter names erased, for detecting
// two operations that would match the same requests.
func templateKey(method string, segs []tmplSeg, query []tmplQuery) string {
	var b strings.Builder
	b.WriteString(method)
	for _, s := range segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(strings.ToLower(s.lit))
		case segParam:
			b.WriteString("{}")
		case segWildcard:
			b.WriteString("{*}")
		case segPattern:
			b.WriteString(strings.ToLower(s.re.String()))
		}
	}
	for _, q := range query {
		b.WriteString("?" + strings.ToLower(q.name) + "=" + q.lit)
	}
	return b.String()
}

// match reports whether the operation matches method and the request path
// segments after the API path (escaped, dot segments resolved; at least one
// element) and query, filling params (decoded) and, when not nil, escaped
// (the path parameters as sent, for rewrite-uri).
func (o *opRoute) match(method string, segs []string, query url.Values, params, escaped map[string]string) bool {
	if o.method != "*" && o.method != method {
		return false
	}
	for i, ts := range o.segs {
		if ts.kind == segWildcard {
			rest := strings.Join(segs[i:], "/")
			v, err := url.PathUnescape(rest)
			if err != nil {
				v = rest
			}
			params[ts.name] = v
			if escaped != nil {
				escaped[ts.name] = rest
			}
			return o.matchQuery(query, params)
		}
		if i >= len(segs) {
			return false
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return false
		}
		switch ts.kind {
		case segLiteral:
			if !strings.EqualFold(ts.lit, v) {
				return false
			}
		case segParam:
			if v == "" {
				return false
			}
			params[ts.name] = v
			if escaped != nil {
				escaped[ts.name] = segs[i]
			}
		case segPattern:
			m := ts.re.FindStringSubmatch(v)
			if m == nil {
				return false
			}
			for j, name := range ts.params {
				params[name] = m[j+1]
			}
		}
	}
	if len(segs) != len(o.segs) {
		return false
	}
	return o.matchQuery(query, params)
}

func (o *opRoute) matchQuery(query url.Values, params map[string]string) bool {
	for _, q := range o.query {
		vals, ok := query[q.name]
		if !ok {
			return false
		}
		if q.param == "" {
			if q.lit != "" && (len(vals) == 0 || vals[0] != q.lit) {
				return false
			}
			continue
		}
		params[q.param] = strings.Join(vals, ",")
	}
	return true
}

// findAPI returns the API whose path is the longest prefix (whole
// segments, case-insensitive) of the request path segments (escaped, dot
// segments resolved: see apim.ResolvePath), and the segments after it
// (empty when the path is exactly the API path).
func (st *state) findAPI(segs []string, r *http.Request) (*apiRoute, []string) {
	if len(segs) == 0 {
		return matchAPI(st.byFirst[""], nil, segs, r)
	}
	first, err := url.PathUnescape(segs[0])
	if err != nil {
		first = segs[0]
	}
	// The APIs whose path starts with this segment (longest first), then
	// those at the root.
	if a, rest := matchAPI(st.byFirst[strings.ToLower(first)], []string{first}, segs, r); a != nil {
		return a, rest
	}
	return matchAPI(st.byFirst[""], nil, segs, r)
}

// matchAPI is the first of apis (longest path first) whose path segments
// start segs, compared case-insensitively on the decoded segments, and
// whose version r asks for; decoded holds the segments already decoded.
func matchAPI(apis []*apiRoute, decoded, segs []string, r *http.Request) (*apiRoute, []string) {
	var query url.Values
	for _, a := range apis {
		if len(a.segs) > len(segs) {
			continue
		}
		for len(decoded) < len(a.segs) {
			v, err := url.PathUnescape(segs[len(decoded)])
			if err != nil {
				v = segs[len(decoded)]
			}
			decoded = append(decoded, v)
		}
		ok := true
		for i, s := range a.segs {
			if !strings.EqualFold(s, decoded[i]) {
				ok = false
				break
			}
		}
		if ok && a.versionMatches(r, &query) {
			return a, segs[len(a.segs):]
		}
	}
	return nil, nil
}

// findOperation returns the most specific operation of a matching method,
// rest and query, with its parameters; nil when none matches.
func (a *apiRoute) findOperation(method string, rest []string, query url.Values) (*opRoute, map[string]string, map[string]string) {
	if len(rest) == 0 {
		rest = []string{""} // the API root matches the template "/"
	}
	var best *opRoute
	var bestParams map[string]string
	for _, o := range a.ops {
		params := map[string]string{}
		if !o.match(method, rest, query, params, nil) {
			continue
		}
		if best == nil || string(o.rank) > string(best.rank) {
			best, bestParams = o, params
		}
	}
	var escaped map[string]string
	if best != nil && len(bestParams) > 0 {
		// Only the winner's escaped parameters are needed.
		escaped = map[string]string{}
		best.match(method, rest, query, map[string]string{}, escaped)
	}
	return best, bestParams, escaped
}

// backendPath is the escaped backend path: the service URL's escaped path
// and the request path segments after the API path. The segments come from
// apim.ResolvePath (no dot segment, none hidden behind an encoded slash,
// %2F kept encoded), so the result stays under the service URL path.
func backendPath(serviceEscaped string, rest []string) string {
	return apim.JoinSegments(serviceEscaped, rest)
}
