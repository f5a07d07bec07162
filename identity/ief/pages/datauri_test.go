package pages

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseDataURI(t *testing.T) {
	for _, tc := range []struct {
		uri     string
		kind    Kind
		version Version
		scripts bool
	}{
		{"urn:com:microsoft:aad:b2c:elements:contract:unifiedssp:2.1.5", Unified, Version{2, 1, 5, true}, true},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1.7", SelfAsserted, Version{2, 1, 7, true}, true},
		{"urn:com:microsoft:aad:b2c:elements:contract:providerselection:1.2.1", ProviderSelection, Version{1, 2, 1, true}, true},
		{"urn:com:microsoft:aad:b2c:elements:contract:globalexception:1.2.1", Exception, Version{1, 2, 1, true}, true},
		{"urn:com:microsoft:aad:b2c:elements:contract:multifactor:1.2.5", MultiFactor, Version{1, 2, 5, true}, true},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:1.1.0", SelfAsserted, Version{1, 1, 0, true}, false},
		{"urn:com:microsoft:aad:b2c:elements:unifiedssp:1.0.0", Unified, Version{1, 0, 0, false}, false},
		{"urn:com:microsoft:aad:b2c:elements:unifiedssd:1.0.0", Unified, Version{1, 0, 0, false}, false},
		{"urn:com:microsoft:aad:b2c:elements:selfasserted:1.1.0", SelfAsserted, Version{1, 1, 0, false}, false},
		{"urn:com:microsoft:aad:b2c:elements:idpselection:1.0.0", ProviderSelection, Version{1, 0, 0, false}, false},
		{"urn:com:microsoft:aad:b2c:elements:globalexception:1.1.0", Exception, Version{1, 1, 0, false}, false},
		{"urn:com:microsoft:aad:b2c:elements:multifactor:1.1.0", MultiFactor, Version{1, 1, 0, false}, false},
		// A patch newer than any this package has seen still loads.
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1.99", SelfAsserted, Version{2, 1, 99, true}, true},
		// URNs compare case-insensitively; whitespace around XML text is not content.
		{"  URN:COM:MICROSOFT:AAD:B2C:ELEMENTS:CONTRACT:UnifiedSSP:2.1.5\n", Unified, Version{2, 1, 5, true}, true},
	} {
		k, v, err := ParseDataURI(tc.uri)
		if err != nil || k != tc.kind || v != tc.version {
			t.Errorf("ParseDataURI(%q) = %v, %+v, %v; want %v, %+v", tc.uri, k, v, err, tc.kind, tc.version)
		}
		if v.AllowsScripts() != tc.scripts {
			t.Errorf("%q: AllowsScripts() = %v, want %v", tc.uri, v.AllowsScripts(), tc.scripts)
		}
	}
}

func TestParseDataURIErrors(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"", "want \"urn:com:microsoft:aad:b2c:elements:\""},
		{"https://example.com/page", "want \"urn:com:microsoft:aad:b2c:elements:\""},
		{"urn:com:microsoft:aad:b2c:elements:contract:claimsconsent:1.0.0", `unknown or unsupported page type "claimsconsent"`},
		{"urn:com:microsoft:aad:b2c:elements:contract:bogus:1.0.0", `unknown or unsupported page type "bogus"`},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:3.0.0", "has no layout version 3.0.0; supported: 1.0.x, 1.1.x, 1.2.x, 2.0.x, 2.1.x"},
		// providerselection exists only as a contract; idpselection only in the old form.
		{"urn:com:microsoft:aad:b2c:elements:providerselection:1.0.0", `unknown or unsupported page type "providerselection" (old form)`},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1", "is not major.minor.patch"},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.1.x", "is not major.minor.patch"},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:2.01.1", "is not major.minor.patch"},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted:-1.1.1", "is not major.minor.patch"},
		{"urn:com:microsoft:aad:b2c:elements:contract:selfasserted", "no page type and version"},
	} {
		k, _, err := ParseDataURI(tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.want) || k != KindUnknown {
			t.Errorf("ParseDataURI(%q) = %v, %v; want an error containing %q", tc.uri, k, err, tc.want)
		}
	}
}

// Every DataUri in B2C's starter packs parses, and every page kind the
// packs use is one this package renders.
func TestStarterPackDataURIs(t *testing.T) {
	root := filepath.Join("..", "..", "..", "testdata", "b2c-starterpack")
	re := regexp.MustCompile(`<DataUri>([^<]+)</DataUri>`)
	seen := map[Kind]bool{}
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			n++
			k, _, err := ParseDataURI(string(m[1]))
			if err != nil {
				t.Errorf("%s: %v", path, err)
			}
			seen[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no DataUri in the starter packs: wrong path?")
	}
	for _, k := range []Kind{Unified, SelfAsserted, ProviderSelection, Exception, MultiFactor} {
		if !seen[k] {
			t.Errorf("no starter-pack DataUri of kind %v", k)
		}
	}
}

func TestVersionsTable(t *testing.T) {
	seen := map[Series]bool{}
	for _, s := range Versions {
		if seen[s] {
			t.Errorf("duplicate %+v", s)
		}
		seen[s] = true
		if s.Kind.DataName() == "" {
			t.Errorf("%+v: kind without a data-name", s)
		}
	}
	if got := Kind(42).String(); got != "Kind(42)" {
		t.Errorf("Kind(42).String() = %q", got)
	}
}
