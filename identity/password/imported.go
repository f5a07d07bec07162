package password

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Imported password hashes: what other systems stored, kept as a PHC-like
// string in User.PasswordHash, verified at sign-in and then replaced by
// argon2id (Verify's needsRehash). Each format's cost is bounded, so a
// crafted hash cannot make a sign-in expensive.
//
//	$2a$/$2b$/$2y$…                          bcrypt (cost 4–14)
//	$pbkdf2-sha1|sha256|sha512$i=N$salt$key  PBKDF2 (N ≤ 1,000,000; standard base64)
//	$scrypt$ln=L,r=R,p=P$salt$key             scrypt (N = 2^L ≤ 2^20, r·p ≤ 64)
//	$salted-sha1|sha256|sha512$before|after$salt$hash
//	                                          one salted SHA digest (legacy systems)
const (
	maxBcryptCost = 14
	maxPBKDF2     = 1_000_000
	maxScryptLog  = 20
)

// ErrUnsupportedHash: an imported hash in no format Gatehouse reads.
var ErrUnsupportedHash = errors.New("password: unsupported or malformed imported hash")

// Import converts a hash exported from another system into the stored
// form. algorithm is bcrypt, argon2id, scrypt, pbkdf2-sha1, pbkdf2-sha256,
// pbkdf2-sha512, aspnet-identity-v2, aspnet-identity-v3,
// salted-sha1|sha256|sha512; value is the hash in that system's usual
// encoding (modular crypt / PHC strings, passlib's $pbkdf2-sha256$,
// Django's pbkdf2_sha256$, ASP.NET Identity's base64 blobs, hex or base64
// digests). salt (base64) and saltOrder are for the salted SHA digests.
func Import(algorithm, value, salt, saltOrder string) (string, error) {
	value = strings.TrimSpace(value)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s: %s", ErrUnsupportedHash, algorithm, why)
	}
	switch strings.ToLower(algorithm) {
	case "bcrypt":
		cost, err := bcrypt.Cost([]byte(value))
		if err != nil {
			return bad("not a bcrypt hash ($2a$, $2b$ or $2y$)")
		}
		if cost > maxBcryptCost {
			return bad(fmt.Sprintf("cost %d is above %d", cost, maxBcryptCost))
		}
		return value, nil
	case "argon2id":
		if _, _, _, err := Decode(value); err != nil {
			return bad("not a PHC argon2id string ($argon2id$v=19$m=…,t=…,p=…$salt$hash) within the accepted parameters")
		}
		return value, nil
	case "scrypt":
		if _, err := parseScrypt(value); err != nil {
			return bad(err.Error())
		}
		return value, nil
	case "pbkdf2-sha1", "pbkdf2-sha256", "pbkdf2-sha512":
		return importPBKDF2(strings.TrimPrefix(strings.ToLower(algorithm), "pbkdf2-"), value)
	case "aspnet-identity-v2", "aspnet-identity-v3":
		return importASPNet(value)
	case "salted-sha1", "salted-sha256", "salted-sha512":
		digest := strings.TrimPrefix(strings.ToLower(algorithm), "salted-")
		if parts := strings.Split(value, "$"); len(parts) == 5 && parts[1] == "salted-"+digest {
			// The stored form, as `users export` writes it.
			sum, err1 := base64.RawStdEncoding.DecodeString(parts[4])
			_, err2 := base64.RawStdEncoding.DecodeString(parts[3])
			if err1 != nil || err2 != nil || len(sum) != digestLen(digest) || parts[2] != "before" && parts[2] != "after" {
				return bad("a malformed $salted- hash")
			}
			return value, nil
		}
		order := strings.ToLower(saltOrder)
		if order == "" {
			order = "after" // password then salt, the common case
		}
		if order != "before" && order != "after" {
			return bad("saltOrder is before or after (the salt before or after the password)")
		}
		sum, err := decodeBytes(value)
		if err != nil || len(sum) != digestLen(digest) {
			return bad("the digest is not hex or base64 of the right length")
		}
		s, err := base64.StdEncoding.DecodeString(salt)
		if err != nil {
			return bad("the salt is standard base64 (of the salt's bytes)")
		}
		return fmt.Sprintf("$salted-%s$%s$%s$%s", digest, order, b64(s), b64(sum)), nil
	}
	return bad("unknown algorithm (bcrypt, argon2id, scrypt, pbkdf2-sha1, pbkdf2-sha256, pbkdf2-sha512, aspnet-identity-v2, aspnet-identity-v3, salted-sha1, salted-sha256, salted-sha512)")
}

var b64 = base64.RawStdEncoding.EncodeToString

// decodeBytes reads hex, standard or URL base64 (padded or not), or
// passlib's adapted base64 ('.' for '+').
func decodeBytes(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(s)%2 == 0 {
		return b, nil
	}
	s = strings.TrimRight(strings.ReplaceAll(s, ".", "+"), "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func digestLen(name string) int {
	switch name {
	case "sha1":
		return sha1.Size
	case "sha256":
		return sha256.Size
	case "sha512":
		return sha512.Size
	}
	return -1
}

func newDigest(name string) func() hash.Hash {
	switch name {
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return nil
}

// importPBKDF2 reads passlib's $pbkdf2-sha256$29000$salt$key, Django's
// pbkdf2_sha256$260000$salt$key and the stored form itself.
func importPBKDF2(digest, v string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: pbkdf2-%s: %s", ErrUnsupportedHash, digest, why)
	}
	var iter, saltText, keyText string
	saltRaw := false
	switch {
	case strings.HasPrefix(v, "pbkdf2_"+digest+"$"): // Django: the salt is text
		parts := strings.Split(v, "$")
		if len(parts) != 4 {
			return bad("Django's form is pbkdf2_" + digest + "$iterations$salt$hash")
		}
		iter, saltText, keyText, saltRaw = parts[1], parts[2], parts[3], true
	case strings.HasPrefix(v, "$pbkdf2-"+digest+"$") || digest == "sha1" && strings.HasPrefix(v, "$pbkdf2$"):
		parts := strings.Split(v, "$")
		if len(parts) != 5 {
			return bad("the form is $pbkdf2-" + digest + "$iterations$salt$hash")
		}
		iter, saltText, keyText = strings.TrimPrefix(parts[2], "i="), parts[3], parts[4]
	default:
		return bad("passlib's $pbkdf2-" + digest + "$… or Django's pbkdf2_" + digest + "$… is expected")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > maxPBKDF2 {
		return bad(fmt.Sprintf("iterations %q are not between 1 and %d", iter, maxPBKDF2))
	}
	salt := []byte(saltText)
	if !saltRaw {
		if salt, err = decodeBytes(saltText); err != nil {
			return bad("the salt is not base64")
		}
	}
	key, err := decodeBytes(keyText)
	if err != nil || len(key) < 16 || len(key) > 128 {
		return bad("the derived key is not base64 of 16 to 128 bytes")
	}
	return fmt.Sprintf("$pbkdf2-%s$i=%d$%s$%s", digest, n, b64(salt), b64(key)), nil
}

// importASPNet reads ASP.NET Identity's base64 blobs: v2 (0x00, PBKDF2-
// HMAC-SHA1, 1,000 iterations, 16-byte salt, 32-byte key) and v3 (0x01,
// the PRF, iterations and salt length big-endian, then salt and key).
func importASPNet(v string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: aspnet-identity: %s", ErrUnsupportedHash, why)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) < 1 {
		return bad("not base64")
	}
	switch b[0] {
	case 0x00:
		if len(b) != 1+16+32 {
			return bad("a v2 hash is 49 bytes")
		}
		return fmt.Sprintf("$pbkdf2-sha1$i=1000$%s$%s", b64(b[1:17]), b64(b[17:])), nil
	case 0x01:
		if len(b) < 13 {
			return bad("a v3 hash is too short")
		}
		prf, iter, saltLen := binary.BigEndian.Uint32(b[1:5]), binary.BigEndian.Uint32(b[5:9]), binary.BigEndian.Uint32(b[9:13])
		digest := map[uint32]string{0: "sha1", 1: "sha256", 2: "sha512"}[prf]
		if digest == "" || iter < 1 || iter > maxPBKDF2 || saltLen < 8 || int(saltLen) > len(b)-13-16 {
			return bad("v3 header (PRF, iterations, salt length) out of range")
		}
		salt, key := b[13:13+saltLen], b[13+saltLen:]
		return fmt.Sprintf("$pbkdf2-%s$i=%d$%s$%s", digest, iter, b64(salt), b64(key)), nil
	}
	return bad("the format marker is neither 0x00 (v2) nor 0x01 (v3)")
}

type scryptParams struct {
	logN, r, p int
	salt, key  []byte
}

func parseScrypt(v string) (scryptParams, error) {
	var s scryptParams
	parts := strings.Split(v, "$")
	if len(parts) != 5 || parts[1] != "scrypt" {
		return s, errors.New("the form is $scrypt$ln=15,r=8,p=1$salt$hash")
	}
	for _, kv := range strings.Split(parts[2], ",") {
		k, val, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(val)
		if err != nil {
			return s, errors.New("scrypt parameters are ln, r and p")
		}
		switch k {
		case "ln":
			s.logN = n
		case "r":
			s.r = n
		case "p":
			s.p = n
		default:
			return s, errors.New("scrypt parameters are ln, r and p")
		}
	}
	if s.logN < 1 || s.logN > maxScryptLog || s.r < 1 || s.p < 1 || s.r*s.p > 64 {
		return s, fmt.Errorf("scrypt parameters out of range (ln 1–%d, r·p ≤ 64)", maxScryptLog)
	}
	var err error
	if s.salt, err = decodeBytes(parts[3]); err != nil {
		return s, errors.New("the salt is not base64")
	}
	if s.key, err = decodeBytes(parts[4]); err != nil || len(s.key) < 16 || len(s.key) > 128 {
		return s, errors.New("the key is not base64 of 16 to 128 bytes")
	}
	return s, nil
}

// imported reports whether encoded is an imported (non-argon2id) hash.
func imported(encoded string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$", "$pbkdf2-", "$scrypt$", "$salted-"} {
		if strings.HasPrefix(encoded, p) {
			return true
		}
	}
	return false
}

// verifyImported checks password against an imported hash (in the
// hasher's concurrency bound, as argon2id's).
func (h *Hasher) verifyImported(ctx context.Context, encoded, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	pw := []byte(password)
	switch {
	case strings.HasPrefix(encoded, "$2"):
		if c, err := bcrypt.Cost([]byte(encoded)); err != nil || c > maxBcryptCost {
			return false, ErrMalformed
		}
		return bcrypt.CompareHashAndPassword([]byte(encoded), pw) == nil, nil
	case strings.HasPrefix(encoded, "$scrypt$"):
		s, err := parseScrypt(encoded)
		if err != nil {
			return false, ErrMalformed
		}
		got, err := scrypt.Key(pw, s.salt, 1<<s.logN, s.r, s.p, len(s.key))
		if err != nil {
			return false, ErrMalformed
		}
		return subtle.ConstantTimeCompare(got, s.key) == 1, nil
	case strings.HasPrefix(encoded, "$pbkdf2-"):
		parts := strings.Split(encoded, "$")
		if len(parts) != 5 {
			return false, ErrMalformed
		}
		newHash := newDigest(strings.TrimPrefix(parts[1], "pbkdf2-"))
		n, err := strconv.Atoi(strings.TrimPrefix(parts[2], "i="))
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[3])
		key, err2 := base64.RawStdEncoding.DecodeString(parts[4])
		if newHash == nil || err != nil || n < 1 || n > maxPBKDF2 || err1 != nil || err2 != nil || len(key) == 0 {
			return false, ErrMalformed
		}
		got, err := pbkdf2.Key(newHash, password, salt, n, len(key))
		if err != nil {
			return false, ErrMalformed
		}
		return subtle.ConstantTimeCompare(got, key) == 1, nil
	case strings.HasPrefix(encoded, "$salted-"):
		parts := strings.Split(encoded, "$")
		if len(parts) != 5 {
			return false, ErrMalformed
		}
		newHash := newDigest(strings.TrimPrefix(parts[1], "salted-"))
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[3])
		sum, err2 := base64.RawStdEncoding.DecodeString(parts[4])
		if newHash == nil || err1 != nil || err2 != nil {
			return false, ErrMalformed
		}
		d := newHash()
		if parts[2] == "before" {
			d.Write(salt)
			d.Write(pw)
		} else {
			d.Write(pw)
			d.Write(salt)
		}
		return subtle.ConstantTimeCompare(d.Sum(nil), sum) == 1, nil
	}
	return false, ErrMalformed
}
