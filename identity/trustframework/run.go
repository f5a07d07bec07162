package trustframework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
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
	clients map[string]*restful.Client
}

// Start makes the HTTP clients of the RESTful profiles. Call it once after
// Load, before Run.
func (p *Policies) Start(o Options) error {
	if o.Timeout <= 0 {
		o.Timeout = connector.CustomPolicyTimeout
	}
	rt := &runtime{o: o, clients: map[string]*restful.Client{}}
	for id, tp := range p.Profiles {
		if tp.rest == nil {
			continue
		}
		prof := restful.FromMetadata(id, tp.Metadata, tp.Keys)
		prof.PolicyDevelopment = tp.deploymentMode == restful.Development
		c, err := restful.NewClient(prof, restful.Options{Keys: o.Keys, Transport: o.Transport, Timeout: o.Timeout, MaxAttempts: o.MaxAttempts})
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

// call runs one RESTful profile (identity/ief/restful does the request
// and reads the answer).
func (p *Policies) call(ctx context.Context, tp *TechnicalProfile, claims ClaimsBag) (ClaimsBag, error) {
	rc := tp.rest
	req := restful.Request{}
	for _, r := range tp.InputClaims {
		if r.ClaimType == rc.bearerClaim {
			continue // sent as the Authorization header only
		}
		var v any
		switch {
		case !r.AlwaysUseDefault && claims.present(r.ClaimType):
			v = claims[r.ClaimType]
		case r.DefaultValue != "":
			cv, err := convertString(resolveIf(ctx, rc.claimResolving, r.DefaultValue, claims), p.ClaimTypes[r.ClaimType].DataType)
			if err != nil {
				return nil, fmt.Errorf("trustframework: %s: DefaultValue of %s: %w", tp.ID, r.ClaimType, err)
			}
			v = cv
		default:
			continue // B2C omits claims without a value
		}
		req.Inputs = append(req.Inputs, restful.Input{Name: r.name(), Value: claimOf(v)})
	}
	if rc.bearerClaim != "" && claims.present(rc.bearerClaim) {
		req.BearerToken = valueString(claims[rc.bearerClaim])
	}
	if rc.payloadClaim != "" {
		req.Payload = valueString(claims[rc.payloadClaim])
	}
	for _, r := range tp.OutputClaims {
		if !r.AlwaysUseDefault {
			req.Outputs = append(req.Outputs, restful.Output{Name: r.name(), DataType: claimstx.DataType(p.ClaimTypes[r.ClaimType].DataType)})
		}
	}
	got, err := p.rt.clients[tp.ID].Call(ctx, req)
	var re *restful.Error
	if errors.As(err, &re) {
		return nil, &UserError{ProfileID: tp.ID, Status: re.Status, Code: re.Code, Message: re.Message, APICode: re.APICode,
			RequestID: re.RequestID, DeveloperMessage: re.DeveloperMessage, MoreInfo: re.MoreInfo, Debug: re.Debug}
	}
	if err != nil {
		return nil, fmt.Errorf("trustframework: %w", err)
	}
	out := claims.clone()
	for _, r := range tp.OutputClaims {
		ct := p.ClaimTypes[r.ClaimType]
		c, ok := got[r.name()]
		if r.AlwaysUseDefault || !ok {
			if r.AlwaysUseDefault || r.DefaultValue != "" {
				v, _ := convertString(resolveIf(ctx, rc.claimResolving, r.DefaultValue, claims), ct.DataType)
				out[r.ClaimType] = v
			}
			continue
		}
		out[r.ClaimType] = bagValue(c)
	}
	return out, nil
}

func resolveIf(ctx context.Context, on bool, s string, bag ClaimsBag) string {
	if on {
		return resolve(ctx, s, bag)
	}
	return s
}

// claimOf types a claims-bag value for the call.
func claimOf(v any) claimstx.Claim {
	switch x := v.(type) {
	case string:
		return claimstx.Claim{DataType: claimstx.String, Value: x}
	case bool:
		return claimstx.Claim{DataType: claimstx.Boolean, Value: x}
	case int64:
		return claimstx.Claim{DataType: claimstx.Long, Value: x}
	case int:
		return claimstx.Claim{DataType: claimstx.Long, Value: int64(x)}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return claimstx.Claim{DataType: claimstx.Long, Value: n}
		}
	case []string:
		return claimstx.Claim{DataType: claimstx.StringCollection, Value: x}
	}
	return claimstx.Claim{DataType: claimstx.String, Value: valueString(v)}
}

// bagValue is a claim from the call as the claims bag holds it (a
// dateTime as its text).
func bagValue(c claimstx.Claim) any {
	if t, ok := c.Value.(time.Time); ok {
		return claimstx.FormatValue(t)
	}
	return c.Value
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
