package guard_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/roles"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// The guard: section of a config, built by internal/roles as `gatehouse
// serve` does.
func TestRoleFromConfig(t *testing.T) {
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	cfg := &config.Config{File: "/etc/gatehouse/gatehouse.yaml", Guard: &config.Guard{
		Listen:   "127.0.0.1:0",
		Upstream: up.URL,
		Auth:     &config.GuardAuth{OpenIDConfiguration: is.DiscoveryURL(), Audiences: []string{apiClientID}, Unauthenticated: "return401"},
		FunctionKeys: map[string]config.Secret{
			"hello": config.NewSecret("hello-function-key"),
			"_host": config.NewSecret("the-host-key"),
		},
		AccessRestrictions: []config.AccessRestriction{{Name: "gateway", Action: "allow", IPAddress: "127.0.0.1", Priority: 100}},
	}}
	set, err := roles.Build(cfg, roles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if len(set.Servers) != 1 || set.Servers[0].Name != "guard" || set.Servers[0].Listen != "127.0.0.1:0" || set.Servers[0].TLS != nil {
		t.Fatalf("servers %+v", set.Servers)
	}
	s := httptest.NewServer(set.Servers[0].Handler)
	defer s.Close()
	tok := userToken(t, is, nil)
	if r := do(t, s.URL, call{path: "/api/hello", header: map[string]string{"Authorization": "Bearer " + tok}}); r.status != 401 {
		t.Errorf("no key: %d", r.status)
	}
	if r := do(t, s.URL, call{path: "/api/hello?code=hello-function-key"}); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
	for _, p := range []string{"/api/hello?code=hello-function-key", "/api/other?code=the-host-key"} {
		r := do(t, s.URL, call{path: p, header: map[string]string{"Authorization": "Bearer " + tok}})
		if r.status != 200 {
			t.Fatalf("%s: status %d", p, r.status)
		}
		pr, err := guard.DecodePrincipal(up.lastRequest(t).Header.Get("X-MS-CLIENT-PRINCIPAL"))
		if err != nil || pr.AuthType != "aad" {
			t.Errorf("principal %+v, %v", pr, err)
		}
	}

	// Without auth: IP rules and keys only.
	cfg.Guard.Auth = nil
	h, err := roles.BuildGuard(cfg.Guard, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := httptest.NewServer(h)
	defer s2.Close()
	if r := do(t, s2.URL, call{path: "/api/hello?code=hello-function-key"}); r.status != 200 {
		t.Errorf("no auth section: status %d", r.status)
	}
}

func TestRoleConfigErrors(t *testing.T) {
	pos := func(line int) config.Pos { return config.Pos{File: "g.yaml", Line: line, Col: 3} }
	empty := config.NewSecret("")
	empty.Pos = pos(9)
	g := &config.Guard{
		Pos:      pos(1),
		Listen:   "127.0.0.1:0",
		Upstream: "not a url",
		Auth:     &config.GuardAuth{Pos: pos(4), OpenIDConfiguration: "/relative", Unauthenticated: "maybe"},
		FunctionKeys: map[string]config.Secret{
			"hello": empty,
		},
		AccessRestrictions: []config.AccessRestriction{
			{Pos: pos(12), Name: "a", Action: "permit", IPAddress: "127.0.0.1"},
			{Pos: pos(13), Name: "b", Action: "deny", IPAddress: "10.0.0.0/33"},
		},
		TrustedProxies: []string{"proxy"},
	}
	_, err := roles.BuildGuard(g, nil, nil)
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`g.yaml:1:3: guard.upstream "not a url" is not an absolute http(s) URL`,
		`g.yaml:4:3: guard.auth.openidConfiguration "/relative"`,
		`g.yaml:4:3: guard.auth.audiences is required`,
		`g.yaml:4:3: guard.auth.unauthenticated must be return401 or redirectToLogin, got "maybe"`,
		`g.yaml:9:3: guard.functionKeys.hello: the key is empty`,
		`g.yaml:12:3: guard.accessRestrictions: action must be allow or deny, got "permit"`,
		`g.yaml:13:3: guard.accessRestrictions: ipAddress "10.0.0.0/33"`,
		`g.yaml:1:3: guard.trustedProxies: "proxy"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}

	// redirectToLogin goes to the authority's authorize endpoint.
	is := testutil.NewIssuer(t)
	up := newUpstream(t)
	ok := &config.Guard{Upstream: up.URL, Auth: &config.GuardAuth{
		OpenIDConfiguration: is.Server.URL + "/contoso.onmicrosoft.com/B2C_1_signin/v2.0/.well-known/openid-configuration",
		Audiences:           []string{apiClientID}, Unauthenticated: "redirectToLogin",
	}}
	h, err := roles.BuildGuard(ok, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	defer s.Close()
	r := do(t, s.URL, call{path: "/", header: map[string]string{"Accept": "text/html"}})
	if loc := r.header.Get("Location"); r.status != 302 || !strings.HasPrefix(loc, is.Server.URL+"/contoso.onmicrosoft.com/B2C_1_signin/oauth2/v2.0/authorize?") {
		t.Errorf("status %d Location %q", r.status, loc)
	}
}
