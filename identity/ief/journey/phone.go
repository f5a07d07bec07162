package journey

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
)

// B2C's PhoneFactor (phone MFA): one page asking for a code sent to the
// number on record — or, with ManualPhoneNumberEntryAllowed and none on
// record, to a number the user enters. Its outputs by PartnerClaimType:
// Verified.OfficePhone (the proven number) and newPhoneNumberEntered.

// e164 is a phone number as codes are sent to it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizePhone strips the spaces, dots, dashes and parentheses people
// type; the result is E.164 or "".
func NormalizePhone(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\u00a0':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !e164.MatchString(s) {
		return ""
	}
	return s
}

func isPhoneFactor(tp *ief.TechnicalProfile) bool {
	return tp.Provider != nil && tp.Provider.Name == ief.ProviderPhoneFactor
}

// isFactor: a second-factor page (PhoneFactor, or the user flows'
// EmailFactor: a code to the address on record).
func isFactor(tp *ief.TechnicalProfile) bool {
	return isPhoneFactor(tp) || tp.Provider != nil && tp.Provider.Name == ief.ProviderEmailFactor
}

// phoneClaim is the profile's input claim holding the number on record
// (the one that is not the UserId).
func (e *Engine) phoneClaim(tp *ief.TechnicalProfile) *ief.ClaimType {
	for _, r := range tp.InputClaims {
		if !strings.EqualFold(r.PartnerClaimType, "UserId") {
			return e.env.Policy.Claim(r.ClaimType)
		}
	}
	return nil
}

// phonePage is a PhoneFactor (or EmailFactor) profile's page: the number on record (shown
// masked, never taken from the form) or an entered one, to verify.
func (e *Engine) phonePage(st *State, tp *ief.TechnicalProfile, values map[string]string) (*Page, error) {
	if err := e.transform(st, tp.InputTx); err != nil {
		return nil, err
	}
	call, err := e.call(st, tp)
	if err != nil {
		return nil, err
	}
	ct := e.phoneClaim(tp)
	if ct == nil {
		return nil, &UserError{Code: "AADB2C90080", Message: "The technical profile '" + tp.ID + "' has no phone number input claim."}
	}
	p := &Page{Profile: tp.ID, Kind: "selfasserted", ContentDef: tp.Metadata["ContentDefinitionReferenceId"]}
	f := &Field{Claim: ct, Verify: true, Phone: isPhoneFactor(tp), Required: true}
	if known := claimstx.FormatValue(call.In[ct.ID].Value); known != "" {
		f.Value, f.OnRecord = known, true
	} else if !f.Phone || tp.Metadata["ManualPhoneNumberEntryAllowed"] != "true" {
		return nil, &UserError{Code: "AADB2C90046", Message: "There is no phone number or email address on record for this account."}
	} else {
		f.Value = NormalizePhone(values[ct.ID])
		if f.Value == "" {
			f.Value = cmp.Or(st.Pending[ct.ID], st.Verified[ct.ID])
		}
	}
	if f.Value != "" && st.Verified[ct.ID] == f.Value {
		f.Verified = true
	} else if f.Value != "" && st.Pending[ct.ID] == f.Value {
		f.CodeSent = true
	}
	p.Fields = []*Field{f}
	return p, nil
}

// phoneOutputs are a verified PhoneFactor page's output claims.
func (e *Engine) phoneOutputs(st *State, tp *ief.TechnicalProfile, f *Field) {
	st.SecondFactor = true
	got := Bag{}
	for _, r := range tp.OutputClaims {
		id := e.claimID(r.ClaimType)
		switch r.Name() {
		case "Verified.OfficePhone":
			got[id] = claimstx.Claim{DataType: e.dataType(id), Value: f.Value}
		case "newPhoneNumberEntered":
			got[id] = claimstx.Claim{DataType: claimstx.Boolean, Value: !f.OnRecord}
		}
	}
	e.outputs(st, tp, got)
}
