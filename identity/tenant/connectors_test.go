package tenant

import "testing"

func TestConnectorSteps(t *testing.T) {
	for _, s := range ConnectorSteps {
		for _, n := range []string{s.Config, s.B2C} {
			if got, ok := LookupConnectorStep(n); !ok || got != s {
				t.Errorf("LookupConnectorStep(%q) = %v, %v", n, got, ok)
			}
		}
	}
	if _, ok := LookupConnectorStep("preSignIn"); ok {
		t.Error("unknown step found")
	}
	if got, want := ConnectorStepList(), "postFederationSignup, postAttributeCollection, preTokenIssuance or passwordMigration"; got != want {
		t.Errorf("ConnectorStepList() = %q, want %q", got, want)
	}
}

func TestConnectorName(t *testing.T) {
	fl := &Flow{APIConnectors: map[string]string{"postAttributeCollection": "a", "PreTokenIssuance": "b"}}
	if ConnectorName(fl, StepPostAttributeCollection) != "a" || ConnectorName(fl, "preTokenIssuance") != "b" ||
		ConnectorName(fl, StepPostFederationSignup) != "" || ConnectorName(nil, "x") != "" {
		t.Fatal("ConnectorName")
	}
}

func TestAuthTypes(t *testing.T) {
	for _, a := range AuthTypes {
		if got, ok := LookupAuthType(string(a.Type)); !ok || got.Type != a.Type {
			t.Errorf("LookupAuthType(%q) = %v, %v", a.Type, got.Type, ok)
		}
		for _, al := range a.Aliases {
			if got, ok := LookupAuthType(al); !ok || got.Type != a.Type {
				t.Errorf("LookupAuthType(alias %q) = %v, %v", al, got.Type, ok)
			}
		}
		if got, ok := LookupB2CAuthType(a.B2C); !ok || got.Type != a.Type {
			t.Errorf("LookupB2CAuthType(%q) = %v, %v", a.B2C, got.Type, ok)
		}
	}
	if a, ok := LookupAuthType("ClientCertificate"); !ok || a.Type != AuthCertificate {
		t.Error("YAML names ignore case")
	}
	for _, n := range []string{"", "oauth2", "Basic "} {
		if _, ok := LookupAuthType(n); ok {
			t.Errorf("LookupAuthType(%q) found", n)
		}
	}
	for _, n := range []string{"", "basic", "none", "Certificate", "OAuth2"} {
		if _, ok := LookupB2CAuthType(n); ok {
			t.Errorf("LookupB2CAuthType(%q) found", n)
		}
	}
	if got, want := AuthTypeList(), "basic, certificate, bearer, apiKeyHeader or none"; got != want {
		t.Errorf("AuthTypeList() = %q, want %q", got, want)
	}
	if got, want := B2CAuthTypeList(), "None, Basic, ClientCertificate, Bearer or ApiKeyHeader"; got != want {
		t.Errorf("B2CAuthTypeList() = %q, want %q", got, want)
	}
}
