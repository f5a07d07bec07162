package apim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What ParseOpenAPI keeps of OpenAPI 3 and 2 documents: parameters
// (path-level merged, $refs resolved), request bodies and responses by
// status with their headers and content types.
func TestParseOpenAPIOperations(t *testing.T) {
	s := tSpec(t, "items-v3.yaml")
	get := s.byName["get-item"]
	if get == nil || s.byRoute["GET /items/{id}"] != get {
		t.Fatal("get-item not found by name and route")
	}
	var got []string
	for _, p := range get.Parameters {
		got = append(got, p.In+":"+p.Name+":"+p.typ+"/"+p.itemsType)
	}
	if strings.Join(got, " ") != "path:id:integer/ query:limit:integer/ query:tags:array/string query:flag:boolean/ header:X-Mode:string/" {
		t.Fatalf("parameters %v", got)
	}
	r := get.response(200)
	if r == nil || r.Headers["x-rate"] == nil || !r.Headers["x-rate"].Required || r.Body.types()[0] != "application/json" {
		t.Fatalf("response 200 %+v", r)
	}
	if get.response(404) != get.ResponseDefs["4XX"] || get.response(500) != nil {
		t.Fatal("status classes")
	}
	post := s.byName["create-item"]
	if post.RequestBody == nil || !post.RequestBody.Required || strings.Join(post.RequestBody.types(), ",") != "application/json,application/xml,text/xml" {
		t.Fatalf("request body %+v", post.RequestBody)
	}
	if ptr, ok := post.RequestBody.schemaFor("application/json"); !ok || ptr != "/components/requestBodies/NewItem/content/application~1json/schema" {
		t.Fatalf("schema pointer %q", ptr)
	}
	if _, ok := post.RequestBody.schemaFor("text/plain"); ok {
		t.Fatal("text/plain documented")
	}

	v2 := tSpec(t, "pets-v2.yaml")
	list := v2.byName["list-pets"]
	if len(list.Parameters) != 2 || list.Parameters[0].Name != "limit" || list.Parameters[1].style != "csv" {
		t.Fatalf("v2 parameters %+v", list.Parameters)
	}
	if ptr, ok := v2.byName["add-pet"].RequestBody.schemaFor("application/json"); !ok || ptr != "/paths/~1pets/post/parameters/0/schema" {
		t.Fatalf("v2 body %q", ptr)
	}
	if list.response(200).Headers["x-total"].typ != "integer" {
		t.Fatal("v2 response header")
	}
}

func TestParseOpenAPIErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{``, "the document is empty"},
		{`- a`, "not an OpenAPI specification (the document is not a mapping)"},
		{`info: {}`, "no openapi or swagger version"},
		{`openapi: 4.0.0`, `openapi version "4.0.0" is not supported`},
		{`swagger: "1.2"`, `swagger version "1.2" is not supported`},
		{"openapi: 3.0.0\npaths: [", "yaml: line 2"},
		{"openapi: 3.0.0\npaths:\n  /a: { $ref: '#/nowhere' }", `paths /a: $ref "#/nowhere": "/nowhere" does not exist`},
		// A billion laughs: aliases expanded beyond the bound.
		{"openapi: 3.0.0\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", "too large once its YAML aliases are expanded"},
	} {
		_, err := ParseOpenAPI([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
	if _, err := ParseOpenAPI(make([]byte, maxSpecBytes+1)); err == nil || !strings.Contains(err.Error(), "more than the 33554432 bytes accepted") {
		t.Errorf("size: %v", err)
	}
}

// $ref cycles end with an error, never a hang: between parameters (a
// problem of the operation), and between schemas (compiled as JSON Schema
// allows: a recursive schema is fine).
func TestParseOpenAPIRefCycles(t *testing.T) {
	s, err := ParseOpenAPI([]byte(`openapi: 3.0.0
info: { title: x, version: "1" }
paths:
  /a:
    get:
      parameters: [ { $ref: '#/components/parameters/A' } ]
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { $ref: '#/components/schemas/Node' } } }
components:
  parameters:
    A: { $ref: '#/components/parameters/B' }
    B: { $ref: '#/components/parameters/A' }
  schemas:
    Node: { type: object, properties: { next: { $ref: '#/components/schemas/Node' } } }
    Loop: { $ref: '#/components/schemas/Loop' }
`))
	if err != nil {
		t.Fatal(err)
	}
	op := s.byRoute["GET /a"]
	if len(op.Problems) != 1 || !strings.Contains(op.Problems[0], "more than 32 references in a row (a cycle?)") {
		t.Fatalf("problems %v", op.Problems)
	}
	ptr, _ := op.response(200).Body.schemaFor("application/json")
	sch, err := s.schemas.compile(ptr, schemaMode{response: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(map[string]any{"next": map[string]any{"next": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	// A schema that is only a $ref to itself: validating ends with an
	// error (the validator detects the loop) instead of recursing forever.
	loop, err := s.schemas.compile("/components/schemas/Loop", schemaMode{})
	if err == nil {
		err = loop.Validate(map[string]any{})
	}
	if err == nil {
		t.Fatal("a schema that is only a $ref to itself validated")
	}
}

// $refs outside the document are refused (no file or network access).
func TestSchemaExternalRefRefused(t *testing.T) {
	_, err := ParseSchema([]byte(`{"$ref": "file:///etc/passwd"}`))
	if err == nil || !strings.Contains(err.Error(), "only references inside the document are supported") {
		t.Fatalf("%v", err)
	}
	_, err = ParseSchema([]byte(`{"properties": {"a": {"$ref": "https://example.com/s.json"}}}`))
	if err == nil || !strings.Contains(err.Error(), "only references inside the document are supported") {
		t.Fatalf("%v", err)
	}
}

// FuzzParseOpenAPI: no input makes ParseOpenAPI, or compiling the schemas
// it points to, panic or hang.
func FuzzParseOpenAPI(f *testing.F) {
	for _, name := range []string{"items-v3.yaml", "pets-v2.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "validation", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	specs, _ := filepath.Glob(filepath.Join("..", "testdata", "apiops-sample", "apis", "*", "specification.*"))
	for _, p := range specs {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/a":{"get":{"parameters":[{"name":"q","in":"query","schema":{"type":["integer","null"]}}],"responses":{"200":{"description":"x"}}}}}}`))
	f.Add([]byte("swagger: '2.0'\npaths:\n  /a:\n    post:\n      parameters: [{in: body, name: b, schema: {$ref: '#/definitions/X'}}]\ndefinitions: {X: {$ref: '#/definitions/X'}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseOpenAPI(data)
		if err != nil {
			return
		}
		for _, op := range s.operations() {
			for _, p := range op.Parameters {
				if p.schemaPtr != "" {
					if sch, err := s.schemas.compile(p.schemaPtr, schemaMode{}); err == nil {
						_ = sch.Validate("1")
					}
				}
			}
			for _, ptr := range op.RequestBody.contentPointers() {
				_, _ = s.schemas.compile(ptr, schemaMode{addl: addlForbid})
			}
		}
	})
}
