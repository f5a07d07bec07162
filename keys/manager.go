package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/aead"
	"github.com/gatehouse/gatehouse/store"
	"software.sslmate.com/src/go-pkcs12"
)

// Key uses (JWK "use").
const (
	UseSig = "sig"
	UseEnc = "enc"
)

// DefaultUse is the use of a key added without one: Signature, the B2C
// portal's preselected "Key usage" for every option (Generate, Manual,
// Upload). B2C does not enforce the use of secrets and certificates; its
// REST API walkthroughs create Manual secrets with Encryption, which
// `--use enc` gives.
const DefaultUse = UseSig

// BackupSuffix is added to a deleted container's name: like B2C (Graph's
// backupKeySets), deleting a container keeps one copy of its keys.
const BackupSuffix = ".bak"

// hkdfLabel derives the AES-256-GCM key of policy key material from the
// master key (not the signing keys' label: one key per purpose).
const hkdfLabel = "gatehouse policy keys"

// sealVersion is the first byte of every ciphertext (the format).
const sealVersion = 1

// Errors of the Manager besides the contract's ErrNoActiveKey and
// ErrNoContainer.
var (
	// ErrKeyType: the container holds keys of another type (B2C's
	// AADB2C90089). It also matches store.ErrKeyType.
	ErrKeyType = errors.New("keys: AADB2C90089: all keys of a key container must be of the same type")
	// ErrWrongPassword: the PKCS#12 file's password is wrong.
	ErrWrongPassword = errors.New("keys: the PFX password is wrong")
	// ErrBadKey: the material cannot be used (unreadable PFX or PEM, no
	// private key, certificate and key do not match, empty secret ...).
	ErrBadKey = errors.New("keys: unusable key material")
	// ErrExists: the certificate is already in the container (its kid is
	// its thumbprint).
	ErrExists = errors.New("keys: the key is already in the container")
)

// Options tune NewManager.
type Options struct {
	// Now is the clock (tests inject one); default time.Now.
	Now func() time.Time
}

// Manager adds, lists and deletes policy keys over a store, encrypting
// material with AES-256-GCM under a key derived (HKDF-SHA256, label
// "gatehouse policy keys") from the master key. What the store returns is
// ciphertext; only Manager and Resolver decrypt it.
type Manager struct {
	st   store.PolicyKeys
	aead cipher.AEAD
	now  func() time.Time
}

// NewManager makes a Manager. masterKey is identity.masterKey (32 bytes).
func NewManager(st store.PolicyKeys, masterKey []byte, opts Options) (*Manager, error) {
	if len(masterKey) != 32 {
		return nil, errors.New("keys: the master key must be 32 bytes")
	}
	aead, err := aead.Derived(masterKey, hkdfLabel)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Manager{st: st, aead: aead, now: opts.Now}, nil
}

// AddOptions are the attributes of a new key.
type AddOptions struct {
	Use string // sig | enc; "" is DefaultUse
	// NotBefore is the activation date (zero: none, or the certificate's
	// NotBefore). A certificate's key is never active outside the
	// certificate's validity: its dates are clamped to it.
	NotBefore time.Time
	// Expires is the expiry (zero: none, or the certificate's NotAfter).
	Expires time.Time
	// Origin records who added the key ("cli", "config" ...; default
	// "api").
	Origin string
}

// CertInfo is the public part of an uploaded certificate.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	Thumbprint string    `json:"thumbprint"` // hex SHA-1, as the Azure portal shows it
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
}

// Key describes one policy key. It holds no secret material.
type Key struct {
	Container   string    `json:"container"`
	KID         string    `json:"kid"`
	Type        string    `json:"kty"` // oct, RSA, EC, OKP
	Use         string    `json:"use"`
	NotBefore   time.Time `json:"notBefore,omitzero"` // zero: none
	Expires     time.Time `json:"expires,omitzero"`   // zero: none
	Created     time.Time `json:"created"`
	Origin      string    `json:"origin"`
	Active      bool      `json:"active"`
	Certificate *CertInfo `json:"certificate,omitempty"` // uploaded certificates only
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s (%s, %s)", k.Container, k.KID, k.Type, k.Use)
}

// LogValue describes the key (never its material).
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("container", k.Container), slog.String("kid", k.KID),
		slog.String("type", k.Type), slog.String("use", k.Use), slog.Bool("active", k.Active))
}

// Container is a key container with its keys, oldest first.
type Container struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Backup bool   `json:"backup,omitempty"` // a deleted container's .bak copy
	Keys   []Key  `json:"keys"`
}

// Active is the container's active key, or nil.
func (c *Container) Active() *Key {
	for i := range c.Keys {
		if c.Keys[i].Active {
			return &c.Keys[i]
		}
	}
	return nil
}

var containerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,120}$`)

// checkName normalises a container name for adding keys.
func checkName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" {
		return "", fmt.Errorf("%w: a key container needs a name", ErrBadKey)
	}
	if strings.HasSuffix(n, BackupSuffix) {
		return "", fmt.Errorf("%w: %s is a backup name (.bak): keys cannot be added to a backup", ErrBadKey, n)
	}
	n = Name(n)
	if !containerName.MatchString(n) {
		return "", fmt.Errorf("%w: key container name %q may only hold letters, digits, '_' and '-'", ErrBadKey, n)
	}
	return n, nil
}

// lookupName normalises a name for reading or deleting (backups allowed).
func lookupName(n string) string { return Name(strings.TrimSpace(n)) }

// AddSecret adds a Manual key (a secret; kty oct).
func (m *Manager) AddSecret(ctx context.Context, container string, secret []byte, o AddOptions) (*Key, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: the secret is empty", ErrBadKey)
	}
	return m.add(ctx, container, &material{kty: "oct", plain: bytes.Clone(secret)}, o)
}

// AddPFX adds an uploaded certificate from a PKCS#12 (.pfx/.p12) file,
// decoded with go-pkcs12's DecodeChain. Both the legacy encryption
// (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC — the only one B2C's portal
// accepts) and the modern one (PBES2 with PBKDF2-SHA256 and AES-256-CBC,
// SHA-256 MAC: OpenSSL 3's default) are accepted: refusing what OpenSSL
// makes by default would only push people to weaker files. A file given as
// base64 text is decoded first.
func (m *Manager) AddPFX(ctx context.Context, container string, pfx []byte, password string, o AddOptions) (*Key, error) {
	mat, err := decodePFX(pfx, password)
	if err != nil {
		return nil, err
	}
	return m.add(ctx, container, mat, o)
}

// AddPEM adds an uploaded certificate from PEM: the certificate (chain) and
// its unencrypted private key (PKCS#8, PKCS#1 or SEC 1), in one bundle or
// in several arguments that are concatenated.
func (m *Manager) AddPEM(ctx context.Context, container string, o AddOptions, pemData ...[]byte) (*Key, error) {
	mat, err := decodePEM(bytes.Join(pemData, []byte("\n")))
	if err != nil {
		return nil, err
	}
	return m.add(ctx, container, mat, o)
}

// Generate adds a generated key: "rsa" (2048-bit pair), "ec" (P-256 pair)
// or "oct" (32 random bytes; also "secret").
func (m *Manager) Generate(ctx context.Context, container, kind string, o AddOptions) (*Key, error) {
	mat, err := generate(kind)
	if err != nil {
		return nil, err
	}
	return m.add(ctx, container, mat, o)
}

// GenerateCertificate adds a generated RSA key (2048 bits) with a
// self-signed certificate valid for validFor: a signing certificate that
// partners read from metadata (a SAML service provider's), where no
// certificate authority is involved.
func (m *Manager) GenerateCertificate(ctx context.Context, container, commonName string, validFor time.Duration, o AddOptions) (*Key, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := m.now()
	serial := new(big.Int).SetBytes(random(16))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validFor), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	defer clear(kder)
	return m.AddPEM(ctx, container, o, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// material is decoded key material before sealing.
type material struct {
	kty   string
	plain []byte // oct: the secret; others: PKCS#8 DER
	chain []*x509.Certificate
	pub   []byte // PEM public part (chain or public key)
}

func (mat *material) kid() string {
	if len(mat.chain) > 0 {
		s := sha1.Sum(mat.chain[0].Raw)
		return base64.RawURLEncoding.EncodeToString(s[:]) // x5t
	}
	return base64.RawURLEncoding.EncodeToString(random(32))
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (m *Manager) add(ctx context.Context, container string, mat *material, o AddOptions) (*Key, error) {
	name, err := checkName(container)
	if err != nil {
		return nil, err
	}
	use := o.Use
	switch use {
	case "":
		use = DefaultUse
	case UseSig, UseEnc:
	default:
		return nil, fmt.Errorf("%w: key use %q must be sig or enc", ErrBadKey, o.Use)
	}
	nbf, exp := o.NotBefore.UTC(), o.Expires.UTC()
	if len(mat.chain) > 0 {
		c := mat.chain[0]
		if nbf.IsZero() || nbf.Before(c.NotBefore) {
			nbf = c.NotBefore.UTC()
		}
		if exp.IsZero() || exp.After(c.NotAfter) {
			exp = c.NotAfter.UTC()
		}
	}
	now := m.now().UTC()
	if !exp.IsZero() && !exp.After(now) {
		return nil, fmt.Errorf("%w: the key expires %s, which has passed: it would never be active", ErrBadKey, exp.Format(time.RFC3339))
	}
	if !exp.IsZero() && !nbf.IsZero() && !exp.After(nbf) {
		return nil, fmt.Errorf("%w: the expiry %s is not after the activation date %s", ErrBadKey,
			exp.Format(time.RFC3339), nbf.Format(time.RFC3339))
	}
	origin := o.Origin
	if origin == "" {
		origin = "api"
	}
	row := &store.PolicyKey{
		Container: name, KID: mat.kid(), Type: mat.kty, Use: use, Public: mat.pub, Origin: origin,
		NotBefore: nbf, ExpiresAt: exp, CreatedAt: now,
	}
	row.Material = m.seal(row, mat.plain)
	clear(mat.plain)
	if err := m.st.Add(ctx, row); err != nil {
		switch {
		case errors.Is(err, store.ErrKeyType):
			return nil, &keyTypeError{detail: strings.TrimPrefix(err.Error(), store.ErrKeyType.Error()+": ")}
		case errors.Is(err, store.ErrConflict):
			return nil, fmt.Errorf("%w: %s already holds the key %s", ErrExists, name, row.KID)
		}
		return nil, fmt.Errorf("keys: adding to %s: %w", name, err)
	}
	// "Active" is decided in one place (container), as List decides it.
	rows, err := m.st.List(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("keys: reading %s: %w", name, err)
	}
	for _, k := range m.container(name, rows, m.now()).Keys {
		if k.KID == row.KID {
			return &k, nil
		}
	}
	k := describe(row)
	return &k, nil
}

// keyTypeError is AADB2C90089 with the store's detail, as one message;
// errors.Is matches ErrKeyType and store.ErrKeyType.
type keyTypeError struct{ detail string }

func (e *keyTypeError) Error() string {
	return "AADB2C90089: all keys of a key container must be of the same type: " + e.detail
}

func (e *keyTypeError) Is(target error) bool {
	return target == ErrKeyType || target == store.ErrKeyType
}

// aad binds a ciphertext to its key's id and type, so material cannot be
// moved to another key row unnoticed. (Not to the container: a deleted
// container's .bak copy must stay readable.)
func aad(kid, kty string) []byte { return []byte("gatehouse policy key v1\x00" + kid + "\x00" + kty) }

func (m *Manager) seal(row *store.PolicyKey, plain []byte) []byte {
	nonce := random(m.aead.NonceSize())
	out := append([]byte{sealVersion}, nonce...)
	return m.aead.Seal(out, nonce, plain, aad(row.KID, row.Type))
}

// open decrypts a row's material.
func (m *Manager) open(row *store.PolicyKey) ([]byte, error) {
	ns := m.aead.NonceSize()
	c := row.Material
	if len(c) < 1+ns+m.aead.Overhead() || c[0] != sealVersion {
		return nil, fmt.Errorf("keys: %s/%s: unknown material format", row.Container, row.KID)
	}
	plain, err := m.aead.Open(nil, c[1:1+ns], c[1+ns:], aad(row.KID, row.Type))
	if err != nil {
		return nil, fmt.Errorf("keys: %s/%s: cannot decrypt the material (was identity.masterKey changed?)", row.Container, row.KID)
	}
	return plain, nil
}

// describe turns a row into a Key (no material).
func describe(row *store.PolicyKey) Key {
	k := Key{Container: row.Container, KID: row.KID, Type: row.Type, Use: row.Use, NotBefore: row.NotBefore,
		Expires: row.ExpiresAt, Created: row.CreatedAt, Origin: row.Origin}
	if chain, err := parseChain(row.Public); err == nil && len(chain) > 0 {
		c := chain[0]
		s := sha1.Sum(c.Raw)
		k.Certificate = &CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			Thumbprint: strings.ToUpper(fmt.Sprintf("%x", s[:])), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
	}
	return k
}

// parseChain reads the CERTIFICATE blocks of a PEM bundle.
func parseChain(pemData []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for rest := pemData; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return chain, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
}

// pick is B2C's rule: among the keys whose activation date has passed (or
// that have none) and that have not expired, the one with the latest
// activation date, keys without one counting as the oldest; ties go to
// the most recently added.
func pick(rows []*store.PolicyKey, now time.Time) *store.PolicyKey {
	var best *store.PolicyKey
	for _, k := range rows {
		if !k.NotBefore.IsZero() && now.Before(k.NotBefore) {
			continue
		}
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue
		}
		if best == nil || newer(k, best) {
			best = k
		}
	}
	return best
}

func newer(a, b *store.PolicyKey) bool {
	switch {
	case a.NotBefore.IsZero() != b.NotBefore.IsZero():
		return b.NotBefore.IsZero()
	case !a.NotBefore.Equal(b.NotBefore):
		return a.NotBefore.After(b.NotBefore)
	case !a.CreatedAt.Equal(b.CreatedAt):
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.KID > b.KID
}

// Container returns one container with its keys; ErrNoContainer when it
// has none. The active flag is computed at the Manager's now.
func (m *Manager) Container(ctx context.Context, name string) (*Container, error) {
	name = lookupName(name)
	rows, err := m.st.List(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("keys: reading %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoContainer, name)
	}
	return m.container(name, rows, m.now()), nil
}

func (m *Manager) container(name string, rows []*store.PolicyKey, now time.Time) *Container {
	c := &Container{Name: name, Type: rows[0].Type, Backup: strings.HasSuffix(name, BackupSuffix)}
	active := pick(rows, now)
	for _, r := range rows {
		k := describe(r)
		// A backup is not in use: nothing in it is active.
		k.Active = r == active && !c.Backup
		c.Keys = append(c.Keys, k)
	}
	return c
}

// List returns every container (backups included, marked), sorted by
// name.
func (m *Manager) List(ctx context.Context) ([]*Container, error) {
	names, err := m.st.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: listing containers: %w", err)
	}
	now := m.now()
	out := []*Container{}
	for _, n := range names {
		rows, err := m.st.List(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("keys: reading %s: %w", n, err)
		}
		if len(rows) > 0 {
			out = append(out, m.container(n, rows, now))
		}
	}
	return out, nil
}

// Active returns the container's active key at now: ErrNoContainer when
// the container has no key, a NoActiveKeyError (errors.Is ErrNoActiveKey)
// when none is active.
func (m *Manager) Active(ctx context.Context, container string, now time.Time) (*Key, error) {
	name := lookupName(container)
	rows, err := m.st.List(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("keys: reading %s: %w", name, err)
	}
	row, err := activeRow(name, rows, now, "key")
	if err != nil {
		return nil, err
	}
	k := describe(row)
	k.Active = true
	return &k, nil
}

func activeRow(name string, rows []*store.PolicyKey, now time.Time, what string) (*store.PolicyKey, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoContainer, name)
	}
	row := pick(rows, now)
	if row == nil || strings.HasSuffix(name, BackupSuffix) {
		return nil, &NoActiveKeyError{Container: name, What: what}
	}
	return row, nil
}

// NoActiveKeyError is B2C's AADB2C90220: the container exists but none of
// its keys is active now. errors.Is(err, ErrNoActiveKey) holds.
type NoActiveKeyError struct {
	Container string
	What      string // "key", "secret", "certificate"
}

func (e *NoActiveKeyError) Error() string {
	return fmt.Sprintf("AADB2C90220: The key container with id '%s' exists, but does not contain a valid %s. "+
		"The %s may have expired or is not active yet (nbf).", e.Container, e.What, e.What)
}

// Is makes errors.Is(err, ErrNoActiveKey) true.
func (e *NoActiveKeyError) Is(target error) bool { return target == ErrNoActiveKey }

// Delete deletes a container. Like B2C it keeps a copy named NAME.bak
// (replacing an earlier copy of that name), from which nothing is ever
// active; deleting a .bak container deletes it for good. It returns the
// backup's name ("" for a .bak).
func (m *Manager) Delete(ctx context.Context, container string) (backup string, err error) {
	name := lookupName(container)
	if strings.HasSuffix(name, BackupSuffix) {
		err = m.st.Delete(ctx, name)
	} else {
		backup = name + BackupSuffix
		err = m.st.Rename(ctx, name, backup)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: %s", ErrNoContainer, name)
	}
	if err != nil {
		return "", fmt.Errorf("keys: deleting %s: %w", name, err)
	}
	return backup, nil
}

// ParseTime reads a --not-before/--expires value: RFC 3339
// (2025-06-01T00:00:00Z), a date (2025-06-01, midnight UTC) or Unix
// seconds (as Graph's nbf/exp).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2025-06-01T00:00:00Z), a date (2025-06-01) or Unix seconds", s)
}

// ---- decoding and generating material ----

func generate(kind string) (*material, error) {
	switch strings.ToLower(kind) {
	case "oct", "secret":
		return &material{kty: "oct", plain: random(32)}, nil
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return pairMaterial(k)
	case "ec":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return pairMaterial(k)
	}
	return nil, fmt.Errorf("%w: --generate %q: use rsa, ec or oct", ErrBadKey, kind)
}

func pairMaterial(k crypto.Signer) (*material, error) {
	kty, err := ktyOf(k)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	return &material{kty: kty, plain: der, pub: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})}, nil
}

func ktyOf(k any) (string, error) {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA", nil
	case *ecdsa.PrivateKey:
		return "EC", nil
	case ed25519.PrivateKey:
		return "OKP", nil
	}
	return "", fmt.Errorf("%w: unsupported private key type %T", ErrBadKey, k)
}

// certMaterial checks that key belongs to chain[0] and encodes both.
func certMaterial(key any, chain []*x509.Certificate) (*material, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, fmt.Errorf("%w: no certificate", ErrBadKey)
	}
	kty, err := ktyOf(key)
	if err != nil {
		return nil, err
	}
	pub, ok := key.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(chain[0].PublicKey) {
		return nil, fmt.Errorf("%w: the private key does not belong to the certificate %s", ErrBadKey, chain[0].Subject)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var pub64 bytes.Buffer
	for _, c := range chain {
		_ = pem.Encode(&pub64, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return &material{kty: kty, plain: der, chain: chain, pub: pub64.Bytes()}, nil
}

func decodePFX(pfx []byte, password string) (*material, error) {
	if len(pfx) == 0 {
		return nil, fmt.Errorf("%w: the PFX is empty", ErrBadKey)
	}
	key, cert, cas, err := pkcs12.DecodeChain(pfx, password)
	if err != nil && !errors.Is(err, pkcs12.ErrIncorrectPassword) {
		// A PFX pasted as base64 (an env: value, Graph's uploadPkcs12).
		if raw, e := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(pfx)), "")); e == nil {
			key, cert, cas, err = pkcs12.DecodeChain(raw, password)
		}
	}
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return nil, ErrWrongPassword
	case err != nil:
		return nil, fmt.Errorf("%w: not a readable PKCS#12 (.pfx) file: %v", ErrBadKey, err)
	case key == nil:
		return nil, fmt.Errorf("%w: the PFX has no private key", ErrBadKey)
	}
	return certMaterial(key, append([]*x509.Certificate{cert}, cas...))
}

func decodePEM(data []byte) (*material, error) {
	var (
		key   any
		chain []*x509.Certificate
	)
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var err error
		switch b.Type {
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				chain = append(chain, c)
			}
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			err = errors.New("encrypted PEM keys are not supported: decrypt it (openssl pkey) or use a PFX")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: PEM %s: %v", ErrBadKey, b.Type, err)
		}
	}
	if key == nil || len(chain) == 0 {
		return nil, fmt.Errorf("%w: PEM needs a CERTIFICATE and its PRIVATE KEY", ErrBadKey)
	}
	// Put the certificate of the key first (bundles are in any order).
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrBadKey, key)
	}
	for i, c := range chain {
		if p, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && p.Equal(c.PublicKey) {
			chain[0], chain[i] = chain[i], chain[0]
			break
		}
	}
	return certMaterial(key, chain)
}
