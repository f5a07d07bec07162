package userflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/directory"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/sms"
)

// The providers whose work needs Gatehouse's stores and the page request:
// the local password check, email codes, AadSspr and the directory.

type callKey struct{}

// callFrom is the page request a runner runs in.
func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// runners are the providers whose work needs Gatehouse's stores and the
// page request.
func (f *Flows) runners() map[string]journey.Runner {
	noop := journey.RunnerFunc(func(context.Context, *journey.Call) (journey.Bag, error) { return journey.Bag{}, nil })
	dir := &directory.Directory{Users: f.st.Users(), Tenant: f.reg.Domain(), Now: f.now,
		HashPassword: func(pw string) (string, error) { return f.hasher.Hash(context.Background(), pw) }}
	return map[string]journey.Runner{
		"ClaimsTransformation": noop,
		"None":                 noop,
		"AzureActiveDirectory": directoryRunner(dir),
		"LocalCredentials (login-NonInteractive)": journey.RunnerFunc(localCredentials),
		"AadSspr":                   journey.RunnerFunc(aadSspr),
		"RESTful":                   f.restful,
		"APIConnector":              journey.RunnerFunc(f.apiConnector),
		ief.ProviderMFADecision:     journey.RunnerFunc(f.mfaDecision),
		ief.ProviderTOTP:            journey.RunnerFunc(f.totpVerify),
		ief.ProviderAzureMfa:        f.azureMfa(dir),
		ief.ProviderOneTimePassword: journey.RunnerFunc(f.oneTimePassword),
	}
}

func directoryRunner(dir *directory.Directory) journey.Runner {
	return journey.RunnerFunc(func(ctx context.Context, c *journey.Call) (journey.Bag, error) {
		md := c.Profile.Metadata
		refs := func(list []ief.ClaimRef) []directory.Ref {
			out := make([]directory.Ref, 0, len(list))
			for _, r := range list {
				ref := directory.Ref{ClaimType: r.ClaimType, PartnerClaimType: r.PartnerClaimType, DefaultValue: r.DefaultValue,
					AlwaysUseDefault: r.AlwaysUseDefault}
				if ct := c.Policy.Claim(r.ClaimType); ct != nil {
					ref.ClaimType, ref.DataType = ct.ID, claimstx.DataType(ct.DataType)
				}
				out = append(out, ref)
			}
			return out
		}
		p := directory.Profile{ID: c.Profile.ID, Operation: md["Operation"],
			RaiseIfNotExist: md["RaiseErrorIfClaimsPrincipalDoesNotExist"] == "true",
			RaiseIfExists:   md["RaiseErrorIfClaimsPrincipalAlreadyExists"] == "true",
			InputClaims:     refs(c.Profile.InputClaims), PersistedClaims: refs(c.Profile.PersistedClaims),
			OutputClaims: refs(c.Profile.OutputClaims), Messages: map[string]string{}}
		if c := callFrom(ctx); c != nil {
			for _, k := range []string{directory.MsgAlreadyExists, directory.MsgDoesNotExist} {
				if t := c.errorText(k, ""); t != "" {
					p.Messages[k] = t
				}
			}
		}
		for k, v := range md {
			if strings.HasPrefix(k, "UserMessageIf") {
				p.Messages[k] = v // the profile's own text wins
			}
		}
		out, err := dir.Run(ctx, p, directory.Claims(c.In))
		var de *directory.Error
		if errors.As(err, &de) {
			if call := callFrom(ctx); call != nil && de.Kind == directory.AlreadyExists && p.Operation == directory.Write {
				call.f.metrics.SignUp(call.flow.Name, idmetrics.Failure)
				call.f.metrics.Failed(idmetrics.ReasonUserExists)
			}
			return nil, &journey.UserError{Code: de.Code, Message: de.Message}
		}
		if err == nil && p.Operation == directory.Write {
			if call := callFrom(ctx); call != nil {
				call.passwordWritten(ctx, p, c.In, out)
			}
		}
		return journey.Bag(out), err
	})
}

// passwordWritten does what a password write means beyond the directory:
// a new account's browser becomes a familiar device; a changed password
// (a reset) unlocks the account and ends its other SSO sessions.
func (c *call) passwordWritten(ctx context.Context, p directory.Profile, in, out map[string]claimstx.Claim) {
	writes := false
	for _, r := range p.PersistedClaims {
		writes = writes || r.PartnerClaimType == "password"
	}
	if !writes {
		return
	}
	oid := claimstx.FormatValue(in["objectId"].Value)
	changed := oid != ""
	if oid == "" {
		oid = claimstx.FormatValue(out["objectId"].Value)
	}
	u, err := c.f.st.Users().Get(ctx, oid)
	if err != nil {
		c.f.log.WarnContext(ctx, "userflow: reading the account after a password write", "err", err)
		return
	}
	if !changed {
		c.f.rememberDevice(c.w, u.Email)
		return
	}
	for _, k := range []string{lockKey(u.Email), familiarLockKey(u.Email)} {
		if err := c.f.st.Lockouts().Reset(ctx, k); err != nil {
			c.f.log.WarnContext(ctx, "userflow: resetting lockout", "err", err)
		}
	}
	if err := c.f.st.Sessions().DeleteUser(ctx, u.ID); err != nil {
		c.f.log.WarnContext(ctx, "userflow: ending sessions", "err", err)
	}
}

// localCredentials is login-NonInteractive: B2C sends the username and
// password to Entra ID; Gatehouse checks them itself, with the user
// flows' throttle and smart lockout.
func localCredentials(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: login-NonInteractive outside a page request")
	}
	email := normEmail(claimstx.FormatValue(jc.Inputs["username"].Value))
	pw := claimstx.FormatValue(jc.Inputs["password"].Value)
	u, d, err := c.checkPassword(email, pw)
	if err != nil {
		return nil, err
	}
	if d != nil {
		msg := d.msg
		md := jc.Profile.Metadata
		switch {
		case d.locked:
			msg = cmp.Or(md["UserMessageIfUserAccountLocked"], c.errorText("UserMessageIfUserAccountLocked", msg))
		case d.disabled:
			msg = cmp.Or(md["UserMessageIfUserAccountDisabled"], c.errorText("UserMessageIfUserAccountDisabled", msg))
		case d.noAccount && md["UserMessageIfClaimsPrincipalDoesNotExist"] != "":
			// The policy chose to tell unknown accounts apart (B2C's default).
			msg = md["UserMessageIfClaimsPrincipalDoesNotExist"]
		case d.status == 0:
			// A wrong password and an unknown account read the same: the
			// policy's DefaultMessage ("Invalid username or password.").
			msg = cmp.Or(md["UserMessageIfInvalidPassword"], c.errorText("DefaultMessage", msg))
		}
		return nil, &journey.UserError{Code: "AADB2C90225", Message: msg, Status: d.status, RetryAfter: d.retryAfter}
	}
	s := func(v string) claimstx.Claim { return claimstx.Claim{DataType: claimstx.String, Value: v} }
	got := map[string]claimstx.Claim{"oid": s(u.ID), "sub": s(u.ID), "tid": s(c.f.reg.TenantID),
		"upn": s(u.ID + "@" + c.f.reg.Domain()), "email": s(u.Email)}
	if u.GivenName != "" {
		got["given_name"] = s(u.GivenName)
	}
	if u.Surname != "" {
		got["family_name"] = s(u.Surname)
	}
	if u.DisplayName != "" {
		got["name"] = s(u.DisplayName)
	}
	return jc.ByName(got), nil
}

// aadSspr is AadSsprProtocolProvider: send or verify an email code (the
// display-controls packs' VerificationControl actions).
func aadSspr(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	addr := claimstx.FormatValue(jc.Inputs["emailAddress"].Value)
	var err error
	if jc.Profile.Metadata["Operation"] == "SendCode" {
		err = codes{}.Send(ctx, jc.State, addr)
	} else {
		err = codes{}.Verify(ctx, jc.State, addr, claimstx.FormatValue(jc.Inputs["verificationCode"].Value))
	}
	return journey.Bag{}, err
}

// codes are the email codes of Verified.Email and AadSspr, with the user
// flows' limits.
type codes struct{}

func (codes) Send(ctx context.Context, _ *journey.State, address string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: email codes outside a page request")
	}
	email := normEmail(address)
	if !validEmail(email) {
		return &journey.UserError{Code: "AADB2C90046", Message: msgInvalidEmail}
	}
	if c.f.mail == nil {
		return errors.New("userflow: no mail sender configured")
	}
	d, err := c.issueCode(email, func(ctx context.Context, code string) error {
		return c.f.mail.Send(ctx, localVerificationEmail(c.lang, c.f.reg.TenantName, email, code, c.f.theme, c.f.reg.PublicURL))
	})
	return denialErr(d, err)
}

func (codes) Verify(ctx context.Context, _ *journey.State, address, code string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: email codes outside a page request")
	}
	if c.st.Email == "" || c.st.Email != normEmail(address) {
		return &journey.UserError{Code: "AADB2C90046", Message: msgCodeExpired}
	}
	d, err := c.checkCode(code)
	return denialErr(d, err)
}

func denialErr(d *denial, err error) error {
	if err != nil || d == nil {
		return err
	}
	return &journey.UserError{Code: "AADB2C90046", Message: d.msg, Status: d.status, RetryAfter: d.retryAfter}
}

// errorText is an ErrorMessage string of the policy's localization, or def.
func (c *call) errorText(id, def string) string {
	if c.pf != nil {
		if s, ok := c.pf.texts(string(c.lang), "").Error(id); ok && s != "" {
			return s
		}
	}
	return def
}

// phoneCodes are PhoneFactor's SMS codes (identity.sms), with the email
// codes' limits: per sign-in, per client address, per number.
type phoneCodes struct{}

func (phoneCodes) Send(ctx context.Context, _ *journey.State, number string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: phone codes outside a page request")
	}
	if c.f.sms == nil {
		return errors.New("userflow: no SMS sender configured (identity.sms)")
	}
	d, err := c.issueCode(number, func(ctx context.Context, code string) error {
		m := sms.Message{To: number, Code: code, Channel: "sms", Locale: string(c.lang), Tenant: c.f.reg.Domain(),
			Text: fmt.Sprintf("%s: your verification code is %s", c.f.reg.TenantName, code)}
		if c.byCall {
			// Read out digit by digit, twice, for the voice service.
			digits := strings.Join(strings.Split(code, ""), " ")
			m.Channel, m.Text = "call", fmt.Sprintf("Your %s verification code is %s. Again: %s.", c.f.reg.TenantName, digits, digits)
		}
		return c.f.sms.Send(ctx, m)
	})
	return denialErr(d, err)
}

func (phoneCodes) Verify(ctx context.Context, _ *journey.State, number, code string) error {
	c := callFrom(ctx)
	if c == nil {
		return errors.New("userflow: phone codes outside a page request")
	}
	if c.st.Email == "" || c.st.Email != number {
		return &journey.UserError{Code: "AADB2C90046", Message: msgCodeExpired}
	}
	d, err := c.checkCode(code)
	return denialErr(d, err)
}
