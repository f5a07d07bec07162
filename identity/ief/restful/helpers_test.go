package restful_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
	"github.com/gatehouse/gatehouse/keys"
)

// The tests load small policies with ief.Load and run them on the journey
// engine with restful.New as the RESTful runner, against real TLS servers.

const ns = `xmlns="http://schemas.microsoft.com/online/cpim/schemas/2013/06" PolicySchemaVersion="0.3.0.0" TenantId="contoso.onmicrosoft.com"`

const handler = `, Web.TPEngine, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null`

const claimsSchema = `<BuildingBlocks><ClaimsSchema>
 <ClaimType Id="objectId"><DataType>string</DataType></ClaimType>
 <ClaimType Id="email"><DisplayName>Email</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType></ClaimType>
 <ClaimType Id="givenName"><DisplayName>Given name</DisplayName><DataType>string</DataType><UserInputType>TextBox</UserInputType></ClaimType>
 <ClaimType Id="flag"><DataType>boolean</DataType></ClaimType>
 <ClaimType Id="count"><DataType>int</DataType></ClaimType>
 <ClaimType Id="big"><DataType>long</DataType></ClaimType>
 <ClaimType Id="when"><DataType>dateTime</DataType></ClaimType>
 <ClaimType Id="groups"><DataType>stringCollection</DataType></ClaimType>
 <ClaimType Id="token"><DataType>string</DataType></ClaimType>
 <ClaimType Id="payload"><DataType>string</DataType></ClaimType>
 <ClaimType Id="promoCode"><DataType>string</DataType></ClaimType>
 <ClaimType Id="city"><DataType>string</DataType></ClaimType>
</ClaimsSchema></BuildingBlocks>`

// rest is a RESTful profile; md is its Metadata items besides ServiceUrl
// (the server's path) and keys its CryptographicKeys.
func rest(id, url, md, keys, inner string) string {
	if keys != "" {
		keys = "<CryptographicKeys>" + keys + "</CryptographicKeys>"
	}
	return `<TechnicalProfile Id="` + id + `"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider` + handler + `"/>
<Metadata><Item Key="ServiceUrl">` + url + `</Item>` + md + `</Metadata>` + keys + inner + `</TechnicalProfile>
`
}

func item(k, v string) string { return `<Item Key="` + k + `">` + v + `</Item>` }

func key(id, ref string) string { return `<Key Id="` + id + `" StorageReferenceId="` + ref + `"/>` }

const none = `<Item Key="AuthenticationType">None</Item><Item Key="AllowInsecureAuthInProduction">true</Item>`

func step(order int, profile string) string {
	return fmt.Sprintf(`<OrchestrationStep Order="%d" Type="ClaimsExchange"><ClaimsExchanges><ClaimsExchange Id="%sExchange" TechnicalProfileReferenceId="%s"/></ClaimsExchanges></OrchestrationStep>
`, order, profile, profile)
}

// policyFiles are a base (the profiles, journey J of steps then
// SendClaims) and a relying party listing rpOut.
func policyFiles(mode, profiles string, steps []string, rpOut string) []ief.Source {
	if mode != "" {
		mode = ` DeploymentMode="` + mode + `"`
	}
	var s strings.Builder
	for _, x := range steps {
		s.WriteString(x)
	}
	fmt.Fprintf(&s, `<OrchestrationStep Order="%d" Type="SendClaims" CpimIssuerTechnicalProfileReferenceId="JwtIssuer"/>`, len(steps)+1)
	base := `<TrustFrameworkPolicy ` + ns + mode + ` PolicyId="B2C_1A_Base" PublicPolicyUri="http://x/B2C_1A_Base">
` + claimsSchema + `
<ClaimsProviders><ClaimsProvider><DisplayName>Test</DisplayName><TechnicalProfiles>
 <TechnicalProfile Id="JwtIssuer"><Protocol Name="OpenIdConnect"/><OutputTokenFormat>JWT</OutputTokenFormat></TechnicalProfile>
` + profiles + `</TechnicalProfiles></ClaimsProvider></ClaimsProviders>
<UserJourneys><UserJourney Id="J"><OrchestrationSteps>` + s.String() + `</OrchestrationSteps></UserJourney></UserJourneys>
</TrustFrameworkPolicy>`
	rp := `<TrustFrameworkPolicy ` + ns + mode + ` PolicyId="B2C_1A_rp" PublicPolicyUri="http://x/B2C_1A_rp">
<BasePolicy><TenantId>contoso.onmicrosoft.com</TenantId><PolicyId>B2C_1A_Base</PolicyId></BasePolicy>
<RelyingParty><DefaultUserJourney ReferenceId="J"/>
 <TechnicalProfile Id="PolicyProfile"><Protocol Name="OpenIdConnect"/>
  <OutputClaims><OutputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="sub"/>` + rpOut + `</OutputClaims>
  <SubjectNamingInfo ClaimType="sub"/>
 </TechnicalProfile>
</RelyingParty>
</TrustFrameworkPolicy>`
	return []ief.Source{{Path: "base.xml", Data: []byte(base)}, {Path: "rp.xml", Data: []byte(rp)}}
}

func loadPolicy(t *testing.T, mode, profiles string, steps []string, rpOut string) *ief.Policy {
	t.Helper()
	set, err := ief.Load(policyFiles(mode, profiles, steps, rpOut), ief.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set.Policy("B2C_1A_rp")
}

// engine runs the policy's journey with the RESTful runner.
func engine(t *testing.T, p *ief.Policy, o restful.Options) *journey.Engine {
	t.Helper()
	e, err := journey.New(journey.Env{Policy: p, Runners: map[string]journey.Runner{"RESTful": restful.New(o)}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runJourney runs J to its end (or first page) and returns the relying
// party's claims.
func runJourney(t *testing.T, e *journey.Engine) (map[string]any, error) {
	t.Helper()
	st, err := e.Start("J", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Next(context.Background(), st, nil)
	if err != nil {
		return nil, err
	}
	if out.Page != nil {
		t.Fatalf("unexpected page %s", out.Page.Profile)
	}
	return out.Claims, nil
}

type fakeKeys struct {
	secrets map[string]string
	cert    *tls.Certificate
}

func (k *fakeKeys) Secret(_ context.Context, c string) ([]byte, error) {
	if v, ok := k.secrets[c]; ok {
		return []byte(v), nil
	}
	return nil, keys.ErrNoContainer
}

func (k *fakeKeys) Certificate(_ context.Context, c string) (*tls.Certificate, error) {
	if c == "B2C_1A_RestApiClientCertificate" && k.cert != nil {
		return k.cert, nil
	}
	return nil, keys.ErrNoContainer
}

func clientCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gatehouse-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, pool
}

// seen is a request the API received.
type seen struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         string
	PeerCN                       string
}

// api is a TLS server standing in for the REST API: it records every
// request and answers by path from answers (default {}).
type api struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []seen
	answers map[string]http.HandlerFunc
	keys    *fakeKeys
}

func newAPI(t *testing.T) *api {
	t.Helper()
	cert, pool := clientCert(t)
	a := &api{answers: map[string]http.HandlerFunc{}, keys: &fakeKeys{cert: cert, secrets: map[string]string{
		"B2C_1A_RestApiUsername": "user", "B2C_1A_RestApiPassword": "pa:ss", "B2C_1A_RestApiBearerToken": "static-token",
		"B2C_1A_RestApiKey": "fn-key"}}}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sn := seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)}
		if len(r.TLS.PeerCertificates) > 0 {
			sn.PeerCN = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		a.mu.Lock()
		a.reqs = append(a.reqs, sn)
		h := a.answers[r.URL.Path]
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, `{}`)
	}))
	a.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	a.StartTLS()
	t.Cleanup(a.Close)
	return a
}

func (a *api) answer(path string, h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers[path] = h
}

func (a *api) last() seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		return seen{}
	}
	return a.reqs[len(a.reqs)-1]
}

func (a *api) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reqs)
}

// options call this server with its CA, one attempt and a short timeout.
func (a *api) options() restful.Options {
	return restful.Options{Keys: a.keys, Transport: a.Client().Transport.(*http.Transport), MaxAttempts: 1, Timeout: 2 * time.Second}
}

// reply answers with a status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}
