package guard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/gatehouse/gatehouse/guard"
)

// Guard a handler with an IP allow-list and a function key. Add Auth to
// require a bearer token as well; the handler then reads the caller from
// X-MS-CLIENT-PRINCIPAL-* or guard.InfoFrom.
func ExampleGuard_Middleware() {
	g, err := guard.New(guard.Config{
		AccessRestrictions: []guard.Rule{
			{Name: "gateway", Action: guard.Allow, Prefix: netip.MustParsePrefix("192.0.2.0/24"), Priority: 100},
		},
		FunctionKeys: map[string]string{"hello": "s3cr3t-function-key"},
	})
	if err != nil {
		panic(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := guard.InfoFrom(r.Context())
		fmt.Fprintf(w, "hello %s (query %q)", info.ClientIP, r.URL.RawQuery)
	})
	h := g.Middleware(hello)

	for _, c := range []struct{ from, url string }{
		{"198.51.100.1:4000", "/api/hello?code=s3cr3t-function-key"}, // not allowed
		{"192.0.2.10:4000", "/api/hello"},                            // no key
		{"192.0.2.10:4000", "/api/hello?name=x&code=s3cr3t-function-key"},
	} {
		req := httptest.NewRequest(http.MethodGet, c.url, nil)
		req.RemoteAddr = c.from
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body.String())
		} else {
			fmt.Println(rec.Code)
		}
	}
	// Output:
	// 403
	// 401
	// 200 hello 192.0.2.10 (query "name=x")
}
