package userflow

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/store"
)

// A user flow's MFA (flow.MFA, compiled by identity/ief/userflows): the
// MFADecision profile decides whether this sign-in needs a second factor
// and which; the factor pages (EmailFactor, PhoneFactor) follow.

// riskyFailures is how many recent failed sign-ins make a conditional
// flow ask for MFA.
const riskyFailures = 3

// mfaDecision is the MFADecision provider: mfaMethod is set (email or
// phone) when the sign-in needs a second factor, with the address or
// number on record.
func (f *Flows) mfaDecision(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: MFA outside a page request")
	}
	m := c.flow.MFA
	if m == nil {
		return journey.Bag{}, nil
	}
	u, err := f.st.Users().Get(ctx, claimstx.FormatValue(jc.Inputs["objectId"].Value))
	if err != nil {
		return nil, err
	}
	if m.RememberFor > 0 && f.mfaRemembered(c.r, u.ID) {
		return journey.Bag{}, nil
	}
	if m.Enforcement == "conditional" && !f.risky(c, u) {
		return journey.Bag{}, nil
	}
	email := u.Email
	if email == "" {
		email = u.Attributes["mail"] // a federated account's address
	}
	phone := u.Attributes["strongAuthenticationPhoneNumber"]
	method := ""
	// The account's enrolled method first, in the flow's order; else the
	// first that can enrol (a phone number can be entered; an email
	// address cannot be made up).
	for _, meth := range m.Methods {
		if meth == tenant.MFAPhone && phone != "" || meth == tenant.MFAEmail && email != "" {
			method = meth
			break
		}
	}
	if method == "" {
		for _, meth := range m.Methods {
			if meth == tenant.MFAPhone {
				method = meth
				break
			}
		}
	}
	if method == "" {
		return nil, &journey.UserError{Code: "AADB2C90077", Message: "No second factor is available for this account. Contact your administrator."}
	}
	c.pol.MFA = true
	s := func(v string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: v} }
	got := map[string]claimstx.Claim{"mfaMethod": s(method)}
	if method == tenant.MFAEmail {
		got["mfaEmail"] = s(email)
	}
	if phone != "" {
		got["strongAuthenticationPhoneNumber"] = s(phone)
	}
	return jc.ByName(got), nil
}

// risky: a browser the account has not signed in from, or recent failed
// sign-ins to the account (counted before this sign-in's password check,
// which resets them).
func (f *Flows) risky(c *call, u *store.User) bool {
	return u.Email == "" || !f.familiar(c.r, u.Email) || c.recentFailures >= riskyFailures
}

// mfaCookieName names an account's remember-MFA cookie (no account id in
// the clear).
func (f *Flows) mfaCookieName(userID string) string {
	return "x-ms-cpim-mfa_" + hex.EncodeToString(f.mac("mfa-name", userID)[:8])
}

// mfaRemembered: the browser passed MFA for the account within the
// flow's rememberFor.
func (f *Flows) mfaRemembered(r *http.Request, userID string) bool {
	c, err := r.Cookie(f.mfaCookieName(userID))
	if err != nil || len(c.Value) > 100 {
		return false
	}
	exp, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !time.Unix(n, 0).After(f.now()) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, f.mac("mfa", userID, exp))
}

// rememberMFA marks the browser as having passed MFA for the account.
func (f *Flows) rememberMFA(w http.ResponseWriter, userID string, life time.Duration) {
	exp := strconv.FormatInt(f.now().Add(life).Unix(), 10)
	http.SetCookie(w, &http.Cookie{Name: f.mfaCookieName(userID),
		Value: exp + "." + base64.RawURLEncoding.EncodeToString(f.mac("mfa", userID, exp)),
		Path:  f.cookiePath(), MaxAge: int(life / time.Second), HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode})
}
