package graph

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// RoleAuditRead reads the audit log (Graph's AuditLog.Read.All).
const RoleAuditRead = "AuditLog.Read.All"

// signInKinds are the audit kinds /auditLogs/signIns lists, with Entra's
// error code and reason for each.
var signInKinds = map[string]struct {
	code   int
	reason string
}{
	"signin_succeeded":   {0, ""},
	"signin_failed":      {50126, "Error validating credentials due to invalid username or password."},
	"signin_locked":      {50053, "Account is locked because the user tried to sign in too many times with an incorrect user ID or password."},
	"account_locked":     {50053, "Account is locked because the user tried to sign in too many times with an incorrect user ID or password."},
	"code_failed":        {500121, "Authentication failed during strong authentication request."},
	"client_auth_failed": {7000215, "Invalid client secret provided."},
}

// auditLogs serves /auditLogs/signIns and /auditLogs/directoryAudits:
// newest first, $top (1–999, default 100) and @odata.nextLink.
func (a *API) auditLogs(q *request, which string) {
	if a.o.AuditLog == nil {
		a.fail(q, http.StatusNotFound, "Request_ResourceNotFound", "The audit log is not kept here.")
		return
	}
	var kinds []string
	switch which {
	case "signIns":
		for k := range signInKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
	case "directoryAudits":
		kinds = []string{"admin_action", "connector_failed"}
	default:
		a.fail(q, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+which+"'.")
		return
	}
	v := q.r.URL.Query()
	top, before, ok := a.paging(q)
	if !ok {
		return
	}
	f, err := parseAuditFilter(v.Get("$filter"))
	if err != nil {
		a.fail(q, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	if f.until != "" && (before == "" || f.until < before) {
		before = f.until
	}
	// Newest first: read pages until top events match, the events are
	// older than the filter's start, or maxScan were read.
	var page []*store.AuditEvent
	scanned, cursor, more := 0, before, false
scan:
	for {
		batch, err := a.o.AuditLog.Page(q.r.Context(), kinds, cursor, scanPage)
		if err != nil {
			a.storeFailed(q, err)
			return
		}
		for _, e := range batch {
			cursor = e.ID
			scanned++
			if e.ID < f.since {
				break scan
			}
			if f.match(e) {
				page = append(page, e)
				if len(page) == top {
					more = true
					break scan
				}
			}
			if scanned >= maxScan {
				more = true
				break scan
			}
		}
		if len(batch) < scanPage {
			break
		}
	}
	list := make([]map[string]any, 0, len(page))
	for _, e := range page {
		if which == "signIns" {
			list = append(list, signIn(e))
		} else {
			list = append(list, directoryAudit(e))
		}
	}
	out := map[string]any{"@odata.context": a.baseURL(q) + "/$metadata#auditLogs/" + which, "value": list}
	if more {
		nv := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {base64.RawURLEncoding.EncodeToString([]byte(cursor))}}
		if s := v.Get("$filter"); s != "" {
			nv.Set("$filter", s)
		}
		out["@odata.nextLink"] = a.baseURL(q) + "/auditLogs/" + which + "?" + nv.Encode()
	}
	a.writeJSON(q, http.StatusOK, out)
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// signIn is an event in the shape of Graph's signIn resource.
func signIn(e *store.AuditEvent) map[string]any {
	k := signInKinds[e.Kind]
	req := "singleFactorAuthentication"
	if e.Attrs["mfa"] == "true" {
		req = "multiFactorAuthentication"
	}
	return map[string]any{"id": e.ID, "createdDateTime": e.Time.UTC().Format(time.RFC3339), "userId": orNil(e.Attrs["user"]),
		"appId": orNil(e.Attrs["client"]), "ipAddress": orNil(e.Attrs["ip"]), "correlationId": orNil(e.Attrs["correlation"]),
		"isInteractive": e.Attrs["sso"] != "true", "authenticationRequirement": req, "userFlow": orNil(e.Attrs["flow"]),
		// The keyed hash of the address typed (Gatehouse's events never
		// hold the address itself).
		"accountHash": orNil(e.Attrs["account"]), "eventType": e.Kind,
		"status": map[string]any{"errorCode": k.code, "failureReason": orNil(k.reason)}}
}

// directoryAudit is an event in the shape of Graph's directoryAudit.
func directoryAudit(e *store.AuditEvent) map[string]any {
	action, category, result := e.Attrs["action"], "UserManagement", "success"
	switch {
	case strings.HasPrefix(action, "keys."):
		category = "KeyManagement"
	case strings.HasPrefix(action, "policies."):
		category = "Policy"
	}
	if e.Kind == "connector_failed" {
		// A call to the customer's API that failed (B2C shows these as
		// the API connector's errors).
		action, category, result = "connectors.call", "ApiConnectors", "failure"
	}
	initiated := map[string]any{}
	switch actor := e.Attrs["actor"]; {
	case strings.HasPrefix(actor, "app:"):
		initiated["app"] = map[string]any{"appId": strings.TrimPrefix(actor, "app:")}
	case strings.HasPrefix(actor, "user:"):
		// An administrator in the console.
		initiated["user"] = map[string]any{"id": strings.TrimPrefix(actor, "user:"), "ipAddress": orNil(e.Attrs["ip"])}
	case e.Attrs["operator"] != "":
		initiated["user"] = map[string]any{"userPrincipalName": e.Attrs["operator"], "ipAddress": "command line"}
	}
	target := cmp.Or(e.Attrs["target"], e.Attrs["userId"], e.Attrs["container"], e.Attrs["connector"])
	details := []map[string]string{}
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "action", "actor", "target", "correlation", "operator":
		default:
			details = append(details, map[string]string{"key": k, "value": e.Attrs[k]})
		}
	}
	return map[string]any{"id": e.ID, "activityDateTime": e.Time.UTC().Format(time.RFC3339), "activityDisplayName": action,
		"category": category, "result": result, "correlationId": orNil(e.Attrs["correlation"]), "initiatedBy": initiated,
		"targetResources": []map[string]any{{"id": orNil(target), "type": "User"}}, "additionalDetails": details}
}

// auditFilter is an audit log $filter: createdDateTime (or
// activityDateTime) ge / le an ISO 8601 time, and userId eq '…' (the
// signed-in or changed account), joined by and.
type auditFilter struct {
	since, until string // id bounds: events at or after since, before until
	userID       string
}

func (f auditFilter) match(e *store.AuditEvent) bool {
	return f.userID == "" || strings.EqualFold(cmp.Or(e.Attrs["user"], e.Attrs["target"], e.Attrs["userId"]), f.userID)
}

func parseAuditFilter(s string) (auditFilter, error) {
	var f auditFilter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	if len(s) > maxFilter {
		return f, unsupported("The $filter is longer than 2048 characters.")
	}
	toks, err := tokenize(s)
	if err != nil {
		return f, err
	}
	for i := 0; i < len(toks); {
		if i+2 >= len(toks) {
			return f, unsupported("Unsupported or invalid query filter: createdDateTime ge|le <time> and userId eq '<id>', joined by and.")
		}
		prop, op, val := toks[i].text, strings.ToLower(toks[i+1].text), toks[i+2].text
		switch {
		case (prop == "createdDateTime" || prop == "activityDateTime") && (op == "ge" || op == "le"):
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return f, unsupportedf("Unsupported or invalid query filter: %q is not an ISO 8601 date and time.", val)
			}
			if op == "ge" {
				f.since = idBound(t)
			} else {
				f.until = idBound(t.Add(time.Nanosecond))
			}
		case prop == "userId" && op == "eq" && toks[i+2].str:
			f.userID = val
		default:
			return f, unsupportedf("Unsupported or invalid query filter clause specified for property '%s'.", prop)
		}
		i += 3
		if i < len(toks) {
			if !strings.EqualFold(toks[i].text, "and") || toks[i].str {
				return f, unsupported("Unsupported or invalid query filter: clauses are joined by and.")
			}
			i++
		}
	}
	return f, nil
}

// idBound is the event-id prefix of time t (ids are nanoseconds in hex),
// clamped to the nanoseconds an int64 holds (1970 to 2262).
func idBound(t time.Time) string {
	switch {
	case t.Before(time.Unix(0, 0)):
		return fmt.Sprintf("%016x", 0)
	case t.After(time.Unix(0, math.MaxInt64)):
		return "ffffffffffffffff"
	}
	return fmt.Sprintf("%016x", t.UnixNano())
}
