package userflow

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
)

// A journey page rendered with its content definition (identity/ief/pages).

// renderPolicy renders a journey page with its content definition.
func (c *call) renderPolicy(pf *policyFlow, jp *journey.Page) {
	f := c.f
	cd := pf.policy.ContentDefs[jp.ContentDef]
	kind := map[string]pages.Kind{"unified": pages.Unified, "selfasserted": pages.SelfAsserted, "selection": pages.ProviderSelection}[jp.Kind]
	var version pages.Version
	if pk, ok := pf.pageKinds[jp.ContentDef]; ok {
		kind, version = pk.kind, pk.version
	}
	lang := string(c.lang)
	// The runners write B2C's English texts (codes, lockout, throttles):
	// shown in the page's language where Gatehouse has them.
	jp.Error, jp.Info = translate(c.lang, jp.Error), translate(c.lang, jp.Info)
	var strs *localization.Strings
	if cd != nil {
		strs = pf.texts(lang, jp.ContentDef)
	} else {
		strs, _ = localization.Lookup(pf.loc, lang, contractName(kind), nil)
	}
	base := f.apiBase(c.flow)
	csrf := f.csrfToken(c.w, c.r, c.tx)
	p := &pages.Page{Kind: kind, Version: version, Lang: lang, FormAction: base + "/SelfAsserted",
		Hidden:    []pages.Hidden{{Name: "tx", Value: c.tx.ID}, {Name: "csrf_token", Value: csrf}, {Name: "page", Value: jp.Profile}},
		PageError: jp.Error, Texts: map[string]string{}}
	if strs != nil {
		for _, id := range []string{"heading", "button_signin", "button_continue", "button_cancel", "forgotpassword_link",
			"createaccount_intro", "createaccount_link", "local_intro_email", "local_intro_generic", "ver_but_send",
			"ver_but_verify", "ver_but_resend", "ver_but_edit", "ver_but_default", "ver_input", "ver_intro_msg", "ver_but_call",
			"totp_intro", "totp_manual"} {
			if t, ok := strs.UX(id); ok {
				p.Texts[id] = t
			}
		}
	}
	if strs != nil {
		// The browser tab's title: a "title" string, else the heading.
		p.Title = cmp.Or(p.Texts["title"], p.Texts["heading"])
		if t, ok := strs.UX("title"); ok {
			p.Title = t
		}
	}
	label := func(ct *ief.ClaimType) (string, string) {
		l, h := ct.DisplayName, ct.UserHelpText
		if strs != nil {
			if t, ok := strs.Claim(ct.ID, "DisplayName"); ok {
				l = t
			}
			if t, ok := strs.Claim(ct.ID, "UserHelpText"); ok {
				h = t
			}
		}
		return l, h
	}
	info := localText(strs, "", jp.InfoID, jp.Info)
	controls := map[string]*pages.Control{}
	var order []*pages.Control
	displays := jp.Displays
	showDisplays := func(before int) {
		for len(displays) > 0 && displays[0].Position <= before {
			d := displayControl(displays[0], strs, label)
			d.Position = len(p.Fields)
			p.DisplayControls = append(p.DisplayControls, d)
			displays = displays[1:]
		}
	}
	for i, fl := range jp.Fields {
		showDisplays(i)
		l, h := label(fl.Claim)
		if jp.Kind == "unified" && fl.ErrorID == "required_field" {
			// The sign-in form's own texts: requiredField_email, _password.
			id := map[string]string{"signInName": "requiredField_email", "password": "requiredField_password"}[fl.Claim.ID]
			if t, ok := strs.UX(id); ok && id != "" && t != "" {
				fl.Error, fl.ErrorID = t, ""
			}
		}
		pf := pages.Field{ClaimTypeID: fl.Claim.ID, Label: l, HelpText: h, InputType: fl.Claim.UserInputType, Value: fl.Value,
			Required: fl.Required, ReadOnly: fl.ReadOnly, PatternHelpText: fl.Claim.PatternHelpText, Error: translate(c.lang, localText(strs, fl.Claim.ID, fl.ErrorID, fl.Error))}
		if len(fl.Unmet) > 0 && strs != nil {
			// The predicates' help texts in the page language: B2C's
			// InputValidation strings (ElementId the PredicateValidation,
			// StringId the group) and Predicate strings (HelpText).
			pf.Error = journey.PredicateMessage(fl.Unmet, func(kind, id, def string) string {
				var t string
				var ok bool
				if kind == "group" {
					t, ok = strs.InputValidation(fl.Claim.PredicateValidation, id)
				} else {
					t, ok = strs.Predicate(id, "HelpText")
				}
				if ok && t != "" {
					return t
				}
				return def
			})
		}
		if fl.OnRecord {
			// The number or address on record (a number masked as B2C
			// shows it); the journey never takes it from the form.
			pf.ReadOnly = true
			if fl.Phone {
				pf.Value, pf.InputType = maskPhone(fl.Value), pages.TextBox
			}
		}
		for _, e := range fl.Claim.Enumeration {
			pf.Options = append(pf.Options, pages.Option{Value: e.Value, Text: e.Text, Selected: e.Value == fl.Value || fl.Value == "" && e.SelectByDefault})
		}
		if !fl.Verify {
			p.Fields = append(p.Fields, pf)
			continue
		}
		state := pages.StateSendCode
		switch {
		case fl.Verified:
			state, pf.ReadOnly = pages.StateVerified, true
		case fl.CodeSent:
			state, pf.ReadOnly = pages.StateVerifyCode, true
		}
		if fl.Control == "" {
			// B2C's built-in verification of a Verified.* claim: the
			// email_ver_but_send ... buttons on the field itself.
			pf.Verification = &pages.Verification{State: state, Message: info, Call: fl.Phone && f.voice}
			p.Fields = append(p.Fields, pf)
			continue
		}
		ctl := controls[fl.Control]
		if ctl == nil {
			ctl = &pages.Control{ID: fl.Control, Type: "VerificationControl"}
			controls[fl.Control] = ctl
			order = append(order, ctl)
		}
		ctl.Error, ctl.State, ctl.Message = pf.Error, state, info
		pf.Error = ""
		ctl.Fields = append(ctl.Fields, pf)
		if state == pages.StateVerifyCode {
			ctl.Fields = append(ctl.Fields, pages.Field{ClaimTypeID: cmp.Or(fl.Code, "verificationCode"),
				Label: cmp.Or(p.Texts["ver_input"], "Verification code"), Required: true})
		}
	}
	showDisplays(len(jp.Fields))
	for _, ctl := range order {
		p.DisplayControls = append(p.DisplayControls, *ctl)
	}
	link := func(exchange string) string {
		return base + "/CombinedSigninAndSignup/unified?" + url.Values{"tx": {c.tx.ID}, "csrf_token": {csrf}, "claimsexchange": {exchange}}.Encode()
	}
	if jp.Kind == "unified" {
		if jp.SignUp != "" {
			p.CreateAccount = &pages.Link{Href: link(jp.SignUp)}
		}
		p.ForgotPassword = &pages.Link{Href: link(cmp.Or(jp.ForgotPassword, "ForgotPassword"))}
	}
	for _, ch := range jp.Choices {
		name := cmp.Or(pf.exchangeNames[ch], ch)
		p.Providers = append(p.Providers, pages.ProviderButton{ExchangeID: ch, DisplayName: name})
	}
	if jp.Field(pf.policy.ClaimID("totpCode")) != nil && pf.userFlow {
		enrol, err := c.totpEnrolment()
		if err != nil {
			f.fail(c.w, c.r, err)
			return
		}
		p.TOTP = enrol
	}
	tmpl := pf.templates[jp.ContentDef]
	if tmpl == nil {
		tmpl = pf.fallback
	}
	allowScripts := pf.policy.RP.Behaviors.ScriptExecution == "Allow" && version.AllowsScripts()
	nb := make([]byte, 18)
	_, _ = rand.Read(nb)
	p.Nonce = hex.EncodeToString(nb)
	var body bytes.Buffer
	if err := tmpl.Render(&body, p, allowScripts); err != nil {
		f.fail(c.w, c.r, err)
		return
	}
	formAction := "'self'"
	if o := origin(c.tx.Request.RedirectURI); o != "" {
		formAction += " " + o
	}
	if len(jp.Choices) > 0 {
		// A provider's button is answered by a redirect to the provider,
		// which form-action governs too.
		formAction += " " + strings.Join(pf.idpOrigins, " ")
	}
	ext := ""
	if !tmpl.Builtin() {
		ext = " https:" // a tenant's template brings its stylesheets, images and fonts
	}
	script := "'none'"
	if allowScripts {
		script = "'nonce-" + p.Nonce + "'" + ext
	}
	img := "'self' data:"
	if pf.imgOrigin != "" {
		img += " " + pf.imgOrigin // the theme's logo
	}
	securityHeaders(c.w.Header(), "default-src 'none'; script-src "+script+"; style-src 'self' 'nonce-"+p.Nonce+"'"+ext+
		"; img-src "+img+ext+"; font-src 'self'"+ext+"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if jp.Status != 0 {
		if jp.RetryAfter > 0 {
			c.w.Header().Set("Retry-After", strconv.Itoa(int((jp.RetryAfter+time.Second-1)/time.Second)))
		}
		c.w.WriteHeader(jp.Status)
	}
	_, _ = c.w.Write(body.Bytes())
}

// localText is a journey message in the page's language: the claim's
// PatternHelpText, or the UX string id, else the engine's English.
func localText(strs *localization.Strings, claim, id, def string) string {
	if strs == nil || id == "" {
		return def
	}
	var t string
	var ok bool
	if id == "PatternHelpText" {
		t, ok = strs.Claim(claim, id)
	} else {
		t, ok = strs.UX(id)
	}
	if ok && t != "" {
		return t
	}
	return def
}

func contractName(k pages.Kind) string {
	switch k {
	case pages.Unified:
		return "unifiedssp"
	case pages.ProviderSelection:
		return "providerselection"
	}
	return "selfasserted"
}

func localRefs(cd *ief.ContentDef) []localization.Ref {
	if cd == nil {
		return nil
	}
	var refs []localization.Ref
	for lang, id := range cd.Localized {
		refs = append(refs, localization.Ref{Language: lang, ResourcesID: id})
	}
	return refs
}

// maskPhone shows a number's last four digits only: XXX-XXX-5678.
func maskPhone(n string) string {
	if len(n) <= 4 {
		return "XXX-XXX-"
	}
	return "XXX-XXX-" + n[len(n)-4:]
}
