package userflow

import (
	"context"
	"errors"
	"strconv"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/directory"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/totp"
	"github.com/gatehouse/gatehouse/store"
)

// azureMfa is B2C's AzureMfa provider as custom policies call it:
// OneWaySMS and Verify (an SMS code to phoneNumber, behind a
// VerificationControl), and the authenticator-app operations of the TOTP
// display controls — GetAvailableDevices (numberOfAvailableDevices: 1 once
// an app is enrolled), BeginVerifyOTP (an account without an app enrols the
// secretKey the page showed; one with an app keeps it: a journey cannot
// replace an enrolled secret) and VerifyOTP (the otpCode, ±1 step, each
// step once). The app's secret is the same sealed attribute user flows use,
// so `gatehouse users reset-mfa` and user flows' TOTP work alike.
func (f *Flows) azureMfa(dir *directory.Directory) journey.Runner {
	return journey.RunnerFunc(func(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
		c := callFrom(ctx)
		if c == nil {
			return nil, errors.New("userflow: AzureMfa outside a page request")
		}
		in := func(name string) string { return claimstx.FormatValue(jc.Inputs[name].Value) }
		switch jc.Profile.Metadata["Operation"] {
		case "OneWaySMS":
			return journey.Bag{}, phoneCodes{}.Send(ctx, jc.State, in("phoneNumber"))
		case "Verify":
			if err := (phoneCodes{}).Verify(ctx, jc.State, in("phoneNumber"), in("verificationCode")); err != nil {
				return nil, err
			}
			c.pol.MFA = true // the session this sign-in starts carries MFA
			return journey.Bag{}, nil
		}
		u, err := mfaAccount(ctx, dir, jc)
		if err != nil {
			return nil, err
		}
		switch jc.Profile.Metadata["Operation"] {
		case "GetAvailableDevices":
			n := 0
			if u.Attributes[attrTOTPSecret] != "" {
				n = 1
			}
			return jc.ByName(map[string]claimstx.Claim{"numberOfAvailableDevices": {DataType: claimstx.String, Value: strconv.Itoa(n)}}), nil
		case "BeginVerifyOTP":
			if u.Attributes[attrTOTPSecret] != "" {
				c.pol.TOTPPending = ""
				return journey.Bag{}, c.store()
			}
			k, err := totp.ParseSecret(in("secretKey"))
			if err != nil {
				return nil, &journey.UserError{Code: "AADB2C90151", Message: msgTOTPInvalid}
			}
			if c.pol.TOTPPending, err = totp.Seal(f.totpAEAD, k, u.ID); err != nil {
				return nil, err
			}
			return journey.Bag{}, c.store()
		default: // VerifyOTP
			field := ""
			for _, r := range jc.Profile.InputClaims {
				if r.Name() == "otpCode" {
					field = jc.Policy.ClaimID(r.ClaimType)
				}
			}
			if err := f.checkTOTP(ctx, c, u, in("otpCode"), field); err != nil {
				return nil, err
			}
			c.pol.MFA = true
			return journey.Bag{}, nil
		}
	})
}

// mfaAccount is the account an AzureMfa call is about: the journey's
// objectId, else its userPrincipalName (B2C's key for the MFA service).
func mfaAccount(ctx context.Context, dir *directory.Directory, jc *journey.Call) (*store.User, error) {
	if id := claimstx.FormatValue(jc.In["objectId"].Value); id != "" {
		return dir.Users.Get(ctx, id)
	}
	upn := claimstx.FormatValue(jc.In[jc.Policy.ClaimID("userPrincipalName")].Value)
	u, err := dir.Find(ctx, "userPrincipalName", upn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &journey.UserError{Code: "AADB2C99002", Message: "This user does not exist and profile 'AzureMfa' requires the user to have already been created."}
	}
	return u, err
}
