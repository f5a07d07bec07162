package apim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// Exec is the state of one request moving through a pipeline. Policies read
// and change x.Ctx: x.Ctx.Request is what forward-request sends to the
// backend (method, URL, headers, body), x.Ctx.Response is what the caller
// will receive.
type Exec struct {
	Ctx     *expr.Context
	Env     *Env
	Section Section // section being run
	Scope   Scope   // scope of the document the running policy came from
	// HTTPRequest is the caller's request (read-only for policies). When
	// Ctx.Request.Body is lazy (expr.NewLazyBody), its loader reads
	// HTTPRequest.Body: forward-request streams HTTPRequest.Body to the
	// backend instead when nothing has loaded it.
	HTTPRequest *http.Request

	afterResponse []func(*Exec)
	hooksRan      bool
	beforeWrite   []func(*Exec)

	cur *step           // policy running now (error source)
	ctx context.Context // overrides HTTPRequest.Context() (wait for="any")

	// clientCert is the authentication-certificate for forward-request.
	clientCert *tls.Certificate
	// respStream is the backend body when forward-request ran with
	// buffer-response="false"; it is copied to the caller unread.
	respStream io.ReadCloser
	// reqBodyTaken: the caller's body stream was consumed (buffered into
	// Ctx.Request.Body or sent), so it must not be read again.
	reqBodyTaken bool
	// rlDecided holds rate-limit-by-key decisions made ahead by the first
	// policy of their run (linkRateLimits).
	rlDecided []rlDecided
	// retrying counts the retry policies running: a forward-request inside
	// one buffers the request body so every attempt can send it.
	retrying int
	// streamedReq counts the bytes of a request body streamed unread to the
	// backend (bandwidth quotas).
	streamedReq *countingReader
	// basePath is the path of the backend base URL (Api.ServiceUrl or the
	// last set-backend-service); rewrite-uri replaces what follows it.
	basePath *string
	// produced: a policy in on-error built a response body (set-body,
	// return-response, mock-response) so the default error body is not used.
	produced bool
	// respCache is what cache-lookup found for cache-store.
	respCache *responseCacheState
	// breaker is the circuit breaker of the backend entity
	// set-backend-service chose (forward-request records each outcome).
	breaker *CircuitBreaker
	// upgraded is the backend connection after 101 Switching Protocols.
	upgraded *upgraded
	// respTrailer is the streamed response, whose trailers (gRPC's
	// grpc-status) are known once its body has ended.
	respTrailer *http.Response
}

// Now is the gateway's clock.
func (x *Exec) Now() time.Time {
	if x.Env != nil && x.Env.Now != nil {
		return x.Env.Now()
	}
	return time.Now()
}

// Context is the request's context: canceled when the caller goes away.
func (x *Exec) Context() context.Context {
	if x.ctx != nil {
		return x.ctx
	}
	if x.HTTPRequest != nil {
		return x.HTTPRequest.Context()
	}
	return context.Background()
}

// AfterResponse registers f to run once the backend's (or a policy's)
// response is known, before outbound: for increment-condition expressions
// that look at context.Response and for bandwidth quotas.
func (x *Exec) AfterResponse(f func(*Exec)) { x.afterResponse = append(x.afterResponse, f) }

// BeforeWrite registers f to run once the response is final (after
// outbound and on-error), just before it is written: for cors, whose
// expose-headers list must include headers outbound policies added.
func (x *Exec) BeforeWrite(f func(*Exec)) { x.beforeWrite = append(x.beforeWrite, f) }

func (x *Exec) runBeforeWrite() {
	hooks := x.beforeWrite
	x.beforeWrite = nil
	for _, f := range hooks {
		func() {
			defer func() {
				if r := recover(); r != nil {
					x.logger().Error("apim: before-write hook panicked", "panic", fmt.Sprint(r))
				}
			}()
			f(x)
		}()
	}
}

// runAfterResponse runs the hooks once; a panicking hook is logged, not fatal.
func (x *Exec) runAfterResponse() {
	if x.hooksRan {
		return
	}
	x.hooksRan = true
	for _, f := range x.afterResponse {
		func() {
			defer func() {
				if r := recover(); r != nil {
					x.logger().Error("apim: after-response hook panicked", "panic", fmt.Sprint(r))
				}
			}()
			f(x)
		}()
	}
}

func (x *Exec) logger() interface {
	Error(string, ...any)
	Warn(string, ...any)
	Debug(string, ...any)
} {
	if x.Env != nil && x.Env.Logger != nil {
		return x.Env.Logger
	}
	return defaultLogger()
}

// policyName is the running policy's element name, for error sources.
func (x *Exec) policyName() string {
	if x.cur != nil {
		return x.cur.name
	}
	return ""
}

// exprError is APIM's ExpressionValueEvaluationFailure, unless err is the
// host failing to read a lazy body (413, 503 ...), which keeps its status.
func (x *Exec) exprError(err error) *PolicyError {
	var be *expr.BodyError
	if errors.As(err, &be) {
		return x.bodyError(be.Err)
	}
	return &PolicyError{
		Source:        x.policyName(),
		Reason:        "ExpressionValueEvaluationFailure",
		Message:       "Expression evaluation failed. " + err.Error(),
		Status:        http.StatusInternalServerError,
		ClientMessage: "Internal server error",
	}
}

// Eval evaluates v; a literal evaluates to its string. An expression failure
// becomes a *PolicyError with Reason ExpressionValueEvaluationFailure.
func (x *Exec) Eval(v Value) (res any, err error) {
	if v.Prog == nil {
		return v.Lit, nil
	}
	defer func() {
		// A bug in the expression engine must not take the gateway down.
		if r := recover(); r != nil {
			res, err = nil, x.exprError(fmt.Errorf("%v", r))
		}
	}()
	if x.Ctx != nil {
		x.Ctx.Cancel = x.Context() // stop evaluating when the caller goes away
	}
	res, err = v.Prog.Eval(x.Ctx)
	if err != nil {
		return nil, x.exprError(err)
	}
	return res, nil
}

// String evaluates v and converts the result with expr.ToString.
func (x *Exec) String(v Value) (string, error) {
	if !v.Set {
		return "", nil
	}
	if v.Prog == nil {
		return v.Lit, nil
	}
	r, err := x.Eval(v)
	if err != nil {
		return "", err
	}
	return expr.ToString(r), nil
}

// Bool evaluates v as a boolean; def when v is not set.
func (x *Exec) Bool(v Value, def bool) (bool, error) {
	if !v.Set {
		return def, nil
	}
	if v.Prog == nil {
		// Constants are parsed here: cheaper, and a bad constant is the
		// same failure as a bad expression result.
		switch strings.ToLower(strings.TrimSpace(v.Lit)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, x.exprError(fmt.Errorf("'%s' is not a boolean", v.Lit))
	}
	r, err := x.Eval(v)
	if err != nil {
		return false, err
	}
	b, err := expr.ToBool(r)
	if err != nil {
		return false, x.exprError(err)
	}
	return b, nil
}

// Int evaluates v as an integer; def when v is not set.
func (x *Exec) Int(v Value, def int64) (int64, error) {
	if !v.Set {
		return def, nil
	}
	if v.Prog == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(v.Lit), 10, 64)
		if err != nil {
			return 0, x.exprError(fmt.Errorf("'%s' is not an integer", v.Lit))
		}
		return n, nil
	}
	r, err := x.Eval(v)
	if err != nil {
		return 0, err
	}
	n, err := expr.ToInt(r)
	if err != nil {
		return 0, x.exprError(err)
	}
	return n, nil
}

// Run executes policies in order, stopping at the first error (ErrReturn included).
func Run(x *Exec, ps []Policy) error {
	for _, p := range ps {
		if err := p.Exec(x); err != nil {
			return err
		}
	}
	return nil
}

// step wraps a compiled policy with where it came from, for
// context.LastError and x.Scope.
type step struct {
	p       Policy
	name    string
	id      string
	path    string
	scope   Scope
	section Section
}

func (s *step) Exec(x *Exec) error {
	prev, prevScope := x.cur, x.Scope
	x.cur, x.Scope = s, s.scope
	err := s.p.Exec(x)
	x.cur, x.Scope = prev, prevScope
	return s.locate(err)
}

// locate attaches the step to err unless a nested step already did (the
// innermost policy is the source).
func (s *step) locate(err error) error {
	if err == nil || errors.Is(err, ErrReturn) {
		return err
	}
	var le *locatedError
	if errors.As(err, &le) {
		return err
	}
	return &locatedError{err: err, at: s}
}

// locatedError is a policy failure with the policy that raised it.
type locatedError struct {
	err error
	at  *step
}

func (e *locatedError) Error() string { return e.at.path + ": " + e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

// keepResponse marks an error whose context.Response (the backend's) is what
// the caller gets unless on-error changes it: fail-on-error-status-code.
type keepResponse struct{ *PolicyError }

func (e keepResponse) Unwrap() error { return e.PolicyError }

// ensureResponse returns x.Ctx.Response, creating an empty 200 one.
func (x *Exec) ensureResponse() *expr.Response {
	if x.Ctx.Response == nil {
		x.Ctx.Response = &expr.Response{StatusCode: 200, StatusReason: "OK", Headers: http.Header{}}
	}
	if x.Ctx.Response.Headers == nil {
		x.Ctx.Response.Headers = http.Header{}
	}
	return x.Ctx.Response
}

// requestHeaders returns the backend request's headers, never nil.
func (x *Exec) requestHeaders() http.Header {
	if x.Ctx.Request.Headers == nil {
		x.Ctx.Request.Headers = http.Header{}
	}
	return x.Ctx.Request.Headers
}

// onResponse reports whether the running section works on the response
// (outbound, on-error) rather than on the backend request.
func (x *Exec) onResponse() bool { return x.Section == Outbound || x.Section == OnError }

// dropStream discards a streamed backend body that a policy replaced.
func (x *Exec) dropStream() {
	if x.respStream != nil {
		x.respStream.Close()
		x.respStream = nil
	}
}

// responseBody returns the response body bytes, reading a streamed backend
// body into memory first (find-and-replace and friends need it whole).
func (x *Exec) responseBody() ([]byte, error) {
	r := x.ensureResponse()
	if x.respStream != nil {
		data, err := io.ReadAll(x.respStream)
		x.dropStream()
		if err != nil {
			return nil, &PolicyError{Source: x.policyName(), Reason: "BackendConnectionFailure", Message: "reading the backend response: " + err.Error(), Status: 502, ClientMessage: "Bad Gateway"}
		}
		r.Body = expr.NewBody(data)
	}
	return bodyBytes(r.Body), nil
}

// requestBody returns the request body bytes: a lazy body is loaded now
// (the host's limits apply), and the caller's body stream is buffered when
// the host left Ctx.Request.Body nil.
func (x *Exec) requestBody() ([]byte, error) {
	if x.Ctx.Request.Body == nil && !x.reqBodyTaken && x.HTTPRequest != nil && x.HTTPRequest.Body != nil && x.HTTPRequest.Body != http.NoBody {
		x.reqBodyTaken = true
		data, err := io.ReadAll(x.HTTPRequest.Body)
		if err != nil {
			return nil, x.bodyError(err)
		}
		x.Ctx.Request.Body = expr.NewBody(data)
	}
	if _, err := x.Ctx.Request.Body.Load(); err != nil {
		return nil, x.bodyError(err)
	}
	return bodyBytes(x.Ctx.Request.Body), nil
}

// bodyError is a failure to read the caller's body: the host's own
// *PolicyError (413 too large, 503 memory budget) as it is, else 400.
func (x *Exec) bodyError(err error) *PolicyError {
	var pe *PolicyError
	if errors.As(err, &pe) {
		c := *pe
		if c.Source == "" {
			c.Source = x.policyName()
		}
		return &c
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &PolicyError{Source: x.policyName(), Reason: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge,
			Message: "Request entity too large. The request body exceeds the gateway's limit of " + strconv.FormatInt(mbe.Limit, 10) + " bytes."}
	}
	return &PolicyError{Source: x.policyName(), Reason: "ClientConnectionFailure", Message: "reading the request body: " + err.Error(), Status: 400, ClientMessage: "Bad Request"}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bodyBytes is what is sent on: nothing once an expression consumed the body
// without preserveContent, as in APIM.
func bodyBytes(b *expr.Body) []byte {
	if b == nil || b.Consumed() {
		return nil
	}
	return b.Bytes()
}
