package localization

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/gatehouse/gatehouse/identity/locale"
)

//go:embed strings/*.json
var files embed.FS

// builtin is language tag -> section (page contract or ErrorMessage) ->
// string id -> text.
var builtin = mustLoad()

func mustLoad() map[string]map[string]map[string]string {
	b, err := loadBuiltin()
	if err != nil {
		panic(err) // the embedded files are part of the build; TestBuiltinFiles checks them
	}
	return b
}

func loadBuiltin() (map[string]map[string]map[string]string, error) {
	ents, err := files.ReadDir("strings")
	if err != nil {
		return nil, err
	}
	all := map[string]map[string]map[string]string{}
	for _, e := range ents {
		name := strings.TrimSuffix(e.Name(), ".json")
		if t, err := language.Parse(name); err != nil || t.String() != name {
			return nil, fmt.Errorf("localization: strings/%s: not named by a canonical BCP 47 tag", e.Name())
		}
		data, err := files.ReadFile(path.Join("strings", e.Name()))
		if err != nil {
			return nil, err
		}
		m := map[string]map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("localization: strings/%s: %w", e.Name(), err)
		}
		all[name] = m
	}
	if all[fallback] == nil {
		return nil, fmt.Errorf("localization: strings/%s.json missing", fallback)
	}
	return all, nil
}

// Builtin is Gatehouse's default text for a B2C string id: section is the
// page contract (unifiedssp, selfasserted) for UxElement ids, or
// ErrorMessage. It is in lang, or lang's base language (de for de-AT), or
// else English.
func Builtin(lang, section, stringID string) (string, bool) {
	for _, l := range builtinChain(lang) {
		if t, ok := builtin[l][section][stringID]; ok {
			return t, true
		}
		// The user flows' texts (identity/locale: nine languages, B2C's
		// string ids) stand in for a language this package has no file
		// for, so policies get every language the hosted pages have —
		// for ids this page contract has (the English file says which).
		if _, known := builtin[fallback][section][stringID]; !known {
			continue
		}
		if ll, ok := locale.Parse(l); ok && strings.EqualFold(string(ll), l) {
			if t, ok := ll.Lookup(stringID); ok {
				return t, true
			}
		}
	}
	return "", false
}

func builtinChain(lang string) []string {
	chain := make([]string, 0, 3)
	if t, err := language.Parse(lang); err == nil {
		chain = append(chain, t.String())
		if base, conf := t.Base(); conf != language.No {
			chain = append(chain, base.String())
		}
	}
	return append(chain, fallback)
}

// BuiltinLanguages lists the languages with a built-in file.
func BuiltinLanguages() []string {
	return slices.Sorted(maps.Keys(builtin))
}
