package apim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func vcPolicy(attrs, children string) string {
	return `<policies><inbound><base/><validate-content ` + attrs + ` errors-variable-name="errs">` + children +
		`</validate-content></inbound></policies>`
}

func vcPost(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

const vcJSON = `<content type="application/json" validate-as="json" action="prevent"/>`

// A JSON request body against the operation's schema (a requestBody
// $ref to a components schema): required properties, types, pattern
// (.NET syntax), minimum, nullable, readOnly properties not required of
// requests, uniqueItems; prevent answers 400 with APIM's message and
// the line and position of the offending value.
func TestValidateContentJSONRequest(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	p := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(`unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`, vcJSON))
	const subject = "Body of the request does not conform to the definition NewItem, which is associated with the content type application/json."
	for _, c := range []struct {
		name, body, msg string
	}{
		{"ok", `{"name":"Thé","price":1.5,"note":null,"tags":["a","b"]}`, ""},
		{"price not a number", "{\"name\":\"a\",\n \"price\":\"x\"}", subject + ` at "/price": got string, want number Line: 2, Position: 10`},
		{"missing required", `{"price":1}`, subject + ` missing property 'name' Line: 1, Position: 1`},
		{"pattern", `{"name":"a1","price":1}`, `at "/name": 'a1' does not match pattern '^\\p{L}+$' Line: 1, Position: 9`},
		{"minimum", `{"name":"a","price":-1}`, `at "/price": minimum: got -1, want 0`},
		{"duplicate tags", `{"name":"a","price":1,"tags":["x","x"]}`, `at "/tags": items at 0 and 1 are equal`},
		{"not JSON", `{"name":`, "Body of the request does not conform to the definition NewItem, which is associated with the content type application/json. Unexpected end of the document. Line: 1, Position: 9"},
		{"trailing data", `{"name":"a","price":1} x`, "invalid data after the top-level value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, x := tOp(t, p, be, vcPost(c.body, "application/json"), "create-item", "/items", nil)
			if c.msg == "" {
				tExpect(t, w, 200, "backend body")
				if got := be.last(t).Body; got != c.body {
					t.Fatalf("backend received %q", got)
				}
				return
			}
			tErrorBody(t, w, 400, c.msg)
			if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.HasPrefix(got[0], "RequestBody/IncorrectMessage/application/json/prevent: ") {
				t.Fatalf("issues %v", got)
			}
		})
	}
}

// Content types: an undocumented one is unspecified-content-type-action's;
// content-type-map maps a missing one, a named one (from), one matching
// an expression (when) or any; a content element without a type applies
// to every documented type.
func TestValidateContentTypes(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	opts := &LoadOptions{Spec: spec}
	attrs := `unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`
	p := tValPipe(t, opts, vcPolicy(attrs, vcJSON))
	w, x := tOp(t, p, be, vcPost(`hello`, "text/plain"), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "Unspecified content type text/plain is not allowed.")
	if got := tIssues(t, x, "errs"); len(got) != 1 || got[0] != "RequestBody/Unspecified/text/plain/prevent: Unspecified content type text/plain is not allowed." {
		t.Fatalf("issues %v", got)
	}
	// Without a content type: unspecified too ("" is not documented).
	w, _ = tOp(t, p, be, vcPost(`{}`, ""), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "Unspecified content type  is not allowed.")

	mapped := tValPipe(t, opts, vcPolicy(attrs, `<content-type-map missing-content-type-value="application/json">
		<type from="application/hal+json" to="application/json"/>
		<type when="@(context.Request.Headers.GetValueOrDefault(&quot;Content-Type&quot;, &quot;&quot;).StartsWith(&quot;application/vnd.&quot;))" to="application/json"/>
	</content-type-map>`+vcJSON))
	for _, ct := range []string{"", "application/hal+json", "application/vnd.items+json; charset=utf-8"} {
		w, _ = tOp(t, mapped, be, vcPost(`{"name":"a"}`, ct), "create-item", "/items", nil)
		tErrorBody(t, w, 400, "missing property 'price'") // validated as application/json
	}
	anyType := tValPipe(t, opts, vcPolicy(attrs, `<content-type-map any-content-type-value="application/json"/>`+vcJSON))
	w, _ = tOp(t, anyType, be, vcPost(`{"name":"a","price":2}`, "text/plain"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")

	// A documented type without a schema (application/xml) and no
	// content element for it: accepted as it is.
	w, _ = tOp(t, p, be, vcPost(`not even xml`, "application/xml"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")
	// A content element without a type covers documented types only.
	all := tValPipe(t, opts, vcPolicy(`unspecified-content-type-action="ignore" max-size="1024" size-exceeded-action="prevent"`,
		`<content validate-as="json" action="prevent"/>`))
	w, _ = tOp(t, all, be, vcPost(`{"price":1}`, "application/json"), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "missing property 'name'")
	w, _ = tOp(t, all, be, vcPost(`{"price":1}`, "text/plain"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")
	// An empty body has nothing to validate.
	w, _ = tOp(t, p, be, vcPost(``, "application/json"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")
}

// allow-additional-properties="false" forbids properties the schema does
// not name (it allows them by default); case-insensitive-property-names
// matches {"NAME":...} to "name".
func TestValidateContentAdditionalPropertiesAndCase(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	attrs := `unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`
	strict := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(attrs,
		`<content type="application/json" validate-as="json" action="prevent" allow-additional-properties="false"/>`))
	w, _ := tOp(t, strict, be, vcPost(`{"name":"a","price":1,"colour":"red"}`, "application/json"), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "additional properties 'colour' not allowed")
	lax := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(attrs, vcJSON))
	w, _ = tOp(t, lax, be, vcPost(`{"name":"a","price":1,"colour":"red"}`, "application/json"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")

	w, _ = tOp(t, lax, be, vcPost(`{"NAME":"a","Price":1}`, "application/json"), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "missing properties 'name', 'price'")
	ci := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(attrs,
		`<content type="application/json" validate-as="json" action="prevent" case-insensitive-property-names="true"/>`))
	w, _ = tOp(t, ci, be, vcPost(`{"NAME":"a","Price":1}`, "application/json"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")
	if got := be.last(t).Body; got != `{"NAME":"a","Price":1}` {
		t.Fatalf("the body sent on was changed: %q", got)
	}
}

// Responses: the schema of the response's status and content type;
// prevent answers 502 with APIM's internal-error message, detect records
// and lets the response through. OpenAPI 2 bodies too.
func TestValidateContentResponse(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	body := `{"id":"one","name":"a"}`
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	policy := func(action string) string {
		return `<policies><inbound><base/></inbound><outbound><base/><validate-content unspecified-content-type-action="` + action +
			`" max-size="1024" size-exceeded-action="prevent" errors-variable-name="errs"><content type="application/json" validate-as="json" action="` +
			action + `"/></validate-content></outbound></policies>`
	}
	p := tValPipe(t, &LoadOptions{Spec: spec}, policy("prevent"))
	w, x := tOp(t, p, be, tGet("/items/1"), "get-item", vpGetItem, map[string]string{"id": "1"})
	tErrorBody(t, w, 502, "The request could not be processed due to an internal error. Contact the API owner.")
	if le := x.Ctx.LastError; le == nil || !strings.Contains(le.Message, `Body of the response does not conform to the definition Item, which is associated with the content type application/json. at "/id": got string, want integer Line: 1, Position: 7`) {
		t.Fatalf("LastError %+v", le)
	}
	d := tValPipe(t, &LoadOptions{Spec: spec}, policy("detect"))
	w, x = tOp(t, d, be, tGet("/items/1"), "get-item", vpGetItem, map[string]string{"id": "1"})
	tExpect(t, w, 200, body)
	if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.HasPrefix(got[0], "ResponseBody/IncorrectMessage/application/json/detect") {
		t.Fatalf("issues %v", got)
	}

	v2 := tSpec(t, "pets-v2.yaml")
	body = `[{"name":"rex","age":null},{"name":""}]`
	w, x = tOp(t, tValPipe(t, &LoadOptions{Spec: v2}, policy("prevent")), be, tGet("/pets"), "list-pets", "/pets", nil)
	tErrorBody(t, w, 502, "internal error")
	if le := x.Ctx.LastError; le == nil || !strings.Contains(le.Message, `at "/1/name": minLength: got 0, want 1`) {
		t.Fatalf("LastError %+v", le)
	}
	body = `[{"name":"rex","age":null}]`
	w, _ = tOp(t, tValPipe(t, &LoadOptions{Spec: v2}, policy("prevent")), be, tGet("/pets"), "list-pets", "/pets", nil)
	tExpect(t, w, 200, body)
}

// A named schema of gateway.schemas (schema-id), and a definition inside
// it (schema-ref); no specification needed when nothing else uses it.
func TestValidateContentNamedSchema(t *testing.T) {
	opts := &LoadOptions{Schemas: map[string]*NamedSchema{"address": tNamedSchema(t, "address.schema.json")}}
	be := newTBackend(t, nil)
	attrs := `unspecified-content-type-action="ignore" max-size="1024" size-exceeded-action="prevent"`
	p := tValPipe(t, opts, vcPolicy(attrs, `<content type="application/json" validate-as="json" schema-id="address" action="prevent"/>`))
	w, _ := tOp(t, p, be, vcPost(`{"street":"1 rue","city":"Paris","zip":"75001"}`, "application/json"), "any", "/", nil)
	tExpect(t, w, 200, "backend body")
	w, _ = tOp(t, p, be, vcPost(`{"street":"1 rue","city":"Paris","zip":"7500"}`, "application/json"), "any", "/", nil)
	tErrorBody(t, w, 400, `Body of the request does not conform to the definition address, which is associated with the content type application/json. at "/zip": '7500' does not match pattern '^[0-9]{5}$' Line: 1, Position: 40`)
	ref := tValPipe(t, opts, vcPolicy(attrs, `<content type="application/json" validate-as="json" schema-id="address" schema-ref="#/definitions/country" action="prevent"/>`))
	w, _ = tOp(t, ref, be, vcPost(`"FR"`, "application/json"), "any", "/", nil)
	tExpect(t, w, 200, "backend body")
	w, _ = tOp(t, ref, be, vcPost(`"US"`, "application/json"), "any", "/", nil)
	tErrorBody(t, w, 400, "definition address#/definitions/country")
}

// validate-as="xml" checks well-formedness, "soap" also the envelope.
func TestValidateContentXMLAndSOAP(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	attrs := `unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`
	p := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(attrs,
		`<content type="application/xml" validate-as="xml" action="prevent"/><content type="text/xml" validate-as="soap" action="prevent"/>`))
	for _, c := range []struct{ ct, body, msg string }{
		{"application/xml", `<item><name>a</name></item>`, ""},
		{"application/xml", "<item>\n<name>a</item>", "Body of the request is not well-formed XML for the content type application/xml. element <name> closed by </item> Line: 2"},
		{"application/xml", `<a/><b/>`, "more than one root element"},
		{"text/xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`, ""},
		{"text/xml", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`, "is not a SOAP envelope for the content type text/xml"},
		{"text/xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>`, "a SOAP envelope without a Body element"},
	} {
		w, _ := tOp(t, p, be, vcPost(c.body, c.ct), "create-item", "/items", nil)
		if c.msg == "" {
			tExpect(t, w, 200, "backend body")
			continue
		}
		tErrorBody(t, w, 400, c.msg)
	}
}

// A compressed body is not decompressed: its content cannot be validated.
func TestValidateContentCompressed(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	p := tValPipe(t, &LoadOptions{Spec: spec}, vcPolicy(`unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`, vcJSON))
	r := vcPost("\x1f\x8b....", "application/json")
	r.Header.Set("Content-Encoding", "gzip")
	w, x := tOp(t, p, be, r, "create-item", "/items", nil)
	tErrorBody(t, w, 400, "The request could not be processed due to an internal error.")
	if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.Contains(got[0], "ValidationException") || !strings.Contains(got[0], "Content-Encoding gzip") {
		t.Fatalf("issues %v", got)
	}
}

// max-size on a body in memory: prevent answers 400 with APIM's message
// (content not validated), detect records and sends the body on whole.
func TestValidateContentSizeLimit(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	be := newTBackend(t, nil)
	big := `{"name":"` + strings.Repeat("a", 100) + `","price":1}`
	policy := func(action string) string {
		return vcPolicy(`unspecified-content-type-action="prevent" max-size="64" size-exceeded-action="`+action+`"`, vcJSON)
	}
	w, x := tOp(t, tValPipe(t, &LoadOptions{Spec: spec}, policy("prevent")), be, vcPost(big, "application/json"), "create-item", "/items", nil)
	tErrorBody(t, w, 400, "Request's body is 121 bytes long and it exceeds the limit of 64 bytes.")
	if got := tIssues(t, x, "errs"); len(got) != 1 || got[0] != "RequestBody/SizeLimit//prevent: Request's body is 121 bytes long and it exceeds the configured limit of 64 bytes." {
		t.Fatalf("issues %v", got)
	}
	w, x = tOp(t, tValPipe(t, &LoadOptions{Spec: spec}, policy("detect")), be, vcPost(big, "application/json"), "create-item", "/items", nil)
	tExpect(t, w, 200, "backend body")
	if be.last(t).Body != big || len(tIssues(t, x, "errs")) != 1 {
		t.Fatalf("backend %q, issues %v", be.last(t).Body, tIssues(t, x, "errs"))
	}
}

// countingBody is a request body of n bytes that counts what was read.
type countingBody struct {
	n, read int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), c.n-c.read)
	for i := range p[:k] {
		p[i] = 'x'
	}
	c.read += k
	return int(k), nil
}

// tStreamExec is an Exec as the gateway makes it: the body is lazy (the
// loader reads the caller's stream, and reports that it ran) and
// forward-request streams the caller's body when nothing loaded it.
func tStreamExec(t *testing.T, be *tBackend, src io.Reader, contentLength int64) (*Exec, *bool) {
	t.Helper()
	x := tExec(t, be, tGet("/items"), nil)
	r := httptest.NewRequest(http.MethodPost, "/items", src)
	r.ContentLength = contentLength
	r.Header.Set("Content-Type", "application/json")
	x.HTTPRequest = r
	x.Ctx.Request.Method = http.MethodPost
	x.Ctx.Request.Headers = r.Header.Clone()
	x.Ctx.Operation = &expr.Operation{Name: "create-item", Method: http.MethodPost, UrlTemplate: "/items"}
	loaded := new(bool)
	x.Ctx.Request.Body = expr.NewLazyBody(func() ([]byte, error) {
		*loaded = true
		return io.ReadAll(r.Body)
	})
	return x, loaded
}

// A body nothing has read (the gateway's lazy body) is never read whole
// to check max-size: not at all with a Content-Length over it, max-size+1
// bytes when chunked; with detect the whole body still reaches the
// backend, streamed, and the lazy loader never runs.
func TestValidateContentSizeLimitStreamed(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	const n, max = 1 << 20, 1024
	policy := func(action string) string {
		return vcPolicy(`unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="`+action+`"`, vcJSON)
	}
	be := newTBackend(t, nil)
	// Inbound alone (no forward-request): what validate-content read.
	inboundOnly := NewPipeline(tDoc(t, ScopeAPI, policy("detect"), &LoadOptions{Spec: spec}))
	for _, cl := range []int64{-1, n} {
		src := &countingBody{n: n}
		x, loaded := tStreamExec(t, nil, src, cl)
		inboundOnly.Serve(httptest.NewRecorder(), x)
		want := int64(max + 1)
		if cl >= 0 {
			want = 0 // Content-Length says it all
		}
		if src.read != want || *loaded {
			t.Fatalf("Content-Length %d: read %d bytes (want %d), loader ran: %v", cl, src.read, want, *loaded)
		}
		if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.Contains(got[0], "SizeLimit") {
			t.Fatalf("issues %v", got)
		}
	}
	// With forward-request: detect sends the whole body.
	p := tValPipe(t, &LoadOptions{Spec: spec}, policy("detect"))
	for _, cl := range []int64{-1, n} {
		x, loaded := tStreamExec(t, be, &countingBody{n: n}, cl)
		w := httptest.NewRecorder()
		p.Serve(w, x)
		tExpect(t, w, 200, "backend body")
		if got := be.last(t).Body; len(got) != n || strings.Trim(got, "x") != "" || *loaded {
			t.Fatalf("Content-Length %d: backend received %d bytes, loader ran: %v", cl, len(got), *loaded)
		}
	}
	// Prevent: 400, and nothing reaches the backend.
	before := be.count()
	x, _ := tStreamExec(t, be, &countingBody{n: n}, -1)
	w := httptest.NewRecorder()
	tValPipe(t, &LoadOptions{Spec: spec}, policy("prevent")).Serve(w, x)
	tErrorBody(t, w, 400, "Request's body is more than 1024 bytes long and it exceeds the limit of 1024 bytes.")
	if be.count() != before {
		t.Fatal("the backend was called")
	}
	// A chunked body within max-size is read once and validated; the
	// backend gets it.
	body := `{"name":"a","price":1}`
	x, loaded := tStreamExec(t, be, strings.NewReader(body), -1)
	w = httptest.NewRecorder()
	p.Serve(w, x)
	tExpect(t, w, 200, "backend body")
	if be.last(t).Body != body || *loaded {
		t.Fatalf("backend %q, loader ran %v", be.last(t).Body, *loaded)
	}
	// A later policy reading the oversized body gets all of it.
	reader := tValPipe(t, &LoadOptions{Spec: spec}, `<policies><inbound><base/><validate-content unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="ignore"/>
		<set-body>@(context.Request.Body.As&lt;string&gt;().Length.ToString())</set-body></inbound></policies>`)
	x, _ = tStreamExec(t, be, &countingBody{n: 5000}, -1)
	reader.Serve(httptest.NewRecorder(), x)
	if got := be.last(t).Body; got != "5000" {
		t.Fatalf("a later policy read %q bytes", got)
	}
}

// A streamed backend response (buffer-response="false") is read up to
// max-size+1 bytes; with detect the caller still receives all of it.
func TestValidateContentStreamedResponse(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	long := bytes.Repeat([]byte("y"), 100_000)
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("short") != "" {
			_, _ = io.WriteString(w, `{"id":"x","name":"a"}`)
			return
		}
		_, _ = w.Write(long)
	})
	doc := func(action string) string {
		return `<policies><inbound><base/></inbound><backend><forward-request buffer-response="false"/></backend><outbound><base/>
		<validate-content unspecified-content-type-action="prevent" max-size="1000" size-exceeded-action="` + action + `" errors-variable-name="errs">` +
			`<content type="application/json" validate-as="json" action="prevent"/></validate-content></outbound></policies>`
	}
	id := map[string]string{"id": "1"}
	w, x := tOp(t, tValPipe(t, &LoadOptions{Spec: spec}, doc("detect")), be, tGet("/items/1"), "get-item", vpGetItem, id)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), long) {
		t.Fatalf("%d, %d bytes", w.Code, w.Body.Len())
	}
	if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.HasPrefix(got[0], "ResponseBody/SizeLimit//detect: Response's body is more than 1000 bytes long") {
		t.Fatalf("issues %v", got)
	}
	w, _ = tOp(t, tValPipe(t, &LoadOptions{Spec: spec}, doc("prevent")), be, tGet("/items/1"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 502, "internal error")
	w, _ = tOp(t, tValPipe(t, &LoadOptions{Spec: spec}, doc("prevent")), be, tGet("/items/1?short=1"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 502, "internal error") // id is not an integer
}

func TestValidateContentLoadErrors(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	opts := &LoadOptions{Spec: spec, Schemas: map[string]*NamedSchema{
		"address": tNamedSchema(t, "address.schema.json"), "order": tNamedSchema(t, "order.xsd")}}
	attrs := `unspecified-content-type-action="prevent" max-size="1024" size-exceeded-action="prevent"`
	for _, c := range []struct {
		src  string
		opts *LoadOptions
		want string
	}{
		{vcPolicy(`unspecified-content-type-action="prevent" max-size="4194305" size-exceeded-action="prevent"`, ""), opts,
			`api.xml:1:97: validate-content: max-size must be a number of bytes from 0 to 4194304 (4 MiB, APIM's limit), not "4194305"`},
		{vcPolicy(`unspecified-content-type-action="prevent" max-size="-1" size-exceeded-action="prevent"`, ""), opts, "max-size must be a number of bytes"},
		{vcPolicy(`unspecified-content-type-action="prevent" size-exceeded-action="prevent"`, ""), opts, `api.xml:1:27: validate-content: attribute "max-size" is required`},
		{vcPolicy(attrs, vcJSON), nil, "api.xml:1:27: validate-content needs the API's OpenAPI specification"},
		{vcPolicy(attrs, `<content type="application/json" validate-as="yaml" action="prevent"/>`), opts, `validate-as must be one of json, xml, soap, not "yaml"`},
		{vcPolicy(attrs, `<content type="application/json" validate-as="json"/>`), opts, `content: attribute "action" is required`},
		{vcPolicy(attrs, `<content validate-as="json" schema-id="nope" action="prevent"/>`), opts, `schema-id "nope" is not a schema of gateway.schemas`},
		{vcPolicy(attrs, `<content validate-as="xml" schema-id="order" action="prevent"/>`), opts, `schema-id "order": validating against XML schemas (XSD) is not supported`},
		{vcPolicy(attrs, `<content validate-as="json" schema-ref="#/definitions/zip" action="prevent"/>`), opts, "schema-ref needs schema-id"},
		{vcPolicy(attrs, `<content validate-as="json" schema-id="address" schema-ref="#/definitions/nope" action="prevent"/>`), opts, `schema "address"#/definitions/nope`},
		{vcPolicy(attrs, `<content-type-map><type to="application/json"/></content-type-map>`), opts, "<type> needs either from or when"},
		{vcPolicy(attrs, `<content type="application/json" validate-as="json" action="prevent" allow-additional-properties="maybe"/>`), opts,
			`allow-additional-properties must be true or false, not "maybe"`},
		{`<policies><backend><validate-content ` + attrs + `/></backend></policies>`, opts, "policy validate-content is not allowed in section backend"},
	} {
		if got := tValLoadErr(t, c.opts, c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.src, got, c.want)
		}
	}
	// With unspecified-content-type-action="ignore" and only named
	// schemas, no specification is needed.
	tValPipe(t, &LoadOptions{Schemas: opts.Schemas}, vcPolicy(`unspecified-content-type-action="ignore" max-size="10" size-exceeded-action="detect"`,
		`<content type="application/json" validate-as="json" schema-id="address" action="prevent"/>`))
	// policy check (Lenient): no specification, unknown schema ids.
	if _, err := ParseDocument("api.xml", []byte(vcPolicy(attrs, `<content validate-as="json" schema-id="elsewhere" action="prevent"/>`)), ScopeAPI, &LoadOptions{Lenient: true}); err != nil {
		t.Fatal(err)
	}
}
