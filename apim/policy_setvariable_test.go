package apim

import "testing"

func TestSetVariableLiteralIsString(t *testing.T) {
	p := tPipe(t, `<policies><inbound><set-variable name="v" value="42"/><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), nil)
	p.Serve(newRecorder(), x)
	if v, ok := x.Ctx.Variables["v"].(string); !ok || v != "42" {
		t.Fatalf("%#v", x.Ctx.Variables["v"])
	}
	tLoadErr(t, `<policies><inbound><set-variable name="v"/></inbound></policies>`, "attribute \"value\" is required")
}

func TestSetVariableExpressionKeepsType(t *testing.T) {
	needExpr(t)
	tLoadErr(t, `<policies><inbound><set-variable name="@(&quot;v&quot;)" value="1"/></inbound></policies>`, "attribute \"name\" of <set-variable> does not accept expressions")
	p := tPipe(t, `<policies><inbound><set-variable name="n" value="@(40 + 2)"/><set-variable name="b" value="@(1 == 1)"/><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), nil)
	p.Serve(newRecorder(), x)
	if n, err := toInt64(x.Ctx.Variables["n"]); err != nil || n != 42 {
		t.Fatalf("n = %#v", x.Ctx.Variables["n"])
	}
	if b, ok := x.Ctx.Variables["b"].(bool); !ok || !b {
		t.Fatalf("b = %#v", x.Ctx.Variables["b"])
	}
}
