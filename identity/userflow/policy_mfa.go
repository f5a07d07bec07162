package userflow

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/pages"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/totp"
	"github.com/gatehouse/gatehouse/internal/secevent"
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
	if c.sso != nil && c.sso.MFA && !c.pol.Interactive {
		return journey.Bag{}, nil // the session's sign-in passed a second factor
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
	// first that can enrol (a phone number can be entered, an app
	// scanned; an email address cannot be made up).
	for _, meth := range m.Methods {
		if meth == tenant.MFAPhone && phone != "" || meth == tenant.MFAEmail && email != "" ||
			meth == tenant.MFATOTP && u.Attributes[attrTOTPSecret] != "" {
			method = meth
			break
		}
	}
	if method == "" {
		for _, meth := range m.Methods {
			if meth == tenant.MFAPhone || meth == tenant.MFATOTP {
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
	return f.validMark(r, f.mfaCookieName(userID), "mfa", userID)
}

// rememberMFA marks the browser as having passed MFA for the account.
func (f *Flows) rememberMFA(w http.ResponseWriter, userID string, life time.Duration) {
	f.setMark(w, f.mfaCookieName(userID), life, "mfa", userID)
}

// The account's authenticator app: its sealed secret (AES-GCM under a key
// of the flows' key, the account id as additional data) and the last time
// step used (codes of that step or earlier are refused: replays).
const (
	attrTOTPSecret   = "totpSecret"
	attrTOTPLastStep = "totpLastStep"
)

// totpVerify is the TOTP provider: the code of the account's app, or of
// the app being enrolled on this page (the pending secret of the
// transaction, stored once the first code is right).
func (f *Flows) totpVerify(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: TOTP outside a page request")
	}
	u, err := f.st.Users().Get(ctx, claimstx.FormatValue(jc.Inputs["objectId"].Value))
	if err != nil {
		return nil, err
	}
	return journey.Bag{}, f.checkTOTP(ctx, c, u, claimstx.FormatValue(jc.Inputs["totpCode"].Value), jc.Policy.ClaimID("totpCode"))
}

// checkTOTP checks a code of the account's app (or of the app being
// enrolled: the transaction's pending secret, stored once a code is
// right), each time step used once, guesses limited per client address
// and per account; field is the page's code field for errors.
func (f *Flows) checkTOTP(ctx context.Context, c *call, u *store.User, code, field string) error {
	sealed, enrolling := u.Attributes[attrTOTPSecret], false
	if sealed == "" {
		sealed, enrolling = c.pol.TOTPPending, true
	}
	key, err := totp.Open(f.totpAEAD, sealed, u.ID)
	if err != nil {
		return &journey.UserError{Code: "AADB2C90151", Message: msgTOTPInvalid, Field: field}
	}
	if d, err := c.limitGuesses("totp-guess", u.ID, field); d != nil || err != nil {
		return denialErr(d, err)
	}
	last, _ := strconv.ParseInt(u.Attributes[attrTOTPLastStep], 10, 64)
	step, ok := totp.Verify(key, code, f.now(), last)
	if ok {
		// A step is used once, whatever the number of processes: the
		// store counts its uses atomically.
		n, _, err := f.st.Throttles().Hit(ctx, f.idHash("totp-step", u.ID+":"+strconv.FormatInt(step, 10)), 1, f.now(), 3*totp.Period*time.Second)
		if err != nil {
			return err
		}
		ok = n == 1
	}
	if !ok {
		c.emit(secevent.CodeFailed, u.ID)
		return &journey.UserError{Code: "AADB2C90151", Message: msgTOTPInvalid, Field: field}
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	u.Attributes[attrTOTPLastStep] = strconv.FormatInt(step, 10)
	if enrolling {
		u.Attributes[attrTOTPSecret], c.pol.TOTPPending = sealed, ""
	}
	u.UpdatedAt = f.now()
	return f.st.Users().Update(ctx, u)
}

const msgTOTPInvalid = "The code is not valid. Enter the code your authenticator app shows now."

// totpEnrolment is the enrolment a TOTP page shows an account without an
// app: a secret made for this sign-in (kept sealed in the transaction
// until the first right code stores it).
func (c *call) totpEnrolment() (*pages.TOTPEnrolment, error) {
	ctx := c.r.Context()
	u, err := c.f.st.Users().Get(ctx, c.pol.Journey.Claims.String(c.pf.policy.ClaimID("objectId")))
	if err != nil || u.Attributes[attrTOTPSecret] != "" {
		return nil, err
	}
	if c.pol.TOTPPending == "" {
		k, err := totp.NewKey()
		if err != nil {
			return nil, err
		}
		if c.pol.TOTPPending, err = totp.Seal(c.f.totpAEAD, k, u.ID); err != nil {
			return nil, err
		}
		if err := c.store(); err != nil {
			return nil, err
		}
	}
	k, err := totp.Open(c.f.totpAEAD, c.pol.TOTPPending, u.ID)
	if err != nil {
		return nil, err
	}
	account := cmp.Or(u.Email, u.Attributes["mail"], u.DisplayName, u.ID)
	qr, err := k.QRCode(c.f.reg.TenantName, account)
	if err != nil {
		return nil, err
	}
	return &pages.TOTPEnrolment{QR: qr, Secret: k.SecretText(), URI: k.URI(c.f.reg.TenantName, account)}, nil
}
