package apim

import "testing"

func TestAuthenticationBasic(t *testing.T) {
	be := newTBackend(t, nil)
	opts := &LoadOptions{NamedValues: map[string]NamedValue{"pw": {Value: "pässword", Secret: true}}}
	api := tDoc(t, ScopeAPI, `<policies><inbound><base/><authentication-basic username="Aladdin" password="{{pw}}"/></inbound></policies>`, opts)
	tRun(t, NewPipeline(tDoc(t, ScopeGlobal, tGlobal, nil), api), be, tGet("/x"), nil)
	if got := be.last(t).Header.Get("Authorization"); got != "Basic QWxhZGRpbjpww6Rzc3dvcmQ=" {
		t.Fatalf("%q", got)
	}
	tLoadErr(t, `<policies><inbound><authentication-basic username="a"/></inbound></policies>`, "\"username\" and \"password\" are required")
	tLoadErr(t, `<policies><outbound><authentication-basic username="a" password="b"/></outbound></policies>`, "not allowed in section outbound")
}
