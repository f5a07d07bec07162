package expr

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// allowedSamples is an expression using each type the README's table of
// APIM's allowed .NET types marks yes or partly; each must compile and
// run. A type marked no must be unknown here (refused at load).
var allowedSamples = map[string]string{
	"Newtonsoft.Json.Formatting":                                     `@(new JObject().ToString(Formatting.None))`,
	"Newtonsoft.Json.JsonConvert":                                    `@(JsonConvert.SerializeObject(JObject.Parse("{}")))`,
	"Newtonsoft.Json.Linq.Extensions":                                `@(JArray.Parse("[1,2]").Values<int>().First())`,
	"Newtonsoft.Json.Linq.JArray":                                    `@(new JArray().Count)`,
	"Newtonsoft.Json.Linq.JContainer":                                `@{ JContainer c = JObject.Parse("{}"); return c.Count; }`,
	"Newtonsoft.Json.Linq.JObject":                                   `@(new JObject().Count)`,
	"Newtonsoft.Json.Linq.JProperty":                                 `@(new JProperty("a", 1).Name)`,
	"Newtonsoft.Json.Linq.JToken":                                    `@(JToken.Parse("1").ToString())`,
	"Newtonsoft.Json.Linq.JTokenType":                                `@(JTokenType.Object.ToString())`,
	"Newtonsoft.Json.Linq.JValue":                                    `@(new JValue(1).ToString())`,
	"System.Array":                                                   `@(Array.IndexOf(new[] {1}, 1))`,
	"System.BitConverter":                                            `@(BitConverter.ToString(new byte[] {1}))`,
	"System.Boolean":                                                 `@(Boolean.Parse("true"))`,
	"System.Byte":                                                    `@(Byte.Parse("7"))`,
	"System.Char":                                                    `@(Char.IsDigit('1'))`,
	"System.Collections.Generic.Dictionary":                          `@(new Dictionary<string, int>().Count)`,
	"System.Collections.Generic.Dictionary.KeyCollection":            `@(new Dictionary<string, int> { { "a", 1 } }.Keys.Count)`,
	"System.Collections.Generic.Dictionary.ValueCollection":          `@(new Dictionary<string, int> { { "a", 1 } }.Values.First())`,
	"System.Collections.Generic.HashSet":                             `@(new HashSet<int>().Add(1))`,
	"System.Collections.Generic.ICollection":                         `@{ ICollection<int> c = new List<int>(); return c.Count; }`,
	"System.Collections.Generic.IDictionary":                         `@{ IDictionary<string, int> d = new Dictionary<string, int>(); return d.Count; }`,
	"System.Collections.Generic.IEnumerable":                         `@{ IEnumerable<int> e = new List<int>(); return e.Count(); }`,
	"System.Collections.Generic.IList":                               `@{ IList<int> l = new List<int>(); return l.Count; }`,
	"System.Collections.Generic.IReadOnlyCollection":                 `@{ IReadOnlyCollection<int> l = new List<int>(); return l.Count; }`,
	"System.Collections.Generic.IReadOnlyDictionary":                 `@{ IReadOnlyDictionary<string, int> d = new Dictionary<string, int>(); return d.Count; }`,
	"System.Collections.Generic.KeyValuePair":                        `@(new KeyValuePair<string, int>("a", 1).Key)`,
	"System.Collections.Generic.List":                                `@(new List<int>().Count)`,
	"System.Collections.Generic.Queue":                               `@(new Queue<int>().Count)`,
	"System.Collections.Generic.Stack":                               `@(new Stack<int>().Count)`,
	"System.Convert":                                                 `@(Convert.ToBase64String(new byte[] {1}))`,
	"System.DateTime":                                                `@(DateTime.UtcNow.Year > 2000)`,
	"System.DateTimeKind":                                            `@(DateTimeKind.Utc.ToString())`,
	"System.DateTimeOffset":                                          `@(DateTimeOffset.UtcNow.Year > 2000)`,
	"System.Decimal":                                                 `@(decimal.Parse("1.5") * 2)`,
	"System.Double":                                                  `@(Double.Parse("1.5"))`,
	"System.Enum":                                                    `@(Enum.GetName(typeof(DayOfWeek), 1))`,
	"System.Exception":                                               `@{ try { throw new Exception("x"); } catch (Exception e) { return e.Message; } }`,
	"System.Guid":                                                    `@(Guid.NewGuid().ToString().Length)`,
	"System.Int16":                                                   `@(Int16.Parse("1"))`,
	"System.Int32":                                                   `@(Int32.Parse("1"))`,
	"System.Int64":                                                   `@(Int64.Parse("1"))`,
	"System.IO.StringReader":                                         `@(new StringReader("a").ReadToEnd())`,
	"System.IO.StringWriter":                                         `@(new StringWriter().ToString())`,
	"System.Linq.Enumerable":                                         `@(Enumerable.Range(1, 3).Sum())`,
	"System.Math":                                                    `@(Math.Max(1, 2))`,
	"System.MidpointRounding":                                        `@(Math.Round(2.5, MidpointRounding.AwayFromZero))`,
	"System.Net.IPAddress":                                           `@(IPAddress.Parse("10.0.0.1").ToString())`,
	"System.Net.WebUtility":                                          `@(WebUtility.UrlEncode("a b"))`,
	"System.Nullable":                                                `@{ int? n = null; int? m = 2; return !n.HasValue && m.Value == 2; }`,
	"System.Random":                                                  `@(new Random().Next(1, 2))`,
	"System.SByte":                                                   `@(SByte.Parse("-1"))`,
	"System.Security.Cryptography.HashAlgorithm":                     `@{ HashAlgorithm h = SHA256.Create(); return h.ComputeHash(new byte[] {1}).Length; }`,
	"System.Security.Cryptography.HMAC":                              `@{ HMAC h = new HMACSHA256(new byte[] {1}); return h.ComputeHash(new byte[] {1}).Length; }`,
	"System.Security.Cryptography.HMACMD5":                           `@(new HMACMD5(new byte[] {1}).ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.HMACSHA1":                          `@(new HMACSHA1(new byte[] {1}).ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.HMACSHA256":                        `@(new HMACSHA256(new byte[] {1}).ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.HMACSHA384":                        `@(new HMACSHA384(new byte[] {1}).ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.HMACSHA512":                        `@(new HMACSHA512(new byte[] {1}).ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.MD5":                               `@(MD5.Create().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA1":                              `@(SHA1.Create().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA1Managed":                       `@(new SHA1Managed().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA256":                            `@(SHA256.Create().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA256Managed":                     `@(new SHA256Managed().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA384":                            `@(SHA384.Create().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA384Managed":                     `@(new SHA384Managed().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA512":                            `@(SHA512.Create().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.SHA512Managed":                     `@(new SHA512Managed().ComputeHash(new byte[] {1}).Length)`,
	"System.Security.Cryptography.X509Certificates.X509Certificate2": `@(context.Request.Certificate == null)`,
	"System.Single":                                                  `@(Single.Parse("1.5"))`,
	"System.String":                                                  `@(String.IsNullOrEmpty(""))`,
	"System.StringComparer":                                          `@(new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase).Count)`,
	"System.StringComparison":                                        `@("A".Equals("a", StringComparison.OrdinalIgnoreCase))`,
	"System.StringSplitOptions":                                      `@("a,,b".Split(new[] {','}, StringSplitOptions.RemoveEmptyEntries).Length)`,
	"System.Text.Encoding":                                           `@(Encoding.UTF8.GetBytes("a").Length)`,
	"System.Text.RegularExpressions.Capture":                         `@(Regex.Match("ab", "(a)").Groups[1].Captures[0].Value)`,
	"System.Text.RegularExpressions.CaptureCollection":               `@(Regex.Match("ab", "(a)").Groups[1].Captures.Count)`,
	"System.Text.RegularExpressions.Group":                           `@(Regex.Match("ab", "(a)").Groups[1].Success)`,
	"System.Text.RegularExpressions.GroupCollection":                 `@(Regex.Match("ab", "(a)").Groups.Count)`,
	"System.Text.RegularExpressions.Match":                           `@(Regex.Match("ab", "a").Value)`,
	"System.Text.RegularExpressions.MatchCollection":                 `@(Regex.Matches("aa", "a").Count)`,
	"System.Text.RegularExpressions.Regex":                           `@(new Regex("a").IsMatch("a"))`,
	"System.Text.RegularExpressions.RegexOptions":                    `@(Regex.IsMatch("A", "a", RegexOptions.IgnoreCase))`,
	"System.Text.StringBuilder":                                      `@(new StringBuilder().Append("a").ToString())`,
	"System.TimeSpan":                                                `@(TimeSpan.FromSeconds(1).TotalMilliseconds)`,
	"System.Tuple":                                                   `@(Tuple.Create(1, "a").Item2)`,
	"System.UInt16":                                                  `@(UInt16.Parse("1"))`,
	"System.UInt32":                                                  `@(UInt32.Parse("1"))`,
	"System.UInt64":                                                  `@(UInt64.Parse("1"))`,
	"System.Uri":                                                     `@(new Uri("https://a.example/b").Host)`,
	"System.UriPartial":                                              `@(new Uri("https://a.example/b").GetLeftPart(UriPartial.Authority))`,
	"System.Xml.Linq.Extensions":                                     `@(XDocument.Parse("<a><b><c/></b></a>").Root.Elements().Elements().Count())`,
	"System.Xml.Linq.XAttribute":                                     `@(new XAttribute("a", "1").Value)`,
	"System.Xml.Linq.XCData":                                         `@(new XCData("x").Value)`,
	"System.Xml.Linq.XComment":                                       `@(new XComment("x").Value)`,
	"System.Xml.Linq.XContainer":                                     `@{ XContainer c = XDocument.Parse("<a/>"); return c.Nodes().Count(); }`,
	"System.Xml.Linq.XDeclaration":                                   `@(new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("a")).ToString())`,
	"System.Xml.Linq.XDocument":                                      `@(XDocument.Parse("<a/>").Root.Name.LocalName)`,
	"System.Xml.Linq.XElement":                                       `@(new XElement("a", "x").Value)`,
	"System.Xml.Linq.XName":                                          `@(XName.Get("a").LocalName)`,
	"System.Xml.Linq.XNamespace":                                     `@(XNamespace.Get("urn:x").NamespaceName)`,
	"System.Xml.Linq.XNode":                                          `@{ XNode n = new XElement("a"); return n.ToString(); }`,
	"System.Xml.Linq.XObject":                                        `@{ XObject o = new XElement("a"); return o.NodeType.ToString(); }`,
	"System.Xml.Linq.XProcessingInstruction":                         `@(new XProcessingInstruction("t", "d").Target)`,
	"System.Xml.Linq.XText":                                          `@(new XText("x").Value)`,
	"System.Xml.XmlNodeType":                                         `@(XmlNodeType.Element.ToString())`,
	"System.Xml.XmlReader":                                           `@(XmlReader.Create(new StringReader("<a/>")).Read())`,
}

// TestAllowedTypesTable checks the README's table of APIM's allowed .NET
// types against the engine.
func TestAllowedTypesTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "<!-- allowed-dotnet-types:start"), strings.Index(doc, "<!-- allowed-dotnet-types:end")
	if start < 0 || end < start {
		t.Fatal("README has no allowed-dotnet-types table")
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| (yes|partly|no) \\|")
	rows := row.FindAllStringSubmatch(doc[start:end], -1)
	if len(rows) < 100 {
		t.Fatalf("the table has %d rows", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		name, state := r[1], r[2]
		seen[name] = true
		sample, ok := allowedSamples[name]
		if state == "no" {
			c := canonType(name)
			if ok || knownType(c) || statics[c] != nil {
				t.Errorf("%s is marked no but is known here", name)
			}
			continue
		}
		if !ok {
			t.Errorf("%s is marked %s but has no sample", name, state)
			continue
		}
		p, err := Compile(sample)
		if err != nil {
			t.Errorf("%s: %s: %v", name, sample, err)
			continue
		}
		if _, err := p.Eval(testContext()); err != nil {
			t.Errorf("%s: %s: %v", name, sample, err)
		}
	}
	for name := range allowedSamples {
		if !seen[name] {
			t.Errorf("sample for %s, which the table does not list", name)
		}
	}
}
