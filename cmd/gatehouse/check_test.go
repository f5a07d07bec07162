package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.xml", `<policies><inbound><base /><set-header name="x" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("a",""))</value></set-header></inbound><backend><base /></backend><outbound /><on-error /></policies>`)
	bad := writeFile(t, dir, "bad.xml", "<policies>\n  <inbound>\n    <set-hedaer name=\"x\" />\n  </inbound>\n</policies>\n")
	frag := writeFile(t, dir, "frag.xml", `<fragment><set-variable name="a" value="@(1 + 2)" /></fragment>`)

	seed := writeFile(t, dir, "seed004.xml", seed004Policy(t, "https://spa.example", "https://login.example/.well-known/openid-configuration"))
	out, _, code := gatehouse(t, nil, "policy", "check", good, frag, seed)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, f := range []string{good, frag, seed} {
		if !strings.Contains(out, "OK "+f+"\n") {
			t.Errorf("output lacks OK %s:\n%s", f, out)
		}
	}

	out, _, code = gatehouse(t, nil, "policy", "check", good, bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(bad) + `:3:5: .*set-hedaer`).MatchString(out) {
		t.Errorf("no positioned problem for the unknown element:\n%s", out)
	}
}

// TestPolicyCheckSeedPlaceholders: the seed's unfilled placeholders are not
// valid values, and the checker says where they are.
func TestPolicyCheckSeedPlaceholders(t *testing.T) {
	out, _, code := gatehouse(t, nil, "policy", "check", "../../examples/seed004/policy.xml")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		`policy.xml:11:17: cors: origin "{PrimaryStorageEndpoint}"`,
		`policy.xml:24:30: validate-jwt: openid-config url must be an http(s) URL, not "{b2cpolicy-well-known-openid}"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestPolicyCheckCorpus runs the checker over the public APIM snippet corpus
// and reports how much of it Gatehouse accepts.
func TestPolicyCheckCorpus(t *testing.T) {
	corpus := filepath.Join("..", "..", "testdata", "apim-snippets")
	files, err := expandPolicyArgs([]string{corpus})
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	out, _, _ := gatehouse(t, nil, "policy", "check", corpus)
	ok := strings.Count(out, "OK ")
	t.Logf("policy check accepted %d of %d corpus files", ok, len(files))
	// Every line is either OK FILE or FILE:line:col: problem.
	lineRe := regexp.MustCompile(`^(OK .+|.+\.xml:\d+:\d+: .+)$`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !lineRe.MatchString(l) {
			t.Errorf("malformed output line %q", l)
		}
	}
	if ok < minCorpusAccepted {
		t.Errorf("accepted %d files, fewer than the %d reached before:\n%s", ok, minCorpusAccepted, out)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "p.xml", "<policies>\n<inbound>\n<rate-limit-by-key calls=\"x\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\" />\n</inbound>\n</policies>")
	cfg := writeFile(t, dir, "c.yaml", "gateway:\n  listen: 127.0.0.1:0\n  policy: p.xml\n  apis:\n    - {name: a, path: a, serviceUrl: 'http://127.0.0.1:1'}\n")
	out, _, code := gatehouse(t, nil, "validate", "--config", cfg)
	if code != 1 || !strings.Contains(out, filepath.Join(dir, "p.xml")+":3:") {
		t.Errorf("exit %d, output %q", code, out)
	}
	writeFile(t, dir, "p.xml", "<policies><inbound><base /></inbound></policies>")
	out, _, code = gatehouse(t, nil, "validate", "--config", cfg)
	if code != 0 || !strings.HasPrefix(out, "OK ") {
		t.Errorf("valid config: exit %d, output %q", code, out)
	}
	bad := writeFile(t, dir, "bad.yaml", "gateway:\n  listen: 127.0.0.1:0\n  polcy: p.xml\n")
	out, _, code = gatehouse(t, nil, "validate", "--config", bad)
	if code != 1 || !strings.Contains(out, bad+`:3:3: unknown key "polcy" in gateway`) {
		t.Errorf("exit %d, output %q", code, out)
	}
}
