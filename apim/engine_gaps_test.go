package apim

import (
	"net/http"
	"testing"
)

func TestRateLimitAndQuotaOncePerDocument(t *testing.T) {
	acLoadErr(t, ScopeAPI, acDoc(`<rate-limit calls="1" renewal-period="10" /><choose><when condition="true"><rate-limit calls="2" renewal-period="10" /></when></choose>`),
		"policy rate-limit may appear only once per policy document (first at 2:")
	acLoadErr(t, ScopeProduct, acDoc(`<quota calls="1" renewal-period="10" /><quota calls="2" renewal-period="10" />`), "policy quota may appear only once")
	// different policies and by-key variants are fine
	acLoad(t, ScopeProduct, acDoc(`<rate-limit calls="1" renewal-period="10" /><quota calls="2" renewal-period="10" /><rate-limit-by-key calls="1" renewal-period="10" counter-key="a" /><rate-limit-by-key calls="1" renewal-period="10" counter-key="b" />`))
}

func TestCORSUnmatchedPreflightNeverReachesBackend(t *testing.T) {
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<cors terminate-unmatched-request="false">
			<allowed-origins><origin>http://localhost:3000</origin></allowed-origins>
		</cors><set-header name="X-Inbound" exists-action="override"><value>ran</value></set-header>`))
	before := h.hits.Load()
	w := h.do(p, acReq{method: http.MethodOptions, headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}})
	acExpect(t, w, 200, "")
	acHeader(t, w, "Access-Control-Allow-Origin", "")
	if h.hits.Load() != before {
		t.Fatal("preflight reached the backend")
	}
}

func TestCORSExposeStarIncludesOutboundHeaders(t *testing.T) {
	h := newACHarness(t)
	d, err := ParseDocument("test.xml", []byte(`<policies><inbound>
		<cors allow-credentials="true">
			<allowed-origins><origin>https://a.example</origin></allowed-origins>
			<expose-headers><header>*</header></expose-headers>
		</cors></inbound><backend><forward-request /></backend>
		<outbound><set-header name="X-Added-Outbound" exists-action="override"><value>1</value></set-header></outbound></policies>`), ScopeAPI, &LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := h.do(NewPipeline(d), acReq{headers: map[string]string{"Origin": "https://a.example"}})
	got := w.Header().Get("Access-Control-Expose-Headers")
	if !containsToken(got, "X-Added-Outbound") {
		t.Fatalf("expose-headers %q", got)
	}
	acHeader(t, w, "Access-Control-Allow-Origin", "https://a.example")
}

func containsToken(list, tok string) bool {
	for _, f := range splitComma(list) {
		if f == tok {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			f := s[start:i]
			for len(f) > 0 && f[0] == ' ' {
				f = f[1:]
			}
			out = append(out, f)
			start = i + 1
		}
	}
	return out
}
