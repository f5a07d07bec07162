// Package password hashes passwords with argon2id, checks B2C's password
// complexity rules and implements B2C's smart lockout.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default is OWASP's recommended argon2id configuration: m=19 MiB, t=2, p=1.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// MaxBytes bounds the passwords that are hashed at all (B2C's longest
// allowed password is 256 characters, at most 4 bytes each).
const MaxBytes = 1024

// Limits on stored parameters, so an imported hash cannot make a single
// verification use gigabytes or minutes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 16
	maxThreads = 16
	maxKeyLen  = 128
)

// ErrMalformed is returned for a stored hash that is not an argon2id PHC
// string this package can verify.
var ErrMalformed = errors.New("password: malformed argon2id hash")

// Hasher hashes and verifies passwords, with at most a fixed number of
// argon2 computations at once (each takes Params.Memory of RAM).
type Hasher struct {
	params Params
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string
	verified  atomic.Uint64
}

// Verifications is how many argon2 verifications (Verify and Dummy) this
// hasher has run: what smart lockout bounds per lock window.
func (h *Hasher) Verifications() uint64 { return h.verified.Load() }

// NewHasher returns a hasher with the given parameters allowing
// concurrency simultaneous hashes (<= 0: GOMAXPROCS).
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	return &Hasher{params: p, sem: make(chan struct{}, concurrency)}
}

var (
	defaultOnce   sync.Once
	defaultHasher *Hasher
)

// DefaultHasher is a process-wide Hasher with Default parameters bounded to
// GOMAXPROCS concurrent hashes.
func DefaultHasher() *Hasher {
	defaultOnce.Do(func() { defaultHasher = NewHasher(Default, 0) })
	return defaultHasher
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxBytes {
		return "", errors.New("password: too long")
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	return encode(h.params, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Decode parses a PHC argon2id string.
func Decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, ErrMalformed
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, ErrMalformed
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
			seen |= 1
		case "t":
			p.Time = uint32(n)
			seen |= 2
		case "p":
			if n > 255 {
				return p, nil, nil, ErrMalformed
			}
			p.Threads = uint8(n)
			seen |= 4
		default:
			return p, nil, nil, ErrMalformed
		}
	}
	if seen != 7 || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return p, nil, nil, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Verify checks password against a PHC string in constant time. needsRehash
// reports a match made with parameters other than the hasher's (the caller
// should store a fresh Hash).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if imported(encoded) {
		if len(password) > MaxBytes {
			return false, false, nil
		}
		ok, err := h.verifyImported(ctx, encoded, password)
		if ok {
			h.verified.Add(1)
		}
		return ok, ok, err // a match is stored again as argon2id
	}
	p, salt, key, err := Decode(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxBytes {
		return false, false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	h.release()
	h.verified.Add(1)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	cur := h.params
	needsRehash = p.Memory != cur.Memory || p.Time != cur.Time || p.Threads != cur.Threads ||
		p.KeyLen != cur.KeyLen || p.SaltLen < cur.SaltLen
	return true, needsRehash, nil
}

// Dummy spends the same work as a Verify against a hash of the current
// parameters and always fails: callers use it for unknown accounts so the
// response time does not tell whether an account exists.
func (h *Hasher) Dummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		_, _ = rand.Read(salt)
		key := make([]byte, h.params.KeyLen)
		_, _ = rand.Read(key)
		h.dummy = encode(h.params, salt, key)
	})
	_, _, _ = h.Verify(ctx, h.dummy, password)
}
