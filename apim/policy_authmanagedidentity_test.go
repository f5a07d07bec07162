package apim

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fakeTokens struct{ calls []string }

func (f *fakeTokens) Token(_ context.Context, client, resource string) (string, error) {
	f.calls = append(f.calls, client+"|"+resource)
	if resource == "fail" {
		return "", errors.New("denied")
	}
	return "T-" + client + "-" + resource, nil
}

func TestManagedIdentityLoad(t *testing.T) {
	mi := &LoadOptions{ManagedIdentity: &ManagedIdentityOptions{ClientIDs: []string{"main"}}}
	for src, want := range map[string]string{
		`<authentication-managed-identity />`:                               `"resource" is required`,
		`<authentication-managed-identity resource="r" client-id="zz" />`:   `client-id "zz" is not configured`,
		`<authentication-managed-identity resource="r" foo="1" />`:          `unknown attribute "foo"`,
		`<authentication-managed-identity resource="r" ignore-error="x" />`: `ignore-error must be one of`,
	} {
		_, err := ParseDocument("t.xml", []byte(`<policies><inbound>`+src+`</inbound></policies>`), ScopeAPI, mi)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "t.xml:1:") {
			t.Errorf("%s: %v", src, err)
		}
	}
	doc := `<policies><inbound><authentication-managed-identity resource="r" /></inbound></policies>`
	tLoadErr(t, doc, "configure gateway.managedIdentity")
	if _, err := ParseDocument("t.xml", []byte(doc), ScopeAPI, &LoadOptions{Lenient: true}); err != nil {
		t.Fatalf("lenient: %v", err)
	}
}

func TestManagedIdentityExec(t *testing.T) {
	needExpr(t)
	be := newTBackend(t, nil)
	opts := &LoadOptions{ManagedIdentity: &ManagedIdentityOptions{ClientIDs: []string{"main", "other"}}}
	src := `<policies><inbound><base/>
<authentication-managed-identity resource="res" />
<send-request response-variable-name="r" mode="new"><set-url>` + be.URL + `/side</set-url><set-method>GET</set-method>
<authentication-managed-identity resource="side" client-id="other" /></send-request>
</inbound></policies>`
	p := NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), tDoc(t, ScopeAPI, src, opts))
	tok := &fakeTokens{}
	w := tRun(t, p, be, tGet("/x"), &Env{Tokens: tok})
	tExpect(t, w, 200, "backend body")
	if got := be.last(t).Header.Get("Authorization"); got != "Bearer T--res" {
		t.Fatalf("backend Authorization %q", got)
	}
	be.mu.Lock()
	side := be.reqs[0]
	be.mu.Unlock()
	if side.Path != "/side" || side.Header.Get("Authorization") != "Bearer T-other-side" {
		t.Fatalf("side request %+v", side)
	}
	// failure without ignore-error: 500 and on-error
	p = NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), tDoc(t, ScopeAPI, `<policies><inbound><base/><authentication-managed-identity resource="fail" /></inbound>
<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>`, opts))
	w = tRun(t, p, be, tGet("/x"), &Env{Tokens: tok})
	if w.Code != 500 || w.Header().Get("X-Reason") != "TokenAcquisitionFailure" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}
