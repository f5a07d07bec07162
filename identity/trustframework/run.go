package trustframework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/keys"
)

// ClaimsBag is the claims of a journey: claim type -> value (string,
// bool, int64, []string; json.Number is accepted for numbers).
type ClaimsBag map[string]any

func (b ClaimsBag) clone() ClaimsBag {
	out := make(ClaimsBag, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}

// present: the claim has a value (B2C omits claims without one).
func (b ClaimsBag) present(id string) bool {
	v, ok := b[id]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return s != ""
	}
	return true
}

// Options are what the executor needs besides the policies.
type Options struct {
	Keys keys.Resolver
	// Transport is the base HTTP transport (tests: their CA); default a
	// clone of http.DefaultTransport.
	Transport *http.Transport
	// Timeout per attempt (default connector.CustomPolicyTimeout, 10 s)
	// and MaxAttempts (default 2: one retry), as B2C since April 2025.
	Timeout     time.Duration
	MaxAttempts int
}

type runtime struct {
	o       Options
	clients map[string]*connector.Client
}

// Start makes the HTTP clients of the RESTful profiles. Call it once after
// Load, before Run.
func (p *Policies) Start(o Options) error {
	if o.Timeout <= 0 {
		o.Timeout = connector.CustomPolicyTimeout
	}
	rt := &runtime{o: o, clients: map[string]*connector.Client{}}
	for id, tp := range p.Profiles {
		rc := tp.rest
		if rc == nil {
			continue
		}
		auth := connector.Auth{Type: connector.AuthNone}
		switch rc.auth {
		case "Basic":
			auth = connector.Auth{Type: connector.AuthBasic, Username: rc.user, Password: rc.pass}
		case "ClientCertificate":
			auth = connector.Auth{Type: connector.AuthCertificate, Certificate: rc.cert}
		case "Bearer":
			auth = connector.Auth{Type: connector.AuthBearer, BearerToken: rc.bearer}
		case "ApiKeyHeader":
			auth = connector.Auth{Type: connector.AuthAPIKeyHeader, APIKeyHeader: rc.apiHeader, APIKey: rc.apiKey}
		}
		endpoint := placeholderRE.ReplaceAllString(rc.serviceURL, "x")
		c, err := connector.NewClient(id, endpoint, auth, connector.ClientOptions{Keys: o.Keys, Transport: o.Transport,
			Timeout: o.Timeout, MaxAttempts: o.MaxAttempts})
		if err != nil {
			return fmt.Errorf("trustframework: %w", err)
		}
		rt.clients[id] = c
	}
	p.rt = rt
	return nil
}

// UserError is a failure to show the user: on the self-asserted page for a
// validation profile (the user may correct and resubmit), or as the
// journey's error (error_description) for an orchestration step.
type UserError struct {
	ProfileID string
	// Step and ExchangeID are set for orchestration steps.
	Step       int
	ExchangeID string
	// Status is the API's HTTP status (0: no answer).
	Status int
	// Message is for the user: the API's userMessage, or the profile's
	// UserMessageIf... / B2C's default text.
	Message string
	// Code is B2C's error code (AADB2C90075 ...), empty for an API's
	// 400/409 userMessage.
	Code string
	// From the API's error body; shown only when Debug (DebugMode).
	APICode, RequestID, DeveloperMessage, MoreInfo string
	Debug                                          bool
}

func (e *UserError) Error() string {
	s := "trustframework: " + e.ProfileID + ": "
	if e.Code != "" {
		s += e.Code + ": "
	}
	return s + e.Message
}

// Details are the DebugMode fields, for the page ("" unless Debug).
func (e *UserError) Details() string {
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

// ErrorDescription is the OAuth error_description of a failed journey,
// as B2C writes it.
func (e *UserError) ErrorDescription() string {
	if e.Step == 0 {
		if e.Code != "" {
			return e.Code + ": " + e.Message
		}
		return e.Message
	}
	reason := e.Message
	code := http.StatusText(e.Status)
	if e.Status == 0 {
		code = "Conflict"
	}
	code = strings.ReplaceAll(code, " ", "")
	return fmt.Sprintf("AADB2C90075: The claims exchange '%s' specified in step '%d' returned HTTP error response with Code '%s' and Reason '%s'.",
		e.ExchangeID, e.Step, code, reason)
}

// Run runs a RESTful technical profile against the claims and returns the
// claims with its output claims added. API failures are *UserError.
func (p *Policies) Run(ctx context.Context, profileID string, claims ClaimsBag) (ClaimsBag, error) {
	tp := p.Profiles[profileID]
	if tp == nil {
		if _, ok := builtins[profileID]; ok {
			return nil, fmt.Errorf("trustframework: %s is a built-in technical profile: Gatehouse's flow runs it", profileID)
		}
		return nil, fmt.Errorf("trustframework: unknown technical profile %q", profileID)
	}
	if tp.rest == nil {
		return nil, fmt.Errorf("trustframework: %s is not a RESTful technical profile", profileID)
	}
	if p.rt == nil {
		return nil, errors.New("trustframework: Start was not called")
	}
	return p.call(ctx, tp, claims)
}

// RunValidation runs the RESTful validation technical profiles of a
// self-asserted profile (e.g. LocalAccountSignUpWithLogonEmail) in order,
// honouring their Preconditions, ContinueOnError and ContinueOnSuccess.
// Built-in validation profiles (AAD-UserWriteUsingLogonEmail ...) are
// Gatehouse's flow and skipped: call this before the account is written.
func (p *Policies) RunValidation(ctx context.Context, selfAssertedID string, claims ClaimsBag) (ClaimsBag, error) {
	tp := p.Profiles[selfAssertedID]
	if tp == nil {
		if _, ok := builtins[selfAssertedID]; ok {
			return claims, nil // nothing added by the extensions
		}
		return nil, fmt.Errorf("trustframework: unknown technical profile %q", selfAssertedID)
	}
	bag := claims.clone()
	for _, v := range tp.Validation {
		vt := p.Profiles[v.ReferenceID]
		if vt == nil || vt.rest == nil || skip(v.Preconditions, bag) {
			continue
		}
		out, err := p.Run(ctx, v.ReferenceID, bag)
		if err != nil {
			var ue *UserError
			if v.ContinueOnError && errors.As(err, &ue) {
				continue
			}
			return nil, err
		}
		bag = out
		if !v.ContinueOnSuccess {
			break
		}
	}
	return bag, nil
}

// RunJourneyAfterAuth runs the RESTful ClaimsExchange steps of the policy's
// journey in order (after Gatehouse's sign-in/sign-up, before tokens),
// skipping steps whose Preconditions say so. Built-in steps are done by
// Gatehouse's flow. A failing step is a *UserError with Step and
// ExchangeID set.
func (p *Policies) RunJourneyAfterAuth(ctx context.Context, policyID string, claims ClaimsBag) (ClaimsBag, error) {
	rp := p.RelyingParties[strings.ToUpper(policyID)]
	if rp == nil {
		return nil, fmt.Errorf("trustframework: unknown policy %q", policyID)
	}
	ctx = withPolicy(ctx, rp)
	bag := claims.clone()
	for _, s := range p.Journeys[rp.Journey].Steps {
		if s.Type != "ClaimsExchange" || len(s.Exchanges) != 1 {
			continue
		}
		tp := p.Profiles[s.Exchanges[0].TechnicalProfile]
		if tp == nil || tp.rest == nil || skip(s.Preconditions, bag) {
			continue
		}
		out, err := p.Run(ctx, tp.ID, bag)
		if err != nil {
			var ue *UserError
			if errors.As(err, &ue) {
				ue.Step, ue.ExchangeID = s.Order, s.Exchanges[0].ID
			}
			return nil, err
		}
		bag = out
	}
	return bag, nil
}

// Journey returns the policy's journey (nil for an unknown policy), e.g. to
// see which built-in flow it runs.
func (p *Policies) Journey(policyID string) *UserJourney {
	rp := p.RelyingParties[strings.ToUpper(policyID)]
	if rp == nil {
		return nil
	}
	return p.Journeys[rp.Journey]
}

// Flow is the hosted flow a policy's journey runs: signUpOrSignIn,
// passwordReset or profileEdit ("" if none is recognised).
func (p *Policies) Flow(policyID string) string {
	j := p.Journey(policyID)
	if j == nil {
		return ""
	}
	has := func(id string) bool {
		for _, s := range j.Steps {
			for _, e := range s.Exchanges {
				if e.TechnicalProfile == id {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("SelfAsserted-ProfileUpdate"):
		return "profileEdit"
	case has("LocalAccountDiscoveryUsingEmailAddress"):
		return "passwordReset"
	case has("SelfAsserted-LocalAccountSignin-Email"):
		return "signUpOrSignIn"
	}
	return ""
}

// TokenClaims are the relying party's OutputClaims: token claim name ->
// value (PartnerClaimType, else the claim type's OpenIdConnect partner
// name, else its id). Claims without a value are left out.
func (p *Policies) TokenClaims(ctx context.Context, policyID string, claims ClaimsBag) (map[string]any, error) {
	rp := p.RelyingParties[strings.ToUpper(policyID)]
	if rp == nil {
		return nil, fmt.Errorf("trustframework: unknown policy %q", policyID)
	}
	ctx = withPolicy(ctx, rp)
	out := map[string]any{}
	for _, r := range rp.OutputClaims {
		ct := p.ClaimTypes[r.ClaimType]
		name := r.PartnerClaimType
		if name == "" {
			name = ct.PartnerClaimTypes["OpenIdConnect"]
		}
		if name == "" {
			name = r.ClaimType
		}
		var v any
		switch {
		case !r.AlwaysUseDefault && claims.present(r.ClaimType):
			v = claims[r.ClaimType]
		case r.DefaultValue != "":
			s := resolve(ctx, r.DefaultValue, claims)
			cv, err := convertString(s, ct.DataType)
			if err != nil {
				return nil, fmt.Errorf("trustframework: relying party claim %s: %w", r.ClaimType, err)
			}
			v = cv
		default:
			continue
		}
		out[name] = v
	}
	return out, nil
}

// skip evaluates preconditions: true when one says to skip.
func skip(pcs []Precondition, bag ClaimsBag) bool {
	for _, pc := range pcs {
		var cond bool
		switch pc.Type {
		case "ClaimsExist":
			cond = bag.present(pc.Values[0])
		case "ClaimEquals":
			cond = bag.present(pc.Values[0]) && valueString(bag[pc.Values[0]]) == pc.Values[1]
		}
		if cond == pc.ExecuteActionsIf {
			return true
		}
	}
	return false
}

// call runs one RESTful profile.
func (p *Policies) call(ctx context.Context, tp *TechnicalProfile, claims ClaimsBag) (ClaimsBag, error) {
	rc := tp.rest
	uerr := func(status int, code, msg string) *UserError {
		return &UserError{ProfileID: tp.ID, Status: status, Code: code, Message: msg, Debug: rc.debug}
	}
	// input claims: name -> typed value, in declaration order
	type input struct {
		name string
		v    any
	}
	var inputs []input
	for _, r := range tp.InputClaims {
		if r.ClaimType == rc.bearerClaim {
			continue // sent as the Authorization header only
		}
		var v any
		switch {
		case !r.AlwaysUseDefault && claims.present(r.ClaimType):
			v = claims[r.ClaimType]
		case r.DefaultValue != "":
			s := r.DefaultValue
			if rc.claimResolving {
				s = resolve(ctx, s, claims)
			}
			cv, err := convertString(s, p.ClaimTypes[r.ClaimType].DataType)
			if err != nil {
				return nil, fmt.Errorf("trustframework: %s: DefaultValue of %s: %w", tp.ID, r.ClaimType, err)
			}
			v = cv
		default:
			continue // B2C omits claims without a value
		}
		inputs = append(inputs, input{r.name(), v})
	}
	req := connector.Request{}
	if rc.bearerClaim != "" {
		if !claims.present(rc.bearerClaim) {
			return nil, uerr(0, "AADB2C90194", fmt.Sprintf("The claim '%s' used as the bearer token is not present.", rc.bearerClaim))
		}
		req.BearerToken = valueString(claims[rc.bearerClaim])
	}
	switch rc.sendIn {
	case "Body":
		if rc.payloadClaim != "" {
			req.RawBody = []byte(valueString(claims[rc.payloadClaim]))
			break
		}
		body := map[string]any{}
		for _, in := range inputs {
			body[in.name] = in.v
		}
		req.JSON = body
	case "Form":
		req.Form = url.Values{}
		for _, in := range inputs {
			req.Form.Set(in.name, valueString(in.v))
		}
	case "Header":
		req.Method = http.MethodGet
		req.Header = http.Header{}
		for _, in := range inputs {
			req.Header.Set(in.name, valueString(in.v))
		}
	case "QueryString":
		req.Method = http.MethodGet
		req.Query = url.Values{}
		for _, in := range inputs {
			req.Query.Set(in.name, valueString(in.v))
		}
	case "Url":
		req.Method = http.MethodGet
		vals := map[string]string{}
		for _, in := range inputs {
			vals[in.name] = valueString(in.v)
		}
		path, query, _ := strings.Cut(rc.serviceURL, "?")
		fill := func(s string, esc func(string) string) string {
			return placeholderRE.ReplaceAllStringFunc(s, func(m string) string { return esc(vals[m[1:len(m)-1]]) })
		}
		u := fill(path, url.PathEscape)
		if query != "" {
			u += "?" + fill(query, url.QueryEscape)
		}
		req.URL = u
	}
	res, err := p.rt.clients[tp.ID].Call(ctx, req)
	if err != nil {
		var ce *connector.Error
		if !errors.As(err, &ce) {
			return nil, err
		}
		switch ce.Kind {
		case connector.KindCredentials:
			return nil, fmt.Errorf("trustframework: %s: %w", tp.ID, err) // configuration: not for the user
		case connector.KindTimeout:
			return nil, uerr(0, "AADB2C90075", p.message(rc, "UserMessageIfRequestTimeout",
				fmt.Sprintf("Failed to establish connection to restful service end point within timeout limit %d seconds. Restful service URL: %s",
					int(p.rt.o.Timeout/time.Second), rc.serviceURL)))
		case connector.KindDNS:
			return nil, uerr(0, "AADB2C90075", p.message(rc, "UserMessageIfDnsResolutionFailed",
				"Failed to resolve the hostname of the restful service endpoint. Restful service URL: "+rc.serviceURL))
		case connector.KindUnreachable:
			return nil, uerr(0, "AADB2C90075", p.message(rc, "",
				"Failed to establish connection to restful service end point. Restful service URL: "+rc.serviceURL))
		}
		if res == nil || res.Status/100 == 2 {
			return nil, uerr(ce.Status, "AADB2C90261", fmt.Sprintf("The claims exchange '%s' returned HTTP error response that could not be parsed.", tp.ID))
		}
	}
	if res.Status == http.StatusBadRequest || res.Status == http.StatusConflict {
		if e := apiError(res.JSON); e != nil {
			e.ProfileID, e.Status, e.Debug = tp.ID, res.Status, rc.debug
			return nil, e
		}
	}
	if res.Status/100 != 2 {
		return nil, uerr(res.Status, "AADB2C90075", http.StatusText(res.Status))
	}
	out := claims.clone()
	for _, r := range tp.OutputClaims {
		ct := p.ClaimTypes[r.ClaimType]
		if r.AlwaysUseDefault {
			v, _ := convertString(resolveIf(ctx, rc.claimResolving, r.DefaultValue, claims), ct.DataType)
			out[r.ClaimType] = v
			continue
		}
		raw, ok := lookup(res.JSON, r.name(), rc.resolveJSONPaths)
		if !ok || raw == nil {
			if r.DefaultValue != "" {
				v, _ := convertString(resolveIf(ctx, rc.claimResolving, r.DefaultValue, claims), ct.DataType)
				out[r.ClaimType] = v
			}
			continue
		}
		v, err := convertJSON(raw, ct.DataType)
		if err != nil {
			return nil, uerr(res.Status, "AADB2C90261", fmt.Sprintf("The claims exchange '%s' returned claim '%s' that could not be parsed: %v", tp.ID, r.name(), err))
		}
		out[r.ClaimType] = v
	}
	return out, nil
}

func resolveIf(ctx context.Context, on bool, s string, bag ClaimsBag) string {
	if on {
		return resolve(ctx, s, bag)
	}
	return s
}

// message picks the profile's message, DefaultUserMessageIfRequestFailed,
// then B2C's default text.
func (p *Policies) message(rc *restConfig, key, def string) string {
	if m := rc.messages[key]; key != "" && m != "" {
		return m
	}
	if m := rc.messages["DefaultUserMessageIfRequestFailed"]; m != "" {
		return m
	}
	return def
}

// apiError reads B2C's REST error contract (nil if the body does not
// follow it).
func apiError(body map[string]any) *UserError {
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
	return &UserError{Message: msg, APICode: str("code"), RequestID: str("requestId"),
		DeveloperMessage: str("developerMessage"), MoreInfo: str("moreInfo")}
}

// lookup finds a partner claim in the response.
func lookup(body map[string]any, name string, paths bool) (any, bool) {
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
			if !ok {
				// data.0.to.0.email (older docs): numeric key on an array is handled below
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

// convertString makes a claim value of the data type from text.
func convertString(s, dataType string) (any, error) {
	switch dataType {
	case "boolean":
		b, ok := parseBool(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a boolean", s)
		}
		return b, nil
	case "int", "long":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || (dataType == "int" && (n > 1<<31-1 || n < -1<<31)) {
			return nil, fmt.Errorf("%q is not an %s", s, dataType)
		}
		return n, nil
	case "stringCollection":
		if s == "" {
			return []string{}, nil
		}
		return strings.Split(s, ","), nil
	}
	return s, nil
}

// convertJSON makes a claim value of the data type from a response value.
func convertJSON(v any, dataType string) (any, error) {
	switch x := v.(type) {
	case string:
		return convertString(x, dataType)
	case bool:
		if dataType == "boolean" {
			return x, nil
		}
		if dataType == "string" {
			return strconv.FormatBool(x), nil
		}
	case json.Number:
		switch dataType {
		case "int", "long":
			return convertString(x.String(), dataType)
		case "string":
			return x.String(), nil
		}
	case []any:
		if dataType == "stringCollection" {
			out := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, errors.New("a stringCollection holds strings only")
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("a JSON %T does not fit DataType %s", v, dataType)
}

// valueString is a claim value as text (form, header, query, URL).
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return x.String()
	case []string:
		return strings.Join(x, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
