package ief

import (
	"sort"
	"strings"
)

// Provider is a technical-profile provider: what a profile's Protocol (and
// Handler) makes it do. Each provider is one file that registers itself;
// the loader finds a profile's provider here and checks its Metadata keys
// against the ones the provider reads, so a misspelt key is an error
// instead of a silently ignored setting.
type Provider struct {
	// Name is how messages and docs call it (SelfAsserted, JwtIssuer, ...).
	Name string
	// Handler is the Proprietary handler's type name it answers to;
	// Protocol the protocol name for the others.
	Handler, Protocol string
	// Match picks among providers sharing a protocol (OpenIdConnect is the
	// token issuer, the local password check or a federated provider).
	Match func(tp *TechnicalProfile) bool
	// Metadata are the keys the provider reads; a key ending in * is a
	// prefix (setting.*, UserMessageIf*).
	Metadata []string
	// Federated: an identity provider the browser visits (the journey
	// redirects to it and continues with its answer).
	Federated bool
	// NotYet, when set, makes a profile of this provider a load error with
	// this reason: B2C has it, Gatehouse does not run it yet.
	NotYet string
	// Check adds provider-specific load problems.
	Check func(c *checker, p *Policy, tp *TechnicalProfile)
}

// The identity providers' names, by which the HTTP side hands the engine
// their implementations (journey.Env.Federations).
const (
	ProviderOAuth2 = "OAuth2 identity provider"
	ProviderOIDC   = "OpenIdConnect identity provider"
	ProviderSAML2  = "SAML2 identity provider"
	// ProviderPhoneFactor is phone MFA, a page like SelfAsserted;
	// ProviderEmailFactor the same with an email code (Gatehouse's, for
	// user flows), and ProviderMFADecision whether a sign-in needs MFA.
	ProviderPhoneFactor = "PhoneFactor"
	ProviderEmailFactor = "EmailFactor"
	ProviderMFADecision = "MFADecision"
	EmailFactorHandler  = "Gatehouse.EmailFactorProvider"
	MFADecisionHandler  = "Gatehouse.MfaDecisionProvider"
	// ProviderTOTP checks an authenticator app's code (and enrols it), as
	// a validation profile of the user flows' TOTP page.
	ProviderTOTP = "TOTP"
	TOTPHandler  = "Gatehouse.TotpProvider"
	// ProviderAzureMfa and ProviderOneTimePassword: B2C's MFA service
	// (SMS codes, authenticator apps) and one-time-password providers.
	ProviderAzureMfa        = "AzureMfa"
	ProviderOneTimePassword = "OneTimePassword"
)

var providers []*Provider

func register(p *Provider) { providers = append(providers, p) }

// providerFor finds a profile's provider; nil when none matches.
func providerFor(tp *TechnicalProfile) *Provider {
	for _, p := range providers {
		if p.Handler != "" && p.Handler != tp.Handler {
			continue
		}
		if p.Protocol != "" && !strings.EqualFold(p.Protocol, tp.Protocol) {
			continue
		}
		if p.Handler == "" && tp.Handler != "" {
			continue
		}
		if p.Match != nil && !p.Match(tp) {
			continue
		}
		return p
	}
	return nil
}

// readsMetadata reports whether the provider reads the key.
func (p *Provider) readsMetadata(key string) bool {
	for _, k := range p.Metadata {
		if k == key || strings.HasSuffix(k, "*") && strings.HasPrefix(key, strings.TrimSuffix(k, "*")) {
			return true
		}
	}
	return false
}

// ProviderNames lists the registered providers (for docs and messages).
func ProviderNames() []string {
	var names []string
	for _, p := range providers {
		if p.NotYet == "" {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}
