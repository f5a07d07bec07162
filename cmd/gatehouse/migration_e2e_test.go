package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestSeamlessMigration: accounts imported without a password hash sign
// in through the flow's passwordMigration connector (B2C's seamless
// migration): the old system's API gets the email address and the
// password; a right one is stored (the next sign-in does not call the
// API), a wrong one is "Invalid username or password." and stores nothing.
func TestSeamlessMigration(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	var mu sync.Mutex
	var calls []map[string]any
	legacy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		calls = append(calls, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if body["email"] == "broken@example.com" {
			w.WriteHeader(http.StatusInternalServerError) // the old system is down
			return
		}
		if body["email"] == "old@example.com" && body["password"] == "Old-System-Pass-1" {
			_, _ = w.Write([]byte(`{"version":"1.0.0","action":"Continue"}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"version":"1.0.0","action":"ValidationError","status":400,"userMessage":"wrong password"}`))
	}))
	t.Cleanup(legacy.Close)
	file, dir, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  deploymentMode: Development
  email: { outbox: ./outbox }
  apiConnectors:
    - { name: legacy, endpointUrl: %s/check, authenticationType: none }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
    - { name: Auditor, clientId: %s, type: daemon, clientSecrets: [env:GRAPH_SECRET], graphPermissions: [AuditLog.Read.All] }
  userFlows:
    - { name: B2C_1_susi, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId],
        apiConnectors: { passwordMigration: legacy } }
`, legacy.URL, webClientID, callback, graphAuditorID))
	env = append(env, "GRAPH_SECRET="+graphSecret)
	const oldID, otherID = "20000000-0000-4000-8000-000000000001", "20000000-0000-4000-8000-000000000002"
	lines := []string{}
	for id, email := range map[string]string{oldID: "old@example.com", otherID: "other@example.com", "20000000-0000-4000-8000-000000000003": "broken@example.com"} {
		b, _ := json.Marshal(map[string]any{"id": id, "displayName": "Old", "identities": []map[string]string{
			{"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": email}}})
		lines = append(lines, string(b))
	}
	jsonl := writeFile(t, dir, "users.jsonl", strings.Join(lines, "\n"))
	if _, errOut, code := gatehouse(t, env, "users", "import", "--config", file, "--file", jsonl); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	signIn := func(email, pw string) (*testutil.Browser, *testutil.Page, func(*testutil.Page) map[string]any) {
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1_susi", callback)
		return b, b.Submit(p, "next", map[string]string{"signInName": email, "password": pw}), func(p *testutil.Page) map[string]any {
			return claimsOfPage(t, ctx, b, p, conf, v, pkce)
		}
	}
	// A wrong password: the old system says no; nothing is stored.
	if _, p, _ := signIn("other@example.com", "Guess-Pass-11"); !strings.Contains(p.Body, "Invalid username or password.") {
		t.Fatalf("wrong legacy password: %d\n%s", p.Status, p.Body)
	}
	// The right one: signed in as the imported account, the password kept.
	_, p, claimsOf := signIn("old@example.com", "Old-System-Pass-1")
	if c := claimsOf(p); c["sub"] != oldID {
		t.Fatalf("migrated sign-in claims %v", c)
	}
	mu.Lock()
	n := len(calls)
	first := calls[1]
	mu.Unlock()
	if n != 2 || first["step"] != "PasswordMigration" || first["email"] != "old@example.com" || first["password"] != "Old-System-Pass-1" || first["client_id"] != webClientID {
		t.Fatalf("connector calls %d, body %v", n, first)
	}
	_, p, claimsOf = signIn("old@example.com", "Old-System-Pass-1")
	if c := claimsOf(p); c["sub"] != oldID {
		t.Fatalf("second sign-in claims %v", c)
	}
	mu.Lock()
	n = len(calls)
	mu.Unlock()
	if n != 2 {
		t.Errorf("the second sign-in called the old system (%d calls): the password was not stored", n)
	}

	// The old system down: the user sees an error, the audit log the
	// failed call.
	if _, p, _ := signIn("broken@example.com", "Any-Pass-1234"); p.Status < 400 {
		t.Fatalf("a failing migration API: %d\n%s", p.Status, p.Body)
	}
	cc := clientcredentials.Config{ClientID: graphAuditorID, ClientSecret: graphSecret, TokenURL: publicURL + "/contoso.onmicrosoft.com/oauth2/v2.0/token",
		Scopes: []string{"https://graph.microsoft.com/.default"}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := (&graphClient{t: t, base: publicURL + "/graph/v1.0", token: tok.AccessToken}).do("GET", "/auditLogs/directoryAudits", nil)
	if a.status != 200 || !strings.Contains(a.raw, `"activityDisplayName":"connectors.call"`) || !strings.Contains(a.raw, `"result":"failure"`) ||
		!strings.Contains(a.raw, `"id":"legacy"`) || strings.Contains(a.raw, "Any-Pass-1234") {
		t.Fatalf("the audit log of the failed call: %d %s", a.status, a.raw)
	}
}
