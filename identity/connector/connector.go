// Package connector is B2C's API connectors: the REST calls a user flow
// makes after federating with an identity provider (PostFederationSignup),
// before creating the user (PostAttributeCollection) and before sending
// the token (PreTokenIssuance).
//
// Connectors (New) implements userflow.Connectors. Below it, Client is a
// reusable REST caller (authentication from policy keys, timeout, one
// retry, response size cap, JSON) that custom policies' RESTful technical
// profiles use too.
//
// Request: an HTTP POST of a flat JSON object holding the claims that have
// a value (empty ones are left out), custom attributes named
// extension_<extensions app id without dashes>_<Name>, and "step",
// "client_id", "ui_locales".
//
// Response: HTTP 200 {"version", "action": "Continue", <claims>} or
// {"action": "ShowBlockPage", "userMessage"}; HTTP 400 {"version",
// "status": 400 or "400", "action": "ValidationError", "userMessage"}
// (PostAttributeCollection only). Returned claims are kept only when the
// step may set them (the flow's attributes; the flow's application claims
// for the token step; never email); extension_<appid>_Name and
// extension_Name both map to the flow's extension_Name. Anything else — a
// timeout, a connection failure, another status, a body that is not JSON
// or breaks the contract — is an error: the pages show a generic message
// and nothing is stored.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
)

// Limits of identity.apiConnectors[].timeout and maxAttempts.
const (
	MaxTimeout       = 60 * time.Second
	MaxAttemptsLimit = 5
)

// Deployment modes (identity.deploymentMode).
const (
	Development = "Development"
	Production  = "Production"
)

// Options configure New.
type Options struct {
	// Keys resolves the policy key containers the connectors name.
	Keys keys.Resolver
	// DeploymentMode: Development allows http:// endpoints and
	// authenticationType none (with a warning); Production (the default,
	// as in B2C when unset) refuses them unless
	// allowInsecureAuthInProduction is true.
	DeploymentMode string
	// ExtensionsAppID is the application id in custom attribute names
	// (extension_<id without dashes>_Name); default TenantID.
	ExtensionsAppID string
	TenantID        string
	// ClientCredentials gives a bearer connector (by name) an OAuth2 client
	// credentials token instead of a static bearerToken. The config's
	// apiConnectors[].clientCredentials does the same; a connector may not
	// have both.
	ClientCredentials map[string]ClientCredentials
	Logger            *slog.Logger
	// Audit receives one entry per connector call.
	Audit func(Entry)
	// Transport is the base HTTP transport (each connector clones it into
	// its own keep-alive pool); tests set their CA here.
	Transport *http.Transport
	// Timeout per attempt (default 5 s, B2C user flows) and MaxAttempts
	// (default 2: one retry) apply to connectors whose config has no
	// timeout / maxAttempts.
	Timeout          time.Duration
	MaxAttempts      int
	MaxResponseBytes int64         // default 64 KiB
	RetryBackoff     time.Duration // default 100 ms
	Now              func() time.Time
}

// Entry is the audit record of one connector call (B2C's "An API was
// called as part of a user flow"). It holds no secret, token or claim value.
type Entry struct {
	Time      time.Time
	Connector string
	Step      string
	Status    int // HTTP status of the last attempt; 0 if none
	Duration  time.Duration
	Attempts  int
	Outcome   string // Continue, ShowBlockPage, ValidationError or Failed
	Reason    string // why it failed
}

// Outcomes in Entry.Outcome.
const (
	OutcomeContinue        = "Continue"
	OutcomeShowBlockPage   = "ShowBlockPage"
	OutcomeValidationError = "ValidationError"
	OutcomeFailed          = "Failed"
)

// Connectors are the configured API connectors.
type Connectors struct {
	byName map[string]*Client
	ext    string
	log    *slog.Logger
	audit  func(Entry)
	now    func() time.Time
}

var _ userflow.Connectors = (*Connectors)(nil)

// New checks the connectors' configuration (errors are config.Errors with
// the positions of the connectors) and prepares a client for each.
func New(cfgs []config.APIConnector, o Options) (*Connectors, error) {
	cs := &Connectors{byName: map[string]*Client{}, log: o.Logger, audit: o.Audit, now: o.Now}
	if cs.log == nil {
		cs.log = slog.Default()
	}
	if cs.now == nil {
		cs.now = time.Now
	}
	app := o.ExtensionsAppID
	if app == "" {
		app = o.TenantID
	}
	cs.ext = strings.ToLower(strings.ReplaceAll(app, "-", ""))
	production := !strings.EqualFold(o.DeploymentMode, Development)
	var errs config.Errors
	add := func(p config.Pos, format string, args ...any) {
		errs = append(errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	for i, c := range cfgs {
		key := fmt.Sprintf("identity.apiConnectors[%d]", i)
		if c.Name != "" {
			key = "identity.apiConnectors[" + c.Name + "]"
		}
		switch {
		case c.Name == "":
			add(c.Pos, "%s: name is required", key)
			continue
		case cs.byName[c.Name] != nil:
			add(c.Pos, "%s: another API connector has this name", key)
			continue
		}
		u, err := url.Parse(c.EndpointURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(c.Pos, "%s: endpointUrl %q is not an absolute https URL", key, redactString(c.EndpointURL))
			continue
		}
		auth, problem := authOf(c, o.ClientCredentials)
		if problem != "" {
			pos := c.Pos
			if c.ClientCredentials != nil && c.ClientCredentials.Pos != (config.Pos{}) && strings.HasPrefix(problem, "clientCredentials") {
				pos = c.ClientCredentials.Pos
			}
			add(pos, "%s: %s", key, problem)
			continue
		}
		timeout, attempts := o.Timeout, o.MaxAttempts
		if c.Timeout.IsSet() {
			if c.Timeout.D <= 0 || c.Timeout.D > MaxTimeout {
				add(c.Timeout.Pos, "%s: timeout must be more than 0 and at most %s", key, MaxTimeout)
				continue
			}
			timeout = c.Timeout.D
		}
		if c.MaxAttempts != 0 {
			if c.MaxAttempts < 1 || c.MaxAttempts > MaxAttemptsLimit {
				add(c.Pos, "%s: maxAttempts must be between 1 and %d", key, MaxAttemptsLimit)
				continue
			}
			attempts = c.MaxAttempts
		}
		if auth.Type == AuthCertificate && u.Scheme != "https" {
			add(c.Pos, "%s: certificate authentication needs an https endpointUrl", key)
			continue
		}
		var insecure []string
		if u.Scheme == "http" {
			insecure = append(insecure, "the endpoint is http://")
		}
		if cc := auth.ClientCredentials; cc != nil && strings.HasPrefix(strings.ToLower(cc.TokenURL), "http:") {
			insecure = append(insecure, "clientCredentials.tokenEndpoint is http://")
		}
		if auth.Type == AuthNone {
			insecure = append(insecure, "authenticationType is none")
		}
		if len(insecure) > 0 {
			if production && !c.AllowInsecureAuthInProduction {
				add(c.Pos, "%s: %s; in Production this needs allowInsecureAuthInProduction: true (or use https and an authentication type)",
					key, strings.Join(insecure, " and "))
				continue
			}
			cs.log.Warn("api connector: insecure configuration allowed", "connector", c.Name,
				"deploymentMode", map[bool]string{true: Production, false: Development}[production],
				"reason", strings.Join(insecure, " and "))
		}
		cl, err := NewClient(c.Name, c.EndpointURL, auth, ClientOptions{Keys: o.Keys, Transport: o.Transport,
			Timeout: timeout, MaxAttempts: attempts, MaxResponseBytes: o.MaxResponseBytes,
			RetryBackoff: o.RetryBackoff, Now: o.Now})
		if err != nil {
			add(c.Pos, "%s: %v", key, err)
			continue
		}
		cs.byName[c.Name] = cl
	}
	names := make([]string, 0, len(o.ClientCredentials))
	for n := range o.ClientCredentials {
		names = append(names, n)
	}
	sort.Strings(names)
	var unknown []string
	for _, n := range names {
		found := false
		for _, c := range cfgs {
			found = found || c.Name == n
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	switch {
	case len(errs) > 0:
		return nil, errs
	case len(unknown) > 0:
		return nil, fmt.Errorf("connector: client credentials given for API connectors that are not configured: %s", strings.Join(unknown, ", "))
	}
	return cs, nil
}

// authOf maps a connector's config to Auth ("" problem = fine).
func authOf(c config.APIConnector, ccs map[string]ClientCredentials) (Auth, string) {
	var a Auth
	if c.AuthenticationType == "" {
		return a, "authenticationType is required: " + tenant.AuthTypeList()
	}
	info, ok := tenant.LookupAuthType(c.AuthenticationType)
	if !ok {
		return a, fmt.Sprintf("authenticationType %q must be %s", c.AuthenticationType, tenant.AuthTypeList())
	}
	a.Type = info.Type
	switch a.Type { // none needs no credentials
	case AuthBasic:
		if c.Username == "" || c.Password == "" {
			return a, "basic authentication needs username and password (policy key names)"
		}
		a.Username, a.Password = keys.Name(c.Username), keys.Name(c.Password)
	case AuthCertificate:
		if c.Certificate == "" {
			return a, "certificate authentication needs certificate (a policy key name)"
		}
		a.Certificate = keys.Name(c.Certificate)
	case AuthBearer:
		cc, hasCC := ccs[c.Name]
		if c.ClientCredentials != nil {
			if hasCC {
				return a, "clientCredentials are given both in the config and by the program"
			}
			var problem string
			if cc, problem = clientCredentialsOf(c.ClientCredentials); problem != "" {
				return a, problem
			}
			hasCC = true
		}
		switch {
		case c.BearerToken != "" && hasCC:
			return a, "bearer authentication takes bearerToken or client credentials, not both"
		case c.BearerToken != "":
			a.BearerToken = keys.Name(c.BearerToken)
		case hasCC:
			cc.ClientSecret = keys.Name(cc.ClientSecret)
			a.ClientCredentials = &cc
		default:
			return a, "bearer authentication needs bearerToken (a policy key name) or client credentials"
		}
	case AuthAPIKeyHeader:
		if c.APIKeyHeader == nil || c.APIKeyHeader.Name == "" || c.APIKeyHeader.Key == "" {
			return a, "apiKeyHeader authentication needs apiKeyHeader: {name: <header>, key: <policy key name>}"
		}
		a.APIKeyHeader, a.APIKey = c.APIKeyHeader.Name, keys.Name(c.APIKeyHeader.Key)
	}
	if _, ok := ccs[c.Name]; (ok || c.ClientCredentials != nil) && a.Type != AuthBearer {
		return a, "clientCredentials are given but authenticationType is not bearer"
	}
	return a, ""
}

// clientCredentialsOf maps identity.apiConnectors[].clientCredentials.
func clientCredentialsOf(c *config.ConnectorClientCredentials) (ClientCredentials, string) {
	cc := ClientCredentials{TokenURL: strings.TrimSpace(c.TokenEndpoint), ClientID: strings.TrimSpace(c.ClientID),
		ClientSecret: strings.TrimSpace(c.ClientSecret), Scopes: c.Scopes, SecretInBody: c.SecretInBody}
	u, err := url.Parse(cc.TokenURL)
	switch {
	case cc.TokenURL == "":
		return cc, "clientCredentials.tokenEndpoint is required"
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return cc, fmt.Sprintf("clientCredentials.tokenEndpoint %q is not an absolute https URL", redactString(cc.TokenURL))
	case cc.ClientID == "":
		return cc, "clientCredentials.clientId is required"
	case cc.ClientSecret == "":
		return cc, "clientCredentials.clientSecret is required (a policy key name, e.g. B2C_1A_RestApiClientSecret)"
	}
	return cc, ""
}

func redactString(s string) string {
	if u, err := url.Parse(s); err == nil && u.RawQuery != "" {
		u.RawQuery = "..."
		return u.String()
	}
	return s
}

// Client returns the REST client of a connector (nil if unknown).
func (cs *Connectors) Client(name string) *Client { return cs.byName[name] }

// Names are the connectors' names, sorted.
func (cs *Connectors) Names() []string {
	return slices.Sorted(maps.Keys(cs.byName))
}

// Call runs the flow's connector of step (the config's
// flow.APIConnectors; none: Continue). claims are the user's attributes
// (email, displayName, ..., extension_Name, identities, objectId) plus
// "client_id" and "ui_locales" of the request.
func (cs *Connectors) Call(ctx context.Context, step string, flow *tenant.Flow, claims map[string]any) (userflow.Outcome, error) {
	name := tenant.ConnectorName(flow, step)
	if name == "" {
		return userflow.Outcome{Action: userflow.Continue}, nil
	}
	st, ok := tenant.LookupConnectorStep(step)
	if !ok {
		return userflow.Outcome{}, fmt.Errorf("api connector %q: unknown step %q", name, step)
	}
	canon := st.B2C
	cl := cs.byName[name]
	if cl == nil {
		return userflow.Outcome{}, fmt.Errorf("api connector %q (step %s) is not configured", name, canon)
	}
	start := time.Now()
	res, err := cl.Call(ctx, Request{JSON: cs.body(canon, claims)})
	var out userflow.Outcome
	if err == nil {
		out, err = cs.interpret(cl, canon, flow, res)
	}
	e := Entry{Time: cs.now(), Connector: name, Step: canon, Duration: time.Since(start)}
	if res != nil {
		e.Status, e.Attempts = res.Status, res.Attempts
	}
	var ce *Error
	if errors.As(err, &ce) {
		if ce.Status != 0 {
			e.Status = ce.Status
		}
		if ce.Attempts != 0 {
			e.Attempts = ce.Attempts
		}
	}
	if err != nil {
		e.Outcome, e.Reason = OutcomeFailed, err.Error()
		out = userflow.Outcome{}
	} else {
		e.Outcome = [...]string{OutcomeContinue, OutcomeShowBlockPage, OutcomeValidationError}[out.Action]
	}
	cs.record(ctx, e)
	return out, err
}

func (cs *Connectors) record(ctx context.Context, e Entry) {
	attrs := []slog.Attr{slog.String("connector", e.Connector), slog.String("step", e.Step),
		slog.Int("status", e.Status), slog.Int64("durationMs", e.Duration.Milliseconds()),
		slog.Int("attempts", e.Attempts), slog.String("outcome", e.Outcome)}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	cs.log.LogAttrs(ctx, slog.LevelInfo, "api connector call", attrs...)
	if cs.audit != nil {
		cs.audit(e)
	}
}

// body is the B2C request: claims with a value, custom attributes in the
// directory form, and the step.
func (cs *Connectors) body(step string, claims map[string]any) map[string]any {
	b := make(map[string]any, len(claims)+1)
	for k, v := range claims {
		if k == "" || k == "step" || isEmpty(v) {
			continue
		}
		b[cs.wireName(k)] = v
	}
	b["step"] = step
	return b
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return s == ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// wireName: extension_Name -> extension_<appid>_Name.
func (cs *Connectors) wireName(k string) string {
	if cs.ext == "" || !strings.HasPrefix(k, "extension_") || strings.HasPrefix(strings.ToLower(k), "extension_"+cs.ext+"_") {
		return k
	}
	return "extension_" + cs.ext + "_" + k[len("extension_"):]
}

// localName: extension_<appid>_Name -> extension_Name.
func (cs *Connectors) localName(k string) string {
	if cs.ext != "" && strings.HasPrefix(strings.ToLower(k), "extension_"+cs.ext+"_") {
		return "extension_" + k[len("extension_"+cs.ext+"_"):]
	}
	return k
}

// Response fields that are not claims.
var reserved = map[string]bool{"version": true, "action": true, "userMessage": true, "status": true,
	"code": true, "requestId": true, "developerMessage": true, "moreInfo": true}

// Claims a token-step connector may not change.
var protectedTokenClaims = map[string]bool{"email": true, "emails": true, "objectId": true, "sub": true,
	"newUser": true, "identityProvider": true, "identityProviderAccessToken": true, "tfp": true, "acr": true}

func (cs *Connectors) interpret(cl *Client, step string, flow *tenant.Flow, res *Response) (userflow.Outcome, error) {
	bad := func(kind ErrorKind, format string, args ...any) (userflow.Outcome, error) {
		return userflow.Outcome{}, &Error{Kind: kind, Connector: cl.Name(), Target: cl.Target(), Status: res.Status,
			Attempts: res.Attempts, Err: fmt.Errorf(format, args...)}
	}
	obj := res.JSON
	action, _ := obj["action"].(string)
	switch res.Status {
	case http.StatusOK:
	case http.StatusBadRequest:
		if !strings.EqualFold(action, "ValidationError") {
			return bad(KindStatus, "HTTP 400 without a ValidationError response")
		}
		if !statusIs400(obj["status"]) {
			return bad(KindMalformed, `a ValidationError needs "status": 400 in the body`)
		}
		if step != tenant.StepPostAttributeCollection && step != tenant.StepPasswordMigration {
			return bad(KindMalformed, "ValidationError is only allowed at PostAttributeCollection (and Gatehouse's PasswordMigration: a wrong password), not %s", step)
		}
		msg, _ := obj["userMessage"].(string)
		if strings.TrimSpace(msg) == "" {
			return bad(KindMalformed, "a ValidationError needs a userMessage")
		}
		return userflow.Outcome{Action: userflow.ValidationError, Message: msg}, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return bad(KindStatus, "the API refused the connector's credentials (check its authentication and policy keys)")
	default:
		return bad(KindStatus, "the API must answer 200 or 400")
	}
	if obj == nil {
		return bad(KindMalformed, "empty response body (a JSON object with an action is required)")
	}
	switch {
	case strings.EqualFold(action, "Continue"):
		return userflow.Outcome{Action: userflow.Continue, Claims: cs.overrides(cl.Name(), step, flow, obj)}, nil
	case strings.EqualFold(action, "ShowBlockPage"):
		if step == tenant.StepPreTokenIssuance {
			return bad(KindMalformed, "ShowBlockPage is not allowed at PreTokenIssuance (Continue only)")
		}
		msg, _ := obj["userMessage"].(string)
		return userflow.Outcome{Action: userflow.ShowBlockPage, Message: msg}, nil
	case strings.EqualFold(action, "ValidationError"):
		return bad(KindMalformed, "a ValidationError must come with HTTP 400")
	case action == "":
		return bad(KindMalformed, "the response has no action")
	default:
		if len(action) > 40 {
			action = action[:40]
		}
		return bad(KindMalformed, "unknown action %q (Continue, ShowBlockPage or ValidationError)", action)
	}
}

func statusIs400(v any) bool {
	switch s := v.(type) {
	case json.Number:
		return s.String() == "400"
	case string:
		return strings.TrimSpace(s) == "400"
	case float64:
		return s == 400
	}
	return false
}

// overrides keeps the returned claims the step may set, under the flow's
// names; attribute steps get strings.
func (cs *Connectors) overrides(name, step string, flow *tenant.Flow, obj map[string]any) map[string]any {
	allowed := map[string]string{} // lower-case -> flow's spelling
	token := step == tenant.StepPreTokenIssuance
	list := flow.Attributes
	if token {
		list = flow.Claims
	}
	for _, a := range list {
		if a == "email" || (token && protectedTokenClaims[a]) {
			continue
		}
		allowed[strings.ToLower(a)] = a
	}
	out := map[string]any{}
	var ignored []string
	for k, v := range obj {
		if reserved[k] {
			continue
		}
		local, ok := allowed[strings.ToLower(cs.localName(k))]
		if !ok {
			ignored = append(ignored, k)
			continue
		}
		val, ok := claimValue(v, token)
		if !ok {
			ignored = append(ignored, k)
			continue
		}
		out[local] = val
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		cs.log.Debug("api connector: returned claims ignored (not settable at this step, or not a scalar)",
			"connector", name, "step", step, "claims", ignored)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// claimValue converts a returned value (nil: skip; objects and arrays are
// not claims of a user flow).
func claimValue(v any, token bool) (any, bool) {
	switch x := v.(type) {
	case string:
		if !token && len([]rune(x)) > 256 {
			return nil, false
		}
		return x, true
	case bool:
		if token {
			return x, true
		}
		return strconv.FormatBool(x), true
	case json.Number:
		if !token {
			return x.String(), true
		}
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		f, err := x.Float64()
		return f, err == nil
	}
	return nil, false
}
