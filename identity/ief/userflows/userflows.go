// Package userflows compiles Gatehouse's user flows (identity.userFlows:
// signUpOrSignIn, passwordReset, profileEdit with their attributes, email
// verification, password complexity, API connectors and languages) into
// policies of the policy engine, as B2C runs its user flows as built-in
// custom policies. The hosted pages then run user flows and custom
// policies on one code path (identity/ief/journey).
//
// Each flow becomes one self-contained policy file (policy.xml.tmpl) that
// goes through the same loader, schema check and rules as a tenant's own
// files; Source returns it for `gatehouse validate`-style inspection.
package userflows

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
)

//go:embed policy.xml.tmpl
var policyText string

var policyTmpl = template.Must(template.New("policy").Parse(policyText))

// Journey is the user journey id of every compiled flow.
const Journey = "UserFlow"

// attrNameRE is what an attribute name may be (the config checks it too;
// here it keeps the XML and form names safe whatever the caller passes).
var attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

// builtinAttrs are B2C's built-in user attributes Gatehouse labels; other
// names are custom attributes (extension_...).
var builtinAttrs = []string{"displayName", "givenName", "surname", "city", "country", "postalCode", "state",
	"streetAddress", "jobTitle"}

type attr struct {
	Name, Label string
	// PlainName: a name (display, given, surname) that ends up in pages
	// and apps that may write it as HTML: no markup, no control characters.
	PlainName bool
}

type lang struct{ Tag string }

type contentDef struct{ ID, Template, DataURI string }

type localized struct {
	Type, Element, ID, Text string
}

type resources struct {
	ID      string
	Strings []localized
}

// provider is an identity provider's technical profile.
type provider struct {
	Name, DisplayName, Protocol, Domain string
	Metadata                            []item
	Keys                                []item // CryptographicKeys: Id, StorageReferenceId
	Outputs                             []output
	// IdpClaim is the identityProvider claim's fixed value ("": the
	// id_token's issuer).
	IdpClaim string
}

type item struct{ Key, Value string }

type output struct{ Claim, Partner string }

type data struct {
	Name, Tenant, Type, Journey string
	Verify                      bool
	Attributes                  []attr
	Password                    tenant.PasswordRules
	PasswordHelp, LengthError   string
	ClassesError, NameHelp      string
	PostAttributeCollection     string
	PreTokenIssuance            string
	PostFederationSignup        string
	ConnectorHandler            string
	MFADecisionHandler          string
	EmailFactorHandler          string
	TOTPHandler                 string
	ContentDefs                 []contentDef
	Languages                   []lang
	DefaultLanguage             string
	Resources                   []resources
	// Local: the flow offers local accounts; Providers are its identity
	// providers, and NameClaims the built-in name claims they may fill
	// that the flow does not collect.
	Local      bool
	Providers  []provider
	NameClaims []attr
	// MFA: the flow asks for a second factor; MFAPhone, MFAEmail: which
	// of the methods its pages need.
	MFA, MFAPhone, MFAEmail, MFATOTP bool
	step                             int
}

// Next numbers the journey's steps.
func (d *data) Next() int {
	d.step++
	return d.step
}

// SecretRef is the policy-key name under which a compiled flow's profile
// reads an identity provider's client secret (identity.identityProviders'
// clientSecret; the key store need not hold it).
func SecretRef(providerName string) string { return "B2C_1A_UserFlowIdentityProvider_" + providerName }

// Source compiles a user flow into its policy file.
func Source(f *tenant.Flow, reg *tenant.Registry) (ief.Source, error) {
	switch f.Type {
	case "signUpOrSignIn", "passwordReset", "profileEdit":
	default:
		return ief.Source{}, fmt.Errorf("userflows: %s: type %q is not a user flow", f.Name, f.Type)
	}
	rules := password.Normalize(f.Password)
	d := &data{Name: f.Name, Tenant: reg.Domain(), Type: f.Type, Journey: Journey,
		Verify: f.EmailVerification || f.Type != "signUpOrSignIn", Password: rules,
		PasswordHelp: esc(password.Describe(rules)), NameHelp: esc(tenant.MsgNameCharacters),
		LengthError:      esc(locale.English.F("password_error_length", rules.MinLength, rules.MaxLength)),
		ClassesError:     esc(locale.English.F("password_error_classes", rules.Classes)),
		ConnectorHandler: ief.APIConnectorHandler, MFADecisionHandler: ief.MFADecisionHandler,
		EmailFactorHandler: ief.EmailFactorHandler, TOTPHandler: ief.TOTPHandler, Local: true}
	collected := map[string]bool{}
	if f.Type != "passwordReset" {
		for _, a := range f.Attributes {
			if a == "email" || !attrNameRE.MatchString(a) {
				continue
			}
			collected[a] = true
			d.Attributes = append(d.Attributes, attr{Name: a, Label: esc(label(locale.English, a)),
				PlainName: a == "displayName" || a == "givenName" || a == "surname"})
		}
	}
	if f.Type == "signUpOrSignIn" {
		// Attributes are collected (and validated by the API) at sign-up.
		d.PostAttributeCollection = tenant.ConnectorName(f, tenant.StepPostAttributeCollection)
		if err := d.providers(f, reg); err != nil {
			return ief.Source{}, err
		}
		if len(d.Providers) > 0 {
			d.PostFederationSignup = tenant.ConnectorName(f, tenant.StepPostFederationSignup)
			for _, n := range []string{"displayName", "givenName", "surname"} {
				if !collected[n] {
					d.NameClaims = append(d.NameClaims, attr{Name: n, Label: esc(label(locale.English, n))})
				}
			}
		}
	}
	d.PreTokenIssuance = tenant.ConnectorName(f, tenant.StepPreTokenIssuance)
	if f.MFA != nil {
		d.MFA = true
		d.MFAPhone, d.MFAEmail = slices.Contains(f.MFA.Methods, tenant.MFAPhone), slices.Contains(f.MFA.Methods, tenant.MFAEmail)
		d.MFATOTP = slices.Contains(f.MFA.Methods, tenant.MFATOTP)
	}
	d.ContentDefs = contentDefs(f.Type, len(d.Providers) > 0)
	if d.MFA {
		d.ContentDefs = append(d.ContentDefs, contentDef{"api.mfa", "multifactor-1.0.0", "urn:com:microsoft:aad:b2c:elements:contract:multifactor:1.2.5"})
	}
	d.Languages, d.DefaultLanguage = languages(f)
	for _, l := range d.Languages {
		for _, cd := range d.ContentDefs {
			d.Resources = append(d.Resources, resources{ID: cd.ID + "." + l.Tag,
				Strings: texts(locale.Lang(l.Tag), cd.ID, d)})
		}
	}
	var b bytes.Buffer
	if err := policyTmpl.Execute(&b, d); err != nil {
		return ief.Source{}, err
	}
	return ief.Source{Path: "user flow " + f.Name, Data: b.Bytes()}, nil
}

// providers turns the flow's identity providers into technical profiles.
func (d *data) providers(f *tenant.Flow, reg *tenant.Registry) error {
	if len(f.IdentityProviders) > 0 {
		d.Local = false
	}
	for _, name := range f.IdentityProviders {
		if name == tenant.LocalProvider {
			d.Local = true
			continue
		}
		p := reg.IdentityProviders[strings.ToLower(name)]
		if p == nil {
			return fmt.Errorf("userflows: %s: identity provider %q is not configured", f.Name, name)
		}
		pr := provider{Name: p.Name, DisplayName: esc(p.DisplayName), Protocol: p.Protocol, Domain: esc(p.Domain), IdpClaim: esc(p.Domain)}
		md := func(k, v string) {
			if v != "" {
				pr.Metadata = append(pr.Metadata, item{k, esc(v)})
			}
		}
		key := func(id, ref string) {
			if ref != "" {
				pr.Keys = append(pr.Keys, item{id, esc(ref)})
			}
		}
		md("client_id", p.ClientID)
		md("scope", p.Scope)
		md("token_endpoint_auth_method", p.TokenAuth)
		switch p.Protocol {
		case "SAML2":
			md("PartnerEntity", p.PartnerEntity)
			md("WantsSignedRequests", "true")
			md("XmlSignatureAlgorithm", p.SignatureAlgorithm)
			key("SamlMessageSigning", p.SigningKey)
			if p.DecryptionKey != "" {
				md("WantsEncryptedAssertions", "true")
				key("SamlAssertionDecryption", p.DecryptionKey)
			}
		case "OpenIdConnect":
			md("METADATA", p.MetadataURL)
			md("response_types", p.ResponseType)
			md("ValidTokenIssuerPrefixes", strings.Join(p.IssuerPrefixes, ","))
			if p.MetadataURL == "" { // no discovery (Apple)
				md("authorization_endpoint", p.AuthorizationEndpoint)
				md("AccessTokenEndpoint", p.TokenEndpoint)
				md("JWKS", p.JWKS)
				md("issuer", p.Issuer)
				md("ReadBodyClaimsOnIdpRedirect", p.BodyClaims)
			}
		default:
			md("authorization_endpoint", p.AuthorizationEndpoint)
			md("AccessTokenEndpoint", p.TokenEndpoint)
			md("ClaimsEndpoint", p.ClaimsEndpoint)
			md("AccessTokenResponseFormat", "json")
			if p.TokenGET {
				md("HttpBinding", "GET")
			} else {
				md("HttpBinding", "POST")
			}
			if p.ClaimsBearer {
				md("BearerTokenTransmissionMethod", "AuthorizationHeader")
			}
			if p.JSONPaths {
				md("ResolveJsonPathsInJsonTokens", "true")
			}
			if p.PKCE {
				md("UsePKCE", "true")
			}
		}
		switch {
		case p.SecretKey != "" && !p.AppleKey.IsSet():
			key("client_secret", p.SecretKey) // a policy key, as a custom policy names it
		case p.ClientSecret.IsSet() || p.AppleKey.IsSet():
			key("client_secret", SecretRef(p.Name)) // resolved from the config (Apple's: signed for each request)
		}
		key("assertion_signing_key", p.AssertionKey)
		for _, c := range [][2]string{{"issuerUserId", "userId"}, {"displayName", "displayName"}, {"email", "email"},
			{"givenName", "givenName"}, {"surname", "surname"}} {
			if v := p.Claims[c[1]]; v != "" {
				pr.Outputs = append(pr.Outputs, output{c[0], esc(v)})
			}
		}
		d.Providers = append(d.Providers, pr)
	}
	return nil
}

// Load compiles and loads the registry's user flows (custom policies are
// skipped).
func Load(reg *tenant.Registry) (*ief.Set, error) {
	var srcs []ief.Source
	for _, name := range slices.Sorted(maps.Keys(reg.Flows)) {
		f := reg.Flows[name]
		if f.Custom {
			continue
		}
		s, err := Source(f, reg)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
	}
	if len(srcs) == 0 {
		return &ief.Set{Policies: map[string]*ief.Policy{}}, nil
	}
	return ief.Load(srcs, ief.Options{})
}

// label is an attribute's label: B2C's for a built-in attribute, else its
// name without extension_ and the app id.
func label(l locale.Lang, name string) string {
	if slices.Contains(builtinAttrs, name) {
		return l.T(name)
	}
	s := strings.TrimPrefix(name, "extension_")
	if i := strings.LastIndexByte(s, '_'); i >= 0 && len(s[:i]) == 32 {
		s = s[i+1:] // extension_<appid>_Name
	}
	return s
}

func contentDefs(typ string, providers bool) []contentDef {
	unified := contentDef{"api.signuporsignin", "unified", "urn:com:microsoft:aad:b2c:elements:contract:unifiedssp:2.1.5"}
	sa := func(id string) contentDef {
		return contentDef{id, "selfAsserted", "urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1.7"}
	}
	switch typ {
	case "signUpOrSignIn":
		cds := []contentDef{unified, sa("api.localaccountsignup"), sa("api.localaccountpasswordreset")}
		if providers {
			cds = append(cds, contentDef{"api.idpselections", "idpSelector", "urn:com:microsoft:aad:b2c:elements:contract:providerselection:1.2.1"},
				sa("api.selfasserted"))
		}
		return cds
	case "passwordReset":
		return []contentDef{sa("api.localaccountpasswordreset")}
	}
	return []contentDef{unified, sa("api.selfasserted.profileupdate")}
}

// languages are the flow's enabled languages (all built-in ones when it
// names none) and its default.
func languages(f *tenant.Flow) ([]lang, string) {
	tags := f.Languages
	if len(tags) == 0 {
		for _, l := range locale.Supported() {
			tags = append(tags, string(l))
		}
	}
	var out []lang
	for _, t := range tags {
		out = append(out, lang{t})
	}
	def := f.DefaultLanguage
	if def == "" || !slices.Contains(tags, def) {
		def = string(locale.English)
		if !slices.Contains(tags, def) {
			def = tags[0]
		}
	}
	return out, def
}

// texts are a content definition's strings in l: what B2C's language
// customization of a user flow holds, from Gatehouse's built-in strings
// (identity/locale).
func texts(l locale.Lang, cd string, d *data) []localized {
	ux := func(id, key string) localized { return localized{Type: "UxElement", ID: id, Text: esc(l.T(key))} }
	claim := func(claim, id, text string) localized {
		return localized{Type: "ClaimType", Element: claim, ID: id, Text: esc(text)}
	}
	errs := []localized{
		{Type: "ErrorMessage", ID: "DefaultMessage", Text: esc(l.T("UserMessageIfInvalidPassword"))},
		{Type: "ErrorMessage", ID: "UserMessageIfInvalidPassword", Text: esc(l.T("UserMessageIfInvalidPassword"))},
		{Type: "ErrorMessage", ID: "UserMessageIfUserAccountLocked", Text: esc(l.T("UserMessageIfUserAccountLocked"))},
		{Type: "ErrorMessage", ID: "UserMessageIfClaimsPrincipalAlreadyExists", Text: esc(l.T("UserMessageIfClaimsPrincipalAlreadyExists"))},
		{Type: "ErrorMessage", ID: "UserMessageIfClaimsPrincipalDoesNotExist", Text: esc(l.T("UserMessageIfClaimsPrincipalDoesNotExist"))},
	}
	if cd == "api.signuporsignin" {
		heading := "local_intro_email"
		out := []localized{ux("title", "title_signin"), ux("heading", heading), ux("local_intro_email", heading), ux("logonIdentifier_email", "logonIdentifier_email"),
			ux("password", "password"), ux("button_signin", "button_signin"), ux("forgotpassword_link", "forgotpassword_link"),
			ux("createaccount_intro", "createaccount_intro"), ux("createaccount_link", "createaccount_link"),
			ux("requiredField_email", "requiredField_email"), ux("requiredField_password", "requiredField_password"),
			ux("invalid_email", "invalid_email"), ux("required_field", "required_field"),
			claim("signInName", "DisplayName", l.T("logonIdentifier_email")), claim("password", "DisplayName", l.T("password"))}
		return append(out, errs...)
	}
	if cd == "api.idpselections" {
		return append([]localized{ux("title", "title_signin"), ux("heading", "title_signin")}, errs...)
	}
	title, heading, cont := "title_signup", "heading_signup", "button_create"
	switch cd {
	case "api.localaccountpasswordreset":
		title, heading, cont = "heading_reset", "heading_reset", "button_continue"
	case "api.selfasserted.profileupdate":
		title, heading, cont = "title_profile", "heading_profile", "button_continue"
	case "api.mfa":
		title, heading, cont = "heading_mfa", "heading_mfa", "button_continue"
	}
	r := d.Password
	help := l.F("password_help_length", r.MinLength, r.MaxLength)
	switch {
	case r.DigitsOnly:
		help = l.F("password_help_digits", r.MinLength, r.MaxLength)
	case r.Classes > 0:
		help = l.F("password_help_classes", r.MinLength, r.MaxLength, r.Classes)
	}
	out := []localized{ux("title", title), ux("heading", heading)}
	out = append(out, ux("button_continue", cont), ux("button_cancel", "button_cancel"),
		ux("ver_but_send", "ver_but_send"), ux("ver_but_verify", "ver_but_verify"), ux("ver_but_resend", "ver_but_resend"), ux("ver_but_call", "ver_but_call"),
		ux("ver_but_edit", "ver_but_edit"), ux("ver_input", "verificationCode"), ux("ver_info_msg", "ver_info_msg"),
		ux("ver_success_msg", "ver_success_msg"), ux("ver_intro_msg", "ver_required"), ux("required_field", "required_field"),
		ux("error_passwordEntryMismatch", "error_passwordEntryMismatch"),
		claim("email", "DisplayName", l.T("email")), claim("email", "PatternHelpText", l.T("invalid_email")),
		claim("newPassword", "DisplayName", l.T("newPassword")), claim("newPassword", "UserHelpText", help),
		claim("reenterPassword", "DisplayName", l.T("reenterPassword")),
		localized{Type: "Predicate", Element: "PasswordLength", ID: "HelpText", Text: esc(l.F("password_error_length", r.MinLength, r.MaxLength))},
		localized{Type: "Predicate", Element: "PasswordCharacters", ID: "HelpText", Text: esc(l.T("password_error_characters"))},
		localized{Type: "Predicate", Element: "AttributeLength", ID: "HelpText", Text: esc(l.T("error_value_too_long"))},
	)
	if d.MFATOTP {
		out = append(out, claim("totpCode", "DisplayName", l.T("verificationCode")), ux("totp_intro", "totp_intro"), ux("totp_manual", "totp_manual"))
	}
	if r.DigitsOnly {
		out = append(out, localized{Type: "Predicate", Element: "PasswordDigits", ID: "HelpText", Text: esc(l.T("password_error_digits"))})
	} else if r.Classes > 0 {
		out = append(out, localized{Type: "InputValidation", Element: "UserFlowPassword", ID: "CharacterClasses",
			Text: esc(l.F("password_error_classes", r.Classes))})
	}
	for _, a := range d.Attributes {
		out = append(out, claim(a.Name, "DisplayName", label(l, a.Name)))
		if a.PlainName {
			out = append(out, claim(a.Name, "PatternHelpText", l.T("error_name_characters")))
		}
	}
	return append(out, errs...)
}

// esc escapes text for XML content and attribute values.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
