package apim

import "testing"

func TestSetQueryParameter(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/>
		<set-query-parameter name="a"><value>1</value></set-query-parameter>
		<set-query-parameter name="keep" exists-action="skip"><value>no</value></set-query-parameter>
		<set-query-parameter name="list" exists-action="append"><value>y</value></set-query-parameter>
		<set-query-parameter name="drop" exists-action="delete"/>
	</inbound></policies>`)
	tRun(t, p, be, tGet("/x?a=0&keep=yes&list=x&drop=1"), nil)
	q := be.last(t).Query
	if q.Get("a") != "1" || q.Get("keep") != "yes" || len(q["list"]) != 2 || q.Has("drop") {
		t.Fatalf("%v", q)
	}
	tLoadErr(t, `<policies><outbound><set-query-parameter name="a"><value>1</value></set-query-parameter></outbound></policies>`, "not allowed in section outbound")
}
