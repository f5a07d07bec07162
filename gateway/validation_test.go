package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// The validation policies through the whole gateway: the API's
// specification and a named schema of gateway.schemas from the config,
// request bodies as the gateway really handles them (lazy, streamed).
func TestValidateContentAndParameters(t *testing.T) {
	// The backend answers with the length of the body it received.
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Received", strconv.FormatInt(n, 10))
	}))
	t.Cleanup(be.Close)
	spec := `openapi: 3.0.1
info: { title: items, version: "1" }
paths:
  /items:
    post:
      operationId: create-item
      parameters: [ { name: dry-run, in: query, schema: { type: boolean } } ]
      requestBody:
        content: { application/json: { schema: { $ref: '#/components/schemas/Item' } } }
      responses: { "200": { description: ok } }
components:
  schemas:
    Item: { type: object, required: [name], properties: { name: { type: string }, address: { type: object } } }
`
	address := `{"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}`
	policy := func(sizeAction string) string {
		return `<policies><inbound><base/>
  <validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent">
    <headers unspecified-parameter-action="ignore"/><!-- User-Agent, Accept-Encoding ... -->
  </validate-parameters>
  <validate-content unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="` + sizeAction + `">
    <content type="application/json" validate-as="json" action="prevent"/>
    <content type="application/vnd.address+json" validate-as="json" schema-id="address" action="prevent"/>
  </validate-content>
</inbound></policies>`
	}
	ops := `operations: [{ name: create-item, method: POST, urlTemplate: /items }]`
	cfg := loadConfig(t, t.TempDir(), `  schemas:
    address: schemas/address.json
  apis:
    - { name: detect, path: detect, serviceUrl: "`+be.URL+`", subscriptionRequired: false, specification: items.yaml, policy: detect.xml, `+ops+` }
    - { name: prevent, path: prevent, serviceUrl: "`+be.URL+`", subscriptionRequired: false, specification: items.yaml, policy: prevent.xml, `+ops+` }
`, map[string]string{"items.yaml": spec, "schemas/address.json": address, "detect.xml": policy("detect"), "prevent.xml": policy("prevent")})
	gw, srv := start(t, cfg, Options{})

	post := func(path, ct string, body io.Reader) response {
		return do(t, http.MethodPost, srv.URL+path, body, "Content-Type", ct)
	}
	r := post("/prevent/items?dry-run=true", "application/json", strings.NewReader(`{"name":"a"}`))
	if r.status != 200 || r.header.Get("X-Received") != "12" {
		t.Fatalf("valid request: %d %s", r.status, r.body)
	}
	post("/prevent/items", "application/json", strings.NewReader(`{}`)).wantError(t, 400,
		"Body of the request does not conform to the definition Item, which is associated with the content type application/json. missing property 'name' Line: 1, Position: 1")
	post("/prevent/items?dry-run=maybe", "application/json", strings.NewReader(`{"name":"a"}`)).wantError(t, 400,
		`Value of the query parameter dry-run couldn't be parsed according to the definition. "maybe" is not a boolean.`)
	post("/prevent/items?debug=1", "application/json", strings.NewReader(`{"name":"a"}`)).wantError(t, 400,
		"Unspecified query parameter debug is not allowed.")
	// The named schema, for a content type the specification does not
	// document (unspecified-content-type-action="prevent" refuses it first).
	post("/prevent/items", "application/vnd.address+json", strings.NewReader(`{}`)).wantError(t, 400,
		"Unspecified content type application/vnd.address+json is not allowed.")

	// Over max-size with a Content-Length: refused unread (prevent); sent
	// on whole (detect), also when chunked.
	big := strings.Repeat("x", 100_000)
	post("/prevent/items", "application/json", strings.NewReader(big)).wantError(t, 400,
		"Request's body is 100000 bytes long and it exceeds the limit of 1024 bytes.")
	post("/prevent/items", "application/json", io.MultiReader(strings.NewReader(big))).wantError(t, 400,
		"Request's body is more than 1024 bytes long and it exceeds the limit of 1024 bytes.")
	for _, body := range []io.Reader{strings.NewReader(big), io.MultiReader(strings.NewReader(big))} {
		r := post("/detect/items", "application/json", body)
		if r.status != 200 || r.header.Get("X-Received") != "100000" {
			t.Fatalf("detect: %d, backend received %q bytes", r.status, r.header.Get("X-Received"))
		}
	}
	if gw.budget.used.Load() != 0 {
		t.Errorf("budget still holds %d bytes", gw.budget.used.Load())
	}
}

// Load errors: a schema file that is not a schema (at its config key), a
// schema-id that names none (at the policy's line:col).
func TestValidateContentSchemaLoadErrors(t *testing.T) {
	policy := `<policies><inbound><base/>
  <validate-content unspecified-content-type-action="ignore" max-size="1024" size-exceeded-action="prevent">
    <content type="application/json" validate-as="json" schema-id="nope" action="prevent"/>
  </validate-content>
</inbound></policies>`
	dir := t.TempDir()
	cfg := loadConfig(t, dir, `  schemas:
    broken: broken.json
  apis:
    - { name: a, path: a, serviceUrl: "http://127.0.0.1:1", policy: p.xml }
`, map[string]string{"broken.json": `{"type": 12}`, "p.xml": policy})
	gw, err := New(cfg, Options{})
	if gw != nil {
		gw.Close()
	}
	if err == nil {
		t.Fatal("no load error")
	}
	for _, want := range []string{
		`gatehouse.yaml:4:13: gateway.schemas "broken": broken.json: `,
		`p.xml:3:5: validate-content: schema-id "nope" is not a schema of gateway.schemas`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
}
