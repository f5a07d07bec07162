package apim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// Helpers of the validation policies' tests: specifications and schemas
// from testdata/validation, and runs of a real pipeline (forward-request
// to a real httptest backend) for a given operation of the specification.

func tSpec(t *testing.T, file string) *OpenAPISpec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "validation", file))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseOpenAPI(data)
	if err != nil {
		t.Fatalf("ParseOpenAPI(%s): %v", file, err)
	}
	return s
}

func tNamedSchema(t *testing.T, file string) *NamedSchema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "validation", file))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSchema(data)
	if err != nil {
		t.Fatalf("ParseSchema(%s): %v", file, err)
	}
	return s
}

// tValPipe is the global forward-request document and an API document
// compiled with opts (the API's specification, named schemas).
func tValPipe(t *testing.T, opts *LoadOptions, api string) *Pipeline {
	t.Helper()
	d, err := ParseDocument("api.xml", []byte(api), ScopeAPI, opts)
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	return NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), d)
}

// tValLoadErr is the load error of an API document compiled with opts.
func tValLoadErr(t *testing.T, opts *LoadOptions, api string) string {
	t.Helper()
	_, err := ParseDocument("api.xml", []byte(api), ScopeAPI, opts)
	if err == nil {
		t.Fatalf("no load error for %s", api)
	}
	return err.Error()
}

// tOp runs r through p as the operation named op (template tmpl) with
// the path parameters params.
func tOp(t *testing.T, p *Pipeline, be *tBackend, r *http.Request, op, tmpl string, params map[string]string) (*httptest.ResponseRecorder, *Exec) {
	t.Helper()
	x := tExec(t, be, r, nil)
	x.Ctx.Operation = &expr.Operation{Id: op, Name: op, Method: r.Method, UrlTemplate: tmpl}
	if params != nil {
		x.Ctx.Request.MatchedParameters = params
	}
	w := httptest.NewRecorder()
	p.Serve(w, x)
	return w, x
}

// tErrorBody checks APIM's {"statusCode":N,"message":"..."} answer.
func tErrorBody(t *testing.T, w *httptest.ResponseRecorder, status int, msgPart string) {
	t.Helper()
	var e struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if w.Code != status || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.StatusCode != status || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("got %d %s, want %d with a message containing %q", w.Code, w.Body.String(), status, msgPart)
	}
}

// tIssues are the records of errors-variable-name: "Type/ValidationRule/Name/Action: Details".
func tIssues(t *testing.T, x *Exec, name string) []string {
	t.Helper()
	list, _ := x.Ctx.Variables[name].([]any)
	var out []string
	for _, e := range list {
		o, ok := e.(*expr.JObject)
		if !ok {
			t.Fatalf("record %T, want a JObject", e)
		}
		get := func(k string) string {
			v, _ := o.Get(k).(*expr.JValue)
			if v == nil {
				return ""
			}
			s, _ := v.Value.(string)
			return s
		}
		out = append(out, get("Type")+"/"+get("ValidationRule")+"/"+get("Name")+"/"+get("Action")+": "+get("Details"))
	}
	return out
}
