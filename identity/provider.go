package identity

import (
	"context"
	"errors"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/keyring"
	"github.com/gatehouse/gatehouse/store"
)

// Options tune a Provider. The zero value is production.
type Options struct {
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
	// Logger receives operational messages (slog.Default when nil).
	Logger *slog.Logger
	// KeyRefreshEvery is how often signing keys are re-read from the
	// store (1 min); KeyPublishAhead how long a new key is published
	// before it signs (24 h).
	KeyRefreshEvery time.Duration
	KeyPublishAhead time.Duration
	// TransactionTTL is how long a pending sign-in lives (1 h).
	TransactionTTL time.Duration
	// Events records security events (failed client authentication,
	// throttled callers, rejected requests); nil logs them to Logger's
	// default without counting.
	Events *secevent.Recorder
	// Metrics counts requests, tokens, sign-ins and sign-ups (nil: not
	// counted).
	Metrics *idmetrics.Metrics
}

// Provider is the OpenID provider with B2C's URL layout. It is an
// http.Handler (mount it at the root of the identity listener) and the
// Completer the hosted pages call.
type Provider struct {
	reg      *Registry
	st       store.Store
	keys     *keyring.Keyring
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	issuer   string
	basePath string // path of publicUrl ("" or "/base")

	// limits: identity.lockout, identity.throttle and
	// identity.trustedProxies with their defaults.
	limits *Limits

	interaction atomic.Pointer[interactionBox]
	spaOrigins  map[string]bool // CORS on the token endpoint
	ccTemplates sync.Map        // client credentials: key -> *ccTemplate
	secrets     secretGuard     // client-secret guessing throttle (secret.go)
}

type interactionBox struct{ Interaction }

var _ Completer = (*Provider)(nil)

// NewProvider makes the provider: it opens the keyring (creating the first
// signing key when the store has none) with the master key and the signing
// settings of reg.Source.
func NewProvider(reg *Registry, st store.Store, opts Options) (*Provider, error) {
	if reg == nil || st == nil {
		return nil, errors.New("identity: NewProvider needs a registry and a store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TransactionTTL <= 0 {
		opts.TransactionTTL = time.Hour
	}
	u, err := url.Parse(reg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("identity: publicUrl: %w", err)
	}
	p := &Provider{
		reg: reg, st: st, opts: opts, log: opts.Logger, now: opts.Now,
		issuer:     reg.PublicURL + "/" + reg.TenantID + "/v2.0/",
		basePath:   strings.TrimRight(u.Path, "/"),
		spaOrigins: map[string]bool{},
	}
	for _, a := range reg.Apps {
		if a.Type != "spa" {
			continue
		}
		for _, ru := range a.RedirectURIs {
			if o := origin(ru); o != "" {
				p.spaOrigins[o] = true
			}
		}
	}
	if reg.Source == nil {
		return nil, errors.New("identity: the registry has no Source config")
	}
	p.limits = NewLimits(reg.Source)
	mk, err := keyring.MasterKey(reg.Source)
	if err != nil {
		return nil, err
	}
	ko := keyring.Options{
		Algorithm:        "RS256",
		MaxTokenLifetime: p.maxTokenLifetime(),
		PublishAhead:     opts.KeyPublishAhead,
		RefreshEvery:     opts.KeyRefreshEvery,
		Now:              opts.Now,
		Logger:           opts.Logger,
	}
	if s := reg.Source.Signing; s != nil {
		if s.Algorithm != "" {
			ko.Algorithm = s.Algorithm
		}
		ko.RotateEvery = s.RotateEvery.D
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.keys, err = keyring.New(ctx, st.SigningKeys(), mk, ko)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// SetInteraction connects the hosted pages. Call it before serving.
func (p *Provider) SetInteraction(i Interaction) { p.interaction.Store(&interactionBox{i}) }

func (p *Provider) pages() Interaction {
	if b := p.interaction.Load(); b != nil {
		return b.Interaction
	}
	return nil
}

// Issuer is the iss of every token: {publicUrl}/{tenantId}/v2.0/.
func (p *Provider) Issuer() string { return p.issuer }

// issuerOf is the issuer of a flow's tokens: the tenant's, or with
// IssuanceClaimPattern AuthorityWithTfp the policy's own.
func (p *Provider) issuerOf(f *Flow) string {
	if f != nil && f.IssuerTfp {
		return strings.TrimSuffix(p.reg.PublicURL, "/") + "/tfp/" + p.reg.TenantID + "/" + f.Name + "/v2.0/"
	}
	return p.issuer
}

// ownIssuer reports whether iss is one of this provider's issuers.
func (p *Provider) ownIssuer(iss string) bool {
	if iss == p.issuer {
		return true
	}
	for _, f := range p.reg.Flows {
		if f.IssuerTfp && iss == p.issuerOf(f) {
			return true
		}
	}
	return false
}

// Keyring is the signing keyring (for operations and tests).
func (p *Provider) Keyring() *keyring.Keyring { return p.keys }

// maxTokenLifetime is the longest signed-token lifetime of any flow: how
// long a retired signing key stays in the JWKS.
func (p *Provider) maxTokenLifetime() time.Duration {
	max := DefaultAccessTokenTTL
	for _, f := range p.reg.Flows {
		if f.AccessTokenTTL > max {
			max = f.AccessTokenTTL
		}
		if f.IDTokenTTL > max {
			max = f.IDTokenTTL
		}
	}
	return max
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
