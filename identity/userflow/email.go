package userflow

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"

	imail "github.com/gatehouse/gatehouse/identity/mail"
)

// verificationEmail is B2C's default verification-code email (subject
// "<tenant> account email verification code", the same wording), as
// plain text and as HTML in the tenant's branding: the hosted pages'
// logo and primary colour. publicURL makes a root-relative logo absolute.
func verificationEmail(tenant, email, code string, th theme, publicURL string) imail.Message {
	text := "Verify your email address\n\n" +
		"Thanks for verifying your " + email + " account!\n\n" +
		"Your code is: " + code + "\n\n" +
		"Sincerely,\n" + tenant + "\n\n" +
		"This message was sent from an unmonitored email address. Please do not reply to this message.\n"
	logo := th.Logo
	if strings.HasPrefix(logo, "/") && !strings.HasPrefix(logo, "//") {
		if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
			logo = u.Scheme + "://" + u.Host + logo
		} else {
			logo = ""
		}
	}
	var b bytes.Buffer
	if err := emailHTML.Execute(&b, map[string]any{"Tenant": tenant, "Email": email, "Code": code,
		"Logo": logo, "Primary": th.Primary}); err != nil {
		b.Reset() // cannot happen with these values; the text part still carries the code
	}
	return imail.Message{To: email, Subject: tenant + " account email verification code", Text: text, HTML: b.String()}
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Tenant}} account email verification code</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:'Segoe UI',Tahoma,Arial,sans-serif;color:#1f2937">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-top:4px solid {{.Primary}}">
{{- if .Logo}}
<tr><td style="padding:24px 32px 0"><img src="{{.Logo}}" alt="{{.Tenant}}" style="max-height:48px;max-width:240px;border:0"></td></tr>
{{- end}}
<tr><td style="padding:24px 32px 8px;font-size:24px;font-weight:600;color:{{.Primary}}">Verify your email address</td></tr>
<tr><td style="padding:8px 32px;font-size:14px;line-height:20px">Thanks for verifying your <a style="color:{{.Primary}}">{{.Email}}</a> account!</td></tr>
<tr><td style="padding:8px 32px;font-size:14px;line-height:20px">Your code is: <span style="font-size:20px;font-weight:700;letter-spacing:2px">{{.Code}}</span></td></tr>
<tr><td style="padding:16px 32px 24px;font-size:14px;line-height:20px">Sincerely,<br>{{.Tenant}}</td></tr>
</table>
<p style="max-width:560px;font-size:12px;line-height:16px;color:#6b7280">This message was sent from an unmonitored email address. Please do not reply to this message.</p>
</td></tr>
</table>
</body>
</html>
`))
