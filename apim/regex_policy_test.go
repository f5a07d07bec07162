package apim

import (
	"strings"
	"testing"
)

// A constant invalid Regex pattern in a policy expression is a load error
// at the policy file's line:col.
func TestRegexPatternLoadError(t *testing.T) {
	needExpr(t)
	src := "<policies>\n<inbound>\n<set-variable name=\"v\" value=\"@(Regex.IsMatch(context.Request.Url.Path, &quot;(abc&quot;))\" />\n</inbound></policies>"
	_, err := ParseDocument("e.xml", []byte(src), ScopeAPI, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "e.xml:3:") || !strings.Contains(err.Error(), "Invalid pattern '(abc'") {
		t.Fatalf("got %v", err)
	}
}

// .NET regular expressions in a policy: a lookahead works; a pattern that
// backtracks catastrophically times out and the policy goes to on-error
// (the test asserts the outcome, not the time).
func TestRegexInPolicy(t *testing.T) {
	needExpr(t)
	p := tPipe(t, `<policies><inbound>
		<choose><when condition="@(Regex.IsMatch(context.Request.Headers.GetValueOrDefault(&quot;X-Code&quot;, &quot;&quot;), &quot;^(?=.*\\d)(?&lt;p&gt;[A-Z]{2})-\\w+$&quot;))">
			<return-response><set-status code="200" reason="OK" /><set-body>@(Regex.Match(context.Request.Headers.GetValueOrDefault("X-Code", ""), "^(?&lt;p&gt;[A-Z]{2})").Groups["p"].Value)</set-body></return-response>
		</when></choose>
		<set-variable name="v" value="@(Regex.IsMatch(context.Request.Headers.GetValueOrDefault(&quot;X-Evil&quot;, &quot;&quot;), &quot;^(a+)+$&quot;))" />
		<return-response><set-status code="204" reason="No Content" /></return-response>
	</inbound>
	<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header></on-error></policies>`)

	r := tGet("/x")
	r.Header.Set("X-Code", "FR-12ab")
	if w := tRun(t, p, nil, r, nil); w.Code != 200 || w.Body.String() != "FR" {
		t.Fatalf("lookahead: %d %q", w.Code, w.Body.String())
	}
	r = tGet("/x")
	r.Header.Set("X-Code", "FR-abc")
	r.Header.Set("X-Evil", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")
	w := tRun(t, p, nil, r, nil)
	if w.Code != 500 || w.Header().Get("X-Reason") != "set-variable/ExpressionValueEvaluationFailure" {
		t.Fatalf("timeout: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
}
