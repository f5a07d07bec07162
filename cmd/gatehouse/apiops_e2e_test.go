package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestAPIOpsSample serves the APIOps sample as it is (testdata/apiops-sample)
// against a local backend, the service URLs, backends and a named value
// overridden by a configuration file as the APIOps publisher does: an
// operation of each kind answers through the folder's operation, product or
// global policy (with the fragment and named values) — whichever APIM's
// <base/> rules select;
// revision 2 at ;rev=2; the Segment-versioned API; OpenAPI YAML and JSON;
// an API-scoped subscription; the global ip-filter; what is not served is
// logged by name. `gatehouse import apiops` writes the same as YAML that validates.
func TestAPIOpsSample(t *testing.T) {
	type seen struct {
		path, query string
		header      http.Header
	}
	var mu sync.Mutex
	var got []seen
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.URL.Path, r.URL.RawQuery, r.Header.Clone()})
		mu.Unlock()
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer be.Close()
	last := func() seen {
		mu.Lock()
		defer mu.Unlock()
		return got[len(got)-1]
	}
	sample, err := filepath.Abs("../../testdata/apiops-sample")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "configuration.e2e.yaml", `apimServiceName: apim-e2e
namedValues:
  - name: environment-name
    properties: { displayName: environment-name, value: e2e }
  - name: intranet-proxy-url
    properties: { displayName: intranet-proxy-url, value: "`+be.URL+`/intranet" }
apis:
  - { name: basic-api, properties: { serviceUrl: "`+be.URL+`/basic" } }
  - { name: revisioned-api, properties: { serviceUrl: "`+be.URL+`/rev1" } }
  - { name: "revisioned-api;rev=2", properties: { serviceUrl: "`+be.URL+`/rev2" } }
  - { name: versioned-api-v1, properties: { serviceUrl: "`+be.URL+`/v1" } }
  - { name: versioned-api-v2, properties: { serviceUrl: "`+be.URL+`/v2" } }
backends:
  - { name: backend1, properties: { url: "`+be.URL+`/b1" } }
`)
	port := strconv.Itoa(testutil.FreePort(t))
	file := writeFile(t, dir, "gatehouse.yaml", `gateway:
  listen: 127.0.0.1:`+port+`
  trustedProxies: [127.0.0.1/32]
  apiops: { dir: "`+sample+`", configuration: configuration.e2e.yaml }
  products:
    # The folder has no subscription to product2: one from this file.
    - { name: e2e, apis: [versioned-api-v2], subscriptions: [{ name: e2e, primaryKey: env:E2E_KEY }] }
`)
	const key1, key2, key3 = "sub-one-0123456789abcdef", "sub-two-0123456789abcdef", "sub-e2e-0123456789abcdef"
	env := []string{"APIM_SUBSCRIPTION_SUBSCRIPTION1_PRIMARY_KEY=" + key1, "APIM_SUBSCRIPTION_SUBSCRIPTION2_PRIMARY_KEY=" + key2, "E2E_KEY=" + key3}
	srv := startServe(t, file, env, "gateway")
	base := "http://127.0.0.1:" + port
	call := func(method, path, key string, fromAllowed bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(`{"name": "x"}`))
		if key != "" {
			req.Header.Set("Ocp-Apim-Subscription-Key", key)
		}
		if fromAllowed {
			req.Header.Set("X-Forwarded-For", "10.0.0.1") // the global ip-filter's address
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	// The sample's operation policies have no <base/>: as in APIM, an
	// operation with one runs it alone (not the API's, product's or global
	// policy).
	resp := call("GET", "/basic-api/items", key1, false)
	if s := last(); resp.StatusCode != 200 || s.path != "/basic/items" || s.query != "source=get-items" || s.header.Get("X-Api") != "" {
		t.Fatalf("GET basic-api/items (OpenAPI YAML): %d, backend %+v", resp.StatusCode, s)
	}
	if resp := call("POST", "/basic-api/items", key1, false); resp.StatusCode != 200 || last().header.Get("X-Operation") != "create-item" {
		t.Fatalf("POST basic-api/items: %d %v", resp.StatusCode, last().header)
	}
	// The API-scoped subscription (subscription2, scope /apis/basic-api).
	if resp := call("GET", "/basic-api/items", key2, false); resp.StatusCode != 200 {
		t.Fatalf("API-scoped subscription: %d", resp.StatusCode)
	}
	if resp := call("GET", "/versioned-api/v1/version", key2, true); resp.StatusCode != 401 {
		t.Fatalf("the API-scoped key on another API: %d", resp.StatusCode)
	}
	// Revisions: the current one at the API's path, revision 2 at ;rev=2.
	if resp := call("GET", "/revisioned-api/revision", key1, false); resp.StatusCode != 200 || last().path != "/rev1/revision" || last().header.Get("X-Revision") != "1" {
		t.Fatalf("revision 1: %d %+v", resp.StatusCode, last())
	}
	if resp := call("GET", "/revisioned-api;rev=2/revision", key1, false); resp.StatusCode != 200 || last().path != "/rev2/revision" || last().header.Get("X-Revision") != "2" {
		t.Fatalf("revision 2: %d %+v", resp.StatusCode, last())
	}
	// Segment versioning. versioned-api-v1 has no API or operation policy:
	// product1's runs (without <base/>, so not the global one).
	resp = call("GET", "/versioned-api/v1/version", key1, false)
	if s := last(); resp.StatusCode != 200 || s.path != "/v1/version" || s.header.Get("X-Product") != "product1" || s.header.Get("X-Sample-Environment") != "" {
		t.Fatalf("v1: %d, backend %+v", resp.StatusCode, s)
	}
	// versioned-api-v2 (OpenAPI JSON), in this file's product without a
	// policy: the folder's global policy runs, with its fragment and the
	// named values (overridden by the configuration file).
	resp = call("GET", "/versioned-api/v2/version", key3, true)
	if s := last(); resp.StatusCode != 200 || s.path != "/v2/version" || s.header.Get("X-Sample-Environment") != "e2e" ||
		s.header.Get("X-Correlation-Id") == "" || s.header.Get("X-Allowed-Client") != "10.0.0.1" || resp.Header.Get("X-Response-Source") != "e2e" {
		t.Fatalf("v2: %d, backend %+v, response %v", resp.StatusCode, s, resp.Header)
	}
	// The global ip-filter; an operation the specification lacks; what is
	// not served.
	if resp := call("GET", "/versioned-api/v2/version", key3, false); resp.StatusCode != 403 {
		t.Fatalf("from an address the global ip-filter refuses: %d", resp.StatusCode)
	}
	if resp := call("DELETE", "/basic-api/items", key1, true); resp.StatusCode != 404 {
		t.Fatalf("an operation not in the specification: %d", resp.StatusCode)
	}
	if resp := call("GET", "/graphql-api/", "", true); resp.StatusCode != 404 {
		t.Fatalf("the GraphQL API: %d", resp.StatusCode)
	}
	logs := srv.logs.String()
	for _, want := range []string{`"item":"apis/graphql-api (a graphql API)"`, `"item":"apis/soap-api (a soap API)"`, `"item":"loggers/azuremonitor"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}

	// gatehouse import apiops writes the same configuration.
	out := filepath.Join(dir, "imported.yaml")
	if o, e, code := gatehouse(t, env, "import", "apiops", sample, "--configuration", filepath.Join(dir, "configuration.e2e.yaml"), "--out", out); code != 0 ||
		!strings.Contains(o, "5 APIs") || !strings.Contains(e, "not served: apis/graphql-api") {
		t.Fatalf("import: %d\n%s\n%s", code, o, e)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var imported struct {
		Gateway struct {
			Apis     []struct{ Name string } `yaml:"apis"`
			Products []struct {
				Subscriptions []struct {
					PrimaryKey string `yaml:"primaryKey"`
				} `yaml:"subscriptions"`
			} `yaml:"products"`
		} `yaml:"gateway"`
	}
	if err := yaml.Unmarshal(b, &imported); err != nil || len(imported.Gateway.Apis) != 5 || strings.Contains(string(b), key1) ||
		!strings.Contains(string(b), "env:APIM_SUBSCRIPTION_SUBSCRIPTION1_PRIMARY_KEY") {
		t.Fatalf("imported YAML (%v):\n%s", err, b)
	}
	if o, e, code := gatehouse(t, env, "validate", "--config", out); code != 0 {
		t.Fatalf("the imported config does not validate: %s%s", o, e)
	}
	if _, e, code := gatehouse(t, env, "import", "apiops", sample, "--out", out); code != 1 || !strings.Contains(e, "exists") {
		t.Fatalf("import over an existing file: %d %s", code, e)
	}
}
