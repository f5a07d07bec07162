package expr

import (
	"strings"
	"testing"
)

const nsXML = `<?xml version="1.0" encoding="utf-8"?>
<!-- sample -->
<m:message1 xmlns:m="urn:msg" xmlns="urn:default" id="7" m:kind="a&amp;b">
  <conditionValue>true</conditionValue>
  <value1>MESSAGE1_TEST1</value1>
  <value2 n="2">MESSAGE1_<b>TEST2</b></value2>
  <value3>MESSAGE1_TEST3</value3>
  <m:empty/>
  <count> 42 </count>
</m:message1>`

// xmlCtx stores the sample document as a send-request response variable.
func xmlCtx() *Context {
	c := testContext()
	c.Variables["sendRequestResponse"] = &Response{StatusCode: 200, Body: NewBody([]byte(nsXML))}
	c.Variables["x"] = nsXML
	c.Request.Body = NewBody([]byte(`<a><b k="v">t</b><b/></a>`))
	return c
}

func evalXML(t *testing.T, src string) any {
	t.Helper()
	p, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	v, err := p.Eval(xmlCtx())
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

// TestXMLCorpusExpression evaluates the corpus snippet "Extracting multiple
// values from xml documents" against a namespaced body.
func TestXMLCorpusExpression(t *testing.T) {
	src := `@{

            var doc = XDocument.Parse(((IResponse)context.Variables["sendRequestResponse"]).Body.As<string>());

            var obj = new JObject();
            obj["conditionValue"] = doc.Descendants().Where(r=>r.Name.LocalName == "conditionValue").First().Value;
            obj["value1"] = doc.Descendants().Where(r=>r.Name.LocalName == "value1").First().Value;
            obj["value3"] = doc.Descendants().Where(r=>r.Name.LocalName == "value3").First().Value;

            return obj;

        }`
	v := evalXML(t, src)
	o, ok := v.(*JObject)
	if !ok {
		t.Fatalf("got %T", v)
	}
	want := `{"conditionValue":"true","value1":"MESSAGE1_TEST1","value3":"MESSAGE1_TEST3"}`
	if got := o.JSON(false); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// The policy's follow-up condition reads the stored object back.
	c := xmlCtx()
	r, err := MustCompile(src).Eval(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Variables["jsonResponse"] = r
	b, err := MustCompile(`@((bool)((JObject)context.Variables["jsonResponse"])["conditionValue"])`).Eval(c)
	if err != nil || b != true {
		t.Errorf("condition = %v, %v", b, err)
	}
}

func TestXMLMembers(t *testing.T) {
	doc := `XDocument.Parse((string)context.Variables["x"])`
	cases := []struct {
		src  string
		want any
	}{
		// Root, Name, XName
		{`@(` + doc + `.Root.Name.LocalName)`, "message1"},
		{`@(` + doc + `.Root.Name.NamespaceName)`, "urn:msg"},
		{`@(` + doc + `.Root.Name.ToString())`, "{urn:msg}message1"},
		{`@(` + doc + `.Root.Name.Namespace.NamespaceName)`, "urn:msg"},
		{`@(XElement.Parse("<a/>").Name.ToString())`, "a"},
		{`@(XElement.Parse("<a/>").Name == "a")`, true},
		{`@(XElement.Parse("<a xmlns='u'/>").Name == "{u}a")`, true},
		{`@(XElement.Parse("<a xmlns='u'/>").Name == "a")`, false},
		{`@(XName.Get("l", "n").ToString())`, "{n}l"},
		{`@(XName.Get("{n}l").LocalName)`, "l"},
		// Descendants / Elements / Element with names and namespaces
		{`@(` + doc + `.Descendants().Count())`, int32(8)},
		{`@(` + doc + `.Descendants("value1").Count())`, int32(0)},
		{`@(` + doc + `.Descendants("{urn:default}value1").First().Value)`, "MESSAGE1_TEST1"},
		{`@{ XNamespace ns = "urn:default"; return ` + doc + `.Root.Element(ns + "value3").Value; }`, "MESSAGE1_TEST3"},
		{`@{ XNamespace ns = "urn:default"; XName n = ns + "value1"; return n.LocalName + "|" + n.NamespaceName; }`, "value1|urn:default"},
		{`@{ var ns = XNamespace.Get("urn:default"); var n = ns + "b"; return n.ToString(); }`, "{urn:default}b"},
		{`@{ XNamespace m = "urn:msg"; return ` + doc + `.Root.Element(m + "empty").IsEmpty; }`, true},
		{`@(` + doc + `.Root.Elements().Count())`, int32(6)},
		{`@(` + doc + `.Root.Elements("{urn:default}value2").Single().Value)`, "MESSAGE1_TEST2"},
		{`@(` + doc + `.Root.Element("value1") == null)`, true},
		{`@(XElement.Parse("<a><b>1</b><c/><b>2</b></a>").Elements("b").Select(e => e.Value).Last())`, "2"},
		{`@(string.Join(",", XElement.Parse("<a><b>1</b><c/><b>2</b></a>").Elements().Select(e => e.Name.LocalName)))`, "b,c,b"},
		{`@(XElement.Parse("<a><b><c>x</c></b></a>").Elements().Elements("c").First().Value)`, "x"},
		{`@(XElement.Parse("<a><b><c>x</c></b></a>").Descendants("c").Any())`, true},
		{`@(XElement.Parse("<a><b><c>x</c></b></a>").Descendants("d").Any())`, false},
		{`@(XElement.Parse("<a><b><c>x</c></b></a>").Descendants().FirstOrDefault(e => e.Name == "zz") == null)`, true},
		{`@(XElement.Parse("<a><b i='1'/><b i='2'/></a>").Elements("b").Where(e => (int)e.Attribute("i") > 1).Count())`, int32(1)},
		// Attribute / Attributes
		{`@(` + doc + `.Root.Attribute("id").Value)`, "7"},
		{`@(` + doc + `.Root.Attribute("{urn:msg}kind").Value)`, "a&b"},
		{`@(` + doc + `.Root.Attribute("{urn:msg}kind").Name.LocalName)`, "kind"},
		{`@(` + doc + `.Root.Attribute("kind") == null)`, true},
		{`@(` + doc + `.Root.Attributes().Count())`, int32(4)},
		{`@(` + doc + `.Root.Attributes().Where(a => a.IsNamespaceDeclaration).Count())`, int32(2)},
		{`@(XElement.Parse("<a x='1' y='2'/>").Attribute("y").ToString())`, `y="2"`},
		{`@(XElement.Parse("<a x='1' y='2'/>").Attribute("x").Parent.Name.LocalName)`, "a"},
		// Value, Parent, HasElements, IsEmpty
		{`@(` + doc + `.Root.Value)`, "trueMESSAGE1_TEST1MESSAGE1_TEST2MESSAGE1_TEST3 42 "},
		{`@(XElement.Parse("<a>x<!--c--><![CDATA[<y>]]></a>").Value)`, "x<y>"},
		{`@(` + doc + `.Descendants("{urn:default}b").First().Parent.Name.LocalName)`, "value2"},
		{`@(` + doc + `.Root.Parent == null)`, true},
		{`@(` + doc + `.Root.Document != null)`, true},
		{`@(XElement.Parse("<a/>").Document == null)`, true},
		{`@(` + doc + `.Root.HasElements)`, true},
		{`@(XElement.Parse("<a>t</a>").HasElements)`, false},
		{`@(XElement.Parse("<a/>").IsEmpty)`, true},
		{`@(XElement.Parse("<a></a>").IsEmpty)`, false},
		{`@(XElement.Parse("<a> </a>").IsEmpty)`, false},
		{`@(XElement.Parse("<a> </a>").ToString())`, "<a></a>"},
		{`@(XElement.Parse("<a> </a>", LoadOptions.PreserveWhitespace).Value)`, " "},
		{`@(XElement.Parse("<a>x</a>").FirstNode.NodeType.ToString())`, "Text"},
		{`@(XElement.Parse("<a><b/><c/></a>").FirstNode.NextNode.ToString())`, "<c />"},
		// explicit conversions
		{`@((string)XElement.Parse("<a>v</a>"))`, "v"},
		{`@((int)` + doc + `.Descendants("{urn:default}count").First())`, int32(42)},
		{`@((int)XElement.Parse("<a n='5'/>").Attribute("n") + 1)`, int32(6)},
		{`@((long)XElement.Parse("<a>9000000000</a>"))`, int64(9000000000)},
		{`@((double)XElement.Parse("<a>2.5</a>"))`, 2.5},
		{`@((bool)XElement.Parse("<a>1</a>"))`, true},
		{`@((string)XElement.Parse("<a/>").Element("b") == null)`, true},
		{`@((int?)XElement.Parse("<a/>").Element("b") == null)`, true},
		{`@((string)XElement.Parse("<a/>").Attribute("b"))`, nil},
		// casts between node types
		{`@(((XElement)XElement.Parse("<a><b/></a>").FirstNode).Name.LocalName)`, "b"},
		{`@(XElement.Parse("<a><b/></a>").FirstNode is XElement)`, true},
		{`@(XElement.Parse("<a>t</a>").FirstNode is XElement)`, false},
		{`@(XElement.Parse("<a>t<b/></a>").Nodes().OfType<XElement>().Count())`, int32(1)},
		// bodies
		{`@(context.Request.Body.As<XDocument>().Root.Element("b").Attribute("k").Value)`, "v"},
		{`@(context.Request.Body.As<XElement>().Elements("b").Count())`, int32(2)},
		{`@(context.Request.Body.As<XNode>().ToString(SaveOptions.DisableFormatting))`, `<a><b k="v">t</b><b /></a>`},
		{`@{ var a = context.Request.Body.As<XElement>(preserveContent: true); return a.Name + "|" + context.Request.Body.As<string>(); }`, `a|<a><b k="v">t</b><b/></a>`},
		{`@(((IResponse)context.Variables["sendRequestResponse"]).Body.As<XDocument>().Root.Name.LocalName)`, "message1"},
	}
	for _, c := range cases {
		got := evalXML(t, c.src)
		if ws, ok := c.want.(string); ok {
			if g, isStr := got.(string); !isStr || g != ws {
				t.Errorf("%s = %#v (%T), want %q", c.src, got, got, ws)
			}
			continue
		}
		if c.want == nil {
			if got != nil {
				t.Errorf("%s = %#v, want null", c.src, got)
			}
			continue
		}
		if !equals(got, c.want) || typeNameOf(got) != typeNameOf(c.want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", c.src, got, got, c.want, c.want)
		}
	}
}

func TestXMLToString(t *testing.T) {
	cases := []struct{ src, want string }{
		{`@(XElement.Parse("<a><b x=\"1\">t</b><c/></a>").ToString())`, "<a>\n  <b x=\"1\">t</b>\n  <c />\n</a>"},
		{`@(XElement.Parse("<a><b x=\"1\">t</b><c/></a>").ToString(SaveOptions.DisableFormatting))`, `<a><b x="1">t</b><c /></a>`},
		{`@(XElement.Parse("<a><b><c><d/></c></b></a>").ToString())`, "<a>\n  <b>\n    <c>\n      <d />\n    </c>\n  </b>\n</a>"},
		// mixed content stops indenting once text is written
		{`@(XElement.Parse("<r><a/>text<b><c/></b></r>").ToString())`, "<r>\n  <a />text<b><c /></b></r>"},
		// escaping
		{`@(XElement.Parse("<a q='&quot;&lt;'>&lt;&amp;&gt;\"</a>").ToString())`, `<a q="&quot;&lt;">&lt;&amp;&gt;"</a>`},
		{`@(XElement.Parse("<a><![CDATA[x<y]]><!--c--><?pi d?></a>").ToString())`, "<a><![CDATA[x<y]]><!--c--><?pi d?></a>"},
		{`@(XElement.Parse("<a><!--c--><?pi d?></a>").ToString())`, "<a>\n  <!--c-->\n  <?pi d?>\n</a>"},
		// namespaces: declarations kept, and re-declared for a sub-tree
		{`@(XDocument.Parse("<p:a xmlns:p='u' xmlns='d'><b/><p:c/></p:a>").ToString())`, "<p:a xmlns:p=\"u\" xmlns=\"d\">\n  <b />\n  <p:c />\n</p:a>"},
		{`@(XDocument.Parse("<p:a xmlns:p='u' xmlns='d'><b/><p:c/></p:a>").Root.Elements().First().ToString())`, `<b xmlns="d" />`},
		{`@(XDocument.Parse("<p:a xmlns:p='u' xmlns='d'><b/><p:c k='1' p:z='2'/></p:a>").Root.Elements().Last().ToString())`, `<p:c k="1" p:z="2" xmlns:p="u" />`},
		{`@(XElement.Parse("<a xmlns='d'><b xmlns=''/></a>").ToString(SaveOptions.DisableFormatting))`, `<a xmlns="d"><b xmlns="" /></a>`},
		// XDocument.ToString omits the declaration, keeps top-level comments
		{`@(XDocument.Parse("<?xml version='1.0'?><!--c--><a/>").ToString())`, "<!--c-->\n<a />"},
		{`@(XDocument.Parse("<a/>").ToString())`, "<a />"},
		{`@(XDocument.Parse("<a/>").Root.Name.Namespace.ToString())`, ""},
		{`@(XNamespace.Xml.NamespaceName)`, "http://www.w3.org/XML/1998/namespace"},
	}
	for _, c := range cases {
		got := evalXML(t, c.src)
		if got != c.want {
			t.Errorf("%s =\n%q\nwant\n%q", c.src, got, c.want)
		}
	}
	// The Go API: ToString of a value gives the indented form.
	d, err := ParseXDocument("<a><b/></a>", false)
	if err != nil || ToString(d) != "<a>\n  <b />\n</a>" || ToString(d.Root.Name) != "a" {
		t.Errorf("ParseXDocument: %v %q", err, ToString(d))
	}
}

func TestXMLErrors(t *testing.T) {
	runtime := []struct{ src, msg string }{
		{`@(XDocument.Parse("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"))`, "DTD is prohibited"},
		{`@(XDocument.Parse("<a>&e;</a>"))`, "invalid character entity &e;"},
		{`@(XDocument.Parse("<a>"))`, ""},
		{`@(XDocument.Parse(""))`, "Root element is missing"},
		{`@(XDocument.Parse("<a/><b/>"))`, "multiple root elements"},
		{`@(XDocument.Parse("<a/>x"))`, "Data at the root level is invalid"},
		{`@(XDocument.Parse("<a></b>"))`, ""},
		{`@(XDocument.Parse("<p:a/>"))`, "'p' is an undeclared prefix"},
		{`@(XDocument.Parse("<a x='1' x='2'/>"))`, ""},
		{`@(XDocument.Parse(null))`, "Value cannot be null"},
		{`@((int)XElement.Parse("<a>x</a>"))`, "The string 'x' is not a valid Int32 value."},
		{`@((bool)XElement.Parse("<a>yes</a>"))`, "not a valid Boolean value"},
		{`@(XElement.Parse("<a/>").Element(""))`, "not a valid local name"},
		{`@(context.Variables["str"].Elements())`, "Unable to cast"},
		{`@(XDocument.Parse("<a>" + new string('x', 10) + "</a>").Root.Element("b").Value)`, "Object reference not set"},
	}
	for _, c := range runtime {
		p, err := Compile(c.src)
		if err != nil {
			t.Errorf("%s: compile: %v", c.src, err)
			continue
		}
		_, err = p.Eval(xmlCtx())
		re, ok := err.(*RuntimeError)
		if !ok || !strings.Contains(re.Msg, c.msg) {
			t.Errorf("%s: err = %v, want RuntimeError containing %q", c.src, err, c.msg)
		}
	}
	// catchable as XmlException
	v := evalXML(t, `@{ try { XDocument.Parse("<a>"); return "no"; } catch (XmlException) { return "caught"; } }`)
	if v != "caught" {
		t.Errorf("catch XmlException: %v", v)
	}
	compile := []string{
		`@(XDocument.Parse("<a/>").Value)`,
		`@(XDocument.Parse("<a/>").Root.Nope)`,
		`@(XElement.Parse("<a/>").Attribute("x").Foo)`,
		`@(XElement.Parse("<a/>").Name.Local)`,
		`@(XDocument.Load("x"))`,
	}
	for _, src := range compile {
		if _, err := Compile(src); err == nil {
			t.Errorf("%s compiled", src)
		}
	}
}

func TestXMLLimits(t *testing.T) {
	deep := strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1)
	if _, err := ParseXDocument(deep, false); err == nil || !strings.Contains(err.Error(), "nesting depth") {
		t.Errorf("deep document: %v", err)
	}
	ok := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if _, err := ParseXDocument(ok, false); err != nil {
		t.Errorf("depth 100: %v", err)
	}
	// Parsing is charged to the step budget: a large document parsed in a
	// loop hits the limit instead of running unbounded.
	c := xmlCtx()
	c.Variables["big"] = "<r>" + strings.Repeat("<i/>", 200000) + "</r>"
	p := MustCompile(`@{ var n = 0; for (var i = 0; i < 1000; i++) { n += XDocument.Parse((string)context.Variables["big"]).Descendants().Count(); } return n; }`)
	_, err := p.Eval(c)
	if err == nil || !strings.Contains(err.Error(), "exceeded") {
		t.Errorf("budget: %v", err)
	}
}
