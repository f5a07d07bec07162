package gateway

import (
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ctxPolicy echoes context values to the backend as X-Ctx-* headers.
const ctxPolicy = `<policies>
  <inbound>
    <base />
    <set-variable name="answer" value="forty-two" />
    <set-header name="X-Ctx-Api" exists-action="override"><value>@(context.Api.Id + "|" + context.Api.Name + "|" + context.Api.Path + "|" + context.Api.Revision + "|" + context.Api.IsCurrentRevision + "|" + context.Api.ServiceUrl.Path)</value></set-header>
    <set-header name="X-Ctx-Operation" exists-action="override"><value>@(context.Operation.Id + "|" + context.Operation.Name + "|" + context.Operation.Method + "|" + context.Operation.UrlTemplate)</value></set-header>
    <set-header name="X-Ctx-Method" exists-action="override"><value>@(context.Request.Method)</value></set-header>
    <set-header name="X-Ctx-Original" exists-action="override"><value>@(context.Request.OriginalUrl.Scheme + "|" + context.Request.OriginalUrl.Host + "|" + context.Request.OriginalUrl.Port + "|" + context.Request.OriginalUrl.Path + "|" + context.Request.OriginalUrl.Query.GetValueOrDefault("q", "-"))</value></set-header>
    <set-header name="X-Ctx-Url" exists-action="override"><value>@(context.Request.Url.Path + "|" + context.Request.Url.Query.GetValueOrDefault("subscription-key", "no-key") + "|" + context.Request.Url.Query.GetValueOrDefault("q", "-"))</value></set-header>
    <set-header name="X-Ctx-Ip" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header>
    <set-header name="X-Ctx-Param" exists-action="override"><value>@(context.Request.MatchedParameters.GetValueOrDefault("id", "-"))</value></set-header>
    <set-header name="X-Ctx-Key-Header" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("Ocp-Apim-Subscription-Key", "absent"))</value></set-header>
    <set-header name="X-Ctx-Body" exists-action="override"><value>@(context.Request.Body == null ? "null" : context.Request.Body.As<string>(preserveContent: true))</value></set-header>
    <set-header name="X-Ctx-Deployment" exists-action="override"><value>@(context.Deployment.GatewayId + "|" + context.Deployment.Region + "|" + context.Deployment.ServiceName)</value></set-header>
    <set-header name="X-Ctx-Product" exists-action="override"><value>@(context.Product.Name + "|" + context.Product.SubscriptionRequired)</value></set-header>
    <set-header name="X-Ctx-Subscription" exists-action="override"><value>@(context.Subscription.Name + "|" + (context.Subscription.Key == context.Subscription.PrimaryKey))</value></set-header>
    <set-header name="X-Ctx-RequestId" exists-action="override"><value>@(context.RequestId.ToString())</value></set-header>
    <set-header name="X-Ctx-Timestamp" exists-action="override"><value>@(context.Timestamp.ToString("yyyy-MM-ddTHH:mm:ss"))</value></set-header>
    <set-header name="X-Ctx-Variable" exists-action="override"><value>@((string)context.Variables["answer"])</value></set-header>
  </inbound>
  <backend><forward-request /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`

func TestContextModelSeenByPolicies(t *testing.T) {
	be := newBackend(t, "be")
	cfg := loadConfig(t, t.TempDir(), `
  policy: global.xml
  trustedProxies: ["127.0.0.1", "10.0.0.0/8"]
  products:
    - name: gold
      apis: [orders]
      subscriptions: [{ name: alice, primaryKey: `+keyGoldA+` }]
  apis:
    - name: orders
      path: shop/orders
      serviceUrl: "`+be.URL+`/backend"
      operations:
        - { name: create-item, method: POST, urlTemplate: "/items/{id}" }
        - { name: read-item, method: GET, urlTemplate: "/items/{id}" }
`, map[string]string{"global.xml": ctxPolicy})
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, srv := start(t, cfg, Options{Region: "westeurope", Now: func() time.Time { return now }})

	r := do(t, "POST", srv.URL+"/shop/orders/items/7?q=x&subscription-key="+q(keyGoldA), strings.NewReader(`{"a":1}`),
		"X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.1.2.3")
	e := r.echoed(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	port := host[strings.LastIndexByte(host, ':')+1:]
	want := map[string]string{
		"X-Ctx-Api":          "orders|orders|shop/orders|1|True|/backend",
		"X-Ctx-Operation":    "create-item|create-item|POST|/items/{id}",
		"X-Ctx-Method":       "POST",
		"X-Ctx-Original":     "http|127.0.0.1|" + port + "|/shop/orders/items/7|x",
		"X-Ctx-Url":          "/backend/items/7|no-key|x",
		"X-Ctx-Ip":           "203.0.113.9",
		"X-Ctx-Param":        "7",
		"X-Ctx-Key-Header":   "absent",
		"X-Ctx-Body":         `{"a":1}`,
		"X-Ctx-Deployment":   "self-hosted|westeurope|gatehouse",
		"X-Ctx-Product":      "gold|True",
		"X-Ctx-Subscription": "alice|True",
		"X-Ctx-Timestamp":    "2030-01-02T03:04:05",
		"X-Ctx-Variable":     "forty-two",
	}
	for h, v := range want {
		if got := e.Headers.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if id := e.Headers.Get("X-Ctx-RequestId"); !guid.MatchString(id) {
		t.Errorf("RequestId %q is not a GUID", id)
	}
	if e.Body != `{"a":1}` {
		t.Errorf("backend body %q", e.Body)
	}
	if e.Path != "/backend/items/7" || e.Query != "q=x" {
		t.Errorf("backend saw %s?%s", e.Path, e.Query)
	}

	// A GET has no body: context.Request.Body is null.
	r = get(t, srv.URL+"/shop/orders/items/8", "Ocp-Apim-Subscription-Key", keyGoldA)
	if got := r.echoed(t).Headers.Get("X-Ctx-Body"); got != "null" {
		t.Errorf("GET body = %q, want null", got)
	}
}

func TestClientIP(t *testing.T) {
	st := &state{}
	for _, p := range []string{"10.0.0.0/8", "192.0.2.1"} {
		pr, err := parsePrefix(p)
		if err != nil {
			t.Fatal(err)
		}
		st.trusted = append(st.trusted, pr)
	}
	cases := []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.7:5000", nil, "198.51.100.7"},
		{"198.51.100.7:5000", []string{"203.0.113.1"}, "198.51.100.7"}, // untrusted peer: header ignored
		{"10.0.0.5:5000", []string{"203.0.113.1"}, "203.0.113.1"},
		{"10.0.0.5:5000", []string{"1.1.1.1, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"},
		{"10.0.0.5:5000", []string{"1.1.1.1", "203.0.113.1, 192.0.2.1"}, "203.0.113.1"},
		{"10.0.0.5:5000", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"}, // all trusted: left-most
		{"10.0.0.5:5000", []string{"garbage, 10.2.2.2"}, "10.2.2.2"},
		{"10.0.0.5:5000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"10.0.0.5:5000", nil, "10.0.0.5"},
		{"[2001:db8::9]:5000", nil, "2001:db8::9"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got, _ := st.clientIP(r); got != c.want {
			t.Errorf("peer %s XFF %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if !st.isTrusted(netip.MustParseAddr("::ffff:10.0.0.1")) {
		t.Error("IPv4-mapped address not matched against IPv4 ranges")
	}
}

func TestPreflight(t *testing.T) {
	be := newBackend(t, "be")
	cors := `<policies><inbound><base/>
  <cors allow-credentials="false">
    <allowed-origins><origin>https://app.example</origin></allowed-origins>
    <allowed-methods><method>GET</method><method>POST</method></allowed-methods>
    <allowed-headers><header>*</header></allowed-headers>
  </cors>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
	cfg := loadConfig(t, t.TempDir(), `
  apis:
    - name: api
      path: api
      serviceUrl: "`+be.URL+`"
      policy: cors.xml
      operations:
        - { name: get, method: GET, urlTemplate: "/things" }
    - name: own
      path: own
      serviceUrl: "`+be.URL+`"
      policy: cors.xml
      operations:
        - { name: options, method: OPTIONS, urlTemplate: "/things" }
`, map[string]string{"cors.xml": cors})
	_, srv := start(t, cfg, Options{})
	pre := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET"}

	// No key, no OPTIONS operation: cors answers.
	r := do(t, "OPTIONS", srv.URL+"/api/things", nil, pre...)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight: %d %v %s", r.status, r.header, r.body)
	}
	// A preflight for a path no operation has still reaches cors.
	r = do(t, "OPTIONS", srv.URL+"/api/unknown", nil, pre...)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("preflight to an unknown path: %d %v %s", r.status, r.header, r.body)
	}
	// Not a preflight (no Access-Control-Request-Method): routed as usual.
	do(t, "OPTIONS", srv.URL+"/api/things", nil, "Origin", "https://app.example").
		wantError(t, 404, "Unable to match incoming request to an operation.")
	// An explicit OPTIONS operation: checked like any request.
	do(t, "OPTIONS", srv.URL+"/own/things", nil, pre...).wantError(t, 401, msgKeyMissing)
	// The real request still needs its key.
	get(t, srv.URL+"/api/things", "Origin", "https://app.example").wantError(t, 401, msgKeyMissing)
}
