package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
	"golang.org/x/oauth2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// The partner's user, as its SAML identity provider asserts it.
const (
	partnerNameID    = "partner-user-42"
	partnerEmail     = "sam@partner.example"
	partnerSAMLPFXPw = "saml-pfx-password-8c1d"
)

// samlPartnerIdP is a SAML2 identity provider (crewjam's IdentityProvider)
// served by httptest: its metadata at /metadata, its single sign-on
// service at /sso. It knows one service provider, by the metadata
// Gatehouse serves, signs in a fixed user without a login page (or
// refuses the sign-in when deny is set) and records what it was sent.
type samlPartnerIdP struct {
	idp *saml.IdentityProvider
	srv *httptest.Server

	mu       sync.Mutex
	sp       *saml.EntityDescriptor
	deny     bool
	sessions int      // sign-ins answered with a session
	ssoURLs  []string // the requests to /sso, as received
	requests []saml.AuthnRequest
	relays   []string
}

func newSAMLPartnerIdP(t *testing.T) *samlPartnerIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "idp.partner.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &samlPartnerIdP{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		b, err := xml.Marshal(p.idp.Metadata())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/sso", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.ssoURLs = append(p.ssoURLs, r.URL.String())
		p.mu.Unlock()
		p.idp.ServeSSO(w, r)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	base, _ := url.Parse(p.srv.URL)
	p.idp = &saml.IdentityProvider{Key: key, Certificate: cert, SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"), ServiceProviderProvider: p, SessionProvider: p,
		// The policy says WantsSignedRequests: the IdP checks the
		// signature with the certificate of Gatehouse's SP metadata.
		WantAuthnRequestsSigned: true}
	return p
}

func (p *samlPartnerIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sp == nil || p.sp.EntityID != id {
		return nil, os.ErrNotExist
	}
	return p.sp, nil
}

func (p *samlPartnerIdP) GetSession(w http.ResponseWriter, _ *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	p.mu.Lock()
	p.requests = append(p.requests, req.Request)
	p.relays = append(p.relays, req.RelayState)
	deny := p.deny
	if !deny {
		p.sessions++
	}
	p.mu.Unlock()
	if deny {
		_ = p.idp.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusRequestDenied})
		return nil
	}
	now := time.Now()
	return &saml.Session{ID: "sess-" + req.Request.ID, CreateTime: now, ExpireTime: now.Add(time.Hour), Index: "idx-1",
		NameID: partnerNameID, UserEmail: partnerEmail, UserGivenName: "Sam", UserSurname: "Partner", UserCommonName: "Sam Partner"}
}

// samlPartnerExtensions is what the test adds to the pack's Extensions file:
// the partner's SAML2 claims provider (Domain partner.example, for
// domain_hint).
const samlPartnerExtensions = `
    <ClaimsProvider>
      <Domain>partner.example</Domain>
      <DisplayName>Partner</DisplayName>
      <TechnicalProfiles>
        <TechnicalProfile Id="Partner-SAML">
          <DisplayName>Partner</DisplayName>
          <Protocol Name="SAML2" />
          <Metadata>
            <Item Key="PartnerEntity">IDP_METADATA_URL</Item>
            <Item Key="WantsSignedRequests">true</Item>
            <Item Key="XmlSignatureAlgorithm">Sha256</Item>
          </Metadata>
          <CryptographicKeys>
            <Key Id="SamlMessageSigning" StorageReferenceId="B2C_1A_SamlSigningCert" />
          </CryptographicKeys>
          <OutputClaims>
            <OutputClaim ClaimTypeReferenceId="issuerUserId" PartnerClaimType="assertionSubjectName" />
            <OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="urn:oid:0.9.2342.19200300.100.1.3" />
            <OutputClaim ClaimTypeReferenceId="displayName" PartnerClaimType="urn:oid:2.5.4.3" />
            <OutputClaim ClaimTypeReferenceId="givenName" PartnerClaimType="urn:oid:2.5.4.42" />
            <OutputClaim ClaimTypeReferenceId="surname" PartnerClaimType="urn:oid:2.5.4.4" />
            <OutputClaim ClaimTypeReferenceId="identityProvider" DefaultValue="partner.example" AlwaysUseDefaultValue="true" />
            <OutputClaim ClaimTypeReferenceId="authenticationSource" DefaultValue="socialIdpAuthentication" AlwaysUseDefaultValue="true" />
          </OutputClaims>
          <OutputClaimsTransformations>
            <OutputClaimsTransformation ReferenceId="CreateRandomUPNUserName" />
            <OutputClaimsTransformation ReferenceId="CreateUserPrincipalName" />
            <OutputClaimsTransformation ReferenceId="CreateAlternativeSecurityId" />
          </OutputClaimsTransformations>
          <UseTechnicalProfileForSessionManagement ReferenceId="SM-SocialLogin" />
        </TechnicalProfile>
      </TechnicalProfiles>
    </ClaimsProvider>
`

var (
	samlFormRE  = regexp.MustCompile(`<form[^>]*\baction="([^"]*)"`)
	samlInputRE = regexp.MustCompile(`<input\s[^>]*>`)
	samlAttrRE  = regexp.MustCompile(`\s([a-zA-Z_:-]+)="([^"]*)"`)
)

// samlPostedForm is a page's form: its action (resolved against the page)
// and its hidden inputs, as a browser without JavaScript would post them.
func samlPostedForm(t *testing.T, p *testutil.Page) (string, url.Values) {
	t.Helper()
	m := samlFormRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no form on %s (%d):\n%s", p.URL, p.Status, p.Body)
	}
	action, err := p.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for _, tag := range samlInputRE.FindAllString(p.Body, -1) {
		a := map[string]string{}
		for _, kv := range samlAttrRE.FindAllStringSubmatch(tag, -1) {
			a[kv[1]] = kv[2]
		}
		if a["type"] == "hidden" && a["name"] != "" {
			form.Set(a["name"], html.UnescapeString(a["value"]))
		}
	}
	return action.String(), form
}

// samlPostPage posts a form with a browser's client (its cookies).
func samlPostPage(t *testing.T, b *testutil.Browser, target string, form url.Values) *testutil.Page {
	t.Helper()
	resp, err := b.Client.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &testutil.Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// TestCustomPolicySAMLIdentityProvider runs the SocialAndLocalAccounts
// pack with a SAML2 identity provider added in the Extensions file and a
// relying party whose journey offers it: Gatehouse serves the profile's
// SP metadata (which the IdP registers), sends a signed AuthnRequest
// (HTTP-Redirect), takes the posted SAMLResponse at oauth2/authresp; the
// first sign-in collects the profile and creates a federated account,
// the next ones are silent (also with domain_hint); a refusal at the IdP
// is access_denied; an answer posted by another browser, with a changed
// RelayState or a changed assertion, or replayed, is refused.
func TestCustomPolicySAMLIdentityProvider(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const policy = "B2C_1A_signup_signin_saml"
	fb := newFakeFacebook(t)
	idp := newSAMLPartnerIdP(t)
	file, publicURL, _, env := starterPackConfig(t, "SocialAndLocalAccounts", callback)
	dir := filepath.Dir(file)

	// The Extensions file: the partner's claims provider, and a copy of
	// the base's SignUpOrSignIn journey offering it.
	base, err := os.ReadFile(filepath.Join(dir, "policies", "TrustFrameworkBase.xml"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(base), `<UserJourney Id="SignUpOrSignIn">`)
	if start < 0 {
		t.Fatal("the base has no SignUpOrSignIn journey")
	}
	end := strings.Index(string(base[start:]), "</UserJourney>")
	journeyXML := string(base[start:start+end]) + "</UserJourney>"
	withSAML := strings.NewReplacer(
		`<UserJourney Id="SignUpOrSignIn">`, `<UserJourney Id="SignUpOrSignInSAML">`,
		`<ClaimsProviderSelection TargetClaimsExchangeId="FacebookExchange" />`,
		`<ClaimsProviderSelection TargetClaimsExchangeId="FacebookExchange" />
            <ClaimsProviderSelection TargetClaimsExchangeId="PartnerSAMLExchange" />`,
		`<ClaimsExchange Id="FacebookExchange" TechnicalProfileReferenceId="Facebook-OAUTH" />`,
		`<ClaimsExchange Id="FacebookExchange" TechnicalProfileReferenceId="Facebook-OAUTH" />
            <ClaimsExchange Id="PartnerSAMLExchange" TechnicalProfileReferenceId="Partner-SAML" />`).Replace(journeyXML)
	if strings.Count(withSAML, "PartnerSAMLExchange") != 2 {
		t.Fatalf("the base's SignUpOrSignIn journey no longer has the Facebook steps this test extends:\n%s", journeyXML)
	}
	ext := filepath.Join(dir, "policies", "TrustFrameworkExtensions.xml")
	b, err := os.ReadFile(ext)
	if err != nil {
		t.Fatal(err)
	}
	extXML := strings.NewReplacer(
		`<Item Key="client_id">facebook_clientid</Item>`, `<Item Key="client_id">`+fbClientID+`</Item>
            <Item Key="authorization_endpoint">`+fb.srv.URL+`/dialog/oauth</Item>
            <Item Key="AccessTokenEndpoint">`+fb.srv.URL+`/oauth/access_token</Item>`,
		`https://graph.facebook.com/me?fields=`, fb.srv.URL+`/me?fields=`,
		"</ClaimsProviders>", strings.Replace(samlPartnerExtensions, "IDP_METADATA_URL", idp.srv.URL+"/metadata", 1)+"  </ClaimsProviders>",
		"</TrustFrameworkPolicy>", "  <UserJourneys>\n    "+withSAML+"\n  </UserJourneys>\n</TrustFrameworkPolicy>").Replace(string(b))
	if !strings.Contains(extXML, `<TechnicalProfile Id="Partner-SAML">`) || !strings.Contains(extXML, "SignUpOrSignInSAML") || !strings.Contains(extXML, fb.srv.URL) {
		t.Fatalf("the Extensions file no longer has what this test changes:\n%s", b)
	}
	if err := os.WriteFile(ext, []byte(extXML), 0o600); err != nil {
		t.Fatal(err)
	}

	// The relying party: SignUpOrSignin.xml with the new journey.
	rp, err := os.ReadFile(filepath.Join(dir, "policies", "SignUpOrSignin.xml"))
	if err != nil {
		t.Fatal(err)
	}
	rpXML := strings.NewReplacer(`PolicyId="B2C_1A_signup_signin"`, `PolicyId="`+policy+`"`,
		`PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_signup_signin"`, `PublicPolicyUri="http://contoso.onmicrosoft.com/`+policy+`"`,
		`<DefaultUserJourney ReferenceId="SignUpOrSignIn" />`, `<DefaultUserJourney ReferenceId="SignUpOrSignInSAML" />`).Replace(string(rp))
	if strings.Count(rpXML, policy) != 2 || !strings.Contains(rpXML, "SignUpOrSignInSAML") {
		t.Fatalf("SignUpOrSignin.xml no longer has what this test changes:\n%s", rp)
	}
	addPolicies(t, file, writeFile(t, dir, "policies/SignUpOrSigninSAML.xml", rpXML))

	// The policy keys: Facebook's secret (the pack's profile needs it) and
	// the SAML signing certificate, a PKCS#12 file.
	pfx := testPFX(t, pkcs12.Modern2023, "gatehouse-saml-sp", partnerSAMLPFXPw, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	_, spCert, err := pkcs12.Decode(pfx, partnerSAMLPFXPw)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "certs/saml.pfx", string(pfx))
	cfg, _ := os.ReadFile(file)
	cfg = []byte(strings.Replace(string(cfg), "  customPolicies:", `  policyKeys:
    - { name: FacebookSecret, secret: env:FB_SECRET }
    - { name: SamlSigningCert, pfx: file:certs/saml.pfx, password: env:SAML_PFX_PASSWORD }
  customPolicies:`, 1))
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "FB_SECRET="+fbSecret, "SAML_PFX_PASSWORD="+partnerSAMLPFXPw)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	authresp := publicURL + "/contoso.onmicrosoft.com/oauth2/authresp"

	// The SP metadata, which the IdP's administrator registers.
	entityID := publicURL + "/contoso.onmicrosoft.com/" + policy + "/samlp/metadata?idptp=Partner-SAML"
	resp, err := http.Get(entityID)
	if err != nil {
		t.Fatal(err)
	}
	mdBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "xml") {
		t.Fatalf("SP metadata: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), mdBody)
	}
	sp := &saml.EntityDescriptor{}
	if err := xml.Unmarshal(mdBody, sp); err != nil {
		t.Fatalf("SP metadata: %v\n%s", err, mdBody)
	}
	if sp.EntityID != entityID || len(sp.SPSSODescriptors) != 1 {
		t.Fatalf("SP metadata entity %q (want %q):\n%s", sp.EntityID, entityID, mdBody)
	}
	acsOK := false
	for _, a := range sp.SPSSODescriptors[0].AssertionConsumerServices {
		acsOK = acsOK || a.Location == authresp && a.Binding == saml.HTTPPostBinding
	}
	signingOK := false
	for _, kd := range sp.SPSSODescriptors[0].KeyDescriptors {
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
			signingOK = signingOK || (kd.Use == "signing" || kd.Use == "") && err == nil && string(der) == string(spCert.Raw)
		}
		if kd.Use == "encryption" {
			t.Errorf("SP metadata offers an encryption key without a SamlAssertionDecryption key:\n%s", mdBody)
		}
	}
	if !acsOK || !signingOK {
		t.Fatalf("SP metadata: assertion consumer service at %s: %v, signing key of the policy key: %v\n%s", authresp, acsOK, signingOK, mdBody)
	}
	for _, bad := range []string{"?idptp=Facebook-OAUTH", "?idptp=Nope", ""} {
		u := publicURL + "/contoso.onmicrosoft.com/" + policy + "/samlp/metadata" + bad
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("SP metadata %q: %d (want 404)", bad, r.StatusCode)
		}
	}
	idp.mu.Lock()
	idp.sp = sp
	idp.mu.Unlock()

	// choosePartner presses the partner's button on the unified page; the
	// browser follows Gatehouse's redirect to the IdP, which answers with
	// its form posting the SAMLResponse back.
	choosePartner := func(b *testutil.Browser, p *testutil.Page) *testutil.Page {
		t.Helper()
		if !strings.Contains(p.Body, `id="PartnerSAMLExchange"`) || !strings.Contains(p.Body, `id="FacebookExchange"`) {
			t.Fatalf("no partner button:\n%s", p.Body)
		}
		form := url.Values{"claimsexchange": {"PartnerSAMLExchange"}}
		for _, tag := range []string{"tx", "csrf_token", "page"} {
			form.Set(tag, hiddenValue(t, p.Body, tag))
		}
		return samlPostPage(t, b, publicURL+"/contoso.onmicrosoft.com/"+policy+"/api/SelfAsserted", form)
	}
	// idpAnswer checks the IdP's page is its answer for the ACS.
	idpAnswer := func(p *testutil.Page) (string, url.Values) {
		t.Helper()
		if p.Status != http.StatusOK || !strings.HasPrefix(p.URL.String(), idp.srv.URL+"/sso?") || !strings.Contains(p.Body, `name="SAMLResponse"`) {
			t.Fatalf("at the IdP: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		action, form := samlPostedForm(t, p)
		if action != authresp || form.Get("SAMLResponse") == "" || form.Get("RelayState") == "" {
			t.Fatalf("the IdP's form posts to %s: %v", action, form)
		}
		return action, form
	}

	// First sign-in: the IdP, then the pack's SelfAsserted-Social page
	// with the asserted names, then the account is created.
	br := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce := authorizePolicy(t, ctx, br, publicURL, policy, callback)
	p = choosePartner(br, p)
	action, form := idpAnswer(p)
	idp.mu.Lock()
	sso, _ := url.Parse(idp.ssoURLs[0])
	req, relay := idp.requests[0], idp.relays[0]
	idp.mu.Unlock()
	q := sso.Query()
	if q.Get("SAMLRequest") == "" || q.Get("Signature") == "" || q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Errorf("the AuthnRequest redirect is not signed with RSA-SHA256: %s", sso)
	}
	if req.Issuer == nil || req.Issuer.Value != entityID || req.AssertionConsumerServiceURL != authresp ||
		req.Destination != idp.srv.URL+"/sso" || relay == "" || form.Get("RelayState") != relay {
		t.Errorf("AuthnRequest issuer %v ACS %q destination %q, RelayState %q / %q", req.Issuer, req.AssertionConsumerServiceURL, req.Destination, relay, form.Get("RelayState"))
	}
	p = samlPostPage(t, br, action, form)
	if p.Status != 200 || !strings.Contains(p.Body, `data-name="SelfAsserted"`) || !strings.Contains(p.Body, `value="Sam Partner"`) ||
		!strings.Contains(p.Body, `value="Partner"`) {
		t.Fatalf("after the IdP: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	p = br.Submit(p, "continue", map[string]string{"displayName": "Sam P", "givenName": "Sam", "surname": "Partner"})
	cb := br.Callback(p)
	_, _, claims := redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	sub, _ := claims["sub"].(string)
	if sub == "" || claims["name"] != "Sam P" || claims["idp"] != "partner.example" || claims["email"] != partnerEmail ||
		claims["given_name"] != "Sam" || claims["family_name"] != "Partner" {
		t.Fatalf("first sign-in claims %v", claims)
	}
	out, errOut, code := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if code != 0 || !strings.Contains(out, `"signInType": "federated"`) || !strings.Contains(out, `"issuer": "partner.example"`) ||
		!strings.Contains(out, `"issuerAssignedId": "`+partnerNameID+`"`) {
		t.Fatalf("users list: %d %s\n%s", code, errOut, out)
	}

	// Second sign-in in another browser: no page, the same account.
	br2 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, br2, publicURL, policy, callback)
	action, form = idpAnswer(choosePartner(br2, p))
	cb = br2.Callback(samlPostPage(t, br2, action, form))
	_, _, claims = redeem(t, ctx, conf, v, cb.Get("code"), pkce)
	if claims["sub"] != sub || claims["name"] != "Sam P" || claims["idp"] != "partner.example" {
		t.Fatalf("second sign-in claims %v (want sub %s and the stored name)", claims, sub)
	}

	// domain_hint=partner.example (the ClaimsProvider's Domain) goes
	// straight to the IdP: no sign-in page.
	brh := testutil.NewBrowser(t, callback, nil)
	provider := tenantProvider(t, ctx, publicURL, policy)
	hconf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "offline_access", webClientID}}
	hpkce := oauth2.GenerateVerifier()
	p = brh.Get(hconf.AuthCodeURL("st", oauth2.S256ChallengeOption(hpkce), oidc.Nonce("n1"), oauth2.SetAuthURLParam("domain_hint", "partner.example")))
	action, form = idpAnswer(p)
	_, _, claims = redeem(t, ctx, hconf, provider.Verifier(&oidc.Config{ClientID: webClientID}), brh.Callback(samlPostPage(t, brh, action, form)).Get("code"), hpkce)
	if claims["sub"] != sub {
		t.Fatalf("domain_hint sign-in claims %v", claims)
	}
	idp.mu.Lock()
	if idp.sessions != 3 {
		t.Errorf("the IdP signed in %d times (want 3)", idp.sessions)
	}
	idp.mu.Unlock()

	// A refusal at the IdP (RequestDenied): access_denied to the app.
	idp.mu.Lock()
	idp.deny = true
	idp.mu.Unlock()
	br3 := testutil.NewBrowser(t, callback, nil)
	p, _, _, _ = authorizePolicy(t, ctx, br3, publicURL, policy, callback)
	action, form = idpAnswer(choosePartner(br3, p))
	if cb := br3.Callback(samlPostPage(t, br3, action, form)); cb.Get("error") != "access_denied" || cb.Get("code") != "" ||
		!strings.Contains(cb.Get("error_description"), "AADB2C90273") {
		t.Fatalf("refused at the IdP: %v", cb)
	}
	idp.mu.Lock()
	idp.deny = false
	idp.mu.Unlock()

	// An answer that is not this browser's pending sign-in is refused:
	// posted by another browser, with a changed RelayState, or without a
	// transaction; none of them uses up the real one, which then signs in.
	br4 := testutil.NewBrowser(t, callback, nil)
	p, conf, v, pkce = authorizePolicy(t, ctx, br4, publicURL, policy, callback)
	action, form = idpAnswer(choosePartner(br4, p))
	other := testutil.NewBrowser(t, callback, nil)
	if r := samlPostPage(t, other, action, form); r.Status != http.StatusForbidden {
		t.Errorf("the SAMLResponse posted by another browser: %d %s", r.Status, r.URL)
	}
	tampered := url.Values{"SAMLResponse": {form.Get("SAMLResponse")}, "RelayState": {form.Get("RelayState") + "x"}}
	if r := samlPostPage(t, br4, action, tampered); r.Status != http.StatusForbidden {
		t.Errorf("a changed RelayState: %d %s", r.Status, r.URL)
	}
	tx, _, _ := strings.Cut(form.Get("RelayState"), ".")
	tampered.Set("RelayState", "x"+form.Get("RelayState")[len(tx):])
	if r := samlPostPage(t, br4, action, tampered); r.Status != http.StatusForbidden && r.Status != http.StatusBadRequest {
		t.Errorf("a RelayState naming another transaction: %d %s", r.Status, r.URL)
	}
	if r := samlPostPage(t, br4, action, url.Values{"SAMLResponse": {form.Get("SAMLResponse")}}); r.Status != http.StatusBadRequest {
		t.Errorf("no RelayState: %d %s", r.Status, r.URL)
	}
	cb = br4.Callback(samlPostPage(t, br4, action, form))
	if _, _, claims = redeem(t, ctx, conf, v, cb.Get("code"), pkce); claims["sub"] != sub {
		t.Fatalf("sign-in after the refused answers: %v", claims)
	}
	// The same answer again (replayed) is refused: the sign-in is over.
	if r := samlPostPage(t, br4, action, form); r.Status != http.StatusForbidden && r.Status != http.StatusBadRequest {
		t.Errorf("the SAMLResponse replayed: %d %s", r.Status, r.URL)
	}

	// A signed answer whose assertion was changed: the app gets an error,
	// never a code.
	br5 := testutil.NewBrowser(t, callback, nil)
	p, _, _, _ = authorizePolicy(t, ctx, br5, publicURL, policy, callback)
	action, form = idpAnswer(choosePartner(br5, p))
	doc, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil || !strings.Contains(string(doc), partnerNameID) {
		t.Fatalf("SAMLResponse: %v\n%s", err, doc)
	}
	form.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(string(doc), partnerNameID, "partner-admin-1"))))
	if cb := br5.Callback(samlPostPage(t, br5, action, form)); cb.Get("code") != "" || cb.Get("error") != "server_error" ||
		!strings.Contains(cb.Get("error_description"), "AADB2C90273") {
		t.Errorf("a changed assertion: %v", cb)
	}
	out, _, _ = gatehouse(t, env, "users", "list", "--config", file, "--json")
	if strings.Contains(out, "partner-admin-1") {
		t.Errorf("an account was made from a changed assertion:\n%s", out)
	}
}

// TestUserFlowSAML: a user flow's saml provider — the IdP's metadata from
// a file, no signingCertificate (Gatehouse makes one, publishes it in its
// SP metadata and signs the AuthnRequests with it: the IdP checks them),
// the attributes mapped by claims; first sign-in collects the attributes,
// the second is silent and lands on the same account.
func TestUserFlowSAML(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	const policy = "B2C_1_saml"
	idp := newSAMLPartnerIdP(t)
	idpMetadata, err := xml.Marshal(idp.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	file, dir, publicURL, env := identityRoleConfig(t, fmt.Sprintf(`  email: { outbox: ./outbox }
  identityProviders:
    - { name: partner-saml, type: saml, displayName: Partner (SAML), metadata: partner-idp.xml, domainHint: partner.example,
        claims: { email: "urn:oid:0.9.2342.19200300.100.1.3", displayName: "urn:oid:2.5.4.3", givenName: "urn:oid:2.5.4.42", surname: "urn:oid:2.5.4.4" } }
  apps:
    - { name: Web, clientId: %s, type: web, redirectUris: [%q], clientSecrets: [env:WEB_SECRET] }
  userFlows:
    - { name: %s, type: signUpOrSignIn, attributes: [displayName], identityProviders: [local, partner-saml],
        claims: [displayName, emails, objectId, identityProvider] }
`, webClientID, callback, policy))
	writeFile(t, dir, "partner-idp.xml", string(idpMetadata))
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")
	ctx := context.Background()
	authresp := publicURL + "/contoso.onmicrosoft.com/oauth2/authresp"

	// The SP metadata of the user flow's provider, registered at the IdP.
	entityID := publicURL + "/contoso.onmicrosoft.com/" + policy + "/samlp/metadata?idptp=partner-saml"
	resp, err := http.Get(entityID)
	if err != nil {
		t.Fatal(err)
	}
	mdBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sp := &saml.EntityDescriptor{}
	if err := xml.Unmarshal(mdBody, sp); resp.StatusCode != 200 || err != nil || sp.EntityID != entityID {
		t.Fatalf("SP metadata: %d %v\n%s", resp.StatusCode, err, mdBody)
	}
	idp.mu.Lock()
	idp.sp = sp
	idp.mu.Unlock()

	signIn := func() (*testutil.Browser, *testutil.Page, func(*testutil.Page) map[string]any) {
		b := testutil.NewBrowser(t, callback, nil)
		p, conf, v, pkce := authorizePolicy(t, ctx, b, publicURL, policy, callback)
		if !strings.Contains(p.Body, `id="partner-saml"`) || !strings.Contains(p.Body, ">Partner (SAML)<") || !strings.Contains(p.Body, `id="signInName"`) {
			t.Fatalf("sign-in page without the provider's button and the local form:\n%s", p.Body)
		}
		form := url.Values{"claimsexchange": {"partner-saml"}}
		for _, n := range []string{"tx", "csrf_token", "page"} {
			form.Set(n, hiddenValue(t, p.Body, n))
		}
		at := samlPostPage(t, b, publicURL+"/contoso.onmicrosoft.com/"+policy+"/api/SelfAsserted", form)
		if at.Status != http.StatusOK || !strings.HasPrefix(at.URL.String(), idp.srv.URL+"/sso?") {
			t.Fatalf("at the IdP: %d %s\n%s", at.Status, at.URL, at.Body)
		}
		action, answer := samlPostedForm(t, at)
		if action != authresp {
			t.Fatalf("the IdP posts to %s", action)
		}
		return b, samlPostPage(t, b, action, answer), func(p *testutil.Page) map[string]any {
			_, _, claims := redeem(t, ctx, conf, v, b.Callback(p).Get("code"), pkce)
			return claims
		}
	}

	b, p, claimsOf := signIn()
	idp.mu.Lock()
	sso, _ := url.Parse(idp.ssoURLs[0])
	req := idp.requests[0]
	idp.mu.Unlock()
	if q := sso.Query(); q.Get("Signature") == "" || q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" ||
		req.Issuer == nil || req.Issuer.Value != entityID || req.AssertionConsumerServiceURL != authresp {
		t.Errorf("AuthnRequest: %s issuer %v ACS %q", sso, req.Issuer, req.AssertionConsumerServiceURL)
	}
	if p.Status != 200 || !strings.Contains(p.Body, `value="Sam Partner"`) {
		t.Fatalf("first sign-in: the attributes page prefilled from the assertion: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	claims := claimsOf(b.Submit(p, "continue", map[string]string{"displayName": "Sam P"}))
	sub, _ := claims["sub"].(string)
	if sub == "" || claims["name"] != "Sam P" || claims["idp"] != "partner.example" {
		t.Fatalf("first sign-in claims %v", claims)
	}
	if emails, _ := claims["emails"].([]any); len(emails) != 1 || emails[0] != partnerEmail {
		t.Errorf("emails %v", claims["emails"])
	}
	out, errOut, code := gatehouse(t, env, "users", "list", "--config", file, "--json")
	if code != 0 || !strings.Contains(out, `"issuer": "partner.example"`) || !strings.Contains(out, `"issuerAssignedId": "`+partnerNameID+`"`) {
		t.Fatalf("users list: %d %s\n%s", code, errOut, out)
	}
	// Second sign-in in another browser: no page, the same account.
	_, p, claimsOf = signIn()
	if claims := claimsOf(p); claims["sub"] != sub || claims["name"] != "Sam P" {
		t.Fatalf("second sign-in claims %v (want sub %s)", claims, sub)
	}
}
