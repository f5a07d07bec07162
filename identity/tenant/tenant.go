// Package tenant is identity's leaf: the tenant model (app registrations,
// exposed scopes, user flows and custom policies' flows, built and checked
// from the config by NewRegistry), the sign-in transaction and the
// interfaces between the provider and the hosted pages (Interaction,
// Completer), and the limits an anonymous caller meets. The provider
// (package identity), the hosted pages (userflow), API connectors and
// password rules import it; it imports none of them.
package tenant

import (
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Registry is the tenant as configured: app registrations, exposed APIs and
// user flows, checked and indexed at load.
type Registry struct {
	TenantName string           // "contoso" (the "contoso.onmicrosoft.com" domain is derived)
	TenantID   string           // GUID
	PublicURL  string           // scheme://host[:port][/base], no trailing slash
	Apps       map[string]*App  // by client id (lower-case GUID)
	Flows      map[string]*Flow // by lower-cased flow name (B2C names are case-insensitive)
	// APIs by identifier URI (web apps exposing scopes).
	APIs map[string]*App
	// IdentityProviders user flows offer, by lower-cased name.
	IdentityProviders map[string]*IdentityProvider
	// Extensions are the declared custom attributes by name (without the
	// extension_ prefix) and their types (string, boolean, int); empty:
	// any, as strings. ExtensionsAppID is the extensions app's id without
	// dashes ("" when not given).
	Extensions      map[string]string
	ExtensionsAppID string
	// Source is the config the registry was built from.
	Source *config.Identity
}

// Domain is the tenant's initial domain, "contoso.onmicrosoft.com".
func (r *Registry) Domain() string { return r.TenantName + ".onmicrosoft.com" }

// RedirectURI is where identity providers send the browser back, B2C's
// {host}/{tenant}.onmicrosoft.com/oauth2/authresp.
func (r *Registry) RedirectURI() string {
	return strings.TrimSuffix(r.PublicURL, "/") + "/" + r.Domain() + "/oauth2/authresp"
}

// App is an app registration.
type App struct {
	Name           string
	ClientID       string
	Type           string // spa | web | daemon
	RedirectURIs   []string
	PostLogoutURIs []string
	// IdentifierURI and Scopes: the API this app exposes
	// ("https://contoso.onmicrosoft.com/backend", ["Hello"]).
	IdentifierURI string
	Scopes        []string
	// Permissions are the granted (admin-consented) scopes of other APIs,
	// as full strings "https://contoso.onmicrosoft.com/backend/Hello" or
	// ".../.default".
	Permissions []string
	// SecretHashes are keyed hashes of the client secrets (never the
	// secrets): high-entropy secrets need no slow hash, so the token
	// endpoint verifies one in microseconds.
	SecretHashes [][]byte
	// ImplicitIDTokens and ImplicitAccessTokens: the app may receive id
	// tokens / access tokens from the authorization endpoint (implicit
	// and hybrid response types; config implicitGrant).
	ImplicitIDTokens, ImplicitAccessTokens bool
	// GraphPermissions are the app's Graph application permissions (the
	// roles of its Graph tokens).
	GraphPermissions []string
}

// The Graph application permissions the directory API knows.
const (
	GraphUserReadAll      = "User.Read.All"
	GraphUserReadWriteAll = "User.ReadWrite.All"
	GraphAuditLogReadAll  = "AuditLog.Read.All"
)

// Public reports whether the app is a public client (no secret).
func (a *App) Public() bool { return a.Type == "spa" }

// Flow is a user flow.
type Flow struct {
	Name              string // canonical case, as configured ("B2C_1_signupsignin1")
	Type              string // signUpOrSignIn | passwordReset | profileEdit | journey (a custom policy on the engine)
	Attributes        []string
	EmailVerification bool
	Claims            []string
	APIConnectors     map[string]string // step -> connector name
	Password          PasswordRules
	AccessTokenTTL    time.Duration
	IDTokenTTL        time.Duration
	RefreshTokenTTL   time.Duration
	RollingRefreshTTL time.Duration
	// Languages are the hosted pages' enabled languages (locale tags;
	// none: all built-in), DefaultLanguage the fallback ("": English, or
	// the first of Languages).
	Languages       []string
	DefaultLanguage string
	// IdentityProviders are a sign-up or sign-in flow's sign-in options:
	// LocalProvider and Registry.IdentityProviders names, in order.
	IdentityProviders []string
	// MFA is the flow's second factor (nil: none).
	MFA *MFA
	// Custom marks a custom policy (B2C_1A_..., see AddCustomPolicies):
	// the hosted pages run its journey on the policy engine; Name is the
	// relying party's PolicyId.
	Custom bool
	// ACR puts the policy in the acr claim instead of tfp (a JwtIssuer's
	// AuthenticationContextReferenceClaimPattern PolicyId).
	ACR bool
	// IssuerTfp: the flow's tokens and discovery name the issuer with the
	// policy, {publicUrl}/tfp/{tenant id}/{policy}/v2.0/ (a JwtIssuer's
	// IssuanceClaimPattern AuthorityWithTfp).
	IssuerTfp bool
}

// PasswordRules are the flow's password complexity.
type PasswordRules struct {
	MinLength, MaxLength int
	Classes              int  // how many of lower, upper, digit, symbol are required
	DigitsOnly           bool // character set "numbers"
}

// Token lifetimes of B2C (defaults, limits).
const (
	DefaultAccessTokenTTL    = 60 * time.Minute
	DefaultRefreshTokenTTL   = 14 * 24 * time.Hour
	DefaultRollingRefreshTTL = 90 * 24 * time.Hour
	// SPARefreshTokenTTL: refresh tokens of SPAs always live 24 h in B2C.
	SPARefreshTokenTTL = 24 * time.Hour
	// CodeTTL: authorization codes live about 10 minutes, fixed.
	CodeTTL = 10 * time.Minute
)
