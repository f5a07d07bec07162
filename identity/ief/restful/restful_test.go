package restful_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
)

// seed answers typed claims; its output claims put them in the bag.
const seedOut = `<OutputClaims>
 <OutputClaim ClaimTypeReferenceId="objectId"/><OutputClaim ClaimTypeReferenceId="email"/>
 <OutputClaim ClaimTypeReferenceId="flag"/><OutputClaim ClaimTypeReferenceId="count"/><OutputClaim ClaimTypeReferenceId="big"/>
 <OutputClaim ClaimTypeReferenceId="when"/><OutputClaim ClaimTypeReferenceId="groups"/>
</OutputClaims>`

const seedAnswer = `{"objectId":"o/1","email":"a b@x.com","flag":true,"count":42,"big":9007199254740993,
 "when":"2024-05-01T10:00:00Z","groups":["admins","users"]}`

const typedInputs = `<InputClaims>
 <InputClaim ClaimTypeReferenceId="objectId"/><InputClaim ClaimTypeReferenceId="email" PartnerClaimType="mail"/>
 <InputClaim ClaimTypeReferenceId="flag"/><InputClaim ClaimTypeReferenceId="count"/><InputClaim ClaimTypeReferenceId="big"/>
 <InputClaim ClaimTypeReferenceId="when"/><InputClaim ClaimTypeReferenceId="groups"/><InputClaim ClaimTypeReferenceId="givenName"/>
</InputClaims>`

// TestBodyIsTypedJSON: a JSON body carries the claims typed as B2C sends
// them (numbers, booleans, arrays), answers are converted to each output
// claim's DataType, and claims without a value are left out.
func TestBodyIsTypedJSON(t *testing.T) {
	a := newAPI(t)
	a.answer("/seed", reply(200, seedAnswer))
	p := loadPolicy(t, "", rest("Seed", a.URL+"/seed", none, "", seedOut)+rest("Echo", a.URL+"/echo", none, "", typedInputs),
		[]string{step(1, "Seed"), step(2, "Echo")},
		`<OutputClaim ClaimTypeReferenceId="flag"/><OutputClaim ClaimTypeReferenceId="count"/><OutputClaim ClaimTypeReferenceId="big"/><OutputClaim ClaimTypeReferenceId="groups"/>`)
	claims, err := runJourney(t, engine(t, p, a.options()))
	if err != nil {
		t.Fatal(err)
	}
	r := a.last()
	if r.Method != "POST" || r.Path != "/echo" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %+v", r)
	}
	d := json.NewDecoder(strings.NewReader(r.Body))
	d.UseNumber()
	var body map[string]any
	if err := d.Decode(&body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"objectId": "o/1", "mail": "a b@x.com", "flag": true, "count": json.Number("42"),
		"big": json.Number("9007199254740993"), "when": "2024-05-01T10:00:00.0000000Z", "groups": []any{"admins", "users"}}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body %s\nwant %v", r.Body, want)
	}
	if claims["flag"] != true || claims["count"] != int64(42) || claims["big"] != int64(9007199254740993) ||
		!reflect.DeepEqual(claims["groups"], []string{"admins", "users"}) || claims["sub"] != "o/1" {
		t.Errorf("token claims %#v", claims)
	}
}

// TestSendClaimsIn: Form, Header, QueryString and Url send the claims as
// text; Url fills ServiceUrl's placeholders, escaped for path and query.
func TestSendClaimsIn(t *testing.T) {
	a := newAPI(t)
	a.answer("/seed", reply(200, seedAnswer))
	in := `<InputClaims><InputClaim ClaimTypeReferenceId="email"/><InputClaim ClaimTypeReferenceId="flag"/>
<InputClaim ClaimTypeReferenceId="groups"/><InputClaim ClaimTypeReferenceId="objectId" PartnerClaimType="id"/></InputClaims>`
	for _, c := range []struct {
		sendIn, url string
		check       func(seen) bool
	}{
		{"Form", "/form", func(r seen) bool {
			return r.Method == "POST" && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" &&
				r.Body == "email=a+b%40x.com&flag=true&groups=admins%2Cusers&id=o%2F1"
		}},
		{"Header", "/header", func(r seen) bool {
			return r.Method == "GET" && r.Header.Get("email") == "a b@x.com" && r.Header.Get("flag") == "true" &&
				r.Header.Get("id") == "o/1" && r.Body == ""
		}},
		{"QueryString", "/query?code=abc", func(r seen) bool {
			return r.Method == "GET" && r.Query == "code=abc&email=a+b%40x.com&flag=true&groups=admins%2Cusers&id=o%2F1"
		}},
		{"Url", "/users/{id}/mail/{email}?flag={flag}", func(r seen) bool {
			return r.Method == "GET" && r.RawPath == "/users/o%2F1/mail/a%20b@x.com" && r.Query == "flag=true"
		}},
	} {
		t.Run(c.sendIn, func(t *testing.T) {
			p := loadPolicy(t, "", rest("Seed", a.URL+"/seed", none, "", seedOut)+
				rest("Send", a.URL+c.url, none+item("SendClaimsIn", c.sendIn), "", in), []string{step(1, "Seed"), step(2, "Send")}, "")
			if _, err := runJourney(t, engine(t, p, a.options())); err != nil {
				t.Fatal(err)
			}
			if r := a.last(); !c.check(r) {
				t.Errorf("%s request %+v", c.sendIn, r)
			}
		})
	}
}

// TestAuthenticationTypes: each AuthenticationType sends the policy
// keys' credentials (read through the resolver), ClientCertificate over
// mutual TLS, and UseClaimAsBearerToken a claim as the bearer.
func TestAuthenticationTypes(t *testing.T) {
	a := newAPI(t)
	a.answer("/token", reply(200, `{"access_token":"claim-token"}`))
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pa:ss"))
	in := `<InputClaims><InputClaim ClaimTypeReferenceId="objectId" DefaultValue="o1"/></InputClaims>`
	for _, c := range []struct {
		name, md, keys, header, value, cn string
	}{
		{"None", none, "", "Authorization", "", ""},
		{"Basic", item("AuthenticationType", "Basic"), key("BasicAuthenticationUsername", "B2C_1A_RestApiUsername") +
			key("BasicAuthenticationPassword", "B2C_1A_RestApiPassword"), "Authorization", basic, ""},
		{"ClientCertificate", item("AuthenticationType", "ClientCertificate"), key("ClientCertificate", "B2C_1A_RestApiClientCertificate"),
			"Authorization", "", "gatehouse-client"},
		{"Bearer", item("AuthenticationType", "Bearer"), key("BearerAuthenticationToken", "B2C_1A_RestApiBearerToken"),
			"Authorization", "Bearer static-token", ""},
		{"ApiKeyHeader", item("AuthenticationType", "ApiKeyHeader"), key("x-functions-key", "B2C_1A_RestApiKey"), "X-Functions-Key", "fn-key", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := loadPolicy(t, "", rest("R", a.URL+"/api", c.md, c.keys, in), []string{step(1, "R")}, "")
			if _, err := runJourney(t, engine(t, p, a.options())); err != nil {
				t.Fatal(err)
			}
			r := a.last()
			if r.Header.Get(c.header) != c.value || r.PeerCN != c.cn || r.Body != `{"objectId":"o1"}` {
				t.Errorf("%s=%q client certificate %q body %s", c.header, r.Header.Get(c.header), r.PeerCN, r.Body)
			}
		})
	}
	t.Run("UseClaimAsBearerToken", func(t *testing.T) {
		p := loadPolicy(t, "", rest("GetToken", a.URL+"/token", none, "",
			`<OutputClaims><OutputClaim ClaimTypeReferenceId="token" PartnerClaimType="access_token"/></OutputClaims>`)+
			rest("R", a.URL+"/api", item("AuthenticationType", "Bearer")+item("UseClaimAsBearerToken", "token"), "",
				`<InputClaims><InputClaim ClaimTypeReferenceId="token"/><InputClaim ClaimTypeReferenceId="objectId" DefaultValue="o1"/></InputClaims>`),
			[]string{step(1, "GetToken"), step(2, "R")}, "")
		if _, err := runJourney(t, engine(t, p, a.options())); err != nil {
			t.Fatal(err)
		}
		if r := a.last(); r.Header.Get("Authorization") != "Bearer claim-token" || r.Body != `{"objectId":"o1"}` {
			t.Errorf("bearer from claim: %q body %s (the token is not sent in the body)", r.Header.Get("Authorization"), r.Body)
		}
		// Without the claim: B2C's AADB2C90194, before any request.
		p = loadPolicy(t, "", rest("R", a.URL+"/api", item("AuthenticationType", "Bearer")+item("UseClaimAsBearerToken", "token"), "",
			`<InputClaims><InputClaim ClaimTypeReferenceId="token"/></InputClaims>`), []string{step(1, "R")}, "")
		n := a.count()
		_, err := runJourney(t, engine(t, p, a.options()))
		var ue *journey.UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Message, "'token' used as the bearer token is not present") || a.count() != n {
			t.Errorf("missing bearer claim: %v", err)
		}
	})
	t.Run("MissingKey", func(t *testing.T) {
		p := loadPolicy(t, "", rest("R", a.URL+"/api", item("AuthenticationType", "Bearer"),
			key("BearerAuthenticationToken", "B2C_1A_Nowhere"), in), []string{step(1, "R")}, "")
		_, err := runJourney(t, engine(t, p, a.options()))
		var ue *journey.UserError
		if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "B2C_1A_Nowhere") {
			t.Errorf("a missing policy key is a configuration error, not the user's: %v", err)
		}
	})
}

// TestOutputClaims: ResolveJsonPathsInJsonTokens reads nested answers
// (B2C's LinkedIn sample path included); a value that does not fit the
// DataType fails the call; a missing one takes DefaultValue.
func TestOutputClaims(t *testing.T) {
	a := newAPI(t)
	a.answer("/profile", reply(200, `{"elements":[{"handle~":{"emailAddress":"e@x.com"}}],"address":{"city":"Oslo"},
		"loyalty":[{"number":"17"}],"flags":{"vip":"True"},"objectId":"o1"}`))
	out := `<OutputClaims><OutputClaim ClaimTypeReferenceId="email" PartnerClaimType="elements[0].handle~.emailAddress"/>
<OutputClaim ClaimTypeReferenceId="city" PartnerClaimType="address.city"/><OutputClaim ClaimTypeReferenceId="count" PartnerClaimType="loyalty.0.number"/>
<OutputClaim ClaimTypeReferenceId="flag" PartnerClaimType="flags.vip"/><OutputClaim ClaimTypeReferenceId="objectId"/>
<OutputClaim ClaimTypeReferenceId="promoCode" PartnerClaimType="promo" DefaultValue="none"/></OutputClaims>`
	p := loadPolicy(t, "", rest("R", a.URL+"/profile", none+item("ResolveJsonPathsInJsonTokens", "true"), "", out), []string{step(1, "R")},
		`<OutputClaim ClaimTypeReferenceId="email"/><OutputClaim ClaimTypeReferenceId="city"/><OutputClaim ClaimTypeReferenceId="count"/>
<OutputClaim ClaimTypeReferenceId="flag"/><OutputClaim ClaimTypeReferenceId="promoCode"/>`)
	claims, err := runJourney(t, engine(t, p, a.options()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sub": "o1", "email": "e@x.com", "city": "Oslo", "count": int64(17), "flag": true, "promoCode": "none"}
	if !reflect.DeepEqual(claims, want) {
		t.Errorf("claims %#v", claims)
	}
	a.answer("/bad", reply(200, `{"count":"many"}`))
	p = loadPolicy(t, "", rest("R", a.URL+"/bad", none, "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="count"/></OutputClaims>`),
		[]string{step(1, "R")}, "")
	_, err = runJourney(t, engine(t, p, a.options()))
	var ue *journey.UserError
	if !errors.As(err, &ue) || ue.Code != "AADB2C90075" || !strings.Contains(ue.Message, "'count' that could not be parsed") {
		t.Errorf("bad int: %v", err)
	}
}

// validationPolicy is a self-asserted page whose validation profile calls
// /validate, then a journey step calling /validate too.
func validationPolicy(t *testing.T, a *api, md string) *ief.Policy {
	page := `<TechnicalProfile Id="SignUp"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.SelfAssertedAttributeProvider` + handler + `"/>
<OutputClaims><OutputClaim ClaimTypeReferenceId="email" Required="true"/><OutputClaim ClaimTypeReferenceId="promoCode"/></OutputClaims>
<ValidationTechnicalProfiles><ValidationTechnicalProfile ReferenceId="REST-ValidateProfile"/></ValidationTechnicalProfiles></TechnicalProfile>
`
	return loadPolicy(t, "", page+rest("REST-ValidateProfile", a.URL+"/validate", none+md, "",
		`<InputClaims><InputClaim ClaimTypeReferenceId="email"/></InputClaims><OutputClaims><OutputClaim ClaimTypeReferenceId="promoCode"/></OutputClaims>`),
		[]string{step(1, "SignUp")}, `<OutputClaim ClaimTypeReferenceId="promoCode"/>`)
}

// TestErrorContract: B2C's 409 {"version","status","userMessage"} shows
// userMessage on the page and the user may correct and resubmit; 200 goes
// on with the output claims; other failures show
// DefaultUserMessageIfRequestFailed; in an orchestration step the journey
// ends with AADB2C90075 naming the exchange and step.
func TestErrorContract(t *testing.T) {
	a := newAPI(t)
	a.answer("/validate", func(w http.ResponseWriter, r *http.Request) {
		b := []byte(a.last().Body) // recorded before this handler runs
		switch {
		case bytes.Contains(b, []byte("blocked@")):
			w.WriteHeader(409)
			io.WriteString(w, `{"version":"1.0.0","status":409,"code":"API12345","requestId":"req-1","userMessage":"Your account is blocked.","developerMessage":"dev"}`)
		case bytes.Contains(b, []byte("broken@")):
			w.WriteHeader(500)
		default:
			io.WriteString(w, `{"promoCode":"PROMO-7"}`)
		}
	})
	e := engine(t, validationPolicy(t, a, item("DefaultUserMessageIfRequestFailed", "Please try again later.")), a.options())
	ctx := context.Background()
	st, _ := e.Start("J", nil, nil)
	out, err := e.Next(ctx, st, nil)
	if err != nil || out.Page == nil {
		t.Fatalf("first page: %v", err)
	}
	submit := func(email string) *journey.Outcome {
		t.Helper()
		out, err := e.Next(ctx, st, &journey.Input{Profile: "SignUp", Values: map[string]string{"email": email}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := submit("blocked@x.com"); out.Page == nil || out.Page.Error != "Your account is blocked." {
		t.Fatalf("409: %+v", out.Page)
	}
	if out := submit("broken@x.com"); out.Page == nil || out.Page.Error != "Please try again later." {
		t.Fatalf("500: %+v", out.Page)
	}
	if out := submit("ada@x.com"); out.Claims["promoCode"] != "PROMO-7" {
		t.Fatalf("200: %+v", out)
	}

	// DebugMode adds the API's details to the message.
	e = engine(t, validationPolicy(t, a, item("DebugMode", "true")), a.options())
	st, _ = e.Start("J", nil, nil)
	e.Next(ctx, st, nil)
	out, _ = e.Next(ctx, st, &journey.Input{Profile: "SignUp", Values: map[string]string{"email": "blocked@x.com"}})
	if out.Page == nil || out.Page.Error != "Your account is blocked. (code: API12345; requestId: req-1; developerMessage: dev)" {
		t.Errorf("debug: %+v", out.Page)
	}

	// An orchestration step: the journey ends with B2C's text.
	a.answer("/step", reply(409, `{"version":"1.0.0","status":409,"userMessage":"Account blocked."}`))
	p := loadPolicy(t, "", rest("REST-Check", a.URL+"/step", none, "", `<InputClaims><InputClaim ClaimTypeReferenceId="objectId" DefaultValue="o"/></InputClaims>`),
		[]string{step(1, "REST-Check")}, "")
	_, err = runJourney(t, engine(t, p, a.options()))
	var ue *journey.UserError
	want := "The claims exchange 'REST-CheckExchange' specified in step '1' returned HTTP error response with Code 'Conflict' and Reason 'Account blocked.'."
	if !errors.As(err, &ue) || ue.Code != "AADB2C90075" || ue.Message != want {
		t.Errorf("step: %v", err)
	}
	// 400 with userMessage is the same contract; a 2xx that is not JSON is not.
	a.answer("/step", reply(400, `{"version":"1.0.0","status":"400","userMessage":"Bad input."}`))
	if _, err = runJourney(t, engine(t, p, a.options())); !errors.As(err, &ue) || !strings.Contains(ue.Message, "Reason 'Bad input.'") {
		t.Errorf("400: %v", err)
	}
	a.answer("/step", reply(200, `<html>`))
	if _, err = runJourney(t, engine(t, p, a.options())); !errors.As(err, &ue) || !strings.Contains(ue.Message, "could not be parsed") {
		t.Errorf("not JSON: %v", err)
	}
}

// TestTimeout: an API that does not answer within the timeout fails with
// UserMessageIfRequestTimeout, after the configured attempts.
func TestTimeout(t *testing.T) {
	a := newAPI(t)
	a.answer("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p := loadPolicy(t, "", rest("R", a.URL+"/slow", none+item("UserMessageIfRequestTimeout", "The service is slow, try again."), "",
		`<InputClaims><InputClaim ClaimTypeReferenceId="objectId" DefaultValue="o"/></InputClaims>`), []string{step(1, "R")}, "")
	o := a.options()
	o.Timeout, o.MaxAttempts, o.RetryBackoff = 150*time.Millisecond, 2, time.Millisecond
	var entries []connector.Entry
	o.Audit = func(e connector.Entry) { entries = append(entries, e) }
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	n := a.count()
	start := time.Now()
	_, err := runJourney(t, engine(t, p, o))
	var ue *journey.UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Message, "Reason 'The service is slow, try again.'") {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 5*time.Second || a.count()-n != 2 {
		t.Errorf("%v, %d attempts", time.Since(start), a.count()-n)
	}
	if len(entries) != 1 || entries[0].Outcome != connector.OutcomeFailed || entries[0].Reason != "timeout" || entries[0].Attempts != 2 {
		t.Errorf("audit %+v", entries)
	}
	if !strings.Contains(logs.String(), "restful call") || !strings.Contains(logs.String(), "profile=R") || strings.Contains(logs.String(), "objectId") {
		t.Errorf("log %s", logs.String())
	}
}

// TestOversizedAnswer: an answer over MaxResponseBytes is refused, with
// or without Content-Length.
func TestOversizedAnswer(t *testing.T) {
	a := newAPI(t)
	big := `{"promoCode":"` + strings.Repeat("x", 70<<10) + `"}`
	a.answer("/big", reply(200, big))
	a.answer("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i < 70; i++ {
			io.WriteString(w, strings.Repeat(" ", 1<<10))
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, `{}`)
	})
	for _, path := range []string{"/big", "/chunked"} {
		p := loadPolicy(t, "", rest("R", a.URL+path, none+item("DefaultUserMessageIfRequestFailed", "Sorry."), "",
			`<OutputClaims><OutputClaim ClaimTypeReferenceId="promoCode"/></OutputClaims>`), []string{step(1, "R")}, `<OutputClaim ClaimTypeReferenceId="promoCode"/>`)
		_, err := runJourney(t, engine(t, p, a.options()))
		var ue *journey.UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Message, "Reason 'Sorry.'") {
			t.Errorf("%s: %v", path, err)
		}
	}
	// Raised limit: the same answer is read.
	p := loadPolicy(t, "", rest("R", a.URL+"/big", none, "", `<OutputClaims><OutputClaim ClaimTypeReferenceId="promoCode"/></OutputClaims>`),
		[]string{step(1, "R")}, `<OutputClaim ClaimTypeReferenceId="promoCode"/>`)
	o := a.options()
	o.MaxResponseBytes = 1 << 20
	if c, err := runJourney(t, engine(t, p, o)); err != nil || len(c["promoCode"].(string)) != 70<<10 {
		t.Errorf("raised limit: %v", err)
	}
}

// TestLoadRules: checkRESTful refuses what B2C refuses at upload.
func TestLoadRules(t *testing.T) {
	in := `<InputClaims><InputClaim ClaimTypeReferenceId="objectId"/></InputClaims>`
	for _, c := range []struct {
		name, mode, md, keys, inner, want string
	}{
		{"http in production", "", item("ServiceUrl", "http://api.example.com/x") + none, "", in, "ServiceUrl must be https"},
		{"None in production", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "None"), "", in,
			"AuthenticationType None needs AllowInsecureAuthInProduction=true"},
		{"no AuthenticationType", "", item("ServiceUrl", "https://api.example.com/x"), "", in, "needs the AuthenticationType metadata"},
		{"Basic without password", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "Basic"),
			key("BasicAuthenticationUsername", "B2C_1A_U"), in, `AuthenticationType Basic needs CryptographicKeys <Key Id="BasicAuthenticationPassword"`},
		{"ClientCertificate without key", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "ClientCertificate"),
			"", in, `needs CryptographicKeys <Key Id="ClientCertificate"`},
		{"Bearer without token", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "Bearer"), "", in,
			"Bearer needs CryptographicKeys"},
		{"ApiKeyHeader two keys", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "ApiKeyHeader"),
			key("x-functions-key", "B2C_1A_K") + key("x-other", "B2C_1A_O"), in, "needs exactly one CryptographicKeys Key"},
		{"key not read", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "Bearer"),
			key("BearerAuthenticationToken", "B2C_1A_T") + key("ClientCertificate", "B2C_1A_C"), in, `Key "ClientCertificate" is not read by AuthenticationType Bearer`},
		{"placeholder not an input", "", item("ServiceUrl", "https://api.example.com/u/{nobody}") + none + item("SendClaimsIn", "Url"), "", in,
			"placeholder {nobody} is not an input claim"},
		{"placeholder with Body", "", item("ServiceUrl", "https://api.example.com/u/{objectId}") + none, "", in, "need SendClaimsIn Url"},
		{"bearer claim not an input", "", item("ServiceUrl", "https://api.example.com/x") + item("AuthenticationType", "Bearer") +
			item("UseClaimAsBearerToken", "token"), "", in, "UseClaimAsBearerToken claim token must also be an InputClaim"},
		{"bad SendClaimsIn", "", item("ServiceUrl", "https://api.example.com/x") + none + item("SendClaimsIn", "Json"), "", in, `SendClaimsIn "Json"`},
		{"bad boolean", "", item("ServiceUrl", "https://api.example.com/x") + none + item("DebugMode", "yes"), "", in, "DebugMode is true or false"},
		{"http in development", "Development", item("ServiceUrl", "http://api.example.com/x") + item("AuthenticationType", "None"), "", in, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys := c.keys
			if keys != "" {
				keys = "<CryptographicKeys>" + keys + "</CryptographicKeys>"
			}
			tp := `<TechnicalProfile Id="R"><Protocol Name="Proprietary" Handler="Web.TPEngine.Providers.RestfulProvider` + handler + `"/>
<Metadata>` + c.md + `</Metadata>` + keys + c.inner + `</TechnicalProfile>`
			_, err := ief.Load(policyFiles(c.mode, tp, []string{step(1, "R")}, ""), ief.Options{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

// TestRuntimeModeChecks: a client for an http:// URL, or None without
// AllowInsecureAuthInProduction, is refused unless Development.
func TestRuntimeModeChecks(t *testing.T) {
	for _, c := range []struct {
		p    restful.Profile
		mode string
		ok   bool
	}{
		{restful.Profile{ID: "A", ServiceURL: "http://x/y", AuthenticationType: "None", AllowInsecure: true}, "", false},
		{restful.Profile{ID: "A", ServiceURL: "http://x/y", AuthenticationType: "None"}, restful.Development, true},
		{restful.Profile{ID: "A", ServiceURL: "http://x/y", AuthenticationType: "None", PolicyDevelopment: true}, "", true},
		{restful.Profile{ID: "A", ServiceURL: "https://x/y", AuthenticationType: "None"}, restful.Production, false},
		{restful.Profile{ID: "A", ServiceURL: "https://x/y", AuthenticationType: "None", AllowInsecure: true}, restful.Production, true},
		{restful.Profile{ID: "A", ServiceURL: "/relative", AuthenticationType: "None", AllowInsecure: true}, restful.Production, false},
	} {
		_, err := restful.NewClient(c.p, restful.Options{DeploymentMode: c.mode})
		if (err == nil) != c.ok {
			t.Errorf("%+v in %q: %v", c.p, c.mode, err)
		}
	}
}

func TestLookup(t *testing.T) {
	body := map[string]any{"data": []any{map[string]any{"to": []any{map[string]any{"email": "x@y"}}}},
		"firstName": map[string]any{"localized": "Em"}}
	for _, path := range []string{"data[0].to[0].email", "data.0.to.0.email"} {
		if v, ok := restful.Lookup(body, path, true); !ok || v != "x@y" {
			t.Errorf("%s: %v %v", path, v, ok)
		}
	}
	if v, _ := restful.Lookup(body, "firstName.localized", true); v != "Em" {
		t.Errorf("got %v", v)
	}
	if _, ok := restful.Lookup(body, "data[3].to", true); ok {
		t.Error("out of range found")
	}
	if _, ok := restful.Lookup(body, "firstName.localized", false); ok {
		t.Error("a path without ResolveJsonPathsInJsonTokens")
	}
	if restful.CheckPath("a..b") == nil || restful.CheckPath("a[x]") == nil || restful.CheckPath("a[0][1].b") != nil {
		t.Error("CheckPath")
	}
}

func TestFromJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		dt   claimstx.DataType
		want any
		ok   bool
	}{
		{"true", claimstx.Boolean, true, true},
		{true, claimstx.String, "true", true},
		{json.Number("12"), claimstx.Int, int64(12), true},
		{json.Number("12"), claimstx.String, "12", true},
		{json.Number("1.5"), claimstx.Int, nil, false},
		{json.Number(strconv.FormatInt(1<<40, 10)), claimstx.Int, nil, false},
		{json.Number(strconv.FormatInt(1<<40, 10)), claimstx.Long, int64(1 << 40), true},
		{[]any{"a", "b"}, claimstx.StringCollection, []string{"a", "b"}, true},
		{[]any{"a", 1.0}, claimstx.StringCollection, nil, false},
		{"2024-05-01", claimstx.Date, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{map[string]any{}, claimstx.String, nil, false},
		{true, claimstx.Int, nil, false},
	} {
		got, err := restful.FromJSON(c.v, c.dt)
		if (err == nil) != c.ok || c.ok && !reflect.DeepEqual(got.Value, c.want) {
			t.Errorf("%#v as %s: %#v %v", c.v, c.dt, got.Value, err)
		}
	}
}
