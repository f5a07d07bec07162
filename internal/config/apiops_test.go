package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The APIOps sample read as configuration: APIs from apiInformation.json
// and their OpenAPI specifications (YAML and JSON), operation policies,
// revisions, the Segment version set, products, subscriptions (keys from
// the environment), named values, backends, fragments and the global
// policy; the configuration file's overrides; and everything that is not
// served, by name.
func TestAPIOpsSample(t *testing.T) {
	sample, err := filepath.Abs("../../testdata/apiops-sample")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	over := filepath.Join(dir, "configuration.test.yaml")
	os.WriteFile(over, []byte(`apimServiceName: apim-test
namedValues:
  - name: environment-name
    properties: { displayName: environment-name, value: test }
apis:
  - name: basic-api
    properties: { serviceUrl: "http://127.0.0.1:9/basic" }
backends:
  - name: backend1
    properties: { url: "http://127.0.0.1:9/b1" }
`), 0o600)
	file := filepath.Join(dir, "gatehouse.yaml")
	src := "gateway:\n  listen: 127.0.0.1:0\n  apiops: { dir: " + sample + ", configuration: configuration.test.yaml }\n"
	env := map[string]string{"APIM_SUBSCRIPTION_SUBSCRIPTION1_PRIMARY_KEY": "key-one-0123456789", "APIM_SUBSCRIPTION_SUBSCRIPTION2_PRIMARY_KEY": "key-two-0123456789"}
	cfg, err := Parse(file, []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Gateway
	apis := map[string]API{}
	for _, a := range g.Apis {
		apis[a.Name] = a
	}
	var names []string
	for n := range apis {
		names = append(names, n)
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "basic-api,revisioned-api,revisioned-api;rev=2,versioned-api-v1,versioned-api-v2" {
		t.Fatalf("APIs served: %v", names)
	}
	basic := apis["basic-api"]
	if basic.ServiceURL != "http://127.0.0.1:9/basic" || basic.Path != "basic-api" || !basic.Policy.IsSet() || len(basic.Operations) != 2 {
		t.Fatalf("basic-api: %+v", basic)
	}
	for _, op := range basic.Operations {
		if (op.Name == "get-items" && op.Method != "GET") || (op.Name == "create-item" && op.Method != "POST") || op.URLTemplate != "/items" || !op.Policy.IsSet() {
			t.Errorf("basic-api operation %+v", op)
		}
	}
	if p := apis["revisioned-api;rev=2"].Path; p != "revisioned-api;rev=2" {
		t.Errorf("revision 2 path %q", p)
	}
	if p := apis["revisioned-api"].Path; p != "revisioned-api" {
		t.Errorf("current revision path %q", p)
	}
	if v2 := apis["versioned-api-v2"]; v2.Path != "versioned-api/v2" || len(v2.Operations) != 1 || v2.Operations[0].Name != "get-version-v2" {
		t.Errorf("versioned-api-v2 (OpenAPI JSON): %+v", v2)
	}
	if g.NamedValues["environment-name"].Value != "test" || g.NamedValues["allowed-ip-address"].Value != "10.0.0.1" {
		t.Errorf("named values: %v", g.NamedValues)
	}
	if g.Backends["backend1"].URL != "http://127.0.0.1:9/b1" || g.Backends["backend2"].URL != "https://postman-echo.com" {
		t.Errorf("backends: %v", g.Backends)
	}
	if !g.Policy.IsSet() || !g.Fragments["policyFragment1"].IsSet() || !g.Fragments["policyFragment2"].IsSet() {
		t.Errorf("global policy / fragments: %v %v", g.Policy, g.Fragments)
	}
	prods := map[string]Product{}
	for _, p := range g.Products {
		prods[p.Name] = p
	}
	if p := prods["product1"]; !slices.Equal(p.Apis, []string{"basic-api", "revisioned-api", "revisioned-api;rev=2", "versioned-api-v1"}) || !p.Policy.IsSet() ||
		len(p.Subscriptions) != 1 || p.Subscriptions[0].PrimaryKey.Value != "key-one-0123456789" {
		t.Errorf("product1: %+v", p)
	}
	if p := prods["apis/basic-api"]; !slices.Equal(p.Apis, []string{"basic-api"}) || len(p.Subscriptions) != 1 {
		t.Errorf("the API-scoped subscription: %+v", p)
	}
	for _, want := range []string{"apis/graphql-api (a graphql API)", "apis/soap-api (a soap API)", "apis/wadl-api (a wadl specification)",
		"apis/basic-api/diagnostics/azuremonitor", "loggers/azuremonitor", "diagnostics/azuremonitor", "tags/tag1"} {
		if !slices.Contains(g.NotServed, want) {
			t.Errorf("not served lacks %q: %v", want, g.NotServed)
		}
	}
}

// Mistakes in a folder are errors at the file.
func TestAPIOpsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	write("apis/a/apiInformation.json", `{"properties": {"path": "a", "serviceUrl": "http://127.0.0.1:9"}}`)
	write("apis/a/specification.yaml", "openapi: 3.0.1\npaths:\n  /x:\n    get: { operationId: get-x }\n")
	write("apis/a/operations/ghost/policy.xml", "<policies/>")
	write("named values/secret-one/namedValueInformation.json", `{"properties": {"displayName": "secret-one", "secret": true}}`)
	write("apis/b/apiInformation.json", `{"properties": {`)
	src := "gateway:\n  listen: 127.0.0.1:0\n  apiops: " + dir + "\n"
	_, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(src), func(string) (string, bool) { return "", false })
	for _, want := range []string{"operations/ghost/policy.xml:1:1: operation ghost of API a is not in its specification",
		"namedValueInformation.json:1:1: named value secret-one has no value here", "APIM_NAMED_VALUE_SECRET_ONE",
		"apis/b/apiInformation.json:1:1: not valid JSON"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	_, err = Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte("gateway:\n  listen: 127.0.0.1:0\n  apiops: /no/such/folder\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `:3:11: gateway.apiops: "/no/such/folder" is not a folder`) {
		t.Errorf("missing folder: %v", err)
	}
}

// Backend pools and circuit breakers as APIM's backend resources define
// them (ISO 8601 durations, status code ranges).
func TestAPIOpsBackendPool(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	write("backends/one/backendInformation.json", `{"properties": {"url": "https://one.example", "protocol": "http",
	  "circuitBreaker": {"rules": [{"name": "r", "failureCondition": {"count": 3, "interval": "PT1M30S",
	  "statusCodeRanges": [{"min": 500, "max": 599}], "errorReasons": ["Server errors"]}, "tripDuration": "PT1H", "acceptRetryAfter": true}]}}}`)
	write("backends/two/backendInformation.json", `{"properties": {"url": "https://two.example"}}`)
	write("backends/both/backendInformation.json", `{"properties": {"type": "Pool", "pool": {"services": [
	  {"id": "/backends/one", "priority": 1, "weight": 3}, {"id": "/backends/two", "priority": 2}]}}}`)
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte("gateway:\n  listen: 127.0.0.1:0\n  apiops: "+dir+"\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Gateway.Backends
	cb := b["one"].CircuitBreaker
	if cb == nil || cb.Failures != 3 || cb.Interval.D != 90*time.Second || cb.TripDuration.D != time.Hour || !cb.AcceptRetryAfter ||
		!slices.Equal(cb.StatusCodes, []string{"500-599"}) {
		t.Fatalf("circuit breaker: %+v", cb)
	}
	if p := b["both"].Pool; len(p) != 2 || p[0].ID != "one" || p[0].Weight != 3 || p[1].ID != "two" || p[1].Priority != 2 || b["both"].URL != "" {
		t.Fatalf("pool: %+v", b["both"])
	}
	if _, err := parseISODuration("P1DT2H"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"1m", "P", "PT", "PTXM"} {
		if _, err := parseISODuration(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// Header- and Query-versioned version sets: the APIs share their path and
// carry the version that selects them.
func TestAPIOpsHeaderVersioning(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	write("version sets/vs/versionSetInformation.json", `{"properties": {"displayName": "vs", "versioningScheme": "Header", "versionHeaderName": "Api-Version"}}`)
	for _, v := range []string{"", "v2"} {
		write("apis/orders"+v+"/apiInformation.json", `{"properties": {"path": "orders", "serviceUrl": "https://orders.example", "apiVersion": "`+v+`", "apiVersionSetId": "/apiVersionSets/vs"}}`)
	}
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte("gateway:\n  listen: 127.0.0.1:0\n  apiops: "+dir+"\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*APIVersion{}
	for _, a := range cfg.Gateway.Apis {
		if a.Path != "orders" {
			t.Errorf("%s: path %q", a.Name, a.Path)
		}
		got[a.Name] = a.Version
	}
	if v := got["orders"]; v == nil || v.Name != "" || v.Header != "Api-Version" {
		t.Errorf("the original: %+v", v)
	}
	if v := got["ordersv2"]; v == nil || v.Name != "v2" || v.Header != "Api-Version" {
		t.Errorf("v2: %+v", v)
	}
}
