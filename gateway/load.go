package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/internal/config"
)

// loader collects every problem of a configuration and its files.
type loader struct {
	cfg  *config.Gateway
	opts *apim.LoadOptions
	errs config.Errors
}

func (l *loader) errorf(p config.Pos, format string, args ...any) {
	l.errs = append(l.errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// addErr records a policy load error: apim.Problems become one entry each.
func (l *loader) addErr(file string, err error) {
	var ps apim.Problems
	var p apim.Problem
	var pp *apim.Problem
	var ces config.Errors
	var ce *config.Error
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			l.errs = append(l.errs, problemError(p))
		}
	case errors.As(err, &p):
		l.errs = append(l.errs, problemError(p))
	case errors.As(err, &pp):
		l.errs = append(l.errs, problemError(*pp))
	case errors.As(err, &ces):
		l.errs = append(l.errs, ces...)
	case errors.As(err, &ce):
		l.errs = append(l.errs, ce)
	default:
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, file+":"); ok {
			msg = strings.TrimSpace(rest)
		}
		l.errs = append(l.errs, &config.Error{Pos: config.Pos{File: file, Line: 1, Col: 1}, Msg: msg})
	}
}

func problemError(p apim.Problem) *config.Error {
	return &config.Error{Pos: config.Pos{File: p.File, Line: p.Pos.Line, Col: p.Pos.Col}, Msg: p.Msg}
}

// read returns the content of a policy file; a read error is recorded at
// the config key naming the file.
func (l *loader) read(p config.Path, what string) ([]byte, bool) {
	b, err := os.ReadFile(p.Abs)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		l.errorf(p.Pos, "cannot read the %s policy file %s: %v", what, p.Raw, err)
		return nil, false
	}
	return b, true
}

// document parses the policy file p at scope, with spec the OpenAPI
// specification of its API (nil: none) for the validation policies; nil
// when p is not set or has problems (recorded).
func (l *loader) document(p config.Path, scope apim.Scope, what string, spec *apim.OpenAPISpec) *apim.Document {
	if !p.IsSet() {
		return nil
	}
	src, ok := l.read(p, what)
	if !ok {
		return nil
	}
	opts := l.opts
	if spec != nil {
		o := *l.opts
		o.Spec = spec
		opts = &o
	}
	doc, err := apim.ParseDocument(p.Abs, src, scope, opts)
	if err != nil {
		l.addErr(p.Abs, err)
		return nil
	}
	return doc
}

// fragments parses every fragment. A fragment may include another one, so
// parsing repeats while it makes progress; the last round reports what is
// still failing.
func (l *loader) fragments() map[string]*apim.Document {
	done := map[string]*apim.Document{}
	l.opts.Fragments = done
	srcs := map[string][]byte{}
	var ids []string
	for id, p := range l.cfg.Fragments {
		if b, ok := l.read(p, "fragment "+id); ok {
			srcs[id] = b
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for len(ids) > 0 {
		var left []string
		for _, id := range ids {
			p := l.cfg.Fragments[id]
			doc, err := apim.ParseFragment(p.Abs, srcs[id], l.opts)
			if err != nil {
				left = append(left, id)
				continue
			}
			done[id] = doc
		}
		if len(left) == len(ids) {
			for _, id := range left {
				p := l.cfg.Fragments[id]
				if _, err := apim.ParseFragment(p.Abs, srcs[id], l.opts); err != nil {
					l.addErr(p.Abs, err)
				}
			}
			break
		}
		ids = left
	}
	return done
}

// build loads cfg into a new state. old (nil at start) lends its stores
// when the Redis settings did not change.
func (g *Gateway) build(cfg *config.Gateway, old *state) (*state, error) {
	if cfg == nil {
		return nil, errors.New("gateway: no gateway configuration")
	}
	tokens, miOpts := newTokenSource(cfg.ManagedIdentity, g.transport, g.now)
	backends := backendEntities(cfg.Backends)
	l := &loader{cfg: cfg, opts: &apim.LoadOptions{NamedValues: namedValues(cfg), ManagedIdentity: miOpts, Backends: backends}}
	l.opts.Schemas = l.schemas()
	l.fragments()
	global := l.document(cfg.Policy, apim.ScopeGlobal, "global", nil)
	if !cfg.Policy.IsSet() {
		global = l.defaultGlobal()
	}

	st := &state{cfg: cfg, keys: map[[32]byte]*subKey{}, loadedAt: g.now().UTC(), crossDomain: global.CrossDomain(),
		maxBody: g.maxBody, maxBuffered: g.maxBuffer}
	if lim := cfg.Limits; lim != nil {
		if lim.MaxRequestBodyBytes > 0 {
			st.maxBody = int64(lim.MaxRequestBodyBytes)
		}
		if lim.MaxBufferedBodyBytes > 0 {
			st.maxBuffered = int64(lim.MaxBufferedBodyBytes)
		}
	}
	productDocs := make([]*apim.Document, len(cfg.Products))
	byName := map[string]*product{}
	for i := range cfg.Products {
		cp := &cfg.Products[i]
		p := &product{
			index:    i,
			name:     cp.Name,
			required: cp.SubscriptionRequired == nil || *cp.SubscriptionRequired,
			apis:     map[string]bool{},
		}
		p.ctx = &expr.Product{Id: cp.Name, Name: cp.Name, SubscriptionRequired: p.required, State: "Published"}
		for _, a := range cp.Apis {
			p.apis[a] = true
		}
		productDocs[i] = l.document(cp.Policy, apim.ScopeProduct, "product "+cp.Name, nil)
		st.products = append(st.products, p)
		byName[cp.Name] = p
		for j := range cp.Subscriptions {
			s := &cp.Subscriptions[j]
			for _, k := range []config.Secret{s.PrimaryKey, s.SecondaryKey} {
				if k.IsSet() && k.Value != "" {
					st.keys[keyHash(k.Value)] = &subKey{key: []byte(k.Value), product: p, sub: s}
				}
			}
		}
	}

	paths := map[string]string{}
	type apiDocs struct {
		api *apim.Document
		ops []*apim.Document
	}
	docs := make([]apiDocs, len(cfg.Apis))
	for i := range cfg.Apis {
		ca := &cfg.Apis[i]
		a := l.api(ca, paths)
		// The API's documents compile with its specification (the
		// validation policies read it).
		spec := l.specification(ca)
		docs[i].api = l.document(ca.Policy, apim.ScopeAPI, "API "+ca.Name, spec)
		seen := map[string]string{}
		for j := range ca.Operations {
			co := &ca.Operations[j]
			o := l.operation(ca, co, len(a.ops), seen)
			if o != nil {
				a.ops = append(a.ops, o)
				docs[i].ops = append(docs[i].ops, l.document(co.Policy, apim.ScopeOperation, "operation "+co.Name, spec))
			}
		}
		for _, p := range st.products {
			if p.apis[a.name] {
				a.products = append(a.products, p)
				if !p.required && a.open == nil {
					a.open = p
				}
			}
		}
		st.apis = append(st.apis, a)
	}

	certs, errs := loadCertificates(cfg.Certificates)
	l.errs = append(l.errs, errs...)
	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			l.errorf(cfg.Pos, "gateway.trustedProxies: %q is not an IP address or CIDR range", s)
			continue
		}
		st.trusted = append(st.trusted, p)
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}

	// Pipelines: (no product | each product including the API) x API x
	// (API level, each operation). Nothing is merged per request.
	for i, a := range st.apis {
		a.pipes = make([]*routePipes, len(st.products)+1)
		a.pipes[0] = newRoutePipes(global, nil, docs[i].api, docs[i].ops)
		for _, p := range a.products {
			a.pipes[p.index+1] = newRoutePipes(global, productDocs[p.index], docs[i].api, docs[i].ops)
		}
	}
	sort.SliceStable(st.apis, func(i, j int) bool { return len(st.apis[i].segs) > len(st.apis[j].segs) })
	st.byFirst = map[string][]*apiRoute{}
	for _, a := range st.apis {
		first := ""
		if len(a.segs) > 0 {
			first = strings.ToLower(a.segs[0])
		}
		st.byFirst[first] = append(st.byFirst[first], a)
	}

	if old != nil && old.stores != nil && old.stores.sameSettings(cfg) {
		st.stores = old.stores.hold()
	} else {
		s, err := newStores(cfg, g.nowOption(), g.log)
		if err != nil {
			return nil, config.Errors{{Pos: cfg.Pos, Msg: err.Error()}}
		}
		st.stores = s
	}
	st.env = &apim.Env{
		Limiter:        st.stores.limiter,
		Cache:          st.stores.cache,
		LocalCache:     st.stores.local,
		Discovery:      g.discovery,
		Transport:      g.transport,
		HTTP2Transport: g.http2,
		TunnelIdle:     tunnelIdle(g.tunnelIdle, cfg.Limits),
		Certificates:   certs,
		Tokens:         tokens,
		Logger:         g.log,
		Rejected:       g.metrics.rejected,
		Now:            g.now,
		EntraAuthority: cfg.EntraAuthority,
	}
	return st, nil
}

// defaultGlobalPolicy is APIM's "All APIs" policy of a new instance: it
// forwards every request to the backend.
const defaultGlobalPolicy = `<policies>
	<inbound />
	<backend>
		<forward-request />
	</backend>
	<outbound />
	<on-error />
</policies>`

// defaultGlobal is the global document used when gateway.policy is not set.
func (l *loader) defaultGlobal() *apim.Document {
	doc, err := apim.ParseDocument("(default global policy)", []byte(defaultGlobalPolicy), apim.ScopeGlobal, l.opts)
	if err != nil {
		l.addErr("(default global policy)", err)
		return nil
	}
	return doc
}

func newRoutePipes(global, prod, api *apim.Document, ops []*apim.Document) *routePipes {
	rp := &routePipes{api: apim.NewPipeline(global, prod, api)}
	for _, o := range ops {
		rp.ops = append(rp.ops, apim.NewPipeline(global, prod, api, o))
	}
	return rp
}

// api compiles one API's route (without operations).
func (l *loader) api(ca *config.API, paths map[string]string) *apiRoute {
	p := strings.Trim(ca.Path, "/")
	a := &apiRoute{cfg: ca, name: ca.Name, path: p, keyHeader: ca.SubscriptionKeyHeader, keyQuery: ca.SubscriptionKeyQuery}
	a.required = ca.SubscriptionRequired == nil || *ca.SubscriptionRequired
	if a.keyHeader == "" {
		a.keyHeader = DefaultKeyHeader
	}
	if a.keyQuery == "" {
		a.keyQuery = DefaultKeyQuery
	}
	if p != "" {
		for _, s := range strings.Split(p, "/") {
			v, err := url.PathUnescape(s)
			if err != nil {
				l.errorf(ca.Pos, "gateway.apis %q: path %q is not valid URL text", ca.Name, ca.Path)
				v = s
			}
			if v == "" {
				l.errorf(ca.Pos, "gateway.apis %q: path %q has an empty segment", ca.Name, ca.Path)
			}
			a.segs = append(a.segs, v)
		}
	}
	if len(a.segs) == 1 && reservedPaths[strings.ToLower(a.segs[0])] {
		l.errorf(ca.Pos, "gateway.apis %q: path %q is reserved for the gateway's own /healthz, /readyz and /metrics endpoints; choose another path", ca.Name, ca.Path)
	}
	key := strings.ToLower(strings.Join(a.segs, "/")) + "\x00" + ca.Version.Key()
	if v := ca.Version; v != nil {
		a.version, a.versionHeader, a.versionQuery = v.Name, v.Header, v.Query
	}
	if other, dup := paths[key]; dup {
		l.errorf(ca.Pos, "gateway.apis %q: path %q is the same as the path of API %q (API paths are matched case-insensitively)", ca.Name, ca.Path, other)
	}
	paths[key] = ca.Name
	u, err := url.Parse(ca.ServiceURL)
	if err != nil || u.Host == "" {
		l.errorf(ca.Pos, "gateway.apis %q: serviceUrl %q is not an absolute http(s) URL", ca.Name, ca.ServiceURL)
		u = &url.URL{Scheme: "http", Host: "invalid"}
	}
	a.serviceURL = u
	// The service path is resolved like request paths, so that what the
	// gateway appends to it cannot be made to climb above it.
	ssegs, err := apim.ResolvePath(u.EscapedPath())
	if err != nil {
		l.errorf(ca.Pos, "gateway.apis %q: serviceUrl %q: %v", ca.Name, ca.ServiceURL, err)
	}
	a.serviceEsc = apim.JoinSegments("", ssegs)
	a.ctxAPI = &expr.Api{
		Id:                ca.Name,
		Name:              ca.Name,
		Path:              p,
		Revision:          "1",
		IsCurrentRevision: true,
		ServiceUrl:        exprURL(u.Scheme, u.Host, a.serviceEsc, u.Query()),
		Protocols:         []string{"http", "https"},
	}
	return a
}

// operation compiles one operation; nil (problem recorded) when its
// template is invalid or duplicates another.
func (l *loader) operation(ca *config.API, co *config.Operation, index int, seen map[string]string) *opRoute {
	segs, query, err := parseTemplate(co.URLTemplate)
	if err != nil {
		l.errorf(co.Pos, "operation %q of API %q: urlTemplate %q: %v", co.Name, ca.Name, co.URLTemplate, err)
		return nil
	}
	m := strings.ToUpper(co.Method)
	key := templateKey(m, segs, query)
	if other, dup := seen[key]; dup {
		l.errorf(co.Pos, "operation %q of API %q: %s %s matches the same requests as operation %q", co.Name, ca.Name, m, co.URLTemplate, other)
		return nil
	}
	seen[key] = co.Name
	return &opRoute{
		cfg:    co,
		index:  index,
		method: m,
		segs:   segs,
		query:  query,
		ctxOp:  expr.Operation{Id: co.Name, Name: co.Name, Method: m, UrlTemplate: co.URLTemplate},
		rank:   rankOf(segs, query, m),
	}
}

func namedValues(cfg *config.Gateway) map[string]apim.NamedValue {
	nv := make(map[string]apim.NamedValue, len(cfg.NamedValues))
	for name, s := range cfg.NamedValues {
		nv[name] = apim.NamedValue{Value: s.Value, Secret: s.External}
	}
	return nv
}

// parsePrefix accepts an address or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (g *Gateway) nowOption() func() time.Time {
	if g.customNow {
		return g.now
	}
	return nil
}

// tunnelIdle is the idle timeout of upgraded connections: the gateway's
// option, else gateway.limits.tunnelIdleTimeout (0: apim's default).
func tunnelIdle(opt time.Duration, lim *config.GatewayLimits) time.Duration {
	if opt > 0 || lim == nil {
		return opt
	}
	return lim.TunnelIdleTimeout.D
}

// backendEntities are gateway.backends for the policies: pools point at
// their members, circuit breakers start closed.
func backendEntities(cfg map[string]config.Backend) map[string]*apim.BackendEntity {
	out := map[string]*apim.BackendEntity{}
	for id, b := range cfg {
		be := &apim.BackendEntity{ID: id, URL: b.URL}
		if cb := b.CircuitBreaker; cb != nil {
			be.Breaker = &apim.CircuitBreaker{Failures: cb.Failures, Interval: cb.Interval.D, TripDuration: cb.TripDuration.D,
				AcceptRetryAfter: cb.AcceptRetryAfter}
			for _, r := range cb.StatusCodes {
				lo, hi, _ := config.ParseStatusRange(r)
				be.Breaker.StatusCodes = append(be.Breaker.StatusCodes, apim.StatusRange{Min: lo, Max: hi})
			}
		}
		out[id] = be
	}
	for id, b := range cfg {
		for _, m := range b.Pool {
			out[id].Pool = append(out[id].Pool, apim.PoolMember{Backend: out[m.ID], Priority: m.Priority, Weight: m.Weight})
		}
	}
	return out
}

// specification reads an API's OpenAPI file (nil without one; a problem
// is a load error at the file).
func (l *loader) specification(ca *config.API) *apim.OpenAPISpec {
	if !ca.Specification.IsSet() {
		return nil
	}
	data, ok := l.read(ca.Specification, "API "+ca.Name+" specification")
	if !ok {
		return nil
	}
	spec, err := apim.ParseOpenAPI(data)
	if err != nil {
		l.errorf(ca.Specification.Pos, "gateway.apis %q: specification %s: %v", ca.Name, ca.Specification.Raw, err)
		return nil
	}
	return spec
}
