package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/federation"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// certKeys is a key store of certificates (SamlMessageSigning,
// SamlAssertionDecryption).
type certKeys map[string]*tls.Certificate

func (certKeys) Secret(context.Context, string) ([]byte, error) { return nil, errors.New("no secrets") }

func (k certKeys) Certificate(_ context.Context, name string) (*tls.Certificate, error) {
	if c, ok := k[name]; ok {
		return c, nil
	}
	return nil, errors.New("no such key")
}

// selfSigned makes an RSA key with a self-signed certificate.
func selfSigned(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate, *tls.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
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
	return key, cert, &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

const samlPolicyXML = `<TrustFrameworkPolicy xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0"
 TenantId="contoso.onmicrosoft.com" PolicyId="B2C_1A_saml" PublicPolicyUri="http://contoso.onmicrosoft.com/B2C_1A_saml">
<BuildingBlocks><ClaimsSchema>
 <ClaimType Id="objectId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="issuerUserId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="email"><DataType>string</DataType></ClaimType>
 <ClaimType Id="givenName"><DataType>string</DataType></ClaimType>
 <ClaimType Id="groups"><DataType>stringCollection</DataType></ClaimType>
</ClaimsSchema></BuildingBlocks>
<ClaimsProviders><ClaimsProvider><DisplayName>Contoso</DisplayName><TechnicalProfiles>
 <TechnicalProfile Id="Contoso-SAML2"><DisplayName>Contoso</DisplayName><Protocol Name="SAML2"/>
  <Metadata><Item Key="PartnerEntity">PARTNER_ENTITY</Item>EXTRA_METADATA</Metadata>
  <CryptographicKeys>KEYS</CryptographicKeys>
  <OutputClaims>
   <OutputClaim ClaimTypeReferenceId="issuerUserId" PartnerClaimType="assertionSubjectName"/>
   <OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"/>
   <OutputClaim ClaimTypeReferenceId="givenName" PartnerClaimType="urn:oid:2.5.4.42"/>
   <OutputClaim ClaimTypeReferenceId="groups" PartnerClaimType="urn:oid:1.3.6.1.4.1.5923.1.1.1.1"/>
   <OutputClaim ClaimTypeReferenceId="objectId" DefaultValue="from-saml"/>
  </OutputClaims></TechnicalProfile>
 <TechnicalProfile Id="JwtIssuer"><Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile>
</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
<UserJourneys><UserJourney Id="J"><OrchestrationSteps>
 <OrchestrationStep Order="1" Type="ClaimsExchange"><ClaimsExchanges><ClaimsExchange Id="ContosoExchange" TechnicalProfileReferenceId="Contoso-SAML2"/></ClaimsExchanges></OrchestrationStep>
 <OrchestrationStep Order="2" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>
</OrchestrationSteps></UserJourney></UserJourneys>
<RelyingParty><DefaultUserJourney ReferenceId="J"/><TechnicalProfile Id="PolicyProfile"><DisplayName>PolicyProfile</DisplayName><Protocol Name="OpenIdConnect"/>
 <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/><OutputClaim ClaimTypeReferenceId="issuerUserId"/>
 <OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="givenName"/><OutputClaim ClaimTypeReferenceId="groups"/></OutputClaims>
 <SubjectNamingInfo ClaimType="sub"/></TechnicalProfile></RelyingParty>
</TrustFrameworkPolicy>`

const (
	samlRedirectURI = "https://login.example/contoso.onmicrosoft.com/oauth2/authresp"
	samlEntityID    = "https://login.example/contoso.onmicrosoft.com/B2C_1A_saml/samlp/metadata?idptp=Contoso-SAML2"
	samlProfile     = "Contoso-SAML2"
)

// samlIdP is a SAML identity provider (crewjam's) served by httptest. It
// knows the service provider by the metadata Gatehouse produces.
type samlIdP struct {
	idp     *saml.IdentityProvider
	srv     *httptest.Server
	sp      *saml.EntityDescriptor
	fetches atomic.Int32
	// postOnly: the metadata offers the HTTP-POST binding only.
	postOnly bool
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, cert, _ := selfSigned(t, "idp.example")
	p := &samlIdP{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metadata" {
			http.NotFound(w, r)
			return
		}
		p.fetches.Add(1)
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(p.metadata(t))
	}))
	t.Cleanup(p.srv.Close)
	base, _ := url.Parse(p.srv.URL)
	p.idp = &saml.IdentityProvider{Key: key, Certificate: cert, SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"), ServiceProviderProvider: p}
	return p
}

func (p *samlIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if p.sp == nil || p.sp.EntityID != id {
		return nil, errors.New("unknown service provider " + id)
	}
	return p.sp, nil
}

func (p *samlIdP) metadata(t *testing.T) []byte {
	ed := p.idp.Metadata()
	if p.postOnly {
		for i := range ed.IDPSSODescriptors {
			var keep []saml.Endpoint
			for _, e := range ed.IDPSSODescriptors[i].SingleSignOnServices {
				if e.Binding == saml.HTTPPostBinding {
					keep = append(keep, e)
				}
			}
			ed.IDPSSODescriptors[i].SingleSignOnServices = keep
		}
	}
	b, err := xml.Marshal(ed)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type samlSetup struct {
	partnerEntity string // "" = the IdP's metadata URL
	metadata      string // more <Item>s
	signing       bool   // a SamlMessageSigning key
	decryption    bool   // a SamlAssertionDecryption key
}

func samlEngine(t *testing.T, p *samlIdP, s samlSetup) *journey.Engine {
	t.Helper()
	keys := certKeys{}
	var keyXML string
	if s.signing {
		_, _, keys["B2C_1A_SamlSigning"] = selfSigned(t, "sp-signing")
		keyXML += `<Key Id="SamlMessageSigning" StorageReferenceId="B2C_1A_SamlSigning"/>`
	}
	if s.decryption {
		_, _, keys["B2C_1A_SamlDecryption"] = selfSigned(t, "sp-decryption")
		keyXML += `<Key Id="SamlAssertionDecryption" StorageReferenceId="B2C_1A_SamlDecryption"/>`
	}
	pe := s.partnerEntity
	if pe == "" {
		pe = p.srv.URL + "/metadata"
	}
	doc := strings.NewReplacer("PARTNER_ENTITY", pe, "EXTRA_METADATA", s.metadata, "KEYS", keyXML).Replace(samlPolicyXML)
	set, err := ief.Load([]ief.Source{{Path: "saml.xml", Data: []byte(doc)}}, ief.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol := set.Policy("B2C_1A_saml")
	fed := federation.NewSAML(federation.Options{Keys: keys, RedirectURI: samlRedirectURI})
	// The IdP's administrator registers Gatehouse by its metadata.
	md, err := fed.Metadata(context.Background(), pol, pol.Profiles[samlProfile])
	if err != nil {
		t.Fatal(err)
	}
	p.sp = &saml.EntityDescriptor{}
	if err := xml.Unmarshal(md, p.sp); err != nil {
		t.Fatalf("%v\n%s", err, md)
	}
	if p.sp.EntityID != samlEntityID {
		t.Fatalf("entity id %q", p.sp.EntityID)
	}
	eng, err := journey.New(journey.Env{Policy: pol, Federations: map[string]journey.Federation{ief.ProviderSAML2: fed}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// samlStart runs the journey to its redirect and hands it to the IdP,
// which validates the AuthnRequest (its signature when the SP signs).
func samlStart(t *testing.T, eng *journey.Engine, p *samlIdP, tx string) (*journey.State, *journey.Redirect, *saml.IdpAuthnRequest) {
	t.Helper()
	st, err := eng.Start("J", map[string]string{journey.TransactionValue: tx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := eng.Next(context.Background(), st, nil)
	if err != nil || out.Redirect == nil {
		t.Fatalf("no redirect: %+v %v", out, err)
	}
	rd := out.Redirect
	var hr *http.Request
	if rd.Form == nil {
		hr = httptest.NewRequest(http.MethodGet, rd.URL, nil)
	} else {
		form := url.Values{}
		for k, v := range rd.Form {
			form.Set(k, v)
		}
		hr = httptest.NewRequest(http.MethodPost, rd.URL, strings.NewReader(form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req, err := saml.NewIdpAuthnRequest(p.idp, hr)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatalf("the IdP refuses the AuthnRequest: %v", err)
	}
	return st, rd, req
}

// assertion makes the IdP's assertion for the request; change may alter
// it before it is signed.
func assertion(t *testing.T, req *saml.IdpAuthnRequest, change func(*saml.Assertion)) {
	t.Helper()
	s := &saml.Session{ID: "s1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "i1",
		NameID: "pat-1", UserGivenName: "Pat", Groups: []string{"staff", "admins"},
		CustomAttributes: []saml.Attribute{{Name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
			Values: []saml.AttributeValue{{Type: "xs:string", Value: "pat@contoso.example"}}}}}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(req.Assertion)
	}
}

// respond is the IdP's signed (Response and assertion) answer.
func respond(t *testing.T, req *saml.IdpAuthnRequest) string {
	t.Helper()
	form, err := req.PostBinding()
	if err != nil {
		t.Fatal(err)
	}
	return form.SAMLResponse
}

func samlAnswer(eng *journey.Engine, st *journey.State, response, relay string) (*journey.Outcome, error) {
	return eng.Next(context.Background(), st, &journey.Input{Profile: samlProfile, Action: journey.ActionFederated,
		Values: map[string]string{"SAMLResponse": response, "RelayState": relay}})
}

func relayState(t *testing.T, rd *journey.Redirect) string {
	t.Helper()
	if rd.Form != nil {
		return rd.Form["RelayState"]
	}
	u, err := url.Parse(rd.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("RelayState")
}

func TestSAMLRedirectBinding(t *testing.T) {
	p := newSAMLIdP(t)
	p.idp.WantAuthnRequestsSigned = true
	eng := samlEngine(t, p, samlSetup{signing: true, metadata: `<Item Key="XmlSignatureAlgorithm">Sha256</Item><Item Key="ResponsesSigned">true</Item><Item Key="WantsSignedAssertions">true</Item>`})
	st, rd, req := samlStart(t, eng, p, "tx-1")
	u, _ := url.Parse(rd.URL)
	q := u.Query()
	if rd.Form != nil || !strings.HasPrefix(rd.URL, p.srv.URL+"/sso?") || q.Get("SAMLRequest") == "" ||
		q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" || q.Get("Signature") == "" {
		t.Fatalf("redirect %s", rd.URL)
	}
	if tx, ok := journey.SplitFederationState(q.Get("RelayState")); !ok || tx != "tx-1" {
		t.Fatalf("RelayState %q", q.Get("RelayState"))
	}
	if r := req.Request; r.Issuer == nil || r.Issuer.Value != samlEntityID || r.AssertionConsumerServiceURL != samlRedirectURI ||
		r.ProtocolBinding != saml.HTTPPostBinding || r.Destination != p.srv.URL+"/sso" {
		t.Fatalf("AuthnRequest %+v", r)
	}
	assertion(t, req, nil)
	out, err := samlAnswer(eng, st, respond(t, req), q.Get("RelayState"))
	if err != nil {
		t.Fatal(err)
	}
	c := out.Claims
	if c["issuerUserId"] != "pat-1" || c["email"] != "pat@contoso.example" || c["givenName"] != "Pat" || c["sub"] != "from-saml" {
		t.Fatalf("claims %v", c)
	}
	if g, ok := c["groups"].([]string); !ok || len(g) != 2 || g[0] != "staff" {
		t.Fatalf("groups %#v", c["groups"])
	}
	if st.Page != "" || st.Federation != nil {
		t.Errorf("the pending redirect survived its answer: %+v", st)
	}
	// The metadata was fetched once for the request and the response.
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d metadata fetches", n)
	}
}

// TestSAMLUnsignedRequest: without a SamlMessageSigning key (or with
// WantsSignedRequests false) the request goes unsigned.
func TestSAMLUnsignedRequest(t *testing.T) {
	p := newSAMLIdP(t)
	eng := samlEngine(t, p, samlSetup{signing: true, metadata: `<Item Key="WantsSignedRequests">false</Item>`})
	_, rd, _ := samlStart(t, eng, p, "tx-1")
	u, _ := url.Parse(rd.URL)
	if u.Query().Get("Signature") != "" || u.Query().Get("SigAlg") != "" {
		t.Fatalf("signed: %s", rd.URL)
	}
}

// TestSAMLPostBindingInline: the IdP offers HTTP-POST only, its metadata
// inline in PartnerEntity; the request is an XML-signed form.
func TestSAMLPostBindingInline(t *testing.T) {
	p := newSAMLIdP(t)
	p.postOnly = true
	p.idp.WantAuthnRequestsSigned = true
	inline := "<![CDATA[" + string(p.metadata(t)) + "]]>"
	eng := samlEngine(t, p, samlSetup{signing: true, partnerEntity: inline,
		metadata: `<Item Key="NameIdPolicyFormat">urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</Item><Item Key="NameIdPolicyAllowCreate">false</Item>`})
	st, rd, req := samlStart(t, eng, p, "tx-2")
	if rd.Form == nil || rd.URL != p.srv.URL+"/sso" || rd.Form["SAMLRequest"] == "" || !strings.HasPrefix(rd.Form["RelayState"], "tx-2.") {
		t.Fatalf("redirect %+v", rd)
	}
	// The IdP wants signed requests: Validate checked the signature.
	if b, _ := base64.StdEncoding.DecodeString(rd.Form["SAMLRequest"]); !strings.Contains(string(b), "SignatureValue") {
		t.Fatal("the POST request is not signed")
	}
	if np := req.Request.NameIDPolicy; np == nil || np.Format == nil || *np.Format != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" ||
		np.AllowCreate == nil || *np.AllowCreate {
		t.Fatalf("NameIDPolicy %+v", np)
	}
	if p.fetches.Load() != 0 {
		t.Error("inline metadata fetched")
	}
	assertion(t, req, nil)
	out, err := samlAnswer(eng, st, respond(t, req), rd.Form["RelayState"])
	if err != nil || out.Claims["issuerUserId"] != "pat-1" {
		t.Fatalf("%v %v", out, err)
	}
}

// TestSAMLEncryptedAssertion: with a SamlAssertionDecryption key the SP
// metadata offers it, the IdP encrypts, WantsEncryptedAssertions holds.
func TestSAMLEncryptedAssertion(t *testing.T) {
	p := newSAMLIdP(t)
	eng := samlEngine(t, p, samlSetup{signing: true, decryption: true, metadata: `<Item Key="WantsEncryptedAssertions">true</Item>`})
	st, rd, req := samlStart(t, eng, p, "tx-3")
	assertion(t, req, nil)
	resp := respond(t, req)
	if b, _ := base64.StdEncoding.DecodeString(resp); !strings.Contains(string(b), "EncryptedAssertion") {
		t.Fatal("the IdP did not encrypt")
	}
	out, err := samlAnswer(eng, st, resp, relayState(t, rd))
	if err != nil || out.Claims["email"] != "pat@contoso.example" {
		t.Fatalf("%v %v", out, err)
	}
	// A plain assertion is refused when encryption is wanted.
	p2 := newSAMLIdP(t)
	eng2 := samlEngine(t, p2, samlSetup{signing: true, decryption: true, metadata: `<Item Key="WantsEncryptedAssertions">true</Item>`})
	st, rd, req = samlStart(t, eng2, p2, "tx-4")
	req.SPSSODescriptor.KeyDescriptors = nil // the IdP does not know the encryption key
	assertion(t, req, nil)
	resp = respond(t, req)
	if b, _ := base64.StdEncoding.DecodeString(resp); strings.Contains(string(b), "EncryptedAssertion") {
		t.Fatal("the IdP encrypted")
	}
	_, err = samlAnswer(eng2, st, resp, relayState(t, rd))
	wantSAMLInvalid(t, "plain assertion", err)
}

func wantSAMLInvalid(t *testing.T, name string, err error) {
	t.Helper()
	var ue *journey.UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90273" || ue == journey.ErrProviderCancelled {
		t.Errorf("%s: %v", name, err)
	}
}

// unsignedResponse wraps the request's assertion, unsigned, in an
// unsigned Response.
func unsignedResponse(t *testing.T, req *saml.IdpAuthnRequest) string {
	t.Helper()
	r := &saml.Response{Destination: req.ACSEndpoint.Location, ID: "id-unsigned", InResponseTo: req.Request.ID, IssueInstant: time.Now(),
		Version: "2.0", Issuer: &saml.Issuer{Value: req.IDP.MetadataURL.String()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
	el := r.Element()
	el.AddChild(req.Assertion.Element())
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestSAMLRefusals(t *testing.T) {
	p := newSAMLIdP(t)
	eng := samlEngine(t, p, samlSetup{signing: true})

	// Neither the Response nor the assertion is signed.
	st, rd, req := samlStart(t, eng, p, "tx-a")
	assertion(t, req, nil)
	_, err := samlAnswer(eng, st, unsignedResponse(t, req), relayState(t, rd))
	wantSAMLInvalid(t, "unsigned", err)

	// A signed response whose content was changed afterwards.
	st, rd, req = samlStart(t, eng, p, "tx-b")
	assertion(t, req, nil)
	b, _ := base64.StdEncoding.DecodeString(respond(t, req))
	forged := strings.Replace(string(b), "pat@contoso.example", "mallory@contoso.example", 1)
	_, err = samlAnswer(eng, st, base64.StdEncoding.EncodeToString([]byte(forged)), relayState(t, rd))
	wantSAMLInvalid(t, "tampered", err)

	// An assertion for another service provider.
	st, rd, req = samlStart(t, eng, p, "tx-c")
	assertion(t, req, func(a *saml.Assertion) {
		a.Conditions.AudienceRestrictions[0].Audience.Value = "https://someone-else.example/sp"
	})
	_, err = samlAnswer(eng, st, respond(t, req), relayState(t, rd))
	wantSAMLInvalid(t, "audience", err)

	// An expired assertion.
	st, rd, req = samlStart(t, eng, p, "tx-d")
	assertion(t, req, func(a *saml.Assertion) {
		past := time.Now().Add(-10 * time.Minute)
		a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = past.Add(-10*time.Minute), past
		a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past
	})
	_, err = samlAnswer(eng, st, respond(t, req), relayState(t, rd))
	wantSAMLInvalid(t, "expired", err)

	// The answer to another sign-in's request (its InResponseTo).
	_, _, req1 := samlStart(t, eng, p, "tx-e")
	st2, rd2, _ := samlStart(t, eng, p, "tx-f")
	assertion(t, req1, nil)
	_, err = samlAnswer(eng, st2, respond(t, req1), relayState(t, rd2))
	wantSAMLInvalid(t, "InResponseTo", err)

	// A RelayState that is not the journey's.
	st, rd, req = samlStart(t, eng, p, "tx-g")
	assertion(t, req, nil)
	_, err = samlAnswer(eng, st, respond(t, req), relayState(t, rd)+"x")
	wantSAMLInvalid(t, "RelayState", err)

	// Not a SAML response at all.
	st, rd, _ = samlStart(t, eng, p, "tx-h")
	_, err = samlAnswer(eng, st, "bm90IHhtbA==", relayState(t, rd))
	wantSAMLInvalid(t, "garbage", err)

	// The user is refused (or cancels) at the IdP.
	st, rd, req = samlStart(t, eng, p, "tx-i")
	if err := req.MakeErrorResponse(saml.StatusResponder, saml.StatusRequestDenied, "no"); err != nil {
		t.Fatal(err)
	}
	_, err = samlAnswer(eng, st, respond(t, req), relayState(t, rd))
	if !errors.Is(err, journey.ErrProviderCancelled) {
		t.Errorf("RequestDenied: %v", err)
	}
	// Another error status is an invalid answer.
	st, rd, req = samlStart(t, eng, p, "tx-j")
	if err := req.MakeErrorResponse(saml.StatusResponder, "", ""); err != nil {
		t.Fatal(err)
	}
	_, err = samlAnswer(eng, st, respond(t, req), relayState(t, rd))
	wantSAMLInvalid(t, "Responder", err)
}

// assertionOnlySigned is the request's signed assertion in an unsigned
// Response (AD FS's default).
func assertionOnlySigned(t *testing.T, req *saml.IdpAuthnRequest) string {
	t.Helper()
	if err := req.MakeAssertionEl(); err != nil {
		t.Fatal(err)
	}
	r := &saml.Response{Destination: req.ACSEndpoint.Location, ID: "id-half", InResponseTo: req.Request.ID, IssueInstant: time.Now(),
		Version: "2.0", Issuer: &saml.Issuer{Value: req.IDP.MetadataURL.String()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
	el := r.Element()
	el.AddChild(req.AssertionEl)
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestSAMLResponsesSigned: a signed assertion in an unsigned Response is
// enough unless ResponsesSigned is true.
func TestSAMLResponsesSigned(t *testing.T) {
	p := newSAMLIdP(t)
	eng := samlEngine(t, p, samlSetup{})
	st, rd, req := samlStart(t, eng, p, "tx-1")
	assertion(t, req, nil)
	if out, err := samlAnswer(eng, st, assertionOnlySigned(t, req), relayState(t, rd)); err != nil || out.Claims["givenName"] != "Pat" {
		t.Fatalf("assertion signed only: %v %v", out, err)
	}
	eng = samlEngine(t, p, samlSetup{metadata: `<Item Key="ResponsesSigned">true</Item>`})
	st, rd, req = samlStart(t, eng, p, "tx-2")
	assertion(t, req, nil)
	_, err := samlAnswer(eng, st, assertionOnlySigned(t, req), relayState(t, rd))
	wantSAMLInvalid(t, "ResponsesSigned", err)
}

// TestSAMLLoad: PartnerEntity is required; XmlSignatureAlgorithm is one
// of B2C's.
func TestSAMLLoad(t *testing.T) {
	for _, c := range []struct{ pe, extra, want string }{
		{"", "", "needs the PartnerEntity metadata"},
		{"https://idp.example/md", `<Item Key="XmlSignatureAlgorithm">Md5</Item>`, "XmlSignatureAlgorithm is Sha1"},
		{"https://idp.example/md", `<Item Key="WantsEncryptedAssertions">true</Item>`, "SamlAssertionDecryption"},
	} {
		doc := strings.NewReplacer("PARTNER_ENTITY", c.pe, "EXTRA_METADATA", c.extra, "KEYS", "").Replace(samlPolicyXML)
		_, err := ief.Load([]ief.Source{{Path: "saml.xml", Data: []byte(doc)}}, ief.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.want, err)
		}
	}
}
