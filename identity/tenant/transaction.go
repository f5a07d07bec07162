package tenant

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// AuthRequest is a validated authorization request (the authorize
// endpoint's parameters after checking client, redirect URI, PKCE ...).
type AuthRequest struct {
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode"` // query | fragment | form_post
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              string   `json:"prompt,omitempty"` // login | none | ...
	LoginHint           string   `json:"login_hint,omitempty"`
	DomainHint          string   `json:"domain_hint,omitempty"`
	UILocales           string   `json:"ui_locales,omitempty"`
	MaxAge              *int     `json:"max_age,omitempty"`
	// Issuer is the flow's issuer, sent back as iss (RFC 9207); "" is the
	// tenant's.
	Issuer string `json:"iss,omitempty"`
	// Extra are the request's other query parameters, for custom policies'
	// {OAUTH-KV:name} claim resolvers (bounded: extraParams).
	Extra map[string]string `json:"extra,omitempty"`
}

// Transaction is a sign-in in progress, kept in store.Transactions (JSON in
// Data) so that any process can continue it.
type Transaction struct {
	ID        string      `json:"id"`
	Flow      string      `json:"flow"` // canonical flow name
	Request   AuthRequest `json:"request"`
	CreatedAt time.Time   `json:"created_at"`
	// State is the hosted pages' own progress (which step, the
	// verification id, collected attributes ...), opaque to the protocol.
	State []byte `json:"state,omitempty"`
	// SSO: the browser has a valid SSO session for a custom-policy flow;
	// the hosted pages run the policy's journey for it and complete
	// without asking for credentials.
	SSO bool `json:"sso,omitempty"`
}

// Result is what the hosted pages hand back when the user is done.
type Result struct {
	User             *store.User
	AuthTime         time.Time
	NewUser          bool
	IdentityProvider string // "" for local accounts
	// MFA: the sign-in (or the SSO session it came from) passed a second
	// factor.
	MFA bool
	// Claims are extra claims to put in the tokens (API connector
	// overrides, extension attributes), by claim name.
	Claims map[string]any
}

// Interaction is the hosted pages: sign-up, sign-in, password reset and
// profile edit. Package userflow implements it; the provider calls it.
type Interaction interface {
	// Begin shows the first page of the flow for a stored transaction.
	Begin(w http.ResponseWriter, r *http.Request, tx *Transaction)
	// Session returns the user of a valid SSO session cookie (for SSO and
	// prompt=none), or false.
	Session(r *http.Request) (*Result, bool)
	// SignOut ends the SSO session: cookie and stored session.
	SignOut(w http.ResponseWriter, r *http.Request)
	// ServeHTTP serves the pages' own requests: the provider routes every
	// path under /{tenant}/{policy}/api/ here, with the flow in the
	// request context (FlowFromContext).
	http.Handler
}

// Completer is implemented by the provider; the pages call it.
type Completer interface {
	// Transaction loads a pending sign-in (store.ErrNotFound when unknown
	// or expired).
	Transaction(ctx context.Context, id string) (*Transaction, error)
	// SaveTransaction stores the pages' progress (tx.State).
	SaveTransaction(ctx context.Context, tx *Transaction) error
	// Complete finishes the sign-in: issues the code (and tokens for
	// implicit responses) and sends the browser back to the app.
	Complete(w http.ResponseWriter, r *http.Request, tx *Transaction, res Result)
	// Fail sends the browser back to the app with an OAuth error, e.g.
	// access_denied "AADB2C90091: The user has cancelled entering
	// self-asserted information." when the user cancels.
	Fail(w http.ResponseWriter, r *http.Request, tx *Transaction, code, description string)
}

type flowKey struct{}

// WithFlow puts the resolved flow in a request context.
func WithFlow(ctx context.Context, f *Flow) context.Context {
	return context.WithValue(ctx, flowKey{}, f)
}

// FlowFromContext returns the flow the provider resolved from the URL.
func FlowFromContext(ctx context.Context) *Flow {
	f, _ := ctx.Value(flowKey{}).(*Flow)
	return f
}
