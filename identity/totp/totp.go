// Package totp is Gatehouse's authenticator-app factor: time-based one-time
// passwords (RFC 6238) as Azure AD B2C issues them, and as Microsoft and
// Google Authenticator expect them: HMAC-SHA-1, 6 digits, 30-second steps.
//
// The HOTP arithmetic (RFC 4226 §5.3) is github.com/pquerna/otp's; this
// package adds what that library's Validate cannot express: it returns the
// time step a code matched so that a code is accepted only once (RFC 6238
// §5.2: "the verifier MUST NOT accept the second attempt of the OTP after
// the successful validation has been issued for the first OTP").
//
// Enrolment shows the secret three ways (otpauth URI, QR code, grouped
// base32 text); at rest the secret is sealed with AES-256-GCM bound to the
// account (Seal, Open, NewAEAD).
package totp

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/gatehouse/gatehouse/internal/aead"
)

// The parameters B2C and the authenticator apps agree on. They are fixed,
// not options: several apps ignore algorithm/digits/period in the URI and
// always use these, so any other choice would silently fail for some users.
const (
	// Period is the length of a time step (RFC 6238 X) in seconds.
	Period = 30
	// Digits is the length of a code.
	Digits = 6
	// SecretSize is the length of a new secret in bytes: 160 bits, the
	// HMAC-SHA-1 output size RFC 4226 §4 recommends.
	SecretSize = 20
	// MinSecretSize is the shortest secret Verify and Seal accept: RFC 4226
	// §4 R6 requires at least 128 bits.
	MinSecretSize = 16
	// Skew is how many steps either side of now Verify accepts (RFC 6238
	// §5.2 recommends at most one for network delay and clock drift).
	Skew = 1
	// QRSize is the width and height of QRCode's image in pixels: large
	// enough for a phone camera at arm's length on any screen.
	QRSize = 256
)

// hkdfLabel derives the secrets' AES-256-GCM key from the master key (one
// key per purpose, as keys/ and identity/keyring do).
const hkdfLabel = "gatehouse totp v1"

// sealPrefix starts every sealed secret: the format's version, so a later
// format can be told apart without trial decryption.
const sealPrefix = "v1."

// b32 is the secret's text form: RFC 4648 base32 without padding (20 bytes
// need none; apps reject or mishandle "=" in the URI).
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hotpOpts are the library's HOTP settings matching the constants above.
var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Errors of Seal and Open. Open returns ErrSealed for every failure
// (format, tampering, wrong account, wrong key) so callers cannot learn
// which check failed.
var (
	// ErrShortSecret: Seal refuses a secret under MinSecretSize, which
	// Verify would never accept.
	ErrShortSecret = errors.New("totp: the secret must be at least 16 bytes")
	// ErrSealed: Open could not authenticate and decrypt the string.
	ErrSealed = errors.New("totp: the sealed secret does not open")
	// ErrMasterKey: NewAEAD needs identity.masterKey's 32 bytes.
	ErrMasterKey = errors.New("totp: the master key must be 32 bytes")
)

// Key is one account's shared TOTP secret.
type Key struct {
	// Secret is the raw HMAC key (SecretSize random bytes for new keys).
	Secret []byte
}

// NewKey returns a Key with SecretSize bytes from crypto/rand.
func NewKey() (Key, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return Key{}, err
	}
	return Key{Secret: s}, nil
}

// base32 is the secret as the URI and the apps' manual entry spell it.
func (k Key) base32() string { return b32.EncodeToString(k.Secret) }

// SecretText is the base32 secret in groups of four ("ABCD EFGH ..."), for
// users who type it into the app instead of scanning: groups are easier to
// read and compare, and the apps ignore the spaces.
func (k Key) SecretText() string {
	s := k.base32()
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// escape percent-encodes s for the otpauth URI (label segment or query
// value) per RFC 3986: ":" must not appear unescaped in the label (it
// separates issuer from account), and spaces are "%20", not "+", which
// some apps would show literally.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// URI is the key-uri-format URI the apps import
// (otpauth://totp/Issuer:account?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30).
// The issuer is both in the label and the parameter, as the format
// recommends, so old and new apps group the entry under it. An empty
// issuer gives a label with the account only and no issuer parameter.
func (k Key) URI(issuer, account string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(escape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(k.base32())
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(issuer))
	}
	b.WriteString("&algorithm=SHA1&digits=6&period=30")
	return b.String()
}

// QRCode is URI(issuer, account) as a QRSize-pixel PNG QR code (medium
// error correction: readable off a screen, still a small symbol), returned
// as a "data:image/png;base64,..." URI: the enrolment page shows it inline
// under its CSP (img-src data:), and the secret never travels in a second,
// cacheable request.
func (k Key) QRCode(issuer, account string) (string, error) { return QRImage(k.URI(issuer, account)) }

// QRImage is content as a QRSize-pixel PNG QR code in a data URI (a custom
// policy's QrCodeControl draws its claim with it).
func QRImage(content string) (string, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, QRSize)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}

// ParseSecret reads a base32 secret as the apps and otpauth URIs write it
// (spaces, lower case and padding tolerated); at least 80 bits.
func ParseSecret(s string) (Key, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	b, err := b32.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return Key{}, fmt.Errorf("totp: the secret is not base32: %w", err)
	}
	if len(b) < 10 {
		return Key{}, errors.New("totp: the secret is shorter than 80 bits")
	}
	return Key{Secret: b}, nil
}

// normalize strips spaces (apps show "123 456") and returns the code if
// what is left is exactly Digits ASCII digits, else nil.
func normalize(code string) []byte {
	// Bound the work on hostile input before copying anything.
	if len(code) > 64 {
		return nil
	}
	out := make([]byte, 0, Digits)
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ':
		case c >= '0' && c <= '9' && len(out) < Digits:
			out = append(out, c)
		default:
			return nil
		}
	}
	if len(out) != Digits {
		return nil
	}
	return out
}

// Verify checks code against k at now. It accepts exactly six digits
// (spaces ignored) matching the time step of now or one step either side
// (RFC 6238 §5.2's window), compared in constant time. A step <= lastStep
// is refused: that code, or an older one, was already used, and RFC 6238
// §5.2 forbids accepting an OTP twice. On success it returns the matched
// step, which the caller must store as the account's new lastStep in the
// same atomic update that checks the old one (compare-and-set), or two
// concurrent requests could both pass. lastStep is 0 for an account that
// has never verified a code (step 0 is 1970).
func Verify(k Key, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	c := normalize(code)
	if c == nil || len(k.Secret) < MinSecretSize {
		return 0, false
	}
	t := now.Unix()
	cur := t / Period
	if t < 0 && t%Period != 0 {
		cur-- // floor, not truncation, before 1970
	}
	secret := k.base32()
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 || s <= lastStep {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotpOpts)
		if err != nil {
			return 0, false
		}
		// Every candidate is computed and compared: the time taken does
		// not depend on which one matches. The latest matching step wins
		// (only a 1-in-a-million collision makes two match) so lastStep
		// moves as far forward as the code allows.
		if subtle.ConstantTimeCompare([]byte(want), c) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// NewAEAD derives the AES-256-GCM cipher that seals TOTP secrets from the
// 32-byte master key (identity.masterKey), with HKDF-SHA256 and the label
// "gatehouse totp v1": a key of its own, so no other use of the master key
// can open (or forge) a sealed secret.
func NewAEAD(masterKey []byte) (cipher.AEAD, error) {
	if len(masterKey) != 32 {
		return nil, ErrMasterKey
	}
	return aead.Derived(masterKey, hkdfLabel)
}

// Seal encrypts k's secret for storage under account (the user's id):
// "v1." + base64url(nonce || ciphertext), with a random nonce and the
// account as additional data, so a secret copied into another account's
// row (by SQL injection or a restore mistake) does not open there.
func Seal(aead cipher.AEAD, k Key, account string) (string, error) {
	if len(k.Secret) < MinSecretSize {
		return "", ErrShortSecret
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(k.Secret)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, k.Secret, []byte(account))
	return sealPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open reverses Seal for the same account and key; anything else
// (another account, a changed byte, another master key, a malformed
// string) is ErrSealed.
func Open(aead cipher.AEAD, sealed, account string) (Key, error) {
	rest, found := strings.CutPrefix(sealed, sealPrefix)
	if !found {
		return Key{}, ErrSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return Key{}, ErrSealed
	}
	n := aead.NonceSize()
	secret, err := aead.Open(nil, raw[:n], raw[n:], []byte(account))
	if err != nil || len(secret) < MinSecretSize {
		return Key{}, ErrSealed
	}
	return Key{Secret: secret}, nil
}
