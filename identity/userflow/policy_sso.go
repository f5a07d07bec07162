package userflow

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/tenant"
)

// SingleSignOn Scope.
//
// The SSO session is the tenant's (B2C's default Scope, Tenant). A relying
// party with Scope Application or Policy honours it only where that
// application or policy signed in with it: a completed journey leaves a
// marker cookie for its scope, bound (HMAC under the pages' key) to the
// account and the session's sign-in time, so a session started elsewhere
// does not carry it. Suppressed honours no session.

// scopeKey is the relying party's SSO scope for a transaction ("" for
// Tenant, which needs no marker).
func scopeKey(pf *policyFlow, tx *tenant.Transaction) string {
	switch pf.policy.RP.Behaviors.SSOScope {
	case "Application":
		return "app\x00" + tx.Request.ClientID
	case "Policy":
		return "policy\x00" + strings.ToLower(pf.policy.ID)
	}
	return ""
}

func (f *Flows) scopeCookie(key string) string {
	return "x-ms-cpim-sso-scope_" + hex.EncodeToString(f.mac("sso-scope-name", key)[:8])
}

func (f *Flows) scopeValue(key, userID string, authTime time.Time) string {
	return hex.EncodeToString(f.mac("sso-scope", key, userID, strconv.FormatInt(authTime.Unix(), 10)))
}

// inScope reports whether the browser's session may sign in this
// relying party's journey.
func (f *Flows) inScope(r *http.Request, pf *policyFlow, tx *tenant.Transaction, res *tenant.Result) bool {
	if pf.policy.RP.Behaviors.SSOScope == "Suppressed" {
		return false
	}
	key := scopeKey(pf, tx)
	if key == "" {
		return true
	}
	c, err := r.Cookie(f.scopeCookie(key))
	return err == nil && hmac.Equal([]byte(c.Value), []byte(f.scopeValue(key, res.User.ID, res.AuthTime)))
}

// markScope records that the relying party's scope signed in with the
// session.
func (f *Flows) markScope(w http.ResponseWriter, pf *policyFlow, tx *tenant.Transaction, userID string, authTime time.Time) {
	if key := scopeKey(pf, tx); key != "" {
		http.SetCookie(w, &http.Cookie{Name: f.scopeCookie(key), Value: f.scopeValue(key, userID, authTime),
			Path: f.cookiePath(), MaxAge: int(f.lifetime / time.Second), HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode})
	}
}
