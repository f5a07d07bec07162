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
	// EscapedParameters are the path parameters of MatchedParameters as
	// the caller sent them (percent-encoded, "%2F" distinct from "/"), for
	// rewrite-uri; not part of APIM's model.
	EscapedParameters map[string]string
	Certificate       *x509.Certificate // client certificate, when TLS presented one
}

// URL is APIM's IUrl.
type URL struct {
	Scheme string
	Host   string
	Port   int
	Path   string // decoded, as url.URL.Path
	Query  url.Values
	// RawPath is Path as it is sent (as url.URL.RawPath): it keeps an
	// encoded slash "%2F" apart from "/". It is ignored when it is not an
	// encoding of Path (a policy changed Path alone).
	RawPath string
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
//
// A body made by NewLazyBody is not in memory until something needs it:
// the first Load (As<T>(), a policy reading it) calls the loader once. The
// gateway uses this so that a request refused by, say, validate-jwt never
// has its body read, and a body no policy reads is streamed to the backend
// (Take) without being held in memory at all.
type Body struct {
	data     []byte
	consumed bool
	load     func() ([]byte, error) // non-nil until loaded or taken
	err      error                  // the loader's failure, kept
	taken    bool                   // streamed elsewhere unread: gone
}

// NewBody wraps raw bytes.
func NewBody(b []byte) *Body { return &Body{data: b} }

// NewLazyBody is a body read by load on first use. load is called at most
// once; its error (wrapped in a *BodyError) is returned by every Load.
func NewLazyBody(load func() ([]byte, error)) *Body { return &Body{load: load} }

// BodyError is a failure to read a lazy body (too large, memory budget,
// client gone). It is not a C# exception: catch blocks do not see it and
// Program.Eval returns it as it is, so the host answers with its own status.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// Load returns the content, reading a lazy body first. A body taken by
// Take has no content (nil, nil).
func (b *Body) Load() ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	if b.load != nil {
		load := b.load
		b.load = nil
		data, err := load()
		if err != nil {
			b.err = &BodyError{Err: err}
		}
		b.data = data
	}
	return b.data, b.err
}

// Loaded reports whether the content is in memory (or failed to load): a
// body made by NewBody always is.
func (b *Body) Loaded() bool { return b != nil && b.load == nil && !b.taken }

// Take marks a lazy body that nothing read as streamed elsewhere (the
// caller's stream goes to the backend as it is) and reports whether it did:
// false when the body is already in memory, so the caller must send Load's
// bytes instead. A taken body reads as empty, and context.Request.Body is
// null afterwards, as in APIM once the body was forwarded.
func (b *Body) Take() bool {
	if b == nil || b.load == nil {
		return false
	}
	b.load, b.taken = nil, true
	return true
}

// Taken reports whether Take gave the body away.
func (b *Body) Taken() bool { return b != nil && b.taken }

// Bytes returns the current content without consuming it (for the gateway,
// which must send the body on); a lazy body is loaded first, and a body
// that fails to load has none.
func (b *Body) Bytes() []byte {
	data, _ := b.Load()
	return data
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
