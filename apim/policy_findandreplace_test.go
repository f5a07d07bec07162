package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFindAndReplace(t *testing.T) {
	be := newTBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("see http://internal:8080/a and http://internal:8080/b"))
	})
	p := tPipe(t, `<policies><inbound><base/><find-and-replace from="secret" to="[redacted]"/></inbound><outbound><find-and-replace from="http://internal:8080" to="https://gw.example/api"/></outbound></policies>`)
	w := tRun(t, p, be, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("a secret and a secret")), nil)
	tExpect(t, w, 200, "see https://gw.example/api/a and https://gw.example/api/b")
	if got := be.last(t).Body; got != "a [redacted] and a [redacted]" {
		t.Fatalf("%q", got)
	}
	tLoadErr(t, `<policies><inbound><find-and-replace from="" to="x"/></inbound></policies>`, "\"from\" must not be empty")
}
