package localization

import (
	"encoding/xml"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// starterPack is the real localization file of B2C's LocalAccounts starter
// pack.
const starterPack = "../../../testdata/b2c-starterpack/LocalAccounts/TrustFrameworkLocalization.xml"

// xmlPolicy is just enough of the schema to fill the model, standing in for
// the loader.
type xmlPolicy struct {
	ContentDefinitions []struct {
		ID   string `xml:"Id,attr"`
		Refs []struct {
			Language string `xml:"Language,attr"`
			ID       string `xml:"LocalizedResourcesReferenceId,attr"`
		} `xml:"LocalizedResourcesReferences>LocalizedResourcesReference"`
	} `xml:"BuildingBlocks>ContentDefinitions>ContentDefinition"`
	Localization struct {
		Enabled   bool `xml:"Enabled,attr"`
		Supported struct {
			Default   string   `xml:"DefaultLanguage,attr"`
			Merge     string   `xml:"MergeBehavior,attr"`
			Languages []string `xml:"SupportedLanguage"`
		} `xml:"SupportedLanguages"`
		Resources []struct {
			ID      string `xml:"Id,attr"`
			Strings []struct {
				ElementType string `xml:"ElementType,attr"`
				ElementID   string `xml:"ElementId,attr"`
				StringID    string `xml:"StringId,attr"`
				Text        string `xml:",chardata"`
			} `xml:"LocalizedStrings>LocalizedString"`
			Collections []struct {
				ElementType string `xml:"ElementType,attr"`
				ElementID   string `xml:"ElementId,attr"`
				Target      string `xml:"TargetCollection,attr"`
				Items       []Item `xml:"Item"`
			} `xml:"LocalizedCollections>LocalizedCollection"`
		} `xml:"LocalizedResources"`
	} `xml:"BuildingBlocks>Localization"`
}

// loadPolicy reads a policy file into a Localization and each content
// definition's references.
func loadPolicy(t *testing.T, file string) (*Localization, map[string][]Ref) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p xmlPolicy
	if err := xml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	x := p.Localization
	l := &Localization{Enabled: x.Enabled, Default: x.Supported.Default, Languages: x.Supported.Languages,
		MergeBehavior: x.Supported.Merge, Resources: map[string]*Resources{}}
	for _, r := range x.Resources {
		res := &Resources{ID: r.ID}
		for _, s := range r.Strings {
			res.Strings = append(res.Strings, String{s.ElementType, s.ElementID, s.StringID, s.Text})
		}
		for _, c := range r.Collections {
			res.Collections = append(res.Collections, Collection{c.ElementType, c.ElementID, c.Target, c.Items})
		}
		l.Resources[r.ID] = res
	}
	refs := map[string][]Ref{}
	for _, cd := range p.ContentDefinitions {
		for _, r := range cd.Refs {
			refs[cd.ID] = append(refs[cd.ID], Ref{r.Language, r.ID})
		}
	}
	return l, refs
}

func TestStarterPack(t *testing.T) {
	l, refs := loadPolicy(t, starterPack)
	if !l.Enabled || l.Default != "en" || !reflect.DeepEqual(l.Languages, []string{"en"}) || len(l.Resources) != 7 {
		t.Fatalf("model: %+v", l)
	}
	page := func(cd, contract string) *Strings {
		lang := Choose(l, "", "de-DE,de;q=0.9,en;q=0.5")
		s, err := Lookup(l, lang, contract, refs[cd])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signin := page("api.signuporsignin", "unifiedssp")
	signup := page("api.localaccountsignup", "selfasserted")
	self := page("api.selfasserted", "selfasserted")
	idp := page("api.idpselections", "providerselection")
	for _, c := range []struct {
		got  func() (string, bool)
		want string
	}{
		{func() (string, bool) { return signin.UX("local_intro_generic") }, "Sign in with your {0}"},
		{func() (string, bool) { return signin.UX("heading") }, "Sign in"},
		{func() (string, bool) { return signin.Claim("signInName", "DisplayName") }, "Email Address"},
		{func() (string, bool) { return signin.Error("UserMessageIfInvalidPassword") }, "Your password is incorrect."},
		{func() (string, bool) { return signin.ClaimsProvider("FacebookExchange") }, "Facebook"},
		// The file has no local_intro_email: the built-in text fills in.
		{func() (string, bool) { return signin.UX("local_intro_email") }, "Sign in with your existing account"},
		{func() (string, bool) { return signup.Claim("email", "DisplayName") }, "Email Address"},
		{func() (string, bool) { return signup.Claim("email", "PatternHelpText") }, "Please enter a valid email address."},
		{func() (string, bool) { return signup.UX("button_continue") }, "Create"},
		{func() (string, bool) { return signup.Error("UserMessageIfClaimsPrincipalAlreadyExists") }, "A user with the specified ID already exists. Please choose a different one."},
		{func() (string, bool) { return signup.UX("ver_sent") }, "Verification code has been sent to:"},
		{func() (string, bool) { return self.Error("UserMessageIfClaimsPrincipalAlreadyExists") }, "You are already registered, please press the back button and sign in instead."},
		{func() (string, bool) { return self.UX("heading") }, "User Details"},
		{func() (string, bool) { return idp.ClaimsProvider("LocalAccountSigninEmailExchange") }, "Local Account Signin"},
		{func() (string, bool) { return idp.UX("intro") }, "Sign in"},
	} {
		if got, ok := c.got(); !ok || got != c.want {
			t.Errorf("got %q %v, want %q", got, ok, c.want)
		}
	}
	if _, ok := signin.Claim("email", "DisplayName"); ok {
		t.Error("sign-in page has the sign-up page's claim strings")
	}
	if got, _ := signin.Get(UxElement, "", "remember_me"); got != "Keep me signed in" {
		t.Errorf("commented-out remember_me: %q", got)
	}
}

func TestLookupErrors(t *testing.T) {
	l, _ := loadPolicy(t, starterPack)
	_, err := Lookup(l, "en", "unifiedssp", []Ref{{"en", "api.signuporsignin.en"}, {"de", "api.signuporsignin.de"}})
	if err == nil || !regexp.MustCompile(`api\.signuporsignin\.de`).MatchString(err.Error()) {
		t.Errorf("missing resources: %v", err)
	}
	s, err := Lookup(nil, "de", "unifiedssp", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UX("button_signin"); got != "Anmelden" {
		t.Errorf("no policy, de: %q", got)
	}
}

func testPolicy() *Localization {
	return &Localization{
		Enabled:   true,
		Default:   "en",
		Languages: []string{"en", "de", "fr", "pt-BR", "pt-PT"},
		Resources: map[string]*Resources{
			"base.de": {ID: "base.de", Strings: []String{
				{UxElement, "", "heading", "Willkommen"},
				{UxElement, "", "button_signin", "Los"},
				{ErrorMessage, "ignored", "UserMessageIfInvalidPassword", "Falsch."},
				{ClaimType, "email", "DisplayName", "E-Mail"},
				{Predicate, "Lowercase", "HelpText", "ein Kleinbuchstabe"},
				{InputValidation, "StrongPassword", "CharacterClasses", "Mindestens 3 der folgenden:"},
				{DisplayControl, "emailVerificationControl", "but_send_code", "Code senden"},
			}, Collections: []Collection{
				{ClaimType, "color", "Restriction", []Item{{"Rot", "red", false}, {"Blau", "blue", true}}},
			}},
			"override.de": {ID: "override.de", Strings: []String{
				{UxElement, "", "heading", "Hallo"},
			}, Collections: []Collection{
				{ClaimType, "color", "Restriction", []Item{{"Grün", "green", true}}},
			}},
			"base.en": {ID: "base.en", Strings: []String{{UxElement, "", "heading", "Welcome"}}},
		},
	}
}

func TestOverrideOrder(t *testing.T) {
	l := testPolicy()
	refs := []Ref{{"en", "base.en"}, {"de", "base.de"}, {"DE", "override.de"}}
	s, err := Lookup(l, "de", "unifiedssp", refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ, id, str, want string
	}{
		{UxElement, "", "heading", "Hallo"},                           // later resources win
		{UxElement, "", "button_signin", "Los"},                       // earlier kept where not overridden
		{UxElement, "", "forgotpassword_link", "Kennwort vergessen?"}, // built-in de
		{ErrorMessage, "", "UserMessageIfInvalidPassword", "Falsch."}, // ElementId ignored
		{ErrorMessage, "", "UserMessageIfOldPasswordUsed", "Sie haben anscheinend ein altes Kennwort verwendet."},
		{ClaimType, "email", "DisplayName", "E-Mail"},
		{Predicate, "Lowercase", "HelpText", "ein Kleinbuchstabe"},
		{InputValidation, "StrongPassword", "CharacterClasses", "Mindestens 3 der folgenden:"},
		{DisplayControl, "emailVerificationControl", "but_send_code", "Code senden"},
	} {
		if got, ok := s.Get(c.typ, c.id, c.str); !ok || got != c.want {
			t.Errorf("%s/%s/%s: %q %v, want %q", c.typ, c.id, c.str, got, ok, c.want)
		}
	}
	if got, _ := s.Predicate("Lowercase", "HelpText"); got != "ein Kleinbuchstabe" {
		t.Errorf("Predicate: %q", got)
	}
	if got, _ := s.InputValidation("StrongPassword", "CharacterClasses"); got != "Mindestens 3 der folgenden:" {
		t.Errorf("InputValidation: %q", got)
	}
	if got, _ := s.DisplayControl("emailVerificationControl", "but_send_code"); got != "Code senden" {
		t.Errorf("DisplayControl: %q", got)
	}
	if items, ok := s.Enumeration("color"); !ok || !reflect.DeepEqual(items, []Item{{"Grün", "green", true}}) {
		t.Errorf("Enumeration: %v %v", items, ok)
	}
	if _, ok := s.Claim("email", "UserHelpText"); ok {
		t.Error("unlocalized claim text found")
	}
	if _, ok := s.UX("no_such_id"); ok {
		t.Error("unknown UX id found")
	}

	// Disabled: the policy's resources are not used, built-ins are.
	l.Enabled = false
	s, _ = Lookup(l, "de", "unifiedssp", refs)
	if got, _ := s.UX("heading"); got != "Anmelden" {
		t.Errorf("disabled: %q", got)
	}
}

func TestChoose(t *testing.T) {
	l := testPolicy()
	for _, c := range []struct{ ui, accept, want string }{
		{"", "", "en"},
		{"de", "fr", "de"},               // ui_locales beats Accept-Language
		{"xx de-AT", "fr", "de"},         // first supported ui_locale, region falls back
		{"xx", "fr", "fr"},               // no ui_locales match: the browser's
		{"", "de;q=0.5, fr;q=0.9", "fr"}, // weights
		{"", "fr;q=0, de;q=0.1", "de"},   // q=0 is a refusal
		{"", "pt-BR", "pt-BR"},           // exact
		{"pt-PT", "", "pt-PT"},           // exact beats the sibling
		{"", "en-GB,en;q=0.8", "en"},     // region fallback
		{"", "ja, ko", "en"},             // unsupported: default
		{"!!", "not a header;;;", "en"},  // garbage
		{"de-CH-1996", "", "de"},         // variants
		{"", "*", "en"},                  // wildcard: default
	} {
		if got := Choose(l, c.ui, c.accept); got != c.want {
			t.Errorf("Choose(%q, %q) = %q, want %q", c.ui, c.accept, got, c.want)
		}
	}
	l.Default = "de"
	if got := Choose(l, "ja", "ko"); got != "de" {
		t.Errorf("unsupported with default de: %q", got)
	}
	l.Enabled = false
	if got := Choose(l, "fr", "fr"); got != "de" {
		t.Errorf("disabled: %q", got)
	}
	if got := Choose(nil, "fr", "fr"); got != "en" {
		t.Errorf("nil: %q", got)
	}
}

func TestBuiltin(t *testing.T) {
	for _, c := range []struct{ lang, section, id, want string }{
		{"en", "unifiedssp", "heading", "Sign in"},
		{"en", "selfasserted", "heading", "User Details"},
		{"de-AT", "unifiedssp", "button_signin", "Anmelden"},  // base language
		{"fr", "unifiedssp", "button_signin", "Se connecter"}, // no fr file: the user flows' French
		{"sv", "unifiedssp", "button_signin", "Sign in"},      // neither: English
		{"", ErrorMessage, "UserMessageIfInvalidPassword", "Your password is incorrect."},
		{"de", ErrorMessage, "UserMessageIfUserAccountLocked", "Ihr Konto ist vorübergehend gesperrt, um eine nicht autorisierte Verwendung zu verhindern. Versuchen Sie es später noch mal."},
	} {
		if got, ok := Builtin(c.lang, c.section, c.id); !ok || got != c.want {
			t.Errorf("Builtin(%q, %q, %q) = %q %v, want %q", c.lang, c.section, c.id, got, ok, c.want)
		}
	}
	if _, ok := Builtin("en", "selfasserted", "button_signin"); ok {
		t.Error("unifiedssp id found on selfasserted")
	}
}

// The page contract's ids the built-in English must cover (B2C's
// "Localization string IDs" reference).
var requiredIDs = map[string][]string{
	"unifiedssp": {"local_intro_email", "logonIdentifier_email", "requiredField_email", "invalid_email", "email_pattern",
		"local_intro_generic", "requiredField_password", "password", "forgotpassword_link", "createaccount_intro",
		"createaccount_link", "divider_title", "cancel_message", "button_signin", "social_intro", "remember_me",
		"unknown_error", "heading"},
	"selfasserted": {"ver_sent", "ver_but_default", "cancel_message", "preloader_alt", "ver_but_send", "alert_yes",
		"error_fieldIncorrect", "year", "verifying_blurb", "button_cancel", "ver_fail_no_retry", "month",
		"ver_success_msg", "months", "ver_fail_server", "error_requiredFieldMissing", "heading", "initial_intro",
		"ver_but_resend", "button_continue", "error_passwordEntryMismatch", "ver_incorrect_format", "ver_but_edit",
		"ver_but_verify", "alert_no", "ver_info_msg", "day", "ver_fail_throttled", "helplink_text", "ver_fail_retry",
		"alert_title", "required_field", "alert_message", "ver_intro_msg", "ver_input"},
	ErrorMessage: {"UserMessageIfClaimsPrincipalDoesNotExist", "UserMessageIfInvalidPassword", "UserMessageIfOldPasswordUsed",
		"UserMessageIfClaimsPrincipalAlreadyExists", "DefaultUserMessageIfRequestFailed", "UserMessageIfUserAccountLocked",
		"UserMessageIfSessionDoesNotExist", "UserMessageIfVerificationFailedRetryAllowed", "UserMessageIfVerificationFailedNoRetry"},
}

// TestBuiltinFiles holds every language file to en.json: the same sections
// and ids, the same placeholders, and en.json to the page contract.
func TestBuiltinFiles(t *testing.T) {
	if _, err := loadBuiltin(); err != nil {
		t.Fatal(err)
	}
	if got := BuiltinLanguages(); !slices.Contains(got, "en") || !slices.Contains(got, "de") {
		t.Fatalf("languages: %v", got)
	}
	en := builtin["en"]
	for section, ids := range requiredIDs {
		for _, id := range ids {
			if en[section][id] == "" {
				t.Errorf("en.json %s lacks %s", section, id)
			}
		}
	}
	ph := regexp.MustCompile(`\{[0-9]+\}`)
	for lang, file := range builtin {
		if !reflect.DeepEqual(slices.Sorted(maps.Keys(file)), slices.Sorted(maps.Keys(en))) {
			t.Errorf("%s.json sections differ from en.json's", lang)
		}
		for section, texts := range en {
			for id, text := range texts {
				got, ok := file[section][id]
				if !ok || got == "" {
					t.Errorf("%s.json %s lacks %s", lang, section, id)
					continue
				}
				if id != "email_pattern" && !reflect.DeepEqual(ph.FindAllString(got, -1), ph.FindAllString(text, -1)) {
					t.Errorf("%s.json %s %s: placeholders differ from en.json's", lang, section, id)
				}
			}
			for id := range file[section] {
				if _, ok := texts[id]; !ok {
					t.Errorf("%s.json %s has %s, which en.json lacks", lang, section, id)
				}
			}
		}
	}
	// The browser runs email_pattern as a regular expression.
	if _, err := regexp.Compile(en["unifiedssp"]["email_pattern"]); err != nil {
		t.Errorf("email_pattern: %v", err)
	}
}

func TestIsElementType(t *testing.T) {
	for _, s := range []string{ClaimsProvider, ClaimType, DisplayControl, ErrorMessage, FormatLocalizedStringTransformationClaimType,
		GetLocalizedStringsTransformationClaimType, Predicate, InputValidation, UxElement} {
		if !IsElementType(s) {
			t.Error(s)
		}
	}
	if IsElementType("UXElement") {
		t.Error("case matters")
	}
}

func FuzzChoose(f *testing.F) {
	f.Add("de-AT en", "fr;q=0.9, *;q=0.1")
	f.Add("", "")
	f.Add("x-private-tag zh-Hant-TW", "pt-BR;q=abc,,")
	l := testPolicy()
	f.Fuzz(func(t *testing.T, ui, accept string) {
		if got := Choose(l, ui, accept); !slices.Contains(l.Languages, got) {
			t.Fatalf("Choose(%q, %q) = %q, not a supported language", ui, accept, got)
		}
		s, _ := Lookup(l, ui, accept, []Ref{{ui, "base.de"}})
		s.UX(accept)
		Builtin(ui, accept, accept)
	})
}
