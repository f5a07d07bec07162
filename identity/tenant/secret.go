package tenant

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
)

// secretKey keys the client-secret hashes. The hashes live only in memory
// (they are made from the config at start-up), so a per-process random key
// is enough and nothing derived from it ever leaves the process.
var secretKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}()

// hashSecret is HMAC-SHA256(secretKey, secret): client secrets are long
// random values, so a keyed fast hash resists offline guessing as well as
// a slow one would and costs a microsecond at the token endpoint.
func hashSecret(secret string) []byte {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// CheckSecret reports whether secret is one of the app's client secrets.
// Every stored hash is compared, in constant time.
func (a *App) CheckSecret(secret string) bool {
	if len(a.SecretHashes) == 0 {
		return false
	}
	h := hashSecret(secret)
	ok := 0
	for _, sh := range a.SecretHashes {
		ok |= subtle.ConstantTimeCompare(h, sh)
	}
	return ok == 1
}
