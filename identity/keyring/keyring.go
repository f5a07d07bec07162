// Package keyring keeps the token-signing keys of the identity role in
// store.SigningKeys, their private halves encrypted with AES-256-GCM under
// a key derived from the master key.
//
// Schedule. A key is published in the JWKS from creation and signs from its
// NotBefore. With rotation on, the successor is created PublishAhead (24 h)
// before the current key has signed for RotateEvery, with NotBefore = the
// end of that period (never less than PublishAhead after creation), so
// relying parties that cache the JWKS for up to a day already know it when
// it starts signing. The predecessor is marked retired at that moment and
// stays in the JWKS until RetiredAt + MaxTokenLifetime, when its last token
// has expired; then it is deleted.
//
// Several processes. Each process re-reads the store every RefreshEvery
// (1 min) in the background and on an unknown kid. Every process picks the
// signing key by the same rule (the usable key with the latest NotBefore,
// ties broken by the smallest kid), so they agree as soon as they have read
// the same rows. Two processes that decide to create a key at the same
// moment each store one: at most one extra key per race. For a successor,
// both get the same NotBefore, the tie-break makes one of them the winner
// everywhere, and the loser (which never signed) is deleted on the next
// refresh. For the very first key both may sign for up to RefreshEvery;
// both are published before they sign, so tokens verify either way.
package keyring

import (
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/aead"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
)

// Defaults of the schedule.
const (
	DefaultPublishAhead = 24 * time.Hour
	DefaultRefreshEvery = time.Minute
	// unknownKidPause limits store reads triggered by unknown kids.
	unknownKidPause = 5 * time.Second
)

// Options configure a Keyring.
type Options struct {
	// Algorithm is RS256 (RSA-2048, the default, as B2C) or ES256.
	Algorithm string
	// RotateEvery is how long a key signs before its successor takes over
	// (0 = never rotate).
	RotateEvery time.Duration
	// PublishAhead is how long a new key is in the JWKS before it signs.
	PublishAhead time.Duration
	// MaxTokenLifetime is the longest lifetime of a signed token: a retired
	// key stays published that long.
	MaxTokenLifetime time.Duration
	// RefreshEvery is how often the keys are re-read from the store.
	RefreshEvery time.Duration
	// Now is the clock (time.Now when nil); tests inject one.
	Now    func() time.Time
	Logger *slog.Logger
}

// Keyring signs tokens and publishes the JWKS.
type Keyring struct {
	st   store.SigningKeys
	aead cipher.AEAD
	opts Options

	snap       atomic.Pointer[snapshot]
	mu         sync.Mutex // serialises refreshes
	refreshing atomic.Bool
	lastTry    atomic.Int64 // unix nanos of the last background refresh attempt
	parsed     sync.Map     // kid -> *key (decrypted private keys, cached)
}

type key struct {
	id        string
	alg       string
	priv      crypto.Signer
	pub       crypto.PublicKey
	header    string // base64url of the JOSE header, with the trailing '.'
	publicJWK json.RawMessage
	row       *store.SigningKey
}

type snapshot struct {
	signer   *key
	public   map[string]*key
	jwks     []byte
	loadedAt time.Time
}

// ErrNoUsableKey: the store holds signing keys but none can be used, most
// often because identity.masterKey is not the one they were made with.
var ErrNoUsableKey = errors.New("keyring: no usable signing key (is the master key the one the keys were made with?)")

// MasterKey decodes identity.masterKey: 32 bytes, base64 (standard or URL
// alphabet, padded or not).
func MasterKey(cfg *config.Identity) ([]byte, error) {
	s := cfg.MasterKey
	pos := s.Pos
	if pos == (config.Pos{}) {
		pos = cfg.Pos
	}
	if !s.IsSet() || strings.TrimSpace(s.Value) == "" {
		return nil, &config.Error{Pos: pos, Msg: "identity.masterKey is required: 32 random bytes, base64 (make one with `openssl rand -base64 32`); it encrypts the token-signing keys at rest"}
	}
	v := strings.TrimSpace(s.Value)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != 32 {
				return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("identity.masterKey is %d bytes; it must be exactly 32 random bytes, base64 (make one with `openssl rand -base64 32`)", len(b))}
			}
			return b, nil
		}
	}
	return nil, &config.Error{Pos: pos, Msg: "identity.masterKey is not base64; it must be 32 random bytes, base64 (make one with `openssl rand -base64 32`)"}
}

// New makes a keyring over st with the AES-256-GCM key derived from
// masterKey and loads (or creates) the keys.
func New(ctx context.Context, st store.SigningKeys, masterKey []byte, opts Options) (*Keyring, error) {
	if len(masterKey) != 32 {
		return nil, errors.New("keyring: the master key must be 32 bytes")
	}
	switch opts.Algorithm {
	case "":
		opts.Algorithm = "RS256"
	case "RS256", "ES256":
	default:
		return nil, fmt.Errorf("keyring: signing algorithm %q must be RS256 or ES256", opts.Algorithm)
	}
	if opts.PublishAhead <= 0 {
		opts.PublishAhead = DefaultPublishAhead
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = DefaultRefreshEvery
	}
	if opts.MaxTokenLifetime <= 0 {
		opts.MaxTokenLifetime = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	aead, err := aead.Derived(masterKey, "gatehouse identity signing keys v1")
	if err != nil {
		return nil, err
	}
	k := &Keyring{st: st, aead: aead, opts: opts}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Algorithm is the signing algorithm.
func (k *Keyring) Algorithm() string { return k.opts.Algorithm }

// Refresh re-reads the store, creates a first key or a successor when the
// schedule says so, retires and deletes old keys, and swaps the snapshot.
func (k *Keyring) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.opts.Now()
	rows, err := k.st.List(ctx)
	if err != nil {
		return fmt.Errorf("keyring: list signing keys: %w", err)
	}
	rows, err = k.maintain(ctx, rows, now)
	if err != nil {
		return err
	}
	snap := &snapshot{public: map[string]*key{}, loadedAt: now}
	var jwks []json.RawMessage
	for _, r := range rows {
		if !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) {
			continue
		}
		kk, err := k.parse(r)
		if err != nil {
			k.opts.Logger.Error("keyring: unusable signing key", "kid", r.ID, "err", err)
			continue
		}
		snap.public[r.ID] = kk
		jwks = append(jwks, kk.publicJWK)
	}
	if s := k.pickSigner(rows, now); s != nil {
		snap.signer = snap.public[s.ID]
	}
	if snap.signer == nil {
		return ErrNoUsableKey
	}
	snap.jwks, _ = json.Marshal(map[string]any{"keys": jwks})
	k.snap.Store(snap)
	return nil
}

// usable reports whether r may sign at now.
func (k *Keyring) usable(r *store.SigningKey, now time.Time) bool {
	return r.Algorithm == k.opts.Algorithm && !now.Before(r.NotBefore) &&
		(r.RetiredAt.IsZero() || now.Before(r.RetiredAt))
}

// pickSigner: the usable key with the latest NotBefore, ties by smallest id.
func (k *Keyring) pickSigner(rows []*store.SigningKey, now time.Time) *store.SigningKey {
	var best *store.SigningKey
	for _, r := range rows {
		if !k.usable(r, now) {
			continue
		}
		if best == nil || r.NotBefore.After(best.NotBefore) || (r.NotBefore.Equal(best.NotBefore) && r.ID < best.ID) {
			best = r
		}
	}
	return best
}

// maintain applies the schedule to the stored rows and returns the rows as
// they are afterwards.
func (k *Keyring) maintain(ctx context.Context, rows []*store.SigningKey, now time.Time) ([]*store.SigningKey, error) {
	// Delete keys whose last token has expired.
	kept := rows[:0]
	for _, r := range rows {
		if !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) {
			if err := k.st.Delete(ctx, r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("keyring: delete expired key: %w", err)
			}
			k.parsed.Delete(r.ID)
			continue
		}
		kept = append(kept, r)
	}
	rows = kept

	// Pending successors with the same NotBefore: keep the smallest kid
	// (the one every process picks), delete the others (they never signed).
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].NotBefore.Equal(rows[j].NotBefore) {
			return rows[i].NotBefore.Before(rows[j].NotBefore)
		}
		return rows[i].ID < rows[j].ID
	})
	kept = rows[:0]
	for i, r := range rows {
		if i > 0 && now.Before(r.NotBefore) && r.NotBefore.Equal(rows[i-1].NotBefore) && r.Algorithm == rows[i-1].Algorithm {
			if err := k.st.Delete(ctx, r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("keyring: delete duplicate key: %w", err)
			}
			continue
		}
		kept = append(kept, r)
	}
	rows = kept

	cur := k.pickSigner(rows, now)
	if cur == nil {
		// First key (or the algorithm changed): it must sign at once.
		r, err := k.create(ctx, now, now)
		if err != nil {
			return nil, err
		}
		// Keys of another algorithm stop signing now.
		for _, o := range rows {
			if o.Algorithm != k.opts.Algorithm && o.RetiredAt.IsZero() {
				o.RetiredAt = now
				o.ExpiresAt = now.Add(k.opts.MaxTokenLifetime)
				if err := k.st.Put(ctx, o); err != nil {
					return nil, fmt.Errorf("keyring: retire key: %w", err)
				}
			}
		}
		return append(rows, r), nil
	}
	if k.opts.RotateEvery <= 0 {
		return rows, nil
	}
	// A successor exists when some key of our algorithm starts later.
	for _, r := range rows {
		if r.Algorithm == k.opts.Algorithm && r.NotBefore.After(cur.NotBefore) {
			return rows, nil
		}
	}
	due := cur.NotBefore.Add(k.opts.RotateEvery)
	if now.Before(due.Add(-k.opts.PublishAhead)) {
		return rows, nil
	}
	nb := due
	if min := now.Add(k.opts.PublishAhead); nb.Before(min) {
		nb = min // created late (process was down): still published a full PublishAhead first
	}
	r, err := k.create(ctx, now, nb)
	if err != nil {
		return nil, err
	}
	cur.RetiredAt = nb
	cur.ExpiresAt = nb.Add(k.opts.MaxTokenLifetime)
	if err := k.st.Put(ctx, cur); err != nil {
		return nil, fmt.Errorf("keyring: schedule retirement: %w", err)
	}
	k.opts.Logger.Info("keyring: new signing key published", "kid", r.ID, "signs_from", nb, "retires", cur.ID)
	return append(rows, r), nil
}

// create makes, encrypts and stores a new key.
func (k *Keyring) create(ctx context.Context, now, notBefore time.Time) (*store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch k.opts.Algorithm {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, err
	}
	kidBytes := make([]byte, 16)
	if _, err := rand.Read(kidBytes); err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(kidBytes)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := k.aead.Seal(nonce, nonce, der, []byte(kid))
	pub, err := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: k.opts.Algorithm, Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	r := &store.SigningKey{
		ID: kid, Algorithm: k.opts.Algorithm, Private: sealed, Public: pub,
		NotBefore: notBefore, CreatedAt: now,
	}
	if err := k.st.Put(ctx, r); err != nil {
		return nil, fmt.Errorf("keyring: store new key: %w", err)
	}
	return r, nil
}

// parse decrypts a stored key (cached by kid: parsed RSA keys keep their
// precomputed values, so signing never re-parses).
func (k *Keyring) parse(r *store.SigningKey) (*key, error) {
	if v, ok := k.parsed.Load(r.ID); ok {
		c := *v.(*key) // snapshots never share a mutable row
		c.row = r
		return &c, nil
	}
	ns := k.aead.NonceSize()
	if len(r.Private) < ns {
		return nil, errors.New("encrypted key too short")
	}
	der, err := k.aead.Open(nil, r.Private[:ns], r.Private[ns:], []byte(r.ID))
	if err != nil {
		return nil, errors.New("cannot decrypt the private key (wrong master key?)")
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, ok := p.(crypto.Signer)
	if !ok {
		return nil, errors.New("not a signing key")
	}
	switch r.Algorithm {
	case "RS256":
		if _, ok := signer.(*rsa.PrivateKey); !ok {
			return nil, errors.New("RS256 key is not RSA")
		}
	case "ES256":
		if _, ok := signer.(*ecdsa.PrivateKey); !ok {
			return nil, errors.New("ES256 key is not ECDSA")
		}
	default:
		return nil, fmt.Errorf("unknown algorithm %q", r.Algorithm)
	}
	hdr, _ := json.Marshal(map[string]string{"alg": r.Algorithm, "kid": r.ID, "typ": "JWT"})
	kk := &key{
		id: r.ID, alg: r.Algorithm, priv: signer, pub: signer.Public(),
		header:    base64.RawURLEncoding.EncodeToString(hdr) + ".",
		publicJWK: json.RawMessage(r.Public), row: r,
	}
	c := *kk
	k.parsed.Store(r.ID, &c)
	return kk, nil
}

// current returns the snapshot, starting a background refresh when it is
// older than RefreshEvery (the signing path never waits for the store).
func (k *Keyring) current() *snapshot {
	s := k.snap.Load()
	now := k.opts.Now()
	// A failing store is retried once per RefreshEvery, not per request.
	stale := now.Sub(s.loadedAt) >= k.opts.RefreshEvery &&
		now.Sub(time.Unix(0, k.lastTry.Load())) >= k.opts.RefreshEvery
	if stale && k.refreshing.CompareAndSwap(false, true) {
		k.lastTry.Store(now.UnixNano())
		go func() {
			defer k.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := k.Refresh(ctx); err != nil {
				k.opts.Logger.Error("keyring: refresh", "err", err)
			}
		}()
	}
	return s
}

// signerAt picks the signing key of the snapshot at now: normally the
// snapshot's signer, but a published successor whose NotBefore has passed
// takes over even before the next refresh.
func (s *snapshot) signerAt(now time.Time) *key {
	best := s.signer
	for _, kk := range s.public {
		r := kk.row
		if r.Algorithm != best.alg || now.Before(r.NotBefore) || (!r.RetiredAt.IsZero() && !now.Before(r.RetiredAt)) {
			continue
		}
		if r.NotBefore.After(best.row.NotBefore) || (r.NotBefore.Equal(best.row.NotBefore) && r.ID < best.id) {
			best = kk
		}
	}
	return best
}

// SigningKeyID is the kid that signs now.
func (k *Keyring) SigningKeyID() string {
	return k.current().signerAt(k.opts.Now()).id
}

// Sign makes a compact JWS of the JSON claims with the current key: header
// {"alg","kid","typ":"JWT"}.
func (k *Keyring) Sign(claims []byte) (string, error) {
	kk := k.current().signerAt(k.opts.Now())
	enc := base64.RawURLEncoding
	n := len(kk.header) + enc.EncodedLen(len(claims))
	buf := make([]byte, 0, n+1+enc.EncodedLen(512))
	buf = append(buf, kk.header...)
	buf = enc.AppendEncode(buf, claims)
	digest := sha256.Sum256(buf)
	var sig []byte
	switch p := kk.priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, p, digest[:])
		if err != nil {
			return "", err
		}
		sig = make([]byte, 64)
		fill(sig[:32], r)
		fill(sig[32:], s)
	case *rsa.PrivateKey:
		var err error
		sig, err = rsa.SignPKCS1v15(nil, p, crypto.SHA256, digest[:])
		if err != nil {
			return "", err
		}
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

func fill(dst []byte, v *big.Int) { v.FillBytes(dst) }

// JWKS is the public key set: every key not yet expired, including
// published successors and retired keys.
func (k *Keyring) JWKS() []byte { return k.current().jwks }

// PublicKey returns the public key of kid, re-reading the store once when
// the kid is unknown (another process may have just made it).
func (k *Keyring) PublicKey(ctx context.Context, kid string) (crypto.PublicKey, string, bool) {
	s := k.current()
	if kk, ok := s.public[kid]; ok {
		return kk.pub, kk.alg, true
	}
	if k.opts.Now().Sub(s.loadedAt) < unknownKidPause {
		return nil, "", false
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, "", false
	}
	if kk, ok := k.snap.Load().public[kid]; ok {
		return kk.pub, kk.alg, true
	}
	return nil, "", false
}

// RotateNow starts a rotation now, whatever the schedule: a successor is
// created and published at once and signs from PublishAhead later, when the
// current key retires (it stays in the JWKS until its last token expired).
// Every process sharing the store picks the successor up at its next
// refresh. When a successor is already pending, RotateNow returns it and
// creates nothing, so running it twice does not skip a key.
func (k *Keyring) RotateNow(ctx context.Context) (*store.SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.opts.Now()
	rows, err := k.st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: list signing keys: %w", err)
	}
	cur := k.pickSigner(rows, now)
	if cur == nil {
		return nil, errors.New("keyring: no key signs now; start the identity role once to create the first")
	}
	for _, r := range rows {
		if r.Algorithm == k.opts.Algorithm && r.NotBefore.After(cur.NotBefore) && r.RetiredAt.IsZero() {
			return r, nil
		}
	}
	nb := now.Add(k.opts.PublishAhead)
	r, err := k.create(ctx, now, nb)
	if err != nil {
		return nil, err
	}
	cur.RetiredAt = nb
	cur.ExpiresAt = nb.Add(k.opts.MaxTokenLifetime)
	if err := k.st.Put(ctx, cur); err != nil {
		return nil, fmt.Errorf("keyring: schedule retirement: %w", err)
	}
	k.opts.Logger.Info("keyring: signing key rotation started", "kid", r.ID, "signs_from", nb, "retires", cur.ID)
	return r, nil
}

// Derive returns a 32-byte key for one purpose (label) from the master key
// (HKDF-SHA256), so no two uses of the master key share a key.
func Derive(masterKey []byte, label string) []byte {
	dk, err := hkdf.Key(sha256.New, masterKey, nil, "gatehouse "+label, 32)
	if err != nil {
		panic(err) // only for lengths HKDF-SHA256 cannot produce; 32 is fine
	}
	return dk
}
