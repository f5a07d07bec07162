package tenant

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/internal/config"
)

var (
	guidRE       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tenantNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}$`)
	flowNameRE   = regexp.MustCompile(`(?i)^b2c_1_[a-z0-9_.-]+$`)
	scopeNameRE  = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
)

// B2C's built-in user attributes a user flow may collect.
var builtinAttributes = set("displayName", "givenName", "surname", "city", "country", "jobTitle",
	"postalCode", "state", "streetAddress", "email")

// B2C's application claims a user flow may return.
var applicationClaims = set("displayName", "givenName", "surname", "city", "country", "jobTitle",
	"postalCode", "state", "streetAddress", "emails", "objectId", "newUser", "identityProvider",
	"identityProviderAccessToken", "legalAgeGroupClassification")

// MinSecretLength is the shortest client secret accepted: the secrets are
// checked with a fast keyed hash, so they must be high-entropy.
const MinSecretLength = 16

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// NewRegistry checks the identity section and indexes it. All problems are
// returned at once as config.Errors (file:line:col: message).
func NewRegistry(cfg *config.Identity) (*Registry, error) {
	if cfg == nil {
		return nil, fmt.Errorf("identity: no identity section")
	}
	v := &regValidator{}
	reg := &Registry{
		Apps:   map[string]*App{},
		Flows:  map[string]*Flow{},
		APIs:   map[string]*App{},
		Source: cfg,
	}
	v.tenant(cfg, reg)
	v.publicURL(cfg, reg)
	v.extensions(cfg, reg)
	v.apps(cfg, reg)
	v.identityProviders(cfg, reg)
	v.flows(cfg, reg)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return reg, nil
}

type regValidator struct{ errs config.Errors }

func (v *regValidator) add(p config.Pos, format string, args ...any) {
	v.errs = append(v.errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (v *regValidator) tenant(cfg *config.Identity, reg *Registry) {
	t := cfg.Tenant
	pos := t.Pos
	if pos == (config.Pos{}) {
		pos = cfg.Pos
	}
	name := strings.ToLower(strings.TrimSuffix(strings.ToLower(t.Name), ".onmicrosoft.com"))
	switch {
	case t.Name == "":
		v.add(pos, "identity.tenant.name is required (for example contoso, which makes contoso.onmicrosoft.com)")
	case !tenantNameRE.MatchString(name):
		v.add(pos, "identity.tenant.name %q must be letters, digits and hyphens (for example contoso)", t.Name)
	}
	reg.TenantName = name
	switch {
	case t.ID == "":
		v.add(pos, "identity.tenant.id is required: the tenant's GUID (it is in the issuer of every token)")
	case !guidRE.MatchString(t.ID):
		v.add(pos, "identity.tenant.id %q is not a GUID", t.ID)
	}
	reg.TenantID = strings.ToLower(t.ID)
}

func (v *regValidator) publicURL(cfg *config.Identity, reg *Registry) {
	if cfg.PublicURL == "" {
		v.add(cfg.Pos, "identity.publicUrl is required: the URL browsers and apps reach the identity role at (issuer and endpoints are built from it)")
		return
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.add(cfg.Pos, "identity.publicUrl %q must be an absolute https URL without query or fragment", cfg.PublicURL)
		return
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		v.add(cfg.Pos, "identity.publicUrl %q must use https (http is allowed only for localhost and 127.0.0.1)", cfg.PublicURL)
	}
	reg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// redirectURI checks a redirect or post-logout URI: an absolute https URL,
// or http on a loopback host; no wildcards, no fragment.
func (v *regValidator) redirectURI(p config.Pos, key, s string) {
	if strings.Contains(s, "*") {
		v.add(p, "%s: %q contains a wildcard; redirect URIs are matched exactly (RFC 9700)", key, s)
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.add(p, "%s: %q is not an absolute https URL", key, s)
		return
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		v.add(p, "%s: %q must not contain a fragment", key, s)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		v.add(p, "%s: %q must use https (http is allowed only for localhost and 127.0.0.1)", key, s)
	}
}

// extensions checks identity.extensionAttributes and extensionsAppId.
func (v *regValidator) extensions(cfg *config.Identity, reg *Registry) {
	reg.Extensions = map[string]string{}
	for i, e := range cfg.ExtensionAttributes {
		key := fmt.Sprintf("identity.extensionAttributes[%d]", i)
		name := strings.TrimPrefix(e.Name, "extension_")
		switch {
		case !providerNameRE.MatchString(name) || strings.Contains(name, "-"):
			v.add(e.Pos, "%s: name %q must be a letter, then letters, digits or '_'", key, e.Name)
		case reg.Extensions[name] != "":
			v.add(e.Pos, "%s: %q is declared twice", key, name)
		case e.Type != "string" && e.Type != "boolean" && e.Type != "int":
			v.add(e.Pos, "%s: type %q must be string, boolean or int (B2C's data types)", key, e.Type)
		default:
			reg.Extensions[name] = e.Type
		}
	}
	if id := cfg.ExtensionsAppID; id != "" {
		if !guidRE.MatchString(id) {
			v.add(cfg.Pos, "identity.extensionsAppId %q is not a GUID (the b2c-extensions-app's client id)", id)
		}
		reg.ExtensionsAppID = strings.ToLower(strings.ReplaceAll(id, "-", ""))
	}
}

func (v *regValidator) apps(cfg *config.Identity, reg *Registry) {
	for i := range cfg.Apps {
		a := &cfg.Apps[i]
		key := fmt.Sprintf("identity.apps[%d]", i)
		if a.Name != "" {
			key = fmt.Sprintf("identity.apps[%s]", a.Name)
		}
		app := &App{
			Name:           a.Name,
			ClientID:       strings.ToLower(a.ClientID),
			Type:           a.Type,
			RedirectURIs:   a.RedirectURIs,
			PostLogoutURIs: a.PostLogoutURIs,
			IdentifierURI:  strings.TrimRight(a.IdentifierURI, "/"),
			Scopes:         a.Scopes,
			Permissions:    a.Permissions,
		}
		for _, gp := range a.GraphPermissions {
			switch {
			case gp != GraphUserReadAll && gp != GraphUserReadWriteAll && gp != GraphAuditLogReadAll:
				v.add(a.Pos, "%s.graphPermissions: %q is not User.Read.All, User.ReadWrite.All or AuditLog.Read.All", key, gp)
			case a.Type == "spa":
				v.add(a.Pos, "%s.graphPermissions: Graph application permissions are for confidential apps (web or daemon), not a spa", key)
			default:
				app.GraphPermissions = append(app.GraphPermissions, gp)
			}
		}
		if ig := a.ImplicitGrant; ig != nil {
			app.ImplicitIDTokens, app.ImplicitAccessTokens = ig.IDTokens, ig.AccessTokens
			if a.Type == "daemon" && (ig.IDTokens || ig.AccessTokens) {
				p := ig.Pos
				if p == (config.Pos{}) {
					p = a.Pos
				}
				v.add(p, "%s.implicitGrant: a daemon signs no users in and cannot use the implicit grant", key)
			}
		}
		switch {
		case a.ClientID == "":
			v.add(a.Pos, "%s: clientId is required (a GUID)", key)
		case !guidRE.MatchString(a.ClientID):
			v.add(a.Pos, "%s: clientId %q is not a GUID", key, a.ClientID)
		case reg.Apps[app.ClientID] != nil:
			v.add(a.Pos, "%s: clientId %s is used by another app (%s)", key, a.ClientID, reg.Apps[app.ClientID].Name)
		default:
			reg.Apps[app.ClientID] = app
		}
		switch a.Type {
		case "spa":
			if len(a.RedirectURIs) == 0 {
				v.add(a.Pos, "%s: a spa needs at least one redirect URI (redirectUris)", key)
			}
			if len(a.ClientSecrets) > 0 {
				v.add(a.Pos, "%s: a spa is a public client and cannot have clientSecrets", key)
			}
		case "web", "daemon":
			if len(a.ClientSecrets) == 0 {
				v.add(a.Pos, "%s: a %s app needs at least one client secret (clientSecrets)", key, a.Type)
			}
			if a.Type == "daemon" && len(a.RedirectURIs) > 0 {
				v.add(a.Pos, "%s: a daemon signs no users in and has no redirectUris", key)
			}
		case "":
			v.add(a.Pos, "%s: type is required: spa, web or daemon", key)
		default:
			v.add(a.Pos, "%s: type %q must be spa, web or daemon", key, a.Type)
		}
		for _, u := range a.RedirectURIs {
			v.redirectURI(a.Pos, key+".redirectUris", u)
		}
		for _, u := range a.PostLogoutURIs {
			v.redirectURI(a.Pos, key+".postLogoutRedirectUris", u)
		}
		for _, s := range a.ClientSecrets {
			p := s.Pos
			if p == (config.Pos{}) {
				p = a.Pos
			}
			if len(s.Value) < MinSecretLength {
				v.add(p, "%s: a client secret must be at least %d characters of random data", key, MinSecretLength)
				continue
			}
			app.SecretHashes = append(app.SecretHashes, hashSecret(s.Value))
		}
		if a.IdentifierURI != "" {
			u, err := url.Parse(a.IdentifierURI)
			if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") || strings.ContainsAny(a.IdentifierURI, "*?#") {
				v.add(a.Pos, "%s: identifierUri %q is not an absolute URI (for example https://contoso.onmicrosoft.com/backend)", key, a.IdentifierURI)
			} else if other := reg.APIs[app.IdentifierURI]; other != nil {
				v.add(a.Pos, "%s: identifierUri %q is also used by %s", key, a.IdentifierURI, other.Name)
			} else {
				reg.APIs[app.IdentifierURI] = app
			}
		} else if len(a.Scopes) > 0 {
			v.add(a.Pos, "%s: scopes need an identifierUri (the scopes are {identifierUri}/{scope})", key)
		}
		seen := map[string]bool{}
		for _, s := range a.Scopes {
			switch {
			case s == ".default":
				v.add(a.Pos, "%s: .default is not a scope to expose; it is implied", key)
			case !scopeNameRE.MatchString(s):
				v.add(a.Pos, "%s: scope %q must be letters, digits, '.', '_', ':' or '-'", key, s)
			case seen[s]:
				v.add(a.Pos, "%s: scope %q is listed twice", key, s)
			}
			seen[s] = true
		}
	}
	// Permissions refer to other apps: a second pass.
	for i := range cfg.Apps {
		a := &cfg.Apps[i]
		for _, perm := range a.Permissions {
			if _, _, ok := reg.ResolveScope(perm); !ok {
				v.add(a.Pos, "identity.apps[%s].permissions: %q is not an exposed scope of a configured API ({identifierUri}/{scope} or {identifierUri}/.default)", a.Name, perm)
			}
		}
	}
}

// ResolveScope splits a full scope string into the API and the scope name
// (".default" included) when the API exists and exposes that scope.
func (r *Registry) ResolveScope(full string) (*App, string, bool) {
	i := strings.LastIndexByte(full, '/')
	if i <= 0 {
		return nil, "", false
	}
	api := r.APIs[strings.TrimRight(full[:i], "/")]
	name := full[i+1:]
	if api == nil {
		return nil, "", false
	}
	if name == ".default" {
		return api, name, true
	}
	for _, s := range api.Scopes {
		if s == name {
			return api, name, true
		}
	}
	return nil, "", false
}

func (v *regValidator) flows(cfg *config.Identity, reg *Registry) {
	connectors := map[string]bool{}
	for _, c := range cfg.APIConnectors {
		connectors[c.Name] = true
	}
	for i := range cfg.UserFlows {
		f := &cfg.UserFlows[i]
		key := fmt.Sprintf("identity.userFlows[%d]", i)
		if f.Name != "" {
			key = "identity.userFlows[" + f.Name + "]"
		}
		flow := &Flow{
			Name:              f.Name,
			Type:              f.Type,
			Attributes:        f.Attributes,
			EmailVerification: f.EmailVerification == nil || *f.EmailVerification,
			Claims:            f.Claims,
			APIConnectors:     f.APIConnectors,
			AccessTokenTTL:    DefaultAccessTokenTTL,
			IDTokenTTL:        DefaultAccessTokenTTL,
			RefreshTokenTTL:   DefaultRefreshTokenTTL,
			RollingRefreshTTL: DefaultRollingRefreshTTL,
		}
		switch {
		case f.Name == "":
			v.add(f.Pos, "%s: name is required (B2C_1_...)", key)
		case !flowNameRE.MatchString(f.Name):
			v.add(f.Pos, "%s: user flow names start with B2C_1_ followed by letters, digits, '_', '-' or '.' (B2C adds the prefix; B2C_1A_ is for custom policies)", key)
		case reg.Flows[strings.ToLower(f.Name)] != nil:
			v.add(f.Pos, "%s: another user flow has the name %q (names are case-insensitive)", key, f.Name)
		default:
			reg.Flows[strings.ToLower(f.Name)] = flow
		}
		switch f.Type {
		case "signUpOrSignIn", "passwordReset", "profileEdit":
		case "":
			v.add(f.Pos, "%s: type is required: signUpOrSignIn, passwordReset or profileEdit", key)
		default:
			v.add(f.Pos, "%s: type %q must be signUpOrSignIn, passwordReset or profileEdit", key, f.Type)
		}
		for _, a := range f.Attributes {
			if !builtinAttributes[a] && !strings.HasPrefix(a, "extension_") {
				v.add(f.Pos, "%s.attributes: %q is not a B2C user attribute (built-ins: displayName, givenName, surname, city, country, jobTitle, postalCode, state, streetAddress, email; custom: extension_Name)", key, a)
			}
		}
		for _, c := range f.Claims {
			if !applicationClaims[c] && !strings.HasPrefix(c, "extension_") {
				v.add(f.Pos, "%s.claims: %q is not a B2C application claim (for example displayName, emails, givenName, surname, objectId, newUser, identityProvider, extension_Name)", key, c)
			}
		}
		for step, name := range f.APIConnectors {
			if s, ok := LookupConnectorStep(step); !ok || s.Config != step {
				v.add(f.Pos, "%s.apiConnectors: step %q must be %s", key, step, ConnectorStepList())
			} else if s.B2C == StepPasswordMigration && f.Type == "passwordReset" {
				v.add(f.Pos, "%s.apiConnectors: passwordMigration checks passwords at sign-in; a password reset flow signs nobody in", key)
			}
			if !connectors[name] {
				v.add(f.Pos, "%s.apiConnectors: %q is not in identity.apiConnectors", key, name)
			}
		}
		v.password(f, key, flow)
		v.lifetimes(f, key, flow)
		v.languages(f, key, flow)
		v.flowProviders(f, key, flow, reg)
		v.mfa(f, key, flow, cfg)
	}
}

// languages checks a flow's language customization against the built-in
// languages (tags compared case-insensitively, stored canonical).
func (v *regValidator) languages(f *config.UserFlow, key string, flow *Flow) {
	builtin := func(s string) (string, bool) {
		for _, l := range locale.Supported() {
			if strings.EqualFold(string(l), s) {
				return string(l), true
			}
		}
		return "", false
	}
	var names []string
	for _, l := range locale.Supported() {
		names = append(names, string(l))
	}
	for _, s := range f.Languages {
		if l, ok := builtin(s); ok {
			flow.Languages = append(flow.Languages, l)
		} else {
			v.add(f.Pos, "%s.languages: %q is not a built-in language (%s)", key, s, strings.Join(names, ", "))
		}
	}
	if f.DefaultLanguage == "" {
		return
	}
	l, ok := builtin(f.DefaultLanguage)
	switch {
	case !ok:
		v.add(f.Pos, "%s.defaultLanguage: %q is not a built-in language (%s)", key, f.DefaultLanguage, strings.Join(names, ", "))
	case len(flow.Languages) > 0 && !slices.Contains(flow.Languages, l):
		v.add(f.Pos, "%s.defaultLanguage: %q is not one of the flow's languages", key, f.DefaultLanguage)
	default:
		flow.DefaultLanguage = l
	}
}

func (v *regValidator) password(f *config.UserFlow, key string, flow *Flow) {
	switch f.PasswordComplexity {
	case "simple":
		flow.Password = PasswordRules{MinLength: 8, MaxLength: 64, Classes: 1}
	case "", "strong":
		flow.Password = PasswordRules{MinLength: 8, MaxLength: 64, Classes: 3}
	case "custom":
		c := f.CustomPassword
		if c == nil {
			v.add(f.Pos, "%s: passwordComplexity custom needs customPassword (minLength, maxLength, characterClasses, characterSet)", key)
			return
		}
		r := PasswordRules{MinLength: c.MinLength, MaxLength: c.MaxLength, Classes: c.CharacterClasses}
		if r.MinLength == 0 {
			r.MinLength = 8
		}
		if r.MaxLength == 0 {
			r.MaxLength = 64
		}
		switch c.CharacterSet {
		case "", "all":
		case "numbers":
			r.DigitsOnly = true
		default:
			v.add(f.Pos, "%s.customPassword.characterSet %q must be all or numbers", key, c.CharacterSet)
		}
		if r.MinLength < 4 || r.MaxLength > 256 || r.MinLength > r.MaxLength {
			v.add(f.Pos, "%s.customPassword: lengths must satisfy 4 <= minLength <= maxLength <= 256", key)
		}
		switch {
		case r.DigitsOnly:
			r.Classes = 1
		case r.Classes == 0:
			r.Classes = 3
		case r.Classes < 2 || r.Classes > 4:
			v.add(f.Pos, "%s.customPassword.characterClasses must be 2, 3 or 4", key)
		}
		flow.Password = r
		return
	default:
		v.add(f.Pos, "%s: passwordComplexity %q must be simple, strong or custom", key, f.PasswordComplexity)
	}
	if f.CustomPassword != nil {
		v.add(f.Pos, "%s: customPassword needs passwordComplexity: custom", key)
	}
}

func (v *regValidator) lifetimes(f *config.UserFlow, key string, flow *Flow) {
	t := f.TokenLifetimes
	if t == nil {
		return
	}
	if f.Type == "passwordReset" {
		v.add(t.Pos, "%s: tokenLifetimes cannot be set on a passwordReset flow (as in B2C)", key)
		return
	}
	check := func(name string, d config.Duration, min, max time.Duration, dst *time.Duration) {
		if !d.IsSet() {
			return
		}
		p := d.Pos
		if p == (config.Pos{}) {
			p = t.Pos
		}
		if d.D < min || d.D > max {
			v.add(p, "%s.tokenLifetimes.%s %s is outside B2C's limits %s..%s", key, name, d.D, min, max)
			return
		}
		*dst = d.D
	}
	const day = 24 * time.Hour
	check("accessToken", t.AccessToken, 5*time.Minute, day, &flow.AccessTokenTTL)
	check("idToken", t.IDToken, 5*time.Minute, day, &flow.IDTokenTTL)
	if !t.IDToken.IsSet() {
		flow.IDTokenTTL = flow.AccessTokenTTL // one knob in B2C's user flows
	}
	check("refreshToken", t.RefreshToken, day, 90*day, &flow.RefreshTokenTTL)
	check("rollingRefresh", t.RollingRefresh, day, 365*day, &flow.RollingRefreshTTL)
	if flow.RollingRefreshTTL < flow.RefreshTokenTTL {
		v.add(t.Pos, "%s.tokenLifetimes: rollingRefresh (%s) must be at least refreshToken (%s)", key, flow.RollingRefreshTTL, flow.RefreshTokenTTL)
	}
}
