package trustframework

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// starterPackPasswordPattern is the newPassword Restriction pattern of the
// starter pack's TrustFrameworkBase.xml (repository testdata copy).
func starterPackPasswordPattern(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/b2c-starterpack/LocalAccounts/TrustFrameworkBase.xml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Claims []struct {
			ID      string `xml:"Id,attr"`
			Pattern struct {
				RE string `xml:"RegularExpression,attr"`
			} `xml:"Restriction>Pattern"`
		} `xml:"BuildingBlocks>ClaimsSchema>ClaimType"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Claims {
		if c.ID == "newPassword" && c.Pattern.RE != "" {
			return c.Pattern.RE
		}
	}
	t.Fatal("no newPassword pattern")
	return ""
}

func attrEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

func patternPolicy(claims string) string {
	return head + "<BuildingBlocks><ClaimsSchema>\n" + claims + "\n</ClaimsSchema></BuildingBlocks></TrustFrameworkPolicy>"
}

func claimXML(id, pattern, help string) string {
	return `<ClaimType Id="` + id + `"><DisplayName>` + id + `</DisplayName><DataType>string</DataType>` +
		`<Restriction><Pattern RegularExpression="` + attrEscape(pattern) + `" HelpText="` + attrEscape(help) + `" /></Restriction></ClaimType>`
}

func loadPolicies(t *testing.T, src string) *Policies {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Ext.xml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := Load([]config.Path{{Raw: "Ext.xml", Abs: p}})
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestClaimPatterns: Restriction patterns are .NET regular expressions
// (the starter pack's lookahead password pattern loads and works),
// compiled at load and applied to the sign-up page's claims.
func TestClaimPatterns(t *testing.T) {
	pw := starterPackPasswordPattern(t)
	p := loadPolicies(t, patternPolicy(
		claimXML("extension_Secret", pw, "8-16 characters, 3 of 4 classes")+"\n"+
			claimXML("extension_Code", `^(?<cc>[A-Z]{2})-\d{4}(?<!0000)$`, "")+"\n"+
			claimXML("extension_Twice", `^(\w+)-\1$`, "Repeat the word.")+"\n"+
			claimXML("extension_Evil", `^(a+)+$`, "a's")))

	for _, c := range []struct {
		claim, value string
		want         bool
	}{
		{"extension_Secret", "Passw0rd", true},
		{"extension_Secret", "Password!", true},
		{"extension_Secret", "password1", false},
		{"extension_Secret", "Pass1!", false},
		{"extension_Secret", "Passw0rd.@x", false},
		{"extension_Code", "FR-1234", true},
		{"extension_Code", "FR-0000", false},
		{"extension_Code", "fr-1234", false},
		{"extension_Twice", "ab-ab", true},
		{"extension_Twice", "ab-cd", false},
		{"email", "anything", true}, // no pattern
	} {
		got, err := p.ClaimTypes[c.claim].CheckPattern(c.value)
		if err != nil || got != c.want {
			t.Errorf("%s %q = %v %v, want %v", c.claim, c.value, got, err, c.want)
		}
	}

	if err := p.CheckPatterns(map[string]any{"extension_Code": "DE-0042", "extension_Twice": "x-x", "email": "e@x"}); err != nil {
		t.Errorf("valid claims: %v", err)
	}
	var ue *UserError
	if err := p.CheckPatterns(map[string]any{"extension_Twice": "x-y"}); !errors.As(err, &ue) || ue.Message != "Repeat the word." {
		t.Errorf("mismatch = %v, want the HelpText", err)
	}
	if err := p.CheckPatterns(map[string]any{"extension_Code": "FR-0000"}); !errors.As(err, &ue) || !strings.Contains(ue.Message, "extension_Code") {
		t.Errorf("mismatch without HelpText = %v", err)
	}
	// Catastrophic backtracking: the timeout error (asserted, not timed),
	// not a user error and not a hang.
	err := p.CheckPatterns(map[string]any{"extension_Evil": strings.Repeat("a", 40) + "b"})
	if !errors.Is(err, dotnetregex.ErrTimeout) || errors.As(err, &ue) {
		t.Errorf("evil = %v, want a timeout", err)
	}

	// Through the hosted adapter: ValidateSignUp refuses before any
	// validation profile runs.
	req := userflow.CustomRequest{Flow: &identity.Flow{Name: "B2C_1A_X"}}
	if _, err := p.ValidateSignUp(context.Background(), req, map[string]any{"extension_Code": "xx"}); !errors.As(err, &ue) {
		t.Errorf("ValidateSignUp = %v, want a user error", err)
	}
}

func TestClaimPatternLoadErrors(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{`(abc`, "Ext.xml:4:"},
		{`[a-`, "RegularExpression: invalid regular expression"},
		{`\k<nope>`, "RegularExpression: invalid regular expression"},
	} {
		err := loadString(t, patternPolicy(claimXML("extension_X", c.pattern, "")))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.pattern, err, c.want)
		}
	}
	// Patterns RE2 refused before load now.
	if err := loadString(t, patternPolicy(claimXML("extension_X", `^(?=.*\d).+$`, ""))); err != nil {
		t.Errorf("lookahead: %v", err)
	}
}
