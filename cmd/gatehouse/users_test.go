package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

func TestUsersCommands(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := gatehouse(t, nil, "users", "create", "--data", data, "--email", "Alice@Example.com", "--password", "Correct-Horse-9", "--display-name", "Alice")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	var created graphUser
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create output %q: %v", out, err)
	}
	if created.DisplayName != "Alice" || len(created.Identities) != 1 ||
		created.Identities[0] != (store.Identity{SignInType: "emailAddress", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "alice@example.com"}) {
		t.Errorf("created = %+v", created)
	}

	_, errOut, code = gatehouse(t, nil, "users", "create", "--data", data, "--email", "alice@example.com", "--password", "Correct-Horse-9")
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate: %d %q", code, errOut)
	}
	_, errOut, code = gatehouse(t, nil, "users", "create", "--data", data, "--email", "bob@example.com", "--password", "password")
	if code != 1 || !strings.Contains(strings.ToLower(errOut), "password") {
		t.Errorf("weak password: %d %q", code, errOut)
	}

	out, _, code = gatehouse(t, nil, "users", "list", "--data", data, "--json")
	var list struct{ Value []graphUser }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Value) != 1 || list.Value[0].ID != created.ID {
		t.Fatalf("list: %d %s", code, out)
	}
	if strings.Contains(out, "argon2") || strings.Contains(out, "Correct-Horse") {
		t.Error("list shows password material")
	}

	out, _, code = gatehouse(t, nil, "users", "delete", "--data", data, "--email", "ALICE@example.com")
	if code != 0 || !strings.Contains(out, created.ID) {
		t.Errorf("delete: %d %s", code, out)
	}
	out, _, _ = gatehouse(t, nil, "users", "list", "--data", data, "--json")
	if !strings.Contains(out, `"value": []`) {
		t.Errorf("after delete: %s", out)
	}
	_, errOut, code = gatehouse(t, nil, "users", "delete", "--data", data, "--email", "alice@example.com")
	if code != 1 || !strings.Contains(errOut, "no user") {
		t.Errorf("delete missing: %d %q", code, errOut)
	}
}
