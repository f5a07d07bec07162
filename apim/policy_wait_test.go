package apim

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
)

func TestWaitAllAndAny(t *testing.T) {
	fast := newTBackend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("fast")) })
	slow := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("slow"))
	})
	body := `<send-request response-variable-name="a" ignore-error="true"><set-url>` + slow.URL + `</set-url></send-request>` +
		`<send-request response-variable-name="b"><set-url>` + fast.URL + `</set-url></send-request>`
	p := tPipe(t, `<policies><inbound><wait for="all">`+body+`</wait><return-response/></inbound></policies>`)
	x := tExec(t, nil, tGet("/x"), nil)
	start := time.Now()
	p.Serve(newRecorder(), x)
	a, _ := x.Ctx.Variables["a"].(*expr.Response)
	b, _ := x.Ctx.Variables["b"].(*expr.Response)
	if a == nil || b == nil || string(a.Body.Bytes()) != "slow" || time.Since(start) > 2*time.Second {
		t.Fatalf("all: %v %v after %s", a, b, time.Since(start))
	}

	p = tPipe(t, `<policies><inbound><wait for="any">`+body+`</wait><return-response/></inbound></policies>`)
	x = tExec(t, nil, tGet("/x"), nil)
	start = time.Now()
	p.Serve(newRecorder(), x)
	if _, ok := x.Ctx.Variables["b"].(*expr.Response); !ok || time.Since(start) > 250*time.Millisecond {
		t.Fatalf("any: %v after %s", x.Ctx.Variables, time.Since(start))
	}
	tLoadErr(t, `<policies><inbound><wait><set-header name="a"/></wait></inbound></policies>`, "unknown element <set-header> inside <wait>")
}
