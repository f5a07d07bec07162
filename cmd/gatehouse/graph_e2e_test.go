package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

const (
	graphAdminID, graphReaderID, graphNoneID = "44444444-4444-4444-8444-444444444441", "44444444-4444-4444-8444-444444444442", "44444444-4444-4444-8444-444444444443"
	graphAuditorID                           = "44444444-4444-4444-8444-444444444444"
	graphSecret                              = "graph-app-secret-0123456789"
)

// graphClient calls the directory API with an app's Graph token.
type graphClient struct {
	t     *testing.T
	base  string
	token string
}

type graphAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (g *graphClient) do(method, path string, body any, header ...string) graphAnswer {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.base+path, rd)
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := graphAnswer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

// graphError is the code of Graph's error shape, checking the shape.
func graphError(t *testing.T, a graphAnswer) string {
	t.Helper()
	e, _ := a.body["error"].(map[string]any)
	inner, _ := e["innerError"].(map[string]any)
	if e == nil || inner == nil || inner["request-id"] != a.header.Get("request-id") || inner["date"] == nil {
		t.Fatalf("not Graph's error shape (%d): %s", a.status, a.raw)
	}
	code, _ := e["code"].(string)
	return code
}

// TestGraphUsers runs the Microsoft Graph–compatible directory API
// through the binary: Graph tokens from the tenant-level token endpoint,
// roles, the user shape of B2C local accounts, $select, $filter, paging,
// $count, PATCH (disable, password reset), DELETE, Graph's errors and
// headers, and the per-app limit.
func TestGraphUsers(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, _, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  email: { outbox: ./outbox }
  throttle: { graphRequestsPerApp: { limit: 200, window: 1h } }
  extensionsAppId: 01234567-89ab-cdef-0123-456789abcdef
  extensionAttributes: [{ name: loyaltyId, type: string }, { name: vip, type: boolean }]
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
    - { name: Admin, clientId: %s, type: daemon, clientSecrets: [env:GRAPH_SECRET], graphPermissions: [User.ReadWrite.All] }
    - { name: Reader, clientId: %s, type: daemon, clientSecrets: [env:GRAPH_SECRET], graphPermissions: [User.Read.All] }
    - { name: Nothing, clientId: %s, type: daemon, clientSecrets: [env:GRAPH_SECRET] }
    - { name: Auditor, clientId: %s, type: daemon, clientSecrets: [env:GRAPH_SECRET], graphPermissions: [AuditLog.Read.All] }
  userFlows:
    - { name: B2C_1_susi, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId] }
`, webClientID, callback, graphAdminID, graphReaderID, graphNoneID, graphAuditorID))
	env = append(env, "GRAPH_SECRET="+graphSecret)
	startServe(t, file, env, "identity")
	ctx := context.Background()
	tokenURL := publicURL + "/contoso.onmicrosoft.com/oauth2/v2.0/token"
	tokenOf := func(id string) string {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: graphSecret, TokenURL: tokenURL, Scopes: []string{"https://graph.microsoft.com/.default"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("Graph token for %s: %v", id, err)
		}
		return tok.AccessToken
	}
	base := publicURL + "/graph/v1.0"
	admin := &graphClient{t: t, base: base, token: tokenOf(graphAdminID)}
	reader := &graphClient{t: t, base: base, token: tokenOf(graphReaderID)}
	nothing := &graphClient{t: t, base: base, token: tokenOf(graphNoneID)}
	anonymous := &graphClient{t: t, base: base}

	// Who may do what.
	a := anonymous.do("GET", "/users", nil, "client-request-id", "my-req-1")
	if a.status != 401 || graphError(t, a) != "InvalidAuthenticationToken" || a.header.Get("client-request-id") != "my-req-1" || a.header.Get("request-id") == "" {
		t.Fatalf("no token: %d %v %s", a.status, a.header, a.raw)
	}
	forged := &graphClient{t: t, base: base, token: admin.token[:len(admin.token)-4] + "AAAA"}
	if a := forged.do("GET", "/users", nil); a.status != 401 {
		t.Fatalf("a forged token: %d %s", a.status, a.raw)
	}
	if a := nothing.do("GET", "/users", nil); a.status != 403 || graphError(t, a) != "Authorization_RequestDenied" {
		t.Fatalf("no roles: %d %s", a.status, a.raw)
	}
	if a := reader.do("POST", "/users", map[string]any{"displayName": "x"}); a.status != 403 {
		t.Fatalf("User.Read.All writes: %d %s", a.status, a.raw)
	}
	// A policy's token (another audience) is not a Graph token.
	if resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"authorization_code"}, "client_id": {graphAdminID}, "client_secret": {graphSecret}}); err != nil || resp.StatusCode != 400 {
		t.Fatalf("the tenant endpoint takes client_credentials only: %v %v", resp, err)
	}

	// Create local accounts (one keeping its id, as a migration does).
	const keptID = "0a1b2c3d-0000-4000-8000-00000000abcd"
	user := func(email, name, pw string) map[string]any {
		return map[string]any{"accountEnabled": true, "displayName": name, "givenName": strings.Fields(name)[0],
			"identities":       []map[string]string{{"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": email}},
			"passwordProfile":  map[string]any{"password": pw, "forceChangePasswordNextSignIn": false},
			"passwordPolicies": "DisablePasswordExpiration"}
	}
	first := user("Alice@Example.com", "Alice Alder", "Correct-Horse-9")
	first["id"] = keptID
	first["extension_0123456789abcdef0123456789abcdef_loyaltyId"] = "L-42"
	a = admin.do("POST", "/users", first)
	if a.status != 201 || a.body["id"] != keptID || a.header.Get("Location") != base+"/users/"+keptID {
		t.Fatalf("create: %d %v %s", a.status, a.header.Get("Location"), a.raw)
	}
	ids, _ := a.body["identities"].([]any)
	if len(ids) != 2 || !strings.Contains(a.raw, `"issuerAssignedId":"alice@example.com"`) || a.body["userPrincipalName"] != keptID+"@contoso.onmicrosoft.com" {
		t.Fatalf("created user's identities: %s", a.raw)
	}
	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"weak password", user("bob@example.com", "Bob", "password")},
		{"same address", user("alice@example.com", "Alice Two", "Correct-Horse-9")},
		{"foreign issuer", map[string]any{"displayName": "X", "passwordProfile": map[string]any{"password": "Correct-Horse-9"},
			"identities": []map[string]string{{"signInType": "emailAddress", "issuer": "fabrikam.com", "issuerAssignedId": "x@example.com"}}}},
		{"unknown property", map[string]any{"displayName": "X", "shoeSize": 44}},
		{"undeclared extension", map[string]any{"displayName": "X", "extension_0123456789abcdef0123456789abcdef_shoe": "44"}},
		{"another app's extension", map[string]any{"displayName": "X", "extension_ffffffffffffffffffffffffffffffff_loyaltyId": "L"}},
		{"mistyped extension", map[string]any{"displayName": "X", "extension_0123456789abcdef0123456789abcdef_vip": "yes"}},
		{"no identities", map[string]any{"displayName": "X"}},
	} {
		if a := admin.do("POST", "/users", c.body); a.status != 400 || graphError(t, a) != "Request_BadRequest" {
			t.Errorf("%s: %d %s", c.name, a.status, a.raw)
		}
	}
	for i, n := range []string{"Alfred Ash", "Bea Birch", "Cy Cedar", "Di Dogwood"} {
		if a := admin.do("POST", "/users", user(fmt.Sprintf("u%d@example.com", i), n, "Correct-Horse-9")); a.status != 201 {
			t.Fatalf("create %s: %d %s", n, a.status, a.raw)
		}
	}

	// Read: $select, unknown properties, 404.
	a = reader.do("GET", "/users/"+keptID+"?$select=id,displayName,identities,accountEnabled,extension_0123456789abcdef0123456789abcdef_loyaltyId", nil)
	if a.status != 200 || a.body["accountEnabled"] != true || a.body["extension_0123456789abcdef0123456789abcdef_loyaltyId"] != "L-42" || a.body["mail"] != nil {
		t.Fatalf("get with $select: %d %s", a.status, a.raw)
	}
	if a := admin.do("PATCH", "/users/"+keptID, map[string]any{"extension_0123456789abcdef0123456789abcdef_vip": true}); a.status != 204 {
		t.Fatalf("typed extension: %d %s", a.status, a.raw)
	}
	if a := reader.do("GET", "/users/"+keptID+"?$select=extension_0123456789abcdef0123456789abcdef_vip", nil); a.body["extension_0123456789abcdef0123456789abcdef_vip"] != true {
		t.Fatalf("a boolean extension reads back as %s", a.raw)
	}
	if a := reader.do("GET", "/users/"+keptID+"?$select=shoeSize", nil); a.status != 400 {
		t.Errorf("unknown $select: %d %s", a.status, a.raw)
	}
	if a := reader.do("GET", "/users/5b1b2c3d-0000-4000-8000-00000000dead", nil); a.status != 404 || graphError(t, a) != "Request_ResourceNotFound" {
		t.Errorf("missing user: %d %s", a.status, a.raw)
	}

	// Paging: $top=2 through five accounts by @odata.nextLink, each once.
	seen := map[string]bool{}
	next := "/users?$top=2&$select=id,displayName"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		a = reader.do("GET", next, nil)
		if a.status != 200 {
			t.Fatalf("page: %d %s", a.status, a.raw)
		}
		for _, v := range a.body["value"].([]any) {
			id := v.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		link, _ := a.body["@odata.nextLink"].(string)
		next = strings.TrimPrefix(link, base)
	}
	if len(seen) != 5 {
		t.Fatalf("paged %d accounts, want 5", len(seen))
	}

	// $filter as B2C scripts write it.
	for filter, want := range map[string]int{
		"identities/any(c:c/issuerAssignedId eq 'alice@example.com' and c/issuer eq 'contoso.onmicrosoft.com')": 1,
		"startswith(displayName,'Al')":                           2,
		"id eq '" + keptID + "'":                                 1,
		"accountEnabled eq true and startswith(displayName,'B')": 1,
		"displayName eq 'nobody'":                                0,
	} {
		a = reader.do("GET", "/users?$filter="+url.QueryEscape(filter), nil)
		if got, _ := a.body["value"].([]any); a.status != 200 || len(got) != want {
			t.Errorf("$filter %s: %d %s, want %d", filter, a.status, a.raw, want)
		}
	}
	if a := reader.do("GET", "/users?$filter="+url.QueryEscape("jobTitle eq 'x' or id eq 'y'"), nil); a.status != 400 || graphError(t, a) != "Request_UnsupportedQuery" {
		t.Errorf("unsupported filter: %d %s", a.status, a.raw)
	}
	if a := reader.do("GET", "/users/$count", nil); a.status != 400 {
		t.Errorf("$count without ConsistencyLevel: %d %s", a.status, a.raw)
	}
	if a := reader.do("GET", "/users/$count", nil, "ConsistencyLevel", "eventual"); a.status != 200 || strings.TrimSpace(a.raw) != "5" {
		t.Errorf("$count: %d %q", a.status, a.raw)
	}

	// The account signs in with the password Graph set.
	signIn := func(email, pw string) *testutil.Page {
		b := testutil.NewBrowser(t, callback, nil)
		p, _, _, _ := authorizePolicy(t, ctx, b, publicURL, "B2C_1_susi", callback)
		return b.Submit(p, "next", map[string]string{"signInName": email, "password": pw})
	}
	if p := signIn("alice@example.com", "Correct-Horse-9"); p.Status != http.StatusFound && !strings.Contains(p.URL.String(), "code=") {
		t.Fatalf("sign-in with the Graph password: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	// Disable: the sign-in is refused; enable and reset the password.
	if a := admin.do("PATCH", "/users/"+keptID, map[string]any{"accountEnabled": false}); a.status != 204 {
		t.Fatalf("disable: %d %s", a.status, a.raw)
	}
	if p := signIn("alice@example.com", "Correct-Horse-9"); !strings.Contains(p.Body, "Contact your support person to unlock it") /* B2C's UserMessageIfUserAccountDisabled */ {
		t.Fatalf("a disabled account signed in: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if a := admin.do("PATCH", "/users/"+keptID, map[string]any{"accountEnabled": true, "passwordProfile": map[string]any{"password": "Another-Horse-7"}}); a.status != 204 {
		t.Fatalf("enable and reset: %d %s", a.status, a.raw)
	}
	if p := signIn("alice@example.com", "Another-Horse-7"); p.Status != http.StatusFound && !strings.Contains(p.URL.String(), "code=") {
		t.Fatalf("sign-in after the reset: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	// forceChangePasswordNextSignIn: the next sign-in asks for a new password.
	if a := admin.do("PATCH", "/users/"+keptID, map[string]any{"passwordProfile": map[string]any{"password": "Third-Horse-55", "forceChangePasswordNextSignIn": true}}); a.status != 204 {
		t.Fatalf("forced change: %d %s", a.status, a.raw)
	}
	fb := testutil.NewBrowser(t, callback, nil)
	fp, _, _, _ := authorizePolicy(t, ctx, fb, publicURL, "B2C_1_susi", callback)
	fp = fb.Submit(fp, "next", map[string]string{"signInName": "alice@example.com", "password": "Third-Horse-55"})
	if !strings.Contains(fp.Body, `id="newPassword"`) {
		t.Fatalf("no password change page after a forced reset: %d %s\n%s", fp.Status, fp.URL, fp.Body)
	}
	if cb := fb.Callback(fb.Submit(fp, "continue", map[string]string{"newPassword": "Fourth-Horse-44", "reenterPassword": "Fourth-Horse-44"})); cb.Get("code") == "" {
		t.Fatalf("after the password change: %v", cb)
	}
	if p := signIn("alice@example.com", "Fourth-Horse-44"); p.Status != http.StatusFound && !strings.Contains(p.URL.String(), "code=") {
		t.Fatalf("the changed password, asked once: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if a := admin.do("PATCH", "/users/"+keptID, map[string]any{"id": "x"}); a.status != 400 {
		t.Errorf("PATCH id: %d %s", a.status, a.raw)
	}

	// The audit log: the sign-ins (the first succeeded, the disabled one
	// failed) and the changes the admin app made, newest first.
	auditor := &graphClient{t: t, base: base, token: tokenOf(graphAuditorID)}
	if a := reader.do("GET", "/auditLogs/signIns", nil); a.status != 403 {
		t.Errorf("User.Read.All reads the audit log: %d %s", a.status, a.raw)
	}
	a = auditor.do("GET", "/auditLogs/signIns?$top=50", nil)
	if a.status != 200 || !strings.Contains(a.raw, `"userId":"`+keptID+`"`) || !strings.Contains(a.raw, `"errorCode":0`) ||
		!strings.Contains(a.raw, `"errorCode":50126`) || !strings.Contains(a.raw, `"ipAddress":"127.0.0.1"`) {
		t.Fatalf("signIns: %d %s", a.status, a.raw)
	}
	a = auditor.do("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("userId eq '"+keptID+"' and createdDateTime ge 2020-01-01T00:00:00Z"), nil)
	if got, _ := a.body["value"].([]any); a.status != 200 || len(got) == 0 || strings.Count(a.raw, `"userId":"`+keptID+`"`) != len(got) {
		t.Fatalf("signIns of one user: %d %s", a.status, a.raw)
	}
	if a := auditor.do("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("createdDateTime ge 2999-01-01T00:00:00Z"), nil); a.status != 200 || len(a.body["value"].([]any)) != 0 {
		t.Fatalf("signIns from the future: %d %s", a.status, a.raw)
	}
	if a := auditor.do("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("ipAddress eq '1.2.3.4'"), nil); a.status != 400 || graphError(t, a) != "Request_UnsupportedQuery" {
		t.Fatalf("an unsupported audit filter: %d %s", a.status, a.raw)
	}
	a = auditor.do("GET", "/auditLogs/directoryAudits?$top=2", nil)
	if a.status != 200 || len(a.body["value"].([]any)) != 2 || a.body["@odata.nextLink"] == nil {
		t.Fatalf("directoryAudits page: %d %s", a.status, a.raw)
	}
	newest := a.body["value"].([]any)[0].(map[string]any)
	if newest["activityDisplayName"] != "users.update" || !strings.Contains(a.raw, `"appId":"`+graphAdminID+`"`) || !strings.Contains(a.raw, `"id":"`+keptID+`"`) {
		t.Fatalf("the newest change: %s", a.raw)
	}
	next = strings.TrimPrefix(a.body["@odata.nextLink"].(string), base)
	if a := auditor.do("GET", next, nil); a.status != 200 || strings.Contains(a.raw, newest["id"].(string)) {
		t.Fatalf("the next page: %d %s", a.status, a.raw)
	}

	// A refresh token issued before the deletion: after a restore it still
	// does not work (deleting revoked it; the account signs in afresh).
	rb := testutil.NewBrowser(t, callback, nil)
	rp, rconf, _, rpkce := authorizePolicy(t, ctx, rb, publicURL, "B2C_1_susi", callback)
	rcb := rb.Callback(rb.Submit(rp, "next", map[string]string{"signInName": "alice@example.com", "password": "Fourth-Horse-44"}))
	tok, err := rconf.Exchange(ctx, rcb.Get("code"), oauth2.VerifierOption(rpkce))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("tokens before the deletion: %v %+v", err, tok)
	}

	// Delete.
	if a := admin.do("DELETE", "/users/"+keptID, nil); a.status != 204 {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if a := reader.do("GET", "/users/"+keptID, nil); a.status != 404 {
		t.Fatalf("after delete: %d %s", a.status, a.raw)
	}
	// Deleted items: listed, restored with the same id, deleted for good.
	a = reader.do("GET", "/directory/deletedItems/microsoft.graph.user", nil)
	if a.status != 200 || !strings.Contains(a.raw, `"id":"`+keptID+`"`) || !strings.Contains(a.raw, `"deletedDateTime"`) {
		t.Fatalf("deletedItems: %d %s", a.status, a.raw)
	}
	if a := reader.do("POST", "/directory/deletedItems/"+keptID+"/restore", nil); a.status != 403 {
		t.Errorf("User.Read.All restores: %d", a.status)
	}
	if a := admin.do("POST", "/directory/deletedItems/"+keptID+"/restore", nil); a.status != 200 || a.body["id"] != keptID {
		t.Fatalf("restore: %d %s", a.status, a.raw)
	}
	if _, err := rconf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("a refresh token from before the deletion, after the restore: %v", err)
	}
	if a := reader.do("GET", "/users/"+keptID+"?$select=id,identities", nil); a.status != 200 || !strings.Contains(a.raw, "alice@example.com") {
		t.Fatalf("the restored user: %d %s", a.status, a.raw)
	}
	if a := admin.do("DELETE", "/users/"+keptID, nil); a.status != 204 {
		t.Fatalf("delete again: %d %s", a.status, a.raw)
	}
	if a := admin.do("DELETE", "/directory/deletedItems/"+keptID, nil); a.status != 204 {
		t.Fatalf("delete for good: %d %s", a.status, a.raw)
	}
	if a := admin.do("POST", "/directory/deletedItems/"+keptID+"/restore", nil); a.status != 404 || graphError(t, a) != "Request_ResourceNotFound" {
		t.Fatalf("restore after the final delete: %d %s", a.status, a.raw)
	}

	// A federated identity belongs to one account; a filter on it is a
	// lookup in the store's identity index.
	fed := func(name string) map[string]any {
		return map[string]any{"displayName": name, "identities": []map[string]string{{"signInType": "federated", "issuer": "facebook.com", "issuerAssignedId": "Fb-77"}}}
	}
	if a := admin.do("POST", "/users", fed("Fay")); a.status != 201 {
		t.Fatalf("a federated account: %d %s", a.status, a.raw)
	}
	if a := admin.do("POST", "/users", fed("Fay Again")); a.status != 400 || graphError(t, a) != "Request_BadRequest" {
		t.Fatalf("the same federated identity twice: %d %s", a.status, a.raw)
	}
	a = reader.do("GET", "/users?$filter="+url.QueryEscape("identities/any(c:c/issuer eq 'facebook.com' and c/issuerAssignedId eq 'Fb-77')"), nil)
	if got, _ := a.body["value"].([]any); a.status != 200 || len(got) != 1 || got[0].(map[string]any)["displayName"] != "Fay" {
		t.Fatalf("the federated account by its identity: %d %s", a.status, a.raw)
	}

	// The per-app limit (200 per hour here): 429 with Retry-After.
	var limited graphAnswer
	for i := 0; i < 200 && limited.status == 0; i++ {
		if a := nothing.do("GET", "/users", nil); a.status == 429 {
			limited = a
		}
	}
	if limited.status != 429 || limited.header.Get("Retry-After") == "" || graphError(t, limited) != "TooManyRequests" {
		t.Fatalf("no 429 within the limit's reach: %+v", limited)
	}
}
