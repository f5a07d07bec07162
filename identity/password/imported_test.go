package password

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// TestImportedHashes: each format another system exports is read, verified
// (right and wrong password) and marked for rehashing to argon2id.
func TestImportedHashes(t *testing.T) {
	const pw = "Tr0ub4dor&3"
	ctx := context.Background()
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	salt := []byte("0123456789abcdef")
	bc, _ := bcrypt.GenerateFromPassword([]byte(pw), 4)
	k256, _ := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	k1, _ := pbkdf2.Key(sha1.New, pw, salt, 1000, 32)
	k512, _ := pbkdf2.Key(sha512.New, pw, salt, 2000, 64)
	sc, _ := scrypt.Key([]byte(pw), salt, 1<<10, 8, 1, 32)
	ab64 := func(b []byte) string { return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".") }
	v3 := make([]byte, 13)
	v3[0] = 1
	binary.BigEndian.PutUint32(v3[1:], 1) // HMAC-SHA256
	binary.BigEndian.PutUint32(v3[5:], 1000)
	binary.BigEndian.PutUint32(v3[9:], uint32(len(salt)))
	v3 = append(append(v3, salt...), k256...)
	v2 := append(append([]byte{0}, salt...), k1...)
	argon, _ := h.Hash(ctx, pw)
	sum := sha256.Sum256(append([]byte(pw), salt...))
	sumBefore := sha512.Sum512(append(append([]byte{}, salt...), pw...))
	for _, c := range []struct{ name, alg, value, salt, order string }{
		{"bcrypt", "bcrypt", string(bc), "", ""},
		{"argon2id", "argon2id", argon, "", ""},
		{"passlib pbkdf2-sha256", "pbkdf2-sha256", "$pbkdf2-sha256$1000$" + ab64(salt) + "$" + ab64(k256), "", ""},
		{"django pbkdf2_sha256", "pbkdf2-sha256", "pbkdf2_sha256$1000$" + string(salt) + "$" + base64.StdEncoding.EncodeToString(pbkdf2Django(pw, string(salt))), "", ""},
		{"passlib pbkdf2-sha512", "pbkdf2-sha512", "$pbkdf2-sha512$2000$" + ab64(salt) + "$" + ab64(k512), "", ""},
		{"pbkdf2-sha1", "pbkdf2-sha1", "$pbkdf2$1000$" + ab64(salt) + "$" + ab64(k1), "", ""},
		{"ASP.NET Identity v2", "aspnet-identity-v2", base64.StdEncoding.EncodeToString(v2), "", ""},
		{"ASP.NET Identity v3", "aspnet-identity-v3", base64.StdEncoding.EncodeToString(v3), "", ""},
		{"scrypt", "scrypt", fmt.Sprintf("$scrypt$ln=10,r=8,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sc)), "", ""},
		{"salted sha256, hex", "salted-sha256", hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(salt), ""},
		{"salted sha512, salt first, base64", "salted-sha512", base64.StdEncoding.EncodeToString(sumBefore[:]), base64.StdEncoding.EncodeToString(salt), "before"},
	} {
		stored, err := Import(c.alg, c.value, c.salt, c.order)
		if err != nil {
			t.Errorf("%s: import: %v", c.name, err)
			continue
		}
		ok, rehash, err := h.Verify(ctx, stored, pw)
		if !ok || err != nil || c.alg != "argon2id" && !rehash {
			t.Errorf("%s (%s): right password ok=%v rehash=%v err=%v", c.name, stored, ok, rehash, err)
		}
		if ok, _, err := h.Verify(ctx, stored, pw+"x"); ok || err != nil {
			t.Errorf("%s: a wrong password: ok=%v err=%v", c.name, ok, err)
		}
	}
	costly, _ := bcrypt.GenerateFromPassword([]byte(pw), 4)
	costly = []byte(strings.Replace(string(costly), "$04$", "$15$", 1))
	for _, c := range []struct{ alg, value string }{
		{"bcrypt", string(costly)}, // cost above 14: too expensive to verify at sign-in
		{"pbkdf2-sha256", "$pbkdf2-sha256$5000000$" + ab64(salt) + "$" + ab64(k256)},
		{"scrypt", "$scrypt$ln=24,r=8,p=1$c2FsdA$" + ab64(sc)},
		{"aspnet-identity-v3", "AQ=="},
		{"md5", "x"},
		{"salted-sha256", "00"},
	} {
		if _, err := Import(c.alg, c.value, "", ""); !errors.Is(err, ErrUnsupportedHash) {
			t.Errorf("%s %q: %v", c.alg, c.value, err)
		}
	}
}

// pbkdf2Django is Django's derivation: the salt is the text itself.
func pbkdf2Django(pw, salt string) []byte {
	k, _ := pbkdf2.Key(sha256.New, pw, []byte(salt), 1000, 32)
	return k
}
