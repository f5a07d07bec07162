// Package restful is Azure AD B2C's RESTful technical profile
// (Web.TPEngine.Providers.RestfulProvider) on the policy engine (New, a
// journey.Runner; Client is the call itself).
//
// A call sends the profile's input claims — typed in a JSON body as B2C
// does (numbers as numbers, booleans as booleans, collections as arrays),
// as text in a form, headers, the query string or ServiceUrl placeholders —
// with the AuthenticationType's credentials read from policy keys on each
// call, and reads the output claims from the JSON answer (JSON paths with
// ResolveJsonPathsInJsonTokens), converted to each claim's DataType. The
// error contract is B2C's: a 409 (or 400) whose body carries userMessage is
// an *Error with that message for the page; any other failure is an *Error
// with the profile's UserMessageIf... or DefaultUserMessageIfRequestFailed
// text, else B2C's.
//
// The HTTP side (retries, timeouts, mutual TLS, size limits, redirects
// refused) is identity/connector's Client.
package restful

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/keys"
)

// Deployment modes (identity.deploymentMode and a policy's DeploymentMode):
// the API connectors' own.
const (
	Development = connector.Development
	Production  = connector.Production
)

// Options are what calls need besides the profile.
type Options struct {
	// Keys resolves the CryptographicKeys' StorageReferenceIds.
	Keys keys.Resolver
	// DeploymentMode is the server's (identity.deploymentMode); "" is
	// Production, as in B2C. Unless it or the policy's DeploymentMode is
	// Development, NewClient refuses an http:// ServiceUrl, and
	// AuthenticationType None without AllowInsecureAuthInProduction.
	DeploymentMode string
	// Logger gets one "restful call" line per call (profile, target
	// without query, status, durationMs, attempts, outcome); nil: none.
	Logger *slog.Logger
	// Audit receives the same record (e.g. for metrics).
	Audit func(connector.Entry)
	// Transport is the base HTTP transport (tests: their CA); default a
	// clone of http.DefaultTransport.
	Transport *http.Transport
	// Timeout per attempt (default connector.CustomPolicyTimeout, 10 s, as
	// B2C since April 2025), MaxAttempts (default 2: one retry on a
	// transient failure), MaxResponseBytes (default 64 KiB; a larger
	// answer is refused) and RetryBackoff (default 100 ms).
	Timeout          time.Duration
	MaxAttempts      int
	MaxResponseBytes int64
	RetryBackoff     time.Duration
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = connector.CustomPolicyTimeout
	}
	if o.DeploymentMode == "" {
		o.DeploymentMode = Production
	}
	return o
}

// Profile is a RESTful technical profile's settings: its Metadata and
// CryptographicKeys.
type Profile struct {
	ID                 string
	ServiceURL         string
	SendClaimsIn       string // Body (default), Form, Header, QueryString, Url
	AuthenticationType string // None, Basic, ClientCertificate, Bearer, ApiKeyHeader
	// AllowInsecureAuthInProduction lets AuthenticationType None run in
	// production.
	AllowInsecure    bool
	Debug            bool // DebugMode: the API's error details go to the page
	ResolveJSONPaths bool // ResolveJsonPathsInJsonTokens
	// BearerClaim (UseClaimAsBearerToken) and PayloadClaim
	// (ClaimUsedForRequestPayload) name claim types.
	BearerClaim, PayloadClaim string
	// PolicyDevelopment: the policy's DeploymentMode is Development.
	PolicyDevelopment bool
	// Messages are DefaultUserMessageIfRequestFailed and the
	// UserMessageIf... items.
	Messages map[string]string
	// Keys are CryptographicKeys: Key Id -> StorageReferenceId.
	Keys map[string]string
}

// FromMetadata reads a profile's settings.
func FromMetadata(id string, md, keys map[string]string) Profile {
	b := func(k string) bool { v, _ := ParseBool(md[k]); return v }
	p := Profile{ID: id, ServiceURL: md["ServiceUrl"], SendClaimsIn: md["SendClaimsIn"], AuthenticationType: md["AuthenticationType"],
		AllowInsecure: b("AllowInsecureAuthInProduction"), Debug: b("DebugMode"), ResolveJSONPaths: b("ResolveJsonPathsInJsonTokens"),
		BearerClaim: md["UseClaimAsBearerToken"], PayloadClaim: md["ClaimUsedForRequestPayload"],
		Messages: map[string]string{}, Keys: keys}
	if p.SendClaimsIn == "" {
		p.SendClaimsIn = "Body"
	}
	for k, v := range md {
		if k == "DefaultUserMessageIfRequestFailed" || strings.HasPrefix(k, "UserMessageIf") {
			p.Messages[k] = v
		}
	}
	return p
}

// ParseBool reads a Metadata boolean as B2C does (true/false in any case).
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Placeholders are ServiceUrl's {name} placeholders (SendClaimsIn Url).
var Placeholders = regexp.MustCompile(`\{([^{}:]+)\}`)

// Auth is the connector authentication of the profile's
// AuthenticationType and keys.
func (p Profile) Auth() (connector.Auth, error) {
	k := p.Keys
	typ := connector.AuthNone // B2C's default
	if p.AuthenticationType != "" {
		info, ok := tenant.LookupB2CAuthType(p.AuthenticationType)
		if !ok {
			return connector.Auth{}, fmt.Errorf("AuthenticationType %q is not %s", p.AuthenticationType, tenant.B2CAuthTypeList())
		}
		typ = info.Type
	}
	switch typ {
	case connector.AuthBasic:
		return connector.Auth{Type: typ, Username: k["BasicAuthenticationUsername"], Password: k["BasicAuthenticationPassword"]}, nil
	case connector.AuthCertificate:
		return connector.Auth{Type: typ, Certificate: k["ClientCertificate"]}, nil
	case connector.AuthBearer:
		return connector.Auth{Type: typ, BearerToken: k["BearerAuthenticationToken"]}, nil
	case connector.AuthAPIKeyHeader:
		for id, ref := range k {
			return connector.Auth{Type: typ, APIKeyHeader: id, APIKey: ref}, nil
		}
		return connector.Auth{}, errors.New("AuthenticationType ApiKeyHeader needs a CryptographicKeys Key (its Id is the header name)")
	}
	return connector.Auth{Type: typ}, nil
}

// Client calls one RESTful profile's API. It is safe for concurrent use.
type Client struct {
	p  Profile
	o  Options
	hc *connector.Client
}

// NewClient prepares a profile's calls: it checks the ServiceUrl against
// the deployment mode and the credentials' shape (keys are read per call).
func NewClient(p Profile, o Options) (*Client, error) {
	o = o.withDefaults()
	if p.SendClaimsIn == "" {
		p.SendClaimsIn = "Body"
	}
	auth, err := p.Auth()
	if err != nil {
		return nil, fmt.Errorf("restful: technical profile %s: %w", p.ID, err)
	}
	endpoint := Placeholders.ReplaceAllString(p.ServiceURL, "x")
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("restful: technical profile %s: ServiceUrl %q is not an absolute https URL", p.ID, p.ServiceURL)
	}
	dev := o.DeploymentMode == Development || p.PolicyDevelopment
	if u.Scheme == "http" && !dev {
		return nil, fmt.Errorf("restful: technical profile %s: ServiceUrl must be https in production (http only with DeploymentMode Development)", p.ID)
	}
	if auth.Type == connector.AuthNone && !p.AllowInsecure && !dev {
		return nil, fmt.Errorf("restful: technical profile %s: AuthenticationType None needs AllowInsecureAuthInProduction=true in production", p.ID)
	}
	hc, err := connector.NewClient(p.ID, endpoint, auth, connector.ClientOptions{Keys: o.Keys, Transport: o.Transport,
		Timeout: o.Timeout, MaxAttempts: o.MaxAttempts, MaxResponseBytes: o.MaxResponseBytes, RetryBackoff: o.RetryBackoff})
	if err != nil {
		return nil, fmt.Errorf("restful: technical profile %s: %w", p.ID, err)
	}
	return &Client{p: p, o: o, hc: hc}, nil
}

// Profile is the client's profile.
func (c *Client) Profile() Profile { return c.p }

// Input is an input claim with a value, by its name on the wire
// (PartnerClaimType, else ClaimType).
type Input struct {
	Name  string
	Value claimstx.Claim
}

// Output is an output claim to read from the answer: its name on the wire
// (a JSON path with ResolveJsonPathsInJsonTokens) and its DataType.
type Output struct {
	Name     string
	DataType claimstx.DataType
}

// Request is one call: the input claims in declaration order (claims
// without a value left out; the bearer claim left out, it goes in the
// Authorization header only), the bearer token and payload claim values
// when the profile names those claims, and the outputs wanted.
type Request struct {
	Inputs      []Input
	BearerToken string
	Payload     string
	Outputs     []Output
}

// Error is a failed call the user sees: on the page of a validation
// profile (who may correct and resubmit), or as the journey's error.
type Error struct {
	Profile string
	// Status is the API's HTTP status (0: no answer).
	Status int
	// Code is B2C's error code (AADB2C90075 ...), "" for the API's own
	// userMessage.
	Code string
	// Message is for the user: the API's userMessage, the profile's
	// UserMessageIf... / DefaultUserMessageIfRequestFailed, or B2C's text.
	Message string
	// From the API's error body; for the page only with DebugMode.
	APICode, RequestID, DeveloperMessage, MoreInfo string
	Debug                                          bool
}

func (e *Error) Error() string {
	s := "restful: " + e.Profile + ": "
	if e.Code != "" {
		s += e.Code + ": "
	}
	return s + e.Message
}

// Details are the DebugMode fields ("" unless Debug).
func (e *Error) Details() string {
	if !e.Debug {
		return ""
	}
	var parts []string
	for _, kv := range [][2]string{{"code", e.APICode}, {"requestId", e.RequestID}, {"developerMessage", e.DeveloperMessage}, {"moreInfo", e.MoreInfo}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+": "+kv[1])
		}
	}
	return strings.Join(parts, "; ")
}

// Call sends the request and returns the output claims found in the
// answer, by wire name (a claim the answer lacks or has as null is left
// out: the caller applies DefaultValue). A failure for the user is an
// *Error; a configuration failure (a policy key that cannot be read) is
// another error.
func (c *Client) Call(ctx context.Context, r Request) (map[string]claimstx.Claim, error) {
	p := c.p
	uerr := func(status int, code, msg string) *Error {
		return &Error{Profile: p.ID, Status: status, Code: code, Message: msg, Debug: p.Debug}
	}
	req := connector.Request{}
	if p.BearerClaim != "" {
		if r.BearerToken == "" {
			return nil, uerr(0, "AADB2C90194", fmt.Sprintf("The claim '%s' used as the bearer token is not present.", p.BearerClaim))
		}
		req.BearerToken = r.BearerToken
	}
	switch p.SendClaimsIn {
	case "Body":
		if p.PayloadClaim != "" {
			req.RawBody = []byte(r.Payload)
			break
		}
		body := map[string]any{}
		for _, in := range r.Inputs {
			body[in.Name] = jsonValue(in.Value.Value)
		}
		req.JSON = body
	case "Form":
		req.Form = url.Values{}
		for _, in := range r.Inputs {
			req.Form.Set(in.Name, claimstx.FormatValue(in.Value.Value))
		}
	case "Header":
		req.Method = http.MethodGet
		req.Header = http.Header{}
		for _, in := range r.Inputs {
			req.Header.Set(in.Name, claimstx.FormatValue(in.Value.Value))
		}
	case "QueryString":
		req.Method = http.MethodGet
		req.Query = url.Values{}
		for _, in := range r.Inputs {
			req.Query.Set(in.Name, claimstx.FormatValue(in.Value.Value))
		}
	case "Url":
		req.Method = http.MethodGet
		vals := map[string]string{}
		for _, in := range r.Inputs {
			vals[in.Name] = claimstx.FormatValue(in.Value.Value)
		}
		path, query, _ := strings.Cut(p.ServiceURL, "?")
		fill := func(s string, esc func(string) string) string {
			return Placeholders.ReplaceAllStringFunc(s, func(m string) string { return esc(vals[m[1:len(m)-1]]) })
		}
		u := fill(path, url.PathEscape)
		if query != "" {
			u += "?" + fill(query, url.QueryEscape)
		}
		req.URL = u
	default:
		return nil, fmt.Errorf("restful: %s: SendClaimsIn %q is not Body, Form, Header, QueryString or Url", p.ID, p.SendClaimsIn)
	}
	start := time.Now()
	res, cerr := c.hc.Call(ctx, req)
	out, err := c.interpret(res, cerr, r.Outputs)
	c.record(ctx, res, cerr, err, time.Since(start))
	return out, err
}

func (c *Client) interpret(res *connector.Response, err error, outputs []Output) (map[string]claimstx.Claim, error) {
	p := c.p
	uerr := func(status int, code, msg string) *Error {
		return &Error{Profile: p.ID, Status: status, Code: code, Message: msg, Debug: p.Debug}
	}
	target := c.hc.Target()
	if err != nil {
		var ce *connector.Error
		if !errors.As(err, &ce) {
			return nil, err
		}
		switch ce.Kind {
		case connector.KindCredentials:
			return nil, fmt.Errorf("restful: %s: %w", p.ID, err) // configuration: not for the user
		case connector.KindTimeout:
			return nil, uerr(0, "AADB2C90075", c.message("UserMessageIfRequestTimeout",
				fmt.Sprintf("Failed to establish connection to restful service end point within timeout limit %d seconds. Restful service URL: %s",
					int(c.o.Timeout/time.Second), target)))
		case connector.KindDNS:
			return nil, uerr(0, "AADB2C90075", c.message("UserMessageIfDnsResolutionFailed",
				"Failed to resolve the hostname of the restful service endpoint. Restful service URL: "+target))
		case connector.KindUnreachable:
			return nil, uerr(0, "AADB2C90075", c.message("",
				"Failed to establish connection to restful service end point. Restful service URL: "+target))
		case connector.KindTooLarge:
			return nil, uerr(ce.Status, "AADB2C90075", c.message("", "The response of the restful service exceeds the size limit. Restful service URL: "+target))
		}
		if res == nil || res.Status/100 == 2 {
			return nil, uerr(ce.Status, "AADB2C90261", c.message("", fmt.Sprintf("The claims exchange '%s' returned HTTP error response that could not be parsed.", p.ID)))
		}
	}
	if res.Status == http.StatusBadRequest || res.Status == http.StatusConflict {
		if e := apiError(res.JSON); e != nil {
			e.Profile, e.Status, e.Debug = p.ID, res.Status, p.Debug
			return nil, e
		}
	}
	if res.Status/100 != 2 {
		return nil, uerr(res.Status, "AADB2C90075", c.message("", http.StatusText(res.Status)))
	}
	out := map[string]claimstx.Claim{}
	for _, o := range outputs {
		raw, ok := Lookup(res.JSON, o.Name, p.ResolveJSONPaths)
		if !ok || raw == nil {
			continue
		}
		v, err := FromJSON(raw, o.DataType)
		if err != nil {
			return nil, uerr(res.Status, "AADB2C90261", c.message("", fmt.Sprintf("The claims exchange '%s' returned claim '%s' that could not be parsed: %v", p.ID, o.Name, err)))
		}
		out[o.Name] = v
	}
	return out, nil
}

// record logs and audits one call: no claim value, secret or query.
// cerr is the HTTP call's error, err the call's outcome.
func (c *Client) record(ctx context.Context, res *connector.Response, cerr, err error, d time.Duration) {
	if c.o.Logger == nil && c.o.Audit == nil {
		return
	}
	e := connector.Entry{Time: time.Now(), Connector: c.p.ID, Step: "RESTful", Duration: d, Outcome: connector.OutcomeContinue}
	if res != nil {
		e.Status, e.Attempts = res.Status, res.Attempts
	}
	var re *Error
	var ce *connector.Error
	switch {
	case errors.As(err, &re) && re.Code == "":
		e.Outcome, e.Reason = connector.OutcomeValidationError, "userMessage"
	case err != nil:
		e.Outcome, e.Reason = connector.OutcomeFailed, "error"
		if errors.As(cerr, &ce) {
			e.Reason, e.Attempts = ce.Kind.String(), ce.Attempts
			if e.Status == 0 {
				e.Status = ce.Status
			}
		} else if re != nil {
			e.Reason = re.Code
		}
	}
	if c.o.Logger != nil {
		attrs := []slog.Attr{slog.String("profile", e.Connector), slog.String("target", c.hc.Target()),
			slog.Int("status", e.Status), slog.Int64("durationMs", e.Duration.Milliseconds()),
			slog.Int("attempts", e.Attempts), slog.String("outcome", e.Outcome)}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", e.Reason))
		}
		c.o.Logger.LogAttrs(ctx, slog.LevelInfo, "restful call", attrs...)
	}
	if c.o.Audit != nil {
		c.o.Audit(e)
	}
}

// message picks the profile's message for key, then
// DefaultUserMessageIfRequestFailed, then B2C's text.
func (c *Client) message(key, def string) string {
	if m := c.p.Messages[key]; key != "" && m != "" {
		return m
	}
	if m := c.p.Messages["DefaultUserMessageIfRequestFailed"]; m != "" {
		return m
	}
	return def
}

// apiError reads B2C's REST error contract (nil if the body does not
// follow it): {"version", "status", "userMessage", "code", "requestId",
// "developerMessage", "moreInfo"}.
func apiError(body map[string]any) *Error {
	msg, _ := body["userMessage"].(string)
	if msg == "" {
		return nil
	}
	str := func(k string) string {
		switch v := body[k].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		}
		return ""
	}
	return &Error{Message: msg, APICode: str("code"), RequestID: str("requestId"),
		DeveloperMessage: str("developerMessage"), MoreInfo: str("moreInfo")}
}

// jsonValue is a claim value in a JSON body: typed as B2C sends it
// (dateTimes as ISO 8601 text).
func jsonValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return claimstx.FormatDateTime(t)
	}
	return v
}

// Lookup finds an output claim in the answer: a top-level name, or with
// paths a JSON path (a.b[0].c, and the older a.0.b).
func Lookup(body map[string]any, name string, paths bool) (any, bool) {
	if body == nil {
		return nil, false
	}
	if !paths {
		v, ok := body[name]
		return v, ok
	}
	steps, err := parsePath(name)
	if err != nil {
		return nil, false
	}
	var cur any = body
	for _, s := range steps {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[s.key]
			if !ok || s.index >= 0 {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(s.key)
			if s.index >= 0 {
				i, err = s.index, nil
			}
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

type pathStep struct {
	key   string
	index int // -1 for a key
}

// CheckPath checks a JSON path of ResolveJsonPathsInJsonTokens.
func CheckPath(p string) error {
	_, err := parsePath(p)
	return err
}

// parsePath reads a.b[0].c (and a.0.b).
func parsePath(p string) ([]pathStep, error) {
	var out []pathStep
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" && rest == "" {
			return nil, errors.New("empty JSON path segment")
		}
		if name != "" {
			out = append(out, pathStep{key: name, index: -1})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("bad index in JSON path %q", p)
			}
			out = append(out, pathStep{index: n})
			if after == "" {
				break
			}
			if !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("bad JSON path %q", p)
			}
			rest = after[1:]
		}
	}
	return out, nil
}

// FromJSON makes a claim of the DataType from a value of the answer
// (numbers as json.Number): text is parsed as claimstx.Parse does, a
// number fits int, long and string, a boolean boolean and string, an array
// of strings a stringCollection.
func FromJSON(v any, dt claimstx.DataType) (claimstx.Claim, error) {
	if dt == "" {
		dt = claimstx.String
	}
	switch x := v.(type) {
	case string:
		return claimstx.Parse(dt, x)
	case bool:
		switch dt {
		case claimstx.Boolean:
			return claimstx.Claim{DataType: dt, Value: x}, nil
		case claimstx.String:
			return claimstx.Claim{DataType: dt, Value: strconv.FormatBool(x)}, nil
		}
	case json.Number:
		switch dt {
		case claimstx.Int, claimstx.Long, claimstx.String:
			return claimstx.Parse(dt, x.String())
		}
	case float64:
		return FromJSON(json.Number(strconv.FormatFloat(x, 'f', -1, 64)), dt)
	case []any:
		if dt == claimstx.StringCollection {
			out := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return claimstx.Claim{}, errors.New("a stringCollection holds strings only")
				}
				out = append(out, s)
			}
			return claimstx.Claim{DataType: dt, Value: out}, nil
		}
	}
	return claimstx.Claim{}, fmt.Errorf("a JSON %s does not fit DataType %s", jsonKind(v), dt)
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
