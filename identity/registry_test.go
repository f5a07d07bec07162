package identity

import (
	"strings"
	"testing"
)

func TestNewRegistryValid(t *testing.T) {
	cfg, err := parseConfig(t, testConfigYAML("https://login.contoso.example/base", "RS256"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Domain() != "contoso.onmicrosoft.com" || reg.Flows["b2c_1_signupsignin1"] == nil || reg.APIs[apiURI].ClientID != backendID {
		t.Fatalf("registry %+v", reg)
	}
	d := reg.Apps[daemonID]
	if !d.CheckSecret(daemonSec) || d.CheckSecret(daemonSec+"x") || d.CheckSecret("") {
		t.Error("secret check")
	}
	for _, h := range d.SecretHashes {
		if strings.Contains(string(h), daemonSec) {
			t.Error("secret kept in the clear")
		}
	}
	if f := reg.Flows["b2c_1_signupsignin1"]; f.Password.Classes != 3 || f.IDTokenTTL != DefaultAccessTokenTTL || !f.EmailVerification {
		t.Errorf("flow defaults %+v", f)
	}
}

// TestNewRegistryErrors: each problem is reported with file:line:col.
func TestNewRegistryErrors(t *testing.T) {
	base := testConfigYAML("https://login.contoso.example", "RS256")
	cases := []struct {
		name, old, new, want string
	}{
		{"tenant id", "id: " + tenantID, "id: not-a-guid", `:4:11: identity.tenant.id "not-a-guid" is not a GUID`},
		{"duplicate client id", "clientId: " + webID, "clientId: " + spaID, "is used by another app"},
		{"wildcard redirect", spaRedir, "https://*.spa.example/", "wildcard"},
		{"http redirect", spaRedir, "http://spa.example/", "must use https"},
		{"web without secret", "clientSecrets: [" + webSecret + "]", "clientSecrets: []", "needs at least one client secret"},
		{"short secret", webSecret, "short", "at least 16 characters"},
		{"unknown permission", apiURI + "/Hello", apiURI + "/Nope", "is not an exposed scope"},
		{"flow prefix", "name: " + flowName, "name: signupsignin1", "start with B2C_1_"},
		{"flow type", "type: signUpOrSignIn", "type: signIn", "must be signUpOrSignIn"},
		{"attribute", "attributes: [displayName, city]", "attributes: [displayName, shoeSize]", `"shoeSize" is not a B2C user attribute`},
		{"claim", "claims: [displayName,", "claims: [displayNam,", `"displayNam" is not a B2C application claim`},
		{"lifetime", "type: passwordReset }", "type: profileEdit, tokenLifetimes: { accessToken: 2m } }", "outside B2C's limits"},
		{"public url", "publicUrl: https://login.contoso.example", "publicUrl: http://login.contoso.example", "must use https"},
	}
	for _, c := range cases {
		src := strings.Replace(base, c.old, c.new, 1)
		if src == base {
			t.Fatalf("%s: edit did not apply", c.name)
		}
		cfg, err := parseConfig(t, src)
		if err == nil {
			_, err = NewRegistry(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// The master key is checked when the provider starts.
	cfg, _ := parseConfig(t, strings.Replace(base, "masterKey: "+testMaster, "masterKey: c2hvcnQ=", 1))
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewProvider(reg, nil, Options{}); err == nil {
		t.Error("nil store accepted")
	}
}
