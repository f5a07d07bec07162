package userflow

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/identity/locale"
	imail "github.com/gatehouse/gatehouse/identity/mail"
)

// verificationEmail is B2C's default verification-code email (subject
// "<tenant> account email verification code", the same wording), as
// plain text and as HTML in the tenant's branding: the hosted pages'
// logo and primary colour. publicURL makes a root-relative logo absolute.
func verificationEmail(tenant, email, code string, th theme, publicURL string) imail.Message {
	return localVerificationEmail(locale.English, tenant, email, code, th, publicURL)
}

// localVerificationEmail is verificationEmail in language l (the pages').
func localVerificationEmail(l locale.Lang, tenant, email, code string, th theme, publicURL string) imail.Message {
	text := l.T("email_heading") + "\n\n" +
		l.F("email_thanks", email) + "\n\n" +
		l.F("email_code", code) + "\n\n" +
		l.T("email_signoff") + "\n" + tenant + "\n\n" +
		l.T("email_unmonitored") + "\n"
	logo := th.Logo
	if strings.HasPrefix(logo, "/") && !strings.HasPrefix(logo, "//") {
		if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
			logo = u.Scheme + "://" + u.Host + logo
		} else {
			logo = ""
		}
	}
	var b bytes.Buffer
	thanksBefore, thanksAfter, _ := strings.Cut(l.T("email_thanks"), "{0}")
	codeBefore, codeAfter, _ := strings.Cut(l.T("email_code"), "{0}")
	subject := l.F("email_subject", tenant)
	if err := emailHTML.Execute(&b, map[string]any{"Tenant": tenant, "Email": email, "Code": code,
		"Logo": logo, "Primary": th.Primary, "Lang": string(l), "Subject": subject, "Heading": l.T("email_heading"),
		"ThanksBefore": thanksBefore, "ThanksAfter": thanksAfter, "CodeBefore": codeBefore, "CodeAfter": codeAfter,
		"Signoff": l.T("email_signoff"), "Unmonitored": l.T("email_unmonitored")}); err != nil {
		b.Reset() // cannot happen with these values; the text part still carries the code
	}
	return imail.Message{To: email, Subject: subject, Text: text, HTML: b.String()}
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:'Segoe UI',Tahoma,Arial,sans-serif;color:#1f2937">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-top:4px solid {{.Primary}}">
{{- if .Logo}}
<tr><td style="padding:24px 32px 0"><img src="{{.Logo}}" alt="{{.Tenant}}" style="max-height:48px;max-width:240px;border:0"></td></tr>
{{- end}}
<tr><td style="padding:24px 32px 8px;font-size:24px;font-weight:600;color:{{.Primary}}">{{.Heading}}</td></tr>
<tr><td style="padding:8px 32px;font-size:14px;line-height:20px">{{.ThanksBefore}}<a style="color:{{.Primary}}">{{.Email}}</a>{{.ThanksAfter}}</td></tr>
<tr><td style="padding:8px 32px;font-size:14px;line-height:20px">{{.CodeBefore}}<span style="font-size:20px;font-weight:700;letter-spacing:2px">{{.Code}}</span>{{.CodeAfter}}</td></tr>
<tr><td style="padding:16px 32px 24px;font-size:14px;line-height:20px">{{.Signoff}}<br>{{.Tenant}}</td></tr>
</table>
<p style="max-width:560px;font-size:12px;line-height:16px;color:#6b7280">{{.Unmonitored}}</p>
</td></tr>
</table>
</body>
</html>
`))
