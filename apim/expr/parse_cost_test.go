package expr

// Parse cost (issue 9, follow-up): a 16 MiB body of tiny tokens is refused
// by the step budget or the element limit, while realistic 5 MiB bodies
// parse. Steps and counts only; nothing is timed.

import (
	"strings"
	"testing"
)

func TestParseAdversarialBodiesRefused(t *testing.T) {
	for _, sh := range adversarialShapes {
		s, n := sh.body()
		if len(s) > maxBody {
			t.Fatalf("%s: %d bytes", sh.name, len(s))
		}
		e := &env{}
		var err error
		if sh.xml {
			_, err = parseXML(e, s, false)
		} else {
			_, err = parseJSON(e, s)
		}
		if err == nil {
			t.Errorf("%s (%d items): parsed in %d steps", sh.name, n, e.steps)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "Expression exceeded 1000000 loop iterations") && !strings.Contains(msg, "Gatehouse's limit for one") {
			t.Errorf("%s: %v", sh.name, err)
		}
		if e.steps > maxSteps+2*(maxParsedItems+2)*(xmlQuartersPerToken+xmlQuartersPerNode)/4 {
			t.Errorf("%s: %d steps", sh.name, e.steps)
		}
	}
	// Through a policy expression: an uncatchable budget error.
	s, _ := adversarialShapes[4].body() // XMLEmptyElements
	_, err := MustCompile(`@{ try { return context.Request.Body.As<XElement>(preserveContent: true).Elements().Count(); } catch (Exception) { return -1; } }`).Eval(bodyContext(s))
	if _, ok := err.(*RuntimeError); !ok || !strings.Contains(err.Error(), "Expression exceeded") {
		t.Fatalf("XMLEmptyElements via Body.As: %T %v", err, err)
	}
}

func TestParseRealisticBodies(t *testing.T) {
	j, x := realisticJSON(), realisticXML()
	if len(j) < 5<<20 || len(x) < 5<<20 {
		t.Fatalf("sizes %d, %d", len(j), len(x))
	}
	e := &env{}
	a, err := parseJArray(e, j)
	if err != nil || len(a.Items) != 20000 {
		t.Fatalf("JSON: %v", err)
	}
	t.Logf("5 MiB JSON: %d steps", e.steps)
	if e.steps > maxSteps*8/10 {
		t.Errorf("JSON: %d steps, want headroom", e.steps)
	}
	e = &env{}
	d, err := parseXML(e, x, false)
	if err != nil || d.Root.Name.Local != "Envelope" {
		t.Fatalf("XML: %v", err)
	}
	t.Logf("5 MiB XML: %d steps", e.steps)
	if e.steps > maxSteps*8/10 {
		t.Errorf("XML: %d steps, want headroom", e.steps)
	}
	// Through a policy expression.
	v, err := MustCompile(`@(context.Request.Body.As<JArray>(preserveContent: true).Count)`).Eval(bodyContext(j))
	if err != nil || v != int32(20000) {
		t.Fatalf("Body.As<JArray>: %v, %v", v, err)
	}
}

// TestParseElementLimit: without a budget (ParseJSON, ParseXDocument from
// Go callers) the element limit still holds, at exactly maxParsedItems.
func TestParseElementLimit(t *testing.T) {
	items := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	if a, err := ParseJArray("[" + items(maxParsedItems, "0") + "]"); err != nil || len(a.Items) != maxParsedItems {
		t.Fatalf("array at the limit: %v", err)
	}
	_, err := ParseJSON(`{"a":[` + items(maxParsedItems+1, "0") + "]}")
	if ex, ok := err.(*csErr); !ok || ex.typ != "JsonReaderException" || !strings.HasPrefix(ex.msg, "The array has more than 1048576 items, Gatehouse's limit for one JSON array. Path 'a[1048576]'") {
		t.Fatalf("array past the limit: %v", err)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i <= maxParsedItems; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + shortName(i) + `":0`)
	}
	b.WriteByte('}')
	_, err = ParseJSON(b.String())
	if ex, ok := err.(*csErr); !ok || ex.typ != "JsonReaderException" || !strings.HasPrefix(ex.msg, "The object has more than 1048576 properties, Gatehouse's limit for one JSON object.") {
		t.Fatalf("object past the limit: %v", err)
	}
	if d, err := ParseXDocument("<r>"+strings.Repeat("<a/>", maxParsedItems)+"</r>", false); err != nil || len(d.Root.Nodes) != maxParsedItems {
		t.Fatalf("children at the limit: %v", err)
	}
	_, err = ParseXDocument("<r>"+strings.Repeat("<a/>", maxParsedItems)+"x</r>", false)
	if ex, ok := err.(*csErr); !ok || ex.typ != "XmlException" || !strings.HasPrefix(ex.msg, "The element 'r' has more than 1048576 child nodes, Gatehouse's limit for one XML element.") {
		t.Fatalf("children past the limit: %v", err)
	}
	b.Reset()
	b.WriteString("<r")
	for i := 0; i <= maxParsedItems; i++ {
		b.WriteString(" " + shortName(i) + `=""`)
	}
	b.WriteString("/>")
	_, err = ParseXDocument(b.String(), false)
	if ex, ok := err.(*csErr); !ok || ex.typ != "XmlException" || !strings.HasPrefix(ex.msg, "The element has more than 1048576 attributes, Gatehouse's limit for one XML element.") {
		t.Fatalf("attributes past the limit: %v", err)
	}
	// Quoted '=' and '>' are not attributes.
	if n := tagAttrs(`<a b="=>" c='x=y>'>rest=`); n != 2 {
		t.Fatalf("tagAttrs = %d", n)
	}
}
