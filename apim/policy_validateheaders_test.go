package apim

import (
	"net/http"
	"strings"
	"testing"
)

func vhPolicy(attrs, children string) string {
	return `<policies><inbound><base/></inbound><outbound><base/><validate-headers ` + attrs + ` errors-variable-name="errs">` + children +
		`</validate-headers></outbound></policies>`
}

// headerBackend answers 200 with the given headers (name, value pairs).
func headerBackend(t *testing.T, status int, headers ...string) *tBackend {
	return newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Add(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"id":1,"name":"a"}`))
	})
}

// The response's headers against those documented for its status:
// prevent answers 502 with APIM's internal-error message (the detail is
// in context.LastError and the errors variable).
func TestValidateHeadersPrevent(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	p := tValPipe(t, &LoadOptions{Spec: spec}, vhPolicy(`specified-header-action="prevent" unspecified-header-action="prevent"`, ""))
	id := map[string]string{"id": "1"}
	for _, c := range []struct {
		name    string
		headers []string
		detail  string
	}{
		{"ok", []string{"X-Rate", "5", "X-Tags", "a, b"}, ""},
		{"not an integer", []string{"X-Rate", "five"}, `Value of the header X-Rate cannot be parsed according to the definition. "five" is not a number.`},
		{"below minimum", []string{"X-Rate", "-1"}, "Value of the header X-Rate does not conform to the definition. minimum: got -1, want 0"},
		// Two lines reach policies as one value (the package folds
		// repeated headers, copyHeaders, as APIM sends them): not an integer.
		{"twice", []string{"X-Rate", "1", "X-Rate", "2"}, `Value of the header X-Rate cannot be parsed according to the definition. "1, 2" is not a number.`},
		{"required missing", nil, "Response does not contain the required header X-Rate."},
		{"unspecified", []string{"X-Rate", "1", "X-Powered-By", "php"}, "Unspecified header x-powered-by is not allowed."},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := headerBackend(t, 200, c.headers...)
			w, x := tOp(t, p, be, tGet("/items/1"), "get-item", vpGetItem, id)
			if c.detail == "" {
				if w.Code != 200 || len(tIssues(t, x, "errs")) != 0 {
					t.Fatalf("%d %s %v", w.Code, w.Body, tIssues(t, x, "errs"))
				}
				return
			}
			tErrorBody(t, w, 502, "The request could not be processed due to an internal error. Contact the API owner.")
			if le := x.Ctx.LastError; le == nil || le.Source != "validate-headers" || le.Reason != "Response not allowed" || le.Message != c.detail {
				t.Fatalf("LastError %+v, want message %q", le, c.detail)
			}
			if got := tIssues(t, x, "errs"); len(got) != 1 || !strings.HasPrefix(got[0], "ResponseHeader/") || !strings.HasSuffix(got[0], c.detail) {
				t.Fatalf("issues %v", got)
			}
		})
	}
}

// <header name action> overrides; detect lets the response through; a
// status the operation does not document (here 500) checks nothing, and
// 404 uses the 4XX response (which documents no header).
func TestValidateHeadersOverridesAndStatuses(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	id := map[string]string{"id": "1"}
	p := tValPipe(t, &LoadOptions{Spec: spec}, vhPolicy(`specified-header-action="detect" unspecified-header-action="prevent"`,
		`<header name="Server" action="ignore"/><header name="x-rate" action="prevent"/>`))
	w, x := tOp(t, p, headerBackend(t, 200, "X-Rate", "1", "Server", "nginx", "X-Tags", "a"), tGet("/items/1"), "get-item", vpGetItem, id)
	if w.Code != 200 || len(tIssues(t, x, "errs")) != 0 {
		t.Fatalf("%d %v", w.Code, tIssues(t, x, "errs"))
	}
	w, _ = tOp(t, p, headerBackend(t, 200, "X-Rate", "x"), tGet("/items/1"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 502, "internal error")
	w, _ = tOp(t, p, headerBackend(t, 500, "X-Anything", "1"), tGet("/items/1"), "get-item", vpGetItem, id)
	if w.Code != 500 {
		t.Fatalf("undocumented status: %d", w.Code)
	}
	w, _ = tOp(t, p, headerBackend(t, 404, "X-Anything", "1"), tGet("/items/1"), "get-item", vpGetItem, id)
	tErrorBody(t, w, 502, "internal error")

	d := tValPipe(t, &LoadOptions{Spec: spec}, vhPolicy(`specified-header-action="detect" unspecified-header-action="detect"`, ""))
	w, x = tOp(t, d, headerBackend(t, 200, "X-Rate", "x", "X-Extra", "1"), tGet("/items/1"), "get-item", vpGetItem, id)
	if got := tIssues(t, x, "errs"); w.Code != 200 || len(got) != 2 {
		t.Fatalf("%d %v", w.Code, got)
	}
}

func TestValidateHeadersLoadErrors(t *testing.T) {
	spec := tSpec(t, "items-v3.yaml")
	opts := &LoadOptions{Spec: spec}
	for _, c := range []struct {
		src  string
		opts *LoadOptions
		want string
	}{
		{vhPolicy(`specified-header-action="prevent" unspecified-header-action="prevent"`, ""), nil,
			"api.xml:1:54: validate-headers needs the API's OpenAPI specification"},
		{vhPolicy(`specified-header-action="prevent"`, ""), opts, `validate-headers: attribute "unspecified-header-action" is required`},
		{vhPolicy(`specified-header-action="prevent" unspecified-header-action="stop"`, ""), opts,
			`api.xml:1:133: unspecified-header-action must be one of ignore, prevent, detect, not "stop"`},
		{vhPolicy(`specified-header-action="prevent" unspecified-header-action="prevent"`, `<parameter name="a" action="ignore"/>`), opts,
			"unknown element <parameter> inside <validate-headers> (allowed: header)"},
		{`<policies><inbound><validate-headers specified-header-action="prevent" unspecified-header-action="prevent"/></inbound></policies>`, opts,
			"policy validate-headers is not allowed in section inbound"},
	} {
		if got := tValLoadErr(t, c.opts, c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}
