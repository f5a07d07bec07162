// Package sqlcommon holds what the SQL store backends (sqlite, postgres)
// do alike: reading their migrations and mapping a user's fields to and
// from columns. Everything driver-specific (placeholders, time encoding,
// transactions) stays in the backends.
package sqlcommon

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Migration is one numbered file NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads migrations/*.sql from fsys, sorted by version, and
// checks they are numbered 1, 2, 3 ... without gaps. backend prefixes the
// errors.
func LoadMigrations(fsys fs.FS, backend string) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %s: name must be NNNN_name.sql", backend, base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s: migrations must be numbered 1, 2, 3 ... without gaps; found %s", backend, m.Name)
		}
	}
	return ms, nil
}

// NormaliseUser lower-cases the email (the contract says it is stored
// lower-cased; doing it in Go makes the unique index on lower(email) and
// GetByEmail agree whatever the caller passed, and both backends fold case
// alike) and fills missing timestamps with now.
func NormaliseUser(u *store.User, now time.Time, create bool) {
	u.Email = strings.ToLower(u.Email)
	if create && u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = now
	}
}

// EncodeUserJSON returns the JSON columns of u: identities (an array, never
// null) and attributes (an object, never null).
func EncodeUserJSON(u *store.User) (identities, attributes []byte, err error) {
	ids := u.Identities
	if ids == nil {
		ids = []store.Identity{}
	}
	if identities, err = json.Marshal(ids); err != nil {
		return nil, nil, err
	}
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	if attributes, err = json.Marshal(attrs); err != nil {
		return nil, nil, err
	}
	return identities, attributes, nil
}

// DecodeUserJSON sets u's identities and attributes from their JSON
// columns. backend prefixes the errors.
func DecodeUserJSON(u *store.User, identities, attributes []byte, backend string) error {
	if err := json.Unmarshal(identities, &u.Identities); err != nil {
		return fmt.Errorf("%s: user %s identities: %w", backend, u.ID, err)
	}
	if err := json.Unmarshal(attributes, &u.Attributes); err != nil {
		return fmt.Errorf("%s: user %s attributes: %w", backend, u.ID, err)
	}
	return nil
}

// SweepTables are the tables whose rows expire (expires_at), in the order
// Sweep deletes them. Refresh tokens go with their family (ON DELETE
// CASCADE): rotated-away tokens of a live family must stay for reuse
// detection. Lockout rows are kept: their counters have no expiry.
var SweepTables = []string{"sessions", "transactions", "codes", "verifications", "refresh_families", "throttles"}

// IdentityKey is the unique key of a sign-in identity: its type, the
// issuer (case-insensitive) and the issuer-assigned id (case-insensitive
// for local identities, exact for federated ones, whose ids are the
// provider's).
func IdentityKey(signInType, issuer, issuerAssignedID string) string {
	id := issuerAssignedID
	if signInType != "federated" {
		id = strings.ToLower(id)
	}
	return signInType + "|" + strings.ToLower(issuer) + "|" + id
}

// IdentityKeys are u's identity keys, each once.
func IdentityKeys(u *store.User) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range u.Identities {
		k := IdentityKey(id.SignInType, id.Issuer, id.IssuerAssignedID)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Prefixed qualifies a comma-separated column list with a table alias
// ("u." + "id, email" → "u.id, u.email").
func Prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
