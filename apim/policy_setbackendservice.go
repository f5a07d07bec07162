package apim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// set-backend-service base-url: the backend request goes to base-url plus
// the operation's path (what follows the previous base URL's path) and its
// query; a query in base-url is added. backend-id names a backend entity
// (gateway.backends, or an APIOps folder's backends): its URL is the base
// URL. Service Fabric attributes are Azure-only.

func init() {
	Register(Spec{Name: "set-backend-service", Sections: []Section{Inbound, Backend}, Compile: compileSetBackendService})
}

type setBackendService struct {
	base     Value
	backend  *BackendEntity            // a literal backend-id
	backends map[string]*BackendEntity // an expression's: looked up when it runs
}

// compileBackendID resolves backend-id: a literal must name a backend at
// load; an expression is looked up when it runs.
func compileBackendID(b *Builder, id Value) (Policy, error) {
	backends := b.ld.opts.Backends
	if backends == nil {
		backends = map[string]*BackendEntity{}
	}
	if !id.IsExpr() && !strings.Contains(id.Lit, "{{") {
		be, ok := backends[id.Lit]
		if !ok && b.ld.opts.Lenient {
			// policy check: the backends of another environment.
			return &setBackendService{base: id, backends: backends}, nil
		}
		if !ok {
			return nil, b.Errorf(id.Pos, "set-backend-service: backend-id %q is not a backend (gateway.backends or the APIOps folder's backends)", id.Lit)
		}
		return &setBackendService{backend: be}, nil
	}
	return &setBackendService{base: id, backends: backends}, nil
}

func compileSetBackendService(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "base-url", "backend-id", "sf-partition-key", "sf-replica-type", "sf-resolve-condition", "sf-service-instance-name", "sf-listener-name"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	if a, ok := n.Attr("backend-id"); ok {
		if _, hasBase := n.Attr("base-url"); hasBase {
			return nil, b.Errorf(a.Pos, "set-backend-service: give base-url or backend-id, not both")
		}
		id, err := b.Attr(n, "backend-id")
		if err != nil {
			return nil, err
		}
		return compileBackendID(b, id)
	}
	for _, a := range n.Attrs {
		if strings.HasPrefix(a.Name, "sf-") {
			return nil, b.Errorf(a.Pos, "set-backend-service: Service Fabric backends are not available self-hosted")
		}
	}
	v, err := b.Attr(n, "base-url")
	if err != nil {
		return nil, err
	}
	if !v.Set {
		return nil, b.Errorf(n.Pos, "set-backend-service: attribute \"base-url\" is required")
	}
	// An empty literal is accepted at load (it appears in published
	// samples as a placeholder) and fails when run.
	if !v.IsExpr() && strings.TrimSpace(v.Lit) != "" && !strings.Contains(v.Lit, "{{") {
		if _, err := parseURL(v.Lit); err != nil {
			return nil, b.Errorf(v.Pos, "set-backend-service: base-url: %v", err)
		}
	}
	return &setBackendService{base: v}, nil
}

func (p *setBackendService) Exec(x *Exec) error {
	be := p.backend
	var s string
	if be == nil {
		var err error
		if s, err = x.String(p.base); err != nil {
			return err
		}
	}
	if p.backends != nil {
		if be = p.backends[s]; be == nil {
			return x.exprError(fmt.Errorf("backend-id %q is not a backend", s))
		}
	}
	x.breaker = nil
	if be != nil {
		target := be.pick(x.Now())
		if target == nil {
			return &PolicyError{Source: "set-backend-service", Reason: "BackendUnavailable", Status: http.StatusServiceUnavailable,
				Message:       fmt.Sprintf("Backend %q is unavailable: its circuit breaker is open (or every pool member's is).", be.ID),
				ClientMessage: "Service Unavailable"}
		}
		s, x.breaker = target.URL, target.Breaker
	}
	base, err := parseURL(s)
	if err != nil {
		return x.exprError(err)
	}
	// The base path is resolved like a request path (dot segments, escapes)
	// so that what follows it can be found again and never climbs above it.
	segs, err := ResolvePath(EscapedPath(base))
	if err != nil {
		return x.pathPolicyError(err)
	}
	bp := JoinSegments("", segs)
	if bp == "/" {
		bp = ""
	}
	u := x.reqURL()
	rel := x.relPath()
	u.Scheme, u.Host, u.Port = base.Scheme, base.Host, base.Port
	np, err := joinResolved(bp, rel)
	if err != nil {
		return x.pathPolicyError(err)
	}
	SetEscapedPath(u, np)
	for k, vs := range base.Query {
		u.Query[k] = append(u.Query[k], vs...)
	}
	x.basePath = &bp
	return nil
}

// reqURL returns the backend request URL, never nil, with a non-nil query.
func (x *Exec) reqURL() *expr.URL {
	if x.Ctx.Request.Url == nil {
		x.Ctx.Request.Url = &expr.URL{Path: "/"}
	}
	if x.Ctx.Request.Url.Query == nil {
		x.Ctx.Request.Url.Query = url.Values{}
	}
	return x.Ctx.Request.Url
}

// relPath is the backend request path (escaped) after the backend base
// path (escaped, matched whole segments only).
func (x *Exec) relPath() string {
	if x.basePath == nil {
		bp := ""
		if x.Ctx.Api != nil && x.Ctx.Api.ServiceUrl != nil {
			bp = EscapedPath(x.Ctx.Api.ServiceUrl)
		}
		x.basePath = &bp
	}
	p := EscapedPath(x.reqURL())
	if bp := strings.TrimSuffix(*x.basePath, "/"); bp != "" && strings.HasPrefix(p, bp) && (len(p) == len(bp) || p[len(bp)] == '/') {
		return p[len(bp):]
	}
	return p
}

// atoiDefault parses a literal integer, def when it does not parse.
func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}
