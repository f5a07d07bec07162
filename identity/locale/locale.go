// Package locale holds the hosted pages' string tables and picks a page's
// language the way Azure AD B2C does.
//
// Each language is one JSON file in strings/, named by its BCP 47 tag
// (de.json, pt-BR.json, zh-Hans.json): an object from string id to text.
// The ids are B2C's localization string ids where B2C has one
// (logonIdentifier_email, button_signin, UserMessageIfInvalidPassword,
// ver_but_send, ...). Texts may hold numbered placeholders ({0}, {1}),
// filled by Lang.F. en.json is the reference: every other file has exactly
// its ids and, per id, the same placeholders (TestTables). Adding a
// language is adding a file.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// English is the default language and the reference table.
const English Lang = "en"

//go:embed strings/*.json
var files embed.FS

var (
	tables map[Lang]map[string]string
	langs  []Lang // English first, then by tag
	all    *set
	sets   sync.Map // strings.Join(enabled, " ") -> *set
)

// set is languages to choose from, with their matcher.
type set struct {
	langs   []Lang
	matcher language.Matcher
}

func newSet(ls []Lang) *set {
	tags := make([]language.Tag, len(ls))
	for i, l := range ls {
		tags[i] = language.MustParse(string(l))
	}
	return &set{langs: ls, matcher: language.NewMatcher(tags)}
}

// setOf is the set of the supported languages among enabled (nil: all).
func setOf(enabled []Lang) *set {
	var ls []Lang
	for _, l := range enabled {
		if _, ok := tables[l]; ok {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return all
	}
	key := fmt.Sprint(ls)
	if s, ok := sets.Load(key); ok {
		return s.(*set)
	}
	s, _ := sets.LoadOrStore(key, newSet(ls))
	return s.(*set)
}

func init() {
	t, l, err := load()
	if err != nil {
		panic(err)
	}
	tables, langs = t, l
	all = newSet(langs)
}

func load() (map[Lang]map[string]string, []Lang, error) {
	ents, err := files.ReadDir("strings")
	if err != nil {
		return nil, nil, err
	}
	t := map[Lang]map[string]string{}
	var ls []Lang
	for _, e := range ents {
		name := strings.TrimSuffix(e.Name(), ".json")
		tag, err := language.Parse(name)
		if err != nil || tag.String() != name {
			return nil, nil, fmt.Errorf("locale: %s: file name is not a canonical BCP 47 tag", e.Name())
		}
		b, err := files.ReadFile(path.Join("strings", e.Name()))
		if err != nil {
			return nil, nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, nil, fmt.Errorf("locale: %s: %w", e.Name(), err)
		}
		t[Lang(name)] = m
		if Lang(name) != English {
			ls = append(ls, Lang(name))
		}
	}
	if t[English] == nil {
		return nil, nil, fmt.Errorf("locale: strings/en.json missing")
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
	return t, append([]Lang{English}, ls...), nil
}

// Lang is a supported language's tag ("en", "de", "pt-BR", "zh-Hans").
type Lang string

// Supported lists the built-in languages, English first.
func Supported() []Lang { return append([]Lang(nil), langs...) }

// T is the text of id in l (English if l lacks it, id itself if unknown).
func (l Lang) T(id string) string {
	if s, ok := tables[l][id]; ok {
		return s
	}
	if s, ok := tables[English][id]; ok {
		return s
	}
	return id
}

// Lookup is the text of id in l itself, without falling back to English.
func (l Lang) Lookup(id string) (string, bool) {
	s, ok := tables[l][id]
	return s, ok
}

// F is T with the placeholders {0}, {1}, ... replaced by args.
func (l Lang) F(id string, args ...any) string {
	s := l.T(id)
	for i, a := range args {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return s
}

// Parse returns the supported language closest to one BCP 47 tag (de-AT:
// de, zh-CN: zh-Hans, pt: pt-BR); false if none is close.
func Parse(tag string) (Lang, bool) {
	t, err := language.Parse(strings.TrimSpace(tag))
	if err != nil {
		return "", false
	}
	return all.match(t)
}

func (s *set) match(tags ...language.Tag) (Lang, bool) {
	_, i, conf := s.matcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return s.langs[i], true
}

// FromUILocales is the first supported language of an OpenID Connect
// ui_locales value (space-separated tags, in order of preference).
func FromUILocales(s string) (Lang, bool) { return all.fromUILocales(s) }

func (set *set) fromUILocales(s string) (Lang, bool) {
	for i, tag := range strings.Fields(s) {
		if i == 16 {
			break
		}
		if t, err := language.Parse(tag); err == nil {
			if l, ok := set.match(t); ok {
				return l, true
			}
		}
	}
	return "", false
}

// FromAcceptLanguage is the supported language that best matches an
// Accept-Language header (weights respected).
func FromAcceptLanguage(h string) (Lang, bool) { return all.fromAcceptLanguage(h) }

func (s *set) fromAcceptLanguage(h string) (Lang, bool) {
	if h == "" || len(h) > 1024 {
		return "", false
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	return s.match(tags...)
}

// Choose is B2C's order: ui_locales, then the browser's Accept-Language,
// then def (English if def is not supported).
func Choose(uiLocales, acceptLanguage string, def Lang) Lang {
	return ChooseFrom(uiLocales, acceptLanguage, def, nil)
}

// ChooseFrom is Choose among the enabled languages (nil: all supported),
// as a B2C user flow with language customization: ui_locales and the
// browser pick among them, else def, else the first enabled language.
func ChooseFrom(uiLocales, acceptLanguage string, def Lang, enabled []Lang) Lang {
	s := setOf(enabled)
	if l, ok := s.fromUILocales(uiLocales); ok {
		return l
	}
	if l, ok := s.fromAcceptLanguage(acceptLanguage); ok {
		return l
	}
	for _, l := range s.langs {
		if l == def {
			return l
		}
	}
	return s.langs[0]
}

var placeholderRE = regexp.MustCompile(`\{[0-9]+\}`)

// placeholders are the sorted placeholders of s.
func placeholders(s string) []string {
	p := placeholderRE.FindAllString(s, -1)
	sort.Strings(p)
	return p
}
