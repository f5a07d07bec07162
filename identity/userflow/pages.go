package userflow

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTmpl = template.Must(template.ParseFS(templateFS, "templates/*.html"))

type field struct {
	ID, Label, Type, Value, Autocomplete, InputMode string
	Help, Error                                     string
	Required, ReadOnly, Focus                       bool
	DescribedBy                                     string
}

type button struct {
	ID, Label string
	Secondary bool
}

type link struct {
	ID, Label, Href, Before string
}

type view struct {
	Title, Heading, DataName, FormID, Class string
	Lang                                    string // the page's language (locale.Lang)
	Page, Action, TX, CSRF, Nonce           string
	Error, Info                             string
	Fields                                  []*field
	InlineLink                              *link // forgotPassword, after the fields
	Buttons                                 []button
	Footer                                  *link // createAccount
	Theme                                   theme
	Tenant                                  string

	redirectURI string
	errors      bool
	// status is the HTTP status (0: 200); retryAfter goes with a 429.
	status     int
	retryAfter time.Duration
}

func (v *view) get(id string) *field {
	for _, f := range v.Fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (v *view) setValue(id, val string) {
	if f := v.get(id); f != nil && !f.ReadOnly && f.Type != "password" {
		f.Value = val
	}
}

func (v *view) fieldError(id, msg string) {
	v.errors = true
	if f := v.get(id); f != nil {
		f.Error = msg
		return
	}
	v.Error = msg
}

func (v *view) hasErrors() bool { return v.errors }

// B2C's built-in user attributes: label and autocomplete token.
var attrInfo = map[string][2]string{
	"displayName":   {"Display Name", "name"},
	"givenName":     {"Given Name", "given-name"},
	"surname":       {"Surname", "family-name"},
	"city":          {"City", "address-level2"},
	"country":       {"Country/Region", "country-name"},
	"postalCode":    {"Postal Code", "postal-code"},
	"state":         {"State/Province", "address-level1"},
	"streetAddress": {"Street Address", "street-address"},
	"jobTitle":      {"Job Title", "organization-title"},
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

func validAttrName(s string) bool { return attrNameRE.MatchString(s) }

func attrField(l locale.Lang, name string) *field {
	f := &field{ID: name, Type: "text", Required: true}
	if info, ok := attrInfo[name]; ok {
		f.Label, f.Autocomplete = l.T(name), info[1] // the label's id is the attribute's name
	} else {
		label := strings.TrimPrefix(name, "extension_")
		if i := strings.LastIndexByte(label, '_'); i >= 0 && len(label[:i]) == 32 {
			label = label[i+1:] // extension_<appid>_Name
		}
		f.Label = label
	}
	return f
}

func (f *Flows) newView(w http.ResponseWriter, r *http.Request, tx *tenant.Transaction, flow *tenant.Flow, st *state, page string) *view {
	base := f.apiBase(flow)
	v := &view{Page: page, TX: tx.ID, CSRF: f.csrfToken(w, r, tx), Action: base + "/SelfAsserted",
		Theme: f.theme, Tenant: f.reg.TenantName, redirectURI: tx.Request.RedirectURI, FormID: "attributeVerification",
		DataName: "SelfAsserted", Class: "localAccount"}
	l := f.language(r, tx, flow)
	v.Lang = string(l)
	pageURL := func(p string) string {
		return base + "/CombinedSigninAndSignup/unified?" + url.Values{"tx": {tx.ID}, "page": {p}}.Encode()
	}
	cancel := button{ID: "cancel", Label: l.T("button_cancel"), Secondary: true}
	switch page {
	case pageSignIn:
		v.Title, v.Heading, v.FormID, v.DataName = l.T("title_signin"), l.T("local_intro_email"), "localAccountForm", "Unified"
		v.Fields = []*field{
			{ID: "signInName", Label: l.T("logonIdentifier_email"), Type: "email", Autocomplete: "username", Required: true},
			{ID: "password", Label: l.T("password"), Type: "password", Autocomplete: "current-password", Required: true},
		}
		v.Buttons = []button{{ID: "next", Label: l.T("button_signin")}}
		if flow.Type == "signUpOrSignIn" {
			v.InlineLink = &link{ID: "forgotPassword", Label: l.T("forgotpassword_link"), Href: pageURL(pageReset)}
			v.Footer = &link{ID: "createAccount", Label: l.T("createaccount_link"), Href: pageURL(pageSignUp), Before: l.T("createaccount_intro")}
		}
	case pageSignUp, pageReset:
		verify := page == pageReset || flow.EmailVerification
		if page == pageSignUp {
			v.Title, v.Heading = l.T("title_signup"), l.T("heading_signup")
		} else {
			v.Title, v.Heading = l.T("heading_reset"), l.T("heading_reset")
		}
		email := &field{ID: "email", Label: l.T("email"), Type: "email", Autocomplete: "email", Required: true, Value: st.Email}
		v.Fields = []*field{email}
		switch {
		case verify && !st.EmailVerified && st.VerificationID == "":
			v.Buttons = []button{{ID: "email_ver_but_send", Label: l.T("ver_but_send")}, cancel}
		case verify && !st.EmailVerified:
			email.ReadOnly = true
			v.Fields = append(v.Fields, &field{ID: "email_ver_input", Label: l.T("verificationCode"), Type: "text",
				Autocomplete: "one-time-code", InputMode: "numeric", Required: true})
			v.Buttons = []button{{ID: "email_ver_but_verify", Label: l.T("ver_but_verify")},
				{ID: "email_ver_but_resend", Label: l.T("ver_but_resend"), Secondary: true},
				{ID: "email_ver_but_edit", Label: l.T("ver_but_edit"), Secondary: true}, cancel}
		default:
			email.ReadOnly = verify
			v.Fields = append(v.Fields,
				&field{ID: "newPassword", Label: l.T("newPassword"), Type: "password", Autocomplete: "new-password", Required: true,
					Help: password.Describe(flow.Password)},
				&field{ID: "reenterPassword", Label: l.T("reenterPassword"), Type: "password", Autocomplete: "new-password", Required: true})
			label := l.T("button_continue")
			if page == pageSignUp {
				label = l.T("button_create")
				for _, a := range flow.Attributes {
					if a != "email" && validAttrName(a) {
						v.Fields = append(v.Fields, attrField(l, a))
					}
				}
			}
			v.Buttons = []button{{ID: "continue", Label: label}, cancel}
		}
	case pageProfile:
		v.Title, v.Heading = l.T("title_profile"), l.T("heading_profile")
		v.Fields = []*field{{ID: "email", Label: l.T("email"), Type: "email", ReadOnly: true}}
		for _, a := range flow.Attributes {
			if a != "email" && validAttrName(a) {
				v.Fields = append(v.Fields, attrField(l, a))
			}
		}
		if u, err := f.st.Users().Get(r.Context(), st.UserID); err == nil {
			v.Fields[0].Value = u.Email
			for _, fl := range v.Fields[1:] {
				switch fl.ID {
				case "displayName":
					fl.Value = u.DisplayName
				case "givenName":
					fl.Value = u.GivenName
				case "surname":
					fl.Value = u.Surname
				default:
					fl.Value = u.Attributes[fl.ID]
				}
			}
		}
		v.Buttons = []button{{ID: "continue", Label: l.T("button_continue")}, cancel}
	}
	return v
}

// ---- theme and templates ----

type theme struct {
	Logo                string
	Primary, Background template.CSS
	logoOrigin          string
}

var colourRE = regexp.MustCompile(`^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20}|rgba?\([0-9., %]{5,40}\)|hsla?\([0-9., %deg]{5,40}\))$`)

func newTheme(p *config.Page) theme {
	t := theme{Primary: "#0b5cad", Background: "#f3f4f6"}
	if p == nil {
		return t
	}
	if colourRE.MatchString(p.PrimaryColor) {
		t.Primary = template.CSS(p.PrimaryColor)
	}
	if colourRE.MatchString(p.Background) {
		t.Background = template.CSS(p.Background)
	}
	if p.Logo != "" {
		if u, err := url.Parse(p.Logo); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			t.Logo, t.logoOrigin = p.Logo, u.Scheme+"://"+u.Host
		} else if err == nil && u.Scheme == "" && strings.HasPrefix(p.Logo, "/") {
			t.Logo = p.Logo
		}
	}
	return t
}

type customTemplate struct{ before, after string }

const apiDiv = `<div id="api"></div>`

func parseCustom(s string) (*customTemplate, error) {
	i := strings.Index(s, apiDiv)
	if i < 0 {
		return nil, errors.New(`userflow: page template must contain <div id="api"></div>`)
	}
	return &customTemplate{before: s[:i], after: s[i+len(apiDiv):]}, nil
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (f *Flows) render(w http.ResponseWriter, v *view) {
	nb := make([]byte, 18)
	_, _ = rand.Read(nb)
	v.Nonce = hex.EncodeToString(nb) // hex: no characters html/template would escape
	v.localize()
	focused := false
	for _, fl := range v.Fields {
		if fl.Error != "" && !focused {
			fl.Focus, focused = true, true
		}
	}
	for _, fl := range v.Fields {
		var d []string
		if fl.Help != "" {
			d = append(d, fl.ID+"_help")
		}
		if fl.Error != "" {
			d = append(d, fl.ID+"_error")
		}
		fl.DescribedBy = strings.Join(d, " ")
		if !focused && !fl.ReadOnly && fl.Value == "" {
			fl.Focus, focused = true, true
		}
	}
	formAction := "'self'"
	if o := origin(v.redirectURI); o != "" {
		formAction += " " + o // the POST ends in a redirect (or form_post) to the app
	}
	img := "'self' data:"
	if f.theme.logoOrigin != "" {
		img += " " + f.theme.logoOrigin
	}
	style := "'nonce-" + v.Nonce + "'"
	var body bytes.Buffer
	var err error
	if f.custom != nil {
		// Custom pages bring their own stylesheets, images and fonts.
		style += " 'self' https:"
		img += " https:"
		body.WriteString(f.custom.before)
		body.WriteString(`<div id="api" data-name="` + template.HTMLEscapeString(v.DataName) + `">`)
		err = pageTmpl.ExecuteTemplate(&body, "form", v)
		body.WriteString(`</div>`)
		body.WriteString(f.custom.after)
	} else {
		err = pageTmpl.ExecuteTemplate(&body, "layout", v)
	}
	if err != nil {
		f.fail(w, nil, err) // a template bug: no request language to honour
		return
	}
	csp := "default-src 'none'; style-src " + style + "; img-src " + img + "; font-src 'self' https:; form-action " +
		formAction + "; frame-ancestors 'none'; base-uri 'none'"
	if f.custom == nil {
		csp = strings.Replace(csp, "; font-src 'self' https:", "", 1)
	}
	securityHeaders(w.Header(), csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if v.status != 0 {
		if v.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((v.retryAfter+time.Second-1)/time.Second)))
		}
		w.WriteHeader(v.status)
	}
	_, _ = w.Write(body.Bytes())
}
