package apim

import "testing"

func TestMockResponse(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><mock-response status-code="418" content-type="application/json"/></inbound></policies>`)
	w := tRun(t, p, be, tGet("/x"), nil)
	tExpect(t, w, 418, "")
	if w.Header().Get("Content-Type") != "application/json" || be.count() != 0 {
		t.Fatal(w.Header())
	}
	p = tPipe(t, `<policies><inbound><mock-response/></inbound></policies>`)
	tExpect(t, tRun(t, p, be, tGet("/x"), nil), 200, "")
	tLoadErr(t, `<policies><backend><mock-response/></backend></policies>`, "not allowed in section backend")
}
