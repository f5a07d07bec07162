package expr

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"time"
)

// Context is the `context` object that policy expressions see. The gateway
// fills one per request; policies read and change it as the request moves
// through the sections. Member names follow APIM's documented model.
type Context struct {
	Request      *Request
	Response     *Response // nil until a response exists (backend answered or a policy built one)
	Variables    Variables
	Api          *Api
	Operation    *Operation
	Product      *Product      // nil when the request carries no subscription
	Subscription *Subscription // nil when the request carries no subscription
	User         *User         // nil: Gatehouse has no developer-portal users
	Deployment   *Deployment
	LastError    *LastError // set when on-error runs
	RequestId    string     // a GUID string
	Timestamp    time.Time  // when the request was received (UTC)
	Tracing      bool
	// Now returns the current time; tests replace it. nil means time.Now.
	Now func() time.Time
	// Cancel is the request's Go context: once it is done, evaluation
	// (body parsing included) stops with a RuntimeError. nil: never.
	Cancel context.Context
}

// Variables is context.Variables. Values are Go values produced by
// expressions: string, bool, int32/int64, float64, time.Time, time.Duration,
// *JObject, *JArray, *Jwt, *Response (a send-request result), nil.
type Variables map[string]any

// Request is context.Request.
type Request struct {
	Method            string
	Url               *URL // what forward-request will call (changed by rewrite-uri, set-backend-service)
	OriginalUrl       *URL // what the client called
	Headers           http.Header
	IpAddress         string
	Body              *Body // nil when the request has no body
	MatchedParameters map[string]string
	Certificate       *x509.Certificate // client certificate, when TLS presented one
}

// URL is APIM's IUrl.
type URL struct {
	Scheme string
	Host   string
	Port   int
	Path   string
	Query  url.Values
}

// Response is context.Response and also IResponse (send-request results).
type Response struct {
	StatusCode   int
	StatusReason string
	Headers      http.Header
	Body         *Body
}

// Body is IMessageBody. Reading it with As<T>() consumes it unless
// preserveContent is true, as in APIM.
type Body struct {
	data     []byte
	consumed bool
}

// NewBody wraps raw bytes.
func NewBody(b []byte) *Body { return &Body{data: b} }

// Bytes returns the current content without consuming it (for the gateway,
// which must send the body on).
func (b *Body) Bytes() []byte {
	if b == nil {
		return nil
	}
	return b.data
}

// Consumed reports whether an expression read the body without preserveContent.
func (b *Body) Consumed() bool { return b != nil && b.consumed }

// Api is context.Api.
type Api struct {
	Id                string
	Name              string
	Path              string
	Revision          string
	Version           string
	ServiceUrl        *URL
	IsCurrentRevision bool
	Protocols         []string
}

// Operation is context.Operation.
type Operation struct {
	Id          string
	Method      string
	Name        string
	UrlTemplate string
}

// Product is context.Product.
type Product struct {
	Id                   string
	Name                 string
	ApprovalRequired     bool
	SubscriptionRequired bool
	State                string // "Published"
}

// Subscription is context.Subscription.
type Subscription struct {
	Id           string
	Key          string // the key the caller used
	Name         string
	PrimaryKey   string
	SecondaryKey string
	CreatedDate  time.Time
	StartDate    *time.Time
	EndDate      *time.Time
}

// User is context.User.
type User struct {
	Id        string
	Email     string
	FirstName string
	LastName  string
	Note      string
}

// Deployment is context.Deployment.
type Deployment struct {
	GatewayId   string
	Region      string
	ServiceId   string
	ServiceName string
}

// LastError is context.LastError.
type LastError struct {
	Source   string
	Reason   string
	Message  string
	Scope    string
	Section  string
	Path     string
	PolicyId string
}

// Jwt is the result of AsJwt(): the token parsed, not verified.
type Jwt struct {
	Raw            string
	Algorithm      string
	Type           string
	Id             string
	Issuer         string
	Subject        string
	Audiences      []string
	Claims         map[string][]string
	ExpirationTime *time.Time
	NotBefore      *time.Time
	IssuedAt       *time.Time
}
