package apim

import "testing"

func TestChooseFirstTrueWinsAndNests(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/>
		<choose>
			<when condition="false">`+appendHdr("no")+`</when>
			<when condition="true">`+appendHdr("first")+`
				<choose><when condition="False">`+appendHdr("no")+`</when><otherwise>`+appendHdr("nested-otherwise")+`</otherwise></choose>
			</when>
			<when condition="true">`+appendHdr("second")+`</when>
			<otherwise>`+appendHdr("otherwise")+`</otherwise>
		</choose>
		<choose><when condition="false"/><otherwise>`+appendHdr("otherwise2")+`</otherwise></choose>
	</inbound></policies>`)
	tRun(t, p, be, tGet("/x"), nil)
	if got := be.last(t).Header.Get("X-Order"); got != "first, nested-otherwise, otherwise2" {
		t.Fatalf("%q", got)
	}
	tLoadErr(t, `<policies><inbound><choose><when/></choose></inbound></policies>`, "when: attribute \"condition\" is required")
}

func TestChooseExpressionCondition(t *testing.T) {
	needExpr(t)
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><choose><when condition="@(context.Request.Headers.GetValueOrDefault("X-A","") == "1" && context.Request.Method == "GET")">`+appendHdr("yes")+`</when><otherwise>`+appendHdr("no")+`</otherwise></choose></inbound></policies>`)
	r := tGet("/x")
	r.Header.Set("X-A", "1")
	tRun(t, p, be, r, nil)
	if got := be.last(t).Header.Get("X-Order"); got != "yes" {
		t.Fatalf("%q", got)
	}
}
