package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const goodGateway = `gateway:
  listen: 127.0.0.1:8081
  redis: redis://127.0.0.1:6379/0
  namedValues:
    hello-function-key: env:HELLO_FUNCTION_KEY
    plain: just-a-value
  policy: policies/global.xml
  products:
    - name: unlimited
      apis: [hello]
      subscriptionRequired: true
      subscriptions: [{ name: spa, primaryKey: env:SPA_SUB_KEY }]
  apis:
    - name: hello
      path: hello
      serviceUrl: http://127.0.0.1:7071/api
      subscriptionRequired: false
      operations:
        - { name: get-hello, method: GET, urlTemplate: /hello }
`

func TestParseGateway(t *testing.T) {
	cfg, err := Parse("/etc/gh/gatehouse.yaml", []byte(goodGateway), env(map[string]string{
		"HELLO_FUNCTION_KEY": "fk-123", "SPA_SUB_KEY": "0123456789abcdef0123",
	}))
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Gateway
	if g.Listen != "127.0.0.1:8081" || g.Redis != "redis://127.0.0.1:6379/0" {
		t.Errorf("listen/redis = %q %q", g.Listen, g.Redis)
	}
	if nv := g.NamedValues["hello-function-key"]; nv.Value != "fk-123" || !nv.External {
		t.Errorf("env named value = %+v", nv)
	}
	if nv := g.NamedValues["plain"]; nv.Value != "just-a-value" || nv.External {
		t.Errorf("plain named value = %+v", nv)
	}
	if g.Policy.Abs != "/etc/gh/policies/global.xml" || g.Policy.Raw != "policies/global.xml" {
		t.Errorf("policy path = %+v", g.Policy)
	}
	if g.Policy.Pos.Line != 7 || g.Policy.Pos.Col != 11 {
		t.Errorf("policy pos = %v", g.Policy.Pos)
	}
	if sr := g.Apis[0].SubscriptionRequired; sr == nil || *sr {
		t.Errorf("api subscriptionRequired = %v", sr)
	}
	if g.Products[0].Subscriptions[0].PrimaryKey.Value != "0123456789abcdef0123" {
		t.Error("subscription key not resolved")
	}
	op := g.Apis[0].Operations[0]
	if op.Method != "GET" || op.URLTemplate != "/hello" || op.Pos.Line != 19 {
		t.Errorf("operation = %+v", op)
	}
}

func TestConnectionURLsFromEnv(t *testing.T) {
	src := "identity:\n  listen: 127.0.0.1:1\n  storage: env:DB_URL\ngateway:\n  listen: 127.0.0.1:2\n  redis: env:REDIS_URL\n"
	cfg, err := Parse("/x/c.yaml", []byte(src), env(map[string]string{
		"DB_URL": "postgres://gh:pw@db/gatehouse", "REDIS_URL": "redis://:pw@cache:6379/0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Identity.Storage != "postgres://gh:pw@db/gatehouse" || cfg.Gateway.Redis != "redis://:pw@cache:6379/0" {
		t.Errorf("storage %q, redis %q", cfg.Identity.Storage, cfg.Gateway.Redis)
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	s := Secret{Value: "hunter2", set: true}
	for _, out := range []string{s.String(), s.LogValue().String()} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %q", out)
		}
	}
}

func TestFileSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.txt"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "gateway:\n  listen: 127.0.0.1:1\n  namedValues:\n    k: file:key.txt\n"
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Gateway.NamedValues["k"]; v.Value != "from-file" || !v.External || string(v.Bytes) != "from-file\n" {
		t.Errorf("file secret = %+v", v)
	}
}

func TestErrorsNameFileLineCol(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "gateway:\n  listen: 127.0.0.1:1\n  lisen: x\n",
			[]string{`c.yaml:3:3: unknown key "lisen" in gateway`}},
		{"unknown section", "gatway:\n  listen: x\n",
			[]string{`c.yaml:1:1: unknown key "gatway" in the top level`}},
		{"missing env", "gateway:\n  listen: 127.0.0.1:1\n  namedValues:\n    k: env:NOPE_NOT_SET\n",
			[]string{"c.yaml:4:8: gateway.namedValues.k: environment variable NOPE_NOT_SET is not set"}},
		{"missing file", "gateway:\n  listen: 127.0.0.1:1\n  namedValues:\n    k: file:/nonexistent/x\n",
			[]string{"c.yaml:4:8: gateway.namedValues.k: cannot read /nonexistent/x: no such file or directory"}},
		{"wrong type", "gateway:\n  listen: 127.0.0.1:1\n  apis: hello\n",
			[]string{"c.yaml:3:9: gateway.apis: expected a list"}},
		{"bad bool", "gateway:\n  listen: 127.0.0.1:1\n  apis:\n    - {name: a, path: a, serviceUrl: 'http://x', subscriptionRequired: yes}\n",
			[]string{`c.yaml:4:72: gateway.apis[0].subscriptionRequired: expected true or false, got "yes"`}},
		{"duplicate key", "gateway:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n",
			[]string{`c.yaml:3:3: duplicate key "listen" in gateway`}},
		{"several at once", "gateway:\n  listen: 127.0.0.1:1\n  foo: 1\n  bar: 2\n",
			[]string{`c.yaml:3:3: unknown key "foo"`, `c.yaml:4:3: unknown key "bar"`}},
		{"invalid yaml", "gateway:\n  listen: [\n", []string{"c.yaml:2:1: invalid YAML"}},
		{"empty", "", []string{"c.yaml:1:1: the file is empty"}},
		{"no listen", "gateway:\n  policy: x.xml\n", []string{"c.yaml:2:3: gateway.listen is required"}},
		{"product references unknown api", "gateway:\n  listen: 127.0.0.1:1\n  products:\n    - name: p\n      apis: [nope]\n",
			[]string{`c.yaml:4:7: product "p" lists API "nope", which is not defined`}},
		{"bad redis url", "gateway:\n  listen: 127.0.0.1:1\n  redis: 127.0.0.1:6379\n",
			[]string{`gateway.redis is not a redis:// or rediss:// URL`}},
		{"redis url from env", "gateway:\n  listen: 127.0.0.1:1\n  redis: env:NO_SUCH_REDIS_URL\n",
			[]string{"c.yaml:3:10: gateway.redis: environment variable NO_SUCH_REDIS_URL is not set"}},
		{"short key", "gateway:\n  listen: 127.0.0.1:1\n  products:\n    - name: p\n      subscriptions: [{name: s, primaryKey: short}]\n",
			[]string{"c.yaml:5:45: subscription \"s\": keys must be at least 16 characters"}},
		{"bad service url", "gateway:\n  listen: 127.0.0.1:1\n  apis:\n    - {name: a, path: a, serviceUrl: 'localhost:7071'}\n",
			[]string{`serviceUrl "localhost:7071" is not an absolute http(s), h2c or h2 URL`}},
		{"bad method", "gateway:\n  listen: 127.0.0.1:1\n  apis:\n    - name: a\n      serviceUrl: http://x\n      operations: [{name: o, method: FETCH, urlTemplate: /x}]\n",
			[]string{`method "FETCH" is not an HTTP method`}},
		{"guard bad cidr", "guard:\n  listen: 127.0.0.1:1\n  upstream: http://x\n  accessRestrictions: [{name: g, action: allow, ipAddress: 10.0.0.0/99}]\n",
			[]string{`ipAddress "10.0.0.0/99" is not an IP address or CIDR range`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("/x/c.yaml", []byte(c.src), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			got := err.Error()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("error %q\n does not contain %q", got, w)
				}
			}
			if !strings.HasPrefix(got, "/x/c.yaml:") {
				t.Errorf("error does not start with the file: %q", got)
			}
		})
	}
}

func TestLoadReadsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.yaml")
	if err := os.WriteFile(p, []byte("site:\n  listen: 127.0.0.1:0\n  root: www\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Site.Root.Abs != filepath.Join(dir, "www") {
		t.Errorf("root = %q", cfg.Site.Root.Abs)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file loaded")
	}
}

// FuzzParse: arbitrary YAML never panics, and every error is positioned.
func FuzzParse(f *testing.F) {
	f.Add(goodGateway)
	f.Add("gateway:\n  listen: [\n")
	f.Add("identity:\n  apps:\n    - {name: a, clientSecrets: [env:X]}\n")
	f.Add("a: &x {b: *x}\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Parse("/f/c.yaml", []byte(src), env(map[string]string{"X": "y"}))
		if err != nil && !strings.HasPrefix(err.Error(), "/f/c.yaml:") {
			t.Fatalf("unpositioned error: %v", err)
		}
	})
}
