package graph

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/store"
)

// PasswordHash is an exported or imported password hash (`users import`
// and `users export`): the algorithm, the hash as that system writes it,
// and for salted SHA digests the salt (base64) and its order.
type PasswordHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
	Salt      string `json:"salt,omitempty"`
	SaltOrder string `json:"saltOrder,omitempty"`
}

// readOnly are properties an export carries that an import does not set
// (createdDateTime is kept, the others are derived).
var readOnly = []string{"userPrincipalName", "creationType", "userType", "signInSessionsValidFromDateTime", "businessPhones"}

// ImportUser reads one user of `gatehouse users import`: a Graph user
// object as POST /users takes it, its id kept, with createdDateTime kept
// and an optional passwordHash from another system (verified at the
// first sign-in, then stored as argon2id) instead of a password.
func (a *API) ImportUser(ctx context.Context, line []byte) (*store.User, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(line, &body); err != nil || body == nil {
		return nil, errors.New("not a JSON object")
	}
	now := a.o.Now()
	u := &store.User{ID: newGUID(), CreatedAt: now, UpdatedAt: now}
	if raw, ok := body["createdDateTime"]; ok {
		var t time.Time
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, errors.New("createdDateTime is not an ISO 8601 date and time")
		}
		u.CreatedAt = t
		delete(body, "createdDateTime")
	}
	for _, k := range readOnly {
		if k == "userPrincipalName" {
			continue // kept when given (B2C's UPN of a migrated account)
		}
		delete(body, k)
	}
	var ph *PasswordHash
	if raw, ok := body["passwordHash"]; ok {
		if err := json.Unmarshal(raw, &ph); err != nil || ph == nil {
			return nil, errors.New(`passwordHash is {"algorithm": …, "value": …}`)
		}
		delete(body, "passwordHash")
	}
	pw, _, msg := a.apply(u, body, true)
	switch {
	case msg != "":
		return nil, errors.New(msg)
	case u.DisplayName == "":
		return nil, errors.New("displayName is required")
	case len(u.Identities) == 0:
		return nil, errors.New("identities are required (emailAddress or userName of " + a.o.Tenant + ", or federated)")
	case ph != nil && pw != "":
		return nil, errors.New("give passwordProfile or passwordHash, not both")
	}
	if strings.HasSuffix(strings.ToLower(u.Attributes["userPrincipalName"]), "@"+strings.ToLower(a.o.Tenant)) &&
		strings.HasPrefix(strings.ToLower(u.Attributes["userPrincipalName"]), u.ID+"@") {
		delete(u.Attributes, "userPrincipalName") // the default one: derived, not stored
	}
	switch {
	case ph != nil:
		h, err := password.Import(ph.Algorithm, ph.Value, ph.Salt, ph.SaltOrder)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	case pw != "":
		h, err := a.o.HashPassword(ctx, pw)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	return u, nil
}

// ExportUser is a user as `gatehouse users export` writes it: every
// property this API keeps, and the password hash (argon2id, or the
// imported hash not yet replaced) — the format ImportUser reads.
func (a *API) ExportUser(u *store.User) ([]byte, error) {
	props := slices.Clone(known)
	for k := range u.Attributes {
		if name, ok := strings.CutPrefix(k, "extension_"); ok && a.o.ExtensionAppID != "" {
			props = append(props, "extension_"+a.o.ExtensionAppID+"_"+name)
		}
	}
	obj := a.object(u, props)
	for _, k := range readOnly {
		if k != "userPrincipalName" || u.Attributes["userPrincipalName"] == "" {
			delete(obj, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if obj[k] == nil {
			delete(obj, k)
		}
	}
	if ids, ok := obj["identities"].([]map[string]string); ok {
		obj["identities"] = slices.DeleteFunc(ids, func(m map[string]string) bool { return m["signInType"] == "userPrincipalName" })
	}
	if u.PasswordHash != "" {
		obj["passwordHash"] = exportHash(u.PasswordHash)
	}
	if a.o.ExtensionAppID == "" {
		for k, v := range u.Attributes {
			if strings.HasPrefix(k, "extension_") {
				obj[k] = v // the short form: an import into Gatehouse reads it back
			}
		}
	}
	return json.Marshal(obj)
}

func exportHash(h string) PasswordHash {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		return PasswordHash{Algorithm: "argon2id", Value: h}
	case strings.HasPrefix(h, "$2"):
		return PasswordHash{Algorithm: "bcrypt", Value: h}
	case strings.HasPrefix(h, "$scrypt$"):
		return PasswordHash{Algorithm: "scrypt", Value: h}
	case strings.HasPrefix(h, "$pbkdf2-"):
		alg, _, _ := strings.Cut(strings.TrimPrefix(h, "$"), "$")
		return PasswordHash{Algorithm: alg, Value: h}
	case strings.HasPrefix(h, "$salted-"):
		alg, _, _ := strings.Cut(strings.TrimPrefix(h, "$"), "$")
		return PasswordHash{Algorithm: alg, Value: h}
	}
	return PasswordHash{Algorithm: "unknown", Value: h}
}
