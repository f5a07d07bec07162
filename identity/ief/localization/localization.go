// Package localization resolves Azure AD B2C's Localization building block
// for one language: which of the policy's SupportedLanguages a request gets
// (Choose), and the strings a page shows in it (Lookup), with Gatehouse's
// built-in texts for B2C's page and error string ids behind the policy's.
//
// The package does not read XML: the policy loader fills Localization from
// BuildingBlocks/Localization and passes each ContentDefinition's
// LocalizedResourcesReferences to Lookup.
//
// Built-in texts are one JSON file per language in strings/ (en.json,
// de.json, ...), named by BCP 47 tag; adding a language is adding a file with
// en.json's ids. A file holds a section per page contract (unifiedssp,
// selfasserted) for UxElement ids, whose texts differ by page in B2C
// ("heading" is "Sign in" on one and "User Details" on the other), and an
// ErrorMessage section. Texts keep B2C's {0} placeholders; nothing here fills
// them.
package localization

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// The LocalizedString and LocalizedCollection ElementType values B2C knows.
const (
	ClaimsProvider                               = "ClaimsProvider"
	ClaimType                                    = "ClaimType"
	DisplayControl                               = "DisplayControl"
	ErrorMessage                                 = "ErrorMessage"
	FormatLocalizedStringTransformationClaimType = "FormatLocalizedStringTransformationClaimType"
	GetLocalizedStringsTransformationClaimType   = "GetLocalizedStringsTransformationClaimType"
	Predicate                                    = "Predicate"
	InputValidation                              = "InputValidation"
	UxElement                                    = "UxElement"
)

// usesElementID tells, per ElementType, whether ElementId is part of a
// string's identity. For the others B2C identifies the string by StringId
// alone (an ErrorMessage's StringId is the error, a ClaimsProvider's the
// claims exchange), so a stray ElementId there is ignored.
var usesElementID = map[string]bool{
	ClaimsProvider: false,
	ClaimType:      true,
	DisplayControl: true,
	ErrorMessage:   false,
	FormatLocalizedStringTransformationClaimType: false,
	GetLocalizedStringsTransformationClaimType:   false,
	Predicate:       true,
	InputValidation: true,
	UxElement:       false,
}

// IsElementType reports whether B2C knows the ElementType, for the loader to
// reject a misspelt one.
func IsElementType(s string) bool {
	_, ok := usesElementID[s]
	return ok
}

// Localization is the Localization element.
type Localization struct {
	Enabled bool
	// Default is SupportedLanguages/@DefaultLanguage.
	Default string
	// Languages are the SupportedLanguage values in document order, after
	// the loader has merged them across the inheritance chain by
	// MergeBehavior (SupportedLanguages/@MergeBehavior).
	Languages     []string
	MergeBehavior string
	// Resources are the LocalizedResources by Id.
	Resources map[string]*Resources
}

// Resources is one LocalizedResources element.
type Resources struct {
	ID          string
	Strings     []String
	Collections []Collection
}

// String is one LocalizedString.
type String struct {
	ElementType, ElementID, StringID, Text string
}

// Collection is one LocalizedCollection: a claim's enumeration in one
// language (ElementType ClaimType, TargetCollection Restriction).
type Collection struct {
	ElementType, ElementID, TargetCollection string
	Items                                    []Item
}

// Item is one collection Item (the schema's EnumerationItem).
type Item struct {
	Text, Value     string
	SelectByDefault bool
}

// Ref is one ContentDefinition LocalizedResourcesReference. (Its Url form
// points the browser at a hosted file and has no server-side part.)
type Ref struct {
	Language    string
	ResourcesID string
}

// fallback is the language when a policy names none.
const fallback = "en"

func (l *Localization) defaultLang() string {
	switch {
	case l == nil:
		return fallback
	case l.Default != "":
		return l.Default
	case len(l.Languages) > 0:
		return l.Languages[0]
	}
	return fallback
}

// Choose picks the language for a request as B2C does: the first tag of
// ui_locales (space-separated, in order of preference) that matches a
// supported language, else the best match for the Accept-Language header
// (weights respected), else the default. Matching is BCP 47's, so de-AT gets
// de and en-GB gets en, while pt-BR gets pt-BR exactly when a policy supports
// both pt-BR and pt-PT. The result is spelt as in SupportedLanguages. When localization is disabled
// the default language is the only one.
func Choose(l *Localization, uiLocales, acceptLanguage string) string {
	def := l.defaultLang()
	if l == nil || !l.Enabled {
		return def
	}
	var tags []language.Tag
	var names []string
	for _, s := range l.Languages {
		if t, err := language.Parse(s); err == nil {
			tags, names = append(tags, t), append(names, s)
		}
	}
	if len(tags) == 0 {
		return def
	}
	m := language.NewMatcher(tags)
	match := func(want ...language.Tag) (string, bool) {
		_, i, conf := m.Match(want...)
		if conf == language.No {
			return "", false
		}
		return names[i], true
	}
	// Bounds keep a hostile header from costing more than a glance.
	for i, s := range strings.Fields(uiLocales) {
		if i == 16 {
			break
		}
		if t, err := language.Parse(s); err == nil {
			if name, ok := match(t); ok {
				return name
			}
		}
	}
	if acceptLanguage != "" && len(acceptLanguage) <= 1024 {
		if want, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(want) > 0 {
			if name, ok := match(want...); ok {
				return name
			}
		}
	}
	return def
}

type key struct{ elementType, elementID, stringID string }

func keyOf(elementType, elementID, stringID string) key {
	if !usesElementID[elementType] {
		elementID = ""
	}
	return key{elementType, elementID, stringID}
}

// Strings are one page's texts in one language.
type Strings struct {
	lang, page string
	texts      map[key]string
	enums      map[string][]Item // claim type id -> items
}

// Lookup gathers the strings of the resources that refs (a
// ContentDefinition's LocalizedResourcesReferences) name for lang, later
// references overriding earlier ones as B2C merges them. page is the content
// definition's page contract (unifiedssp, selfasserted, ...), which picks the
// built-in UxElement texts. With localization disabled (or l nil) only the
// built-in texts remain. The error names a reference to a LocalizedResources
// that does not exist, in any language, so the loader can call Lookup once
// per content definition to check them all.
func Lookup(l *Localization, lang, page string, refs []Ref) (*Strings, error) {
	s := &Strings{lang: lang, page: page, texts: map[key]string{}, enums: map[string][]Item{}}
	if l == nil {
		return s, nil
	}
	var missing []string
	for _, r := range refs {
		res := l.Resources[r.ResourcesID]
		if res == nil {
			missing = append(missing, r.ResourcesID)
			continue
		}
		if !l.Enabled || !strings.EqualFold(r.Language, lang) {
			continue
		}
		for _, str := range res.Strings {
			s.texts[keyOf(str.ElementType, str.ElementID, str.StringID)] = str.Text
		}
		for _, c := range res.Collections {
			if c.ElementType == ClaimType && c.TargetCollection == "Restriction" {
				s.enums[c.ElementID] = c.Items
			}
		}
	}
	if missing != nil {
		return s, fmt.Errorf("localization: LocalizedResourcesReferenceId %s names no LocalizedResources", strings.Join(missing, ", "))
	}
	return s, nil
}

// Lang is the language the strings are in.
func (s *Strings) Lang() string { return s.lang }

// Get is the policy's text for a LocalizedString, or for UxElement and
// ErrorMessage ids the built-in one (in the language, else English).
func (s *Strings) Get(elementType, elementID, stringID string) (string, bool) {
	if t, ok := s.texts[keyOf(elementType, elementID, stringID)]; ok {
		return t, true
	}
	switch elementType {
	case UxElement:
		return Builtin(s.lang, s.page, stringID)
	case ErrorMessage:
		return Builtin(s.lang, ErrorMessage, stringID)
	}
	return "", false
}

// UX is a UxElement string (heading, button_signin, ver_but_send, ...).
func (s *Strings) UX(stringID string) (string, bool) { return s.Get(UxElement, "", stringID) }

// Error is an ErrorMessage string (UserMessageIfInvalidPassword, ...).
func (s *Strings) Error(stringID string) (string, bool) { return s.Get(ErrorMessage, "", stringID) }

// Claim is a ClaimType string: DisplayName, UserHelpText, PatternHelpText or
// AdminHelpText. False means the ClaimType's own text applies.
func (s *Strings) Claim(claimTypeID, stringID string) (string, bool) {
	return s.Get(ClaimType, claimTypeID, stringID)
}

// Predicate is a Predicate's string (StringId HelpText).
func (s *Strings) Predicate(predicateID, stringID string) (string, bool) {
	return s.Get(Predicate, predicateID, stringID)
}

// InputValidation is a PredicateValidation's group help text: B2C's
// ElementId is the PredicateValidation Id and StringId the PredicateGroup Id.
func (s *Strings) InputValidation(validationID, groupID string) (string, bool) {
	return s.Get(InputValidation, validationID, groupID)
}

// DisplayControl is a display control's string (but_send_code, ...).
func (s *Strings) DisplayControl(controlID, stringID string) (string, bool) {
	return s.Get(DisplayControl, controlID, stringID)
}

// ClaimsProvider is the label of a claims provider selection button. B2C
// identifies it by the StringId alone, which is the selection's
// ClaimsExchange (TargetClaimsExchangeId), with no ElementId.
func (s *Strings) ClaimsProvider(claimsExchangeID string) (string, bool) {
	return s.Get(ClaimsProvider, "", claimsExchangeID)
}

// Enumeration is a claim type's localized Restriction items, replacing the
// ClaimType's own enumeration.
func (s *Strings) Enumeration(claimTypeID string) ([]Item, bool) {
	items, ok := s.enums[claimTypeID]
	return items, ok
}
