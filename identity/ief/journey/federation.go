package journey

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief"
)

// Federation is a provider the browser visits: an OAuth2, OpenID Connect
// or SAML identity provider. The journey stops at its profile with a
// Redirect; the provider's answer (the callback's parameters) comes back
// as an Input with Action "federated".
type Federation interface {
	// Start returns where to send the browser. It may keep what Finish
	// needs (state, nonce, PKCE verifier) in c.State.Federation.
	Start(ctx context.Context, c *Call) (*Redirect, error)
	// Finish turns the provider's answer into the profile's output claims
	// by claim type id. A cancel or a refusal by the provider is a
	// *UserError (B2C's codes).
	Finish(ctx context.Context, c *Call, answer map[string]string) (Bag, error)
}

// Redirect sends the browser to an identity provider: a GET of URL, or
// with Form a POST of the form to URL (SAML's POST binding).
type Redirect struct {
	Profile string
	URL     string
	Form    map[string]string
}

// ActionFederated is the Input action carrying an identity provider's
// answer (Input.Values are the callback's parameters).
const ActionFederated = "federated"

func (e *Engine) federation(tp *ief.TechnicalProfile) Federation {
	if tp.Provider == nil || !tp.Provider.Federated {
		return nil
	}
	return e.env.Federations[tp.Provider.Name]
}

// federate runs an identity provider's profile: the redirect, then, with
// the answer, its output claims as run() does for other providers.
func (e *Engine) federate(ctx context.Context, st *State, tp *ief.TechnicalProfile, fed Federation, in *Input) (*Outcome, bool, error) {
	if in == nil || st.Page != tp.ID || in.Profile != tp.ID || in.Action != ActionFederated {
		if err := e.transform(st, tp.InputTx); err != nil {
			return nil, false, err
		}
		call, err := e.call(st, tp)
		if err != nil {
			return nil, false, err
		}
		st.Federation = map[string]string{}
		rd, err := fed.Start(ctx, call)
		if err != nil {
			return nil, false, err
		}
		if rd == nil || rd.URL == "" {
			return nil, false, fmt.Errorf("journey: %s: the identity provider gave no redirect", tp.ID)
		}
		rd.Profile = tp.ID
		st.Page = tp.ID
		return &Outcome{Redirect: rd}, false, nil
	}
	call, err := e.call(st, tp)
	if err != nil {
		return nil, false, err
	}
	out, err := fed.Finish(ctx, call, in.Values)
	st.Page, st.Federation = "", nil // an answer is used once
	if err != nil {
		return nil, false, err
	}
	e.outputs(st, tp, out)
	if err := e.transform(st, tp.OutputTx); err != nil {
		return nil, false, err
	}
	e.record(st, tp)
	return nil, true, nil
}

// ErrProviderCancelled is the user declining at an identity provider:
// B2C answers the app access_denied.
var ErrProviderCancelled = &UserError{Code: "AADB2C90273", Message: "The user has cancelled the sign-in at the identity provider."}

// TransactionValue is the journey value (State.Values) holding the sign-in
// transaction's id, which a provider's state parameter carries back.
const TransactionValue = "Gatehouse:Transaction"

// FederationStateKey is the State.Federation entry a provider's Start sets
// to a random value for the state parameter.
const FederationStateKey = "state"

// FederationState is the state parameter of a redirect: the transaction
// (so the callback finds it) and the random value kept in the journey.
func FederationState(txID string, st *State) string {
	return txID + "." + st.Federation[FederationStateKey]
}

// SplitFederationState returns the transaction id of a callback's state.
func SplitFederationState(state string) (txID string, ok bool) {
	i := strings.LastIndexByte(state, '.')
	if i <= 0 || i == len(state)-1 {
		return "", false
	}
	return state[:i], true
}

// CheckFederationState reports, in constant time, whether a callback's
// state is the one the journey's redirect carried.
func CheckFederationState(state string, st *State) bool {
	i := strings.LastIndexByte(state, '.')
	want := st.Federation[FederationStateKey]
	return i > 0 && want != "" && subtle.ConstantTimeCompare([]byte(state[i+1:]), []byte(want)) == 1
}
