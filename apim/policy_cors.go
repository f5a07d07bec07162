package apim

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// cors: <cors allow-credentials terminate-unmatched-request> with
// allowed-origins/origin, allowed-methods/method, allowed-headers/header and
// expose-headers/header. All values are constants, compiled into sets.
//
// Decisions where APIM's documentation is ambiguous:
//   - terminate-unmatched-request defaults to true (the troubleshooting text
//     and current reference table; an older table said false).
//   - An actual (non-preflight) request is matched on its Origin only.
//   - expose-headers "*" with allow-credentials="true": browsers treat "*"
//     literally when credentials are allowed, so the names of the response's
//     headers are listed instead.
//   - A trailing "/" on an origin is accepted and ignored (Azure's
//     PrimaryStorageEndpoint, pasted as the origin in the B2C SPA tutorial,
//     ends with one).

func init() {
	Register(Spec{
		Name:     "cors",
		Sections: []Section{Inbound},
		Compile:  compileCORS,
	})
}

type corsPolicy struct {
	credentials bool
	terminate   bool
	anyOrigin   bool
	origins     map[string]struct{} // normalised scheme://host[:port]
	anyMethod   bool
	methods     map[string]struct{}
	methodList  string // Access-Control-Allow-Methods
	maxAge      string // "" = not sent
	anyHeader   bool
	headers     map[string]struct{} // lower case
	anyExpose   bool
	expose      string // Access-Control-Expose-Headers (listed names)
}

func compileCORS(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "allow-credentials", "terminate-unmatched-request"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "allowed-origins", "allowed-methods", "allowed-headers", "expose-headers"); err != nil {
		return nil, err
	}
	p := &corsPolicy{
		origins:    map[string]struct{}{},
		methods:    map[string]struct{}{"GET": {}, "POST": {}},
		methodList: "GET, POST",
		headers:    map[string]struct{}{},
	}
	var err error
	if p.credentials, err = acConstBool(b, n, "cors", "allow-credentials", false); err != nil {
		return nil, err
	}
	if p.terminate, err = acConstBool(b, n, "cors", "terminate-unmatched-request", true); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range n.Children {
		if seen[c.Name] {
			return nil, b.Errorf(c.Pos, "cors: %s may appear only once", c.Name)
		}
		seen[c.Name] = true
		switch c.Name {
		case "allowed-origins":
			if err := p.compileOrigins(b, c); err != nil {
				return nil, err
			}
		case "allowed-methods":
			if err := p.compileMethods(b, c); err != nil {
				return nil, err
			}
		case "allowed-headers":
			list, star, err := corsList(b, c, "header")
			if err != nil {
				return nil, err
			}
			p.anyHeader = star
			for _, h := range list {
				p.headers[strings.ToLower(h)] = struct{}{}
			}
		case "expose-headers":
			list, star, err := corsList(b, c, "header")
			if err != nil {
				return nil, err
			}
			p.anyExpose = star
			p.expose = strings.Join(list, ", ")
		}
	}
	if !seen["allowed-origins"] {
		return nil, b.Errorf(n.Pos, "cors: allowed-origins is required")
	}
	return p, nil
}

func (p *corsPolicy) compileOrigins(b *Builder, c *rawxml.Node) error {
	list, star, err := corsList(b, c, "origin")
	if err != nil {
		return err
	}
	if len(list) == 0 && !star {
		return b.Errorf(c.Pos, "cors: allowed-origins needs at least one origin")
	}
	p.anyOrigin = star
	for i, o := range list {
		if acUnresolved(o) {
			continue
		}
		norm, ok := corsNormalizeOrigin(o)
		if !ok {
			return b.Errorf(c.Children[corsIndex(c, "origin", o, i)].Pos,
				"cors: origin %q: Origin must be a valid URL consisting of scheme, host, and port only", o)
		}
		p.origins[norm] = struct{}{}
	}
	return nil
}

// corsIndex finds the child holding text o (for error positions).
func corsIndex(c *rawxml.Node, name, o string, def int) int {
	for i, ch := range c.Children {
		if ch.Name == name && strings.TrimSpace(ch.Text) == o {
			return i
		}
	}
	if def < len(c.Children) {
		return def
	}
	return 0
}

func (p *corsPolicy) compileMethods(b *Builder, c *rawxml.Node) error {
	if err := b.Attrs(c, "preflight-result-max-age"); err != nil {
		return err
	}
	age, err := acConstInt(b, c, "cors", "preflight-result-max-age", false, 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	if age > 0 {
		p.maxAge = strconv.FormatInt(age, 10)
	}
	list, star, err := corsList(b, c, "method")
	if err != nil {
		return err
	}
	if len(list) == 0 && !star {
		return b.Errorf(c.Pos, "cors: allowed-methods needs at least one method")
	}
	p.anyMethod = star
	p.methods = map[string]struct{}{}
	for i, m := range list {
		m = strings.ToUpper(m)
		list[i] = m
		p.methods[m] = struct{}{}
	}
	p.methodList = strings.Join(list, ", ")
	return nil
}

// corsList reads the constant text of the children named child of c;
// star reports a "*" entry (which is not in list).
func corsList(b *Builder, c *rawxml.Node, child string) (list []string, star bool, err error) {
	if c.Name != "allowed-methods" {
		if err := b.Attrs(c); err != nil {
			return nil, false, err
		}
	}
	if err := b.Children(c, child); err != nil {
		return nil, false, err
	}
	for _, ch := range c.Children {
		v, err := b.leafText(ch)
		if err != nil {
			return nil, false, err
		}
		if v.IsExpr() {
			return nil, false, b.Errorf(ch.Pos, "cors: %s does not accept policy expressions", child)
		}
		s := strings.TrimSpace(v.Lit)
		switch s {
		case "":
			return nil, false, b.Errorf(ch.Pos, "cors: empty %s", child)
		case "*":
			star = true
		default:
			list = append(list, s)
		}
	}
	return list, star, nil
}

// acConstBool reads a constant boolean attribute.
func acConstBool(b *Builder, n *rawxml.Node, policy, attr string, def bool) (bool, error) {
	v, err := b.ConstAttr(n, attr)
	if err != nil {
		return false, err
	}
	if !v.Set {
		return def, nil
	}
	r, ok := acParseBool(v.Lit)
	if !ok {
		return false, b.Errorf(v.Pos, "%s: %s must be true or false, not %q", policy, attr, v.Lit)
	}
	return r, nil
}

// corsNormalizeOrigin returns scheme://host[:port] in lower case with the default
// port of the scheme dropped; ok is false when s is not such an origin.
func corsNormalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.ContainsAny(host, "*%") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port != "" {
		pn, err := strconv.Atoi(port)
		if err != nil || pn <= 0 || pn > 65535 {
			return "", false
		}
		if (scheme == "http" && pn == 80) || (scheme == "https" && pn == 443) {
			port = ""
		} else {
			port = strconv.Itoa(pn)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

func (p *corsPolicy) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	if p.anyOrigin {
		return true
	}
	if _, ok := p.origins[origin]; ok { // fast path: already canonical
		return true
	}
	norm, ok := corsNormalizeOrigin(origin)
	if !ok {
		return false
	}
	_, ok = p.origins[norm]
	return ok
}

func (p *corsPolicy) methodAllowed(m string) bool {
	if p.anyMethod {
		return true
	}
	_, ok := p.methods[strings.ToUpper(strings.TrimSpace(m))]
	return ok
}

// headersAllowed checks an Access-Control-Request-Headers list.
func (p *corsPolicy) headersAllowed(list string) bool {
	if p.anyHeader {
		return true
	}
	for _, h := range strings.Split(list, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if _, ok := p.headers[h]; !ok {
			return false
		}
	}
	return true
}

// allowOrigin is the Access-Control-Allow-Origin value for origin.
func (p *corsPolicy) allowOrigin(origin string) string {
	if p.anyOrigin && !p.credentials {
		return "*"
	}
	return origin
}

func corsRequestHeader(x *Exec, name string) string {
	if x.Ctx != nil && x.Ctx.Request != nil && x.Ctx.Request.Headers != nil {
		return x.Ctx.Request.Headers.Get(name)
	}
	if x.HTTPRequest != nil {
		return x.HTTPRequest.Header.Get(name)
	}
	return ""
}

// Preflight answers an OPTIONS preflight.
func (p *corsPolicy) Preflight(x *Exec) (bool, error) {
	origin := corsRequestHeader(x, "Origin")
	method := corsRequestHeader(x, "Access-Control-Request-Method")
	reqHeaders := corsRequestHeader(x, "Access-Control-Request-Headers")
	if !p.originAllowed(origin) || !p.methodAllowed(method) || !p.headersAllowed(reqHeaders) {
		if !p.terminate {
			return false, nil
		}
		acEmptyResponse(x, nil)
		return true, nil
	}
	h := http.Header{}
	ao := p.allowOrigin(origin)
	h.Set("Access-Control-Allow-Origin", ao)
	if ao != "*" {
		h.Set("Vary", "Origin")
	}
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if p.anyMethod {
		h.Set("Access-Control-Allow-Methods", strings.ToUpper(strings.TrimSpace(method)))
	} else {
		h.Set("Access-Control-Allow-Methods", p.methodList)
	}
	if strings.TrimSpace(reqHeaders) != "" {
		h.Set("Access-Control-Allow-Headers", reqHeaders)
	}
	if p.maxAge != "" {
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
	acEmptyResponse(x, h)
	return true, nil
}

// Exec handles the actual cross-origin request: an allowed origin gets the
// CORS response headers on the response the caller receives; an unmatched
// one ends with an empty 200 (terminate-unmatched-request) or passes through
// without CORS headers.
func (p *corsPolicy) Exec(x *Exec) error {
	origin := corsRequestHeader(x, "Origin")
	if origin == "" {
		return nil // not a cross-origin request
	}
	if !p.originAllowed(origin) {
		if !p.terminate {
			return nil
		}
		acEmptyResponse(x, nil)
		return ErrReturn
	}
	// At write time, so headers added by outbound are in the
	// expose-headers list.
	x.BeforeWrite(func(x *Exec) { p.decorate(x, origin) })
	return nil
}

// decorate adds the CORS headers to the response.
func (p *corsPolicy) decorate(x *Exec, origin string) {
	r := x.Ctx.Response
	if r == nil {
		return
	}
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	// The exposed names are the response's own headers: listed before the
	// CORS headers are added.
	switch {
	case p.anyExpose && !p.credentials:
		r.Headers.Set("Access-Control-Expose-Headers", "*")
	case p.anyExpose:
		names := make([]string, 0, len(r.Headers))
		for k := range r.Headers {
			if !strings.HasPrefix(strings.ToLower(k), "access-control-") && !strings.EqualFold(k, "Vary") {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		if len(names) > 0 {
			r.Headers.Set("Access-Control-Expose-Headers", strings.Join(names, ", "))
		}
	case p.expose != "":
		r.Headers.Set("Access-Control-Expose-Headers", p.expose)
	}
	ao := p.allowOrigin(origin)
	r.Headers.Set("Access-Control-Allow-Origin", ao)
	if ao != "*" {
		corsAddVary(r.Headers, "Origin")
	}
	if p.credentials {
		r.Headers.Set("Access-Control-Allow-Credentials", "true")
	}
}

func corsAddVary(h http.Header, v string) {
	for _, e := range h.Values("Vary") {
		for _, f := range strings.Split(e, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, v) {
				return
			}
		}
	}
	h.Add("Vary", v)
}
