package locale

import (
	"reflect"
	"slices"
	"testing"
)

// TestTables: every language file has exactly English's ids, no empty
// text, and per id the same placeholders; the built-in languages are all
// there.
func TestTables(t *testing.T) {
	en := tables[English]
	if len(en) == 0 {
		t.Fatal("no English table")
	}
	for _, l := range langs {
		tab := tables[l]
		for id, s := range en {
			got, ok := tab[id]
			if !ok {
				t.Errorf("%s: missing %q", l, id)
				continue
			}
			if got == "" {
				t.Errorf("%s: %q is empty", l, id)
			}
			if p, q := placeholders(s), placeholders(got); !reflect.DeepEqual(p, q) {
				t.Errorf("%s: %q has placeholders %v, English %v", l, id, q, p)
			}
		}
		for id := range tab {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: unknown id %q", l, id)
			}
		}
	}
	for _, want := range []Lang{"en", "de", "fr", "es", "it", "pt-BR", "nl", "ja", "zh-Hans"} {
		if !slices.Contains(langs, want) {
			t.Errorf("built-in language %s missing", want)
		}
	}
	if langs[0] != English {
		t.Errorf("languages %v: English not first", langs)
	}
}

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		ui, al string
		want   Lang
	}{
		{"de", "", "de"},
		{"de-AT", "fr", "de"},
		{"xx de", "", "de"},       // first supported tag of the list
		{"sv fr-CA es", "", "fr"}, // unsupported skipped
		{"", "fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"", "sv, nl;q=0.5", "nl"},
		{"", "zh-CN", "zh-Hans"},
		{"", "pt-BR", "pt-BR"},
		{"", "ja-JP", "ja"},
		{"", "sv", "en"}, // unsupported: default
		{"", "", "en"},
		{"xx", "garbage;;;", "en"},
		{"EN-us", "de", "en"},
	} {
		if got := Choose(c.ui, c.al, English); got != c.want {
			t.Errorf("Choose(%q, %q) = %q, want %q", c.ui, c.al, got, c.want)
		}
	}
	if got := Choose("", "sv", "de"); got != "de" {
		t.Errorf("default de: %q", got)
	}
	if got := Choose("", "", "xx"); got != English {
		t.Errorf("unsupported default: %q", got)
	}
}

func TestLookup(t *testing.T) {
	if got := Lang("de").T("button_signin"); got != "Anmelden" {
		t.Errorf("de button_signin = %q", got)
	}
	if got := Lang("xx").T("button_signin"); got != "Sign in" {
		t.Errorf("fallback = %q", got)
	}
	if got := English.T("no_such_id"); got != "no_such_id" {
		t.Errorf("unknown = %q", got)
	}
	if got := English.F("password_error_length", 8, 64); got != "The password must be between 8 and 64 characters." {
		t.Errorf("F = %q", got)
	}
}

// TestChooseFrom: a flow's enabled languages limit the choice; its
// default language is used when nothing matches.
func TestChooseFrom(t *testing.T) {
	en := []Lang{"de", "fr"}
	for _, c := range []struct {
		ui, al string
		def    Lang
		want   Lang
	}{
		{"es de", "", "fr", "de"}, // es not enabled
		{"", "es, fr;q=0.5", "de", "fr"},
		{"", "es", "fr", "fr"},   // default
		{"", "", "", "de"},       // no default: first enabled
		{"en", "en", "en", "de"}, // en not enabled, nor the default
	} {
		if got := ChooseFrom(c.ui, c.al, c.def, en); got != c.want {
			t.Errorf("ChooseFrom(%q, %q, %q) = %q, want %q", c.ui, c.al, c.def, got, c.want)
		}
	}
	if got := ChooseFrom("", "", "", []Lang{"xx"}); got != English {
		t.Errorf("unknown enabled only: %q", got)
	}
}
