package directory

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity/claimstx"
)

// The tests run the starter packs' own AAD profiles: this is a minimal
// reading of a policy file (ClaimsSchema and technical profiles with
// IncludeTechnicalProfile resolved within the file), standing in for the
// loader in identity/ief that the package must not import.

type xPolicy struct {
	ClaimTypes []struct {
		ID       string `xml:"Id,attr"`
		DataType string `xml:"DataType"`
	} `xml:"BuildingBlocks>ClaimsSchema>ClaimType"`
	Profiles []xProfile `xml:"ClaimsProviders>ClaimsProvider>TechnicalProfiles>TechnicalProfile"`
}

type xProfile struct {
	ID       string `xml:"Id,attr"`
	Protocol struct {
		Handler string `xml:"Handler,attr"`
	} `xml:"Protocol"`
	Items []struct {
		Key   string `xml:"Key,attr"`
		Value string `xml:",chardata"`
	} `xml:"Metadata>Item"`
	Input     []xRef `xml:"InputClaims>InputClaim"`
	Persisted []xRef `xml:"PersistedClaims>PersistedClaim"`
	Output    []xRef `xml:"OutputClaims>OutputClaim"`
	Include   struct {
		Ref string `xml:"ReferenceId,attr"`
	} `xml:"IncludeTechnicalProfile"`
}

type xRef struct {
	ClaimType string `xml:"ClaimTypeReferenceId,attr"`
	Partner   string `xml:"PartnerClaimType,attr"`
	Default   string `xml:"DefaultValue,attr"`
	Always    bool   `xml:"AlwaysUseDefaultValue,attr"`
}

// pack is one policy file's AAD profiles, resolved.
type pack map[string]Profile

func loadPack(t testing.TB, path string) pack {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var x xPolicy
	if err := xml.Unmarshal(b, &x); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	types := map[string]claimstx.DataType{}
	for _, c := range x.ClaimTypes {
		types[c.ID] = claimstx.DataType(c.DataType)
	}
	byID := map[string]xProfile{}
	for _, p := range x.Profiles {
		byID[p.ID] = p
	}
	// resolve merges the included chain: metadata by key and claims by
	// ClaimTypeReferenceId, the including profile winning.
	var resolve func(id string, depth int) (handler string, meta map[string]string, in, per, out []xRef)
	resolve = func(id string, depth int) (string, map[string]string, []xRef, []xRef, []xRef) {
		p, ok := byID[id]
		if !ok || depth > 10 {
			return "", map[string]string{}, nil, nil, nil
		}
		h, meta, in, per, out := "", map[string]string{}, []xRef(nil), []xRef(nil), []xRef(nil)
		if p.Include.Ref != "" {
			h, meta, in, per, out = resolve(p.Include.Ref, depth+1)
		}
		if p.Protocol.Handler != "" {
			h = p.Protocol.Handler
		}
		for _, it := range p.Items {
			meta[it.Key] = strings.TrimSpace(it.Value)
		}
		return h, meta, merge(in, p.Input), merge(per, p.Persisted), merge(out, p.Output)
	}
	refs := func(xs []xRef) []Ref {
		var out []Ref
		for _, r := range xs {
			out = append(out, Ref{ClaimType: r.ClaimType, PartnerClaimType: r.Partner, DefaultValue: r.Default,
				AlwaysUseDefault: r.Always, DataType: types[r.ClaimType]})
		}
		return out
	}
	pk := pack{}
	for id := range byID {
		h, meta, in, per, out := resolve(id, 0)
		if !strings.HasPrefix(h, "Web.TPEngine.Providers.AzureActiveDirectoryProvider") || meta["Operation"] == "" {
			continue // not AAD, or abstract (AAD-Common)
		}
		msgs := map[string]string{}
		for k, v := range meta {
			if strings.HasPrefix(k, "UserMessageIf") {
				msgs[k] = v
			}
		}
		pk[id] = Profile{ID: id, Operation: meta["Operation"],
			RaiseIfNotExist: meta["RaiseErrorIfClaimsPrincipalDoesNotExist"] == "true",
			RaiseIfExists:   meta["RaiseErrorIfClaimsPrincipalAlreadyExists"] == "true",
			InputClaims:     refs(in), PersistedClaims: refs(per), OutputClaims: refs(out),
			Messages: msgs, IncludeExtensionApp: meta["ClientId"]}
	}
	return pk
}

func merge(base, over []xRef) []xRef {
	out := append([]xRef(nil), base...)
next:
	for _, r := range over {
		for i := range out {
			if out[i].ClaimType == r.ClaimType {
				out[i] = r
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

func (pk pack) get(t testing.TB, id string) Profile {
	t.Helper()
	p, ok := pk[id]
	if !ok {
		t.Fatalf("no AAD profile %s", id)
	}
	return p
}

// Every AAD profile of every starter pack (and scenario) passes Check.
func TestStarterPacksCheck(t *testing.T) {
	files, err := filepath.Glob("../../../testdata/b2c-starterpack/*/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../../testdata/b2c-starterpack/*/*/*.xml")
	files = append(files, more...)
	n := 0
	for _, f := range files {
		for id, p := range loadPack(t, f) {
			n++
			for _, prob := range Check(p) {
				t.Errorf("%s: %s: %s", filepath.Base(f), id, prob)
			}
		}
	}
	if n < 50 {
		t.Fatalf("checked only %d profiles", n)
	}
	t.Logf("%d AAD profiles checked", n)
}
