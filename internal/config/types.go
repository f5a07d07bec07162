package config

import "strings"

// Config is a gatehouse configuration file. Each top-level section is a role
// that `gatehouse serve` runs when present.
type Config struct {
	File     string    `yaml:"-"` // absolute path of the file, for errors and relative paths
	Identity *Identity `yaml:"identity"`
	Gateway  *Gateway  `yaml:"gateway"`
	Guard    *Guard    `yaml:"guard"`
	Site     *Site     `yaml:"site"`
	// Admin is the operations listener: /metrics, /healthz, /readyz and,
	// when enabled, pprof. Without it /metrics is served nowhere.
	Admin *Admin `yaml:"admin"`
	// Timeouts bound how long every listener waits for a client.
	Timeouts *Timeouts `yaml:"timeouts"`
	// Tracing exports OpenTelemetry spans; without it tracing is off.
	Tracing *Tracing `yaml:"tracing"`
}

// Tracing is the `tracing:` section: OpenTelemetry spans of every role,
// exported over OTLP/HTTP (protobuf), W3C traceparent in and out.
type Tracing struct {
	Pos Pos `yaml:"-"`
	// OTLPEndpoint is the collector's base URL (http://127.0.0.1:4318);
	// spans go to its /v1/traces unless the path already ends so.
	OTLPEndpoint string `yaml:"otlpEndpoint"`
	// ServiceName is the resource's service.name (default gatehouse).
	ServiceName string `yaml:"serviceName"`
	// SampleRatio of new traces, 0 to 1 (default 1); a caller's sampled
	// flag is followed.
	SampleRatio *float64 `yaml:"sampleRatio"`
	// Headers are sent with every export (an API key: env:/file:).
	Headers map[string]Secret `yaml:"headers"`
}

// Admin is the `admin:` section: a listener for operators and monitoring
// only (bind it to loopback or a private network, never the public one).
type Admin struct {
	Pos    Pos    `yaml:"-"`
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiler under /debug/pprof/ on this listener.
	Pprof bool `yaml:"pprof"`
}

// Timeouts are the listeners' read limits. Every key has a default; 0s
// (or 0) turns a limit off.
type Timeouts struct {
	Pos Pos `yaml:"-"`
	// ReadHeader bounds reading a request's headers (10s).
	ReadHeader Duration `yaml:"readHeader"`
	// Read bounds reading a whole request, body included, on the identity
	// and site listeners (30s): their bodies are small forms.
	Read Duration `yaml:"read"`
	// Idle closes keep-alive connections idle that long (120s).
	Idle Duration `yaml:"idle"`
	// BodyMinRate (bytes per second, 1024) and BodyGrace (10s) bound
	// request bodies on the gateway and guard listeners, which stream
	// bodies of any length to backends: after BodyGrace, a body must
	// have arrived at BodyMinRate on average, or the connection is closed.
	BodyMinRate *int     `yaml:"bodyMinRate"`
	BodyGrace   Duration `yaml:"bodyGrace"`
}

// TLS is the certificate a role serves with. Values are file:/env: references
// or inline PEM.
type TLS struct {
	Pos         Pos    `yaml:"-"`
	Certificate Secret `yaml:"certificate"`
	Key         Secret `yaml:"key"`
	// NegotiateClientCertificate asks clients for a TLS client certificate
	// (APIM's hostname setting of the same name) so validate-client-certificate
	// and context.Request.Certificate see it. It is requested, not required:
	// the policy decides.
	NegotiateClientCertificate bool `yaml:"negotiateClientCertificate"`
	// HSTS is the Strict-Transport-Security value sent on every response
	// of this listener; "off" sends none. Default: "max-age=31536000" on
	// the identity, guard and site roles, none on the gateway (APIM sends
	// none itself; an API's policy or this key adds it).
	HSTS string `yaml:"hsts"`
}

// Gateway is the `gateway:` section: APIM's APIs, products and policies.
type Gateway struct {
	Pos    Pos    `yaml:"-"`
	Listen string `yaml:"listen"`
	TLS    *TLS   `yaml:"tls"`
	// Redis holds rate-limit, quota and cache state shared by several
	// gateway processes; without it the counters live in memory.
	Redis string `yaml:"redis,resolve"` // may be env:NAME or file:PATH (it can hold a password)
	// RedisFailureMode is what rate limits do while Redis is unreachable:
	// "open" (allow, the default) or "closed" (refuse with 503).
	RedisFailureMode string `yaml:"redisFailureMode"`
	// NamedValues are APIM named values ({{name}} in policies). Values read
	// through env: or file: are secret: never logged or shown in errors.
	NamedValues map[string]Secret `yaml:"namedValues"`
	// Policy is the "All APIs" (global) policy document.
	Policy Path `yaml:"policy"`
	// Fragments are policy fragments by id, for <include-fragment>.
	Fragments map[string]Path `yaml:"fragments"`
	// Schemas are APIM's schemas of the instance by id: JSON Schema files
	// (JSON or YAML) for validate-content's schema-id.
	Schemas map[string]Path `yaml:"schemas"`
	// Certificates are client certificates by id, for
	// <authentication-certificate certificate-id="..."/>.
	Certificates []Certificate `yaml:"certificates"`
	Products     []Product     `yaml:"products"`
	Apis         []API         `yaml:"apis"`
	// TrustedProxies are the addresses (CIDR) whose X-Forwarded-For is
	// believed when computing context.Request.IpAddress; empty = none.
	TrustedProxies []string `yaml:"trustedProxies"`
	// EntraAuthority is where validate-azure-ad-token finds Microsoft Entra
	// ID's OpenID configuration: {entraAuthority}/{tenant-id}/v2.0/.well-known/openid-configuration.
	// Default https://login.microsoftonline.com (sovereign clouds and tests
	// set their own).
	EntraAuthority string `yaml:"entraAuthority"`
	// ManagedIdentity stands in for Azure managed identity: the
	// authentication-managed-identity policy gets its tokens from this
	// OAuth2 client-credentials client instead of the Azure endpoint.
	ManagedIdentity *ManagedIdentity `yaml:"managedIdentity"`
	// Limits bound the request bodies the gateway accepts and holds in
	// memory; every key has a default.
	Limits *GatewayLimits `yaml:"limits"`
	// Backends are APIM backend entities by id, for
	// <set-backend-service backend-id="..."/>.
	Backends map[string]Backend `yaml:"backends"`
	// APIOps is a folder as Microsoft's APIOps extractor writes it, served
	// as it is beside the APIs above: `apiops: DIR` or
	// `apiops: { dir: DIR, configuration: configuration.prod.yaml }`.
	APIOps *APIOps `yaml:"apiops"`
	// NotServed lists what an APIOps folder holds that the gateway does
	// not run (loggers, diagnostics, GraphQL and SOAP APIs ...), by name.
	NotServed []string `yaml:"-"`
}

// Backend is an APIM backend entity: where set-backend-service
// backend-id sends requests. A pool spreads requests over other backends;
// a circuit breaker stops sending to a failing one for a while.
type Backend struct {
	Pos            Pos             `yaml:"-"`
	URL            string          `yaml:"url"`
	Pool           []PoolMember    `yaml:"pool"`
	CircuitBreaker *CircuitBreaker `yaml:"circuitBreaker"`
}

// PoolMember is a backend in a pool: lower priority first, then by weight.
type PoolMember struct {
	Pos      Pos    `yaml:"-"`
	ID       string `yaml:"id"`
	Priority int    `yaml:"priority"`
	Weight   int    `yaml:"weight"`
}

// CircuitBreaker trips after failures failures (answers with a status in
// statusCodes, or none) within interval, for tripDuration (or the
// backend's Retry-After with acceptRetryAfter).
type CircuitBreaker struct {
	Pos              Pos      `yaml:"-"`
	Failures         int      `yaml:"failures"`
	Interval         Duration `yaml:"interval"`
	StatusCodes      []string `yaml:"statusCodes"` // "500-599", "429"
	TripDuration     Duration `yaml:"tripDuration"`
	AcceptRetryAfter bool     `yaml:"acceptRetryAfter"`
}

// APIOps is gateway.apiops: the extractor's folder and, optionally, the
// publisher's override file (configuration.{env}.yaml).
type APIOps struct {
	Pos           Pos  `yaml:"-"`
	Dir           Path `yaml:"dir"`
	Configuration Path `yaml:"configuration"`
}

// GatewayLimits bound request bodies. Bodies are streamed to the backend
// unread unless a policy or an expression needs them; only those are held
// in memory, and all of them together share MaxBufferedBodyBytes.
type GatewayLimits struct {
	Pos Pos `yaml:"-"`
	// MaxRequestBodyBytes is the largest request body, streamed or read
	// (16 MiB); larger ones are answered 413.
	MaxRequestBodyBytes int `yaml:"maxRequestBodyBytes"`
	// MaxBufferedBodyBytes is the memory all request bodies held at once
	// may use (256 MiB); a request whose body would pass it is answered
	// 503 with Retry-After instead of waiting.
	MaxBufferedBodyBytes int `yaml:"maxBufferedBodyBytes"`
	// TunnelIdleTimeout closes an upgraded (WebSocket) connection that
	// carried nothing either way for this long (10m).
	TunnelIdleTimeout Duration `yaml:"tunnelIdleTimeout"`
}

// ManagedIdentity is the client-credentials client behind
// authentication-managed-identity. A policy's resource R is requested as
// scope "R/.default" (Entra's v2 form); a policy's client-id, when given,
// must match ClientID or one of Identities.
type ManagedIdentity struct {
	Pos           Pos    `yaml:"-"`
	TokenEndpoint string `yaml:"tokenEndpoint"`
	ClientID      string `yaml:"clientId"`
	ClientSecret  Secret `yaml:"clientSecret"`
	// Identities are further clients, selected by the policy's client-id
	// attribute (user-assigned identities in Azure).
	Identities []ManagedIdentity `yaml:"identities"`
}

// Certificate is a client certificate for backend calls: a PKCS#12 file or a
// PEM certificate and key.
type Certificate struct {
	Pos         Pos    `yaml:"-"`
	ID          string `yaml:"id"`
	PFX         Secret `yaml:"pfx"`
	Password    Secret `yaml:"password"`
	Certificate Secret `yaml:"certificate"`
	Key         Secret `yaml:"key"`
}

// Product groups APIs and owns subscriptions.
type Product struct {
	Pos                  Pos            `yaml:"-"`
	Name                 string         `yaml:"name"`
	Apis                 []string       `yaml:"apis"`
	SubscriptionRequired *bool          `yaml:"subscriptionRequired"` // default true, as in APIM
	Policy               Path           `yaml:"policy"`
	Subscriptions        []Subscription `yaml:"subscriptions"`
}

// Subscription is a subscription to a product with its two keys.
type Subscription struct {
	Pos          Pos    `yaml:"-"`
	Name         string `yaml:"name"`
	PrimaryKey   Secret `yaml:"primaryKey"`
	SecondaryKey Secret `yaml:"secondaryKey"`
}

// API is one API: a path prefix on the gateway and a backend service URL.
type API struct {
	Pos                  Pos         `yaml:"-"`
	Name                 string      `yaml:"name"`
	Path                 string      `yaml:"path"`
	ServiceURL           string      `yaml:"serviceUrl"`
	SubscriptionRequired *bool       `yaml:"subscriptionRequired"` // default true, as in APIM
	Policy               Path        `yaml:"policy"`
	Operations           []Operation `yaml:"operations"`
	// SubscriptionKeyHeader and SubscriptionKeyQuery rename where the key is
	// read from (APIM's subscriptionKeyParameterNames).
	SubscriptionKeyHeader string `yaml:"subscriptionKeyHeader"`
	SubscriptionKeyQuery  string `yaml:"subscriptionKeyQuery"`
	// Version selects this API among APIs sharing its path by a header or
	// query parameter (APIM's Header and Query versioning schemes).
	Version *APIVersion `yaml:"version"`
	// Specification is the API's OpenAPI (2 or 3, YAML or JSON) file, read
	// by the validation policies (validate-status-code, validate-content,
	// validate-parameters, validate-headers).
	Specification Path `yaml:"specification"`
}

// APIVersion is an API's version identifier and where the caller gives it.
// Name "" is APIM's "Original" version: requests that give none.
type APIVersion struct {
	Pos    Pos    `yaml:"-"`
	Name   string `yaml:"name"`
	Header string `yaml:"header"`
	Query  string `yaml:"query"`
}

// Key identifies the version among APIs sharing a path.
func (v *APIVersion) Key() string {
	if v == nil {
		return ""
	}
	return "header:" + strings.ToLower(v.Header) + "|query:" + v.Query + "|" + strings.ToLower(v.Name)
}

// Operation is one method + URL template of an API.
type Operation struct {
	Pos         Pos    `yaml:"-"`
	Name        string `yaml:"name"`
	Method      string `yaml:"method"`
	URLTemplate string `yaml:"urlTemplate"`
	Policy      Path   `yaml:"policy"`
}

// Guard is the `guard:` section (EasyAuth-like sidecar).
type Guard struct {
	Pos                Pos                 `yaml:"-"`
	Listen             string              `yaml:"listen"`
	TLS                *TLS                `yaml:"tls"`
	Upstream           string              `yaml:"upstream"`
	Auth               *GuardAuth          `yaml:"auth"`
	FunctionKeys       map[string]Secret   `yaml:"functionKeys"`
	AccessRestrictions []AccessRestriction `yaml:"accessRestrictions"`
	TrustedProxies     []string            `yaml:"trustedProxies"`
}

// GuardAuth is the token check of the guard.
type GuardAuth struct {
	Pos                 Pos      `yaml:"-"`
	OpenIDConfiguration string   `yaml:"openidConfiguration"`
	Audiences           []string `yaml:"audiences"`
	Issuers             []string `yaml:"issuers"`
	Unauthenticated     string   `yaml:"unauthenticated"` // return401 | redirectToLogin
	// LoginURL is where redirectToLogin sends browsers (the app's sign-in
	// route, or an authorize URL with its client id).
	LoginURL string `yaml:"loginUrl"`
}

// AccessRestriction is one App Service-style IP rule.
type AccessRestriction struct {
	Pos       Pos    `yaml:"-"`
	Name      string `yaml:"name"`
	Action    string `yaml:"action"` // allow | deny
	IPAddress string `yaml:"ipAddress"`
	Priority  int    `yaml:"priority"`
}

// Site is the `site:` section: a static website (the SPA).
type Site struct {
	Pos    Pos    `yaml:"-"`
	Listen string `yaml:"listen"`
	TLS    *TLS   `yaml:"tls"`
	Root   Path   `yaml:"root"`
}
