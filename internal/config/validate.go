package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// validate checks what the types cannot: required keys, references between
// sections, well-formed URLs and addresses.
func validate(c *Config) Errors {
	v := &validator{}
	if c.Identity == nil && c.Gateway == nil && c.Guard == nil && c.Site == nil {
		v.add(Pos{c.File, 1, 1}, "the config has none of the sections identity, gateway, guard, site: nothing to run")
	}
	if g := c.Gateway; g != nil {
		v.gateway(g)
	}
	if g := c.Guard; g != nil {
		v.listen(g.Pos, "guard", g.Listen)
		if g.Upstream == "" {
			v.add(g.Pos, "guard.upstream is required: the URL of the protected backend")
		} else {
			v.url(g.Pos, "guard.upstream", g.Upstream)
		}
		for _, r := range g.AccessRestrictions {
			if r.Action != "allow" && r.Action != "deny" {
				v.add(r.Pos, "guard.accessRestrictions: action must be allow or deny, got %q", r.Action)
			}
			if _, err := parsePrefix(r.IPAddress); err != nil {
				v.add(r.Pos, "guard.accessRestrictions: ipAddress %q is not an IP address or CIDR range", r.IPAddress)
			}
		}
		v.prefixes(g.Pos, "guard.trustedProxies", g.TrustedProxies)
	}
	if s := c.Site; s != nil {
		v.listen(s.Pos, "site", s.Listen)
		if !s.Root.IsSet() {
			v.add(s.Pos, "site.root is required: the folder of the static website")
		}
	}
	if id := c.Identity; id != nil {
		v.listen(id.Pos, "identity", id.Listen)
		v.identityLimits(id)
		v.email(id.Email)
		v.prefixes(id.Pos, "identity.trustedProxies", id.TrustedProxies)
		if th := id.Throttle; th != nil && th.AuthorizePerIP != nil {
			// The same rules as the other identity.throttle limits.
			l := th.AuthorizePerIP
			p := orPos(l.Pos, th.Pos)
			if l.Limit < 1 || l.Limit > 1_000_000 {
				v.add(p, "identity.throttle.authorizePerIp.limit must be between 1 and 1000000, got %d", l.Limit)
			}
			if !l.Window.IsSet() {
				v.add(p, "identity.throttle.authorizePerIp.window is required (for example 5m)")
			} else if l.Window.D < time.Second || l.Window.D > 24*time.Hour {
				v.add(orPos(l.Window.Pos, p), "identity.throttle.authorizePerIp.window must be between 1s and 24h, got %v", l.Window.D)
			}
		}
	}
	if a := c.Admin; a != nil {
		v.listen(a.Pos, "admin", a.Listen)
	}
	if t := c.Tracing; t != nil {
		v.tracing(t)
	}
	if t := c.Timeouts; t != nil && t.BodyMinRate != nil && *t.BodyMinRate < 0 {
		v.add(t.Pos, "timeouts.bodyMinRate must be bytes per second (0 = off), got %d", *t.BodyMinRate)
	}
	for _, tl := range []*TLS{tlsOf(c.Identity), tlsOf(c.Gateway), tlsOf(c.Guard), tlsOf(c.Site)} {
		if tl != nil && tl.HSTS != "" && tl.HSTS != "off" && !hstsRe.MatchString(tl.HSTS) {
			v.add(tl.Pos, "tls.hsts %q is not a Strict-Transport-Security value (for example max-age=31536000; includeSubDomains) or off", tl.HSTS)
		}
	}
	return v.errs
}

var hstsRe = regexp.MustCompile(`^max-age=[0-9]+(\s*;\s*(includeSubDomains|preload))*$`)

func tlsOf(section any) *TLS {
	switch s := section.(type) {
	case *Identity:
		if s != nil {
			return s.TLS
		}
	case *Gateway:
		if s != nil {
			return s.TLS
		}
	case *Guard:
		if s != nil {
			return s.TLS
		}
	case *Site:
		if s != nil {
			return s.TLS
		}
	}
	return nil
}

type validator struct{ errs Errors }

func (v *validator) add(p Pos, format string, args ...any) {
	v.errs = append(v.errs, &Error{p, fmt.Sprintf(format, args...)})
}

func (v *validator) listen(p Pos, section, addr string) {
	if addr == "" {
		v.add(p, "%s.listen is required (host:port, for example 127.0.0.1:8081)", section)
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		v.add(p, "%s.listen %q is not host:port", section, addr)
	}
}

func (v *validator) url(p Pos, key, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(p, "%s %q is not an absolute http(s) URL", key, s)
	}
}

func (v *validator) prefixes(p Pos, key string, list []string) {
	for _, s := range list {
		if _, err := parsePrefix(s); err != nil {
			v.add(p, "%s: %q is not an IP address or CIDR range", key, s)
		}
	}
}

// parsePrefix accepts an address or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var (
	apiPathRe   = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`)
	httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "TRACE": true, "*": true}
)

// Defaults of gateway.limits (the gateway package has the same).
const (
	defaultMaxRequestBodyBytes  = 16 << 20
	defaultMaxBufferedBodyBytes = 256 << 20
)

func (v *validator) gatewayLimits(l *GatewayLimits) {
	if l.MaxRequestBodyBytes < 0 {
		v.add(l.Pos, "gateway.limits.maxRequestBodyBytes must be a number of bytes (0 = the default, 16 MiB), got %d", l.MaxRequestBodyBytes)
	}
	if l.MaxBufferedBodyBytes < 0 {
		v.add(l.Pos, "gateway.limits.maxBufferedBodyBytes must be a number of bytes (0 = the default, 256 MiB), got %d", l.MaxBufferedBodyBytes)
	}
	if d := l.TunnelIdleTimeout; d.IsSet() && (d.D < time.Second || d.D > 24*time.Hour) {
		v.add(d.Pos, "gateway.limits.tunnelIdleTimeout must be between 1s and 24h")
	}
	req, buf := l.MaxRequestBodyBytes, l.MaxBufferedBodyBytes
	if req <= 0 {
		req = defaultMaxRequestBodyBytes
	}
	if buf <= 0 {
		buf = defaultMaxBufferedBodyBytes
	}
	if buf < req {
		v.add(l.Pos, "gateway.limits.maxBufferedBodyBytes (%d) is smaller than maxRequestBodyBytes (%d): a body the gateway accepts could never be read by a policy", buf, req)
	}
}

// backend checks gateway.backends.name: a URL or a pool of backends that
// have URLs, and its circuit breaker.
func (v *validator) backend(g *Gateway, name string, b Backend) {
	p := b.Pos
	if p.Line == 0 {
		p = g.Pos
	}
	key := "gateway.backends." + name
	switch {
	case len(b.Pool) == 0:
		v.url(p, key+".url", b.URL)
	case b.URL != "":
		v.add(p, "%s: give url or pool, not both", key)
	}
	for _, m := range b.Pool {
		other, ok := g.Backends[m.ID]
		switch {
		case !ok:
			v.add(p, "%s.pool: %q is not a backend", key, m.ID)
		case len(other.Pool) > 0:
			v.add(p, "%s.pool: %q is a pool itself", key, m.ID)
		case m.Weight < 0 || m.Priority < 0:
			v.add(p, "%s.pool: priority and weight must not be negative", key)
		}
	}
	if cb := b.CircuitBreaker; cb != nil {
		if cb.Failures < 1 || !cb.Interval.IsSet() || cb.Interval.D <= 0 || !cb.TripDuration.IsSet() || cb.TripDuration.D <= 0 {
			v.add(p, "%s.circuitBreaker needs failures (at least 1), interval and tripDuration", key)
		}
		for _, r := range cb.StatusCodes {
			if _, _, ok := ParseStatusRange(r); !ok {
				v.add(p, "%s.circuitBreaker.statusCodes: %q is not a status or a range such as 500-599", key, r)
			}
		}
	}
}

// ParseStatusRange reads "500-599" or "429".
func ParseStatusRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	return lo, hi, err1 == nil && err2 == nil && lo >= 100 && hi <= 599 && lo <= hi
}

func (v *validator) gateway(g *Gateway) {
	v.listen(g.Pos, "gateway", g.Listen)
	switch g.RedisFailureMode {
	case "", "open", "closed":
	default:
		v.add(g.Pos, "gateway.redisFailureMode must be open or closed, got %q", g.RedisFailureMode)
	}
	if g.Redis != "" {
		if u, err := url.Parse(g.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			// The URL itself is not repeated: it may hold a password.
			v.add(g.Pos, "gateway.redis is not a redis:// or rediss:// URL")
		}
	}
	v.prefixes(g.Pos, "gateway.trustedProxies", g.TrustedProxies)
	if l := g.Limits; l != nil {
		v.gatewayLimits(l)
	}
	for name, val := range g.NamedValues {
		if name == "" || strings.ContainsAny(name, "{} ") {
			p := val.Pos
			if p.Line == 0 {
				p = g.Pos
			}
			v.add(p, "gateway.namedValues: %q is not a valid named value name", name)
		}
	}
	if g.EntraAuthority != "" {
		v.url(g.Pos, "gateway.entraAuthority", g.EntraAuthority)
	}
	for name, b := range g.Backends {
		v.backend(g, name, b)
	}
	if mi := g.ManagedIdentity; mi != nil {
		for _, id := range append([]ManagedIdentity{*mi}, mi.Identities...) {
			v.url(id.Pos, "gateway.managedIdentity.tokenEndpoint", id.TokenEndpoint)
			if id.ClientID == "" || !id.ClientSecret.IsSet() {
				v.add(id.Pos, "gateway.managedIdentity: clientId and clientSecret are required")
			}
		}
	}
	certs := map[string]bool{}
	for _, c := range g.Certificates {
		if c.ID == "" {
			v.add(c.Pos, "gateway.certificates: id is required")
		}
		if certs[c.ID] {
			v.add(c.Pos, "gateway.certificates: duplicate id %q", c.ID)
		}
		certs[c.ID] = true
		if c.PFX.IsSet() == (c.Certificate.IsSet() || c.Key.IsSet()) {
			v.add(c.Pos, "gateway.certificates %q: give either pfx (with password) or certificate and key", c.ID)
		}
	}
	apis := map[string]*API{}
	paths := map[string]string{}
	versioned := map[string]struct {
		name      string
		versioned bool
	}{}
	for i := range g.Apis {
		a := &g.Apis[i]
		switch {
		case a.Name == "":
			v.add(a.Pos, "gateway.apis[%d]: name is required", i)
		case apis[a.Name] != nil:
			v.add(a.Pos, "gateway.apis: duplicate API name %q", a.Name)
		}
		apis[a.Name] = a
		p := strings.Trim(a.Path, "/")
		if !apiPathRe.MatchString(p) {
			v.add(a.Pos, "gateway.apis %q: path %q has characters not allowed in a URL path", a.Name, a.Path)
		}
		if ver := a.Version; ver != nil && (ver.Header == "") == (ver.Query == "") {
			v.add(a.Pos, "gateway.apis %q: version needs exactly one of header and query", a.Name)
		}
		key := strings.ToLower(p) + "\x00" + a.Version.Key()
		if other, dup := paths[key]; dup {
			v.add(a.Pos, "gateway.apis %q: path %q is already used by API %q", a.Name, a.Path, other)
		}
		paths[key] = a.Name
		if other, ok := versioned[strings.ToLower(p)]; ok && (other.versioned != (a.Version != nil)) {
			v.add(a.Pos, "gateway.apis %q: path %q is shared with API %q: APIs sharing a path all need a version", a.Name, a.Path, other.name)
		}
		versioned[strings.ToLower(p)] = struct {
			name      string
			versioned bool
		}{a.Name, a.Version != nil}
		if a.ServiceURL == "" {
			v.add(a.Pos, "gateway.apis %q: serviceUrl is required (the backend base URL)", a.Name)
		} else {
			// h2c:// and h2:// are HTTP/2 backends (gRPC): cleartext with
			// prior knowledge, and over TLS.
			if u, err := url.Parse(a.ServiceURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "h2c" && u.Scheme != "h2") {
				v.add(a.Pos, "gateway.apis %q: serviceUrl %q is not an absolute http(s), h2c or h2 URL", a.Name, a.ServiceURL)
			}
		}
		ops := map[string]bool{}
		for _, o := range a.Operations {
			if o.Name == "" {
				v.add(o.Pos, "gateway.apis %q: every operation needs a name", a.Name)
			}
			if ops[o.Name] {
				v.add(o.Pos, "gateway.apis %q: duplicate operation name %q", a.Name, o.Name)
			}
			ops[o.Name] = true
			if !httpMethods[strings.ToUpper(o.Method)] {
				v.add(o.Pos, "operation %q: method %q is not an HTTP method", o.Name, o.Method)
			}
			if !strings.HasPrefix(o.URLTemplate, "/") {
				v.add(o.Pos, "operation %q: urlTemplate must start with '/', got %q", o.Name, o.URLTemplate)
			}
		}
	}
	products := map[string]bool{}
	keys := map[string]string{}
	for _, p := range g.Products {
		if p.Name == "" {
			v.add(p.Pos, "gateway.products: name is required")
		}
		if products[p.Name] {
			v.add(p.Pos, "gateway.products: duplicate product name %q", p.Name)
		}
		products[p.Name] = true
		for _, a := range p.Apis {
			if apis[a] == nil {
				v.add(p.Pos, "product %q lists API %q, which is not defined under gateway.apis", p.Name, a)
			}
		}
		for _, s := range p.Subscriptions {
			if s.Name == "" {
				v.add(s.Pos, "product %q: every subscription needs a name", p.Name)
			}
			if !s.PrimaryKey.IsSet() {
				v.add(s.Pos, "subscription %q: primaryKey is required", s.Name)
			}
			for _, k := range []Secret{s.PrimaryKey, s.SecondaryKey} {
				if !k.IsSet() {
					continue
				}
				if len(k.Value) < 16 {
					v.add(k.Pos, "subscription %q: keys must be at least 16 characters (APIM's are 32)", s.Name)
				}
				if other, dup := keys[k.Value]; dup {
					v.add(k.Pos, "subscription %q: this key is already used by subscription %q", s.Name, other)
				}
				keys[k.Value] = s.Name
			}
		}
	}
}

// identityLimits checks identity.lockout and identity.throttle.
func (v *validator) identityLimits(id *Identity) {
	if l := id.Lockout; l != nil {
		if l.Threshold < 0 || l.Threshold > 1000 {
			v.add(l.Pos, "identity.lockout.threshold must be between 1 and 1000, got %d", l.Threshold)
		}
		if l.Duration.IsSet() && (l.Duration.D < time.Second || l.Duration.D > 5*time.Hour) {
			v.add(orPos(l.Duration.Pos, l.Pos), "identity.lockout.duration must be between 1s and 5h, got %v", l.Duration.D)
		}
		if l.FamiliarDevices.IsSet() && (l.FamiliarDevices.D < time.Hour || l.FamiliarDevices.D > 400*24*time.Hour) {
			v.add(orPos(l.FamiliarDevices.Pos, l.Pos), "identity.lockout.familiarDevices must be between 1h and 400d (a cookie's longest life), got %v", l.FamiliarDevices.D)
		}
	}
	t := id.Throttle
	if t == nil {
		return
	}
	for _, e := range []struct {
		key string
		l   *Limit
	}{
		{"signInFailuresPerIp", t.SignInFailuresPerIP},
		{"codesPerEmail", t.CodesPerEmail},
		{"codesPerIp", t.CodesPerIP},
		{"codeGuessesPerEmail", t.CodeGuessesPerEmail},
		{"codeGuessesPerIp", t.CodeGuessesPerIP},
		{"clientSecretFailuresPerClient", t.ClientSecretFailuresPerClient},
		{"clientSecretFailuresPerIp", t.ClientSecretFailuresPerIP},
	} {
		if e.l == nil {
			continue
		}
		p := orPos(e.l.Pos, t.Pos)
		if e.l.Limit < 1 || e.l.Limit > 1_000_000 {
			v.add(p, "identity.throttle.%s.limit must be between 1 and 1000000, got %d", e.key, e.l.Limit)
		}
		if !e.l.Window.IsSet() {
			v.add(p, "identity.throttle.%s.window is required (for example 5m)", e.key)
		} else if e.l.Window.D < time.Second || e.l.Window.D > 24*time.Hour {
			v.add(orPos(e.l.Window.Pos, p), "identity.throttle.%s.window must be between 1s and 24h, got %v", e.key, e.l.Window.D)
		}
	}
}

func orPos(p, def Pos) Pos {
	if p.Line == 0 {
		return def
	}
	return p
}

// tracing checks the tracing: section: an http(s) collector URL, a ratio
// between 0 and 1, header names that are HTTP tokens.
func (v *validator) tracing(t *Tracing) {
	if t.OTLPEndpoint == "" {
		v.add(t.Pos, "tracing.otlpEndpoint is required: the OTLP/HTTP collector's URL (for example http://127.0.0.1:4318)")
	} else if u, err := url.Parse(t.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		v.add(t.Pos, "tracing.otlpEndpoint %q is not an http(s) URL (for example http://127.0.0.1:4318)", t.OTLPEndpoint)
	}
	if r := t.SampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		v.add(t.Pos, "tracing.sampleRatio must be between 0 and 1, got %v", *r)
	}
	for name, s := range t.Headers {
		if name == "" || strings.IndexFunc(name, func(r rune) bool {
			return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r)
		}) >= 0 {
			v.add(orPos(s.Pos, t.Pos), "tracing.headers: %q is not a header name", name)
		}
	}
}
