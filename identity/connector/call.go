package connector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/tracing"
	"github.com/gatehouse/gatehouse/keys"
)

// Defaults of a Client (B2C since April 2025: 5 s per attempt and one
// retry for user-flow API connectors; custom policies use 10 s).
const (
	DefaultTimeout           = 5 * time.Second
	CustomPolicyTimeout      = 10 * time.Second
	DefaultMaxAttempts       = 2
	DefaultMaxResponseBytes  = 64 << 10
	DefaultRetryBackoff      = 100 * time.Millisecond
	DefaultTokenEarlyRefresh = 60 * time.Second
)

// AuthType is how a Client authenticates to the API (tenant's table,
// shared with RESTful profiles).
type AuthType = tenant.AuthType

// Authentication types (the config's authenticationType values).
const (
	AuthNone         = tenant.AuthNone
	AuthBasic        = tenant.AuthBasic
	AuthCertificate  = tenant.AuthCertificate
	AuthBearer       = tenant.AuthBearer
	AuthAPIKeyHeader = tenant.AuthAPIKeyHeader
)

// Auth is a Client's credentials. Every secret is the name of a policy key
// container, read through keys.Resolver on each call (each TLS handshake
// for certificates), so a key rollover needs no restart.
type Auth struct {
	Type AuthType
	// Basic: containers of the user name and the password.
	Username, Password string
	// Certificate: container of the client certificate (mutual TLS).
	Certificate string
	// Bearer: a static token from a container (BearerToken), or a token
	// acquired with OAuth2 client credentials; Request.BearerToken (B2C's
	// UseClaimAsBearerToken) overrides both for one call.
	BearerToken       string
	ClientCredentials *ClientCredentials
	// ApiKeyHeader: the header name and the container of its value.
	APIKeyHeader string
	APIKey       string
}

// ClientCredentials gets bearer tokens with the OAuth2 client credentials
// grant (RFC 6749 §4.4) from any token endpoint, Gatehouse's own included.
// Tokens are cached until EarlyRefresh (60 s) before they expire; concurrent
// calls share one acquisition.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string   // policy key container of the client secret
	Scopes       []string // e.g. "https://contoso.onmicrosoft.com/api/.default"
	// SecretInBody sends client_id/client_secret in the form
	// (client_secret_post) instead of HTTP Basic (client_secret_basic).
	SecretInBody bool
	EarlyRefresh time.Duration // default 60 s
}

// ClientOptions tune a Client.
type ClientOptions struct {
	Keys keys.Resolver
	// Transport is the base transport (cloned: each Client has its own
	// connection pool). Tests use it for their CA. Default: a clone of
	// http.DefaultTransport.
	Transport        *http.Transport
	Timeout          time.Duration // per attempt; default DefaultTimeout
	MaxAttempts      int           // tries in all; default 2 (one retry)
	MaxResponseBytes int64         // default 64 KiB
	RetryBackoff     time.Duration // pause before the retry; default 100 ms
	Now              func() time.Time
}

// Client calls one REST endpoint: a B2C API connector or a RESTful
// technical profile. It is safe for concurrent use.
type Client struct {
	name   string
	url    *url.URL
	auth   Auth
	o      ClientOptions
	tr     *http.Transport
	hc     *http.Client
	tokens *tokenSource

	mu       sync.Mutex
	certHash [32]byte // leaf of the certificate last presented
}

// NewClient checks the URL and the credentials' shape (not the keys: they
// are read on each call).
func NewClient(name, endpoint string, auth Auth, o ClientOptions) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("connector %q: endpoint is not an absolute http(s) URL", name)
	}
	if err := auth.check(); err != nil {
		return nil, fmt.Errorf("connector %q: %w", name, err)
	}
	if auth.Type != AuthNone && o.Keys == nil && (auth.Type != AuthBearer || auth.BearerToken != "" || auth.ClientCredentials != nil) {
		return nil, fmt.Errorf("connector %q: authentication %s needs a policy key resolver", name, auth.Type)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Client{name: name, url: u, auth: auth, o: o}
	c.tr = baseTransport(o.Transport)
	if auth.Type == AuthCertificate {
		if c.tr.TLSClientConfig == nil {
			c.tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		container := auth.Certificate
		c.tr.TLSClientConfig.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return o.Keys.Certificate(cri.Context(), container)
		}
	}
	c.hc = &http.Client{Transport: tracing.Transport(c.tr), CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect would carry the credentials elsewhere
	}}
	if cc := auth.ClientCredentials; cc != nil {
		c.tokens = &tokenSource{cc: *cc, keys: o.Keys, tr: baseTransport(o.Transport), now: o.Now, timeout: o.Timeout}
		if c.tokens.cc.EarlyRefresh <= 0 {
			c.tokens.cc.EarlyRefresh = DefaultTokenEarlyRefresh
		}
	}
	return c, nil
}

func baseTransport(t *http.Transport) *http.Transport {
	if t != nil {
		return t.Clone()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return tr
}

func (a Auth) check() error {
	switch a.Type {
	case AuthNone:
	case AuthBasic:
		if a.Username == "" || a.Password == "" {
			return errors.New("basic authentication needs username and password key containers")
		}
	case AuthCertificate:
		if a.Certificate == "" {
			return errors.New("certificate authentication needs a certificate key container")
		}
	case AuthBearer:
		if a.BearerToken != "" && a.ClientCredentials != nil {
			return errors.New("bearer authentication takes a static token or client credentials, not both")
		}
		if cc := a.ClientCredentials; cc != nil {
			u, err := url.Parse(cc.TokenURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return errors.New("client credentials: tokenUrl is not an absolute http(s) URL")
			}
			if cc.ClientID == "" || cc.ClientSecret == "" {
				return errors.New("client credentials: clientId and clientSecret (a key container) are required")
			}
		}
	case AuthAPIKeyHeader:
		if a.APIKeyHeader == "" || a.APIKey == "" {
			return errors.New("apiKeyHeader authentication needs a header name and a key container")
		}
		if !validHeaderName(a.APIKeyHeader) {
			return fmt.Errorf("apiKeyHeader name %q is not a valid HTTP header name", a.APIKeyHeader)
		}
	default:
		return fmt.Errorf("unknown authentication type %q", a.Type)
	}
	return nil
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return s != ""
}

// Name is the client's (connector's) name.
func (c *Client) Name() string { return c.name }

// AuthType is how the client authenticates (never the credentials).
func (c *Client) AuthType() AuthType { return c.auth.Type }

// Target is the endpoint without its query (which may hold a key, e.g.
// Azure Functions' ?code=): safe for logs.
func (c *Client) Target() string { return redact(c.url) }

func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// Request is one call. Exactly one of JSON, RawBody and Form is the body
// (none: no body); Header and Query add to the request (B2C's SendClaimsIn
// Header and QueryString).
type Request struct {
	Method      string // default POST
	URL         string // default the client's endpoint (placeholders already filled in)
	JSON        any
	RawBody     []byte
	ContentType string // of RawBody; default application/json
	Form        url.Values
	Header      http.Header
	Query       url.Values
	// BearerToken, when set, is sent instead of the configured bearer
	// (B2C's UseClaimAsBearerToken).
	BearerToken string
	Timeout     time.Duration // per attempt; 0 = the client's
	MaxAttempts int           // 0 = the client's
}

// Response is what the API answered (the last attempt).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the body when it is a JSON object (numbers as json.Number);
	// nil for an empty body.
	JSON     map[string]any
	Attempts int
	Duration time.Duration
}

// ErrorKind classifies a failed call, e.g. to pick B2C's
// UserMessageIfRequestTimeout / UserMessageIfDnsResolutionFailed.
type ErrorKind int

// Error kinds.
const (
	KindCredentials ErrorKind = iota + 1 // a policy key or token could not be obtained
	KindDNS                              // the host name did not resolve
	KindUnreachable                      // connection or TLS failure
	KindTimeout                          // no (complete) answer within the timeout
	KindTooLarge                         // the body exceeds MaxResponseBytes
	KindMalformed                        // the body is not a JSON object / breaks the contract
	KindStatus                           // an HTTP status the contract does not allow
)

func (k ErrorKind) String() string {
	switch k {
	case KindCredentials:
		return "credentials"
	case KindDNS:
		return "dns"
	case KindUnreachable:
		return "unreachable"
	case KindTimeout:
		return "timeout"
	case KindTooLarge:
		return "too_large"
	case KindMalformed:
		return "malformed"
	case KindStatus:
		return "status"
	}
	return "unknown"
}

// Error is a failed call. Its text names the connector, the endpoint
// without query and the reason; never a secret, a token or a claim value.
type Error struct {
	Kind      ErrorKind
	Connector string
	Target    string
	Status    int // 0 when no response
	Attempts  int
	Err       error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("api connector %q (%s): %s", e.Connector, e.Target, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Call sends the request, retrying once (MaxAttempts) on a connection
// failure, a timeout, 408, 429, 500, 502, 503 and 504. It returns the
// response of the last attempt; any status is returned without error,
// except that a body that is not a JSON object gives KindMalformed (with
// the response) when the status is 2xx or 4xx. Redirects are not followed.
func (c *Client) Call(ctx context.Context, req Request) (*Response, error) {
	wall := time.Now()
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	u := c.url
	if req.URL != "" {
		var err error
		if u, err = url.Parse(req.URL); err != nil || u.Host == "" {
			return nil, c.fail(KindMalformed, 0, 0, errors.New("request URL is not absolute"))
		}
	}
	if len(req.Query) > 0 {
		cp := *u
		q := cp.Query()
		for k, vs := range req.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		cp.RawQuery = q.Encode()
		u = &cp
	}
	var body []byte
	var ctype string
	switch {
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			return nil, c.fail(KindMalformed, 0, 0, fmt.Errorf("encoding the request body: %w", err))
		}
		body, ctype = b, "application/json"
	case req.RawBody != nil:
		body, ctype = req.RawBody, req.ContentType
		if ctype == "" {
			ctype = "application/json"
		}
	case req.Form != nil:
		body, ctype = []byte(req.Form.Encode()), "application/x-www-form-urlencoded"
	}
	authz, err := c.credentials(ctx, req.BearerToken)
	if err != nil {
		return nil, c.fail(KindCredentials, 0, 0, err)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = c.o.Timeout
	}
	attempts := req.MaxAttempts
	if attempts <= 0 {
		attempts = c.o.MaxAttempts
	}
	var (
		res  *Response
		last error
	)
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			t := time.NewTimer(c.o.RetryBackoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, c.fail(KindTimeout, 0, n-1, ctx.Err())
			case <-t.C:
			}
		}
		var retry bool
		res, retry, last = c.attempt(ctx, method, u, body, ctype, req.Header, authz, timeout)
		if res != nil {
			res.Attempts = n
		}
		if e, ok := last.(*Error); ok {
			e.Attempts = n
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if res != nil {
		res.Duration = time.Since(wall)
		if res.Status == http.StatusUnauthorized && c.tokens != nil && req.BearerToken == "" {
			c.tokens.invalidate() // the next call gets a fresh token
		}
	}
	return res, last
}

// attempt makes one try. retry: the failure is transient.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, body []byte, ctype string,
	hdr http.Header, authz func(*http.Request), timeout time.Duration) (*Response, bool, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(actx, method, u.String(), rd)
	if err != nil {
		return nil, false, c.fail(KindMalformed, 0, 1, errors.New("building the request"))
	}
	for k, vs := range hdr {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "Gatehouse-APIConnector/1.0")
	authz(hr)
	resp, err := c.hc.Do(hr)
	if err != nil {
		kind := classify(err, actx)
		return nil, true, c.fail(kind, 0, 1, cause(err))
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.o.MaxResponseBytes {
		return nil, false, c.fail(KindTooLarge, resp.StatusCode, 1, fmt.Errorf("Content-Length %d exceeds %d bytes", resp.ContentLength, c.o.MaxResponseBytes))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxResponseBytes+1))
	if err != nil {
		kind := classify(err, actx)
		return nil, true, c.fail(kind, resp.StatusCode, 1, fmt.Errorf("reading the response: %w", cause(err)))
	}
	if int64(len(b)) > c.o.MaxResponseBytes {
		return nil, false, c.fail(KindTooLarge, resp.StatusCode, 1, fmt.Errorf("the response exceeds %d bytes", c.o.MaxResponseBytes))
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		r.JSON, _ = parseObject(b)
		return r, true, nil
	}
	obj, perr := parseObject(b)
	r.JSON = obj
	if perr != nil && (resp.StatusCode/100 == 2 || resp.StatusCode/100 == 4) {
		ct := resp.Header.Get("Content-Type")
		return r, false, c.fail(KindMalformed, resp.StatusCode, 1,
			fmt.Errorf("the response is not a JSON object (%d bytes, Content-Type %q)", len(b), ct))
	}
	return r, false, nil
}

// parseObject reads a JSON object; empty input is (nil, nil).
func parseObject(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, errors.New("invalid JSON")
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return m, nil
}

func classify(err error, actx context.Context) ErrorKind {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded):
		return KindTimeout
	case errors.As(err, &dnsErr):
		return KindDNS
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	return KindUnreachable
}

// cause drops *url.Error's URL (its query may hold a key).
func cause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) fail(kind ErrorKind, status, attempts int, err error) *Error {
	return &Error{Kind: kind, Connector: c.name, Target: c.Target(), Status: status, Attempts: attempts, Err: err}
}

// credentials reads the keys of this call and returns what sets the
// request's authentication.
func (c *Client) credentials(ctx context.Context, override string) (func(*http.Request), error) {
	none := func(*http.Request) {}
	if override != "" {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+override) }, nil
	}
	a := c.auth
	switch a.Type {
	case AuthBasic:
		user, err := c.secret(ctx, a.Username)
		if err != nil {
			return nil, err
		}
		pw, err := c.secret(ctx, a.Password)
		if err != nil {
			return nil, err
		}
		v := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
		return func(r *http.Request) { r.Header.Set("Authorization", v) }, nil
	case AuthAPIKeyHeader:
		k, err := c.secret(ctx, a.APIKey)
		if err != nil {
			return nil, err
		}
		return func(r *http.Request) { r.Header.Set(a.APIKeyHeader, k) }, nil
	case AuthBearer:
		var tok string
		var err error
		switch {
		case a.BearerToken != "":
			tok, err = c.secret(ctx, a.BearerToken)
		case c.tokens != nil:
			tok, err = c.tokens.token(ctx)
		default:
			return nil, errors.New("bearer authentication without a token (set bearerToken, client credentials or a per-call token)")
		}
		if err != nil {
			return nil, err
		}
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }, nil
	case AuthCertificate:
		cert, err := c.o.Keys.Certificate(ctx, a.Certificate)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", a.Certificate, err)
		}
		if cert == nil || len(cert.Certificate) == 0 {
			return nil, fmt.Errorf("certificate %s: empty", a.Certificate)
		}
		// A rollover: pooled connections were made with the old
		// certificate; close them so the next handshake presents the new.
		h := sha256.Sum256(cert.Certificate[0])
		c.mu.Lock()
		changed := h != c.certHash
		c.certHash = h
		c.mu.Unlock()
		if changed {
			c.tr.CloseIdleConnections()
		}
	}
	return none, nil
}

func (c *Client) secret(ctx context.Context, container string) (string, error) {
	b, err := c.o.Keys.Secret(ctx, container)
	if err != nil {
		return "", fmt.Errorf("policy key %s: %w", container, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// CloseIdleConnections empties the client's connection pool.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }
