package identity

import (
	"reflect"
	"strings"
	"testing"
)

// TestFlowLanguages: a user flow's languages and defaultLanguage are
// built-in tags (any case, stored canonical); others are errors with
// file:line:col.
func TestFlowLanguages(t *testing.T) {
	base := testConfigYAML("https://login.contoso.example", "RS256")
	src := strings.Replace(base, "type: passwordReset }", "type: passwordReset, languages: [DE, pt-br, en], defaultLanguage: de }", 1)
	cfg, err := parseConfig(t, src)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := reg.Flows["b2c_1_reset"]
	if !reflect.DeepEqual(f.Languages, []string{"de", "pt-BR", "en"}) || f.DefaultLanguage != "de" {
		t.Fatalf("languages %q default %q", f.Languages, f.DefaultLanguage)
	}
	if f := reg.Flows["b2c_1_signupsignin1"]; f.Languages != nil || f.DefaultLanguage != "" {
		t.Fatalf("defaults %q %q", f.Languages, f.DefaultLanguage)
	}
	for _, c := range []struct{ new, want string }{
		{"languages: [de, xx]", `languages: "xx" is not a built-in language (en, de,`},
		{"defaultLanguage: tlh", `defaultLanguage: "tlh" is not a built-in language`},
		{"languages: [de], defaultLanguage: fr", `defaultLanguage: "fr" is not one of the flow's languages`},
	} {
		cfg, err := parseConfig(t, strings.Replace(base, "type: passwordReset }", "type: passwordReset, "+c.new+" }", 1))
		if err == nil {
			_, err = NewRegistry(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:") {
			t.Errorf("%s: %v, want %q", c.new, err, c.want)
		}
	}
}
