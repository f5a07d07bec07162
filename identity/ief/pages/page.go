package pages

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// UserInputType values (a ClaimType's UserInputType in the policy).
const (
	TextBox              = "TextBox"
	Password             = "Password"
	EmailBox             = "EmailBox"
	DateTimeDropdown     = "DateTimeDropdown"
	RadioSingleSelect    = "RadioSingleSelect"
	DropdownSingleSelect = "DropdownSingleSelect"
	CheckboxMultiSelect  = "CheckboxMultiSelect"
	Paragraph            = "Paragraph"
	Readonly             = "Readonly"
)

// Form field names the generated pages post, besides one field per claim.
const (
	// FormAction carries the button that submitted the form: ButtonNext,
	// ButtonContinue, ButtonCancel, a Page.Buttons id, or a display-control
	// action button id (see ParseControlAction).
	FormAction = "action"
	// FormClaimsExchange carries the ClaimsExchange id of the chosen
	// identity-provider button.
	FormClaimsExchange = "claimsexchange"
)

// Default button ids, as B2C names them.
const (
	ButtonNext     = "next"     // unified page: sign in
	ButtonContinue = "continue" // self-asserted page
	ButtonCancel   = "cancel"
)

// Page is the model of one hosted page. The runtime fills it; every
// visible string is already localized. Strings the page needs but the
// caller leaves empty come from Texts, then from English fallbacks (see
// Text).
type Page struct {
	Kind    Kind
	Version Version
	Lang    string // the html element's lang attribute, e.g. "en"

	Title   string // the document title, if the template has none
	Heading string // the h1; empty: Texts["heading"], else a default for the Kind
	Intro   string // the text under the heading

	// Texts holds localized strings by B2C's StringId (for example
	// "button_continue", "forgotpassword_link", "ver_but_send").
	Texts map[string]string

	FormAction string   // the URL the forms post to
	Hidden     []Hidden // posted with every form: transaction id, CSRF token

	Fields          []Field
	DisplayControls []Control // placed among Fields by Control.Position

	Providers []ProviderButton // other identity providers (Unified, ProviderSelection)

	ForgotPassword *Link // Unified: div.forgot-password
	CreateAccount  *Link // Unified: div.create

	// Buttons replaces the kind's default buttons (Unified: next;
	// SelfAsserted and MultiFactor: continue and cancel).
	Buttons []Button

	PageError string // page-level error (div.error.pageLevel)
	// TOTP is an authenticator app's enrolment, shown above the fields.
	TOTP *TOTPEnrolment
	Info string // page-level notice, e.g. "Verification code has been sent"

	// Exception page details.
	CorrelationID string
	Timestamp     string

	// Nonce is the CSP nonce put on the template's inline style elements
	// (and script elements, when scripts are allowed).
	Nonce string
}

// Field is one claim on the page.
type Field struct {
	ClaimTypeID string // the input's id and name
	Label       string
	HelpText    string
	InputType   string // a UserInputType; empty means TextBox
	Value       string // never echoed for Password
	Required    bool
	ReadOnly    bool
	// Pattern and PatternHelpText are client-side hints only; the runtime
	// validates what is posted.
	Pattern         string
	PatternHelpText string
	Options         []Option // RadioSingleSelect, DropdownSingleSelect, CheckboxMultiSelect
	Error           string   // the field's error (div.error.itemLevel)
	// Verification, when set, makes the field prove its value with a code,
	// as B2C's built-in email verification (a Verified.Email output claim)
	// does, with B2C's "{id}_ver_..." element ids.
	Verification *Verification
	// YearMin and YearMax bound a DateTimeDropdown's years (zero: 1900 and
	// the current year).
	YearMin, YearMax int
}

// Option is one choice of a select, radio or checkbox field.
type Option struct {
	Value, Text string
	Selected    bool
}

// Verification is the state of a field's built-in code verification.
type Verification struct {
	State   ControlState
	Message string // e.g. "Verification code has been sent to your inbox."
	// Call offers the code by a phone call too (a phone number's field).
	Call bool
}

// VerificationButtonID is the id (and posted action value) of a verified
// field's button, B2C's "{claimTypeId}_ver_but_send" and so on.
func VerificationButtonID(claimTypeID string, a ControlAction) string {
	return claimTypeID + "_ver_but_" + verificationSuffix[a]
}

// VerificationCodeName is the name of a verified field's code input.
func VerificationCodeName(claimTypeID string) string {
	return claimTypeID + "_ver_input"
}

var verificationSuffix = map[ControlAction]string{
	ActionCall:        "call",
	ActionSendCode:    "send",
	ActionVerifyCode:  "verify",
	ActionSendNewCode: "resend",
	ActionChangeClaim: "edit",
}

// ParseVerificationAction splits a posted action value from a verified
// field's button into the claim type id and the action.
func ParseVerificationAction(value string) (claimTypeID string, action ControlAction, ok bool) {
	i := strings.LastIndex(value, "_ver_but_")
	if i <= 0 {
		return "", "", false
	}
	suffix := value[i+len("_ver_but_"):]
	for a, s := range verificationSuffix {
		if s == suffix {
			return value[:i], a, true
		}
	}
	return "", "", false
}

// Control is a display control (DisplayControl in the policy).
type Control struct {
	ID string
	// Position is the index in Page.Fields before which the control
	// appears: 0 (first, as in B2C's starter packs) up to len(Fields) or
	// more (last).
	Position int
	Type     string // the UserInterfaceControlType, e.g. "VerificationControl"
	Fields   []Field
	State    ControlState
	Message  string // information, e.g. "Verification code has been sent"
	Error    string
	// Actions lists the control's action buttons. Empty: the buttons B2C
	// shows for a VerificationControl in State.
	Actions []ControlAction
	// A display-only control (QrCodeControl, AuthenticatorInfoControl,
	// AuthenticatorAppIconControl): its title and text, the QR code (a
	// PNG data URI) with its otpauth deep link, and the values it shows.
	Title, Intro string
	QR, DeepLink string
	LinkText     string
	Info         []ControlInfo
}

// ControlInfo is one value a display-only control shows, with its label.
type ControlInfo struct {
	ID, Label, Value string
}

// QRURL is a control's QR code as a URL the template may use (only a PNG
// data URI).
func (c *Control) QRURL() template.URL { return pngDataURL(c.QR) }

// DeepLinkURL is the otpauth:// link that opens the authenticator app
// (nothing else may pass as a link).
func (c *Control) DeepLinkURL() template.URL {
	if !strings.HasPrefix(c.DeepLink, "otpauth://") || strings.ContainsAny(c.DeepLink, "\"<> ") {
		return ""
	}
	return template.URL(c.DeepLink)
}

// ControlState is the stage of a verification control.
type ControlState int

// The stages of a verification control.
const (
	StateSendCode   ControlState = iota // the claim is editable; send a code
	StateVerifyCode                     // a code was sent; enter it
	StateVerified                       // verified; the claim may be changed
)

// ControlAction is a display-control action button.
type ControlAction string

// The action buttons of a VerificationControl. A button's id is the
// control id, "_but_" and the action, as in B2C.
const (
	ActionSendCode    ControlAction = "send_code"
	ActionVerifyCode  ControlAction = "verify_code"
	ActionChangeClaim ControlAction = "change_claims"
	ActionSendNewCode ControlAction = "send_new_code"
	// ActionCall sends a phone number's code by a voice call.
	ActionCall ControlAction = "call"
)

// ButtonID is the id (and posted action value) of a control's action button.
func (c *Control) ButtonID(a ControlAction) string {
	return c.ID + "_but_" + string(a)
}

// ParseControlAction splits a posted action value into the control id and
// the action; ok is false if value is no display-control action.
func ParseControlAction(value string) (controlID string, action ControlAction, ok bool) {
	i := strings.LastIndex(value, "_but_")
	if i <= 0 {
		return "", "", false
	}
	a := ControlAction(value[i+len("_but_"):])
	switch a {
	case ActionSendCode, ActionVerifyCode, ActionChangeClaim, ActionSendNewCode:
		return value[:i], a, true
	}
	return "", "", false
}

// ProviderButton is one identity provider's button.
type ProviderButton struct {
	ExchangeID  string // the ClaimsExchange id; the button's id
	DisplayName string
}

// Link is a link on the page.
type Link struct {
	Href  string
	Text  string // empty: the kind's default text
	Intro string // text before the link (createAccount: "Don't have an account?")
}

// Button is a submit button; its id is posted as FormAction.
type Button struct {
	ID, Label string
	// NoValidate skips the browser's form validation (cancel).
	NoValidate bool
}

// Hidden is a hidden form field.
type Hidden struct {
	Name, Value string
}

// fallbackTexts are B2C's English defaults, keyed by its StringIds.
var fallbackTexts = map[string]string{
	"heading_Unified":           "Sign in",
	"heading_SelfAsserted":      "User details",
	"heading_ProviderSelection": "Sign in",
	"heading_Exception":         "Sorry, but we're having trouble signing you in.",
	"heading_MultiFactor":       "Verify your identity",
	"totp_intro":                "Scan this code with your authenticator app (Microsoft Authenticator, Google Authenticator, ...), then enter the 6-digit code it shows.",
	"totp_manual":               "Or enter this key in the app:",
	"button_signin":             "Sign in",
	"button_continue":           "Continue",
	"button_cancel":             "Cancel",
	"forgotpassword_link":       "Forgot your password?",
	"createaccount_intro":       "Don't have an account?",
	"createaccount_link":        "Sign up now",
	"social_intro":              "Sign in with your social account",
	"divider_title":             "OR",
	"ver_but_send":              "Send verification code",
	"ver_but_verify":            "Verify code",
	"ver_but_edit":              "Change",
	"ver_but_resend":            "Send new code",
	"ver_but_call":              "Call me",
	"ver_input":                 "Verification code",
	"dropdown_placeholder":      "Select",
	"day":                       "Day",
	"month":                     "Month",
	"year":                      "Year",
	"months":                    "January,February,March,April,May,June,July,August,September,October,November,December",
	"error_page_help":           "We track these errors automatically, but if the problem persists feel free to contact us. In the meantime, please try again.",
	"correlation_id":            "Correlation ID:",
	"timestamp":                 "Timestamp:",
}

// Text returns the page's string for a StringId: Texts, else the English
// fallback, else the id itself (so a missing string shows, rather than
// vanishing).
func (p *Page) Text(id string) string {
	if s, ok := p.Texts[id]; ok && s != "" {
		return s
	}
	if s, ok := fallbackTexts[id]; ok {
		return s
	}
	return id
}

// DateFromForm assembles a DateTimeDropdown field's posted day, month and
// year into B2C's date format, yyyy-MM-dd. ok is false when a part is
// missing or the date does not exist.
func DateFromForm(get func(name string) string, claimTypeID string) (date string, ok bool) {
	d, err1 := strconv.Atoi(get(claimTypeID + "_day"))
	m, err2 := strconv.Atoi(get(claimTypeID + "_month"))
	y, err3 := strconv.Atoi(get(claimTypeID + "_year"))
	if err1 != nil || err2 != nil || err3 != nil || y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// TOTPEnrolment is what an authenticator app needs to enrol: the QR code
// (a data:image/png URI), the secret to type in, and the otpauth URI.
type TOTPEnrolment struct {
	QR, Secret, URI string
}

// QRURL is the QR code as a URL the template may use: only a PNG data URI
// (Gatehouse's own), never anything else.
func (t *TOTPEnrolment) QRURL() template.URL { return pngDataURL(t.QR) }

func pngDataURL(s string) template.URL {
	if !strings.HasPrefix(s, "data:image/png;base64,") || strings.ContainsAny(s, "\"<> ") {
		return ""
	}
	return template.URL(s)
}
