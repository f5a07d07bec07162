// Package graph serves the Microsoft Graph–compatible directory API that
// B2C tenants' migration scripts, back offices and support tools call:
// {publicUrl}/graph/v1.0/users with Graph's user shape, query options
// ($select, $filter, $top, $count, @odata.nextLink), errors and headers.
// Callers are apps holding a Graph token of the tenant (the tenant-level
// token endpoint, scope https://graph.microsoft.com/.default) whose roles
// grant User.Read.All or User.ReadWrite.All.
package graph

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/clientip"
	"github.com/gatehouse/gatehouse/store"
)

// Verifier checks a bearer token and returns the calling app and its
// Graph roles (identity.Provider.VerifyGraphToken).
type Verifier func(ctx context.Context, bearer string) (appID string, roles []string, err error)

// The roles (application permissions) the API knows.
const (
	RoleRead      = "User.Read.All"
	RoleReadWrite = "User.ReadWrite.All"
)

// Options configure the API.
type Options struct {
	Users    store.Users
	Sessions store.Sessions
	Refresh  store.RefreshTokens
	// AuditLog is read by /auditLogs (nil: not served).
	AuditLog store.AuditLog
	// DeletedUsers keeps deleted accounts for /directory/deletedItems (nil:
	// DELETE is final).
	DeletedUsers store.DeletedUsers
	// Throttles count each app's requests (RequestsPerApp per Window;
	// 0: 1,000 per 10 seconds, in the range of Graph's own limits).
	Throttles      store.Throttles
	RequestsPerApp int
	Window         time.Duration
	Verify         Verifier
	// Tenant is the tenant's domain (contoso.onmicrosoft.com): the issuer of
	// local identities and of default userPrincipalNames.
	Tenant string
	// ExtensionAppID is the b2c-extensions-app's client id without dashes:
	// extension attributes are extension_{ExtensionAppID}_{name} on the wire.
	ExtensionAppID string
	// Extensions are the declared extension attributes and their types
	// (string, boolean, int); empty: any, kept as given.
	Extensions map[string]string
	// HashPassword hashes a password for the store (argon2id).
	HashPassword func(ctx context.Context, password string) (string, error)
	// Audit records a change (the audit log's directoryAudits): action,
	// then who, what and from where.
	Audit  func(ctx context.Context, action string, attrs ...slog.Attr)
	Now    func() time.Time
	Logger *slog.Logger
}

// API is the directory API: mount it at {publicUrl}/graph/.
type API struct {
	o      Options
	prefix string // the path up to and with /graph
}

// New returns the API serving paths under prefix (e.g. "/graph").
func New(prefix string, o Options) *API {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RequestsPerApp <= 0 {
		o.RequestsPerApp, o.Window = 1000, 10*time.Second
	}
	return &API{o: o, prefix: strings.TrimRight(prefix, "/")}
}

// maxBody bounds a request body (a user object is a few KiB).
const maxBody = 64 << 10

// request is one call: its ids for the headers and errors.
type request struct {
	w            http.ResponseWriter
	r            *http.Request
	id, clientID string
	appID        string
	actor        string // who the audit log names: app:{appId} or user:{id}
	roles        []string
}

// Caller is who calls the API in-process (ServeAs): the admin console
// acting for a signed-in administrator.
type Caller struct {
	AppID string   // throttled as this app
	Actor string   // named in the audit log (user:{id})
	Roles []string // Graph roles granted
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, nil)
}

// ServeAs serves a request for a caller already authenticated (the
// console's session): everything but the bearer check is as for an app,
// the per-app limit, validation and the audit log included.
func (a *API) ServeAs(w http.ResponseWriter, r *http.Request, c Caller) {
	a.serve(w, r, &c)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, caller *Caller) {
	q := &request{w: w, r: r, id: newGUID()}
	q.clientID = r.Header.Get("client-request-id")
	if q.clientID == "" || len(q.clientID) > 64 {
		q.clientID = q.id
	}
	w.Header().Set("request-id", q.id)
	w.Header().Set("client-request-id", q.clientID)
	w.Header().Set("Cache-Control", "no-store")
	rest, ok := strings.CutPrefix(r.URL.Path, a.prefix+"/v1.0/")
	if !ok {
		a.fail(q, http.StatusBadRequest, "BadRequest", "Invalid version: the API is at /graph/v1.0.")
		return
	}
	if caller != nil {
		q.appID, q.actor, q.roles = caller.AppID, caller.Actor, caller.Roles
	} else if !a.authenticate(q) {
		return
	}
	if a.o.Throttles != nil {
		n, ends, err := a.o.Throttles.Hit(r.Context(), "graph:app:"+q.appID, 1, a.o.Now(), a.o.Window)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		if n > a.o.RequestsPerApp {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(ends.Sub(a.o.Now()).Seconds()+0.999))))
			a.fail(q, http.StatusTooManyRequests, "TooManyRequests", fmt.Sprintf("Too many requests: at most %d per %s for an application.", a.o.RequestsPerApp, a.o.Window))
			return
		}
	}
	a.route(q, rest)
}

// authenticate checks the bearer token and takes the app and its roles
// from it.
func (a *API) authenticate(q *request) bool {
	r := q.r
	auth := r.Header.Get("Authorization")
	bearer, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || bearer == "" {
		a.fail(q, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	app, roles, err := a.o.Verify(r.Context(), bearer)
	if err != nil {
		a.fail(q, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience, issuer, signature or lifetime.")
		return false
	}
	q.appID, q.actor, q.roles = app, "app:"+app, roles
	return true
}

// route dispatches a request by its path after /v1.0/.
func (a *API) route(q *request, rest string) {
	r := q.r
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if segs[0] == "auditLogs" && len(segs) == 2 && r.Method == http.MethodGet {
		if !q.has(RoleAuditRead) {
			a.fail(q, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return
		}
		a.auditLogs(q, segs[1])
		return
	}
	if segs[0] == "directory" && len(segs) >= 3 && segs[1] == "deletedItems" {
		a.deletedItems(q, segs[2:])
		return
	}
	if segs[0] != "users" || len(segs) > 2 {
		a.fail(q, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+segs[0]+"'.")
		return
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !q.has(RoleReadWrite) && (write || !q.has(RoleRead)) {
		a.fail(q, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodGet:
		a.list(q)
	case len(segs) == 1 && r.Method == http.MethodPost:
		a.create(q)
	case len(segs) == 2 && segs[1] == "$count" && r.Method == http.MethodGet:
		a.count(q)
	case len(segs) == 2 && r.Method == http.MethodGet:
		a.get(q, segs[1])
	case len(segs) == 2 && r.Method == http.MethodPatch:
		a.patch(q, segs[1])
	case len(segs) == 2 && r.Method == http.MethodDelete:
		a.delete(q, segs[1])
	default:
		a.fail(q, http.StatusMethodNotAllowed, "Request_BadRequest", "The method "+r.Method+" is not allowed on this resource.")
	}
}

// audit records a change made by this request.
func (a *API) audit(q *request, action, userID string, attrs ...slog.Attr) {
	all := append([]slog.Attr{slog.String("actor", q.actor), slog.String("target", userID),
		slog.String("correlation", q.id), slog.String("ip", clientip.Host(q.r.RemoteAddr)) /* the peer: no forwarding header is trusted here */}, attrs...)
	if a.o.Audit != nil {
		a.o.Audit(q.r.Context(), action, all...)
	}
	a.o.Logger.Info("graph: "+action, "user", userID, "app", q.appID, "request_id", q.id)
}

func (q *request) has(role string) bool {
	for _, r := range q.roles {
		if r == role {
			return true
		}
	}
	return false
}

// fail writes Graph's error shape.
func (a *API) fail(q *request, status int, code, msg string) {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	_ = json.NewEncoder(q.w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]string{"date": a.o.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": q.id, "client-request-id": q.clientID}}})
}

// lookupFailed answers a failed read of the object named key: Graph's
// 404 when it is not there, storeFailed otherwise.
func (a *API) lookupFailed(q *request, key string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		a.fail(q, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	a.storeFailed(q, err)
}

func (a *API) storeFailed(q *request, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		q.w.Header().Set("Retry-After", "5")
		a.fail(q, http.StatusServiceUnavailable, "serviceNotAvailable", "The directory is temporarily unavailable. Retry later.")
		return
	}
	a.o.Logger.Error("graph: store", "err", err, "request_id", q.id)
	a.fail(q, http.StatusInternalServerError, "generalException", "An internal error occurred.")
}

func (a *API) writeJSON(q *request, status int, v any) {
	q.w.Header().Set("Content-Type", "application/json;odata.metadata=minimal")
	q.w.WriteHeader(status)
	_ = json.NewEncoder(q.w).Encode(v)
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
