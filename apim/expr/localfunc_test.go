package expr

import (
	"strings"
	"testing"
)

// The C# of real policies: local functions (recursive, called before
// their declaration, capturing the block's locals), const locals and
// using statements.
func TestLocalFunctionsConstUsing(t *testing.T) {
	runCases(t, []evalCase{
		{`@{
			int HostToNetworkOrder(int host) {
				return (((int)(byte)host) << 24) | (((int)(byte)(host >> 8)) << 16) | (((int)(byte)(host >> 16)) << 8) | (int)(byte)(host >> 24);
			}
			return HostToNetworkOrder(1);
		}`, int32(16777216)},
		{`@{ return Fib(15); int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); } }`, int32(610)},
		{`@{ var total = 0; void Add(int n) { total += n; } Add(2); Add(40); return total; }`, int32(42)},
		{`@{ string Greet(string who) => "Hello, " + who + "!"; return Greet("Ada"); }`, "Hello, Ada!"},
		{`@{ static bool IsEven(int n) => n % 2 == 0; return IsEven(4) && !IsEven(3); }`, true},
		{`@{ const int Limit = 3; const string Name = "x"; return Name + Limit; }`, "x3"},
		{`@{ using (var r = new System.IO.StringReader("a\nb")) { return r.ReadLine(); } }`, "a"},
		{`@{ var n = 0; for (var i = 0; i < 3; i++) { int Twice(int v) => v * 2; n += Twice(i); } return n; }`, int32(6)},
	})
	for _, c := range []struct{ src, want string }{
		{`@{ const int X = 1; X = 2; return X; }`, "cannot be assigned"},
		{`@{ int F(int a) { return a; } return F(1, 2); }`, "takes 1 arguments"},
		{`@{ int F(int a) { if (a > 0) { return a; } } return F(1); }`, "not all code paths return a value"},
		{`@{ int F(int a) => a; int F(int b) => b; return F(1); }`, "already defined"},
		{`@{ const x = 1; return x; }`, "expected a type and a name after 'const'"},
	} {
		if _, err := Compile(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.src, err, c.want)
		}
	}
	// Unbounded recursion is an exception, not a crash.
	p, err := Compile(`@{ int Down(int n) { return Down(n + 1); } return Down(0); }`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(testContext()); err == nil || !strings.Contains(err.Error(), "nested more than 64 calls deep") {
		t.Fatalf("unbounded recursion: %v", err)
	}
}

// XmlReader over a StringReader: the forward-only reading of SOAP and XML
// bodies real policies do.
func TestXmlReader(t *testing.T) {
	const soap = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrder id="7"><Sku>A-1</Sku><Empty/><Qty> 3 </Qty></GetOrder></soap:Body></soap:Envelope>`
	q := func(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }
	runCases(t, []evalCase{
		{`@{ var names = new List<string>(); using (var r = XmlReader.Create(new StringReader("` + q(soap) + `"))) { while (r.Read()) { if (r.NodeType == XmlNodeType.Element) { names.Add(r.Name + "@" + r.Depth); } } } return string.Join(",", names); }`,
			"soap:Envelope@0,soap:Body@1,GetOrder@2,Sku@3,Empty@3,Qty@3"},
		{`@{ var r = XmlReader.Create(new StringReader("` + q(soap) + `")); r.ReadToFollowing("GetOrder"); return r.GetAttribute("id") + "/" + r.LocalName + "/" + r.NamespaceURI; }`, "7/GetOrder/"},
		{`@{ var r = System.Xml.XmlReader.Create(new StringReader("` + q(soap) + `")); r.ReadToFollowing("Sku"); var sku = r.ReadElementContentAsString(); r.ReadToFollowing("Qty"); return sku + "|" + r.ReadElementContentAsString().Trim(); }`, "A-1|3"},
		{`@{ var r = XmlReader.Create(new StringReader("` + q(soap) + `")); r.MoveToContent(); return r.LocalName + ":" + r.Prefix + ":" + r.IsStartElement("soap:Envelope"); }`, "Envelope:soap:True"},
		{`@{ var r = XmlReader.Create(new StringReader("<a><b/><c>x</c></a>")); r.ReadToFollowing("b"); return r.IsEmptyElement && r.ReadToNextSibling("c") && r.ReadElementContentAsString() == "x"; }`, true},
		{`@{ var s = new XmlReaderSettings { IgnoreWhitespace = true }; var r = XmlReader.Create(new StringReader("<a> <b>1</b> </a>"), s); var n = 0; while (r.Read()) { n++; } return n; }`, int32(5)},
		{`@{ var sr = new StringReader("one\r\ntwo\nthree"); sr.ReadLine(); return sr.ReadLine() + "+" + sr.ReadToEnd(); }`, "two+three"},
	})
	for _, c := range []struct{ src, want string }{
		{`@{ var r = XmlReader.Create(new StringReader("<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")); while (r.Read()) { } return 1; }`, "DTD is prohibited"},
		{`@{ var r = XmlReader.Create(new StringReader("<a><b></a>")); while (r.Read()) { } return 1; }`, "element <b> closed by </a>"},
		{`@{ var r = XmlReader.Create("https://example.com/x.xml"); return 1; }`, "takes a StringReader"},
	} {
		p, err := Compile(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if _, err := p.Eval(testContext()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.src, err, c.want)
		}
	}
	if _, err := Compile(`@{ var r = XmlReader.Create(new StringReader("<a/>")); return r.NoSuchMember; }`); err == nil {
		t.Error("an unknown XmlReader member compiled")
	}
}

// The static Array methods real policies call.
func TestArrayStatics(t *testing.T) {
	runCases(t, []evalCase{
		{`@(Array.Exists(new[] {"a", "bb"}, s => s.Length == 2))`, true},
		{`@(Array.Exists(new string[0], s => true))`, false},
		{`@(Array.IndexOf(new[] {"a", "b"}, "b"))`, int32(1)},
		{`@(Array.LastIndexOf(new[] {1, 2, 1}, 1))`, int32(2)},
		{`@(Array.Find(new[] {3, 8, 9}, n => n > 5))`, int32(8)},
		{`@(Array.FindLast(new[] {3, 8, 9}, n => n > 5))`, int32(9)},
		{`@(Array.FindIndex(new[] {3, 8, 9}, n => n > 5))`, int32(1)},
		{`@(Array.FindLastIndex(new[] {3, 8, 9}, n => n > 50))`, int32(-1)},
		{`@(string.Join(",", Array.FindAll(new[] {"x1", "y", "x2"}, s => s.StartsWith("x"))))`, "x1,x2"},
		{`@(Array.TrueForAll(new[] {2, 4}, n => n % 2 == 0))`, true},
		{`@(string.Join(",", Array.ConvertAll(new[] {"a", "b"}, s => s.ToUpper())))`, "A,B"},
		{`@{ var a = new[] {"pear", "apple", "fig"}; Array.Sort(a); return string.Join(",", a); }`, "apple,fig,pear"},
		{`@{ var a = new object[] {3, 1, 2}; Array.Sort(a); return string.Join(",", a); }`, "1,2,3"},
		{`@{ var total = 0; Array.ForEach(new[] {1, 2, 3}, n => total += n); return total; }`, int32(6)},
		{`@{ var a = new byte[] {1, 2, 3}; Array.Clear(a, 1, 2); return a[0] + a[1] + a[2]; }`, int32(1)},
	})
}

// IPAddress, Queue, Stack, StringWriter, Uri.GetLeftPart and
// Group.Captures.
func TestMoreAllowedTypes(t *testing.T) {
	runCases(t, []evalCase{
		{`@(IPAddress.Parse("10.1.2.3").GetAddressBytes()[1])`, byte(1)},
		{`@(IPAddress.Parse("::1").AddressFamily.ToString())`, "InterNetworkV6"},
		{`@(IPAddress.IsLoopback(IPAddress.Parse("127.0.0.1")))`, true},
		{`@{ IPAddress a; return IPAddress.TryParse("300.1.1.1", out a); }`, false},
		{`@{ System.Net.IPAddress a; return IPAddress.TryParse("192.168.0.1", out a) && a.ToString() == "192.168.0.1"; }`, true},
		{`@(IPAddress.Parse("10.0.0.1").Equals(IPAddress.Parse("10.0.0.1")))`, true},
		{`@{ var q = new Queue<string>(); q.Enqueue("a"); q.Enqueue("b"); var first = q.Dequeue(); return first + q.Peek() + q.Count; }`, "ab1"},
		{`@{ var s = new Stack<int>(); s.Push(1); s.Push(2); return string.Join(",", s.ToArray()) + "|" + s.Pop() + s.Count; }`, "2,1|21"},
		{`@{ var s = new Stack<string>(new[] {"x", "y"}); var acc = ""; foreach (var v in s) { acc += v; } return acc; }`, "yx"},
		{`@{ var w = new StringWriter(); w.Write("a"); w.WriteLine(1); return w.ToString(); }`, "a1\r\n"},
		{`@(new Uri("https://api.contoso.com:8443/a/b?x=1#f").GetLeftPart(UriPartial.Path))`, "https://api.contoso.com:8443/a/b"},
		{`@(new Uri("https://api.contoso.com/a?x=1").GetLeftPart(UriPartial.Authority))`, "https://api.contoso.com"},
		{`@{ var g = Regex.Match("a1b2c3", "(?:([a-z])\\d)+").Groups[1]; return g.Captures.Count + ":" + g.Captures[0].Value + g.Captures[2].Value; }`, "3:ac"},
	})
	for _, src := range []string{`@(IPAddress.Parse("nope"))`, `@{ var q = new Queue<int>(); return q.Dequeue(); }`} {
		p, err := Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Eval(testContext()); err == nil {
			t.Errorf("%s: no exception", src)
		}
	}
}

func TestHashSet(t *testing.T) {
	runCases(t, []evalCase{
		{`@(new HashSet<string> { "a", "a", "b" }.Count)`, int32(2)},
		{`@{ var s = new HashSet<string>(); var first = s.Add("x"); var again = s.Add("x"); return first && !again && s.Contains("x"); }`, true},
		{`@(new HashSet<int>(new[] {1, 1, 2}).Count)`, int32(2)},
		{`@(new List<string> { "a", "a" }.Count)`, int32(2)},
	})
}

// Building XML as policies that turn JSON into SOAP do, and System.Enum /
// Tuple / Byte statics.
func TestXLinqBuildingEnumTuple(t *testing.T) {
	runCases(t, []evalCase{
		{`@(new XElement("order", new XAttribute("id", 7), new XElement("sku", "A-1"), new XElement("qty", 3)).ToString(SaveOptions.DisableFormatting))`,
			`<order id="7"><sku>A-1</sku><qty>3</qty></order>`},
		{`@{ XNamespace soap = "http://schemas.xmlsoap.org/soap/envelope/"; var env = new XElement(soap + "Envelope", new XAttribute(XNamespace.Xmlns + "soap", soap.NamespaceName), new XElement(soap + "Body", new XElement("Ping", "x"))); return env.ToString(SaveOptions.DisableFormatting); }`,
			`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Ping>x</Ping></soap:Body></soap:Envelope>`},
		{`@{ var root = new XElement("items"); foreach (var n in new[] {1, 2}) { root.Add(new XElement("i", n)); } root.AddFirst(new XComment("c")); return root.ToString(SaveOptions.DisableFormatting); }`,
			`<items><!--c--><i>1</i><i>2</i></items>`},
		{`@{ var d = XDocument.Parse("<a x=\"1\"><b>old</b><c/></a>"); var a = d.Root; a.SetAttributeValue("x", null); a.SetAttributeValue("y", "2"); a.SetElementValue("b", "new"); a.Element("c").Remove(); return a.ToString(SaveOptions.DisableFormatting); }`,
			`<a y="2"><b>new</b></a>`},
		{`@{ var d = XDocument.Parse("<a><b>1</b></a>"); var b = d.Root.Element("b"); b.Value = "2"; var copy = new XElement("wrap", d.Root); b.Value = "3"; return copy.ToString(SaveOptions.DisableFormatting) + d.Root.ToString(SaveOptions.DisableFormatting); }`,
			`<wrap><a><b>2</b></a></wrap><a><b>3</b></a>`},
		{`@(new XDocument(new XElement("r", true)).Root.Value)`, "true"},
		{`@(Enum.Parse(typeof(DayOfWeek), "monday", true).ToString())`, "Monday"},
		{`@{ DayOfWeek d; return Enum.TryParse<DayOfWeek>("Friday", out d) && d == DayOfWeek.Friday; }`, true},
		{`@(string.Join(",", Enum.GetNames(typeof(DayOfWeek))).StartsWith("Sunday,Monday"))`, true},
		{`@(Enum.IsDefined(typeof(DayOfWeek), "Caturday"))`, false},
		{`@(Tuple.Create("a", 2).Item1 + Tuple.Create("a", 2).Item2)`, "a2"},
		{`@(Byte.Parse("255"))`, byte(255)},
	})
	for _, src := range []string{`@(Byte.Parse("256"))`, `@(new XDocument(new XElement("a"), new XElement("b")))`, `@(new XElement("a", new XAttribute("x", 1), new XAttribute("x", 2)))`} {
		p, err := Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Eval(testContext()); err == nil {
			t.Errorf("%s: no exception", src)
		}
	}
}

// Nullable<T> without a value.
func TestNullableWithoutValue(t *testing.T) {
	runCases(t, []evalCase{
		{`@{ int? n = null; return n.HasValue; }`, false},
		{`@{ DateTime? d = null; return d.HasValue ? "set" : "none"; }`, "none"},
		{`@{ int? n = 5; return n.HasValue && n.Value == 5; }`, true},
	})
	p, err := Compile(`@{ int? n = null; return n.Value; }`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(testContext()); err == nil || !strings.Contains(err.Error(), "Nullable object must have a value") {
		t.Fatalf("null Value: %v", err)
	}
}
