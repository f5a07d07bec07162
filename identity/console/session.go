package console

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/aead"
)

// The console keeps no state of its own: a signed-in administrator is a
// sealed cookie (AES-GCM under a key derived from the tenant's master key,
// so every process of the tenant reads it), and the account is read from
// the directory on every request, so disabling it or taking its admin role
// away ends its console session at once.

const (
	sessionCookie = "gh_console"
	signInCookie  = "gh_console_signin" // the sign-in transaction
	signInTTL     = 10 * time.Minute
)

// session is a signed-in administrator.
type session struct {
	UserID  string    `json:"u"`
	Expires time.Time `json:"e"`
	// CSRF is the session's anti-forgery token: every form that changes
	// something carries it (and the cookie is SameSite=Strict besides).
	CSRF string `json:"c"`
}

// signIn is a sign-in in progress: the state, nonce and PKCE verifier
// the callback checks.
type signIn struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"` // the console page asked for
	Expires  time.Time `json:"e"`
}

// sealer seals and opens cookie values.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("console: the session key must be 32 bytes")
	}
	g, err := aead.New(key)
	if err != nil {
		return nil, err
	}
	return &sealer{g}, nil
}

// seal encrypts v; name is bound as associated data, so a value sealed
// for one cookie cannot be replayed as another.
func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

// open decrypts a cookie value into v.
func (s *sealer) open(name, value string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return false
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(name))
	return err == nil && json.Unmarshal(plain, v) == nil
}

// maxCookie bounds a cookie value read (a session is ~150 bytes).
const maxCookie = 2048

// readCookie opens the named cookie into v.
func (c *Console) readCookie(r *http.Request, name string, v any) bool {
	ck, err := r.Cookie(name)
	return err == nil && len(ck.Value) <= maxCookie && c.seal.open(name, ck.Value, v)
}

// setCookie writes a console cookie: HttpOnly, limited to the console's
// path, Secure on https. strict is SameSite=Strict (the session); the
// sign-in transaction is Lax, as it must come back with the redirect from
// the sign-in pages.
func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration, strict bool) {
	ss := http.SameSiteLaxMode
	if strict {
		ss = http.SameSiteStrictMode
	}
	age := int(maxAge / time.Second)
	if value == "" {
		age = -1
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: c.path + "/", MaxAge: age, HttpOnly: true,
		Secure: c.secure, SameSite: ss})
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sameToken compares tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
