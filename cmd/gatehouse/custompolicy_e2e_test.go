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
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// customPolicyExtensions is the seed's (secure-rest-api.md) client
// credentials + UseClaimAsBearerToken chain in the starter pack's
// SignUpOrSignIn journey, plus a validation profile on the sign-up page.
const customPolicyExtensions = `<?xml version="1.0" encoding="utf-8" ?>
<TrustFrameworkPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_TrustFrameworkExtensions"
  PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_TrustFrameworkExtensions">
  <BasePolicy>
    <TenantId>contoso.onmicrosoft.com</TenantId>
    <PolicyId>B2C_1A_TrustFrameworkLocalization</PolicyId>
  </BasePolicy>
  <BuildingBlocks>
    <ClaimsSchema>
      <ClaimType Id="bearerToken"><DisplayName>Bearer token</DisplayName><DataType>string</DataType></ClaimType>
      <ClaimType Id="grant_type"><DisplayName>Grant type</DisplayName><DataType>string</DataType></ClaimType>
      <ClaimType Id="scope"><DisplayName>scope</DisplayName><DataType>string</DataType></ClaimType>
      <ClaimType Id="loyaltyNumber"><DisplayName>Loyalty number</DisplayName><DataType>int</DataType></ClaimType>
    </ClaimsSchema>
  </BuildingBlocks>
  <ClaimsProviders>
    <ClaimsProvider>
      <DisplayName>Local Account</DisplayName>
      <TechnicalProfiles>
        <TechnicalProfile Id="LocalAccountSignUpWithLogonEmail">
          <ValidationTechnicalProfiles>
            <ValidationTechnicalProfile ReferenceId="REST-ValidateSignUp" />
          </ValidationTechnicalProfiles>
        </TechnicalProfile>
      </TechnicalProfiles>
    </ClaimsProvider>
    <ClaimsProvider>
      <DisplayName>REST APIs</DisplayName>
      <TechnicalProfiles>
        <TechnicalProfile Id="REST-ValidateSignUp">
          <DisplayName>Validate the sign-up</DisplayName>
          <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null" />
          <Metadata>
            <Item Key="ServiceUrl">https://TESTSERVER/api/validate</Item>
            <Item Key="SendClaimsIn">Body</Item>
            <Item Key="AuthenticationType">Basic</Item>
          </Metadata>
          <CryptographicKeys>
            <Key Id="BasicAuthenticationUsername" StorageReferenceId="B2C_1A_SecureRESTClientId" />
            <Key Id="BasicAuthenticationPassword" StorageReferenceId="B2C_1A_SecureRESTClientSecret" />
          </CryptographicKeys>
          <InputClaims>
            <InputClaim ClaimTypeReferenceId="email" />
          </InputClaims>
        </TechnicalProfile>
        <TechnicalProfile Id="REST-AcquireAccessToken">
          <DisplayName></DisplayName>
          <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null" />
          <Metadata>
            <Item Key="ServiceUrl">https://TESTSERVER/contoso.onmicrosoft.com/oauth2/v2.0/token</Item>
            <Item Key="AuthenticationType">Basic</Item>
            <Item Key="SendClaimsIn">Form</Item>
          </Metadata>
          <CryptographicKeys>
            <Key Id="BasicAuthenticationUsername" StorageReferenceId="B2C_1A_SecureRESTClientId" />
            <Key Id="BasicAuthenticationPassword" StorageReferenceId="B2C_1A_SecureRESTClientSecret" />
          </CryptographicKeys>
          <InputClaims>
            <InputClaim ClaimTypeReferenceId="grant_type" DefaultValue="client_credentials" AlwaysUseDefaultValue="true" />
            <InputClaim ClaimTypeReferenceId="scope" DefaultValue="https://graph.microsoft.com/.default" AlwaysUseDefaultValue="true" />
          </InputClaims>
          <OutputClaims>
            <OutputClaim ClaimTypeReferenceId="bearerToken" PartnerClaimType="access_token" />
          </OutputClaims>
          <UseTechnicalProfileForSessionManagement ReferenceId="SM-Noop" />
        </TechnicalProfile>
        <TechnicalProfile Id="REST-GetProfile">
          <DisplayName>Get user extended profile Azure Function web hook</DisplayName>
          <Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null" />
          <Metadata>
            <Item Key="ServiceUrl">https://TESTSERVER/api/GetProfile?code=your-code</Item>
            <Item Key="SendClaimsIn">Body</Item>
            <Item Key="AuthenticationType">Bearer</Item>
            <Item Key="UseClaimAsBearerToken">bearerToken</Item>
            <Item Key="AllowInsecureAuthInProduction">false</Item>
          </Metadata>
          <InputClaims>
            <InputClaim ClaimTypeReferenceId="bearerToken"/>
            <InputClaim ClaimTypeReferenceId="objectId" />
          </InputClaims>
          <OutputClaims>
            <OutputClaim ClaimTypeReferenceId="loyaltyNumber" />
          </OutputClaims>
        </TechnicalProfile>
      </TechnicalProfiles>
    </ClaimsProvider>
  </ClaimsProviders>
  <UserJourneys>
    <UserJourney Id="SignUpOrSignIn">
      <OrchestrationSteps>
        <OrchestrationStep Order="1" Type="CombinedSignInAndSignUp" ContentDefinitionReferenceId="api.signuporsignin">
          <ClaimsProviderSelections>
            <ClaimsProviderSelection ValidationClaimsExchangeId="LocalAccountSigninEmailExchange" />
          </ClaimsProviderSelections>
          <ClaimsExchanges>
            <ClaimsExchange Id="LocalAccountSigninEmailExchange" TechnicalProfileReferenceId="SelfAsserted-LocalAccountSignin-Email" />
          </ClaimsExchanges>
        </OrchestrationStep>
        <OrchestrationStep Order="2" Type="ClaimsExchange">
          <Preconditions>
            <Precondition Type="ClaimsExist" ExecuteActionsIf="true">
              <Value>objectId</Value>
              <Action>SkipThisOrchestrationStep</Action>
            </Precondition>
          </Preconditions>
          <ClaimsExchanges>
            <ClaimsExchange Id="SignUpWithLogonEmailExchange" TechnicalProfileReferenceId="LocalAccountSignUpWithLogonEmail" />
          </ClaimsExchanges>
        </OrchestrationStep>
        <OrchestrationStep Order="3" Type="ClaimsExchange">
          <ClaimsExchanges>
            <ClaimsExchange Id="AADUserReadWithObjectId" TechnicalProfileReferenceId="AAD-UserReadUsingObjectId" />
          </ClaimsExchanges>
        </OrchestrationStep>
        <OrchestrationStep Order="4" Type="ClaimsExchange">
          <ClaimsExchanges>
            <ClaimsExchange Id="RESTGetToken" TechnicalProfileReferenceId="REST-AcquireAccessToken" />
          </ClaimsExchanges>
        </OrchestrationStep>
        <OrchestrationStep Order="5" Type="ClaimsExchange">
          <ClaimsExchanges>
            <ClaimsExchange Id="RESTGetProfile" TechnicalProfileReferenceId="REST-GetProfile" />
          </ClaimsExchanges>
        </OrchestrationStep>
        <OrchestrationStep Order="6" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer" />
      </OrchestrationSteps>
      <ClientDefinition ReferenceId="DefaultWeb" />
    </UserJourney>
  </UserJourneys>
</TrustFrameworkPolicy>
`

const customPolicyRP = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<TrustFrameworkPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
  TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_signup_signin"
  PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_signup_signin">
  <BasePolicy>
    <TenantId>contoso.onmicrosoft.com</TenantId>
    <PolicyId>B2C_1A_TrustFrameworkExtensions</PolicyId>
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
        <OutputClaim ClaimTypeReferenceId="loyaltyNumber" />
      </OutputClaims>
      <SubjectNamingInfo ClaimType="sub" />
    </TechnicalProfile>
  </RelyingParty>
</TrustFrameworkPolicy>
`

// customPolicyAPI is the tenant's HTTPS API: a client-credentials token endpoint,
// GetProfile (needs the token as bearer) and a sign-up validation.
type customPolicyAPI struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "path auth"
}

func newCustomPolicyAPI(t *testing.T) *customPolicyAPI {
	a := &customPolicyAPI{}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.seen = append(a.seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		user, pass, basic := r.BasicAuth()
		switch {
		case r.URL.Path == "/contoso.onmicrosoft.com/oauth2/v2.0/token":
			if !basic || user != "rest-client" || pass != "rest-secret-0123456789" || !strings.Contains(string(b), "grant_type=client_credentials") {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"api-token-42"}`)
		case r.URL.Path == "/api/GetProfile":
			if r.Header.Get("Authorization") != "Bearer api-token-42" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"loyaltyNumber":7321}`)
		case r.URL.Path == "/api/validate":
			var in map[string]any
			json.Unmarshal(b, &in)
			if in["email"] == "blocked@example.com" {
				w.WriteHeader(http.StatusConflict)
				io.WriteString(w, `{"version":"1.0.0","status":409,"userMessage":"This email address cannot sign up."}`)
				return
			}
			io.WriteString(w, `{}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *customPolicyAPI) calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// TestCustomPolicyEndToEnd: B2C_1A_signup_signin through the real binary,
// from an extensions file and a relying party only — the starter pack's
// base and localization are built in. Sign-up verifies the address and runs
// the validation profile (a 409 userMessage is shown, nothing stored; the
// user changes the address, then succeeds), the journey calls
// REST-AcquireAccessToken and REST-GetProfile with the first one's token as
// bearer, and GetProfile's loyaltyNumber is in the id token.
func TestCustomPolicyEndToEnd(t *testing.T) {
	const callback = "http://127.0.0.1:1/callback"
	api := newCustomPolicyAPI(t)
	file, publicURL, env := identityConfig(t, callback)
	dir := file[:strings.LastIndexByte(file, '/')]
	ca := writeFile(t, dir, "api-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})))
	ext := writeFile(t, dir, "TrustFrameworkExtensions.xml", strings.ReplaceAll(customPolicyExtensions, "https://TESTSERVER", api.URL))
	rp := writeFile(t, dir, "SignUpOrSignin.xml", customPolicyRP)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	mailDir := dir + "/outbox"
	cfg := strings.Replace(string(b), "  userFlows:\n", fmt.Sprintf(`  email: { outbox: %q }
  customPolicies: [%q, %q]
  policyKeys:
    - { name: B2C_1A_SecureRESTClientId, secret: env:REST_CLIENT_ID }
    - { name: B2C_1A_SecureRESTClientSecret, secret: env:REST_CLIENT_SECRET }
  userFlows:
`, mailDir, ext, rp), 1)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "REST_CLIENT_ID=rest-client", "REST_CLIENT_SECRET=rest-secret-0123456789", "SSL_CERT_FILE="+ca)
	startServe(t, file, env, "identity")

	ctx := context.Background()
	provider := tenantProvider(t, ctx, publicURL, "B2C_1A_signup_signin")
	conf := &oauth2.Config{ClientID: webClientID, ClientSecret: webSecret, RedirectURL: callback,
		// The app's own client id as a scope gets an access token too, which
		// golang.org/x/oauth2 requires in every token response.
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, webClientID}}
	verifier := provider.Verifier(&oidc.Config{ClientID: webClientID})

	br := testutil.NewBrowser(t, callback, nil)
	pkce := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	page := br.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce)))
	if page.Status != 200 || !strings.Contains(page.Body, `id="signInName"`) {
		t.Fatalf("sign-in page: %d\n%s", page.Status, page.Body)
	}
	page = br.Follow(page, "createAccount")
	seen := map[string]bool{}
	verify := func(p *testutil.Page, addr string) *testutil.Page {
		t.Helper()
		p = br.Submit(p, "email_ver_but_send", map[string]string{"email": addr})
		p = br.Submit(p, "email_ver_but_verify", map[string]string{"email": addr, "email_ver_input": lastCode(t, mailDir, seen)})
		if !strings.Contains(p.Body, `id="email_ver_but_edit"`) {
			t.Fatalf("after verifying %s: %d\n%s", addr, p.Status, p.Body)
		}
		return p
	}
	const pw = "Str0ng-Passw0rd!"
	fields := map[string]string{"email": "blocked@example.com", "newPassword": pw, "reenterPassword": pw,
		"displayName": "Custom User", "givenName": "Custom", "surname": "User"}
	refused := br.Submit(verify(page, fields["email"]), "continue", fields)
	if !strings.Contains(refused.Body, "This email address cannot sign up.") || !strings.Contains(refused.Body, `value="blocked@example.com"`) {
		t.Fatalf("validation error page: %d\n%s", refused.Status, refused.Body)
	}
	fields["email"] = "custom.user@example.com"
	page = verify(br.Submit(refused, "email_ver_but_edit", nil), fields["email"])
	q := br.Callback(br.Submit(page, "continue", fields))
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback = %v", q)
	}
	_, _, claims := redeem(t, ctx, conf, verifier, q.Get("code"), pkce)
	if claims["loyaltyNumber"] != float64(7321) || claims["tfp"] != "B2C_1A_signup_signin" || claims["name"] != "Custom User" ||
		claims["email"] != "custom.user@example.com" {
		t.Errorf("id token claims = %v", claims)
	}
	order := api.calls()
	want := []string{"/api/validate Basic", "/api/validate Basic", "/contoso.onmicrosoft.com/oauth2/v2.0/token Basic", "/api/GetProfile Bearer api-token-42"}
	if len(order) != len(want) {
		t.Fatalf("API calls = %q", order)
	}
	for i, w := range want {
		if !strings.HasPrefix(order[i], w) {
			t.Errorf("API call %d = %q, want %q...", i, order[i], w)
		}
	}
}
