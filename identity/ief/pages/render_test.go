package pages

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var txHidden = []Hidden{{Name: "tx", Value: "StateProperties=eyJUSUQiOiIxIn0"}, {Name: "csrf_token", Value: "c5rf"}}

func TestUnifiedPage(t *testing.T) {
	p := &Page{
		Kind: Unified, Lang: "en", FormAction: "/contoso/B2C_1A_signup_signin/SelfAsserted/confirmed?tx=1",
		Heading: "Sign in", Intro: "Sign in with your email address",
		Hidden: txHidden,
		Fields: []Field{
			{ClaimTypeID: "signInName", Label: "Email Address", InputType: EmailBox, Value: "ann@contoso.com", Required: true},
			{ClaimTypeID: "password", Label: "Password", InputType: Password, Value: "s3cret", Required: true, Error: "Please enter your password"},
		},
		Providers:      []ProviderButton{{ExchangeID: "FacebookExchange", DisplayName: "Facebook"}, {ExchangeID: "GoogleExchange", DisplayName: "Google"}},
		ForgotPassword: &Link{Href: "/reset?tx=1"},
		CreateAccount:  &Link{Href: "/signup?tx=1"},
		PageError:      "Your password is incorrect.",
	}
	doc := render(t, builtin(t), p, false)
	a := api(t, doc, "Unified")

	form := byID(t, a, "localAccountForm")
	if form.Data != "form" || attr(form, "method") != "post" || attr(form, "action") != p.FormAction {
		t.Errorf("form: %v", form.Attr)
	}
	if h := hidden(form); h["tx"] != txHidden[0].Value || h["csrf_token"] != "c5rf" {
		t.Errorf("hidden fields: %v", h)
	}
	if got := text(byTag(a, "h1")[0]); got != "Sign in" {
		t.Errorf("h1 = %q", got)
	}
	if len(byClass(a, "intro")) == 0 {
		t.Error("no div.intro")
	}
	entry := byClass(form, "entry")
	if len(entry) != 1 || len(byClass(entry[0], "entry-item")) != 2 {
		t.Fatal("want div.entry with two div.entry-item")
	}

	email := byID(t, form, "signInName")
	if attr(email, "type") != "email" || attr(email, "value") != "ann@contoso.com" || attr(email, "autocomplete") != "username" || !hasAttr(email, "required") {
		t.Errorf("signInName: %v", email.Attr)
	}
	checkLabelled(t, doc, "signInName", "Email Address")
	pw := byID(t, form, "password")
	if attr(pw, "type") != "password" || hasAttr(pw, "value") || attr(pw, "autocomplete") != "current-password" {
		t.Errorf("password: %v (a password is never echoed)", pw.Attr)
	}
	checkLabelled(t, doc, "password", "Password")

	// Item-level errors: one per field, hidden when empty, tied to the input when not.
	errs := find(form, func(n *html.Node) bool { return hasClass(n, "error") && hasClass(n, "itemLevel") })
	if len(errs) != 2 {
		t.Fatalf("%d div.error.itemLevel, want one per field", len(errs))
	}
	if attr(errs[0], "aria-hidden") != "true" || text(errs[0]) != "" || hasAttr(email, "aria-invalid") {
		t.Errorf("empty error shown: %v", errs[0].Attr)
	}
	pwErr := byID(t, form, "password_error")
	if attr(pwErr, "aria-hidden") != "false" || attr(pwErr, "role") != "alert" || text(pwErr) != "Please enter your password" {
		t.Errorf("password error: %v %q", pwErr.Attr, text(pwErr))
	}
	if attr(pw, "aria-invalid") != "true" || attr(pw, "aria-describedby") != "password_error" {
		t.Errorf("password aria: %v", pw.Attr)
	}

	pageErr := find(a, func(n *html.Node) bool { return hasClass(n, "error") && hasClass(n, "pageLevel") })
	if len(pageErr) != 1 || attr(pageErr[0], "role") != "alert" || text(pageErr[0]) != p.PageError {
		t.Errorf("page error: %v", pageErr)
	}

	fp := byID(t, a, "forgotPassword")
	if !hasClass(fp.Parent, "forgot-password") || attr(fp, "href") != "/reset?tx=1" || text(fp) != "Forgot your password?" {
		t.Errorf("forgotPassword: %v %q", fp.Attr, text(fp))
	}
	next := byID(t, form, "next")
	if next.Data != "button" || attr(next, "type") != "submit" || attr(next, "name") != FormAction || attr(next, "value") != ButtonNext || !hasClass(next.Parent, "buttons") {
		t.Errorf("next: %v", next.Attr)
	}
	ca := byID(t, a, "createAccount")
	if !isAncestor(byClass(a, "create")[0], ca) || attr(ca, "href") != "/signup?tx=1" || text(ca) != "Sign up now" {
		t.Errorf("createAccount: %v", ca.Attr)
	}
	if !strings.Contains(text(ca.Parent), "Don't have an account?") {
		t.Errorf("create intro: %q", text(ca.Parent))
	}

	// Other identity providers: their own form, one button each.
	list := byClass(a, "claims-provider-list-buttons")
	if len(list) != 1 {
		t.Fatal("no div.claims-provider-list-buttons")
	}
	for _, pb := range p.Providers {
		b := byID(t, list[0], pb.ExchangeID)
		if !hasClass(b, "accountButton") || attr(b, "name") != FormClaimsExchange || attr(b, "value") != pb.ExchangeID || text(b) != pb.DisplayName {
			t.Errorf("%s: %v", pb.ExchangeID, b.Attr)
		}
		f := b.Parent
		for f != nil && f.Data != "form" {
			f = f.Parent
		}
		if f == nil || hidden(f)["tx"] != txHidden[0].Value || attr(f, "action") != p.FormAction {
			t.Errorf("%s: not in a form posting the transaction", pb.ExchangeID)
		}
	}
	if len(byClass(a, "divider")) != 1 {
		t.Error("no divider between providers and local account")
	}
	// The forms are siblings, not nested (a browser would drop a nested form).
	for _, f := range byTag(doc, "form") {
		for p := f.Parent; p != nil; p = p.Parent {
			if p.Data == "form" {
				t.Error("nested form")
			}
		}
	}
}

func TestSelfAssertedPage(t *testing.T) {
	p := &Page{
		Kind: SelfAsserted, FormAction: "/post", Hidden: txHidden,
		Fields: []Field{
			{ClaimTypeID: "givenName", Label: "Given Name", HelpText: "Your given name.", Required: true, Error: "This information is required."},
			{ClaimTypeID: "email", Label: "Email", InputType: EmailBox, Pattern: `^\S+@\S+$`, PatternHelpText: "Please enter a valid email address."},
			{ClaimTypeID: "newPassword", Label: "New Password", InputType: Password, Value: "leak"},
			{ClaimTypeID: "objectId", Label: "Object ID", InputType: Readonly, Value: "1234", Pattern: "x"},
			{ClaimTypeID: "terms", InputType: Paragraph, Value: "By continuing you accept the terms."},
			{ClaimTypeID: "country", Label: "Country", InputType: DropdownSingleSelect, Value: "NL", Required: true,
				Options: []Option{{Value: "BE", Text: "Belgium"}, {Value: "NL", Text: "Netherlands"}}},
			{ClaimTypeID: "plan", Label: "Plan", InputType: RadioSingleSelect, Required: true,
				Options: []Option{{Value: "free", Text: "Free"}, {Value: "pro", Text: "Pro", Selected: true}}},
			{ClaimTypeID: "topics", Label: "Topics", InputType: CheckboxMultiSelect, Value: "news, offers",
				Options: []Option{{Value: "news", Text: "News"}, {Value: "offers", Text: "Offers"}, {Value: "events", Text: "Events"}}},
		},
	}
	doc := render(t, builtin(t), p, false)
	a := api(t, doc, "SelfAsserted")
	form := byID(t, a, "attributeVerification")
	if hidden(form)["csrf_token"] != "c5rf" {
		t.Error("no CSRF token")
	}
	if h := text(byTag(a, "h1")[0]); h != "User details" {
		t.Errorf("fallback heading = %q", h)
	}

	// One li per field, classed by its UserInputType, each with div.attrEntry.
	var items []*html.Node
	for _, ul := range byTag(byID(t, form, "attributeList"), "ul") {
		for c := ul.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				items = append(items, c)
			}
		}
	}
	if len(items) != len(p.Fields) {
		t.Fatalf("%d items, want %d", len(items), len(p.Fields))
	}
	for i, li := range items {
		if li.Data != "li" || attr(li, "class") != p.Fields[i].InputType && !(p.Fields[i].InputType == "" && attr(li, "class") == TextBox) {
			t.Errorf("item %d: <%s class=%q>", i, li.Data, attr(li, "class"))
		}
		if len(byClass(li, "attrEntry")) != 1 {
			t.Errorf("item %d: no div.attrEntry", i)
		}
	}

	given := byID(t, form, "givenName")
	checkLabelled(t, doc, "givenName", "Given Name")
	if attr(given, "type") != "text" || attr(given, "aria-describedby") != "givenName_help givenName_error" || attr(given, "aria-invalid") != "true" || attr(given, "aria-required") != "true" {
		t.Errorf("givenName: %v", given.Attr)
	}
	if text(byID(t, form, "givenName_help")) != "Your given name." || text(byID(t, form, "givenName_error")) != "This information is required." {
		t.Error("help or error text")
	}

	email := byID(t, form, "email")
	if attr(email, "type") != "email" || attr(email, "pattern") != `^\S+@\S+$` || attr(email, "title") != "Please enter a valid email address." {
		t.Errorf("email: %v", email.Attr)
	}
	if pw := byID(t, form, "newPassword"); attr(pw, "type") != "password" || hasAttr(pw, "value") || attr(pw, "autocomplete") != "new-password" {
		t.Errorf("newPassword: %v", pw.Attr)
	}
	if ro := byID(t, form, "objectId"); !hasAttr(ro, "readonly") || attr(ro, "value") != "1234" || hasAttr(ro, "pattern") {
		t.Errorf("objectId: %v", ro.Attr)
	}
	if para := byID(t, form, "terms"); para.Data != "div" || text(para) != "By continuing you accept the terms." {
		t.Errorf("paragraph: <%s> %q", para.Data, text(para))
	}

	sel := byID(t, form, "country")
	checkLabelled(t, doc, "country", "Country")
	opts := byTag(sel, "option")
	if sel.Data != "select" || len(opts) != 3 || attr(opts[0], "value") != "" || !hasAttr(opts[2], "selected") || hasAttr(opts[1], "selected") {
		t.Errorf("country select: %d options", len(opts))
	}

	// Radios and checkboxes: a fieldset whose legend names the group, each choice labelled.
	for _, g := range []struct {
		id, typ string
		checked []bool
	}{{"plan", "radio", []bool{false, true}}, {"topics", "checkbox", []bool{true, true, false}}} {
		fs := byID(t, form, g.id)
		if fs.Data != "fieldset" || len(byTag(fs, "legend")) != 1 {
			t.Errorf("%s: <%s>", g.id, fs.Data)
		}
		ins := byTag(fs, "input")
		if len(ins) != len(g.checked) {
			t.Fatalf("%s: %d inputs", g.id, len(ins))
		}
		for i, in := range ins {
			if attr(in, "type") != g.typ || attr(in, "name") != g.id || hasAttr(in, "checked") != g.checked[i] {
				t.Errorf("%s[%d]: %v", g.id, i, in.Attr)
			}
			checkLabelled(t, doc, attr(in, "id"), p.Fields[map[string]int{"plan": 6, "topics": 7}[g.id]].Options[i].Text)
		}
	}

	cont, cancel := byID(t, form, "continue"), byID(t, form, "cancel")
	if attr(cont, "value") != ButtonContinue || attr(cancel, "value") != ButtonCancel || !hasAttr(cancel, "formnovalidate") || hasAttr(cont, "formnovalidate") {
		t.Errorf("buttons: %v %v", cont.Attr, cancel.Attr)
	}
	if cont.Parent != cancel.Parent || !hasClass(cont.Parent, "buttons") {
		t.Error("buttons not in div.buttons")
	}
}

func TestDateTimeDropdown(t *testing.T) {
	p := &Page{Kind: SelfAsserted, Texts: map[string]string{"day": "Tag", "months": "Jan,Feb,Mär,Apr,Mai,Jun,Jul,Aug,Sep,Okt,Nov,Dez"},
		Fields: []Field{{ClaimTypeID: "dateOfBirth", Label: "Date of birth", InputType: DateTimeDropdown, Value: "1990-03-07", Required: true, YearMin: 1980, YearMax: 2000}}}
	doc := render(t, builtin(t), p, false)
	fs := byID(t, doc, "dateOfBirth")
	if fs.Data != "fieldset" || text(byTag(fs, "legend")[0]) != "Date of birth" {
		t.Fatalf("<%s>", fs.Data)
	}
	sels := byTag(fs, "select")
	want := []struct {
		class, label string
		n            int
		selected     string
	}{{"day", "Tag", 31, "7"}, {"month", "Month", 12, "3"}, {"year", "Year", 21, "1990"}}
	if len(sels) != 3 {
		t.Fatalf("%d selects", len(sels))
	}
	for i, w := range want {
		s := sels[i]
		if attr(s, "id") != "dateOfBirth_"+w.class || attr(s, "name") != "dateOfBirth_"+w.class || !hasClass(s, w.class) || attr(s, "aria-label") != w.label || !hasAttr(s, "required") {
			t.Errorf("%s select: %v", w.class, s.Attr)
		}
		opts := byTag(s, "option")
		if len(opts) != w.n+1 {
			t.Errorf("%s: %d options, want %d and a placeholder", w.class, len(opts), w.n)
		}
		var sel []string
		for _, o := range opts {
			if hasAttr(o, "selected") {
				sel = append(sel, attr(o, "value"))
			}
		}
		if len(sel) != 1 || sel[0] != w.selected {
			t.Errorf("%s selected %v, want %s", w.class, sel, w.selected)
		}
	}
	if got := text(byTag(sels[1], "option")[3]); got != "Mär" {
		t.Errorf("localized March = %q", got)
	}
	if years := byTag(sels[2], "option"); attr(years[1], "value") != "2000" || attr(years[21], "value") != "1980" {
		t.Error("years not newest first within the bounds")
	}

	form := map[string]string{"dateOfBirth_day": "29", "dateOfBirth_month": "2", "dateOfBirth_year": "2000"}
	get := func(k string) string { return form[k] }
	if d, ok := DateFromForm(get, "dateOfBirth"); !ok || d != "2000-02-29" {
		t.Errorf("DateFromForm = %q, %v", d, ok)
	}
	for _, bad := range []map[string]string{
		{"dateOfBirth_day": "29", "dateOfBirth_month": "2", "dateOfBirth_year": "1900"},
		{"dateOfBirth_day": "31", "dateOfBirth_month": "4", "dateOfBirth_year": "2001"},
		{"dateOfBirth_day": "", "dateOfBirth_month": "4", "dateOfBirth_year": "2001"},
		{"dateOfBirth_day": "1", "dateOfBirth_month": "13", "dateOfBirth_year": "2001"},
		{"dateOfBirth_day": "1", "dateOfBirth_month": "1", "dateOfBirth_year": "0"},
	} {
		form = bad
		if d, ok := DateFromForm(get, "dateOfBirth"); ok {
			t.Errorf("%v: got %q", bad, d)
		}
	}
}

func TestDisplayControl(t *testing.T) {
	ctl := func(s ControlState) Control {
		return Control{ID: "emailVerificationControl", Type: "VerificationControl", State: s,
			Message: "Verification code has been sent to your inbox.",
			Fields: []Field{
				{ClaimTypeID: "email", Label: "Email Address", InputType: EmailBox, Value: "ann@contoso.com", ReadOnly: s != StateSendCode},
				{ClaimTypeID: "verificationCode", Label: "Verification Code"},
			}}
	}
	for _, tc := range []struct {
		state ControlState
		want  []string
	}{
		{StateSendCode, []string{"send_code"}},
		{StateVerifyCode, []string{"verify_code", "send_new_code"}},
		{StateVerified, []string{"change_claims"}},
	} {
		p := &Page{Kind: SelfAsserted, Hidden: txHidden,
			DisplayControls: []Control{ctl(tc.state)},
			Fields:          []Field{{ClaimTypeID: "newPassword", Label: "New Password", InputType: Password}}}
		doc := render(t, builtin(t), p, false)
		form := byID(t, doc, "attributeVerification")
		div := byID(t, form, "emailVerificationControl")
		if div.Data != "div" || !hasClass(div, "VerificationControl") || attr(div, "data-state") != tc.state.String() {
			t.Errorf("%v: control <%s %v>", tc.state, div.Data, div.Attr)
		}
		checkLabelled(t, doc, "email", "Email Address")
		checkLabelled(t, doc, "verificationCode", "Verification Code")
		if ro := hasAttr(byID(t, div, "email"), "readonly"); ro != (tc.state != StateSendCode) {
			t.Errorf("%v: email readonly %v", tc.state, ro)
		}
		if st := byID(t, div, "emailVerificationControl_info"); attr(st, "role") != "status" {
			t.Errorf("info: %v", st.Attr)
		}
		var got []string
		for _, b := range byTag(div, "button") {
			id, action, ok := ParseControlAction(attr(b, "value"))
			if !ok || id != "emailVerificationControl" || attr(b, "id") != attr(b, "value") ||
				attr(b, "name") != FormAction || attr(b, "type") != "submit" || !hasAttr(b, "formnovalidate") {
				t.Errorf("%v: button %v", tc.state, b.Attr)
			}
			got = append(got, string(action))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%v: buttons %v, want %v", tc.state, got, tc.want)
		}
		// The control comes before the other claims, inside the one form.
		if !isAncestor(form, div) || byTag(form, "li")[0] != div.Parent {
			t.Errorf("%v: control not first in the form", tc.state)
		}
		byID(t, form, "continue")
	}
}

func TestParseControlAction(t *testing.T) {
	for _, tc := range []struct {
		in, id string
		action ControlAction
		ok     bool
	}{
		{"emailVerificationControl_but_send_code", "emailVerificationControl", ActionSendCode, true},
		{"a_but_b_but_verify_code", "a_but_b", ActionVerifyCode, true},
		{"phone_but_change_claims", "phone", ActionChangeClaim, true},
		{"phone_but_send_new_code", "phone", ActionSendNewCode, true},
		{"phone_but_explode", "", "", false},
		{"_but_send_code", "", "", false},
		{"continue", "", "", false},
	} {
		id, a, ok := ParseControlAction(tc.in)
		if id != tc.id || a != tc.action || ok != tc.ok {
			t.Errorf("ParseControlAction(%q) = %q, %q, %v", tc.in, id, a, ok)
		}
	}
	c := Control{ID: "x"}
	if c.ButtonID(ActionSendCode) != "x_but_send_code" {
		t.Error(c.ButtonID(ActionSendCode))
	}
}

func TestProviderSelectionPage(t *testing.T) {
	p := &Page{Kind: ProviderSelection, Intro: "Sign in with", Hidden: txHidden, FormAction: "/select",
		Providers: []ProviderButton{{"LocalAccountSigninEmailExchange", "Local Account"}, {"FacebookExchange", "Facebook"}}}
	doc := render(t, builtin(t), p, false)
	a := api(t, doc, "IdpSelections")
	list := byClass(a, "claims-provider-list-buttons")
	if len(list) != 1 {
		t.Fatal("no provider list")
	}
	btns := byClass(list[0], "accountButton")
	if len(btns) != 2 || attr(btns[0], "id") != "LocalAccountSigninEmailExchange" || !hasClass(btns[0], "firstButton") || hasClass(btns[1], "firstButton") {
		t.Errorf("buttons: %d", len(btns))
	}
	if len(byTag(a, "h1")) != 1 || text(byClass(a, "intro")[0]) != "Sign in with" {
		t.Error("heading or intro")
	}
}

func TestExceptionPage(t *testing.T) {
	p := &Page{Kind: Exception, PageError: "AADB2C90091: The user has cancelled entering self-asserted information.",
		CorrelationID: "0b8f-41c2", Timestamp: "2026-12-03 12:00:00Z"}
	doc := render(t, builtin(t), p, false)
	a := api(t, doc, "GlobalException")
	if msg := byClass(a, "error-page-messagedetails"); len(msg) != 1 || text(msg[0]) != p.PageError || attr(msg[0], "role") != "alert" {
		t.Error("message")
	}
	if text(byID(t, a, "correlationId")) != "0b8f-41c2" || text(byID(t, a, "timestamp")) != p.Timestamp {
		t.Error("correlation id or timestamp")
	}
	if len(byTag(a, "form")) != 0 {
		t.Error("an error page has no form")
	}
}

func TestMultiFactorPage(t *testing.T) {
	p := &Page{Kind: MultiFactor, Fields: []Field{{ClaimTypeID: "strongAuthenticationPhoneNumber", Label: "Phone number", InputType: TextBox}},
		Buttons: []Button{{ID: "sendCode", Label: "Send Code"}, {ID: ButtonCancel, Label: "Cancel", NoValidate: true}}}
	doc := render(t, builtin(t), p, false)
	a := api(t, doc, "Phonefactor")
	checkLabelled(t, a, "strongAuthenticationPhoneNumber", "Phone number")
	if b := byID(t, a, "sendCode"); attr(b, "value") != "sendCode" {
		t.Error(b.Attr)
	}
	if len(find(a, func(n *html.Node) bool { return attr(n, "id") == ButtonContinue })) != 0 {
		t.Error("Buttons did not replace the defaults")
	}
}

// Texts override the English fallbacks; a missing id shows itself.
func TestTexts(t *testing.T) {
	p := &Page{Kind: Unified, Texts: map[string]string{"button_signin": "Anmelden", "heading_Unified": "Anmeldung"},
		ForgotPassword: &Link{Href: "/r", Text: "Passwort vergessen?"}}
	doc := render(t, builtin(t), p, false)
	if got := text(byID(t, doc, "next")); got != "Anmelden" {
		t.Errorf("next = %q", got)
	}
	if got := text(byTag(doc, "h1")[0]); got != "Anmeldung" {
		t.Errorf("h1 = %q", got)
	}
	if got := text(byID(t, doc, "forgotPassword")); got != "Passwort vergessen?" {
		t.Errorf("forgotPassword = %q", got)
	}
	if got := p.Text("no_such_id"); got != "no_such_id" {
		t.Errorf("missing text = %q", got)
	}
	if len(find(doc, func(n *html.Node) bool { return attr(n, "id") == "createAccount" })) != 0 {
		t.Error("createAccount without a CreateAccount link")
	}
}

const xss = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

// Whatever the runtime puts in the page (claim values come from users and
// from REST APIs) is text, never markup.
func TestXSSEscaped(t *testing.T) {
	f := func(id string) Field {
		return Field{ClaimTypeID: id, Label: xss, HelpText: xss, Value: xss, Error: xss, Pattern: xss, PatternHelpText: xss,
			Options: []Option{{Value: xss, Text: xss}}}
	}
	p := &Page{
		Kind: SelfAsserted, Lang: xss, Title: xss, Heading: xss, Intro: xss, PageError: xss, Nonce: xss,
		FormAction: "javascript:alert(3)",
		Hidden:     []Hidden{{Name: xss, Value: xss}},
		Texts:      map[string]string{"button_continue": xss},
		Fields: []Field{f("a"), f(xss), {ClaimTypeID: "b", InputType: Paragraph, Value: xss},
			{ClaimTypeID: "c", InputType: DropdownSingleSelect, Label: xss, Options: []Option{{Value: xss, Text: xss}}},
			{ClaimTypeID: "d", InputType: CheckboxMultiSelect, Label: xss, Value: xss, Options: []Option{{Value: xss, Text: xss}}},
			{ClaimTypeID: "e", InputType: DateTimeDropdown, Label: xss, Value: xss}},
		DisplayControls: []Control{{ID: xss, Type: xss, Message: xss, Error: xss, Fields: []Field{f("g")}}},
	}
	for _, kind := range []Kind{Unified, SelfAsserted, ProviderSelection, Exception, MultiFactor} {
		p.Kind = kind
		p.Providers = []ProviderButton{{ExchangeID: xss, DisplayName: xss}}
		p.ForgotPassword = &Link{Href: "javascript:alert(4)", Text: xss, Intro: xss}
		p.CreateAccount = p.ForgotPassword
		p.CorrelationID, p.Timestamp = xss, xss
		doc := render(t, builtin(t), p, false)
		if s := byTag(doc, "script"); len(s) != 0 {
			t.Errorf("%v: script injected", kind)
		}
		for _, n := range find(doc, func(*html.Node) bool { return true }) {
			if n.Data == "img" {
				t.Errorf("%v: img injected", kind)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || isScriptURL(a.Val) {
					t.Errorf("%v: <%s %s=%q>", kind, n.Data, a.Key, a.Val)
				}
			}
		}
		// And the text reads as given.
		if got := text(byTag(doc, "h1")[0]); got != xss {
			t.Errorf("%v: h1 = %q", kind, got)
		}
	}
}

// Display controls sit among the fields where the policy's DisplayClaims
// put them.
func TestDisplayControlPosition(t *testing.T) {
	fields := []Field{{ClaimTypeID: "a"}, {ClaimTypeID: "b"}}
	for _, tc := range []struct {
		pos  []int
		want string
	}{
		{[]int{0}, "X a b"},
		{[]int{-3}, "X a b"},
		{[]int{1}, "a X b"},
		{[]int{2}, "a b X"},
		{[]int{9, 1}, "a Y b X"},
		{[]int{1, 1}, "a X Y b"},
	} {
		p := &Page{Kind: SelfAsserted, Fields: fields}
		for i, pos := range tc.pos {
			p.DisplayControls = append(p.DisplayControls, Control{ID: []string{"X", "Y"}[i], Position: pos})
		}
		doc := render(t, builtin(t), p, false)
		var got []string
		for c := byTag(byID(t, doc, "attributeList"), "ul")[0].FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if attr(c, "class") == "DisplayControl" {
				got = append(got, attr(byClass(c, "VerificationControl")[0], "id"))
			} else {
				got = append(got, attr(byClass(c, "textInput")[0], "id"))
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("positions %v: %v, want %s", tc.pos, got, tc.want)
		}
	}
	// No fields: the controls still show.
	doc := render(t, builtin(t), &Page{Kind: SelfAsserted, DisplayControls: []Control{{ID: "X", Position: 4}}}, false)
	byID(t, doc, "X")
}

// B2C's built-in email verification (Verified.Email, no display control):
// the buttons and code input beside the field, with B2C's ids.
func TestFieldVerification(t *testing.T) {
	for _, tc := range []struct {
		state    ControlState
		buttons  []string
		code, ro bool
	}{
		{StateSendCode, []string{"email_ver_but_send"}, false, false},
		{StateVerifyCode, []string{"email_ver_but_verify", "email_ver_but_resend"}, true, true},
		{StateVerified, []string{"email_ver_but_edit"}, false, true},
	} {
		p := &Page{Kind: SelfAsserted, Info: "Verification code has been sent to your inbox.",
			Fields: []Field{{ClaimTypeID: "email", Label: "Email", InputType: EmailBox, Value: "ann@contoso.com", Pattern: ".+",
				Verification: &Verification{State: tc.state, Message: "Code sent"}}}}
		doc := render(t, builtin(t), p, false)
		email := byID(t, doc, "email")
		if hasAttr(email, "readonly") != tc.ro || hasAttr(email, "pattern") == tc.ro {
			t.Errorf("%v: email %v", tc.state, email.Attr)
		}
		var got []string
		for _, b := range byTag(byClass(doc, "verify")[0], "button") {
			claim, _, ok := ParseVerificationAction(attr(b, "value"))
			if !ok || claim != "email" || attr(b, "name") != FormAction || !hasAttr(b, "formnovalidate") {
				t.Errorf("%v: %v", tc.state, b.Attr)
			}
			got = append(got, attr(b, "id"))
		}
		if strings.Join(got, " ") != strings.Join(tc.buttons, " ") {
			t.Errorf("%v: buttons %v, want %v", tc.state, got, tc.buttons)
		}
		codes := find(doc, func(n *html.Node) bool { return attr(n, "id") == "email_ver_input" })
		if (len(codes) == 1) != tc.code {
			t.Errorf("%v: %d code inputs", tc.state, len(codes))
		}
		if tc.code {
			checkLabelled(t, doc, "email_ver_input", "Verification code")
			if attr(codes[0], "name") != VerificationCodeName("email") || attr(codes[0], "autocomplete") != "one-time-code" {
				t.Errorf("code input %v", codes[0].Attr)
			}
		}
		if info := byID(t, doc, "pageInfo"); attr(info, "role") != "status" || text(info) != p.Info {
			t.Errorf("page info %v", info.Attr)
		}
	}
	for _, tc := range []struct {
		in, claim string
		a         ControlAction
		ok        bool
	}{
		{"email_ver_but_send", "email", ActionSendCode, true},
		{"email_ver_but_verify", "email", ActionVerifyCode, true},
		{"email_ver_but_resend", "email", ActionSendNewCode, true},
		{"email_ver_but_edit", "email", ActionChangeClaim, true},
		{"email_ver_but_nope", "", "", false},
		{"_ver_but_send", "", "", false},
		{"email", "", "", false},
	} {
		c, a, ok := ParseVerificationAction(tc.in)
		if c != tc.claim || a != tc.a || ok != tc.ok {
			t.Errorf("ParseVerificationAction(%q) = %q, %q, %v", tc.in, c, a, ok)
		}
	}
}

// unifiedssp 2.1 pages take display controls (a captcha, say) among the
// sign-in fields, and a localized "heading" string names the page.
func TestUnifiedDisplayControlAndHeading(t *testing.T) {
	p := &Page{Kind: Unified, Texts: map[string]string{"heading": "Welkom"},
		Fields:          []Field{{ClaimTypeID: "signInName", Label: "Email"}, {ClaimTypeID: "password", Label: "Password", InputType: Password}},
		DisplayControls: []Control{{ID: "captchaControl", Type: "CaptchaControl", Position: 2, Actions: []ControlAction{ActionVerifyCode}}}}
	doc := render(t, builtin(t), p, false)
	items := byClass(byID(t, doc, "localAccountForm"), "entry-item")
	if len(items) != 3 || !hasClass(items[2].FirstChild, "CaptchaControl") {
		t.Fatalf("%d entry items; the control is not third", len(items))
	}
	if b := byID(t, doc, "captchaControl_but_verify_code"); text(b) != "Verify code" {
		t.Errorf("action button %q", text(b))
	}
	if got := text(byTag(doc, "h1")[0]); got != "Welkom" {
		t.Errorf("h1 = %q", got)
	}
}
