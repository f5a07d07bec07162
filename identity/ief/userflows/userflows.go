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

type data struct {
	Name, Tenant, Type, Journey string
	Verify                      bool
	Attributes                  []attr
	Password                    tenant.PasswordRules
	PasswordHelp, LengthError   string
	ClassesError, NameHelp      string
	PostAttributeCollection     string
	PreTokenIssuance            string
	ConnectorHandler            string
	ContentDefs                 []contentDef
	Languages                   []lang
	DefaultLanguage             string
	Resources                   []resources
}

// Order numbers the steps after the flow's own: n = 0 for the token
// connector, 1 for SendClaims.
func (d *data) Order(n int) int {
	base := map[string]int{"signUpOrSignIn": 3, "passwordReset": 1, "profileEdit": 3}[d.Type]
	if d.PreTokenIssuance != "" {
		base++
		if n == 0 {
			return base
		}
	}
	return base + 1
}

// Source compiles a user flow into its policy file.
func Source(f *tenant.Flow, tenantDomain string) (ief.Source, error) {
	switch f.Type {
	case "signUpOrSignIn", "passwordReset", "profileEdit":
	default:
		return ief.Source{}, fmt.Errorf("userflows: %s: type %q is not a user flow", f.Name, f.Type)
	}
	rules := password.Normalize(f.Password)
	d := &data{Name: f.Name, Tenant: tenantDomain, Type: f.Type, Journey: Journey,
		Verify: f.EmailVerification || f.Type != "signUpOrSignIn", Password: rules,
		PasswordHelp: esc(password.Describe(rules)), NameHelp: esc(tenant.MsgNameCharacters),
		LengthError:      esc(locale.English.F("password_error_length", rules.MinLength, rules.MaxLength)),
		ClassesError:     esc(locale.English.F("password_error_classes", rules.Classes)),
		ConnectorHandler: ief.APIConnectorHandler}
	if f.Type != "passwordReset" {
		for _, a := range f.Attributes {
			if a == "email" || !attrNameRE.MatchString(a) {
				continue
			}
			d.Attributes = append(d.Attributes, attr{Name: a, Label: esc(label(locale.English, a)),
				PlainName: a == "displayName" || a == "givenName" || a == "surname"})
		}
	}
	if f.Type == "signUpOrSignIn" {
		// Attributes are collected (and validated by the API) at sign-up.
		d.PostAttributeCollection = tenant.ConnectorName(f, tenant.StepPostAttributeCollection)
	}
	d.PreTokenIssuance = tenant.ConnectorName(f, tenant.StepPreTokenIssuance)
	d.ContentDefs = contentDefs(f.Type)
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

// Load compiles and loads user flows (custom policies are skipped).
func Load(flows []*tenant.Flow, tenantDomain string) (*ief.Set, error) {
	var srcs []ief.Source
	for _, f := range flows {
		if f.Custom {
			continue
		}
		s, err := Source(f, tenantDomain)
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

func contentDefs(typ string) []contentDef {
	unified := contentDef{"api.signuporsignin", "unified", "urn:com:microsoft:aad:b2c:elements:contract:unifiedssp:2.1.5"}
	sa := func(id string) contentDef {
		return contentDef{id, "selfAsserted", "urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1.7"}
	}
	switch typ {
	case "signUpOrSignIn":
		return []contentDef{unified, sa("api.localaccountsignup"), sa("api.localaccountpasswordreset")}
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
	title, heading, cont := "title_signup", "heading_signup", "button_create"
	switch cd {
	case "api.localaccountpasswordreset":
		title, heading, cont = "heading_reset", "heading_reset", "button_continue"
	case "api.selfasserted.profileupdate":
		title, heading, cont = "title_profile", "heading_profile", "button_continue"
	}
	r := d.Password
	help := l.F("password_help_length", r.MinLength, r.MaxLength)
	switch {
	case r.DigitsOnly:
		help = l.F("password_help_digits", r.MinLength, r.MaxLength)
	case r.Classes > 0:
		help = l.F("password_help_classes", r.MinLength, r.MaxLength, r.Classes)
	}
	out := []localized{ux("title", title), ux("heading", heading), ux("button_continue", cont), ux("button_cancel", "button_cancel"),
		ux("ver_but_send", "ver_but_send"), ux("ver_but_verify", "ver_but_verify"), ux("ver_but_resend", "ver_but_resend"),
		ux("ver_but_edit", "ver_but_edit"), ux("ver_input", "verificationCode"), ux("ver_info_msg", "ver_info_msg"),
		ux("ver_success_msg", "ver_success_msg"), ux("ver_intro_msg", "ver_required"), ux("required_field", "required_field"),
		ux("error_passwordEntryMismatch", "error_passwordEntryMismatch"),
		claim("email", "DisplayName", l.T("email")), claim("email", "PatternHelpText", l.T("invalid_email")),
		claim("newPassword", "DisplayName", l.T("newPassword")), claim("newPassword", "UserHelpText", help),
		claim("reenterPassword", "DisplayName", l.T("reenterPassword")),
		{Type: "Predicate", Element: "PasswordLength", ID: "HelpText", Text: esc(l.F("password_error_length", r.MinLength, r.MaxLength))},
		{Type: "Predicate", Element: "PasswordCharacters", ID: "HelpText", Text: esc(l.T("password_error_characters"))},
		{Type: "Predicate", Element: "AttributeLength", ID: "HelpText", Text: esc(l.T("error_value_too_long"))},
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
