package journey

import (
	"context"
	"errors"
	"regexp"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
)

// run runs a non-interactive profile in B2C's order: input claims
// transformations, input claims, the provider, output claims, output
// claims transformations.
func (e *Engine) run(ctx context.Context, st *State, tp *ief.TechnicalProfile) (Bag, error) {
	if err := e.transform(st, tp.InputTx); err != nil {
		return nil, err
	}
	call, err := e.call(st, tp)
	if err != nil {
		return nil, err
	}
	out := Bag{}
	if r := e.env.Runners[tp.Provider.Name]; r != nil {
		if out, err = r.Run(ctx, call); err != nil {
			return nil, err
		}
	}
	e.outputs(st, tp, out)
	return out, e.transform(st, tp.OutputTx)
}

// call prepares a profile's InputClaims: values from the bag, DefaultValue
// when absent (or always with AlwaysUseDefaultValue), claim resolvers
// resolved. A Required input that stays empty is an error.
func (e *Engine) call(st *State, tp *ief.TechnicalProfile) (*Call, error) {
	c := &Call{Profile: tp, Policy: e.env.Policy, In: Bag{}, Inputs: map[string]claimstx.Claim{}, State: st}
	for k, v := range st.Claims {
		c.In[k] = v
	}
	for _, r := range tp.InputClaims {
		id := e.claimID(r.ClaimType)
		v, ok := st.Claims[id]
		if (!ok || v.Value == nil || r.AlwaysUseDefault) && r.DefaultValue != "" {
			parsed, err := claimstx.Parse(e.dataType(id), e.resolve(st, r.DefaultValue))
			if err != nil {
				return nil, err
			}
			v, ok = parsed, true
		}
		if r.Required && (!ok || v.Value == nil) {
			return nil, &UserError{Code: "AADB2C90080", Message: "The provided claim '" + id + "' is missing a value for technical profile '" + tp.ID + "'."}
		}
		if ok {
			c.In[id] = v
			c.Inputs[r.Name()] = v
		}
	}
	return c, nil
}

// outputs puts a profile's output claims in the bag: the provider's value,
// else DefaultValue; AlwaysUseDefaultValue wins over both.
func (e *Engine) outputs(st *State, tp *ief.TechnicalProfile, got Bag) {
	for _, r := range tp.OutputClaims {
		id := e.claimID(r.ClaimType)
		v, ok := got[id]
		if r.DefaultValue != "" && (r.AlwaysUseDefault || !ok || v.Value == nil) {
			if parsed, err := claimstx.Parse(e.dataType(id), e.resolve(st, r.DefaultValue)); err == nil {
				v, ok = parsed, true
			}
		}
		if ok {
			st.Claims[id] = v
		}
	}
}

var resolverRE = regexp.MustCompile(`\{[A-Za-z-]+:[^{}]+\}|\{(?:RelyingPartyTenantId|TrustFrameworkTenantId)\}`)

// legacyResolvers are the older forms without a namespace the starter
// packs still write (CreateUserPrincipalName's "cpim_{0}@{RelyingPartyTenantId}").
var legacyResolvers = map[string]string{"RelyingPartyTenantId": "Policy:RelyingPartyTenantId",
	"TrustFrameworkTenantId": "Policy:TrustFrameworkTenantId"}

// resolve replaces claim resolvers ({OIDC:ClientId}, {Claim:x}) in s.
func (e *Engine) resolve(st *State, s string) string {
	return resolverRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if full, ok := legacyResolvers[name]; ok {
			name = full
		}
		if len(name) > 6 && name[:6] == "Claim:" {
			return st.Claims.String(e.claimID(name[6:]))
		}
		if e.env.Resolve != nil {
			if v, ok := e.env.Resolve(st, name); ok {
				return v
			}
		}
		if v, ok := st.Values[name]; ok {
			return v
		}
		return m
	})
}

// transform runs claims transformations by id, in order.
func (e *Engine) transform(st *State, ids []string) error {
	for _, id := range ids {
		t := e.env.Policy.Transformations[id]
		in := claimstx.Inputs{Claims: map[string]claimstx.Claim{}, Params: map[string]claimstx.Param{},
			Outputs: map[string]claimstx.DataType{}, Now: e.env.Now}
		for _, c := range t.InputClaims {
			in.ClaimOrder = append(in.ClaimOrder, c.TransformationClaimType)
			if v, ok := st.Claims[e.claimID(c.ClaimType)]; ok {
				in.Claims[c.TransformationClaimType] = v
			}
		}
		for _, p := range t.Params {
			in.ParamOrder = append(in.ParamOrder, p.ID)
			in.Params[p.ID] = claimstx.Param{ID: p.ID, DataType: claimstx.DataType(p.DataType), Value: e.resolve(st, p.Value)}
		}
		for _, c := range t.OutputClaims {
			in.Outputs[c.TransformationClaimType] = e.dataType(c.ClaimType)
		}
		out, err := claimstx.Run(t.Method, in)
		if err != nil {
			var ae *claimstx.AssertionError
			if errors.As(err, &ae) {
				return &UserError{Code: "AADB2C90000", Message: ae.Error()}
			}
			return err
		}
		for _, c := range t.OutputClaims {
			if v, ok := out[c.TransformationClaimType]; ok {
				st.Claims[e.claimID(c.ClaimType)] = v
			}
		}
	}
	return nil
}

// skip evaluates preconditions: true when one says to take its action.
func (e *Engine) skip(st *State, pcs []ief.Precondition, action string) bool {
	for _, pc := range pcs {
		if pc.Action != action || len(pc.Values) == 0 {
			continue
		}
		var holds bool
		switch pc.Type {
		case "ClaimsExist":
			holds = st.Claims.Has(e.claimID(pc.Values[0]))
		case "ClaimEquals":
			holds = len(pc.Values) == 2 && st.Claims.Has(e.claimID(pc.Values[0])) && st.Claims.String(e.claimID(pc.Values[0])) == pc.Values[1]
		}
		if holds == pc.ExecuteActionsIf {
			return true
		}
	}
	return false
}

// sendClaims ends the journey: the relying party's output claims by name.
func (e *Engine) sendClaims(ctx context.Context, st *State) (*Outcome, error) {
	rp := e.env.Policy.RP.Profile
	if err := e.transform(st, rp.InputTx); err != nil {
		return nil, err
	}
	if err := e.transform(st, rp.OutputTx); err != nil {
		return nil, err
	}
	e.outputs(st, rp, Bag{})
	out := &Outcome{Claims: map[string]any{}}
	for _, r := range rp.OutputClaims {
		id := e.claimID(r.ClaimType)
		c, ok := st.Claims[id]
		if r.AlwaysUseDefault || (!ok || c.Value == nil) && r.DefaultValue != "" {
			if v, err := claimstx.Parse(e.dataType(id), e.resolve(st, r.DefaultValue)); err == nil {
				c, ok = v, true
			}
		}
		if !ok || c.Value == nil {
			continue
		}
		v := c.Value
		if t, isTime := v.(interface{ Unix() int64 }); isTime && (c.DataType == claimstx.DateTime || c.DataType == claimstx.Date) {
			v = t.Unix()
		}
		out.Claims[e.wireName(r, rp.Protocol)] = v
	}
	if name := rp.SubjectNaming; name != "" {
		out.Subject, _ = out.Claims[name].(string)
	}
	st.Done = true
	return out, ctx.Err()
}

// wireName is an output claim's name in the relying party's protocol:
// its PartnerClaimType, else the claim type's DefaultPartnerClaimTypes
// entry for the protocol (tenantId is tid in OpenID Connect), else the
// claim type id.
func (e *Engine) wireName(r ief.ClaimRef, protocol string) string {
	if r.PartnerClaimType != "" {
		return r.PartnerClaimType
	}
	if ct := e.env.Policy.Claim(r.ClaimType); ct != nil {
		if n := ct.PartnerClaimTypes[protocol]; n != "" {
			return n
		}
		return ct.ID
	}
	return r.ClaimType
}
