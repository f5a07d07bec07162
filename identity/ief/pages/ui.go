package pages

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The generated UI is an html/template, so every value is escaped for
// its context (text, attribute, URL) whatever the caller put in the Page:
// the shared parts (ui/common.html) and one file per page type
// (ui/unified.html, ui/selfasserted.html, ui/providers.html,
// ui/exception.html), each a template named after the page type.
//
//go:embed ui/*.html
var uiFiles embed.FS

var uiTmpl = template.Must(template.New("ui").ParseFS(uiFiles, "ui/*.html"))

// view is what the ui templates render: the Page plus what is derived from it.
type view struct {
	P       *Page
	Heading string
	Unified bool
	Fields  []fieldView
	Items   []item // Fields with the display controls placed among them
	Buttons []Button

	ForgotPassword, CreateAccount *Link
}

// T is the page's localized string for a StringId.
func (v *view) T(id string) string { return v.P.Text(id) }

type fieldView struct {
	ID, Label, Help, Error, Value string
	InputType                     string // the UserInputType (the li's class)
	Kind                          string // how the ui templates render it: input, select, group, date, paragraph
	HTMLType                      string // the input's type
	Autocomplete                  string
	Pattern, PatternHelp          string
	Placeholder                   string
	Required, ReadOnly            bool
	GroupRequired                 bool // radios: one must be chosen
	DescribedBy                   string
	Options                       []optionView
	DateParts                     []datePart
	Verification                  *verificationView
}

// item is one entry of a self-asserted page's list: a field or a
// display control.
type item struct {
	Field   *fieldView
	Control *controlView
}

type verificationView struct {
	CodeID, CodeLabel, Message string
	CodeInput                  bool
	Actions                    []actionView
}

type optionView struct {
	ID, Value, Text string
	Selected        bool
}

type datePart struct {
	ID, Class, Label string
	Options          []optionView
}

type controlView struct {
	ID, Type, Message, Error string
	State                    ControlState
	Fields                   []fieldView
	Actions                  []actionView
	*Control                 // a display-only control's title, QR code and values
}

type actionView struct {
	ID, Class, Label string
}

func (s ControlState) String() string {
	switch s {
	case StateSendCode:
		return "sendCode"
	case StateVerifyCode:
		return "verifyCode"
	case StateVerified:
		return "verified"
	}
	return "ControlState(" + strconv.Itoa(int(s)) + ")"
}

// renderUI writes the generated UI that goes into div#api.
func renderUI(w io.Writer, p *Page) error {
	v := &view{P: p, Heading: p.Heading, Unified: p.Kind == Unified, Buttons: p.Buttons}
	if v.Heading == "" {
		v.Heading = p.Texts["heading"]
	}
	if v.Heading == "" {
		v.Heading = p.Text("heading_" + p.Kind.String())
	}
	for _, f := range p.Fields {
		v.Fields = append(v.Fields, newFieldView(p, f))
	}
	v.Items = items(p, v.Fields)
	var name string
	switch p.Kind {
	case Unified:
		name = "unified"
		if v.Buttons == nil {
			v.Buttons = []Button{{ID: ButtonNext, Label: p.Text("button_signin")}}
		}
		v.ForgotPassword = withText(p, p.ForgotPassword, "forgotpassword_link", "")
		v.CreateAccount = withText(p, p.CreateAccount, "createaccount_link", "createaccount_intro")
	case SelfAsserted, MultiFactor:
		name = "selfasserted"
		if v.Buttons == nil {
			v.Buttons = []Button{
				{ID: ButtonContinue, Label: p.Text("button_continue")},
				{ID: ButtonCancel, Label: p.Text("button_cancel"), NoValidate: true},
			}
		}
	case ProviderSelection:
		name = "providers"
	case Exception:
		name = "exception"
	default:
		return fmt.Errorf("pages: cannot render page kind %v", p.Kind)
	}
	if err := uiTmpl.ExecuteTemplate(w, name, v); err != nil {
		return fmt.Errorf("pages: rendering %v page: %w", p.Kind, err)
	}
	return nil
}

// items places the display controls among the fields by their Position
// (a stable order: controls at the same position keep theirs).
func items(p *Page, fields []fieldView) []item {
	var out []item
	controlsAt := func(pos int, last bool) {
		for i := range p.DisplayControls {
			c := &p.DisplayControls[i]
			if c.Position == pos || last && c.Position > pos || pos == 0 && c.Position < 0 {
				cv := newControlView(p, c)
				out = append(out, item{Control: &cv})
			}
		}
	}
	for i := range fields {
		controlsAt(i, false)
		out = append(out, item{Field: &fields[i]})
	}
	controlsAt(len(fields), true)
	return out
}

// withText copies l, filling its empty texts from the page's strings.
func withText(p *Page, l *Link, textID, introID string) *Link {
	if l == nil {
		return nil
	}
	c := *l
	if c.Text == "" {
		c.Text = p.Text(textID)
	}
	if c.Intro == "" && introID != "" {
		c.Intro = p.Text(introID)
	}
	return &c
}

// autocomplete hints for the claims B2C's starter packs ask for, so
// browsers and password managers fill them.
var autocomplete = map[string]string{
	"signInName":      "username",
	"logonIdentifier": "username",
	"email":           "email",
	"givenName":       "given-name",
	"surname":         "family-name",
	"displayName":     "name",
	"city":            "address-level2",
	"country":         "country-name",
	"postalCode":      "postal-code",
	"streetAddress":   "street-address",
}

func newFieldView(p *Page, f Field) fieldView {
	in := f.InputType
	if in == "" {
		in = TextBox
	}
	v := fieldView{
		ID: f.ClaimTypeID, Label: f.Label, Help: f.HelpText, Error: f.Error, Value: f.Value,
		InputType: in, Kind: "input", HTMLType: "text",
		Pattern: f.Pattern, PatternHelp: f.PatternHelpText,
		Required: f.Required, ReadOnly: f.ReadOnly,
		Autocomplete: autocomplete[f.ClaimTypeID],
	}
	var desc []string
	if v.Help != "" {
		desc = append(desc, v.ID+"_help")
	}
	if v.Error != "" {
		desc = append(desc, v.ID+"_error")
	}
	v.DescribedBy = strings.Join(desc, " ")
	switch in {
	case Password:
		v.HTMLType = "password"
		v.Value = "" // never sent back to the browser
		v.Autocomplete = "new-password"
		if p.Kind == Unified {
			v.Autocomplete = "current-password"
		}
	case EmailBox:
		v.HTMLType = "email"
		if v.Autocomplete == "" {
			v.Autocomplete = "email"
		}
	case Readonly:
		v.ReadOnly = true
	case Paragraph:
		v.Kind = "paragraph"
	case DropdownSingleSelect:
		v.Kind = "select"
		v.Placeholder = p.Text("dropdown_placeholder")
		v.Options = options(f, false)
	case RadioSingleSelect:
		v.Kind, v.HTMLType = "group", "radio"
		v.GroupRequired = f.Required
		v.Options = options(f, false)
	case CheckboxMultiSelect:
		v.Kind, v.HTMLType = "group", "checkbox"
		v.Options = options(f, true)
	case DateTimeDropdown:
		v.Kind = "date"
		v.DateParts = dateParts(p, f)
	}
	if f.Verification != nil && v.Kind == "input" {
		v.Verification = newVerificationView(p, f)
		// A value being proven cannot change until "change" is pressed.
		v.ReadOnly = v.ReadOnly || f.Verification.State != StateSendCode
	}
	if v.ReadOnly {
		v.Pattern, v.PatternHelp = "", ""
	}
	return v
}

func newVerificationView(p *Page, f Field) *verificationView {
	vv := &verificationView{
		CodeID:    VerificationCodeName(f.ClaimTypeID),
		CodeLabel: p.Text("ver_input"),
		Message:   f.Verification.Message,
		CodeInput: f.Verification.State == StateVerifyCode,
	}
	actions := verificationActions[f.Verification.State]
	if f.Verification.Call && f.Verification.State != StateVerified {
		actions = append(slices.Clone(actions), ActionCall)
	}
	for _, a := range actions {
		vv.Actions = append(vv.Actions, actionView{
			ID:    VerificationButtonID(f.ClaimTypeID, a),
			Class: actionText[a].class,
			Label: p.Text(actionText[a].textID),
		})
	}
	return vv
}

// options marks the selected choices: those flagged Selected, and those
// whose value is the field's value (for checkboxes, one of its
// comma-separated values, as B2C stores a multi-select claim).
func options(f Field, multi bool) []optionView {
	chosen := map[string]bool{f.Value: f.Value != ""}
	if multi {
		for _, s := range strings.Split(f.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				chosen[s] = true
			}
		}
	}
	out := make([]optionView, len(f.Options))
	for i, o := range f.Options {
		out[i] = optionView{
			ID:       f.ClaimTypeID + "_" + strconv.Itoa(i),
			Value:    o.Value,
			Text:     o.Text,
			Selected: o.Selected || chosen[o.Value],
		}
	}
	return out
}

var englishMonths = strings.Split(fallbackTexts["months"], ",")

// dateParts builds a DateTimeDropdown's day, month and year selects, with
// the field's value (yyyy-MM-dd) preselected. They post as id_day,
// id_month and id_year (see DateFromForm).
func dateParts(p *Page, f Field) []datePart {
	var y, m, d int
	if t, err := time.Parse("2006-01-02", f.Value); err == nil {
		y, m, d = t.Year(), int(t.Month()), t.Day()
	}
	months := strings.Split(p.Text("months"), ",")
	if len(months) != 12 {
		months = englishMonths
	}
	maxY, minY := f.YearMax, f.YearMin
	if maxY == 0 {
		maxY = time.Now().Year()
	}
	if minY == 0 {
		minY = 1900
	}
	if minY > maxY {
		minY, maxY = maxY, minY
	}
	if maxY-minY > 300 { // a page, not a calendar
		minY = maxY - 300
	}
	num := func(n, sel int) optionView {
		s := strconv.Itoa(n)
		return optionView{Value: s, Text: s, Selected: n == sel}
	}
	day := datePart{ID: f.ClaimTypeID + "_day", Class: "day", Label: p.Text("day")}
	for i := 1; i <= 31; i++ {
		day.Options = append(day.Options, num(i, d))
	}
	month := datePart{ID: f.ClaimTypeID + "_month", Class: "month", Label: p.Text("month")}
	for i, name := range months {
		month.Options = append(month.Options, optionView{Value: strconv.Itoa(i + 1), Text: strings.TrimSpace(name), Selected: i+1 == m})
	}
	year := datePart{ID: f.ClaimTypeID + "_year", Class: "year", Label: p.Text("year")}
	for i := maxY; i >= minY; i-- {
		year.Options = append(year.Options, num(i, y))
	}
	return []datePart{day, month, year}
}

// verificationActions are the buttons B2C shows a VerificationControl in
// each state.
var verificationActions = map[ControlState][]ControlAction{
	StateSendCode:   {ActionSendCode},
	StateVerifyCode: {ActionVerifyCode, ActionSendNewCode},
	StateVerified:   {ActionChangeClaim},
}

var actionText = map[ControlAction]struct{ class, textID string }{
	ActionSendCode:    {"sendCode", "ver_but_send"},
	ActionVerifyCode:  {"verifyCode", "ver_but_verify"},
	ActionChangeClaim: {"changeClaims", "ver_but_edit"},
	ActionSendNewCode: {"sendNewCode", "ver_but_resend"},
	ActionCall:        {"sendCall", "ver_but_call"},
}

func newControlView(p *Page, c *Control) controlView {
	v := controlView{ID: c.ID, Type: c.Type, Message: c.Message, Error: c.Error, State: c.State}
	if v.Type == "" {
		v.Type = "VerificationControl"
	}
	if c.QR != "" || c.Title != "" || len(c.Info) > 0 {
		v.Control = c
		return v
	}
	for _, f := range c.Fields {
		v.Fields = append(v.Fields, newFieldView(p, f))
	}
	actions := c.Actions
	if actions == nil {
		actions = verificationActions[c.State]
	}
	for _, a := range actions {
		t, ok := actionText[a]
		if !ok {
			t.class, t.textID = string(a), string(a)
		}
		v.Actions = append(v.Actions, actionView{ID: c.ButtonID(a), Class: t.class, Label: p.Text(t.textID)})
	}
	return v
}
