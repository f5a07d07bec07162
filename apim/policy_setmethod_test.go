package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSetMethod(t *testing.T) {
	be := newTBackend(t, nil)
	p := tPipe(t, `<policies><inbound><base/><set-method>put</set-method></inbound></policies>`)
	tRun(t, p, be, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("b")), nil)
	if got := be.last(t); got.Method != "PUT" || got.Body != "b" {
		t.Fatalf("%+v", got)
	}
	tLoadErr(t, `<policies><inbound><set-method/></inbound></policies>`, "set-method: the method is empty")
}
