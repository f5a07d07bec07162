package config

import "net"

// Identity is the `identity:` section: the B2C-compatible OpenID provider.
type Identity struct {
	Pos            Pos            `yaml:"-"`
	Listen         string         `yaml:"listen"`
	TLS            *TLS           `yaml:"tls"`
	PublicURL      string         `yaml:"publicUrl"`
	Tenant         Tenant         `yaml:"tenant"`
	Storage        string         `yaml:"storage,resolve"` // may be env:NAME or file:PATH (it can hold a password)
	DeploymentMode string         `yaml:"deploymentMode"`  // Development | Production
	PolicyKeys     []PolicyKey    `yaml:"policyKeys"`
	Apps           []App          `yaml:"apps"`
	UserFlows      []UserFlow     `yaml:"userFlows"`
	APIConnectors  []APIConnector `yaml:"apiConnectors"`
	CustomPolicies []Path         `yaml:"customPolicies"`
	// ExtensionAttributes are the tenant's custom user attributes with
	// their types (B2C's user attributes blade); ExtensionsAppID is the
	// b2c-extensions-app's client id, which names them on the directory
	// API: extension_{id without dashes}_{name}.
	ExtensionAttributes []ExtensionAttribute `yaml:"extensionAttributes"`
	ExtensionsAppID     string               `yaml:"extensionsAppId"`
	// IdentityProviders are the providers user flows offer beside local
	// accounts (a flow's identityProviders names them).
	IdentityProviders []IdentityProvider `yaml:"identityProviders"`

	// MasterKey encrypts secrets at rest (signing keys, policy keys): 32
	// random bytes, base64. `gatehouse dev` makes one in its data dir.
	MasterKey Secret `yaml:"masterKey"`
	// Signing chooses the token signature and the key rotation schedule.
	Signing *Signing `yaml:"signing"`
	// Email sends verification codes: SMTP in production, an outbox folder
	// (one .eml file per message) in development.
	Email *Email `yaml:"email"`
	// SMS sends phone codes (MFA): a webhook (signed with secret) or an
	// outbox folder in development.
	SMS *SMS `yaml:"sms"`
	// Lockout is B2C's smart lockout (threshold 10, duration 60 s).
	Lockout *Lockout `yaml:"lockout"`
	// Throttle bounds what anonymous callers can make the identity role
	// do per client address, email address and client id (defaults in
	// Throttle's comments).
	Throttle *Throttle `yaml:"throttle"`
	// Audit is the audit log (sign-ins, lockouts, changes by operators
	// and apps).
	Audit *Audit `yaml:"audit"`
	// Console is the admin console at {publicUrl}/console/.
	Console *Console `yaml:"console"`
	// Session is the SSO session cookie lifetime (B2C: 1440 min).
	SessionLifetime Duration `yaml:"sessionLifetime"`
	// Page themes the hosted pages.
	Page *Page `yaml:"page"`
	// TrustedProxies are the addresses (CIDR) whose X-Forwarded-For is
	// believed when the identity role needs the client's address
	// (per-address limits); empty = none, the TCP peer is the client.
	TrustedProxies []string `yaml:"trustedProxies"`
}

// Signing configures token signing keys.
type Signing struct {
	Pos       Pos    `yaml:"-"`
	Algorithm string `yaml:"algorithm"` // RS256 (default, as B2C) or ES256
	// RotateEvery makes a new key that long after the current one started
	// signing (0 = never); the new key is published a day before it signs.
	RotateEvery Duration `yaml:"rotateEvery"`
}

// Email configures the verification-code sender.
type Email struct {
	Pos    Pos    `yaml:"-"`
	From   string `yaml:"from"`
	Outbox Path   `yaml:"outbox"` // a folder: messages are written there instead of sent
	SMTP   *SMTP  `yaml:"smtp"`

	KeyPos map[string]Pos `yaml:"-"` // where each key's value is (errors)
}

// SMS is identity.sms (package identity/sms documents the webhook).
type SMS struct {
	Pos     Pos    `yaml:"-"`
	Webhook string `yaml:"webhook"`
	Secret  Secret `yaml:"secret"`
	Outbox  Path   `yaml:"outbox"`
	// Voice offers "Call me" beside "Send code" on phone pages: the code
	// goes out with channel "call" (B2C's "SMS or phone call"); the
	// webhook's receiver places the call.
	Voice bool `yaml:"voice"`
}

// SMTP is a mail server.
type SMTP struct {
	Pos  Pos    `yaml:"-"`
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 587, or 465 with tls: implicit
	// TLS is the transport security: starttls-required (the default, but
	// implicit on port 465 and starttls-optional for a loopback host),
	// starttls-optional, implicit (TLS from the first byte) or none.
	TLS string `yaml:"tls"`
	// Auth is the SASL mechanism: plain (the default with a username),
	// login, cram-md5, xoauth2 or none (the default without one). plain,
	// login and xoauth2 send credentials only over TLS (or to a loopback
	// host).
	Auth     string `yaml:"auth"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"` // plain, login, cram-md5
	// Token is XOAUTH2's OAuth 2.0 access token (env:NAME or file:PATH,
	// read at start-up); or OAuth2 acquires tokens.
	Token  Secret      `yaml:"token"`
	OAuth2 *SMTPOAuth2 `yaml:"oauth2"`
	// ConnectTimeout bounds connecting (10s); Timeout the whole delivery
	// of one message (30s).
	ConnectTimeout Duration `yaml:"connectTimeout"`
	Timeout        Duration `yaml:"timeout"`

	KeyPos map[string]Pos `yaml:"-"` // where each key's value is (errors)
}

// SMTPOAuth2 acquires XOAUTH2 access tokens by the OAuth 2.0 client
// credentials grant (Microsoft 365: tokenUrl
// https://login.microsoftonline.com/TENANT/oauth2/v2.0/token, scope
// https://outlook.office365.com/.default).
type SMTPOAuth2 struct {
	Pos          Pos      `yaml:"-"`
	TokenURL     string   `yaml:"tokenUrl"`
	ClientID     string   `yaml:"clientId"`
	ClientSecret Secret   `yaml:"clientSecret"`
	Scopes       []string `yaml:"scopes"`
}

// SMTP TLS policies and auth mechanisms.
const (
	SMTPTLSStartTLSRequired = "starttls-required"
	SMTPTLSStartTLSOptional = "starttls-optional"
	SMTPTLSImplicit         = "implicit"
	SMTPTLSNone             = "none"

	SMTPAuthPlain   = "plain"
	SMTPAuthLogin   = "login"
	SMTPAuthCRAMMD5 = "cram-md5"
	SMTPAuthXOAUTH2 = "xoauth2"
	SMTPAuthNone    = "none"
)

// EffectiveTLS is the TLS policy with its default applied.
func (s *SMTP) EffectiveTLS() string {
	switch {
	case s.TLS != "":
		return s.TLS
	case s.Port == 465:
		return SMTPTLSImplicit
	case isLoopbackHost(s.Host):
		return SMTPTLSStartTLSOptional
	}
	return SMTPTLSStartTLSRequired
}

// EffectivePort is the port with its default applied (465 for implicit
// TLS, else 587).
func (s *SMTP) EffectivePort() int {
	switch {
	case s.Port != 0:
		return s.Port
	case s.TLS == SMTPTLSImplicit:
		return 465
	}
	return 587
}

// EffectiveAuth is the mechanism with its default applied.
func (s *SMTP) EffectiveAuth() string {
	switch {
	case s.Auth != "":
		return s.Auth
	case s.Username != "":
		return SMTPAuthPlain
	}
	return SMTPAuthNone
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Lockout configures smart lockout.
type Lockout struct {
	Pos       Pos      `yaml:"-"`
	Threshold int      `yaml:"threshold"` // failures before a lockout (10)
	Duration  Duration `yaml:"duration"`  // first lockout period (60s)
	// FamiliarDevices is how long a browser stays a familiar device of an
	// account after a successful sign-in (a signed cookie; 90d, at most
	// 400d). Failures from familiar devices and from everywhere else are
	// counted apart, so strangers locking the account out do not lock out
	// its owner's devices.
	FamiliarDevices Duration `yaml:"familiarDevices"`
}

// Throttle holds the identity role's fixed-window limits (counted in the
// store, so they hold across processes). Each is { limit: N, window: D }.
type Throttle struct {
	Pos Pos `yaml:"-"`
	// SignInFailuresPerIP: wrong passwords from one client address
	// (IPv6: its /64) from browsers that are not a familiar device of the
	// account (20 per 5m); over it sign-ins answer 429.
	SignInFailuresPerIP *Limit `yaml:"signInFailuresPerIp"`
	// CodesPerEmail and CodesPerIP: verification codes sent to one email
	// address (10 per 1h) and requested from one client address (30 per
	// 1h), across sign-in transactions.
	CodesPerEmail *Limit `yaml:"codesPerEmail"`
	CodesPerIP    *Limit `yaml:"codesPerIp"`
	// CodeGuessesPerEmail and CodeGuessesPerIP: code entries for one
	// email address (20 per 1h) and from one client address (60 per 1h).
	CodeGuessesPerEmail *Limit `yaml:"codeGuessesPerEmail"`
	CodeGuessesPerIP    *Limit `yaml:"codeGuessesPerIp"`
	// ClientSecretFailuresPerClient and ClientSecretFailuresPerIP: wrong
	// client secrets at the token endpoint for one client id (20 per 5m)
	// and from one client address (20 per 5m).
	ClientSecretFailuresPerClient *Limit `yaml:"clientSecretFailuresPerClient"`
	ClientSecretFailuresPerIP     *Limit `yaml:"clientSecretFailuresPerIp"`
	// AuthorizePerIP: authorization requests that start a sign-in (each
	// stores a transaction) from one client address (IPv6: its /64; 600
	// per 5m); over it authorize answers 429 (AADB2C90244).
	AuthorizePerIP *Limit `yaml:"authorizePerIp"`
	// GraphRequestsPerApp: directory API (Graph) requests of one app
	// (1,000 per 10s); over it the API answers 429 with Retry-After.
	GraphRequestsPerApp *Limit `yaml:"graphRequestsPerApp"`
}

// ExtensionAttribute is a custom user attribute: string, boolean or int.
type ExtensionAttribute struct {
	Pos  Pos    `yaml:"-"`
	Name string `yaml:"name"`
	Type string `yaml:"type"`
}

// Console configures the admin console ({publicUrl}/console/).
type Console struct {
	Pos Pos `yaml:"-"`
	// Disabled turns the console off (its pages answer 404).
	Disabled bool `yaml:"disabled"`
	// UserFlow is the user flow or custom policy administrators sign in
	// with (default: the first sign-up-or-sign-in user flow by name).
	UserFlow string `yaml:"userFlow"`
	// SessionLifetime is how long a console sign-in lasts (default 8h,
	// at most 24h).
	SessionLifetime Duration `yaml:"sessionLifetime"`
}

// Audit configures the audit log.
type Audit struct {
	Pos Pos `yaml:"-"`
	// Retention is how long events are kept (default 30 days).
	Retention Duration `yaml:"retention"`
	// Export copies each event as a JSON line to stdout or a file (a
	// SIEM's input): "stdout" or a path.
	Export string `yaml:"export"`
	// WritesPerMinute bounds the events stored (default 10,000; over it
	// they are counted as dropped).
	WritesPerMinute int `yaml:"writesPerMinute"`
}

// Limit is N events per fixed window.
type Limit struct {
	Pos    Pos      `yaml:"-"`
	Limit  int      `yaml:"limit"`
	Window Duration `yaml:"window"`
}

// Page themes the hosted pages (the B2C "company branding" and custom
// page layouts).
type Page struct {
	Pos          Pos    `yaml:"-"`
	Logo         string `yaml:"logo"`         // URL of the logo
	PrimaryColor string `yaml:"primaryColor"` // CSS colour of buttons and links
	Background   string `yaml:"background"`   // CSS colour of the page
	// Template is a custom HTML page: it must contain <div id="api"></div>,
	// where the form is placed (B2C's custom page content contract).
	Template Path `yaml:"template"`
}

// Tenant names the B2C tenant.
type Tenant struct {
	Pos  Pos    `yaml:"-"`
	Name string `yaml:"name"`
	ID   string `yaml:"id"`
}

// PolicyKey is a key container given in config.
type PolicyKey struct {
	Pos      Pos    `yaml:"-"`
	Name     string `yaml:"name"`
	Secret   Secret `yaml:"secret"`
	PFX      Secret `yaml:"pfx"`
	Password Secret `yaml:"password"`
	Generate string `yaml:"generate"` // rsa | ec | oct
	Use      string `yaml:"use"`      // sig | enc
}

// App is an app registration.
type App struct {
	Pos            Pos      `yaml:"-"`
	Name           string   `yaml:"name"`
	ClientID       string   `yaml:"clientId"`
	Type           string   `yaml:"type"` // spa | web | daemon
	RedirectURIs   []string `yaml:"redirectUris"`
	Permissions    []string `yaml:"permissions"`
	IdentifierURI  string   `yaml:"identifierUri"`
	Scopes         []string `yaml:"scopes"`
	ClientSecrets  []Secret `yaml:"clientSecrets"`
	PostLogoutURIs []string `yaml:"postLogoutRedirectUris"`
	// ImplicitGrant is Azure's "ID tokens / Access tokens (used for
	// implicit and hybrid flows)" checkboxes: without it the
	// authorization endpoint returns codes only.
	ImplicitGrant *ImplicitGrant `yaml:"implicitGrant"`
	// GraphPermissions are the Microsoft Graph application permissions
	// granted to a confidential app (User.Read.All, User.ReadWrite.All):
	// the roles of the tokens it gets for https://graph.microsoft.com/.default.
	GraphPermissions []string `yaml:"graphPermissions"`
}

// ImplicitGrant lets an app receive tokens from the authorization
// endpoint: IDTokens for response types with id_token (implicit and
// hybrid), AccessTokens for those with token.
type ImplicitGrant struct {
	Pos          Pos  `yaml:"-"`
	IDTokens     bool `yaml:"idTokens"`
	AccessTokens bool `yaml:"accessTokens"`
}

// UserFlow is a B2C user flow.
type UserFlow struct {
	Pos               Pos               `yaml:"-"`
	Name              string            `yaml:"name"`
	Type              string            `yaml:"type"`
	Attributes        []string          `yaml:"attributes"`
	EmailVerification *bool             `yaml:"emailVerification"`
	Claims            []string          `yaml:"claims"`
	APIConnectors     map[string]string `yaml:"apiConnectors"`
	// PasswordComplexity is simple, strong (default) or custom.
	PasswordComplexity string          `yaml:"passwordComplexity"`
	CustomPassword     *CustomPassword `yaml:"customPassword"`
	TokenLifetimes     *TokenLifetimes `yaml:"tokenLifetimes"`
	// Languages and DefaultLanguage are B2C's language customization:
	// the hosted pages' languages (built-in tags: en, de, pt-BR, ...;
	// none: all) and the one shown when ui_locales and the browser match
	// none of them (default en, or the first of languages).
	Languages       []string `yaml:"languages"`
	DefaultLanguage string   `yaml:"defaultLanguage"`
	// IdentityProviders are the sign-in options of a sign-up or sign-in
	// flow: local (email and password) and identity.identityProviders
	// names (default: [local]).
	IdentityProviders []string `yaml:"identityProviders"`
	// MFA is the flow's multi-factor authentication.
	MFA *MFA `yaml:"mfa"`
}

// MFA is a user flow's multi-factor authentication (B2C's MFA settings).
type MFA struct {
	Pos Pos `yaml:"-"`
	// Methods are the second factors offered, in order of preference:
	// email (a code to the account's address), phone (an SMS code;
	// identity.sms), totp (an authenticator app).
	Methods []string `yaml:"methods"`
	// Enforcement: off, always, or conditional (after a risky sign-in: a
	// browser new to the account, or recent failed sign-ins).
	Enforcement string `yaml:"enforcement"`
	// RememberFor skips MFA on a browser that passed it for this long
	// (B2C's "remember MFA"; 0: ask every time).
	RememberFor Duration `yaml:"rememberFor"`
}

// IdentityProvider is an identity provider user flows offer: a generic
// openIdConnect one, or a preset (microsoft, google, facebook, github,
// twitter) with the provider's endpoints filled in.
type IdentityProvider struct {
	Pos  Pos    `yaml:"-"`
	Name string `yaml:"name"`
	Type string `yaml:"type"` // openIdConnect | microsoft | google | facebook | github | twitter | apple | saml
	// DisplayName is the button's text (default: the preset's, or the name).
	DisplayName  string `yaml:"displayName"`
	ClientID     string `yaml:"clientId"`
	ClientSecret Secret `yaml:"clientSecret"`
	Scope        string `yaml:"scope"`
	// ResponseType of an openIdConnect provider: code (default) or id_token.
	ResponseType string `yaml:"responseType"`
	// TokenEndpointAuthMethod: client_secret_post (default),
	// client_secret_basic, or private_key_jwt with ClientAssertionKey (a
	// certificate policy key, B2C_1A_...).
	TokenEndpointAuthMethod string `yaml:"tokenEndpointAuthMethod"`
	ClientAssertionKey      string `yaml:"clientAssertionKey"`
	// MetadataURL is an OpenID Connect provider's discovery document, or a
	// saml provider's metadata (Metadata: the same from a file).
	MetadataURL string `yaml:"metadataUrl"`
	Metadata    Path   `yaml:"metadata"`
	// A saml provider's keys (certificate policy keys, B2C_1A_...):
	// SigningCertificate signs the AuthnRequests (SignatureAlgorithm Sha1,
	// Sha256, Sha384 or Sha512), DecryptionCertificate decrypts encrypted
	// assertions and makes them required.
	SigningCertificate    string `yaml:"signingCertificate"`
	DecryptionCertificate string `yaml:"decryptionCertificate"`
	SignatureAlgorithm    string `yaml:"signatureAlgorithm"`
	// Tenant is a microsoft provider's Entra tenant (id or domain), or
	// organizations/common for any Entra tenant — AllowedTenants (tenant
	// ids) then limits which.
	Tenant         string   `yaml:"tenant"`
	AllowedTenants []string `yaml:"allowedTenants"`
	// The OAuth2 presets' endpoints, to point them elsewhere (a proxy, a
	// test double).
	AuthorizationEndpoint string `yaml:"authorizationEndpoint"`
	TokenEndpoint         string `yaml:"tokenEndpoint"`
	ClaimsEndpoint        string `yaml:"claimsEndpoint"`
	// JWKSURI and Issuer: an OpenID provider without discovery (Apple's
	// preset has them).
	JWKSURI string `yaml:"jwksUri"`
	Issuer  string `yaml:"issuer"`
	// Claims map Gatehouse's claims (userId, displayName, email, givenName,
	// surname) to the provider's names.
	Claims map[string]string `yaml:"claims"`
	// TeamID, KeyID and PrivateKey are Sign in with Apple's: the client
	// secret is a JWT Gatehouse signs with the .p8 key for each request.
	TeamID     string `yaml:"teamId"`
	KeyID      string `yaml:"keyId"`
	PrivateKey Secret `yaml:"privateKey"`
	// DomainHint is the domain_hint that goes straight to this provider
	// and the idp claim of its users (default: the preset's, e.g.
	// google.com, or the metadata's issuer host).
	DomainHint string `yaml:"domainHint"`
}

// CustomPassword is B2C's "custom" password complexity.
type CustomPassword struct {
	MinLength        int    `yaml:"minLength"`        // >= 4
	MaxLength        int    `yaml:"maxLength"`        // <= 256
	CharacterClasses int    `yaml:"characterClasses"` // 2, 3 or 4 of lower/upper/digit/symbol
	CharacterSet     string `yaml:"characterSet"`     // all (default) or numbers
}

// TokenLifetimes are B2C's token lifetime settings of a user flow.
type TokenLifetimes struct {
	Pos          Pos      `yaml:"-"`
	AccessToken  Duration `yaml:"accessToken"`  // 60m (5m..24h); also the id token's
	IDToken      Duration `yaml:"idToken"`      // 60m (5m..24h)
	RefreshToken Duration `yaml:"refreshToken"` // 14d (1d..90d)
	// RollingRefresh is the sliding window: the family ends that long
	// after sign-in (90d, 1d..365d, >= RefreshToken).
	RollingRefresh Duration `yaml:"rollingRefresh"`
}

// APIConnector is a REST call made during a user flow.
type APIConnector struct {
	Pos                           Pos           `yaml:"-"`
	Name                          string        `yaml:"name"`
	EndpointURL                   string        `yaml:"endpointUrl"`
	AuthenticationType            string        `yaml:"authenticationType"`
	Username                      string        `yaml:"username"`
	Password                      string        `yaml:"password"`
	Certificate                   string        `yaml:"certificate"`
	BearerToken                   string        `yaml:"bearerToken"`
	APIKeyHeader                  *APIKeyHeader `yaml:"apiKeyHeader"`
	AllowInsecureAuthInProduction bool          `yaml:"allowInsecureAuthInProduction"`
	// ClientCredentials acquires the bearer token with OAuth2 client
	// credentials (Gatehouse's own token endpoint or any other) instead of
	// a static bearerToken key.
	ClientCredentials *ConnectorClientCredentials `yaml:"clientCredentials"`
	// Timeout of one attempt (B2C: 5 s for user-flow connectors) and the
	// number of attempts (B2C retries once).
	Timeout     Duration `yaml:"timeout"`
	MaxAttempts int      `yaml:"maxAttempts"`
}

// ConnectorClientCredentials is an OAuth2 client used to get a connector's
// bearer token.
type ConnectorClientCredentials struct {
	Pos           Pos      `yaml:"-"`
	TokenEndpoint string   `yaml:"tokenEndpoint"`
	ClientID      string   `yaml:"clientId"`
	ClientSecret  string   `yaml:"clientSecret"` // a policy key container (B2C_1A_...)
	Scopes        []string `yaml:"scopes"`
	// SecretInBody sends client_secret in the form instead of HTTP Basic.
	SecretInBody bool `yaml:"secretInBody"`
}

// APIKeyHeader names the header and the policy key holding its value.
type APIKeyHeader struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}
