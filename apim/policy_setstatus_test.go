package apim

import "testing"

func TestSetStatusOutbound(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/></inbound><outbound><set-status code="201" reason="Made"/></outbound></policies>`)
	x := tExec(t, be, tGet("/x"), nil)
	w := newRecorder()
	p.Serve(w, x)
	tExpect(t, w, 201, "backend body")
	if x.Ctx.Response.StatusReason != "Made" {
		t.Fatal(x.Ctx.Response.StatusReason)
	}
	tLoadErr(t, `<policies><outbound><set-status/></outbound></policies>`, "attribute \"code\" is required")
}
