package main

// Binary test of finding 3 of the security review (issue 9): a policy that
// parses the request body (context.Request.Body.As<JObject>(), a common
// APIM pattern) must answer promptly for attacker-sized bodies. Parsing is
// linear and charged to the expression's step budget: an 80,000-key JSON
// object or an 80,000-attribute XML element is parsed (200 with the
// count); a policy that parses the body again and again runs out of budget
// and gets APIM's 500 error body, instead of burning CPU unbounded.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestGatewayBinaryWideBodies(t *testing.T) {
	dir := t.TempDir()
	count := func(expr string) string {
		return `<policies><inbound><base/>
<set-variable name="n" value="@(` + expr + `)" />
<return-response><set-status code="200" reason="OK"/><set-body>@(context.Variables["n"].ToString())</set-body></return-response>
</inbound></policies>`
	}
	writeFile(t, dir, "json.xml", count(`context.Request.Body.As<JObject>().Properties().Count()`))
	writeFile(t, dir, "xml.xml", count(`context.Request.Body.As<XElement>().Attributes().Count()`))
	writeFile(t, dir, "again.xml", count(`Enumerable.Range(0, 1000).Sum(i => context.Request.Body.As<JObject>(preserveContent: true).Count)`))
	cfg := writeFile(t, dir, "gatehouse.yaml", `gateway:
  listen: 127.0.0.1:0
  apis:
    - name: api
      path: api
      serviceUrl: "http://127.0.0.1:9"
      subscriptionRequired: false
      operations:
        - { name: json, method: POST, urlTemplate: "/json", policy: json.xml }
        - { name: xml, method: POST, urlTemplate: "/xml", policy: xml.xml }
        - { name: again, method: POST, urlTemplate: "/again", policy: again.xml }
`)
	gw := startServe(t, cfg, nil, "gateway").url("gateway")

	const n = 80000
	var jb, xb strings.Builder
	jb.WriteByte('{')
	xb.WriteString("<r")
	for i := 0; i < n; i++ {
		if i > 0 {
			jb.WriteByte(',')
		}
		fmt.Fprintf(&jb, `"k%d":%d`, i, i)
		fmt.Fprintf(&xb, ` a%d="%d"`, i, i)
	}
	jb.WriteByte('}')
	xb.WriteString("/>")

	post := func(target, ctype, body string) (int, string) {
		t.Helper()
		res, err := http.Post(gw+target, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post("/api/json", "application/json", jb.String()); code != 200 || body != "80000" {
		t.Errorf("80,000-key JSON: %d %q, want 200 80000", code, body)
	}
	if code, body := post("/api/xml", "application/xml", xb.String()); code != 200 || body != "80000" {
		t.Errorf("80,000-attribute XML: %d %q, want 200 80000", code, body)
	}
	// 1000 parses of the 80,000-key body need ~10.6 million budget steps:
	// the expression fails like any runaway loop, with APIM's error body.
	code, body := post("/api/again", "application/json", jb.String())
	var v struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if code != 500 || json.Unmarshal([]byte(body), &v) != nil || v.StatusCode != 500 || v.Message != "Internal server error" {
		t.Errorf("repeated parse: %d %q, want 500 {\"statusCode\":500,\"message\":\"Internal server error\"}", code, body)
	}
}
