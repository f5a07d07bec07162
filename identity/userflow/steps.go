package userflow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// B2C's texts.
const (
	msgInvalidCredentials = "Invalid username or password."
	msgAccountDisabled    = "Your account has been locked. Contact your support person to unlock it, then try again." // B2C's UserMessageIfUserAccountDisabled
	msgEmailRequired      = "Please enter your Email Address"
	msgPasswordRequired   = "Please enter your password"
	msgInvalidEmail       = "Please enter a valid email address."
	msgRequired           = "This information is required."
	msgTooLong            = "This value is too long."
	msgMismatch           = "The password entry fields do not match. Please enter the same password in both fields and try again."
	msgUserExists         = "A user with the specified ID already exists. Please choose a different one."
	msgNoAccount          = "An account could not be found for the provided user ID."
	msgCodeSent           = "Verification code has been sent to your inbox. Please copy it to the input box below."
	msgVerified           = "E-mail address verified. You can now continue."
	msgCodeWrong          = "The verification code you have entered does not match our records. Please try again, or request a new code."
	msgCodeExpired        = "That code is expired. Please request a new code."
	msgTooManyAttempts    = "You've made too many incorrect attempts. Please try again later."
	msgThrottled          = "There have been too many requests to verify this email address. Please wait a while, then try again."
	msgVerifyFirst        = "Please verify your email address before continuing."
	msgSendFailed         = "We could not send the verification code. Please try again later."
	msgCodeRequired       = "Please enter the verification code."
)

type call struct {
	f    *Flows
	w    http.ResponseWriter
	r    *http.Request
	tx   *tenant.Transaction
	flow *tenant.Flow
	// st is the email verification in progress; it points into pol, the
	// journey's state.
	st  *state
	pol *policyState
	// sso: the browser's SSO session the journey runs with.
	sso *tenant.Result
	// lang is the page language; pf the policy.
	lang locale.Lang
	pf   *policyFlow
	// recentFailures are the failed sign-ins to the account before this
	// request's password check.
	recentFailures int
	// byCall: the user asked for the phone code by a voice call.
	byCall bool
}

// store saves the transaction's progress: the journey and the email
// verification beside it.
func (c *call) store() error { return c.f.savePolicyState(c.r.Context(), c.tx, c.pol) }

// denial is why a check refused: B2C's message, the field it is about
// ("" = the page), and for throttles the status and Retry-After.
type denial struct {
	msg, field string
	status     int
	retryAfter time.Duration
	// locked: smart lockout; noAccount: the address has no account (the
	// message says nothing of it; a custom policy's journey may);
	// disabled: the right password of a disabled account.
	locked, noAccount, disabled bool
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validEmail(s string) bool {
	if s == "" || len(s) > 256 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

func lockKey(email string) string { return "signin:" + email }

// familiarLockKey counts the failures from the account's familiar devices.
func familiarLockKey(email string) string { return lockKey(email) + "|familiar" }

// checkPassword checks an email address and password: the per-address
// throttle, smart lockout and the hash, in that order (see signIn). On
// success the browser becomes a familiar device of the account and an
// outdated hash is upgraded; a refusal is a denial with B2C's message.
// The hosted user flows and custom policies' login-NonInteractive both
// sign in here.
func (c *call) checkPassword(email, pw string) (*store.User, *denial, error) {
	ctx := c.r.Context()
	familiar := c.f.familiar(c.r, email)
	source := slog.String("source", "unfamiliar")
	key := lockKey(email)
	if familiar {
		source, key = slog.String("source", "familiar"), familiarLockKey(email)
	}
	now := c.f.now()
	ipKey := ""
	if !familiar {
		ipKey = "signin-fail:ip:" + tenant.ThrottleKey(c.f.limits.ClientIP(c.r))
		over, wait, err := c.over(ipKey, c.f.limits.SignInFailuresPerIP)
		if err != nil {
			return nil, nil, err
		}
		if over {
			c.emit(secevent.SignInThrottled, email, source)
			return nil, &denial{msg: msgSignInThrottled, status: http.StatusTooManyRequests, retryAfter: wait}, nil
		}
	}
	// refund returns the address's slot: the attempt tested no password
	// (locked, repeated) or it succeeded.
	refund := func() {
		if ipKey != "" {
			if err := c.f.st.Throttles().Refund(context.WithoutCancel(ctx), ipKey, 1, now); err != nil {
				c.f.log.WarnContext(ctx, "userflow: refunding the sign-in throttle", "err", err)
			}
		}
	}
	u, err := c.f.st.Users().GetByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		refund()
		return nil, nil, err
	}
	binding := ""
	if u != nil {
		binding = u.PasswordHash
	}
	// The failures before this attempt (a success resets them): a
	// conditional MFA flow asks for a second factor after many.
	if l, err := c.f.st.Lockouts().Get(ctx, key); err == nil {
		c.recentFailures = l.Failures
	}
	att, out, err := c.f.lock.Begin(ctx, key, pw, binding)
	if err != nil {
		refund()
		return nil, nil, err
	}
	switch out {
	case password.Locked, password.Busy:
		refund()
		c.emit(secevent.SignInLocked, email, source)
		return nil, &denial{msg: password.LockedMessage, locked: true}, nil
	case password.Repeated:
		refund()
		c.emit(secevent.SignInFailed, email, source, slog.String("reason", "repeated"))
		return nil, &denial{msg: msgInvalidCredentials}, nil
	}
	ok, rehash := false, false
	if u != nil && u.PasswordHash == "" && c.f.conn != nil && tenant.ConnectorName(c.flow, tenant.StepPasswordMigration) != "" {
		// Seamless migration: the old system checks the password of an
		// account moved without its hash; a right one is stored here.
		ok, err = c.legacyPassword(email, pw)
		if err != nil {
			if cerr := att.Cancel(ctx); cerr != nil {
				c.f.log.WarnContext(ctx, "userflow: releasing a sign-in attempt", "err", cerr)
			}
			refund()
			return nil, nil, err
		}
		rehash = ok
	} else if u != nil && u.PasswordHash != "" {
		ok, rehash, err = c.f.hasher.Verify(ctx, u.PasswordHash, pw)
		if err != nil && !errors.Is(err, password.ErrMalformed) {
			if cerr := att.Cancel(ctx); cerr != nil {
				c.f.log.WarnContext(ctx, "userflow: releasing a sign-in attempt", "err", cerr)
			}
			refund()
			return nil, nil, err
		}
	} else {
		c.f.hasher.Dummy(ctx, pw)
	}
	if !ok {
		locked, err := att.Fail(ctx)
		if err != nil {
			return nil, nil, err
		}
		c.emit(secevent.SignInFailed, email, source)
		if locked {
			if !att.LockedUntil.IsZero() {
				c.emit(secevent.AccountLocked, email, source, slog.Time("until", att.LockedUntil))
			}
			return nil, &denial{msg: password.LockedMessage, locked: true}, nil
		}
		return nil, &denial{msg: msgInvalidCredentials, noAccount: u == nil}, nil
	}
	if u.Attributes["accountEnabled"] == "false" {
		// Disabled by an administrator (Graph accountEnabled): told only
		// to whoever knows the password, as Entra ID does.
		if err := att.Cancel(ctx); err != nil {
			return nil, nil, err
		}
		refund()
		c.emit(secevent.SignInFailed, email, source, slog.String("reason", "disabled"))
		return nil, &denial{msg: msgAccountDisabled, disabled: true}, nil
	}
	if granted, err := att.Succeed(ctx); err != nil {
		return nil, nil, err
	} else if !granted {
		// Locked while the password was being verified.
		c.emit(secevent.SignInLocked, email, source)
		return nil, &denial{msg: password.LockedMessage, locked: true}, nil
	}
	refund()
	c.f.rememberDevice(c.w, email)
	c.f.metrics.SignIn(c.flow.Name, idmetrics.Success)
	if rehash {
		if h, err := c.f.hasher.Hash(ctx, pw); err == nil {
			u.PasswordHash, u.UpdatedAt = h, c.f.now()
			if err := c.f.st.Users().Update(ctx, u); err != nil {
				c.f.log.WarnContext(ctx, "userflow: storing upgraded password hash", "err", err)
			}
		}
	}
	return u, nil, nil
}

func userClaims(u *store.User) map[string]any {
	m := map[string]any{"objectId": u.ID, "email": u.Email}
	if u.DisplayName != "" {
		m["displayName"] = u.DisplayName
	}
	if u.GivenName != "" {
		m["givenName"] = u.GivenName
	}
	if u.Surname != "" {
		m["surname"] = u.Surname
	}
	for k, v := range u.Attributes {
		if v != "" {
			m[k] = v
		}
	}
	if len(u.Identities) > 0 {
		m["identities"] = u.Identities
	}
	return m
}

func (c *call) codeHash(id, code string) string {
	m := hmac.New(sha256.New, c.f.key)
	m.Write([]byte("otp\x00" + id + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueCode makes a new code for an address (an email address or a
// phone number) and has deliver send it, within the limits: per transaction, then codes requested from the client address,
// then codes sent to the email address (in that order, so a flooding
// client spends its own allowance first).
func (c *call) issueCode(email string, deliver func(ctx context.Context, code string) error) (*denial, error) {
	ctx := c.r.Context()
	if c.st.CodesSent >= maxCodes {
		c.emit(secevent.CodeThrottled, email, slog.String("by", "transaction"))
		return &denial{msg: msgThrottled}, nil
	}
	if d, err := c.limitSends("code-send:email", email); d != nil || err != nil {
		return d, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return nil, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	if c.st.VerificationID != "" {
		_ = c.f.st.Verifications().Delete(ctx, c.st.VerificationID)
	}
	id := randomID()
	if err := c.f.st.Verifications().Put(ctx, &store.Verification{ID: id, Email: email, CodeHash: c.codeHash(id, code),
		ExpiresAt: c.f.now().Add(codeTTL)}); err != nil {
		return nil, err
	}
	c.st.Email, c.st.VerificationID, c.st.EmailVerified = email, id, false
	c.st.CodesSent++
	if err := c.store(); err != nil {
		return nil, err
	}
	if err := deliver(ctx, code); err != nil {
		c.f.log.ErrorContext(ctx, "userflow: sending verification code", "err", err)
		return &denial{msg: msgSendFailed}, nil
	}
	c.f.log.InfoContext(ctx, "userflow: verification code sent", "tx", c.tx.ID)
	c.emit(secevent.CodeSent, email)
	return nil, nil
}

// checkCode checks the code of the transaction's pending verification
// (guesses limited per code, per client address and per email address);
// on success the address is verified.
func (c *call) checkCode(code string) (*denial, error) {
	ctx := c.r.Context()
	code = strings.TrimSpace(code)
	if c.st.VerificationID == "" {
		return &denial{msg: msgCodeExpired}, nil
	}
	if code == "" {
		return &denial{msg: msgCodeRequired, field: "email_ver_input"}, nil
	}
	if d, err := c.limitGuesses("code-guess:email", c.st.Email, "email_ver_input"); d != nil || err != nil {
		return d, err
	}
	vs := c.f.st.Verifications()
	rec, err := vs.Attempt(ctx, c.st.VerificationID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rec.ExpiresAt.After(c.f.now())) {
		return &denial{msg: msgCodeExpired, field: "email_ver_input"}, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Attempts > maxCodeAttempts {
		_ = vs.Delete(ctx, rec.ID)
		c.emit(secevent.CodeGuessThrottled, c.st.Email, slog.String("by", "code"))
		return &denial{msg: msgTooManyAttempts, field: "email_ver_input"}, nil
	}
	if rec.Email != c.st.Email || !hmac.Equal([]byte(rec.CodeHash), []byte(c.codeHash(rec.ID, code))) {
		c.emit(secevent.CodeFailed, c.st.Email, slog.Int("attempt", rec.Attempts))
		return &denial{msg: msgCodeWrong, field: "email_ver_input"}, nil
	}
	_ = vs.Delete(ctx, rec.ID)
	c.st.VerificationID, c.st.EmailVerified = "", true
	return nil, c.store()
}

// limitSends counts one code sent to subject (an email address, an
// identifier of the OneTimePassword provider) against the client
// address's and the subject's sending limits; scope keeps subjects of
// different kinds apart.
func (c *call) limitSends(scope, subject string) (*denial, error) {
	return c.limit(secevent.CodeThrottled, subject, msgThrottled, "",
		"code-send:ip:"+tenant.ThrottleKey(c.f.limits.ClientIP(c.r)), c.f.limits.CodesPerIP,
		c.f.idHash(scope, subject), c.f.limits.CodesPerEmail)
}

// limitGuesses counts one code guessed for subject (an email address, an
// identifier, an account's authenticator app) against the client
// address's and the subject's guessing limits; a denial is shown on field.
func (c *call) limitGuesses(scope, subject, field string) (*denial, error) {
	return c.limit(secevent.CodeGuessThrottled, subject, msgTooManyAttempts, field,
		"code-guess:ip:"+tenant.ThrottleKey(c.f.limits.ClientIP(c.r)), c.f.limits.CodeGuessesPerIP,
		c.f.idHash(scope, subject), c.f.limits.CodeGuessesPerEmail)
}

// limit counts one event on the address limit, then (if that one allows
// it) on the email limit; over either it emits kind and returns a denial
// with msg (on field, or page-level), 429 and Retry-After.
func (c *call) limit(kind secevent.Kind, email string, msg, field string,
	ipKey string, ipLim tenant.Limit, emailKey string, emailLim tenant.Limit) (*denial, error) {
	by := "ip"
	over, wait, err := c.over(ipKey, ipLim)
	if err == nil && !over {
		by = "email"
		over, wait, err = c.over(emailKey, emailLim)
	}
	if err != nil || !over {
		return nil, err
	}
	c.emit(kind, email, slog.String("by", by))
	return &denial{msg: msg, field: field, status: http.StatusTooManyRequests, retryAfter: wait}, nil
}
