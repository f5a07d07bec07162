package federation_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/federation"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// staticKeys is a key store holding one secret.
type staticKeys map[string]string

func (k staticKeys) Secret(_ context.Context, name string) ([]byte, error) {
	if v, ok := k[name]; ok {
		return []byte(v), nil
	}
	return nil, errors.New("no such key")
}

func (staticKeys) Certificate(context.Context, string) (*tls.Certificate, error) {
	return nil, errors.New("no certificates")
}

const policyXML = `<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
 TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_partner" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_partner">
<BuildingBlocks><ClaimsSchema>
 <ClaimType Id="objectId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="issuerUserId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="email"><DataType>string</DataType></ClaimType>
 <ClaimType Id="identityProvider"><DataType>string</DataType></ClaimType>
 <ClaimType Id="emailVerified"><DataType>boolean</DataType></ClaimType>
</ClaimsSchema></BuildingBlocks>
<ClaimsProviders><ClaimsProvider><DisplayName>Partner</DisplayName><TechnicalProfiles>
 <TechnicalProfile Id="Partner-OIDC"><DisplayName>Contoso Partner</DisplayName><Protocol Name="OpenIdConnect"/>
  <Metadata><Item Key="METADATA">METADATA_URL</Item><Item Key="client_id">partner-client</Item>
   <Item Key="response_types">RESPONSE_TYPES</Item><Item Key="scope">openid email</Item></Metadata>
  <CryptographicKeys><Key Id="client_secret" StorageReferenceId="B2C_1A_PartnerSecret"/></CryptographicKeys>
  <OutputClaims>
   <OutputClaim ClaimTypeReferenceId="issuerUserId" PartnerClaimType="sub"/>
   <OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="email"/>
   <OutputClaim ClaimTypeReferenceId="emailVerified" PartnerClaimType="email_verified"/>
   <OutputClaim ClaimTypeReferenceId="identityProvider" PartnerClaimType="iss"/>
   <OutputClaim ClaimTypeReferenceId="objectId" DefaultValue="from-partner"/>
  </OutputClaims></TechnicalProfile>
 <TechnicalProfile Id="JwtIssuer"><Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile>
</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
<UserJourneys><UserJourney Id="J"><OrchestrationSteps>
 <OrchestrationStep Order="1" Type="ClaimsExchange"><ClaimsExchanges><ClaimsExchange Id="PartnerExchange" TechnicalProfileReferenceId="Partner-OIDC"/></ClaimsExchanges></OrchestrationStep>
 <OrchestrationStep Order="2" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>
</OrchestrationSteps></UserJourney></UserJourneys>
<RelyingParty><DefaultUserJourney ReferenceId="J"/><TechnicalProfile Id="PolicyProfile"><DisplayName>PolicyProfile</DisplayName><Protocol Name="OpenIdConnect"/>
 <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/><OutputClaim ClaimTypeReferenceId="issuerUserId"/>
 <OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="emailVerified"/><OutputClaim ClaimTypeReferenceId="identityProvider"/></OutputClaims>
 <SubjectNamingInfo ClaimType="sub"/></TechnicalProfile></RelyingParty>
</TrustFrameworkPolicy>`

// partner is an OpenID provider with a token endpoint that checks the
// code, PKCE verifier, client credentials and redirect URI.
type partner struct {
	*testutil.Issuer
	mu     sync.Mutex
	grants map[string]grant // code -> what the authorization request said
	aud    string
}

type grant struct{ challenge, nonce, redirect string }

func newPartner(t *testing.T) *partner {
	p := &partner{Issuer: testutil.NewIssuer(t), grants: map[string]grant{}, aud: "partner-client"}
	p.Mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		g, ok := p.grants[r.PostForm.Get("code")]
		delete(p.grants, r.PostForm.Get("code"))
		aud := p.aud
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirect ||
			r.PostForm.Get("client_id") != "partner-client" || r.PostForm.Get("client_secret") != "partner-secret" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","id_token":"` + p.Token(t, map[string]any{"aud": aud,
			"sub": "partner-user-1", "email": "pat@partner.example", "email_verified": true, "nonce": g.nonce}) + `"}`))
	})
	return p
}

func engine(t *testing.T, p *partner, responseTypes string) *journey.Engine {
	t.Helper()
	xml := strings.NewReplacer("METADATA_URL", p.DiscoveryURL(), "RESPONSE_TYPES", responseTypes).Replace(policyXML)
	set, err := ief.Load([]ief.Source{{Path: "partner.xml", Data: []byte(xml)}}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oidc := federation.NewOIDC(federation.Options{Keys: staticKeys{"B2C_1A_PartnerSecret": "partner-secret"},
		RedirectURI: "https://login.example/contoso.onmicrosoft.com/oauth2/authresp"})
	eng, err := journey.New(journey.Env{Policy: set.Policy("B2C_1A_partner"), Federations: map[string]journey.Federation{ief.ProviderOIDC: oidc}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// start runs the journey to its redirect and returns it parsed.
func start(t *testing.T, eng *journey.Engine) (*journey.State, url.Values) {
	t.Helper()
	st, err := eng.Start("J", map[string]string{journey.TransactionValue: "tx-1", "OIDC:LoginHint": "pat@partner.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := eng.Next(context.Background(), st, nil)
	if err != nil || out.Redirect == nil {
		t.Fatalf("no redirect: %+v %v", out, err)
	}
	u, err := url.Parse(out.Redirect.URL)
	if err != nil {
		t.Fatal(err)
	}
	return st, u.Query()
}

func answer(t *testing.T, eng *journey.Engine, st *journey.State, values map[string]string) (*journey.Outcome, error) {
	t.Helper()
	return eng.Next(context.Background(), st, &journey.Input{Profile: "Partner-OIDC", Action: journey.ActionFederated, Values: values})
}

func TestOIDCCodeFlow(t *testing.T) {
	p := newPartner(t)
	eng := engine(t, p, "code")
	st, q := start(t, eng)
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" ||
		q.Get("client_id") != "partner-client" || q.Get("scope") != "openid email" || q.Get("login_hint") != "pat@partner.example" ||
		q.Get("redirect_uri") != "https://login.example/contoso.onmicrosoft.com/oauth2/authresp" || !strings.HasPrefix(q.Get("state"), "tx-1.") {
		t.Fatalf("authorization request %v", q)
	}
	if tx, ok := journey.SplitFederationState(q.Get("state")); !ok || tx != "tx-1" {
		t.Fatalf("state %q", q.Get("state"))
	}
	p.grants["c1"] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
	out, err := answer(t, eng, st, map[string]string{"code": "c1", "state": q.Get("state")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Claims
	if c["issuerUserId"] != "partner-user-1" || c["email"] != "pat@partner.example" || c["emailVerified"] != true ||
		c["identityProvider"] != p.IssuerURL() || c["sub"] != "from-partner" {
		t.Fatalf("claims %v", c)
	}
}

func TestOIDCRefusals(t *testing.T) {
	p := newPartner(t)
	eng := engine(t, p, "code")
	wantInvalid := func(name string, err error) {
		t.Helper()
		var ue *journey.UserError
		if !errors.As(err, &ue) || ue.Code != "AADB2C90273" || ue == journey.ErrProviderCancelled {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A state that is not the journey's.
	st, q := start(t, eng)
	p.grants["c2"] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
	_, err := answer(t, eng, st, map[string]string{"code": "c2", "state": q.Get("state") + "x"})
	wantInvalid("forged state", err)
	// An id_token whose nonce is not the one sent.
	st, q = start(t, eng)
	p.grants["c3"] = grant{q.Get("code_challenge"), "another nonce", q.Get("redirect_uri")}
	_, err = answer(t, eng, st, map[string]string{"code": "c3", "state": q.Get("state")})
	wantInvalid("wrong nonce", err)
	// An id_token for another client.
	p.aud = "someone-else"
	st, q = start(t, eng)
	p.grants["c4"] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
	_, err = answer(t, eng, st, map[string]string{"code": "c4", "state": q.Get("state")})
	wantInvalid("other audience", err)
	p.aud = "partner-client"
	// A code redeemed without the right PKCE verifier (another sign-in's).
	st, q = start(t, eng)
	p.grants["c5"] = grant{"not-the-challenge", q.Get("nonce"), q.Get("redirect_uri")}
	_, err = answer(t, eng, st, map[string]string{"code": "c5", "state": q.Get("state")})
	wantInvalid("PKCE", err)
	// The user declines at the provider.
	st, q = start(t, eng)
	_, err = answer(t, eng, st, map[string]string{"error": "access_denied", "state": q.Get("state")})
	if !errors.Is(err, journey.ErrProviderCancelled) {
		t.Errorf("cancel: %v", err)
	}
	// An answer is used once: the journey moved on (or failed) with it.
	if st.Page != "" || st.Federation != nil {
		t.Errorf("the pending redirect survived its answer: %+v", st)
	}
}

// TestOIDCImplicitFormPost: response_types id_token, the id_token posted
// back (never in a URL).
func TestOIDCImplicitFormPost(t *testing.T) {
	p := newPartner(t)
	eng := engine(t, p, "id_token")
	st, q := start(t, eng)
	if q.Get("response_type") != "id_token" || q.Get("response_mode") != "form_post" || q.Get("code_challenge") != "" {
		t.Fatalf("authorization request %v", q)
	}
	tok := p.Token(t, map[string]any{"aud": "partner-client", "sub": "u2", "nonce": q.Get("nonce")})
	out, err := answer(t, eng, st, map[string]string{"id_token": tok, "state": q.Get("state")})
	if err != nil || out.Claims["issuerUserId"] != "u2" {
		t.Fatalf("%v %v", out, err)
	}
}

// TestOIDCPrivateKeyJWT: token_endpoint_auth_method private_key_jwt signs
// a client assertion with the assertion_signing_key certificate; the
// provider checks it as RFC 7523 says (signature, iss/sub, aud, expiry).
func TestOIDCPrivateKeyJWT(t *testing.T) {
	key, _, cert := selfSigned(t, "gatehouse")
	p := newPartner(t)
	var checked bool
	p.Mux.HandleFunc("POST /token-pkjwt", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256})
		var cl jwt.Claims
		if err != nil || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
			f.Get("client_secret") != "" || tok.Claims(&key.PublicKey, &cl) != nil || cl.Issuer != "partner-client" ||
			cl.Subject != "partner-client" || !cl.Audience.Contains(p.Server.URL+"/token-pkjwt") || cl.ID == "" ||
			cl.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, time.Minute) != nil || tok.Headers[0].ExtraHeaders["x5t"] == nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		p.mu.Lock()
		g := p.grants[f.Get("code")]
		checked = true
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","id_token":"` + p.Token(t, map[string]any{"aud": "partner-client", "sub": "u-pk", "nonce": g.nonce}) + `"}`))
	})
	xml := strings.NewReplacer("RESPONSE_TYPES", "code",
		`<Item Key="METADATA">METADATA_URL</Item>`, `<Item Key="authorization_endpoint">`+p.Server.URL+`/authorize</Item><Item Key="AccessTokenEndpoint">`+p.Server.URL+`/token-pkjwt</Item><Item Key="JWKS">`+p.Server.URL+`/keys</Item><Item Key="issuer">`+p.IssuerURL()+`</Item><Item Key="token_endpoint_auth_method">private_key_jwt</Item>`,
		`<Key Id="client_secret" StorageReferenceId="B2C_1A_PartnerSecret"/>`, `<Key Id="assertion_signing_key" StorageReferenceId="B2C_1A_PartnerCert"/>`).Replace(policyXML)
	set, err := ief.Load([]ief.Source{{Path: "partner.xml", Data: []byte(xml)}}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oidc := federation.NewOIDC(federation.Options{Keys: certKeys{"B2C_1A_PartnerCert": cert},
		RedirectURI: "https://login.example/contoso.onmicrosoft.com/oauth2/authresp"})
	eng, err := journey.New(journey.Env{Policy: set.Policy("B2C_1A_partner"), Federations: map[string]journey.Federation{ief.ProviderOIDC: oidc}})
	if err != nil {
		t.Fatal(err)
	}
	st, q := start(t, eng)
	p.grants["pk1"] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
	out, err := answer(t, eng, st, map[string]string{"code": "pk1", "state": q.Get("state")})
	if err != nil || out.Claims["issuerUserId"] != "u-pk" || !checked {
		t.Fatalf("%v %v (assertion checked: %v)", out, err, checked)
	}
}

// TestOIDCMultiTenant: a provider whose metadata names its issuer per
// tenant (Entra ID's /organizations: .../{tenantid}/v2.0) accepts a token
// whose iss is its own tid's, and ValidTokenIssuerPrefixes limits which
// tenants may sign in.
func TestOIDCMultiTenant(t *testing.T) {
	p := newPartner(t)
	p.Mux.HandleFunc("GET /organizations/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + p.Server.URL + `/{tenantid}/v2.0","jwks_uri":"` + p.Server.URL + `/keys",` +
			`"authorization_endpoint":"` + p.Server.URL + `/authorize","token_endpoint":"` + p.Server.URL + `/token-mt"}`))
	})
	const allowed, other = "72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-4333-8444-555555555555"
	var tid, iss string
	p.Mux.HandleFunc("POST /token-mt", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		g := p.grants[r.PostForm.Get("code")]
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","id_token":"` + p.Token(t, map[string]any{"aud": "partner-client", "sub": "u-" + tid,
			"tid": tid, "iss": iss, "nonce": g.nonce}) + `"}`))
	})
	xml := strings.NewReplacer("METADATA_URL", p.Server.URL+"/organizations/.well-known/openid-configuration", "RESPONSE_TYPES", "code",
		`<Item Key="scope">`, `<Item Key="ValidTokenIssuerPrefixes">`+p.Server.URL+"/"+allowed+`/</Item><Item Key="scope">`).Replace(policyXML)
	set, err := ief.Load([]ief.Source{{Path: "partner.xml", Data: []byte(xml)}}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oidc := federation.NewOIDC(federation.Options{Keys: staticKeys{"B2C_1A_PartnerSecret": "partner-secret"},
		RedirectURI: "https://login.example/contoso.onmicrosoft.com/oauth2/authresp"})
	eng, err := journey.New(journey.Env{Policy: set.Policy("B2C_1A_partner"), Federations: map[string]journey.Federation{ief.ProviderOIDC: oidc}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(tokenTID, tokenIss string) (*journey.Outcome, error) {
		tid, iss = tokenTID, tokenIss
		st, q := start(t, eng)
		p.grants["mt"] = grant{q.Get("code_challenge"), q.Get("nonce"), q.Get("redirect_uri")}
		return answer(t, eng, st, map[string]string{"code": "mt", "state": q.Get("state")})
	}
	if out, err := signIn(allowed, p.Server.URL+"/"+allowed+"/v2.0"); err != nil || out.Claims["issuerUserId"] != "u-"+allowed {
		t.Fatalf("allowed tenant: %v %v", out, err)
	}
	var ue *journey.UserError
	if _, err := signIn(other, p.Server.URL+"/"+other+"/v2.0"); !errors.As(err, &ue) || ue.Code != "AADB2C90238" {
		t.Errorf("a tenant outside ValidTokenIssuerPrefixes: %v", err)
	}
	if _, err := signIn(other, p.Server.URL+"/"+allowed+"/v2.0"); !errors.As(err, &ue) || ue.Code != "AADB2C90273" {
		t.Errorf("another tenant's token claiming the allowed issuer: %v", err)
	}
}
