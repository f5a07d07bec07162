package userflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/secevent"
)

// Throttle messages. B2C's own (msgThrottled, msgTooManyAttempts) where
// it has one; AADB2C90229's sense for sign-ins.
const msgSignInThrottled = "We have received too many sign-in attempts from your network. Please wait a while, then try again."

// ---- familiar devices ----
//
// A browser becomes a familiar device of an account when it signs in to
// it: a cookie "x-ms-cpim-dev_{h}" (h: a keyed hash of the account, so
// the name reveals nothing) holding its expiry and an HMAC of the account
// and the expiry under the pages' key. Smart lockout counts failures from
// familiar devices apart from everyone else's (lock keys "signin:{email}"
// and "signin:{email}|familiar"), so a stranger who locks the account
// locks it for strangers only; a familiar device is also exempt from the
// per-address sign-in throttle (a shared address does not lock its owner
// out). A device cookie cannot be made without the key, and is bound to
// one account.

const deviceCookiePrefix = "x-ms-cpim-dev_"

func (f *Flows) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, f.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (f *Flows) deviceCookieName(email string) string {
	return deviceCookiePrefix + hex.EncodeToString(f.mac("device-name", email)[:8])
}

// familiar reports whether the request comes from a familiar device of
// the account email.
func (f *Flows) familiar(r *http.Request, email string) bool {
	return f.validMark(r, f.deviceCookieName(email), "device", email)
}

// rememberDevice makes the browser a familiar device of email.
func (f *Flows) rememberDevice(w http.ResponseWriter, email string) {
	f.setMark(w, f.deviceCookieName(email), f.limits.FamiliarDevices, "device", email)
}

// A mark is a cookie that says something of the browser for an account
// (a familiar device, a passed MFA) until it expires: "expiry.MAC(kind,
// account, expiry)", so it can be neither forged nor moved to another
// account nor extended.

func (f *Flows) validMark(r *http.Request, name, kind, account string) bool {
	c, err := r.Cookie(name)
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
	return err == nil && hmac.Equal(got, f.mac(kind, account, exp))
}

func (f *Flows) setMark(w http.ResponseWriter, name string, life time.Duration, kind, account string) {
	exp := strconv.FormatInt(f.now().Add(life).Unix(), 10)
	http.SetCookie(w, &http.Cookie{Name: name,
		Value: exp + "." + base64.RawURLEncoding.EncodeToString(f.mac(kind, account, exp)),
		Path:  f.cookiePath(), MaxAge: int(life / time.Second), HttpOnly: true, Secure: f.secure,
		SameSite: http.SameSiteLaxMode})
}

// ---- throttles ----

// idHash names an email address in a throttle key (the store never holds
// the address in a key).
func (f *Flows) idHash(kind, email string) string {
	return kind + ":" + base64.RawURLEncoding.EncodeToString(f.mac("throttle", kind, email)[:16])
}

// over counts one event for key and reports whether lim is exceeded, and
// how long until its window ends.
func (c *call) over(key string, lim tenant.Limit) (bool, time.Duration, error) {
	now := c.f.now()
	n, ends, err := c.f.st.Throttles().Hit(c.r.Context(), key, 1, now, lim.Window)
	if err != nil {
		return false, 0, err
	}
	return n > lim.N, ends.Sub(now), nil
}

// ---- security events ----

// ipAttr is the client address of the request, for events.
func (c *call) ipAttr() slog.Attr {
	return slog.String("ip", c.f.limits.ClientIP(c.r).String())
}

// emit records a security event with the client address, the flow and,
// when email is not empty, the account's hashed identifier.
func (c *call) emit(kind secevent.Kind, email string, attrs ...slog.Attr) {
	all := make([]slog.Attr, 0, len(attrs)+3)
	all = append(all, c.ipAttr(), slog.String("flow", c.flow.Name))
	if email != "" {
		all = append(all, slog.String("account", c.f.events.Hash(email)))
	}
	all = append(all, attrs...)
	c.f.events.Emit(c.r.Context(), kind, all...)
	c.count(kind)
}

// count turns a security event into the identity metrics: a failed
// password sign-in and its reason, a wrong or throttled code.
func (c *call) count(kind secevent.Kind) {
	m := c.f.metrics
	if m == nil {
		return
	}
	reason := ""
	switch kind {
	case secevent.SignInFailed:
		reason = idmetrics.ReasonWrongPassword
	case secevent.SignInLocked:
		reason = idmetrics.ReasonLocked
	case secevent.SignInThrottled:
		reason = idmetrics.ReasonThrottled
	case secevent.CodeFailed:
		m.Failed(idmetrics.ReasonWrongCode)
		return
	case secevent.CodeThrottled, secevent.CodeGuessThrottled:
		m.Failed(idmetrics.ReasonThrottled)
		return
	default:
		return
	}
	m.SignIn(c.flow.Name, idmetrics.Failure)
	m.Failed(reason)
}
