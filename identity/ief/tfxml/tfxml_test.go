package tfxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every file of the starter packs Microsoft ships passes the schema.
func TestStarterPacksPassTheSchema(t *testing.T) {
	files, _ := filepath.Glob("../../../testdata/b2c-starterpack/*/*.xml")
	more, _ := filepath.Glob("../../../testdata/b2c-starterpack/*/*/*.xml")
	files = append(files, more...)
	if len(files) < 40 {
		t.Fatalf("found %d starter-pack files; the testdata is missing", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Parse(f, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, e := range Check(n) {
			t.Errorf("%v", e)
		}
	}
}

const head = `<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0" TenantId="t" PolicyId="B2C_1A_x" PublicPolicyUri="http://t/B2C_1A_x">`

func TestSchemaProblemsNameTheirPlace(t *testing.T) {
	cases := []struct{ doc, want string }{
		{head + "\n  <BuildingBlocks><Bogus/></BuildingBlocks></TrustFrameworkPolicy>", "f.xml:2:19: element <Bogus> is not allowed in <BuildingBlocks> (B2C schema: elements are "},
		{head + "\n<ClaimsProviders><ClaimsProvider><TechnicalProfiles><TechnicalProfile Idd=\"x\"/></TechnicalProfiles></ClaimsProvider></ClaimsProviders></TrustFrameworkPolicy>", "f.xml:2:53: attribute Idd is not allowed on <TechnicalProfile>"},
		{head + "\n<ClaimsProviders><ClaimsProvider><TechnicalProfiles><TechnicalProfile/></TechnicalProfiles></ClaimsProvider></ClaimsProviders></TrustFrameworkPolicy>", "f.xml:2:53: <TechnicalProfile> needs the attribute Id (B2C schema)"},
		{head + "\n<BuildingBlocks><ClaimsSchema><ClaimType Id=\"a\"><DataType>strng</DataType></ClaimType></ClaimsSchema></BuildingBlocks></TrustFrameworkPolicy>", "f.xml:2:49: <DataType>: \"strng\" is not one of"},
		{head + "text</TrustFrameworkPolicy>", "<TrustFrameworkPolicy> holds elements only"},
		{`<TrustFrameworkPolicy xmlns="urn:other"/>`, "in namespace \"urn:other\""},
		{`<Policy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06"/>`, "the root element must be <TrustFrameworkPolicy>"},
		{head + "<BuildingBlocks>", "not well-formed XML"},
		{`<!DOCTYPE x [<!ENTITY a "b">]>` + head + `</TrustFrameworkPolicy>`, "DOCTYPE"},
	}
	for _, c := range cases {
		n, err := Parse("f.xml", []byte(c.doc))
		var got string
		if err != nil {
			got = err.Error()
		} else {
			got = Check(n).Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%.60s...\n got %q\nwant %q", c.doc, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	if _, err := Parse("f.xml", make([]byte, MaxFileBytes+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized file: %v", err)
	}
	deep := head + strings.Repeat("<BuildingBlocks>", 100) + strings.Repeat("</BuildingBlocks>", 100) + "</TrustFrameworkPolicy>"
	if _, err := Parse("f.xml", []byte(deep)); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep nesting: %v", err)
	}
}

func FuzzParseCheck(f *testing.F) {
	f.Add([]byte(head + `<BuildingBlocks><ClaimsSchema><ClaimType Id="a"><DataType>string</DataType></ClaimType></ClaimsSchema></BuildingBlocks></TrustFrameworkPolicy>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, err := Parse("f.xml", data); err == nil {
			_ = Check(n)
			_ = n.Clone()
		}
	})
}
