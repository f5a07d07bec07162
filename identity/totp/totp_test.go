package totp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcKey is RFC 6238 Appendix B's SHA-1 seed.
var rfcKey = Key{Secret: []byte("12345678901234567890")}

// refHOTP is an independent RFC 4226 §5.3 HOTP (6 digits, SHA-1), so the
// tests do not check the library against itself.
func refHOTP(secret []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

func TestRFC6238Vectors(t *testing.T) {
	// Appendix B, SHA-1 column: 8-digit values; a 6-digit code is the last six.
	for _, v := range []struct {
		unix  int64
		code8 string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		code := v.code8[2:]
		if got := refHOTP(rfcKey.Secret, v.unix/Period); got != code {
			t.Fatalf("reference HOTP at %d = %s, want %s", v.unix, got, code)
		}
		step, ok := Verify(rfcKey, code, time.Unix(v.unix, 0), 0)
		if !ok || step != v.unix/Period {
			t.Errorf("Verify(%s at %d) = %d, %v; want %d, true", code, v.unix, step, ok, v.unix/Period)
		}
		// Spaces as the apps display them are accepted.
		if _, ok := Verify(rfcKey, " "+code[:3]+" "+code[3:]+" ", time.Unix(v.unix, 0), 0); !ok {
			t.Errorf("Verify with spaces refused %s", code)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := now.Unix() / Period
	for d := int64(-3); d <= 3; d++ {
		code := refHOTP(rfcKey.Secret, cur+d)
		step, ok := Verify(rfcKey, code, now, 0)
		want := d >= -Skew && d <= Skew
		if ok != want {
			t.Errorf("step offset %+d: ok = %v, want %v", d, ok, want)
		}
		if ok && step != cur+d {
			t.Errorf("step offset %+d: step = %d, want %d", d, step, cur+d)
		}
	}
}

func TestReplay(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := now.Unix() / Period
	code := refHOTP(rfcKey.Secret, cur)
	last, ok := Verify(rfcKey, code, now, 0)
	if !ok || last != cur {
		t.Fatalf("first use: %d, %v", last, ok)
	}
	if _, ok := Verify(rfcKey, code, now, last); ok {
		t.Error("the same code (same step) was accepted twice")
	}
	if _, ok := Verify(rfcKey, code, now.Add(Period*time.Second), last); ok {
		t.Error("the same code was accepted again in the next step")
	}
	if _, ok := Verify(rfcKey, refHOTP(rfcKey.Secret, cur-1), now, last); ok {
		t.Error("an earlier step's code was accepted after a later one")
	}
	next, ok := Verify(rfcKey, refHOTP(rfcKey.Secret, cur+1), now, last)
	if !ok || next != cur+1 {
		t.Errorf("the next step's code: %d, %v; want %d, true", next, ok, cur+1)
	}
}

func TestMalformed(t *testing.T) {
	now := time.Unix(59, 0) // code 287082
	for _, c := range []string{
		"", "      ", "28708", "2870822", "28708a", "abcdef", "287O82",
		"+287082", "-287082", "287082\n", "\t287082", "287-082",
		"２８７０８２", // fullwidth digits
		"287082" + strings.Repeat(" ", 100),
	} {
		if _, ok := Verify(rfcKey, c, now, 0); ok {
			t.Errorf("Verify accepted %q", c)
		}
	}
	if _, ok := Verify(rfcKey, "287082", now, 0); !ok {
		t.Fatal("control code refused")
	}
	// A secret under 128 bits is never accepted (RFC 4226 R6).
	short := Key{Secret: rfcKey.Secret[:15]}
	if _, ok := Verify(short, refHOTP(short.Secret, 1), now, 0); ok {
		t.Error("a 15-byte secret was accepted")
	}
}

func TestNewKey(t *testing.T) {
	a, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKey()
	if len(a.Secret) != SecretSize || bytes.Equal(a.Secret, b.Secret) {
		t.Fatalf("NewKey: %x, %x", a.Secret, b.Secret)
	}
}

func TestSecretText(t *testing.T) {
	// "12345678901234567890" in base32.
	want := "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
	if got := rfcKey.SecretText(); got != want {
		t.Errorf("SecretText = %q, want %q", got, want)
	}
}

func TestURI(t *testing.T) {
	raw := rfcKey.URI("Contoso B2C", "alice@example.com")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("scheme/host = %q/%q", u.Scheme, u.Host)
	}
	if u.Path != "/Contoso B2C:alice@example.com" {
		t.Errorf("label = %q", u.Path)
	}
	if strings.Contains(raw, "+") || !strings.Contains(raw, "Contoso%20B2C") {
		t.Errorf("spaces not %%20-encoded: %s", raw)
	}
	q := u.Query()
	for k, v := range map[string]string{
		"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "issuer": "Contoso B2C",
		"algorithm": "SHA1", "digits": "6", "period": "30",
	} {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != 5 {
		t.Errorf("query has %d parameters: %v", len(q), q)
	}

	// A ":" or "&" in a name cannot split the label or inject a parameter.
	u, err = url.Parse(rfcKey.URI("A:B&secret=X", "c:d?e#f"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/A:B&secret=X:c:d?e#f" || strings.Count(u.EscapedPath(), ":") != 1 {
		t.Errorf("label = %q (escaped %q)", u.Path, u.EscapedPath())
	}
	if q := u.Query(); q.Get("issuer") != "A:B&secret=X" || len(q["secret"]) != 1 || q.Get("secret") == "X" {
		t.Errorf("query = %v", q)
	}

	// No issuer: the label is the account alone, no issuer parameter.
	u, _ = url.Parse(rfcKey.URI("", "bob"))
	if u.Path != "/bob" || u.Query().Has("issuer") {
		t.Errorf("no issuer: %s", u)
	}
}

func TestQRCode(t *testing.T) {
	k, _ := NewKey()
	s, err := k.QRCode("Contoso B2C", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b64, found := strings.CutPrefix(s, "data:image/png;base64,")
	if !found {
		t.Fatalf("not a PNG data URI: %.40s", s)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != QRSize || b.Dy() != QRSize {
		t.Errorf("image is %v, want %dx%d", b, QRSize, QRSize)
	}
}

func masterKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealOpen(t *testing.T) {
	aead, err := NewAEAD(masterKey(1))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := NewKey()
	sealed, err := Seal(aead, k, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1.") || strings.ContainsAny(sealed[3:], "+/=") {
		t.Fatalf("sealed = %q, want v1. + base64url", sealed)
	}
	again, _ := Seal(aead, k, "user-1")
	if again == sealed {
		t.Error("two seals are equal: the nonce is not random")
	}
	got, err := Open(aead, sealed, "user-1")
	if err != nil || !bytes.Equal(got.Secret, k.Secret) {
		t.Fatalf("Open = %x, %v; want %x", got.Secret, err, k.Secret)
	}

	if _, err := Open(aead, sealed, "user-2"); err != ErrSealed {
		t.Errorf("another account's additional data: err = %v", err)
	}

	raw, _ := base64.RawURLEncoding.DecodeString(sealed[3:])
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		if _, err := Open(aead, "v1."+base64.RawURLEncoding.EncodeToString(bad), "user-1"); err != ErrSealed {
			t.Fatalf("byte %d tampered: err = %v", i, err)
		}
	}

	other, _ := NewAEAD(masterKey(2))
	if _, err := Open(other, sealed, "user-1"); err != ErrSealed {
		t.Errorf("wrong master key: err = %v", err)
	}

	for _, s := range []string{"", "v1.", "v2." + sealed[3:], sealed[3:], "v1.!!!!", "v1." + sealed[3:20]} {
		if _, err := Open(aead, s, "user-1"); err != ErrSealed {
			t.Errorf("Open(%q): err = %v", s, err)
		}
	}

	if _, err := Seal(aead, Key{Secret: make([]byte, 15)}, "user-1"); err != ErrShortSecret {
		t.Errorf("short secret: err = %v", err)
	}
	if _, err := NewAEAD(make([]byte, 16)); err != ErrMasterKey {
		t.Errorf("16-byte master key: err = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	for _, s := range []string{"287082", "287 082", "", "12345", "1234567", "abcdef", "２８７０８２", "\x00\xff"} {
		f.Add(s, int64(59), int64(0))
	}
	f.Fuzz(func(t *testing.T, code string, unix, last int64) {
		step, ok := Verify(rfcKey, code, time.Unix(unix, 0), last)
		if !ok {
			return
		}
		digits := strings.ReplaceAll(code, " ", "")
		if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("accepted malformed %q", code)
		}
		if step <= last || refHOTP(rfcKey.Secret, step) != digits {
			t.Fatalf("accepted %q at step %d (last %d)", code, step, last)
		}
	})
}
