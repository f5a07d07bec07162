package apim

import (
	"net/http"
	"strings"
	"testing"
)

const vpGetItem = `/items/{id}`

func vpPolicy(attrs, children string) string {
	return `<policies><inbound><base/><validate-parameters ` + attrs + ` errors-variable-name="errs">` + children +
		`</validate-parameters></inbound></policies>`
}

func vpGet(url string, headers ...string) *http.Request {
	r := tGet(url)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// Prevent answers 400 with APIM's messages for each kind of problem; a
// conforming request reaches the backend.
func TestValidateParametersPrevent(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	p := tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, ""))
	id := map[string]string{"id": "7"}
	for _, c := range []struct {
		name   string
		r      *http.Request
		params map[string]string
		status int
		msg    string
	}{
		{"ok", vpGet("/items/7?limit=10&tags=a&tags=b&flag=TRUE", "X-Mode", "fast"), id, 200, ""},
		{"over maximum", vpGet("/items/7?limit=500", "X-Mode", "fast"), id, 400, "The value of the query parameter limit does not conform to the definition."},
		{"not a number", vpGet("/items/7?limit=ten", "X-Mode", "fast"), id, 400, `Value of the query parameter limit couldn't be parsed according to the definition. "ten" is not a number.`},
		{"twice", vpGet("/items/7?limit=1&limit=2", "X-Mode", "fast"), id, 400, "Request cannot contain multiple values for the query parameter limit."},
		{"array item not in enum", vpGet("/items/7?tags=a&tags=c", "X-Mode", "fast"), id, 400, "query parameter tags does not conform"},
		{"boolean", vpGet("/items/7?flag=maybe", "X-Mode", "fast"), id, 400, `"maybe" is not a boolean.`},
		{"required header missing", vpGet("/items/7"), id, 400, "Request does not contain the required header X-Mode."},
		{"header enum", vpGet("/items/7", "X-Mode", "turbo"), id, 400, "header X-Mode does not conform"},
		{"unspecified query", vpGet("/items/7?extra=1", "X-Mode", "fast"), id, 400, "Unspecified query parameter extra is not allowed."},
		{"unspecified header", vpGet("/items/7", "X-Mode", "fast", "X-Debug", "1"), id, 400, "Unspecified header x-debug is not allowed."},
		// The path parameter comes from components/parameters ($ref at the
		// path level): an integer of format int32.
		{"path not an integer", vpGet("/items/x", "X-Mode", "fast"), map[string]string{"id": "x"}, 400, "Value of the path parameter id couldn't be parsed"},
		{"path over int32", vpGet("/items/99999999999", "X-Mode", "fast"), map[string]string{"id": "99999999999"}, 400, "int32"},
		{"unspecified path parameter", vpGet("/items/7", "X-Mode", "fast"), map[string]string{"id": "7", "v": "1"}, 400, "Unspecified path parameter v is not allowed."},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := be.count()
			w, x := tOp(t, p, be, c.r, "get-item", vpGetItem, c.params)
			if c.status == 200 {
				tExpect(t, w, 200, "backend body")
				if got := tIssues(t, x, "errs"); len(got) != 0 {
					t.Fatalf("issues %v", got)
				}
				return
			}
			tErrorBody(t, w, c.status, c.msg)
			if be.count() != before {
				t.Fatal("a prevented request reached the backend")
			}
			if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.Contains(got[0], "/prevent: ") {
				t.Fatalf("issues %v", got)
			}
			if x.Ctx.LastError == nil || x.Ctx.LastError.Source != "validate-parameters" || x.Ctx.LastError.Reason != "Bad request" {
				t.Fatalf("LastError %+v", x.Ctx.LastError)
			}
		})
	}
}

// Detect records every problem (APIM's Name, Type, ValidationRule,
// Details, Action) and lets the request through; ignore checks nothing.
func TestValidateParametersDetectAndIgnore(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	r := func() *http.Request { return vpGet("/items/x?limit=0&extra=1", "X-Debug", "1") }
	params := map[string]string{"id": "x"}
	p := tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="detect" unspecified-parameter-action="detect"`, ""))
	w, x := tOp(t, p, be, r(), "get-item", vpGetItem, params)
	tExpect(t, w, 200, "backend body")
	got := strings.Join(tIssues(t, x, "errs"), "\n")
	for _, want := range []string{
		"PathParameter/IncorrectMessage/id/detect: Value of the path parameter id cannot be parsed according to the definition.",
		"QueryParameter/IncorrectMessage/limit/detect: Value of the query parameter limit does not conform to the definition.",
		"QueryParameter/Unspecified/extra/detect: Unspecified query parameter extra is not allowed.",
		"RequestHeader/IncorrectMessage/X-Mode/detect: Request does not contain the required header X-Mode.",
		"RequestHeader/Unspecified/x-debug/detect: Unspecified header x-debug is not allowed.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	p = tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="ignore" unspecified-parameter-action="ignore"`, ""))
	w, x = tOp(t, p, be, r(), "get-item", vpGetItem, params)
	tExpect(t, w, 200, "backend body")
	if got := tIssues(t, x, "errs"); len(got) != 0 {
		t.Fatalf("ignore recorded %v", got)
	}
}

// <headers>, <query> and <path> override the policy's actions, and
// <parameter name action> overrides them for one parameter, specified or
// not; actions may be expressions.
func TestValidateParametersOverrides(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	p := tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`,
		`<headers specified-parameter-action="detect" unspecified-parameter-action="ignore"><parameter name="x-mode" action="prevent"/></headers>
		 <query unspecified-parameter-action="prevent"><parameter name="extra" action="ignore"/><parameter name="limit" action="@(&quot;detect&quot;)"/></query>
		 <path specified-parameter-action="ignore"/>`))
	id := map[string]string{"id": "not-a-number"} // path: ignored
	w, x := tOp(t, p, be, vpGet("/items/1?extra=1&limit=1000", "X-Mode", "fast", "X-Debug", "1"), "get-item", vpGetItem, id)
	tExpect(t, w, 200, "backend body")
	if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.HasPrefix(got[0], "QueryParameter/IncorrectMessage/limit/detect") {
		t.Fatalf("issues %v", got)
	}
	// X-Mode's own action (prevent) beats <headers specified-parameter-action="detect">.
	w, _ = tOp(t, p, be, vpGet("/items/1", "X-Mode", "nope"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 400, "header X-Mode does not conform")
	// Other unspecified query parameters: still prevent.
	w, _ = tOp(t, p, be, vpGet("/items/1?other=1", "X-Mode", "fast"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 400, "Unspecified query parameter other is not allowed.")
	// An action expression that yields no action is a policy error.
	bad := tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="@(&quot;block&quot;)" unspecified-parameter-action="ignore"`, ""))
	w, _ = tOp(t, bad, be, vpGet("/items/1", "X-Mode", "fast"), "get-item", vpGetItem, map[string]string{"id": "1"})
	tErrorBody(t, w, 500, "Internal server error")
}

// OpenAPI 2: inline parameter types, a $ref to #/parameters, csv arrays.
// An operation the specification lacks is not validated.
func TestValidateParametersOpenAPI2(t *testing.T) {
	spec := tSpec(t, "pets-v2.yaml")
	be := newTBackend(t, nil)
	p := tValPipe(t, &LoadOptions{Spec: spec}, vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, ""))
	w, _ := tOp(t, p, be, vpGet("/pets?limit=5&status=sold,available"), "list-pets", "/pets", nil)
	tExpect(t, w, 200, "backend body")
	w, _ = tOp(t, p, be, vpGet("/pets?limit=51"), "list-pets", "/pets", nil)
	tErrorBody(t, w, 400, "query parameter limit does not conform")
	w, _ = tOp(t, p, be, vpGet("/pets?status=sold,lost"), "list-pets", "/pets", nil)
	tErrorBody(t, w, 400, "query parameter status does not conform")
	w, _ = tOp(t, p, be, vpGet("/elsewhere?x=1"), "not-in-spec", "/elsewhere", nil)
	tExpect(t, w, 200, "backend body")
}

func TestValidateParametersLoadErrors(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	opts := &LoadOptions{Spec: spec}
	for _, c := range []struct {
		src  string
		opts *LoadOptions
		want string
	}{
		{vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, ""), nil,
			"api.xml:1:27: validate-parameters needs the API's OpenAPI specification"},
		{vpPolicy(`specified-parameter-action="block" unspecified-parameter-action="prevent"`, ""), opts,
			`api.xml:1:76: specified-parameter-action must be one of ignore, prevent, detect, not "block"`},
		{vpPolicy(`unspecified-parameter-action="prevent"`, ""), opts, `validate-parameters: attribute "specified-parameter-action" is required`},
		{vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent" mode="x"`, ""), opts,
			`api.xml:1:124: unknown attribute "mode" on <validate-parameters>`},
		{vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, `<path unspecified-parameter-action="prevent"/>`), opts,
			`unknown attribute "unspecified-parameter-action" on <path>`},
		{vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, `<query/><query/>`), opts, "<query> appears twice"},
		{vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, `<query><parameter action="ignore"/></query>`), opts,
			`parameter: attribute "name" is required`},
		{`<policies><outbound><validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent"/></outbound></policies>`, opts,
			"policy validate-parameters is not allowed in section outbound"},
	} {
		if got := tValLoadErr(t, c.opts, c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.src, got, c.want)
		}
	}
	// A parameter whose $ref resolves nowhere is a load error of the
	// policy (validate-status-code still loads with the same spec).
	broken, err := ParseOpenAPI([]byte(`openapi: 3.0.0
info: { title: x, version: "1" }
paths:
  /a:
    get:
      parameters: [ { $ref: '#/components/parameters/Nope' } ]
      responses: { "200": { description: ok } }
`))
	if err != nil {
		t.Fatal(err)
	}
	got := tValLoadErr(t, &LoadOptions{Spec: broken}, vpPolicy(`specified-parameter-action="prevent" unspecified-parameter-action="prevent"`, ""))
	if !strings.Contains(got, `GET /a: parameter 0: $ref "#/components/parameters/Nope": "/components/parameters/Nope" does not exist`) {
		t.Errorf("got %s", got)
	}
}
