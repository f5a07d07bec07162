package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/store"
)

// Graph's user properties this API reads and writes. Properties not
// stored are null when selected; unknown ones are errors, as in Graph.
var (
	defaultSelect = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
		"preferredLanguage", "surname", "userPrincipalName", "id"}
	// known are the selectable properties (extension attributes aside).
	known = []string{"id", "displayName", "givenName", "surname", "mail", "otherMails", "accountEnabled", "identities",
		"userPrincipalName", "passwordPolicies", "createdDateTime", "businessPhones", "jobTitle", "mobilePhone",
		"officeLocation", "preferredLanguage", "city", "country", "postalCode", "state", "streetAddress", "mailNickname",
		"signInSessionsValidFromDateTime", "creationType", "userType"}
	// attributeProps are kept in User.Attributes under their name.
	attributeProps = []string{"city", "country", "jobTitle", "postalCode", "state", "streetAddress", "mobilePhone",
		"officeLocation", "preferredLanguage", "mailNickname"}
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// upn is the account's userPrincipalName (B2C's default: objectId@tenant).
func (a *API) upn(u *store.User) string {
	if v := u.Attributes["userPrincipalName"]; v != "" {
		return v
	}
	return u.ID + "@" + a.o.Tenant
}

// value is one property of u as Graph shows it (nil: null).
func (a *API) value(u *store.User, prop string) any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	switch prop {
	case "id":
		return u.ID
	case "displayName":
		return str(u.DisplayName)
	case "givenName":
		return str(u.GivenName)
	case "surname":
		return str(u.Surname)
	case "mail":
		return str(u.Attributes["mail"])
	case "otherMails":
		list := []string{}
		_ = json.Unmarshal([]byte(u.Attributes["otherMails"]), &list)
		return list
	case "businessPhones":
		return []string{}
	case "accountEnabled":
		return u.Attributes["accountEnabled"] != "false"
	case "identities":
		ids := []map[string]string{}
		for _, id := range u.Identities {
			ids = append(ids, map[string]string{"signInType": id.SignInType, "issuer": id.Issuer, "issuerAssignedId": id.IssuerAssignedID})
		}
		return append(ids, map[string]string{"signInType": "userPrincipalName", "issuer": a.o.Tenant, "issuerAssignedId": a.upn(u)})
	case "userPrincipalName":
		return a.upn(u)
	case "passwordPolicies":
		return str(u.Attributes["passwordPolicies"])
	case "createdDateTime":
		return u.CreatedAt.UTC().Format(time.RFC3339)
	case "signInSessionsValidFromDateTime":
		if u.RefreshTokensValidFrom.IsZero() {
			return u.CreatedAt.UTC().Format(time.RFC3339)
		}
		return u.RefreshTokensValidFrom.UTC().Format(time.RFC3339)
	case "creationType":
		if u.PasswordHash != "" || u.Email != "" {
			return "LocalAccount"
		}
		return nil
	case "userType":
		return "Member"
	}
	if slices.Contains(attributeProps, prop) {
		return str(u.Attributes[prop])
	}
	if name, ok := a.extensionName(prop); ok {
		v, ok := u.Attributes["extension_"+name]
		if !ok {
			return nil
		}
		switch a.o.Extensions[name] {
		case "boolean":
			return v == "true"
		case "int":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		case "string":
			return v
		}
		var typed any
		if json.Unmarshal([]byte(v), &typed) == nil {
			switch typed.(type) {
			case bool, float64:
				return typed // stored typed (booleans and integers)
			}
		}
		return v
	}
	return nil
}

// extensionName is the short name of extension_{appId}_{name}.
func (a *API) extensionName(prop string) (string, bool) {
	rest, ok := strings.CutPrefix(prop, "extension_")
	if !ok {
		return "", false
	}
	app, name, ok := strings.Cut(rest, "_")
	if !ok || name == "" || len(app) != 32 || a.o.ExtensionAppID != "" && !strings.EqualFold(app, a.o.ExtensionAppID) {
		return "", false
	}
	return name, true
}

// selection is the $select list (Graph's defaults without one).
func (a *API) selection(q *request) ([]string, bool) {
	raw := q.r.URL.Query().Get("$select")
	if raw == "" {
		return defaultSelect, true
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(known, p) {
			if _, ok := a.extensionName(p); !ok {
				a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Could not find a property named '"+p+"' on type 'microsoft.graph.user'.")
				return nil, false
			}
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, true
}

// object is u as Graph answers it, with the selected properties.
func (a *API) object(u *store.User, props []string) map[string]any {
	m := make(map[string]any, len(props)+1)
	for _, p := range props {
		m[p] = a.value(u, p)
	}
	if _, ok := m["id"]; !ok {
		m["id"] = u.ID // Graph always returns the key
	}
	return m
}

func (a *API) get(q *request, id string) {
	props, ok := a.selection(q)
	if !ok {
		return
	}
	u, ok := a.find(q, id)
	if !ok {
		return
	}
	obj := a.object(u, props)
	obj["@odata.context"] = a.contextURL(q) + "/$entity"
	a.writeJSON(q, http.StatusOK, obj)
}

// find loads a user by id (or userPrincipalName), answering 404 itself.
func (a *API) find(q *request, key string) (*store.User, bool) {
	id := strings.ToLower(key)
	if !guidRE.MatchString(key) {
		if prefix, ok := strings.CutSuffix(id, "@"+strings.ToLower(a.o.Tenant)); ok && guidRE.MatchString(prefix) {
			id = prefix
		}
	}
	u, err := a.o.Users.Get(q.r.Context(), id)
	if err != nil {
		a.lookupFailed(q, key, err)
		return nil, false
	}
	return u, true
}

func (a *API) contextURL(q *request) string {
	return a.baseURL(q) + "/$metadata#users"
}

// baseURL is the API's root as the caller reached it.
func (a *API) baseURL(q *request) string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + q.r.Host + a.prefix + "/v1.0"
}

// body decodes a JSON object body (64 KiB at most), keeping numbers.
func (a *API) body(q *request) (map[string]json.RawMessage, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, maxBody))
	if err != nil {
		a.fail(q, http.StatusRequestEntityTooLarge, "Request_BadRequest", "The request body is larger than 64 KiB.")
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		a.fail(q, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload: a JSON object is expected.")
		return nil, false
	}
	return m, true
}

// apply writes the body's properties into u (create: a new user).
// A returned message is a 400 Request_BadRequest.
func (a *API) apply(u *store.User, body map[string]json.RawMessage, create bool) (password string, disable bool, msg string) {
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str := func(k string) (string, string) {
		var s *string
		if err := json.Unmarshal(body[k], &s); err != nil {
			return "", "Invalid value for property '" + k + "': a string is expected."
		}
		if s == nil {
			return "", ""
		}
		if len(*s) > 1024 {
			return "", "The value of property '" + k + "' is longer than 1024 characters."
		}
		return *s, ""
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		switch k {
		case "id":
			if !create {
				return "", false, "Property 'id' is read-only."
			}
			v, m := str(k)
			if m != "" || v != "" && !guidRE.MatchString(v) {
				return "", false, "Invalid value for property 'id': a GUID is expected."
			}
			if v != "" {
				u.ID = strings.ToLower(v)
			}
		case "displayName", "givenName", "surname":
			v, m := str(k)
			if m != "" {
				return "", false, m
			}
			switch k {
			case "displayName":
				u.DisplayName = v
			case "givenName":
				u.GivenName = v
			default:
				u.Surname = v
			}
		case "mail", "passwordPolicies", "userPrincipalName":
			v, m := str(k)
			if m != "" {
				return "", false, m
			}
			if k == "passwordPolicies" {
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" && p != "DisablePasswordExpiration" && p != "DisableStrongPassword" && p != "None" {
						return "", false, "Invalid value for property 'passwordPolicies': " + p + " is not DisablePasswordExpiration, DisableStrongPassword or None."
					}
				}
			}
			setAttr(u, k, v)
		case "otherMails":
			var list []string
			if err := json.Unmarshal(body[k], &list); err != nil || len(list) > 20 {
				return "", false, "Invalid value for property 'otherMails': an array of at most 20 strings is expected."
			}
			b, _ := json.Marshal(list)
			setAttr(u, k, string(b))
			if len(list) == 0 {
				delete(u.Attributes, k)
			}
		case "accountEnabled":
			var b bool
			if err := json.Unmarshal(body[k], &b); err != nil {
				return "", false, "Invalid value for property 'accountEnabled': a boolean is expected."
			}
			disable = !b && u.Attributes["accountEnabled"] != "false" && !create
			if b {
				delete(u.Attributes, "accountEnabled")
			} else {
				u.Attributes["accountEnabled"] = "false"
			}
		case "identities":
			if m := a.identities(u, body[k]); m != "" {
				return "", false, m
			}
		case "passwordProfile":
			var pp struct {
				Password                      *string `json:"password"`
				ForceChangePasswordNextSignIn bool    `json:"forceChangePasswordNextSignIn"`
			}
			if err := json.Unmarshal(body[k], &pp); err != nil || pp.Password == nil {
				return "", false, "Invalid value for property 'passwordProfile': an object with a password is expected."
			}
			password = *pp.Password
			if pp.ForceChangePasswordNextSignIn {
				u.Attributes["forceChangePasswordNextSignIn"] = "true"
			} else {
				delete(u.Attributes, "forceChangePasswordNextSignIn")
			}
		default:
			if slices.Contains(attributeProps, k) {
				v, m := str(k)
				if m != "" {
					return "", false, m
				}
				setAttr(u, k, v)
				continue
			}
			name, ok := a.extensionName(k)
			if !ok || len(a.o.Extensions) > 0 && a.o.Extensions[name] == "" {
				return "", false, "Property '" + k + "' does not exist on type 'microsoft.graph.user' or is read-only."
			}
			var v any
			if err := json.Unmarshal(body[k], &v); err != nil {
				return "", false, "Invalid value for property '" + k + "'."
			}
			if m := checkExtensionType(k, a.o.Extensions[name], v); m != "" {
				return "", false, m
			}
			switch x := v.(type) {
			case nil:
				delete(u.Attributes, "extension_"+name)
			case string:
				u.Attributes["extension_"+name] = x
			case bool, float64:
				u.Attributes["extension_"+name] = string(bytes.TrimSpace(body[k]))
			default:
				return "", false, "Invalid value for property '" + k + "': a string, number or boolean is expected."
			}
		}
	}
	if password != "" {
		if m := checkPassword(password, strings.Contains(u.Attributes["passwordPolicies"], "DisableStrongPassword")); m != "" {
			return "", false, m
		}
	}
	return password, disable, ""
}

// checkExtensionType checks a value against its declared type (none
// declared: any scalar).
func checkExtensionType(prop, typ string, v any) string {
	if v == nil {
		return ""
	}
	switch typ {
	case "string":
		if _, ok := v.(string); !ok {
			return "Invalid value for property '" + prop + "': a string is expected."
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "Invalid value for property '" + prop + "': a boolean is expected."
		}
	case "int":
		f, ok := v.(float64)
		if !ok || f != float64(int32(f)) {
			return "Invalid value for property '" + prop + "': a 32-bit integer is expected."
		}
	}
	return ""
}

func setAttr(u *store.User, k, v string) {
	if v == "" {
		delete(u.Attributes, k)
		return
	}
	u.Attributes[k] = v
}

// identities replaces u's identities with the given ones: emailAddress and
// userName of this tenant, federated of any issuer; userPrincipalName is
// derived and ignored.
func (a *API) identities(u *store.User, raw json.RawMessage) string {
	var in []struct {
		SignInType, Issuer, IssuerAssignedID string
	}
	if err := json.Unmarshal(raw, &in); err != nil || len(in) > 10 {
		return "Invalid value for property 'identities': an array of at most 10 objectIdentity objects is expected."
	}
	var out []store.Identity
	email := ""
	for _, id := range in {
		switch id.SignInType {
		case "emailAddress", "userName":
			if !strings.EqualFold(id.Issuer, a.o.Tenant) {
				return "The issuer of a " + id.SignInType + " identity must be the tenant, " + a.o.Tenant + "."
			}
			v := strings.TrimSpace(id.IssuerAssignedID)
			if v == "" || len(v) > 256 {
				return "An identity's issuerAssignedId is required (at most 256 characters)."
			}
			if id.SignInType == "emailAddress" {
				if email != "" {
					return "Only one emailAddress identity is supported."
				}
				if !strings.Contains(v, "@") {
					return "The issuerAssignedId of an emailAddress identity must be an email address."
				}
				v = strings.ToLower(v)
				email = v
			}
			out = append(out, store.Identity{SignInType: id.SignInType, Issuer: a.o.Tenant, IssuerAssignedID: v})
		case "federated":
			if id.Issuer == "" || id.IssuerAssignedID == "" || len(id.Issuer) > 256 || len(id.IssuerAssignedID) > 256 {
				return "A federated identity needs an issuer and an issuerAssignedId (at most 256 characters each)."
			}
			out = append(out, store.Identity{SignInType: "federated", Issuer: id.Issuer, IssuerAssignedID: id.IssuerAssignedID})
		case "userPrincipalName":
		default:
			return "Invalid signInType '" + id.SignInType + "': emailAddress, userName, federated or userPrincipalName."
		}
	}
	u.Identities, u.Email = out, email
	return ""
}

// checkPassword applies B2C's rules to a password set through Graph:
// 8–64 characters and three of lower case, upper case, digits and symbols
// (strong), or 8–256 characters with DisableStrongPassword.
func checkPassword(pw string, simple bool) string {
	n := len([]rune(pw))
	if simple {
		if n < 8 || n > 256 {
			return "The specified password does not comply with password complexity requirements: 8 to 256 characters."
		}
		return ""
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if n < 8 || n > 64 || classes < 3 {
		return "The specified password does not comply with password complexity requirements: 8 to 64 characters, three of lower case, upper case, digits and symbols."
	}
	return ""
}

func (a *API) create(q *request) {
	body, ok := a.body(q)
	if !ok {
		return
	}
	now := a.o.Now()
	u := &store.User{ID: newGUID(), CreatedAt: now, UpdatedAt: now}
	password, _, msg := a.apply(u, body, true)
	switch {
	case msg != "":
	case u.DisplayName == "":
		msg = "Invalid value specified for property 'displayName' of resource 'User'."
	case len(u.Identities) == 0:
		msg = "A local account needs identities (emailAddress or userName, issuer " + a.o.Tenant + ") or a federated identity."
	case password == "" && hasLocal(u):
		msg = "A local account needs a passwordProfile with a password."
	}
	if msg != "" {
		a.fail(q, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	if password != "" {
		h, err := a.o.HashPassword(q.r.Context(), password)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		u.PasswordHash = h
	}
	if err := a.o.Users.Create(q.r.Context(), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property identities (or id) already exists.")
			return
		}
		a.storeFailed(q, err)
		return
	}
	a.audit(q, "users.create", u.ID)
	obj := a.object(u, append(slices.Clone(defaultSelect), "identities", "accountEnabled", "createdDateTime", "passwordPolicies", "otherMails"))
	obj["@odata.context"] = a.contextURL(q) + "/$entity"
	q.w.Header().Set("Location", a.baseURL(q)+"/users/"+u.ID)
	a.writeJSON(q, http.StatusCreated, obj)
}

func hasLocal(u *store.User) bool {
	return slices.ContainsFunc(u.Identities, func(id store.Identity) bool { return id.SignInType != "federated" })
}

func (a *API) patch(q *request, key string) {
	body, ok := a.body(q)
	if !ok {
		return
	}
	u, ok := a.find(q, key)
	if !ok {
		return
	}
	password, disable, msg := a.apply(u, body, false)
	if msg == "" && len(u.Identities) == 0 {
		msg = "An account keeps at least one identity."
	}
	if msg != "" {
		a.fail(q, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	ctx := q.r.Context()
	now := a.o.Now()
	if password != "" {
		h, err := a.o.HashPassword(ctx, password)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		u.PasswordHash = h
	}
	if disable {
		// A disabled account's sessions and refresh tokens stop working.
		u.RefreshTokensValidFrom = now
	}
	u.UpdatedAt = now
	if err := a.o.Users.Update(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property identities already exists.")
			return
		}
		a.lookupFailed(q, key, err)
		return
	}
	if disable && a.o.Sessions != nil {
		if err := a.o.Sessions.DeleteUser(ctx, u.ID); err != nil {
			a.storeFailed(q, err)
			return
		}
	}
	a.audit(q, "users.update", u.ID, slog.Bool("disabled", disable), slog.Bool("passwordReset", password != ""))
	q.w.WriteHeader(http.StatusNoContent)
}

func (a *API) delete(q *request, key string) {
	u, ok := a.find(q, key)
	if !ok {
		return
	}
	// Restorable for DeletedRetention (Graph's deletedItems).
	if err := store.DeleteUser(q.r.Context(), u, a.o.Now(), a.o.Users, a.o.DeletedUsers, a.o.Sessions, a.o.Refresh); err != nil {
		a.storeFailed(q, err)
		return
	}
	a.audit(q, "users.delete", u.ID)
	q.w.WriteHeader(http.StatusNoContent)
}

func (a *API) count(q *request) {
	if !strings.EqualFold(q.r.Header.Get("ConsistencyLevel"), "eventual") {
		a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Count is only supported with the header ConsistencyLevel: eventual.")
		return
	}
	n, err := a.o.Users.Count(q.r.Context())
	if err != nil {
		a.storeFailed(q, err)
		return
	}
	q.w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(q.w, n)
}
