package userflow

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// otpState is one identifier's codes in a transaction (the
// OneTimePassword provider): the pending code's verification record, how
// many codes were made, and — for ReuseSameCode — the code sealed.
type otpState struct {
	VerificationID string    `json:"v"`
	Generated      int       `json:"n"`
	Sealed         string    `json:"s,omitempty"`
	Expires        time.Time `json:"e"`
}

// B2C's default texts of the one-time-password provider's errors.
const (
	msgOTPNoSession      = "The verification code has expired. Please request a new code."
	msgOTPMaxRetries     = "You've made too many incorrect attempts. Please try again later."
	msgOTPMaxGenerated   = "You've exceeded the maximum number of code generation attempts. Please try again later."
	msgOTPWrongRetryable = "That code is incorrect. Please try again."
)

// oneTimePassword is B2C's OneTimePasswordProtocolProvider: GenerateCode
// makes a code for an identifier (otpGenerated: the policy sends it, by a
// REST call of its own), VerifyCode checks otpToVerify. Codes are kept as
// keyed hashes in the store's verification records, so the attempts are
// counted atomically across processes; each code is good for
// CodeExpirationInSeconds and NumRetryAttempts guesses, an identifier gets
// NumCodeGenerationAttempts codes per sign-in, and the client address and
// the identifier have the email codes' limits on top.
func (f *Flows) oneTimePassword(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: OneTimePassword outside a page request")
	}
	md := jc.Profile.Metadata
	msg := func(key, def string) string { return cmp.Or(md[key], def) }
	num := func(key string, def, lo, hi int) int {
		if n, err := strconv.Atoi(md[key]); err == nil {
			return min(max(n, lo), hi)
		}
		return def
	}
	id := claimstx.FormatValue(jc.Inputs["identifier"].Value)
	if id == "" {
		return nil, &journey.UserError{Code: "AADB2C90080", Message: "The provided claim 'identifier' is missing a value for technical profile '" + jc.Profile.ID + "'."}
	}
	if c.pol.OTPs == nil {
		c.pol.OTPs = map[string]*otpState{}
	}
	key := f.idHash("otp", id)
	st := c.pol.OTPs[key]
	now := f.now()
	if md["Operation"] == "GenerateCode" {
		if st != nil && strings.EqualFold(md["ReuseSameCode"], "true") && st.Sealed != "" && now.Before(st.Expires) {
			code, err := f.openOTP(st.Sealed, key)
			if err != nil {
				return nil, err
			}
			return jc.ByName(map[string]claimstx.Claim{"otpGenerated": {DataType: claimstx.String, Value: code}}), nil
		}
		if st == nil {
			st = &otpState{}
			c.pol.OTPs[key] = st
		}
		if st.Generated >= num("NumCodeGenerationAttempts", 10, 1, 100) {
			c.emit(secevent.CodeThrottled, id)
			return nil, &journey.UserError{Code: "AADB2C90213", Message: msg("UserMessageIfMaxNumberOfCodeGenerated", msgOTPMaxGenerated)}
		}
		if d, err := c.limitSends("code-send:otp", id); d != nil || err != nil {
			return nil, denialErr(d, err)
		}
		code, err := otpCode(num("CodeLength", 6, 4, 10), md["CharacterSet"])
		if err != nil {
			return nil, err
		}
		ttl := time.Duration(num("CodeExpirationInSeconds", 1200, 60, 1200)) * time.Second
		if st.VerificationID != "" {
			_ = f.st.Verifications().Delete(ctx, st.VerificationID)
		}
		st.VerificationID, st.Expires = randomID(), now.Add(ttl)
		st.Generated++
		if err := f.st.Verifications().Put(ctx, &store.Verification{ID: st.VerificationID, Email: key,
			CodeHash: c.codeHash(st.VerificationID, code), ExpiresAt: st.Expires}); err != nil {
			return nil, err
		}
		st.Sealed = ""
		if strings.EqualFold(md["ReuseSameCode"], "true") {
			if st.Sealed, err = f.sealOTP(code, key); err != nil {
				return nil, err
			}
		}
		if err := c.store(); err != nil {
			return nil, err
		}
		c.emit(secevent.CodeSent, id)
		return jc.ByName(map[string]claimstx.Claim{"otpGenerated": {DataType: claimstx.String, Value: code}}), nil
	}
	// VerifyCode.
	field := ""
	for _, r := range jc.Profile.InputClaims {
		if r.Name() == "otpToVerify" {
			field = jc.Policy.ClaimID(r.ClaimType)
		}
	}
	if st == nil || st.VerificationID == "" {
		return nil, &journey.UserError{Code: "AADB2C90209", Message: msg("UserMessageIfSessionDoesNotExist", msgOTPNoSession), Field: field}
	}
	if d, err := c.limitGuesses("code-guess:otp", id, field); d != nil || err != nil {
		return nil, denialErr(d, err)
	}
	vs := f.st.Verifications()
	rec, err := vs.Attempt(ctx, st.VerificationID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !rec.ExpiresAt.After(now) {
		return nil, &journey.UserError{Code: "AADB2C90209", Message: msg("UserMessageIfSessionDoesNotExist", msgOTPNoSession), Field: field}
	}
	if err != nil {
		return nil, err
	}
	if rec.Attempts > num("NumRetryAttempts", 5, 1, 10) {
		_ = vs.Delete(ctx, rec.ID)
		c.emit(secevent.CodeGuessThrottled, id)
		return nil, &journey.UserError{Code: "AADB2C90211", Message: msg("UserMessageIfMaxRetryAttempted", msgOTPMaxRetries), Field: field}
	}
	code := claimstx.FormatValue(jc.Inputs["otpToVerify"].Value)
	if rec.Email != key || !hmac.Equal([]byte(rec.CodeHash), []byte(c.codeHash(rec.ID, strings.TrimSpace(code)))) {
		c.emit(secevent.CodeFailed, id)
		return nil, &journey.UserError{Code: "AADB2C90212", Message: msg("UserMessageIfVerificationFailedRetryAllowed", msg("UserMessageIfInvalidCode", msgOTPWrongRetryable)), Field: field}
	}
	_ = vs.Delete(ctx, rec.ID)
	delete(c.pol.OTPs, key)
	return journey.Bag{}, c.store()
}

// otpCode is a random code of n characters from B2C's CharacterSet
// ("0-9" by default; ranges and characters, comma-separated: "a-z,A-Z,0-9").
func otpCode(n int, set string) (string, error) {
	var alphabet []rune
	for _, part := range strings.Split(cmp.Or(set, "0-9"), ",") {
		r := []rune(strings.TrimSpace(part))
		switch {
		case len(r) == 3 && r[1] == '-' && r[0] <= r[2]:
			for c := r[0]; c <= r[2]; c++ {
				alphabet = append(alphabet, c)
			}
		case len(r) == 1:
			alphabet = append(alphabet, r[0])
		case len(r) > 0:
			return "", fmt.Errorf("userflow: CharacterSet %q: %q is not a range such as a-z", set, part)
		}
	}
	if len(alphabet) < 2 {
		return "", fmt.Errorf("userflow: CharacterSet %q has fewer than two characters", set)
	}
	out := make([]rune, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

// sealOTP keeps a ReuseSameCode code in the transaction encrypted (the
// authenticator-secret key, the identifier's hash as additional data).
func (f *Flows) sealOTP(code, key string) (string, error) {
	nonce := make([]byte, f.totpAEAD.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(f.totpAEAD.Seal(nonce, nonce, []byte(code), []byte("otp:"+key))), nil
}

func (f *Flows) openOTP(sealed, key string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < f.totpAEAD.NonceSize() {
		return "", errors.New("userflow: a sealed one-time password is damaged")
	}
	n := f.totpAEAD.NonceSize()
	code, err := f.totpAEAD.Open(nil, b[:n], b[n:], []byte("otp:"+key))
	if err != nil {
		return "", errors.New("userflow: a sealed one-time password is damaged")
	}
	return string(code), nil
}
