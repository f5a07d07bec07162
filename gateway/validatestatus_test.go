package gateway

import (
	"strings"
	"testing"
)

// validate-status-code against the API's OpenAPI specification: a
// documented status (exactly or by class) passes, an undocumented one is
// answered 502 (prevent) unless a status-code child says otherwise, and
// detect records the problem and lets the response through.
func TestValidateStatusCode(t *testing.T) {
	be := newCountingBackend(t)
	spec := `openapi: 3.0.1
info: { title: items, version: "1" }
paths:
  /items:
    get:
      operationId: get-items
      responses: { "200": { description: ok }, "4XX": { description: client error } }
  /other:
    get:
      operationId: get-other
      responses: { "200": { description: ok } }
`
	policy := func(action string) string {
		return `<policies><inbound><base/></inbound><outbound><base/>
  <validate-status-code unspecified-status-code-action="` + action + `" errors-variable-name="errs"><status-code code="503" action="ignore"/></validate-status-code>
  <set-header name="X-Errors" exists-action="override"><value>@(context.Variables.ContainsKey("errs") ? "recorded" : "none")</value></set-header>
</outbound></policies>`
	}
	cfg := loadConfig(t, t.TempDir(), `  apis:
    - name: prevent
      path: prevent
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      specification: items.yaml
      policy: prevent.xml
      operations: [{ name: get-items, method: GET, urlTemplate: /items }, { name: get-other, method: GET, urlTemplate: /other }]
    - name: detect
      path: detect
      serviceUrl: "`+be.URL+`"
      subscriptionRequired: false
      specification: items.yaml
      policy: detect.xml
      operations: [{ name: get-items, method: GET, urlTemplate: /items }]
`, map[string]string{"items.yaml": spec, "prevent.xml": policy("prevent"), "detect.xml": policy("detect")})
	_, srv := start(t, cfg, Options{})
	for _, c := range []struct {
		path       string
		backend    int
		want       int
		wantErrors string
	}{
		{"/prevent/items", 200, 200, "none"},
		{"/prevent/items", 404, 404, "none"}, // 4XX
		{"/prevent/items", 500, 502, ""},
		{"/prevent/items", 503, 503, "none"}, // status-code action="ignore"
		{"/prevent/other", 404, 502, ""},
		{"/detect/items", 500, 500, "recorded"},
	} {
		be.set(c.backend, "")
		r := get(t, srv.URL+c.path)
		if r.status != c.want || c.wantErrors != "" && r.header.Get("X-Errors") != c.wantErrors {
			t.Errorf("%s answering %d: %d (X-Errors %q), want %d", c.path, c.backend, r.status, r.header.Get("X-Errors"), c.want)
		}
		if c.want == 502 && !strings.Contains(r.body, "Bad Gateway") {
			t.Errorf("%s: body %s", c.path, r.body)
		}
	}
	// Without a specification the policy is a load error.
	bare := loadConfig(t, t.TempDir(), `  apis:
    - { name: a, path: a, serviceUrl: "`+be.URL+`", policy: p.xml }
`, map[string]string{"p.xml": policy("prevent")})
	if gw, err := New(bare, Options{}); err == nil || !strings.Contains(err.Error(), "needs the API's OpenAPI specification") {
		if gw != nil {
			gw.Close()
		}
		t.Errorf("no specification: %v", err)
	}
}
