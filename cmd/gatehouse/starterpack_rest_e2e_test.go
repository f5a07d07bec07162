package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// restExtensions is one more extensions layer over the LocalAccounts
// starter pack, as B2C's "validate user input" walkthrough writes it: the
// loyaltyId claim collected at sign-up, REST-ValidateProfile as a
// validation profile of LocalAccountSignUpWithLogonEmail (Basic
// authentication with policy keys, as the sample advises for
// production), and its promoCode answer.
const restExtensions = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_TrustFrameworkExtensions_REST"
  PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_TrustFrameworkExtensions_REST">
  <BasePolicy>
    <TenantId>contoso.onmicrosoft.com</TenantId>
    <PolicyId>B2C_1A_TrustFrameworkExtensions</PolicyId>
  </BasePolicy>
  <BuildingBlocks>
    <ClaimsSchema>
      <ClaimType Id="loyaltyId">
        <DisplayName>Your loyalty ID</DisplayName>
        <DataType>string</DataType>
        <UserInputType>TextBox</UserInputType>
      </ClaimType>
      <ClaimType Id="promoCode">
        <DisplayName>Your promo code</DisplayName>
        <DataType>string</DataType>
        <UserInputType>Paragraph</UserInputType>
      </ClaimType>
      <ClaimType Id="campaignId">
        <DisplayName>Campaign from the app's authorize request</DisplayName>
        <DataType>string</DataType>
      </ClaimType>
      <ClaimType Id="userLanguage">
        <DisplayName>User UI language (used by REST API to return localized error messages)</DisplayName>
        <DataType>string</DataType>
      </ClaimType>
    </ClaimsSchema>
  </BuildingBlocks>
  <ClaimsProviders>
    <ClaimsProvider>
      <DisplayName>REST APIs</DisplayName>
      <TechnicalProfiles>
        <TechnicalProfile Id="REST-ValidateProfile">
          <DisplayName>Check loyaltyId Azure Function web hook</DisplayName>
          <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null" />
          <Metadata>
            <Item Key="ServiceUrl">https://TESTSERVER/api/ValidateProfile?code=your-code</Item>
            <Item Key="SendClaimsIn">Body</Item>
            <Item Key="AuthenticationType">Basic</Item>
          </Metadata>
          <CryptographicKeys>
            <Key Id="BasicAuthenticationUsername" StorageReferenceId="B2C_1A_RestApiUsername" />
            <Key Id="BasicAuthenticationPassword" StorageReferenceId="B2C_1A_RestApiPassword" />
          </CryptographicKeys>
          <InputClaims>
            <InputClaim ClaimTypeReferenceId="loyaltyId" />
            <InputClaim ClaimTypeReferenceId="email" />
            <InputClaim ClaimTypeReferenceId="campaignId" DefaultValue="{OAUTH-KV:campaignId}" AlwaysUseDefaultValue="true" />
            <InputClaim ClaimTypeReferenceId="userLanguage" PartnerClaimType="lang" DefaultValue="{Culture:LCID}" AlwaysUseDefaultValue="true" />
          </InputClaims>
          <OutputClaims>
            <OutputClaim ClaimTypeReferenceId="promoCode" />
          </OutputClaims>
          <UseTechnicalProfileForSessionManagement ReferenceId="SM-Noop" />
        </TechnicalProfile>
      </TechnicalProfiles>
    </ClaimsProvider>
    <ClaimsProvider>
      <DisplayName>Local Account</DisplayName>
      <TechnicalProfiles>
        <TechnicalProfile Id="LocalAccountSignUpWithLogonEmail">
          <OutputClaims>
            <OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="Verified.Email" Required="true" />
            <OutputClaim ClaimTypeReferenceId="newPassword" Required="true" />
            <OutputClaim ClaimTypeReferenceId="reenterPassword" Required="true" />
            <OutputClaim ClaimTypeReferenceId="displayName" />
            <OutputClaim ClaimTypeReferenceId="givenName" />
            <OutputClaim ClaimTypeReferenceId="surName" />
            <OutputClaim ClaimTypeReferenceId="loyaltyId" Required="true" />
          </OutputClaims>
          <ValidationTechnicalProfiles>
            <ValidationTechnicalProfile ReferenceId="REST-ValidateProfile" ContinueOnError="false" />
          </ValidationTechnicalProfiles>
        </TechnicalProfile>
      </TechnicalProfiles>
    </ClaimsProvider>
  </ClaimsProviders>
</TrustFrameworkPolicy>
`

// restRelyingParty is SignUpOrSignin on the new layer, with promoCode in
// the token.
const restRelyingParty = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_signup_signin_rest"
  PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_signup_signin_rest">
  <BasePolicy>
    <TenantId>contoso.onmicrosoft.com</TenantId>
    <PolicyId>B2C_1A_TrustFrameworkExtensions_REST</PolicyId>
  </BasePolicy>
  <RelyingParty>
    <DefaultUserJourney ReferenceId="SignUpOrSignIn" />
    <TechnicalProfile Id="PolicyProfile">
      <DisplayName>PolicyProfile</DisplayName>
      <Protocol Name="OpenIdConnect" />
      <OutputClaims>
        <OutputClaim ClaimTypeReferenceId="displayName" />
        <OutputClaim ClaimTypeReferenceId="email" />
        <OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/>
        <OutputClaim ClaimTypeReferenceId="promoCode" DefaultValue="" />
      </OutputClaims>
      <SubjectNamingInfo ClaimType="sub" />
    </TechnicalProfile>
  </RelyingParty>
</TrustFrameworkPolicy>
`

// loyaltyAPI is the sample's Azure Function: loyaltyId 1234 is refused
// with B2C's 409 contract, any other gets a promo code. It checks the
// Basic credentials from the policy keys and records the bodies.
type loyaltyAPI struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newLoyaltyAPI(t *testing.T) *loyaltyAPI {
	a := &loyaltyAPI{}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		user, pass, ok := r.BasicAuth()
		if r.URL.Path != "/api/ValidateProfile" || r.URL.Query().Get("code") != "your-code" || !ok || user != "rest-user" || pass != "rest-pass-0123456789" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var in map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.bodies = append(a.bodies, in)
		a.mu.Unlock()
		if in["loyaltyId"] == "1234" {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"version":"1.0.1","status":409,"userMessage":"Your loyalty ID is not valid. Please try again."}`)
			return
		}
		fmt.Fprintf(w, `{"promoCode":"PROMO-%s"}`, in["loyaltyId"])
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *loyaltyAPI) calls() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]map[string]any(nil), a.bodies...)
}

var customPoliciesLine = regexp.MustCompile(`(?m)^  customPolicies: \[(.*)\]$`)

// TestStarterPackRESTValidation: the LocalAccounts starter pack plus an
// extensions layer with B2C's REST validation sample, through the binary.
// Sign-up with a loyalty ID the API refuses (409 userMessage) shows the
// API's message on the sign-up page and signs no one in; corrected, the
// same sign-up goes through and the API's promoCode is in the token.
func TestStarterPackRESTValidation(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	api := newLoyaltyAPI(t)
	file, publicURL, mailDir, env := starterPackConfig(t, "LocalAccounts", callback)
	dir := filepath.Dir(file)
	ext := writeFile(t, dir, "policies/TrustFrameworkExtensions_REST.xml", strings.ReplaceAll(restExtensions, "https://TESTSERVER", api.URL))
	rp := writeFile(t, dir, "policies/SignUpOrSignin_REST.xml", restRelyingParty)
	ca := writeFile(t, dir, "api-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !customPoliciesLine.Match(b) {
		t.Fatalf("no customPolicies line in\n%s", b)
	}
	cfg := customPoliciesLine.ReplaceAllString(string(b), fmt.Sprintf(`  customPolicies: [$1, %q, %q]
  policyKeys:
    - { name: B2C_1A_RestApiUsername, secret: env:REST_USER }
    - { name: B2C_1A_RestApiPassword, secret: env:REST_PASS }`, ext, rp))
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "REST_USER=rest-user", "REST_PASS=rest-pass-0123456789", "SSL_CERT_FILE="+ca)
	if out, errOut, code := gatehouse(t, env, "validate", "--config", file); code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	startServe(t, file, env, "identity")

	ctx := context.Background()
	provider := tenantProvider(t, ctx, publicURL, "B2C_1A_signup_signin_rest")
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "offline_access", webClientID}}
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})
	seen := map[string]bool{}
	const pw = "Passw0rd!Long"
	// signUp opens the sign-up page in a new browser, verifies the
	// address and submits the form with the loyalty ID.
	signUp := func(email, loyaltyID string) (*testutil.Browser, *testutil.Page, string) {
		t.Helper()
		br := testutil.NewBrowser(t, callback, nil)
		pkce := oauth2.GenerateVerifier()
		p := br.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce), oidc.Nonce("n1"), oauth2.SetAuthURLParam("campaignId", "spring")))
		if p.Status != 200 || !strings.Contains(p.Body, `data-name="Unified"`) {
			t.Fatalf("authorize: %d\n%s", p.Status, p.Body)
		}
		p = br.Follow(p, "createAccount")
		if !strings.Contains(p.Body, `id="loyaltyId"`) {
			t.Fatalf("sign-up page without the loyalty ID:\n%s", p.Body)
		}
		p = br.Submit(p, "email_ver_but_send", map[string]string{"email": email})
		p = br.Submit(p, "email_ver_but_verify", map[string]string{"email": email, "email_ver_input": lastCode(t, mailDir, seen)})
		if p.Status != 200 || !strings.Contains(p.Body, `id="email_ver_but_edit"`) {
			t.Fatalf("after verify code: %d\n%s", p.Status, p.Body)
		}
		return br, br.Submit(p, "continue", map[string]string{"email": email, "newPassword": pw, "reenterPassword": pw,
			"displayName": "Grace H", "givenName": "Grace", "surname": "Hopper", "loyaltyId": loyaltyID}), pkce
	}

	// 409: the API's userMessage on the sign-up page, no sign-in.
	signUpBrowser, refused, signUpPKCE := signUp("grace@example.com", "1234")
	if refused.Status != 200 || !strings.Contains(refused.Body, "Your loyalty ID is not valid. Please try again.") ||
		!strings.Contains(refused.Body, `data-name="SelfAsserted"`) || !strings.Contains(refused.Body, `value="1234"`) {
		t.Fatalf("409 page: %d\n%s", refused.Status, refused.Body)
	}
	calls := api.calls()
	if len(calls) != 1 || calls[0]["loyaltyId"] != "1234" || calls[0]["email"] != "grace@example.com" || calls[0]["lang"] != "1033" || calls[0]["campaignId"] != "spring" {
		t.Errorf("API bodies %v", calls)
	}
	// B2C puts an extension's validation profiles before the base's, so
	// REST-ValidateProfile ran before AAD-UserWriteUsingLogonEmail: no
	// account exists yet, and the user corrects the loyalty ID on the same
	// page. 200: the sign-up completes with the promo code in the token.
	br, pkce := signUpBrowser, signUpPKCE
	done := br.Submit(refused, "continue", map[string]string{"email": "grace@example.com", "newPassword": pw, "reenterPassword": pw,
		"displayName": "Grace H", "givenName": "Grace", "surname": "Hopper", "loyaltyId": "5678"})
	cb := br.Callback(done)
	if cb.Get("code") == "" {
		t.Fatalf("no code after the accepted sign-up: %v\n%s", cb, done.Body)
	}
	_, _, claims := redeem(t, ctx, conf, verifier, cb.Get("code"), pkce)
	if claims["promoCode"] != "PROMO-5678" || claims["email"] != "grace@example.com" || claims["name"] != "Grace H" || claims["sub"] == "" {
		t.Errorf("token claims %v", claims)
	}
	if calls := api.calls(); len(calls) != 2 || calls[1]["loyaltyId"] != "5678" {
		t.Errorf("API bodies %v", calls)
	}
}

// TestStarterPackMissingPolicyKey: serve refuses a RESTful profile whose
// policy key does not exist, at the Key's place, before listening.
func TestStarterPackMissingPolicyKey(t *testing.T) {
	file, _, _, env := starterPackConfig(t, "LocalAccounts", "http://127.0.0.1:1/callback")
	dir := filepath.Dir(file)
	ext := writeFile(t, dir, "policies/TrustFrameworkExtensions_REST.xml", strings.ReplaceAll(restExtensions, "https://TESTSERVER", "https://127.0.0.1:9"))
	rp := writeFile(t, dir, "policies/SignUpOrSignin_REST.xml", restRelyingParty)
	b, _ := os.ReadFile(file)
	cfg := customPoliciesLine.ReplaceAllString(string(b), fmt.Sprintf(`  customPolicies: [$1, %q, %q]
  policyKeys:
    - { name: B2C_1A_RestApiUsername, secret: env:REST_USER }`, ext, rp))
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "REST_USER=rest-user")
	out, errOut, code := gatehouse(t, env, "serve", "--config", file)
	errOut += out
	want := ext + ":45:13: technical profile REST-ValidateProfile: policy key B2C_1A_RestApiPassword does not exist"
	if code == 0 || !strings.Contains(errOut, want) || strings.Contains(errOut, "B2C_1A_RestApiUsername does not exist") {
		t.Errorf("exit %d, want %q in:\n%s", code, want, errOut)
	}
}
