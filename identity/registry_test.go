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

// TestIdentityProviderConfig: identity.identityProviders and a flow's
// identityProviders, each problem at its place.
func TestIdentityProviderConfig(t *testing.T) {
	base := testConfigYAML("https://login.contoso.example", "RS256")
	with := func(providers, flowIdPs string) string {
		src := strings.Replace(base, "  userFlows:\n", "  identityProviders:\n"+providers+"  userFlows:\n", 1)
		return strings.Replace(src, "city] }\n    - { name: B2C_1_reset", "city], identityProviders: "+flowIdPs+" }\n    - { name: B2C_1_reset", 1)
	}
	good := with(`    - { name: partner, type: openIdConnect, metadataUrl: https://partner.example/.well-known/openid-configuration, clientId: p1, clientSecret: s3cret }
    - { name: google, type: google, clientId: g1, clientSecret: s3cret }
    - { name: Facebook, type: facebook, clientId: f1, clientSecret: s3cret }
    - { name: work, type: microsoft, tenant: contoso.example, clientId: m1 }
    - { name: pk, type: openIdConnect, metadataUrl: https://pk.example/m, clientId: k1, tokenEndpointAuthMethod: private_key_jwt, clientAssertionKey: PkCert }
    - { name: adfs, type: saml, metadataUrl: https://sts.fabrikam.example/FederationMetadata/2007-06/FederationMetadata.xml, signingCertificate: SamlCert }
    - { name: partner-saml, type: saml, metadataUrl: https://idp.example/saml/metadata }
`, "[local, partner, google, facebook, work, pk, adfs, partner-saml]")
	cfg, err := parseConfig(t, good)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pk := reg.IdentityProviders["pk"]; pk.AssertionKey != "B2C_1A_PkCert" || pk.TokenAuth != "private_key_jwt" {
		t.Errorf("private_key_jwt provider %+v", pk)
	}
	if a := reg.IdentityProviders["adfs"]; a.Protocol != "SAML2" || a.SigningKey != "B2C_1A_SamlCert" || a.Domain != "sts.fabrikam.example" ||
		a.SignatureAlgorithm != "Sha256" || a.Claims["userId"] != "assertionSubjectName" || !strings.HasSuffix(a.PartnerEntity, "FederationMetadata.xml") {
		t.Errorf("saml provider %+v", a)
	}
	// The contract's saml line: no signingCertificate, so the generated one.
	if ps := reg.IdentityProviders["partner-saml"]; !ps.SigningKeyGenerated || ps.SigningKey != "B2C_1A_UserFlowSamlSigning" || ps.Domain != "idp.example" {
		t.Errorf("saml provider without signingCertificate %+v", ps)
	}
	if a := reg.IdentityProviders["adfs"]; a.SigningKeyGenerated {
		t.Errorf("adfs has its own signing certificate: %+v", a)
	}
	if got := strings.Join(reg.Flows[strings.ToLower(flowName)].IdentityProviders, ","); got != "local,partner,google,Facebook,work,pk,adfs,partner-saml" {
		t.Errorf("flow providers %s", got)
	}
	if g := reg.IdentityProviders["google"]; g.Protocol != "OpenIdConnect" || g.Domain != "google.com" || g.MetadataURL == "" || g.Claims["userId"] != "sub" {
		t.Errorf("google preset %+v", g)
	}
	if f := reg.IdentityProviders["facebook"]; f.Protocol != "OAuth2" || !f.TokenGET || f.Claims["givenName"] != "first_name" {
		t.Errorf("facebook preset %+v", f)
	}
	if m := reg.IdentityProviders["work"]; m.MetadataURL != "https://login.microsoftonline.com/contoso.example/v2.0/.well-known/openid-configuration" {
		t.Errorf("microsoft preset %+v", m)
	}
	for _, c := range []struct{ name, providers, flow, want string }{
		{"unknown type", "    - { name: x, type: myspace, clientId: a, clientSecret: b }\n", "[local]", `type "myspace" must be openIdConnect`},
		{"local name", "    - { name: local, type: google, clientId: a }\n", "[local]", `"local" names local accounts`},
		{"no client id", "    - { name: g, type: google }\n", "[local]", "clientId is required"},
		{"oauth2 secret", "    - { name: f, type: facebook, clientId: a }\n", "[local]", "clientSecret is required"},
		{"oidc metadata", "    - { name: o, type: openIdConnect, clientId: a }\n", "[local]", "metadataUrl is required"},
		{"http endpoint", "    - { name: o, type: openIdConnect, clientId: a, metadataUrl: http://idp.example/x }\n", "[local]", "must be an https URL"},
		{"saml without metadata", "    - { name: s, type: saml, signingCertificate: SamlCert }\n", "[local]", "needs its metadata: metadataUrl or metadata"},
		{"saml with client id", "    - { name: s, type: saml, metadataUrl: https://idp.example/m, signingCertificate: SamlCert, clientId: x }\n", "[local]", "clientId, clientSecret and scope are not SAML settings"},
		{"saml http metadata", "    - { name: s, type: saml, metadataUrl: http://idp.example/m, signingCertificate: SamlCert }\n", "[local]", "must be an https URL"},
		{"saml bad algorithm", "    - { name: s, type: saml, metadataUrl: https://idp.example/m, signingCertificate: SamlCert, signatureAlgorithm: md5 }\n", "[local]", "signatureAlgorithm \"md5\" must be"},
		{"entra consumers", "    - { name: m, type: microsoft, tenant: consumers, clientId: a }\n", "[local]", "tenant consumers (personal Microsoft accounts) is not available"},
		{"entra allowed tenant", "    - { name: m, type: microsoft, tenant: organizations, clientId: a, allowedTenants: [contoso] }\n", "[local]", `allowedTenants: "contoso" is not a tenant id`},
		{"unknown flow provider", "    - { name: g, type: google, clientId: a }\n", "[local, nope]", `"nope" is neither local nor in identity.identityProviders`},
		{"twice", "    - { name: g, type: google, clientId: a }\n", "[g, G]", `"G" is listed twice`},
		{"bad claim", "    - { name: g, type: google, clientId: a, claims: { shoe: size } }\n", "[local]", `"shoe" is not one of userId`},
		{"private_key_jwt without key", "    - { name: o, type: openIdConnect, clientId: a, metadataUrl: https://idp.example/m, tokenEndpointAuthMethod: private_key_jwt }\n", "[local]", "needs clientAssertionKey"},
		{"apple without key", "    - { name: a, type: apple, clientId: com.contoso }\n", "[local]", "needs teamId, keyId and privateKey"},
	} {
		cfg, err := parseConfig(t, with(c.providers, c.flow))
		if err == nil {
			_, err = NewRegistry(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestMFAConfig: a flow's mfa, each problem at its place.
func TestMFAConfig(t *testing.T) {
	base := testConfigYAML("https://login.contoso.example", "RS256")
	with := func(mfa string) string {
		return strings.Replace(base, "city] }\n    - { name: B2C_1_reset", "city], mfa: "+mfa+" }\n    - { name: B2C_1_reset", 1)
	}
	cfg, err := parseConfig(t, with("{ methods: [email], enforcement: conditional, rememberFor: 720h }"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := reg.Flows[strings.ToLower(flowName)].MFA; m == nil || m.Enforcement != "conditional" || m.RememberFor.Hours() != 720 || m.Methods[0] != "email" {
		t.Fatalf("mfa %+v", m)
	}
	for _, c := range []struct{ mfa, want string }{
		{"{ methods: [email], enforcement: sometimes }", `enforcement "sometimes" must be off, always or conditional`},
		{"{ methods: [email] }", "enforcement is required"},
		{"{ methods: [carrier-pigeon], enforcement: always }", `method "carrier-pigeon" must be email, phone or totp`},
		{"{ methods: [], enforcement: always }", "methods is required"},
		{"{ methods: [phone], enforcement: always }", "the phone method needs identity.sms"},
		{"{ methods: [email, email], enforcement: always }", `method "email" is listed twice`},
		{"{ methods: [email], enforcement: always, rememberFor: 2400h }", "rememberFor must be between 0 and 90 days"},
	} {
		cfg, err := parseConfig(t, with(c.mfa))
		if err == nil {
			_, err = NewRegistry(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:") {
			t.Errorf("%s: %v, want %q", c.mfa, err, c.want)
		}
	}
	// mfa: off is no MFA.
	cfg, _ = parseConfig(t, with("{ enforcement: off }"))
	if reg, err := NewRegistry(cfg); err != nil || reg.Flows[strings.ToLower(flowName)].MFA != nil {
		t.Errorf("off: %v", err)
	}
}

// TestExtensionAttributesConfig: declared custom attributes and the
// extensions app id, each problem at its line.
func TestExtensionAttributesConfig(t *testing.T) {
	base := testConfigYAML("https://login.contoso.example", "RS256")
	with := func(lines string) string {
		return strings.Replace(base, "  userFlows:\n", lines+"  userFlows:\n", 1)
	}
	cfg, err := parseConfig(t, with("  extensionsAppId: 01234567-89AB-cdef-0123-456789abcdef\n  extensionAttributes: [{ name: loyaltyId, type: string }, { name: extension_vip, type: boolean }]\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reg.ExtensionsAppID != "0123456789abcdef0123456789abcdef" || reg.Extensions["loyaltyId"] != "string" || reg.Extensions["vip"] != "boolean" {
		t.Fatalf("extensions %q %v", reg.ExtensionsAppID, reg.Extensions)
	}
	for _, c := range []struct{ lines, want string }{
		{"  extensionAttributes: [{ name: shoe, type: float }]\n", `type "float" must be string, boolean or int`},
		{"  extensionAttributes: [{ name: a, type: int }, { name: a, type: string }]\n", `"a" is declared twice`},
		{"  extensionAttributes: [{ name: 9lives, type: int }]\n", `name "9lives" must be a letter`},
		{"  extensionsAppId: b2c-extensions-app\n", "is not a GUID"},
	} {
		cfg, err := parseConfig(t, with(c.lines))
		if err == nil {
			_, err = NewRegistry(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/cfg/gatehouse.yaml:") {
			t.Errorf("%s: %v, want %q", c.lines, err, c.want)
		}
	}
}
