package ief

import (
	"strconv"
	"strings"
	"testing"
)

// strongPassword is B2C's documented strong-password example
// (Predicates and PredicateValidations, "Configure password complexity").
const strongPassword = `<Predicates>
  <Predicate Id="IsLengthBetween8And64" Method="IsLengthRange" HelpText="The password must be between 8 and 64 characters.">
    <Parameters>
      <Parameter Id="Minimum">8</Parameter>
      <Parameter Id="Maximum">64</Parameter>
    </Parameters>
  </Predicate>
  <Predicate Id="Lowercase" Method="IncludesCharacters">
    <UserHelpText>a lowercase letter</UserHelpText>
    <Parameters>
      <Parameter Id="CharacterSet">a-z</Parameter>
    </Parameters>
  </Predicate>
  <Predicate Id="Uppercase" Method="IncludesCharacters">
    <UserHelpText>an uppercase letter</UserHelpText>
    <Parameters>
      <Parameter Id="CharacterSet">A-Z</Parameter>
    </Parameters>
  </Predicate>
  <Predicate Id="Number" Method="IncludesCharacters">
    <UserHelpText>a digit</UserHelpText>
    <Parameters>
      <Parameter Id="CharacterSet">0-9</Parameter>
    </Parameters>
  </Predicate>
  <Predicate Id="Symbol" Method="IncludesCharacters">
    <UserHelpText>a symbol</UserHelpText>
    <Parameters>
      <Parameter Id="CharacterSet">@#$%^&amp;*\-_+=[]{}|\\:',.?/` + "`" + `~"();!</Parameter>
    </Parameters>
  </Predicate>
</Predicates>
<PredicateValidations>
  <PredicateValidation Id="StrongPassword">
    <PredicateGroups>
      <PredicateGroup Id="LengthGroup">
        <PredicateReferences MatchAtLeast="1">
          <PredicateReference Id="IsLengthBetween8And64" />
        </PredicateReferences>
      </PredicateGroup>
      <PredicateGroup Id="CharacterClasses">
        <UserHelpText>The password must have at least 3 of the following:</UserHelpText>
        <PredicateReferences MatchAtLeast="3">
          <PredicateReference Id="Lowercase" />
          <PredicateReference Id="Uppercase" />
          <PredicateReference Id="Number" />
          <PredicateReference Id="Symbol" />
        </PredicateReferences>
      </PredicateGroup>
    </PredicateGroups>
  </PredicateValidation>
</PredicateValidations>`

// withPredicates puts predicates after miniBase's ClaimsSchema and gives
// the email claim a PredicateValidationReference.
func withPredicates(xml string) string {
	b := strings.Replace(miniBase, " </ClaimsSchema>\n", " </ClaimsSchema>\n"+xml+"\n", 1)
	return strings.Replace(b, `<DisplayName>Email</DisplayName><DataType>string</DataType>`,
		`<DisplayName>Email</DisplayName><DataType>string</DataType><PredicateValidationReference Id="StrongPassword"/>`, 1)
}

// lineOf is the 1-based line of the first occurrence of s in text.
func lineOf(text, s string) int {
	i := strings.Index(text, s)
	if i < 0 {
		return 0
	}
	return strings.Count(text[:i], "\n") + 1
}

func TestPredicatesCompile(t *testing.T) {
	set, err := loadMini(withPredicates(strongPassword), miniExt, miniRP)
	if err != nil {
		t.Fatal(err)
	}
	ps := set.Policy("B2C_1A_rp").PredicateSet
	if ps == nil {
		t.Fatal("no PredicateSet")
	}
	for _, c := range []struct {
		pw   string
		ok   bool
		want []string // failed group: its help, then its failed predicates' helps
	}{
		{"Passw0rd", true, nil},
		{"passw0rd", false, []string{"CharacterClasses|The password must have at least 3 of the following:|an uppercase letter,a symbol"}},
		{"Pa0!", false, []string{"LengthGroup||The password must be between 8 and 64 characters."}},
		{"p@ssword", false, []string{"CharacterClasses|The password must have at least 3 of the following:|an uppercase letter,a digit"}},
		{"p.ssw0rd", true, nil}, // '.' is in the symbol set
	} {
		ok, fails, err := ps.Validate("StrongPassword", c.pw)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range fails {
			var helps []string
			for _, x := range f.Failed {
				helps = append(helps, x.HelpText)
			}
			got = append(got, f.GroupID+"|"+f.HelpText+"|"+strings.Join(helps, ","))
		}
		if ok != c.ok || strings.Join(got, ";") != strings.Join(c.want, ";") {
			t.Errorf("%q: ok=%v %q, want ok=%v %q", c.pw, ok, got, c.ok, c.want)
		}
	}
}

// Several PredicateReferences in one PredicateGroup are groups of their
// own, each with its MatchAtLeast; the group's help text comes from the
// PredicateReferences' HelpText when the group has no UserHelpText.
func TestPredicateGroupWithSeveralReferenceLists(t *testing.T) {
	xml := strings.Replace(strongPassword, `<PredicateGroup Id="LengthGroup">
        <PredicateReferences MatchAtLeast="1">
          <PredicateReference Id="IsLengthBetween8And64" />
        </PredicateReferences>`, `<PredicateGroup Id="LengthGroup">
        <PredicateReferences MatchAtLeast="1" HelpText="long enough">
          <PredicateReference Id="IsLengthBetween8And64" />
        </PredicateReferences>
        <PredicateReferences HelpText="both cases">
          <PredicateReference Id="Lowercase" />
          <PredicateReference Id="Uppercase" />
        </PredicateReferences>`, 1)
	set, err := loadMini(withPredicates(xml), miniExt, miniRP)
	if err != nil {
		t.Fatal(err)
	}
	ok, fails, err := set.Policy("B2C_1A_rp").PredicateSet.Validate("StrongPassword", "passw0rd!")
	if err != nil || ok || len(fails) != 1 || fails[0].HelpText != "both cases" || len(fails[0].Failed) != 1 || fails[0].Failed[0].PredicateID != "Uppercase" {
		t.Errorf("ok=%v fails=%+v err=%v", ok, fails, err)
	}
	if ok, _, _ := set.Policy("B2C_1A_rp").PredicateSet.Validate("StrongPassword", "short"); ok {
		t.Error("short passes")
	}
}

func TestPredicateProblemsAtTheirElement(t *testing.T) {
	cases := []struct {
		name, xml, elem, want string
	}{
		{"bad regex",
			strings.Replace(strongPassword, `<Predicate Id="Lowercase" Method="IncludesCharacters">
    <UserHelpText>a lowercase letter</UserHelpText>
    <Parameters>
      <Parameter Id="CharacterSet">a-z</Parameter>`, `<Predicate Id="Lowercase" Method="MatchesRegex">
    <UserHelpText>a lowercase letter</UserHelpText>
    <Parameters>
      <Parameter Id="RegularExpression">(?&lt;=a</Parameter>`, 1),
			`<Predicate Id="Lowercase"`, `Predicate "Lowercase" RegularExpression: `},
		{"unknown reference",
			strings.Replace(strongPassword, `<PredicateReference Id="Symbol" />`, `<PredicateReference Id="Symbols" />`, 1),
			`<PredicateValidation Id="StrongPassword"`, `PredicateValidation "StrongPassword" group "CharacterClasses": PredicateReference "Symbols" names no Predicate`},
		{"match at least",
			strings.Replace(strongPassword, `MatchAtLeast="3"`, `MatchAtLeast="5"`, 1),
			`<PredicateValidation Id="StrongPassword"`, `PredicateValidation "StrongPassword" group "CharacterClasses": MatchAtLeast 5 with 4 predicate references`},
		{"duplicate",
			strings.Replace(strongPassword, `</Predicates>`, `<Predicate Id="Number" Method="IncludesCharacters"><Parameters><Parameter Id="CharacterSet">0-9</Parameter></Parameters></Predicate>
</Predicates>`, 1),
			`<Predicate Id="Number" Method="IncludesCharacters"><Parameters>`, `Predicate "Number": duplicate Id`},
		{"missing parameter",
			strings.Replace(strongPassword, `<Parameter Id="Maximum">64</Parameter>`, ``, 1),
			`<Predicate Id="IsLengthBetween8And64"`, `Predicate "IsLengthBetween8And64" Maximum: missing`},
	}
	for _, c := range cases {
		base := withPredicates(c.xml)
		_, err := loadMini(base, miniExt, miniRP)
		line := lineOf(base, c.elem)
		col := strings.Index(strings.Split(base, "\n")[line-1], "<") + 1
		want := "base.xml:" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": " + c.want
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %q", c.name, err, want)
		}
	}
}

// A relying party's extension can override a base's predicate by Id: the
// merged one is compiled.
func TestPredicateOverriddenByExtension(t *testing.T) {
	ext := strings.Replace(miniExt, "<ClaimsProviders>", `<BuildingBlocks><Predicates>
  <Predicate Id="IsLengthBetween8And64" Method="IsLengthRange">
    <Parameters><Parameter Id="Minimum">12</Parameter><Parameter Id="Maximum">64</Parameter></Parameters>
  </Predicate></Predicates></BuildingBlocks><ClaimsProviders>`, 1)
	set, err := loadMini(withPredicates(strongPassword), ext, miniRP)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := set.Policy("B2C_1A_rp").PredicateSet.Validate("StrongPassword", "Passw0rd!"); ok {
		t.Error("9 characters pass a 12-character minimum")
	}
}
