package journey

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/predicate"
)

// Page is what a self-asserted profile (or a selection step) asks of the
// user; the HTTP side renders it with the profile's content definition.
type Page struct {
	Profile string // technical profile id ("selection" for a selection step)
	// Kind is "unified" (sign-in with a sign-up link: a
	// CombinedSignInAndSignUp step), "selfasserted" or "selection".
	Kind       string
	ContentDef string
	Fields     []*Field
	// SignUp is the ClaimsExchange the sign-up link selects.
	SignUp string
	// ForgotPassword is the ClaimsExchange the forgot-password link
	// selects (metadata setting.forgotPasswordLinkOverride, B2C's embedded
	// password reset); "" means the link ends the journey with
	// AADB2C90118 for the app to start its reset policy.
	ForgotPassword string
	// Choices are the provider buttons of a selection step.
	Choices []string
	Error   string
	// Info is a notice such as "a code was sent"; InfoID its B2C string id
	// (ver_info_msg, ver_success_msg).
	Info, InfoID string
	// Status and RetryAfter: a throttle's 429 (0 = 200).
	Status     int
	RetryAfter time.Duration
	// Displays are the display-only controls (QR code, authenticator
	// details), in DisplayClaims order.
	Displays []*Display
}

// Display is a display-only control and the claims it shows.
type Display struct {
	ID, Type string
	// Position is the number of fields before it.
	Position int
	Claims   []DisplayClaim
}

// DisplayClaim is a claim a display-only control shows: its value, and
// its ControlClaimType (QrCodeContent, ...) when it has one.
type DisplayClaim struct {
	Claim       *ief.ClaimType
	Value       string
	ControlType string
}

// Field is one claim on the page.
type Field struct {
	Claim    *ief.ClaimType
	Value    string
	Required bool
	ReadOnly bool
	Error    string
	// Verify: the value must be proven with a code (a Verified.* output
	// claim, or a VerificationControl's claim); Control is the display
	// control's id in the second case. Verified is true once proven for
	// the current value; CodeSent after a code went out.
	Verify   bool
	Control  string
	Verified bool
	CodeSent bool
	// Unmet are the predicate groups the value failed (Error is their
	// English message), for a localized one (PredicateMessage).
	Unmet []predicate.Failure
	// ErrorID is the B2C string id of Error (required_field,
	// error_passwordEntryMismatch, ...) for the page's localization;
	// "PatternHelpText" means the claim's own localized pattern help.
	ErrorID string
	// Code is the VerificationControl's code claim (its ControlClaimType
	// VerificationCode), asked for beside the address.
	Code string
	// Phone: a phone number verified by a code sent by SMS (PhoneFactor);
	// OnRecord: the account's number, shown masked and never taken from
	// the form.
	Phone, OnRecord bool
}

// Field returns the page's field for a claim (nil when absent).
func (p *Page) Field(claim string) *Field {
	for _, f := range p.Fields {
		if f.Claim.ID == claim {
			return f
		}
	}
	return nil
}

func (e *Engine) selectionPage(step *ief.Step) *Page {
	p := &Page{Profile: "selection", Kind: "selection", ContentDef: step.ContentDef}
	for _, s := range step.Selections {
		p.Choices = append(p.Choices, s.TargetExchange)
	}
	return p
}

// page builds a self-asserted profile's page, with values from its input
// claims (and input claims transformations) and the bag.
func (e *Engine) page(st *State, step *ief.Step, tp *ief.TechnicalProfile, values map[string]string) (*Page, error) {
	if isFactor(tp) {
		return e.phonePage(st, tp, values)
	}
	if values == nil {
		if err := e.transform(st, tp.InputTx); err != nil {
			return nil, err
		}
		call, err := e.call(st, tp)
		if err != nil {
			return nil, err
		}
		values = map[string]string{}
		for id, v := range call.In {
			values[id] = claimstx.FormatValue(v.Value)
		}
	}
	p := &Page{Profile: tp.ID, Kind: "selfasserted", ContentDef: tp.Metadata["ContentDefinitionReferenceId"]}
	if step.Type == "CombinedSignInAndSignUp" {
		// The step's content definition (unifiedssp) is the page; the
		// profile's own is for when it runs as a plain exchange.
		p.Kind, p.SignUp = "unified", tp.Metadata["SignUpTarget"]
		p.ForgotPassword = tp.Metadata["setting.forgotPasswordLinkOverride"]
		if step.ContentDef != "" {
			p.ContentDef = step.ContentDef
		}
		for _, s := range step.Selections {
			if s.TargetExchange != "" && s.TargetExchange != p.ForgotPassword {
				p.Choices = append(p.Choices, s.TargetExchange)
			}
		}
	}
	add := func(r ief.ClaimRef, control string, verify bool, code string) {
		ct := e.env.Policy.Claim(r.ClaimType)
		if ct == nil {
			return
		}
		f := &Field{Claim: ct, Value: values[ct.ID], Required: r.Required, ReadOnly: ct.UserInputType == "Readonly",
			Verify: verify, Control: control, Code: code}
		if ct.UserInputType == "Password" {
			f.Value = "" // never echoed back
		}
		if f.Verify && f.Value == "" {
			// The locked address of a verification in progress or done.
			f.Value = cmp.Or(st.Pending[ct.ID], st.Verified[ct.ID])
		}
		if f.Verify && f.Value != "" && st.Verified[ct.ID] == f.Value {
			f.Verified = true
		} else if f.Verify && f.Value != "" && st.Pending[ct.ID] == f.Value {
			f.CodeSent = true
		}
		p.Fields = append(p.Fields, f)
	}
	if len(tp.DisplayClaims) > 0 {
		for _, r := range tp.DisplayClaims {
			if r.DisplayControl == "" {
				add(r, "", false, "")
				continue
			}
			dc := e.env.Policy.DisplayControls[r.DisplayControl]
			if ief.DisplayOnlyControl(dc.Type) {
				d := &Display{ID: dc.ID, Type: dc.Type, Position: len(p.Fields)}
				for _, c := range dc.DisplayClaims {
					if ct := e.env.Policy.Claim(c.ClaimType); ct != nil {
						d.Claims = append(d.Claims, DisplayClaim{Claim: ct, ControlType: c.ControlClaimType,
							Value: claimstx.FormatValue(st.Claims[ct.ID].Value)})
					}
				}
				p.Displays = append(p.Displays, d)
				continue
			}
			var code string
			for _, d := range dc.DisplayClaims {
				if d.ControlClaimType == "VerificationCode" {
					code = e.claimID(d.ClaimType)
				}
			}
			for _, d := range dc.DisplayClaims {
				if d.ControlClaimType == "" {
					add(d, dc.ID, dc.Type == "VerificationControl", code)
				}
			}
		}
		return p, nil
	}
	for _, r := range tp.OutputClaims {
		ct := e.env.Policy.Claim(r.ClaimType)
		if ct == nil || ct.UserInputType == "" || r.DefaultValue != "" {
			continue // not collected: set by a validation profile or a default
		}
		add(r, "", strings.HasPrefix(r.PartnerClaimType, "Verified."), "")
	}
	return p, nil
}

// submit takes the user's answer: a verification action, or the form.
// It returns the page again (with errors, or after an action) or nil when
// the profile is done.
func (e *Engine) submit(ctx context.Context, st *State, step *ief.Step, tp *ief.TechnicalProfile, in *Input) (*Page, error) {
	page, err := e.page(st, step, tp, in.Values)
	if err != nil {
		return nil, err
	}
	switch in.Action {
	case "sendCode", "verifyCode":
		return e.verification(ctx, st, page, in)
	case "changeClaim":
		// Edit a verified address: it must be verified again.
		if f := page.Field(in.Claim); f != nil && f.Verify {
			delete(st.Verified, f.Claim.ID)
			delete(st.Pending, f.Claim.ID)
			f.Verified, f.CodeSent, f.Value = false, false, ""
		}
		return page, nil
	case "", "continue":
	default:
		page.Error = "Unknown action."
		return page, nil
	}
	// Collect: required, type, restriction, verification, and B2C's
	// built-in newPassword/reenterPassword match.
	collected := Bag{}
	bad := false
	for _, f := range page.Fields {
		if f.ReadOnly || f.Claim.UserInputType == "Paragraph" {
			continue // shown, never taken from the form
		}
		v := strings.TrimSpace(f.Value)
		if f.Claim.UserInputType == "Password" {
			v = in.Values[f.Claim.ID]
		}
		if f.Phone || f.OnRecord {
			if v == "" || st.Verified[f.Claim.ID] != v {
				f.Error, f.ErrorID, bad = "Verification is necessary. Please click Send button.", "ver_intro_msg", true
				continue
			}
			collected[f.Claim.ID] = claimstx.Claim{DataType: e.dataType(f.Claim.ID), Value: v}
			continue
		}
		switch {
		case v == "" && f.Required:
			f.Error, f.ErrorID, bad = "This information is required.", "required_field", true
			continue
		case v == "":
			continue
		case f.Verify && st.Verified[f.Claim.ID] != v:
			f.Error, f.ErrorID, bad = "Verification is necessary. Please click Send button.", "ver_intro_msg", true
			continue
		}
		if ok, err := f.Claim.CheckPattern(v); err != nil || !ok {
			f.Error, f.ErrorID, bad = cmp.Or(f.Claim.PatternHelpText, "Please enter a valid value."), "PatternHelpText", true
			continue
		}
		// PredicateValidationReference: each failed group's help text
		// followed by its failed predicates' (B2C lists the unmet rules).
		// A regular expression that runs out of time fails the field.
		if ps := e.env.Policy.PredicateSet; f.Claim.PredicateValidation != "" && ps != nil {
			if ok, fails, err := ps.Validate(f.Claim.PredicateValidation, v); err != nil || !ok {
				f.Error, f.Unmet, bad = cmp.Or(PredicateMessage(fails, nil), "Please enter a valid value."), fails, true
				continue
			}
		}
		items := []string{v}
		if f.Claim.UserInputType == "CheckboxMultiSelect" {
			items = strings.Split(v, ",") // the checked items, comma-separated
		}
		if len(f.Claim.Enumeration) > 0 && !allInEnum(f.Claim.Enumeration, items) {
			f.Error, bad = "Please select a value from the list.", true
			continue
		}
		c, err := claimstx.Parse(e.dataType(f.Claim.ID), v)
		if err != nil {
			f.Error, bad = "Please enter a valid value.", true
			continue
		}
		collected[f.Claim.ID] = c
	}
	if np, re := collected.String("newPassword"), collected.String("reenterPassword"); page.Field("reenterPassword") != nil && np != re {
		f := page.Field("reenterPassword")
		f.Error, f.ErrorID, bad = "The password entry fields do not match. Please enter the same password in both fields and try again.", "error_passwordEntryMismatch", true
	}
	if bad {
		return page, nil
	}
	saved, savedSession := copyBag(st.Claims), st.NewSession
	if savedSession != nil {
		// record changes the new session in place.
		st.NewSession = &Session{Profiles: append([]string(nil), savedSession.Profiles...), Claims: copyBag(savedSession.Claims)}
	}
	for k, v := range collected {
		st.Claims[k] = v
	}
	for _, r := range tp.OutputClaims {
		if r.DefaultValue != "" {
			e.outputs(st, &ief.TechnicalProfile{OutputClaims: []ief.ClaimRef{r}}, Bag{})
		}
	}
	fail := func(err error) (*Page, error) {
		// The profiles that ran are undone with the claims: a session
		// must not name a validation of a page the user did not pass.
		st.Claims, st.NewSession = saved, savedSession
		var ue *UserError
		if errors.As(err, &ue) {
			page.Error, page.Status, page.RetryAfter = ue.Message, ue.Status, ue.RetryAfter
			if f := page.Field(ue.Field); f != nil {
				page.Error, f.Error = "", ue.Message
			}
			return page, nil
		}
		return nil, err
	}
	if isPhoneFactor(tp) {
		e.phoneOutputs(st, tp, page.Fields[0])
	}
	if err := e.transform(st, tp.OutputTx); err != nil {
		return fail(err)
	}
	if err := e.validate(ctx, st, tp.Validations); err != nil {
		return fail(err)
	}
	return nil, nil
}

// validate runs validation technical profiles in order. A failure stops
// the page unless ContinueOnError; a success stops the list when
// ContinueOnSuccess is false.
func (e *Engine) validate(ctx context.Context, st *State, refs []ief.ValidationRef) error {
	for _, v := range refs {
		if e.skip(st, v.Preconditions, "SkipThisValidationTechnicalProfile") {
			continue
		}
		vt := e.env.Policy.Profiles[v.Profile]
		var err error
		if isInteractive(vt) {
			err = errors.New("journey: a validation technical profile cannot be self-asserted: " + vt.ID)
		} else if _, err = e.run(ctx, st, vt); err == nil {
			e.record(st, vt)
		}
		if err != nil {
			var ue *UserError
			if v.ContinueOnError && errors.As(err, &ue) {
				continue
			}
			return err
		}
		if !v.ContinueOnSuccess {
			return nil
		}
	}
	return nil
}

// verification sends or checks a code for a field: the built-in email
// verification (Verified.Email) through Env.Codes, or a
// VerificationControl's SendCode/VerifyCode action profiles.
func (e *Engine) verification(ctx context.Context, st *State, page *Page, in *Input) (*Page, error) {
	f := page.Field(in.Claim)
	if f == nil || !f.Verify {
		page.Error = "Unknown field."
		return page, nil
	}
	address := strings.TrimSpace(cmp.Or(in.Values[f.Claim.ID], f.Value))
	codes := e.env.Codes
	if f.Phone {
		codes = e.env.PhoneCodes
	}
	if f.OnRecord {
		address = f.Value // the number or address on record, whatever the form says
	} else if f.Phone {
		if address = NormalizePhone(address); address == "" {
			f.Error, f.ErrorID = "Please enter a valid phone number, with its country code (+47 ...).", "invalid_phone"
			return page, nil
		}
	} else if ok, err := f.Claim.CheckPattern(address); address == "" || err != nil || !ok {
		f.Error, f.ErrorID = cmp.Or(f.Claim.PatternHelpText, "Please enter a valid value."), "PatternHelpText"
		return page, nil
	}
	f.Value = address
	var err error
	if f.Control != "" {
		err = e.controlAction(ctx, st, f, in)
	} else if codes == nil {
		err = errors.New("journey: code verification needs Env.Codes (Env.PhoneCodes for phones)")
	} else if in.Action == "sendCode" {
		err = codes.Send(ctx, st, address)
	} else {
		err = codes.Verify(ctx, st, address, in.Values["verificationCode"])
	}
	var ue *UserError
	switch {
	case errors.As(err, &ue):
		f.Error, f.CodeSent = ue.Message, in.Action == "verifyCode"
		page.Status, page.RetryAfter = ue.Status, ue.RetryAfter
		return page, nil
	case err != nil:
		return nil, err
	case in.Action == "sendCode":
		f.CodeSent, f.Verified = true, false
		page.Info, page.InfoID = "Verification code has been sent to your inbox. Please copy it to the input box below.", "ver_info_msg"
		if st.Verified[f.Claim.ID] == address {
			delete(st.Verified, f.Claim.ID)
		}
		if st.Pending == nil {
			st.Pending = map[string]string{}
		}
		st.Pending[f.Claim.ID] = address
	default:
		if st.Verified == nil {
			st.Verified = map[string]string{}
		}
		delete(st.Pending, f.Claim.ID)
		st.Verified[f.Claim.ID], f.Verified = address, true
		page.Info, page.InfoID = "E-mail address verified. You can now continue.", "ver_success_msg"
	}
	return page, nil
}

// controlAction runs a display control action's profiles with the
// control's claims in the bag.
func (e *Engine) controlAction(ctx context.Context, st *State, f *Field, in *Input) error {
	dc := e.env.Policy.DisplayControls[f.Control]
	action := map[string]string{"sendCode": "SendCode", "verifyCode": "VerifyCode"}[in.Action]
	saved := copyBag(st.Claims)
	st.Claims[f.Claim.ID] = claimstx.Claim{DataType: e.dataType(f.Claim.ID), Value: f.Value}
	if f.Code != "" {
		st.Claims[f.Code] = claimstx.Claim{DataType: claimstx.String, Value: strings.TrimSpace(in.Values[f.Code])}
	}
	err := e.validate(ctx, st, dc.Actions[action])
	st.Claims = saved
	return err
}

func copyBag(b Bag) Bag {
	c := make(Bag, len(b))
	for k, v := range b {
		c[k] = v
	}
	return c
}

func inEnum(vals []ief.EnumValue, v string) bool {
	for _, x := range vals {
		if x.Value == v {
			return true
		}
	}
	return false
}

func allInEnum(vals []ief.EnumValue, items []string) bool {
	for _, v := range items {
		if !inEnum(vals, v) {
			return false
		}
	}
	return true
}

// PredicateMessage is B2C's message for unmet predicate groups: each
// group's help text followed by its failed predicates' ("The password
// must have at least 3 of the following: an uppercase letter, a symbol").
// text, when not nil, localizes a help text: kind is "group" (id: the
// group id) or "predicate" (id: the predicate id), def the policy's text.
func PredicateMessage(fails []predicate.Failure, text func(kind, id, def string) string) string {
	if text == nil {
		text = func(_, _, def string) string { return def }
	}
	var msg []string
	for _, fl := range fails {
		group := text("group", fl.GroupID, fl.HelpText)
		var preds []string
		for _, p := range fl.Failed {
			if t := text("predicate", p.PredicateID, p.HelpText); t != "" && p.HelpText != fl.HelpText {
				preds = append(preds, t)
			}
		}
		switch {
		case group == "":
			msg = append(msg, preds...)
		case len(preds) == 0:
			msg = append(msg, group)
		default:
			msg = append(msg, group+" "+strings.Join(preds, ", "))
		}
	}
	return strings.Join(msg, " ")
}
