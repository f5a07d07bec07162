package userflow

import (
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
	"github.com/gatehouse/gatehouse/identity/totp"
)

// displayTexts are B2C's English strings of the display-only controls
// (ElementType DisplayControl, by StringId), used when the policy's
// localization has none.
var displayTexts = map[string]map[string]string{
	"QrCodeControl": {"title_text": "Scan the QR code", "info_msg": "You can download the Microsoft Authenticator app or use any other authenticator app of your choice.",
		"link_text": "Can't scan? Try this"},
	"AuthenticatorInfoControl": {"title_text": "Enter the account details manually", "account_name": "Account Name:", "display_prefix": "Secret"},
	"AuthenticatorAppIconControl": {"title_text": "Download the Microsoft Authenticator using the download links for iOS and Android or use any other authenticator app of your choice.",
		"instruction_text": "Once you've downloaded the Authenticator app, you can use any of the methods below to continue with enrollment."},
}

// displayControl renders a display-only control: the QR code of its
// QrCodeContent claim (drawn here, never fetched from elsewhere), the
// otpauth deep link, and the account name and secret to type in.
func displayControl(d *journey.Display, strs *localization.Strings, label func(*ief.ClaimType) (string, string)) pages.Control {
	text := func(id string) string {
		if strs != nil {
			if t, ok := strs.DisplayControl(d.ID, id); ok && t != "" {
				return t
			}
		}
		return displayTexts[d.Type][id]
	}
	c := pages.Control{ID: d.ID, Type: d.Type, Title: text("title_text")}
	switch d.Type {
	case "QrCodeControl":
		c.Intro, c.LinkText = text("info_msg"), text("link_text")
		for _, cl := range d.Claims {
			if cl.ControlType != "QrCodeContent" || cl.Value == "" {
				continue
			}
			if qr, err := totp.QRImage(cl.Value); err == nil {
				c.QR = qr
			}
			if strings.HasPrefix(cl.Value, "otpauth://") {
				c.DeepLink = cl.Value
			}
		}
	case "AuthenticatorInfoControl":
		for i, cl := range d.Claims {
			l, _ := label(cl.Claim)
			switch {
			case i == 0 && text("account_name") != "":
				l = text("account_name")
			case i == 1 && text("display_prefix") != "":
				l = text("display_prefix")
			}
			c.Info = append(c.Info, pages.ControlInfo{ID: cl.Claim.ID, Label: l, Value: cl.Value})
		}
	case "AuthenticatorAppIconControl":
		c.Intro = text("instruction_text")
	}
	return c
}
