// Package apim is APIM's policy language: documents with inbound, backend,
// outbound and on-error sections, scopes merged through <base/>, fragments,
// named values, and one compiled Go type per policy element. Documents are
// compiled once at load; the request path runs closures.
package apim

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/token"
)

// Section is one of the four sections of a policy document.
type Section int

const (
	Inbound Section = iota
	Backend
	Outbound
	OnError
)

func (s Section) String() string {
	return [...]string{"inbound", "backend", "outbound", "on-error"}[s]
}

// Scope is where a document sits; narrower scopes include broader ones via <base/>.
type Scope int

const (
	ScopeGlobal Scope = iota
	ScopeProduct
	ScopeAPI
	ScopeOperation
	ScopeFragment
)

func (s Scope) String() string {
	return [...]string{"global", "product", "api", "operation", "fragment"}[s]
}

// Policy is one compiled policy element.
type Policy interface {
	Exec(x *Exec) error
}

// Preflighter is implemented by policies that answer CORS preflight requests
// (cors). On a preflight (OPTIONS with Origin and Access-Control-Request-Method)
// only these run, as in APIM; handled=true means a response was written to x.
type Preflighter interface {
	Preflight(x *Exec) (handled bool, err error)
}

// CompileFunc compiles element n into a Policy. It must reject unknown
// attributes and child elements (b.Attrs / b.Children do that) and return
// errors made with b.Errorf so they carry line:col.
type CompileFunc func(b *Builder, n *rawxml.Node) (Policy, error)

// Spec registers one policy element.
type Spec struct {
	Name     string
	Sections []Section // where it may appear; nil = any section
	Scopes   []Scope   // where it may appear; nil = any scope
	Compile  CompileFunc
	// AzureOnly policies exist in APIM but cannot work self-hosted
	// (authentication-managed-identity, ...): loading one is an error that says so.
	AzureOnly string // the reason, shown to the user
	// OncePerDocument policies may appear only once in a policy document
	// (rate-limit, quota: APIM rule); a second one is a load error.
	OncePerDocument bool
	// Unsupported policies could work self-hosted but are not implemented
	// yet: loading one is an error "policy X is not supported yet: reason",
	// distinct from AzureOnly so users know which gaps may close.
	Unsupported string
}

var registry = map[string]Spec{}

// Register adds a policy element to the table. Called from init() of the
// file implementing it.
func Register(s Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("apim: policy registered twice: " + s.Name)
	}
	registry[s.Name] = s
}

// Lookup returns the spec of a policy element.
func Lookup(name string) (Spec, bool) {
	s, ok := registry[name]
	return s, ok
}

// Value is an attribute or element text: a constant or a compiled expression.
type Value struct {
	Set  bool   // present in the document
	Lit  string // the constant (when Prog is nil)
	Prog *expr.Program
	Pos  rawxml.Pos
}

// IsExpr reports whether the value is an expression.
func (v Value) IsExpr() bool { return v.Prog != nil }

// PolicyError is a policy failure: it sets context.LastError and sends the
// request to on-error; without an on-error response the caller receives
// APIM's {"statusCode":N,"message":"..."} with Status and Headers.
type PolicyError struct {
	Source  string // policy name, e.g. "rate-limit-by-key"
	Reason  string // e.g. "RateLimitExceeded"
	Message string
	Status  int
	Headers http.Header // e.g. Retry-After
	// ClientMessage, when set, replaces Message in the body the caller
	// receives: internal failures (expressions, backend connection) keep
	// their detail in context.LastError.Message but answer "Internal server
	// error", as APIM does.
	ClientMessage string
}

func (e *PolicyError) Error() string { return e.Source + ": " + e.Reason + ": " + e.Message }

// ErrReturn is returned by a policy that has set x.Ctx.Response and wants it
// sent to the caller now (return-response, mock-response, cors answering a
// preflight or an unmatched request): the rest of the pipeline is skipped.
var ErrReturn = errors.New("apim: return response")

// Env holds the process-wide services policies use. One per gateway
// configuration; replaced whole on reload.
type Env struct {
	Limiter ratelimit.Limiter
	// Cache is the shared cache (Redis when the gateway has one, else this
	// process's memory); LocalCache is this process's memory, for
	// cache-lookup's caching-type="internal" (nil: Cache).
	Cache      cache.Store
	LocalCache cache.Store
	// TunnelIdle closes an upgraded connection idle this long (0: 10m).
	TunnelIdle time.Duration
	Discovery  *token.Discovery
	// Transport is used by forward-request and send-request.
	Transport http.RoundTripper
	// HTTP2Transport reaches the h2c:// and h2:// backends (gRPC); nil:
	// a shared default.
	HTTP2Transport http.RoundTripper
	// Certificates are client certificates by certificate-id for
	// authentication-certificate.
	Certificates map[string]tls.Certificate
	// Tokens serves authentication-managed-identity (nil: not configured).
	Tokens TokenSource
	Logger *slog.Logger
	// Rejected is called with the policy name and reason of each policy
	// rejection (for the metrics).
	Rejected func(source, reason string)
	Now      func() time.Time
	// EntraAuthority is where validate-azure-ad-token finds a tenant's
	// OpenID configuration ({EntraAuthority}/{tenant}/v2.0/.well-known/
	// openid-configuration); "" = https://login.microsoftonline.com.
	EntraAuthority string
}
