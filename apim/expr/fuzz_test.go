package expr

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzCompile compiles arbitrary text and evaluates what compiles: no
// panics (Eval's recover reports them as "internal error"), no hangs.
func FuzzCompile(f *testing.F) {
	if _, err := os.Stat(corpusDir); err == nil {
		for _, x := range extractCorpus(f) {
			f.Add(substituteNamedValues(x.src))
		}
	}
	for _, s := range []string{
		`@($"{1:yyyy}{{}}")`, `@{ for (;;) {} }`, `@(new[] {1}.Select(x => x))`, `@((int?)null)`,
		`@{ var s = "x"; while (true) { s += s; } }`, `@("a".PadLeft(100000000))`, `@(@"x""y")`,
		`@(XDocument.Parse("<m:a xmlns:m='u'><b k='1'>t</b><![CDATA[x]]></m:a>").Descendants().Where(r => r.Name.LocalName == "b").First().Value)`,
		`@{ XNamespace ns = "u"; var e = XElement.Parse("<a xmlns='u'><b/></a>"); return e.Element(ns + "b").ToString() + (string)e + e.ToString(SaveOptions.DisableFormatting); }`,
		`@((int)context.Request.Body.As<XElement>().Attribute("n"))`,
		`@{ int F(int n) { return n < 1 ? 0 : F(n - 1) + 1; } const int k = 3; return F(k); }`,
		`@{ using (var r = XmlReader.Create(new StringReader("<a><b>1</b></a>"))) { r.ReadToFollowing("b"); return r.ReadElementContentAsString(); } }`,
		`@{ var e = new XElement("a", new XAttribute("x", 1), "t"); e.SetElementValue("b", 2); return e.ToString(); }`,
		`@{ var q = new Queue<int>(); q.Enqueue(1); return Array.Exists(q.ToArray(), v => v == 1) + IPAddress.Parse("::1").ToString(); }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		// A hang becomes a crash that the fuzzer records.
		watchdog := time.AfterFunc(20*time.Second, func() { panic("hang: " + strconvQuote(src)) })
		defer watchdog.Stop()
		p, err := Compile(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Compile returned %T: %v", err, err)
			}
			return
		}
		start := time.Now()
		_, err = p.Eval(testContext())
		if err != nil {
			if _, ok := err.(*RuntimeError); !ok {
				t.Fatalf("Eval returned %T: %v", err, err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Eval(%q): %v", src, err)
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("Eval(%q) took %v", src, d)
		}
	})
}

func strconvQuote(s string) string { return strconv.Quote(s) }
