package expr

import "testing"

func benchExpr(b *testing.B, src string) {
	p := MustCompile(src)
	c := testContext()
	if _, err := p.Eval(c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Eval(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIpAddress(b *testing.B) { benchExpr(b, `@(context.Request.IpAddress)`) }

func BenchmarkVariableCast(b *testing.B) { benchExpr(b, `@((string)context.Variables["str"])`) }

func BenchmarkContainsKey(b *testing.B) {
	benchExpr(b, `@(!context.Variables.ContainsKey("bearerToken"))`)
}

func BenchmarkConcat(b *testing.B) { benchExpr(b, `@("Bearer " + (string)context.Variables["str"])`) }

func BenchmarkInterpolation(b *testing.B) {
	benchExpr(b, `@($"signin-{(string)context.Variables["str"]}-state")`)
}

func BenchmarkHeaderJwtSubject(b *testing.B) {
	benchExpr(b, `@("SAPPrincipal" + context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)`)
}

func BenchmarkJObjectIndex(b *testing.B) {
	benchExpr(b, `@(((JObject)context.Variables["obj"])["access_token"].ToString())`)
}

func BenchmarkBlock(b *testing.B) {
	benchExpr(b, `@{
		var forwardedHost = (string)context.Request.Headers.GetValueOrDefault("X-Forwarded-Host", context.Request.OriginalUrl.Host);
		var forwardedPort = (string)context.Request.Headers.GetValueOrDefault("X-Forwarded-Port", "");
		var port = forwardedPort == "" ? 443 : int.Parse(forwardedPort);
		return $"https://{forwardedHost}{(port != 443 ? $":{port}" : "")}/oauth/callback";
	}`)
}

func BenchmarkCompileBlock(b *testing.B) {
	src := `@{ var s = ""; foreach (var x in "a,b,c".Split(',')) { if (x != "b") { s += x.ToUpper(); } } return s; }`
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(src); err != nil {
			b.Fatal(err)
		}
	}
}
