package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestUsersImportExport: `users import` keeps ids and imports other
// systems' password hashes (bcrypt, Django's PBKDF2, ASP.NET Identity v3),
// reports bad lines by number without stopping; an imported user signs in
// with the old password, which is then stored as argon2id; `users export`
// writes what import reads, and a second tenant imports it with the same ids.
func TestUsersImportExport(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	file, dir, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  email: { outbox: ./outbox }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: B2C_1_susi, type: signUpOrSignIn, attributes: [displayName], claims: [displayName, emails, objectId] }
`, webClientID, callback))
	const pw = "Legacy-Pass-1"
	bc, _ := bcrypt.GenerateFromPassword([]byte(pw), 4)
	django, _ := pbkdf2.Key(sha256.New, pw, []byte("djangosalt"), 1000, 32)
	salt := []byte("aspnet-salt-1234")
	sub, _ := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	v3 := make([]byte, 13)
	v3[0] = 1
	binary.BigEndian.PutUint32(v3[1:], 1)
	binary.BigEndian.PutUint32(v3[5:], 1000)
	binary.BigEndian.PutUint32(v3[9:], uint32(len(salt)))
	v3 = append(append(v3, salt...), sub...)
	user := func(id, email string, extra map[string]any) string {
		m := map[string]any{"id": id, "displayName": strings.Split(email, "@")[0], "accountEnabled": true,
			"createdDateTime": "2021-05-04T03:02:01Z",
			"identities":      []map[string]string{{"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": email}}}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	const idBcrypt, idDjango, idASP, idPlain = "10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002",
		"10000000-0000-4000-8000-000000000003", "10000000-0000-4000-8000-000000000004"
	lines := []string{
		user(idBcrypt, "bea@example.com", map[string]any{"passwordHash": map[string]string{"algorithm": "bcrypt", "value": string(bc)}}),
		user(idDjango, "dan@example.com", map[string]any{"passwordHash": map[string]string{"algorithm": "pbkdf2-sha256",
			"value": "pbkdf2_sha256$1000$djangosalt$" + base64.StdEncoding.EncodeToString(django)}}),
		user(idASP, "asa@example.com", map[string]any{"passwordHash": map[string]string{"algorithm": "aspnet-identity-v3", "value": base64.StdEncoding.EncodeToString(v3)}}),
		"{not json",
		user(idPlain, "pia@example.com", map[string]any{"passwordProfile": map[string]any{"password": "Plain-Pass-22"}}),
		user("10000000-0000-4000-8000-000000000005", "bea@example.com", map[string]any{"passwordProfile": map[string]any{"password": "Plain-Pass-22"}}),
		user("10000000-0000-4000-8000-000000000006", "md5@example.com", map[string]any{"passwordHash": map[string]string{"algorithm": "md5", "value": "x"}}),
		"",
	}
	jsonl := writeFile(t, dir, "users.jsonl", strings.Join(lines, "\n"))
	_, errOut, code := gatehouse(t, env, "users", "import", "--config", file, "--file", jsonl)
	for _, want := range []string{"users.jsonl:4: not a JSON object", "users.jsonl:6: an account with this id, email address or identity exists already",
		"users.jsonl:7: password: unsupported", "imported 4 users"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("import output lacks %q:\n%s", want, errOut)
		}
	}
	if code != 1 {
		t.Errorf("import with bad lines: exit %d, want 1", code)
	}

	startServe(t, file, env, "identity")
	ctx := context.Background()
	for _, c := range []struct{ email, pw, id string }{{"bea@example.com", pw, idBcrypt}, {"dan@example.com", pw, idDjango},
		{"asa@example.com", pw, idASP}, {"pia@example.com", "Plain-Pass-22", idPlain}} {
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, "B2C_1_susi", callback)
		claims := claimsOfPage(t, ctx, b, b.Submit(p, "next", map[string]string{"signInName": c.email, "password": c.pw}), conf, v, pkce)
		if claims["sub"] != c.id {
			t.Fatalf("%s: sub %v, want the imported id %s", c.email, claims["sub"], c.id)
		}
	}

	// Export: the imported hashes were replaced by argon2id at sign-in.
	exported := filepath.Join(dir, "export.jsonl")
	if _, errOut, code := gatehouse(t, env, "users", "export", "--config", file, "--file", exported); code != 0 || !strings.Contains(errOut, "exported 4 users") {
		t.Fatalf("export: %d %s", code, errOut)
	}
	b, _ := os.ReadFile(exported)
	if strings.Count(string(b), `"algorithm":"argon2id"`) != 4 || !strings.Contains(string(b), `"createdDateTime":"2021-05-04T03:02:01Z"`) {
		t.Fatalf("export:\n%s", b)
	}
	if st, err := os.Stat(exported); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the export (password hashes) is not owner-only: %v %v", st.Mode(), err)
	}
	// Another tenant imports the export: the same ids.
	file2, _, _, env2 := identityRoleConfig(t, "")
	if _, errOut, code := gatehouse(t, env2, "users", "import", "--config", file2, "--file", exported); code != 0 {
		t.Fatalf("import of the export: %d %s", code, errOut)
	}
	out, _, _ := gatehouse(t, env2, "users", "list", "--config", file2, "--json")
	for _, id := range []string{idBcrypt, idDjango, idASP, idPlain} {
		if !strings.Contains(out, id) {
			t.Errorf("the re-imported tenant lacks %s:\n%s", id, out)
		}
	}
}
