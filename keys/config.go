package keys

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
)

// OriginConfig marks keys added by LoadConfig.
const OriginConfig = "config"

// generatedKty is the key type of each --generate kind.
var generatedKty = map[string]string{"rsa": "RSA", "ec": "EC", "oct": "oct", "secret": "oct"}

// LoadConfig adds the identity.policyKeys of a config at start-up,
// idempotently:
//
//   - secret / pfx: when the container's newest config-added key (or, if
//     config never added one, any of its keys) holds the same material,
//     nothing is added; otherwise a new key version is added. A version
//     added to a container that already has keys is activated now (its
//     activation date is the load time), so it takes over from the
//     previous one; the first key of a container has no activation date
//     (B2C's safety net). The config's use applies to new versions only.
//   - generate: a key is generated only when the container is empty.
//
// Problems with an entry (missing fields, an unreadable PFX, a wrong
// password, a type clash with the container) are config.Errors at the
// entry's position; they are all reported at once. A store failure is
// returned as it is.
func LoadConfig(ctx context.Context, m *Manager, pks []config.PolicyKey) error {
	var errs config.Errors
	add := func(p config.Pos, format string, args ...any) {
		errs = append(errs, &config.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]config.Pos{}
	for _, pk := range pks {
		n := strings.TrimSpace(pk.Name)
		if n == "" {
			add(pk.Pos, "identity.policyKeys: name is required")
			continue
		}
		name, err := checkName(n)
		if err != nil {
			add(pk.Pos, "identity.policyKeys: %v", strings.TrimPrefix(err.Error(), ErrBadKey.Error()+": "))
			continue
		}
		if p, dup := seen[strings.ToLower(name)]; dup {
			add(pk.Pos, "identity.policyKeys: %s is given twice (first at %s)", name, p)
			continue
		}
		seen[strings.ToLower(name)] = pk.Pos
		given := 0
		for _, set := range []bool{pk.Secret.IsSet(), pk.PFX.IsSet(), pk.Generate != ""} {
			if set {
				given++
			}
		}
		if given != 1 {
			add(pk.Pos, "identity.policyKeys: %s needs exactly one of secret, pfx or generate", name)
			continue
		}
		if pk.Password.IsSet() && !pk.PFX.IsSet() {
			add(pk.Password.Pos, "identity.policyKeys: %s: password is only for pfx", name)
			continue
		}
		if pk.Use != "" && pk.Use != UseSig && pk.Use != UseEnc {
			add(pk.Pos, "identity.policyKeys: %s: use %q must be sig or enc", name, pk.Use)
			continue
		}
		o := AddOptions{Use: pk.Use, Origin: OriginConfig}
		var mat *material
		switch {
		case pk.Generate != "":
			kty, ok := generatedKty[strings.ToLower(pk.Generate)]
			if !ok {
				add(pk.Pos, "identity.policyKeys: %s: generate %q must be rsa, ec or oct", name, pk.Generate)
				continue
			}
			// Generated only when needed (ensure).
			mat = &material{kty: kty}
		case pk.Secret.IsSet():
			if pk.Secret.Value == "" {
				add(pk.Secret.Pos, "identity.policyKeys: %s: the secret is empty", name)
				continue
			}
			mat = &material{kty: "oct", plain: []byte(pk.Secret.Value)}
		default:
			mat, err = decodePFX(pk.PFX.Bytes, pk.Password.Value)
			switch {
			case errors.Is(err, ErrWrongPassword):
				p := pk.Password.Pos
				if !pk.Password.IsSet() {
					p = pk.PFX.Pos
				}
				add(p, "identity.policyKeys: %s: the PFX password is wrong (or missing)", name)
				continue
			case err != nil:
				add(pk.PFX.Pos, "identity.policyKeys: %s: %s", name, strings.TrimPrefix(err.Error(), ErrBadKey.Error()+": "))
				continue
			}
		}
		if err := m.ensure(ctx, name, mat, pk.Generate, o); err != nil {
			var ce *config.Error
			switch {
			case errors.As(err, &ce):
				ce.Pos = pk.Pos
				errs = append(errs, ce)
			case errors.Is(err, ErrKeyType), errors.Is(err, ErrBadKey), errors.Is(err, ErrExists):
				add(pk.Pos, "identity.policyKeys: %s: %v", name, err)
			default:
				return err
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ensure adds mat to container unless it is already there (see LoadConfig).
// For generate, mat carries only the type and the key is made here.
func (m *Manager) ensure(ctx context.Context, name string, mat *material, generate string, o AddOptions) error {
	rows, err := m.st.List(ctx, name)
	if err != nil {
		return fmt.Errorf("keys: reading %s: %w", name, err)
	}
	if len(rows) > 0 && rows[0].Type != mat.kty {
		return fmt.Errorf("%w: %s holds %s keys, the config gives a %s key", ErrKeyType, name, rows[0].Type, mat.kty)
	}
	if generate != "" {
		if len(rows) > 0 {
			return nil
		}
		_, err := m.Generate(ctx, name, generate, o)
		return err
	}
	same := func(r *store.PolicyKey) (bool, error) {
		if len(mat.chain) > 0 {
			return r.KID == mat.kid(), nil
		}
		plain, err := m.open(r)
		if err != nil {
			return false, err
		}
		defer clear(plain)
		return subtle.ConstantTimeCompare(plain, mat.plain) == 1, nil
	}
	var latest *store.PolicyKey
	for _, r := range rows {
		if r.Origin == OriginConfig {
			latest = r
		}
	}
	candidates := rows
	if latest != nil {
		candidates = []*store.PolicyKey{latest}
	}
	for _, r := range candidates {
		ok, err := same(r)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	if len(rows) > 0 {
		o.NotBefore = m.now()
	}
	_, err = m.add(ctx, name, mat, o)
	if errors.Is(err, ErrExists) {
		return &config.Error{Msg: fmt.Sprintf("identity.policyKeys: %s: this certificate is an older version of the container "+
			"and keys cannot be re-activated (as in B2C): upload a new certificate, or delete the container "+
			"(gatehouse keys delete) to start it afresh", name)}
	}
	return err
}
