package apim

import (
	"net/http"
	"testing"
)

func TestCORSUnitNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"https://app.example.com", "https://app.example.com", true},
		{"HTTPS://App.Example.com:443", "https://app.example.com", true},
		{"https://app.example.com/", "https://app.example.com", true}, // Azure's PrimaryStorageEndpoint form
		{"http://localhost:80", "http://localhost", true},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"https://app.example.com:80", "https://app.example.com:80", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://*.example.com", "", false},
		{"https://app.example.com/path", "", false},
		{"https://app.example.com?x=1", "", false},
		{"https://user@app.example.com", "", false},
		{"app.example.com", "", false},
		{"https://", "", false},
		{"https://app.example.com:", "", false},
		{"https://app.example.com:99999", "", false},
	} {
		got, ok := corsNormalizeOrigin(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("corsNormalizeOrigin(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// seed004CORS is the cors element of seed 004 with its placeholder filled
// as Azure prints a static-website endpoint (trailing slash).
const seed004CORS = `
	<cors allow-credentials="true">
		<allowed-origins>
			<origin>https://spastore.z33.web.core.windows.net/</origin>
		</allowed-origins>
		<allowed-methods preflight-result-max-age="120">
			<method>GET</method>
		</allowed-methods>
		<allowed-headers>
			<header>*</header>
		</allowed-headers>
		<expose-headers>
			<header>*</header>
		</expose-headers>
	</cors>`

const spaOrigin = "https://spastore.z33.web.core.windows.net"

func TestCORSPreflightSeed004(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeGlobal, acDoc(seed004CORS+`<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="no" ignore-case="false" />`))
	w := h.do(p, acReq{method: http.MethodOptions, noSub: true, headers: map[string]string{
		"Origin":                         spaOrigin,
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "authorization, x-custom",
	}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	acHeader(t, w, "Access-Control-Allow-Credentials", "true")
	acHeader(t, w, "Access-Control-Allow-Methods", "GET")
	acHeader(t, w, "Access-Control-Allow-Headers", "authorization, x-custom")
	acHeader(t, w, "Access-Control-Max-Age", "120")
	acHeader(t, w, "Vary", "Origin")
	if w.Body.Len() != 0 {
		t.Fatalf("preflight body %q", w.Body.String())
	}

	// Method not allowed, origin not allowed: empty 200 without CORS headers.
	for _, hd := range []map[string]string{
		{"Origin": spaOrigin, "Access-Control-Request-Method": "DELETE"},
		{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
	} {
		w = h.do(p, acReq{method: http.MethodOptions, noSub: true, headers: hd})
		acExpect(t, w, 200, "")
		acHeader(t, w, "Access-Control-Allow-Origin", "")
		acHeader(t, w, "Access-Control-Allow-Methods", "")
	}
	if n := h.hits.Load(); n != 0 {
		t.Fatalf("preflights reached the backend %d times", n)
	}
}

func TestCORSActualRequestSeed004(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeGlobal, acDoc(seed004CORS+`<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="Unauthorized" ignore-case="false" />`))
	w := h.do(p, acReq{headers: map[string]string{"Origin": spaOrigin, "Authorization": "x"}})
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	acHeader(t, w, "Access-Control-Allow-Credentials", "true")
	// "*" cannot be used with credentials: the response's header names are listed.
	acHeader(t, w, "Access-Control-Expose-Headers", "Content-Type, Date, X-Backend")
	acHeader(t, w, "Vary", "Origin")

	// A policy failure after cors still carries the CORS headers, so the
	// SPA can read the 401.
	w = h.do(p, acReq{headers: map[string]string{"Origin": spaOrigin}})
	acExpect(t, w, 401, `{"statusCode":401,"message":"Unauthorized"}`)
	acHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)

	// Unmatched origin: terminate-unmatched-request defaults to true.
	before := h.hits.Load()
	w = h.do(p, acReq{headers: map[string]string{"Origin": "https://evil.example", "Authorization": "x"}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Origin", "")
	if h.hits.Load() != before {
		t.Fatal("unmatched cross-origin request reached the backend")
	}
	// No Origin: not a CORS request.
	w = h.do(p, acReq{headers: map[string]string{"Authorization": "x"}})
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "Access-Control-Allow-Origin", "")
}

func TestCORSNoTerminateAndWildcard(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<cors terminate-unmatched-request="false">
			<allowed-origins><origin>http://localhost:3000</origin></allowed-origins>
			<allowed-methods><method>GET</method><method>put</method></allowed-methods>
			<allowed-headers><header>Content-Type</header><header>X-Api-Key</header></allowed-headers>
			<expose-headers><header>X-Backend</header></expose-headers>
		</cors>`))
	w := h.do(p, acReq{headers: map[string]string{"Origin": "https://evil.example"}})
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "Access-Control-Allow-Origin", "")

	w = h.do(p, acReq{headers: map[string]string{"Origin": "http://localhost:3000"}})
	acExpect(t, w, 200, `{"ok":true}`)
	acHeader(t, w, "Access-Control-Allow-Origin", "http://localhost:3000")
	acHeader(t, w, "Access-Control-Allow-Credentials", "")
	acHeader(t, w, "Access-Control-Expose-Headers", "X-Backend")

	w = h.do(p, acReq{method: http.MethodOptions, headers: map[string]string{
		"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-api-key,content-type"}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Methods", "GET, PUT")
	acHeader(t, w, "Access-Control-Allow-Headers", "x-api-key,content-type")
	acHeader(t, w, "Access-Control-Max-Age", "")

	wild := acLoad(t, ScopeAPI, acDoc(`
		<cors>
			<allowed-origins><origin>*</origin></allowed-origins>
			<allowed-methods><method>*</method></allowed-methods>
			<allowed-headers><header>*</header></allowed-headers>
			<expose-headers><header>*</header></expose-headers>
		</cors>`))
	w = h.do(wild, acReq{method: http.MethodOptions, headers: map[string]string{
		"Origin": "https://any.example", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x-anything"}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Origin", "*")
	acHeader(t, w, "Access-Control-Allow-Methods", "PATCH")
	acHeader(t, w, "Access-Control-Allow-Headers", "x-anything")
	acHeader(t, w, "Vary", "")
	w = h.do(wild, acReq{headers: map[string]string{"Origin": "https://any.example"}})
	acHeader(t, w, "Access-Control-Allow-Origin", "*")
	acHeader(t, w, "Access-Control-Expose-Headers", "*")

	// Without allowed-methods only GET and POST are allowed.
	def := acLoad(t, ScopeAPI, acDoc(`<cors><allowed-origins><origin>https://a.example</origin></allowed-origins></cors>`))
	w = h.do(def, acReq{method: http.MethodOptions, headers: map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}})
	acHeader(t, w, "Access-Control-Allow-Methods", "GET, POST")
	w = h.do(def, acReq{method: http.MethodOptions, headers: map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"}})
	acHeader(t, w, "Access-Control-Allow-Origin", "")
	// A requested header that is not allowed fails the preflight.
	w = h.do(def, acReq{method: http.MethodOptions, headers: map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}})
	acHeader(t, w, "Access-Control-Allow-Origin", "")
}

func TestCORSLoadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ xml, want string }{
		{`<cors><allowed-origins><origin>https://*.example.com</origin></allowed-origins></cors>`, "Origin must be a valid URL consisting of scheme, host, and port only"},
		{`<cors><allowed-origins><origin>https://a.example/app</origin></allowed-origins></cors>`, "Origin must be a valid URL consisting of scheme, host, and port only"},
		{`<cors />`, "allowed-origins is required"},
		{`<cors><allowed-origins /></cors>`, "at least one origin"},
		{`<cors allow-credentials="yes"><allowed-origins><origin>*</origin></allowed-origins></cors>`, "allow-credentials must be true or false"},
		{`<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-methods preflight-result-max-age="-1"><method>GET</method></allowed-methods></cors>`, "preflight-result-max-age must be an integer"},
		{`<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-verbs /></cors>`, "unknown element <allowed-verbs>"},
		{`<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-origins><origin>*</origin></allowed-origins></cors>`, "may appear only once"},
		{`<cors><allowed-origins><origin>@(context.Request.Headers.GetValueOrDefault("Origin",""))</origin></allowed-origins></cors>`, "does not accept policy expressions"},
		{`<cors terminate="true"><allowed-origins><origin>*</origin></allowed-origins></cors>`, `unknown attribute "terminate"`},
	} {
		acLoadErr(t, ScopeAPI, acDoc(c.xml), c.want)
	}
}
