package expr

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)

// jwtFor builds an unsigned JWT with the given payload JSON.
func jwtFor(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".sig"
}

var testJwt = jwtFor(`{"sub":"alice","iss":"https://issuer","aud":["api1","api2"],"exp":1700000000,"iat":1690000000,"jti":"id-1","roles":["admin","reader"],"tid":"t1"}`)

func testContext() *Context {
	resp := &Response{StatusCode: 200, StatusReason: "OK", Headers: http.Header{"X-Csrf-Token": {"tok"}, "Set-Cookie": {"a=1; sap-XSRF_X=abc,def", "b=2"}},
		Body: NewBody([]byte(`{"access_token":"AT","expires_in":3600,"status":"ok"}`))}
	return &Context{
		Request: &Request{
			Method: "POST",
			Url:    &URL{Scheme: "https", Host: "api.example.com", Port: 443, Path: "/orders/42", Query: url.Values{"redirect": {"/home"}, "a": {"1", "2"}}},
			OriginalUrl: &URL{Scheme: "https", Host: "gw.example.com", Port: 8443, Path: "/v1/orders/42",
				Query: url.Values{}},
			Headers: http.Header{"Authorization": {"Bearer " + testJwt}, "Accept": {"text/plain", "application/json"},
				"Content-Length": {"123"}, "X-Forwarded-Host": {"fwd.example.com"}},
			IpAddress:         "10.1.2.3",
			Body:              NewBody([]byte(`{"name":"bob","items":[1,2,3],"nested":{"a":{"b":"deep"}}}`)),
			MatchedParameters: map[string]string{"id": "42", "place": "Paris"},
		},
		Response: resp,
		Variables: Variables{
			"str": "hello", "num": int32(7), "long": int64(1 << 40), "obj": mustObj(`{"access_token":"T","expires_in":60,"flag":true}`),
			"resp": resp, "date": time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), "nil": nil, "dbl": 2.5,
			"jwt": AsJwt(testJwt), "arr": mustArr(`[{"n":1},{"n":2}]`),
		},
		Api:          &Api{Id: "orders", Name: "Orders API", Path: "v1", ServiceUrl: &URL{Scheme: "https", Host: "backend", Port: 8080, Path: "/api"}},
		Operation:    &Operation{Id: "get", Method: "GET", Name: "Get order", UrlTemplate: "/orders/{id}"},
		Product:      &Product{Id: "starter", Name: "Starter", State: "Published"},
		Subscription: &Subscription{Id: "sub1", Key: "k", Name: "S"},
		User:         &User{Id: "u1", Email: "u@example.com"},
		Deployment:   &Deployment{GatewayId: "managed", Region: "West Europe", ServiceName: "gh"},
		LastError:    &LastError{Source: "validate-jwt", Reason: "TokenExpired", Message: "expired"},
		RequestId:    "0f8fad5b-d9cb-469f-a165-70867728950e",
		Timestamp:    testNow.Add(-1500 * time.Millisecond),
		Now:          func() time.Time { return testNow },
	}
}

func mustObj(s string) *JObject {
	o, err := ParseJObject(s)
	if err != nil {
		panic(err)
	}
	return o
}

func mustArr(s string) *JArray {
	a, err := ParseJArray(s)
	if err != nil {
		panic(err)
	}
	return a
}

func eval(t *testing.T, src string) any {
	t.Helper()
	p, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	v, err := p.Eval(testContext())
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

type evalCase struct {
	src  string
	want any // compared with == after ToString when a string is wanted
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		got := eval(t, c.src)
		if ws, ok := c.want.(string); ok {
			if g, isStr := got.(string); !isStr || g != ws {
				t.Errorf("%s = %#v (%T), want %q", c.src, got, got, ws)
			}
			continue
		}
		if !equals(got, c.want) || typeNameOf(got) != typeNameOf(c.want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", c.src, got, got, c.want, c.want)
		}
	}
}

// TestCorpusShapes covers the most frequent single-line shapes of apim.md B2.
func TestCorpusShapes(t *testing.T) {
	runCases(t, []evalCase{
		{`@((string)context.Variables["str"])`, "hello"},
		{`@($"x-{context.Variables["str"]}-y")`, "x-hello-y"},
		{`@(((JObject)context.Variables["obj"])["access_token"].ToString())`, "T"},
		{`@("literal")`, "literal"},
		{`@("Bearer " + (string)context.Variables["str"])`, "Bearer hello"},
		{`@(!context.Variables.ContainsKey("missing"))`, true},
		{`@("SAP" + context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)`, "SAPalice"},
		{`@(context.Variables.GetValueOrDefault<JObject>("obj")["expires_in"].ToString())`, "60"},
		{`@((int)context.Variables["num"])`, int32(7)},
		{`@(((IResponse)context.Variables["resp"]).Body.As<JObject>()["status"].ToString())`, "ok"},
		{`@((int)((JObject)context.Variables["obj"])["expires_in"])`, int32(60)},
		{`@((bool)((JObject)context.Variables["obj"])["flag"])`, true},
		{`@(((IResponse)context.Variables["resp"]).StatusCode == 200)`, true},
		{`@(((IResponse)context.Variables["resp"]).Headers.GetValueOrDefault("x-csrf-token"))`, "tok"},
	})
}

func TestContextModel(t *testing.T) {
	runCases(t, []evalCase{
		{`@(context.Request.IpAddress)`, "10.1.2.3"},
		{`@(context.Request.Method)`, "POST"},
		{`@(context.Request.Headers.GetValueOrDefault("accept"))`, "text/plain,application/json"},
		{`@(context.Request.Headers.GetValueOrDefault("missing", "def"))`, "def"},
		{`@(context.Request.Headers.GetValueOrDefault("missing") == null)`, true},
		{`@(context.Request.Headers["Content-Length"][0])`, "123"},
		{`@(context.Request.Headers.ContainsKey("AUTHORIZATION"))`, true},
		{`@(context.Request.Headers["Accept"].Length)`, int32(2)},
		{`@(context.Request.Url.ToString())`, "https://api.example.com/orders/42?a=1&a=2&redirect=%2Fhome"},
		{`@(context.Request.OriginalUrl.ToString())`, "https://gw.example.com:8443/v1/orders/42"},
		{`@(context.Request.Url.Host + ":" + context.Request.Url.Port)`, "api.example.com:443"},
		{`@(context.Request.Url.Path)`, "/orders/42"},
		{`@(context.Request.Url.Scheme)`, "https"},
		{`@(context.Request.Url.QueryString)`, "?a=1&a=2&redirect=%2Fhome"},
		{`@(context.Request.Url.Query.GetValueOrDefault("a"))`, "1,2"},
		{`@(Uri.UnescapeDataString(context.Request.Url.Query.GetValueOrDefault("redirect", string.Empty)))`, "/home"},
		{`@(context.Request.MatchedParameters.GetValueOrDefault("place", ""))`, "Paris"},
		{`@(context.Request.MatchedParameters["id"])`, "42"},
		{`@(context.Request.Body.As<string>(preserveContent: true).Length < 256000)`, true},
		{`@(context.Request.Body.As<JObject>()["nested"]["a"]["b"].ToString())`, "deep"},
		{`@(context.Request.Body.As<JObject>(true).SelectToken("nested.a.b").ToString())`, "deep"},
		{`@(context.Request.Body.As<byte[]>().Length)`, int32(58)},
		{`@(context.Response.StatusCode)`, int32(200)},
		{`@(context.Response.StatusCode.ToString())`, "200"},
		{`@(context.Response.Headers.GetValueOrDefault("Set-Cookie"))`, "a=1; sap-XSRF_X=abc,def,b=2"},
		{`@(context.Api.Name)`, "Orders API"},
		{`@(context.Api.ServiceUrl.Host + ":" + context.Api.ServiceUrl.Port)`, "backend:8080"},
		{`@(context.Operation.UrlTemplate)`, "/orders/{id}"},
		{`@(context.Product.Name.Equals("Starter"))`, true},
		{`@(context.User.Email)`, "u@example.com"},
		{`@(context.Deployment.Region)`, "West Europe"},
		{`@(context.Deployment.GatewayId)`, "managed"},
		{`@(context.Deployment.ServiceName)`, "gh"},
		{`@(context.LastError.Source == "validate-jwt")`, true},
		{`@(context.LastError.Reason)`, "TokenExpired"},
		{`@(context.RequestId.ToString())`, "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{`@(context.Timestamp.ToString("o"))`, "2024-03-05T14:07:07.5000000Z"},
		{`@(context.Elapsed.TotalMilliseconds)`, 1500.0},
		{`@(context.Variables.GetValueOrDefault("missing"))`, nil},
		{`@(context.Variables.GetValueOrDefault("missing", "d"))`, "d"},
		{`@(context.Variables.GetValueOrDefault<int>("missing", 5))`, int32(5)},
		{`@(context.Variables.GetValueOrDefault<int>("num") == 7)`, true},
		{`@(context.Variables.GetValueOrDefault<string>("missing"))`, nil},
		{`@(context.Subscription.Id)`, "sub1"},
	})
}

func TestBodyConsumed(t *testing.T) {
	c := testContext()
	p := MustCompile(`@(context.Request.Body.As<string>())`)
	if _, err := p.Eval(c); err != nil {
		t.Fatal(err)
	}
	if !c.Request.Body.Consumed() {
		t.Error("body not consumed")
	}
	if _, err := p.Eval(c); err == nil {
		t.Error("second read of a consumed body succeeded")
	}
	c = testContext()
	keep := MustCompile(`@(context.Request.Body.As<string>(preserveContent: true))`)
	for i := 0; i < 2; i++ {
		if _, err := keep.Eval(c); err != nil {
			t.Fatal(err)
		}
	}
	if c.Request.Body.Consumed() {
		t.Error("preserveContent consumed the body")
	}
}

func TestJwt(t *testing.T) {
	runCases(t, []evalCase{
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Issuer)`, "https://issuer"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Algorithm)`, "RS256"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Type)`, "JWT"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Id)`, "id-1"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Claims.GetValueOrDefault("roles", ""))`, "admin,reader"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Claims["roles"][1])`, "reader"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Claims.ContainsKey("tid"))`, true},
		{`@(string.Join(";", context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Audiences))`, "api1;api2"},
		{`@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().ExpirationTime.Value.ToString("s"))`, "2023-11-14T22:13:20"},
		{`@(((Jwt)context.Variables["jwt"]).Subject)`, "alice"},
		{`@("garbage".AsJwt() == null)`, true},
		{`@("x".AsJwt()?.Subject ?? "anon")`, "anon"},
		{`@("Basic dXNlcjpwYXNz".AsBasic().UserId + "/" + "Basic dXNlcjpwYXNz".AsBasic().Password)`, "user/pass"},
		{`@("nope".AsBasic() == null)`, true},
	})
	if AsJwt("Bearer "+testJwt).Subject != "alice" || AsJwt("a.b") != nil {
		t.Error("AsJwt")
	}
}

func TestLiteralsAndOperators(t *testing.T) {
	runCases(t, []evalCase{
		{`@("a\tb\u0041\\")`, "a\tbA\\"},
		{`@(@"c:\path ""q""")`, `c:\path "q"`},
		{`@($"{1 + 2} {{x}} {"s"}")`, "3 {x} s"},
		{`@($@"{1}\n")`, `1\n`},
		{`@($"{new DateTime(2021, 2, 3):yyyy-MM-dd}")`, "2021-02-03"},
		{`@($"[{5,3}][{"ab",-4}]")`, "[  5][ab  ]"},
		{`@('a')`, Char('a')},
		{`@('\n' == '\n')`, true},
		{`@(10L)`, int64(10)},
		{`@(1.5)`, 1.5},
		{`@(0x1F)`, int32(31)},
		{`@(-2147483648)`, int32(-2147483648)},
		{`@(true && !false)`, true},
		{`@(null == null)`, true},
		{`@(7 / 2)`, int32(3)},
		{`@(7 / 2.0)`, 3.5},
		{`@(7 % 3)`, int32(1)},
		{`@(7L * 2)`, int64(14)},
		{`@(2147483647 + 1)`, int32(-2147483648)},
		{`@(1 + 2 * 3 - 4)`, int32(3)},
		{`@("a" + 1 + 2)`, "a12"},
		{`@(1 + 2 + "a")`, "3a"},
		{`@("v" + true)`, "vTrue"},
		{`@("v" + null)`, "v"},
		{`@("x" + 1.5)`, "x1.5"},
		{`@((string)null + "y")`, "y"},
		{`@(3 > 2 ? "yes" : "no")`, "yes"},
		{`@((string)context.Variables["nil"] ?? "fallback")`, "fallback"},
		{`@(1 < 2 && 2 <= 2 && 3 >= 3 && 4 > 3 && 1 != 2)`, true},
		{`@("abc" == "abc" && "abc" != "ABC")`, true},
		{`@(context.Variables["str"] is string)`, true},
		{`@(context.Variables["num"] is string)`, false},
		{`@((context.Variables["str"] as string).Length)`, int32(5)},
		{`@(context.Variables["num"] as string)`, nil},
		{`@((long)context.Variables["num"])`, int64(7)},
		{`@((double)context.Variables["num"])`, 7.0},
		{`@((int)context.Variables["long"] == 0)`, true},
		{`@((int)2.9)`, int32(2)},
		{`@(1 << 4 | 1)`, int32(17)},
		{`@(-(3))`, int32(-3)},
		{`@((DateTime)context.Variables["date"] < DateTime.UtcNow)`, true},
		{`@(context.Variables["str"] == string.Empty)`, false},
	})
}

func TestCasts(t *testing.T) {
	bad := []string{
		`@((string)context.Variables["num"])`,
		`@((int)context.Variables["str"])`,
		`@((JObject)context.Variables["str"])`,
		`@((IResponse)context.Variables["obj"])`,
		`@((bool)context.Variables["str"])`,
		`@((string)((JObject)context.Variables["obj"]))`,
	}
	for _, src := range bad {
		_, err := MustCompile(src).Eval(testContext())
		if _, ok := err.(*RuntimeError); !ok {
			t.Errorf("%s: err = %v, want RuntimeError", src, err)
		}
	}
	_, err := MustCompile(`@((string)context.Variables["num"])`).Eval(testContext())
	if err == nil || !strings.Contains(err.Error(), "Unable to cast object of type 'System.Int32' to type 'System.String'.") {
		t.Errorf("cast message: %v", err)
	}
}

func TestBlocks(t *testing.T) {
	runCases(t, []evalCase{
		{`@{ var x = 1; x += 2; x++; ++x; x -= 1; return x; }`, int32(4)},
		{`@{ if (context.Request.Method == "GET") { return "get"; } else if (context.Request.Method == "POST") return "post"; else { return "other"; } }`, "post"},
		{`@{ var sum = 0; foreach (var i in new int[] {1, 2, 3}) { sum += i; } return sum; }`, int32(6)},
		{`@{ var s = ""; for (var i = 0; i < 5; i++) { if (i == 1) continue; if (i == 4) break; s += i; } return s; }`, "023"},
		{`@{ int n = 0; while (n < 10) { n = n + 3; } return n; }`, int32(12)},
		{`@{ int n = 0; do { n++; } while (n < 3); return n; }`, int32(3)},
		{`@{ try { var x = (string)context.Variables["missing"]; return x; } catch (Exception ex) { return "caught: " + ex.Message; } }`,
			"caught: The given key 'missing' was not present in the dictionary."},
		{`@{ try { throw new Exception("boom"); } catch (Exception e) { return e.Message; } }`, "boom"},
		{`@{ try { throw new InvalidOperationException("x"); } catch (FormatException) { return "f"; } catch (InvalidOperationException) { return "io"; } }`, "io"},
		{`@{ string[] parts = "a,b".Split(','); return parts[1]; }`, "b"},
		{`@{ var l = new List<string>(); l.Add("x"); l.Add("y"); return string.Join("|", l); }`, "x|y"},
		{`@{ var d = new Dictionary<string, string>(); d["k"] = "v"; d.Add("k2", "v2"); return d["k"] + d.Count + d.ContainsKey("k2"); }`, "v2True"},
		{`@{ long t = 5; byte[] b = new byte[2]; b[1] = (byte)(t >> 0); return b[1]; }`, byte(5)},
		{`@{ switch (context.Request.Method) { case "GET": return 1; case "POST": return 2; default: return 3; } }`, int32(2)},
		{`@{ var n = 0; if (int.TryParse("42", out var v)) { n = v; } return n; }`, int32(42)},
		{`@{ unchecked { var x = 1; } return "ok"; }`, "ok"},
		{`@{
			var response = context.Response.Body.As<JObject>(preserveContent: true);
			foreach (var key in new [] {"status", "expires_in"}) {
				response.Property (key).Remove ();
			}
			return response.ToString(Formatting.None);
		}`, `{"access_token":"AT"}`},
		{`@{ // comment
			/* block */ return "c"; }`, "c"},
	})
}

func TestLoopBound(t *testing.T) {
	for _, src := range []string{
		`@{ while (true) { } }`,
		`@{ for (;;) { } }`,
		`@{ var i = 0; while (i >= 0) { i = i + 0; } return i; }`,
	} {
		p, err := Compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, err = p.Eval(testContext())
		if err == nil || !strings.Contains(err.Error(), "loop iterations") {
			t.Errorf("%s: err = %v", src, err)
		}
	}
	// The budget cannot be caught.
	_, err := MustCompile(`@{ try { while (true) {} } catch (Exception) { return 1; } }`).Eval(testContext())
	if err == nil {
		t.Error("loop budget was caught")
	}
}

func TestStrings(t *testing.T) {
	runCases(t, []evalCase{
		{`@("hello world".Substring(6))`, "world"},
		{`@("hello world".Substring(0, 5))`, "hello"},
		{`@("hello".IndexOf("l"))`, int32(2)},
		{`@("hello".IndexOf('l', 3))`, int32(3)},
		{`@("hello".LastIndexOf("l"))`, int32(3)},
		{`@("HeLLo".IndexOf("ll", StringComparison.OrdinalIgnoreCase))`, int32(2)},
		{`@("a+b/c".Replace('+', '-').Replace("/", "_"))`, "a-b_c"},
		{`@("a,b,,c".Split(',').Length)`, int32(4)},
		{`@("a,b,,c".Split(new[] {','}, StringSplitOptions.RemoveEmptyEntries).Length)`, int32(3)},
		{`@("a--b--c".Split("--")[2])`, "c"},
		{`@("a;b,c".Split(';', ',')[2])`, "c"},
		{`@("  x  ".Trim() + "|" + "xxaxx".TrimStart('x') + "|" + "xxaxx".TrimEnd('x'))`, "x|axx|xxa"},
		{`@("Ab".ToLower() + "Ab".ToUpper() + "Ab".ToLowerInvariant() + "Ab".ToUpperInvariant())`, "abABabAB"},
		{`@("/oauth/x".StartsWith("/OAUTH", StringComparison.InvariantCultureIgnoreCase))`, true},
		{`@("file.json".EndsWith(".json") && "abc".Contains("b") && "a".Equals("A", StringComparison.OrdinalIgnoreCase))`, true},
		{`@("7".PadLeft(3, '0') + "|" + "7".PadRight(3) + "|")`, "007|7  |"},
		{`@("abc"[1])`, Char('b')},
		{`@("abc".Length)`, int32(3)},
		{`@(string.IsNullOrEmpty("") && string.IsNullOrWhiteSpace("  ") && !String.IsNullOrEmpty("x"))`, true},
		{`@(string.Join(",", new string[] {"a", "b"}))`, "a,b"},
		{`@(String.Concat("Bearer ", "t"))`, "Bearer t"},
		{`@(string.Format("{0}-{1:D3}-{0}", "a", 7))`, "a-007-a"},
		{`@(string.Empty)`, ""},
		{`@(12.ToString())`, "12"},
		{`@((1.0/3).ToString())`, "0.3333333333333333"},
		{`@(1e20.ToString())`, "1E+20"},
		{`@(3.14159.ToString("F2"))`, "3.14"},
		{`@(true.ToString())`, "True"},
		{`@(System.String.IsNullOrEmpty(null))`, true},
	})
}

func TestConvertEncodingCrypto(t *testing.T) {
	runCases(t, []evalCase{
		{`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("hi!")))`, "aGkh"},
		{`@(Encoding.UTF8.GetString(Convert.FromBase64String("aGkh")))`, "hi!"},
		{`@(System.Text.Encoding.ASCII.GetBytes("AB")[1])`, byte('B')},
		{`@(Convert.ToInt32("12") + Convert.ToInt64("1"))`, int64(13)},
		{`@(Convert.ToString(5))`, "5"},
		{`@(Convert.ToBoolean("true"))`, true},
		{`@(Convert.ToDouble("1.5"))`, 1.5},
		{`@(BitConverter.ToString(new byte[] {1, 171}))`, "01-AB"},
		{`@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("key")).ComputeHash(Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog"))))`,
			"97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="},
		{`@(BitConverter.ToString(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("abc"))).Replace("-", "").ToLower().Substring(0, 8))`, "ba7816bf"},
		{`@(Convert.ToBase64String(new System.Security.Cryptography.HMACSHA256 { Key = Encoding.UTF8.GetBytes("key") }.ComputeHash(Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog"))))`,
			"97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="},
		{`@(BitConverter.ToString(new HMACSHA1(Encoding.UTF8.GetBytes("key")).ComputeHash(Encoding.UTF8.GetBytes(""))).Substring(0, 5))`, "F4-2B"},
		{`@(Uri.EscapeDataString("a b/c?") + "|" + Uri.UnescapeDataString("a%20b"))`, "a%20b%2Fc%3F|a b"},
		{`@(WebUtility.UrlEncode("a b&c") + "|" + WebUtility.UrlDecode("a+b%26c") + "|" + WebUtility.HtmlEncode("<a&>"))`, "a+b%26c|a b&c|&lt;a&amp;&gt;"},
		{`@(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("secret").Encrypt("Aes", new byte[16], new byte[16]).Decrypt("Aes", new byte[16], new byte[16])))`, "secret"},
		{`@(Regex.IsMatch("abc123", "^[a-z]+\\d+$"))`, true},
		{`@(Regex.Match("id=42;", "id=(\\d+)").Groups[1].Value)`, "42"},
		{`@(Regex.Replace("a1b22", "\\d+", "#"))`, "a#b#"},
		{`@(System.Text.RegularExpressions.Regex.Replace("john smith", "(\\w+) (\\w+)", "$2 $1"))`, "smith john"},
		{`@(Math.Max(3, 7) + Math.Min(2, 9) + Math.Abs(-1))`, int32(10)},
		{`@(Math.Floor(2.7) + Math.Ceiling(2.1) + Math.Round(2.5))`, 7.0},
		{`@(int.Parse("42") + long.Parse("8"))`, int64(50)},
		{`@(bool.Parse("True") && double.Parse("2.5") == 2.5)`, true},
		{`@(Guid.Parse("0F8FAD5B-D9CB-469F-A165-70867728950E").ToString())`, "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{`@(Guid.NewGuid().ToString().Length)`, int32(36)},
		{`@(new Guid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e").ToByteArray()).ToString())`, "0f8fad5b-d9cb-469f-a165-70867728950e"},
	})
}

func TestDateTime(t *testing.T) {
	runCases(t, []evalCase{
		{`@(DateTime.UtcNow.ToString("o"))`, "2024-03-05T14:07:09.0000000Z"},
		{`@(DateTime.UtcNow.ToString("s"))`, "2024-03-05T14:07:09"},
		{`@(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"))`, "2024-03-05T14:07:09Z"},
		{`@(DateTime.UtcNow.ToString("r"))`, "Tue, 05 Mar 2024 14:07:09 GMT"},
		{`@(DateTime.UtcNow.ToString())`, "3/5/2024 2:07:09 PM"},
		{`@(DateTime.UtcNow.AddSeconds(60).AddMinutes(1).AddHours(1).AddDays(1).ToString("s"))`, "2024-03-06T15:09:09"},
		{`@((DateTime.UtcNow - new DateTime(1970, 1, 1)).TotalSeconds)`, 1709647629.0},
		{`@(DateTime.UtcNow.Subtract(DateTime.UtcNow.AddHours(-2)).TotalHours)`, 2.0},
		{`@(DateTime.Parse("2020-01-02T03:04:05Z").Year)`, int32(2020)},
		{`@(DateTime.ParseExact("2020-01-02", "yyyy-MM-dd", null).Day)`, int32(2)},
		{`@(DateTime.UtcNow.Ticks)`, int64(638452444290000000)},
		{`@(DateTimeOffset.UtcNow.ToUnixTimeSeconds())`, int64(1709647629)},
		{`@(DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeMilliseconds())`, int64(1709647630000)},
		{`@(DateTimeOffset.FromUnixTimeMilliseconds(0).ToString("R"))`, "Thu, 01 Jan 1970 00:00:00 GMT"},
		{`@(TimeSpan.FromMinutes(90).TotalSeconds)`, 5400.0},
		{`@(TimeSpan.FromSeconds(3661).ToString())`, "01:01:01"},
		{`@(DateTime.UtcNow > DateTime.UtcNow.AddSeconds(-1))`, true},
		{`@((int)(DateTime.UtcNow - DateTime.UtcNow.AddDays(-1)).TotalHours)`, int32(24)},
		{`@(new DateTime(2021, 2, 3).ToString("o"))`, "2021-02-03T00:00:00.0000000"},
		{`@(((DateTime)context.Variables["date"]).ToString("dd/MM/yyyy HH:mm"))`, "02/01/2020 03:04"},
	})
}

func TestLinqAndCollections(t *testing.T) {
	runCases(t, []evalCase{
		{`@(new[] {"a", "bb", "ccc"}.Where(s => s.Length > 1).Select(s => s.ToUpper()).First())`, "BB"},
		{`@("a;sap-XSRF=1;b".Split(';').FirstOrDefault(ss => ss.Contains("sap-XSRF")))`, "sap-XSRF=1"},
		{`@("a;b".Split(';').FirstOrDefault(ss => ss.Contains("zz")) == null)`, true},
		{`@(new[] {1, 2, 3}.Any(x => x > 2) && new[] {1, 2, 3}.All(x => x > 0))`, true},
		{`@(new[] {1, 2, 3}.Count(x => x != 2))`, int32(2)},
		{`@(new[] {"a", "b"}.Contains("b"))`, true},
		{`@(string.Join(",", new[] {3, 1, 2}.OrderBy(x => x)))`, "1,2,3"},
		{`@(string.Join(",", new[] {3, 1, 2}.OrderByDescending(x => x).Skip(1).Take(1)))`, "2"},
		{`@(new[] {1, 2, 3}.Last())`, int32(3)},
		{`@(new[] {1, 2, 3}.Sum())`, int32(6)},
		{`@(new[] {1, 2, 3}.Select((x, i) => x * i).ToArray()[2])`, int32(6)},
		{`@(new List<int> {1, 2}.ToList().Count)`, int32(2)},
		{`@(((JArray)context.Variables["arr"]).Select(x => (int)x["n"]).Sum())`, int32(3)},
		{`@(((JArray)context.Variables["arr"]).Count)`, int32(2)},
		{`@(string.Join(",", ((JObject)context.Variables["obj"]).Properties().Select(p => p.Name)))`, "access_token,expires_in,flag"},
		{`@(context.Request.Headers.Where(h => h.Key.StartsWith("X-")).Count())`, int32(1)},
		{`@(new[] {"x"}.Concat(new[] {"y"}).ToArray().Length)`, int32(2)},
	})
}

func TestJson(t *testing.T) {
	runCases(t, []evalCase{
		{`@(new JObject(new JProperty("status", "HTTP 405"), new JProperty("message", "Method not allowed")).ToString())`,
			"{\n  \"status\": \"HTTP 405\",\n  \"message\": \"Method not allowed\"\n}"},
		{`@(JObject.Parse("{\"a\":{\"b\":[1,2.5,true,null]}}").ToString(Formatting.None))`, `{"a":{"b":[1,2.5,true,null]}}`},
		{`@(JObject.Parse("{\"a\":[1,{}],\"e\":[]}").ToString())`, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"e\": []\n}"},
		{`@{ var o = new JObject(); o["a"] = "x"; o["n"] = 5; o["arr"] = new JArray(1, "two"); o["a"] = "y"; return o.ToString(Formatting.None); }`, `{"a":"y","n":5,"arr":[1,"two"]}`},
		{`@(JObject.Parse("{\"a\":\"s\"}").Value<string>("a"))`, "s"},
		{`@(JObject.Parse("{\"a\":5}").Value<int>("a") + 1)`, int32(6)},
		{`@((string)JObject.Parse("{\"a\":\"s\"}")["a"])`, "s"},
		{`@((string)JObject.Parse("{\"a\":null}")["a"] == null)`, true},
		{`@(JObject.Parse("{\"a\":1}")["missing"] == null)`, true},
		{`@(JObject.Parse("{\"a\":1}").ContainsKey("a"))`, true},
		{`@(JObject.Parse("{\"a\":1}")["a"].Type == JTokenType.Integer)`, true},
		{`@(JObject.Parse("{\"a\":1}").Type.ToString())`, "Object"},
		{`@(JArray.Parse("[1,2]").Count)`, int32(2)},
		{`@(JsonConvert.SerializeObject(JObject.Parse("{\"a\": 1}")))`, `{"a":1}`},
		{`@(JsonConvert.DeserializeObject<JObject>("{\"a\": \"b\"}")["a"].ToString())`, "b"},
		{`@(JObject.Parse("{\"a\":{\"b\":[{\"c\":7}]}}").SelectToken("a.b[0].c").ToString())`, "7"},
		{`@(JObject.Parse("{\"f\":1.0}").ToString(Formatting.None))`, `{"f":1.0}`},
		{`@(JObject.Parse("{\"s\":\"q\\\"\\n\"}").ToString(Formatting.None))`, `{"s":"q\"\n"}`},
		{`@(JObject.Parse("{\"a\":1,\"b\":2}").Remove("a"))`, true},
		{`@{ var a = new JArray(); a.Add("x"); a.Add(new JObject(new JProperty("k", 1))); return a.ToString(Formatting.None); }`, `["x",{"k":1}]`},
		{`@(new JObject(new JProperty("l", new JArray("a", "b"))).ToString(Formatting.None))`, `{"l":["a","b"]}`},
		{`@(JsonConvert.SerializeObject(new { a = 1, b = "x" }))`, `{"a":1,"b":"x"}`},
	})
	o := NewJObject()
	o.Set("k", &JValue{Value: "v"})
	if o.JSON(false) != `{"k":"v"}` || ToString(o) != "{\n  \"k\": \"v\"\n}" {
		t.Errorf("JObject API: %s", o.JSON(false))
	}
}

var point1 = 0.1
var point3 = point1 + 0.2

func TestToString(t *testing.T) {
	g, _ := ParseGuid("0F8FAD5B-D9CB-469F-A165-70867728950E")
	cases := []struct {
		v    any
		want string
	}{
		{true, "True"}, {false, "False"}, {nil, ""}, {int32(-5), "-5"}, {1.5, "1.5"}, {point3, "0.30000000000000004"},
		{1e-7, "1E-07"}, {100.0, "100"}, {time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC), "1/2/2024 3:04:05 PM"},
		{g, "0f8fad5b-d9cb-469f-a165-70867728950e"}, {Char('x'), "x"}, {90 * time.Second, "00:01:30"},
		{mustObj(`{"a":1}`), "{\n  \"a\": 1\n}"}, {[]string{"a"}, "System.String[]"},
	}
	for _, c := range cases {
		if got := ToString(c.v); got != c.want {
			t.Errorf("ToString(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestToBoolToInt(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{{true, true}, {"TRUE", true}, {"false", false}, {&JValue{Value: true}, true}} {
		if b, err := ToBool(c.v); err != nil || b != c.want {
			t.Errorf("ToBool(%v) = %v, %v", c.v, b, err)
		}
	}
	if _, err := ToBool("yes"); err == nil {
		t.Error("ToBool(yes) succeeded")
	}
	for _, c := range []struct {
		v    any
		want int64
	}{{int32(3), 3}, {int64(4), 4}, {5.0, 5}, {"6", 6}, {Char('0'), 48}} {
		if n, err := ToInt(c.v); err != nil || n != c.want {
			t.Errorf("ToInt(%v) = %v, %v", c.v, n, err)
		}
	}
	if _, err := ToInt(5.5); err == nil {
		t.Error("ToInt(5.5) succeeded")
	}
	if _, err := ToInt("x"); err == nil {
		t.Error("ToInt(x) succeeded")
	}
}

func TestIsExpression(t *testing.T) {
	for s, want := range map[string]bool{"@(1)": true, "  \n@{return 1;}": true, "@x": false, "text": false, "": false, "a@(1)": false} {
		if IsExpression(s) != want {
			t.Errorf("IsExpression(%q) != %v", s, want)
		}
	}
}

func TestRuntimeErrors(t *testing.T) {
	cases := []struct{ src, msg string }{
		{`@((string)context.Variables["missing"])`, "The given key 'missing' was not present in the dictionary."},
		{`@(((string)context.Variables["nil"]).Length)`, "Object reference not set to an instance of an object."},
		{`@(context.Variables["str"].Foo)`, "does not contain a definition for 'Foo'"},
		{`@(1 / (context.Variables.Count - context.Variables.Count))`, "Attempted to divide by zero."},
		{`@(new[] {1}.First(x => x > 5))`, "Sequence contains no matching element"},
		{`@{ throw new Exception("custom"); }`, "custom"},
		{`@(int.Parse("x"))`, "Input string was not in a correct format."},
		{`@(JObject.Parse("[1]"))`, "Error reading JObject"},
		{`@("abc".Substring(5))`, "startIndex cannot be larger than length of string."},
	}
	for _, c := range cases {
		p, err := Compile(c.src)
		if err != nil {
			t.Errorf("%s: compile: %v", c.src, err)
			continue
		}
		_, err = p.Eval(testContext())
		re, ok := err.(*RuntimeError)
		if !ok || !strings.Contains(re.Msg, c.msg) {
			t.Errorf("%s: err = %v, want RuntimeError containing %q", c.src, err, c.msg)
		}
	}
	// Response is nil before the backend answers.
	c := testContext()
	c.Response = nil
	if _, err := MustCompile(`@(context.Response.StatusCode)`).Eval(c); err == nil {
		t.Error("null Response did not fail")
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		src       string
		msg       string
		line, col int
	}{
		{"@(context.Request.Foo)", "unknown member 'Foo' on context.Request", 1, 19},
		{"@(Contxt.Request)", "unknown identifier 'Contxt'", 1, 3},
		{"@{\n  var x = (1;\n  return x; }", "expected ')' but found ';'", 2, 13},
		{"@{ return (1 return; }", "expected ')' but found 'return'", 1, 14},
		{"@{ var x = 1; }", "not all code paths return a value", 1, 15},
		{"@{ if (true) return 1; }", "not all code paths return a value", 1, 24},
		{"@(Foo.Bar())", "unknown identifier 'Foo'", 1, 3},
		{"@(Convert.Nope(1))", "'Convert' does not contain a definition for 'Nope'", 1, 11},
		{"@(\"abc\".Lenght)", "unknown member 'Lenght' on string", 1, 9},
		{"@(1 +)", "unexpected ')'", 1, 6},
		{"@(\"unterminated)", "unterminated string literal", 1, 3},
		{"plain", "expression must start with '@(' or '@{'", 1, 1},
		{"@(1) extra", "unexpected 'extra' after the expression", 1, 6},
		{"@(context.Request.MatchedParameters(\"a\"))", "non-invocable member 'MatchedParameters'", 1, 19},
		{"@(new XNamespace())", "cannot create an instance of 'XNamespace'", 1, 7},
		{"@(XDocument.Parse(\"<a/>\").Foo)", "unknown member 'Foo' on XDocument", 1, 27},
		{"@(XElement.Parse(\"<a/>\").Element(\"b\").Nope())", "unknown member 'Nope' on XElement", 1, 39},
		{"@{ var x = 1; var x = 2; return x; }", "already defined", 1, 15},
		{"@{ break; }", "no enclosing loop", 1, 4},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: err = %v, want SyntaxError", c.src, err)
			continue
		}
		if !strings.Contains(se.Msg, c.msg) || se.Line != c.line || se.Col != c.col {
			t.Errorf("%q: got %d:%d %q, want %d:%d containing %q", c.src, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
}

func TestConcurrentEval(t *testing.T) {
	p := MustCompile(`@{ var s = ""; foreach (var x in new[] {"a", "b"}) { s += x; } return s + context.Request.Method; }`)
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func() {
			c := testContext()
			for j := 0; j < 200; j++ {
				v, err := p.Eval(c)
				if err != nil || v != "abPOST" {
					t.Errorf("got %v, %v", v, err)
				}
			}
			done <- true
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}

// TestCorpusEval evaluates every compiled corpus expression against a test
// context: failures must be RuntimeErrors, never internal errors.
func TestCorpusEval(t *testing.T) {
	for _, x := range extractCorpus(t) {
		p, err := Compile(substituteNamedValues(x.src))
		if err != nil {
			continue
		}
		_, err = p.Eval(testContext())
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: %v\n%s", x.file, err, x.src)
		}
	}
}
