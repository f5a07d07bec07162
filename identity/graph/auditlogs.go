package graph

import (
	"encoding/base64"
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
	top := defaultTop
	if s := v.Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTop {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+s+"'. Must be between 1 and 999 inclusive.")
			return
		}
		top = n
	}
	before := ""
	if s := v.Get("$skiptoken"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) > 64 {
			a.fail(q, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not one this API gave.")
			return
		}
		before = string(b)
	}
	page, err := a.o.AuditLog.Page(q.r.Context(), kinds, before, top)
	if err != nil {
		a.storeFailed(q, err)
		return
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
	if len(page) == top {
		nv := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].ID))}}
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
	if strings.HasPrefix(action, "keys.") {
		category = "KeyManagement"
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
	case e.Attrs["operator"] != "":
		initiated["user"] = map[string]any{"userPrincipalName": e.Attrs["operator"], "ipAddress": "command line"}
	}
	target := cmpOr(e.Attrs["target"], e.Attrs["userId"], e.Attrs["container"], e.Attrs["connector"])
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

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
