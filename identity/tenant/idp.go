package tenant

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// IdentityProvider is a provider user flows offer beside local accounts,
// with a preset's endpoints filled in. Protocol is the policy engine's:
// OpenIdConnect or OAuth2.
type IdentityProvider struct {
	Pos                               config.Pos
	Name, Type, Protocol, DisplayName string
	ClientID                          string
	ClientSecret                      config.Secret
	// SecretKey is the policy key container holding the client secret
	// when clientSecret names one (B2C_1A_...) instead of a value.
	SecretKey                      string
	Scope, ResponseType, TokenAuth string
	MetadataURL                    string
	// OAuth2: the endpoints; ClaimsBearer sends the access token in the
	// Authorization header; JSONPaths reads claims such as data.id.
	AuthorizationEndpoint, TokenEndpoint, ClaimsEndpoint string
	TokenGET, ClaimsBearer, JSONPaths, PKCE              bool
	// Claims are the provider's names of userId, displayName, email,
	// givenName and surname.
	Claims map[string]string
	// Domain is the idp claim of its users and the domain_hint that picks
	// it ("" for an openIdConnect provider: the id_token's issuer).
	Domain string
	// An OpenID provider without discovery (Apple): its key set and issuer;
	// BodyClaims are the claims it posts beside the code.
	JWKS, Issuer, BodyClaims string
	// IssuerPrefixes are the issuers a multi-tenant provider accepts
	// (Entra ID: https://login.microsoftonline.com/{tenant id}).
	IssuerPrefixes []string
	// AssertionKey is private_key_jwt's certificate policy key.
	AssertionKey string
	// Apple's client secret is made from this key (teamId, keyId, p8):
	// the .p8 itself, or AppleKeyRef, a policy key container holding it.
	AppleTeamID, AppleKeyID string
	AppleKey                config.Secret
	AppleKeyRef             string
	// A SAML2 provider: PartnerEntity (its metadata's URL, or the metadata
	// itself), the signing and decryption certificates (policy keys) and
	// XmlSignatureAlgorithm. SigningKeyGenerated: no signingCertificate was
	// given; SigningKey is GeneratedSAMLSigningKey, made at start-up.
	PartnerEntity, SigningKey, DecryptionKey, SignatureAlgorithm string
	SigningKeyGenerated                                          bool
}

// GeneratedSAMLSigningKey is the policy key that signs a saml provider's
// AuthnRequests when the config names none: a self-signed certificate
// Gatehouse makes once and publishes in its SP metadata.
const GeneratedSAMLSigningKey = "B2C_1A_UserFlowSamlSigning"

// policyKeyRef is the policy key container a secret names (B2C_1A_...,
// written in the config rather than read from env: or file:), or "".
func policyKeyRef(s config.Secret) string {
	if s.IsSet() && !s.External && len(s.Value) > 7 && strings.EqualFold(s.Value[:7], "B2C_1A_") {
		return s.Value
	}
	return ""
}

// LocalProvider is the name of local accounts in a flow's identityProviders.
const LocalProvider = "local"

// The claims every provider maps (Gatehouse's names).
var providerClaims = []string{"userId", "displayName", "email", "givenName", "surname"}

var oidcClaims = map[string]string{"userId": "sub", "displayName": "name", "email": "email", "givenName": "given_name", "surname": "family_name"}

// presets are the providers B2C offers by name.
var presets = map[string]IdentityProvider{
	"openIdConnect": {Protocol: "OpenIdConnect", Scope: "openid profile email", Claims: oidcClaims},
	"google": {Protocol: "OpenIdConnect", DisplayName: "Google", Domain: "google.com", Scope: "openid profile email",
		MetadataURL: "https://accounts.google.com/.well-known/openid-configuration", Claims: oidcClaims},
	"microsoft": {Protocol: "OpenIdConnect", DisplayName: "Microsoft", Scope: "openid profile email",
		Claims: map[string]string{"userId": "oid", "displayName": "name", "email": "email", "givenName": "given_name", "surname": "family_name"}},
	"facebook": {Protocol: "OAuth2", DisplayName: "Facebook", Domain: "facebook.com", Scope: "email public_profile",
		AuthorizationEndpoint: "https://www.facebook.com/dialog/oauth", TokenEndpoint: "https://graph.facebook.com/oauth/access_token",
		ClaimsEndpoint: "https://graph.facebook.com/me?fields=id,first_name,last_name,name,email", TokenGET: true,
		Claims: map[string]string{"userId": "id", "displayName": "name", "email": "email", "givenName": "first_name", "surname": "last_name"}},
	"github": {Protocol: "OAuth2", DisplayName: "GitHub", Domain: "github.com", Scope: "read:user user:email",
		AuthorizationEndpoint: "https://github.com/login/oauth/authorize", TokenEndpoint: "https://github.com/login/oauth/access_token",
		ClaimsEndpoint: "https://api.github.com/user", ClaimsBearer: true,
		Claims: map[string]string{"userId": "id", "displayName": "name", "email": "email"}},
	"apple": {Protocol: "OpenIdConnect", DisplayName: "Apple", Domain: "apple.com", Scope: "name email openid",
		AuthorizationEndpoint: "https://appleid.apple.com/auth/authorize", TokenEndpoint: "https://appleid.apple.com/auth/token",
		JWKS: "https://appleid.apple.com/auth/keys", Issuer: "https://appleid.apple.com",
		BodyClaims: "user.name.firstName user.name.lastName user.email",
		Claims:     map[string]string{"userId": "sub", "email": "email", "givenName": "user.name.firstName", "surname": "user.name.lastName"}},
	"twitter": {Protocol: "OAuth2", DisplayName: "Twitter", Domain: "twitter.com", Scope: "users.read tweet.read",
		AuthorizationEndpoint: "https://twitter.com/i/oauth2/authorize", TokenEndpoint: "https://api.twitter.com/2/oauth2/token",
		ClaimsEndpoint: "https://api.twitter.com/2/users/me", ClaimsBearer: true, JSONPaths: true, PKCE: true, TokenAuth: "client_secret_basic",
		Claims: map[string]string{"userId": "data.id", "displayName": "data.name"}},
}

var providerNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// identityProviders checks identity.identityProviders.
func (v *regValidator) identityProviders(cfg *config.Identity, reg *Registry) {
	reg.IdentityProviders = map[string]*IdentityProvider{}
	for i := range cfg.IdentityProviders {
		c := &cfg.IdentityProviders[i]
		key := fmt.Sprintf("identity.identityProviders[%d]", i)
		if c.Name != "" {
			key = "identity.identityProviders[" + c.Name + "]"
		}
		switch {
		case !providerNameRE.MatchString(c.Name):
			v.add(c.Pos, "%s: name is required: a letter, then letters, digits, '-' or '_' (it is the sign-in button's id)", key)
			continue
		case strings.EqualFold(c.Name, LocalProvider):
			v.add(c.Pos, "%s: %q names local accounts in a flow's identityProviders; choose another name", key, c.Name)
			continue
		case reg.IdentityProviders[strings.ToLower(c.Name)] != nil:
			v.add(c.Pos, "%s: another identity provider has the name %q (names are case-insensitive)", key, c.Name)
			continue
		}
		if c.Type == "saml" {
			if p := v.samlProvider(c, key); p != nil {
				reg.IdentityProviders[strings.ToLower(c.Name)] = p
			}
			continue
		}
		preset, ok := presets[c.Type]
		switch {
		case !ok:
			v.add(c.Pos, "%s: type %q must be openIdConnect, microsoft, google, facebook, apple, github, twitter or saml", key, c.Type)
			continue
		}
		p := preset
		p.Pos, p.Name, p.Type = c.Pos, c.Name, c.Type
		p.DisplayName = cmp.Or(c.DisplayName, preset.DisplayName, c.Name)
		p.ClientID, p.ClientSecret, p.SecretKey = c.ClientID, c.ClientSecret, policyKeyRef(c.ClientSecret)
		p.Scope = cmp.Or(c.Scope, preset.Scope)
		p.TokenAuth = cmp.Or(c.TokenEndpointAuthMethod, preset.TokenAuth)
		p.MetadataURL = cmp.Or(c.MetadataURL, preset.MetadataURL)
		p.AuthorizationEndpoint = cmp.Or(c.AuthorizationEndpoint, preset.AuthorizationEndpoint)
		p.TokenEndpoint = cmp.Or(c.TokenEndpoint, preset.TokenEndpoint)
		p.ClaimsEndpoint = cmp.Or(c.ClaimsEndpoint, preset.ClaimsEndpoint)
		p.JWKS, p.Issuer = cmp.Or(c.JWKSURI, preset.JWKS), cmp.Or(c.Issuer, preset.Issuer)
		p.Domain = cmp.Or(c.DomainHint, preset.Domain)
		p.ResponseType = "code"
		if p.Protocol == "OpenIdConnect" && c.ResponseType != "" {
			p.ResponseType = c.ResponseType
		}
		p.Claims = map[string]string{}
		for k, val := range preset.Claims {
			p.Claims[k] = val
		}
		for k, val := range c.Claims {
			if !contains(providerClaims, k) {
				v.add(c.Pos, "%s.claims: %q is not one of %s", key, k, strings.Join(providerClaims, ", "))
			}
			p.Claims[k] = val
		}
		if c.Type == "microsoft" {
			switch t := strings.ToLower(c.Tenant); {
			case t == "":
				v.add(c.Pos, "%s: tenant is required: your Entra tenant's id or domain (the app registration's single tenant)", key)
			case t == "consumers":
				v.add(c.Pos, "%s: tenant consumers (personal Microsoft accounts) is not available; use organizations, common or your tenant", key)
			case t == "common" || t == "organizations":
				// Any Entra tenant's users (issuer per tenant, checked
				// against the token's tid), or those of allowedTenants.
				p.MetadataURL = cmp.Or(c.MetadataURL, "https://login.microsoftonline.com/"+t+"/v2.0/.well-known/openid-configuration")
				p.Domain = cmp.Or(c.DomainHint, "login.microsoftonline.com")
				for _, id := range c.AllowedTenants {
					if !guidRE.MatchString(id) {
						v.add(c.Pos, "%s: allowedTenants: %q is not a tenant id (a GUID)", key, id)
					}
					p.IssuerPrefixes = append(p.IssuerPrefixes, "https://login.microsoftonline.com/"+strings.ToLower(id)+"/")
				}
			default:
				p.MetadataURL = cmp.Or(c.MetadataURL, "https://login.microsoftonline.com/"+url.PathEscape(c.Tenant)+"/v2.0/.well-known/openid-configuration")
				p.Domain = cmp.Or(c.DomainHint, "login.microsoftonline.com")
			}
		}
		if c.ClientID == "" {
			v.add(c.Pos, "%s: clientId is required (the app registered at the provider)", key)
		}
		if c.Type == "apple" {
			p.AppleTeamID, p.AppleKeyID, p.AppleKey, p.AppleKeyRef = c.TeamID, c.KeyID, c.PrivateKey, policyKeyRef(c.PrivateKey)
			if c.TeamID == "" || c.KeyID == "" || !c.PrivateKey.IsSet() {
				v.add(c.Pos, "%s: Sign in with Apple needs teamId, keyId and privateKey (the .p8 file, file:AuthKey_KEYID.p8): Gatehouse signs the client secret", key)
			}
		}
		if p.Protocol == "OAuth2" && !c.ClientSecret.IsSet() {
			v.add(c.Pos, "%s: clientSecret is required (a policy key B2C_1A_..., env:NAME or file:PATH)", key)
		}
		if p.ResponseType != "code" && p.ResponseType != "id_token" {
			v.add(c.Pos, "%s: responseType %q must be code or id_token", key, p.ResponseType)
		}
		switch p.TokenAuth {
		case "", "client_secret_post", "client_secret_basic":
		case "private_key_jwt":
			if p.Protocol != "OpenIdConnect" || c.ClientAssertionKey == "" {
				v.add(c.Pos, "%s: private_key_jwt is for OpenID Connect providers and needs clientAssertionKey (a certificate policy key)", key)
			}
			p.AssertionKey = policyKeyName(c.ClientAssertionKey)
		default:
			v.add(c.Pos, "%s: tokenEndpointAuthMethod %q must be client_secret_post, client_secret_basic or private_key_jwt", key, p.TokenAuth)
		}
		urls := map[string]string{"metadataUrl": p.MetadataURL} // OpenID Connect: discovery
		switch {
		case p.Protocol == "OAuth2":
			urls = map[string]string{"authorizationEndpoint": p.AuthorizationEndpoint, "tokenEndpoint": p.TokenEndpoint, "claimsEndpoint": p.ClaimsEndpoint}
		case p.JWKS != "": // OpenID Connect without discovery (Apple)
			urls = map[string]string{"authorizationEndpoint": p.AuthorizationEndpoint, "tokenEndpoint": p.TokenEndpoint}
		}
		for _, name := range slices.Sorted(maps.Keys(urls)) {
			u := urls[name]
			if u == "" {
				if name != "claimsEndpoint" {
					v.add(c.Pos, "%s: %s is required (for an OpenID provider: its .well-known/openid-configuration)", key, name)
				}
				continue
			}
			if pu, err := url.Parse(u); err != nil || pu.Host == "" || pu.Scheme != "https" && !(pu.Scheme == "http" && loopbackHost(pu.Hostname())) {
				v.add(c.Pos, "%s: %s %q must be an https URL (http only on loopback)", key, name, u)
			}
		}
		reg.IdentityProviders[strings.ToLower(c.Name)] = &p
	}
}

// samlClaims are the attributes a SAML identity provider usually asserts
// (AD FS's and Entra's claim types); the NameID is the user's id.
var samlClaims = map[string]string{"userId": "assertionSubjectName",
	"displayName": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
	"email":       "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
	"givenName":   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
	"surname":     "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"}

// samlProvider checks a saml provider: SP-initiated SAML 2.0 with the
// identity provider's metadata from a URL or a file and signed requests.
func (v *regValidator) samlProvider(c *config.IdentityProvider, key string) *IdentityProvider {
	p := &IdentityProvider{Pos: c.Pos, Name: c.Name, Type: c.Type, Protocol: "SAML2", DisplayName: cmp.Or(c.DisplayName, c.Name),
		SigningKey: policyKeyName(c.SigningCertificate), DecryptionKey: policyKeyName(c.DecryptionCertificate),
		SignatureAlgorithm: cmp.Or(c.SignatureAlgorithm, "Sha256"), Claims: map[string]string{}}
	maps.Copy(p.Claims, samlClaims)
	for k, val := range c.Claims {
		if !contains(providerClaims, k) {
			v.add(c.Pos, "%s.claims: %q is not one of %s", key, k, strings.Join(providerClaims, ", "))
		}
		p.Claims[k] = val
	}
	switch {
	case c.MetadataURL != "" && c.Metadata.IsSet(), c.MetadataURL == "" && !c.Metadata.IsSet():
		v.add(c.Pos, "%s: a saml provider needs its metadata: metadataUrl or metadata (a file), one of them", key)
	case c.Metadata.IsSet():
		b, err := os.ReadFile(c.Metadata.Abs)
		if err != nil {
			v.add(c.Metadata.Pos, "%s: metadata: %v", key, err)
			break
		}
		p.PartnerEntity = string(b)
	default:
		pu, err := url.Parse(c.MetadataURL)
		if err != nil || pu.Host == "" || pu.Scheme != "https" && !(pu.Scheme == "http" && loopbackHost(pu.Hostname())) {
			v.add(c.Pos, "%s: metadataUrl %q must be an https URL (http only on loopback)", key, c.MetadataURL)
			break
		}
		p.PartnerEntity = c.MetadataURL
		p.Domain = pu.Hostname()
	}
	// The domain is the idp claim and the accounts' issuer: fixed by
	// domainHint, so that moving the metadata keeps the accounts.
	p.Domain = cmp.Or(c.DomainHint, p.Domain, c.Name)
	if p.SigningKey == "" {
		p.SigningKey, p.SigningKeyGenerated = GeneratedSAMLSigningKey, true
	}
	switch strings.ToLower(p.SignatureAlgorithm) {
	case "sha1", "sha256", "sha384", "sha512":
	default:
		v.add(c.Pos, "%s: signatureAlgorithm %q must be Sha1, Sha256, Sha384 or Sha512", key, c.SignatureAlgorithm)
	}
	if c.ClientID != "" || c.ClientSecret.IsSet() || c.Scope != "" {
		v.add(c.Pos, "%s: clientId, clientSecret and scope are not SAML settings (the service provider is the metadata's entity id)", key)
	}
	return p
}

// policyKeyName adds the B2C_1A_ prefix policy keys carry.
func policyKeyName(s string) string {
	if s == "" || strings.HasPrefix(strings.ToUpper(s), "B2C_1A_") {
		return s
	}
	return "B2C_1A_" + s
}

// flowProviders checks a flow's identityProviders.
func (v *regValidator) flowProviders(f *config.UserFlow, key string, flow *Flow, reg *Registry) {
	if len(f.IdentityProviders) == 0 {
		if flow.Type == "signUpOrSignIn" {
			flow.IdentityProviders = []string{LocalProvider}
		}
		return
	}
	if flow.Type != "signUpOrSignIn" {
		v.add(f.Pos, "%s.identityProviders: only sign-up or sign-in flows offer identity providers", key)
		return
	}
	seen := map[string]bool{}
	for _, n := range f.IdentityProviders {
		canon := n
		if !strings.EqualFold(n, LocalProvider) {
			p := reg.IdentityProviders[strings.ToLower(n)]
			if p == nil {
				v.add(f.Pos, "%s.identityProviders: %q is neither local nor in identity.identityProviders", key, n)
				continue
			}
			canon = p.Name
		} else {
			canon = LocalProvider
		}
		if seen[canon] {
			v.add(f.Pos, "%s.identityProviders: %q is listed twice", key, n)
			continue
		}
		seen[canon] = true
		flow.IdentityProviders = append(flow.IdentityProviders, canon)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MFA is a flow's multi-factor authentication.
type MFA struct {
	Methods     []string // email, phone, totp: in order of preference
	Enforcement string   // always or conditional
	RememberFor time.Duration
}

// MFA methods.
const (
	MFAEmail = "email"
	MFAPhone = "phone"
	MFATOTP  = "totp"
)

// mfa checks a flow's mfa settings.
func (v *regValidator) mfa(f *config.UserFlow, key string, flow *Flow, cfg *config.Identity) {
	m := f.MFA
	if m == nil {
		return
	}
	pos := m.Pos
	if pos == (config.Pos{}) {
		pos = f.Pos
	}
	switch m.Enforcement {
	case "off":
		return
	case "always", "conditional":
	case "":
		v.add(pos, "%s.mfa: enforcement is required: off, always or conditional", key)
		return
	default:
		v.add(pos, "%s.mfa: enforcement %q must be off, always or conditional", key, m.Enforcement)
		return
	}
	out := &MFA{Enforcement: m.Enforcement, RememberFor: time.Duration(m.RememberFor.Or(0))}
	for _, meth := range m.Methods {
		switch meth {
		case MFAEmail, MFAPhone, MFATOTP:
			if contains(out.Methods, meth) {
				v.add(pos, "%s.mfa: method %q is listed twice", key, meth)
			}
			out.Methods = append(out.Methods, meth)
		default:
			v.add(pos, "%s.mfa: method %q must be email, phone or totp", key, meth)
		}
	}
	if len(m.Methods) == 0 {
		v.add(pos, "%s.mfa: methods is required: email, phone and/or totp", key)
	}
	if contains(out.Methods, MFAPhone) && cfg.SMS == nil {
		v.add(pos, "%s.mfa: the phone method needs identity.sms (a webhook, or an outbox folder in development)", key)
	}
	if out.RememberFor < 0 || out.RememberFor > 90*24*time.Hour {
		v.add(pos, "%s.mfa: rememberFor must be between 0 and 90 days", key)
	}
	flow.MFA = out
}
