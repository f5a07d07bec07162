package expr

// Security review (issue 9, finding 3): body parsing must be linear,
// charged to the evaluation's step budget and stopped when the request is
// cancelled. These tests count steps and inspect structure; none is timed.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wideJSON is an object of n keys "k0".."k(n-1)" with their index as value.
func wideJSON(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// wideXML is one element with n attributes; with ns, each attribute is in
// its own namespace declared on the element.
func wideXML(n int, ns bool) string {
	var b strings.Builder
	b.WriteString("<r")
	for i := 0; i < n; i++ {
		if ns {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:%d" p%d:a="%d"`, i, i, i, i)
		} else {
			fmt.Fprintf(&b, ` a%d="%d"`, i, i)
		}
	}
	b.WriteString("/>")
	return b.String()
}

func bodyContext(body string) *Context {
	c := testContext()
	c.Request.Body = NewBody([]byte(body))
	return c
}

// parseSteps is what parsing JSON s charges: one step per 256 bytes, a
// quarter step per token and one step per node (each token makes one).
func parseSteps(s string, tokens int) int { return len(s)>>8 + tokens*5/4 }

// xmlParseSteps is what parsing XML s charges: one step per 256 bytes, a
// quarter step per token (attributes included) and two per kept node.
func xmlParseSteps(s string, tokens, nodes int) int { return len(s)>>8 + (tokens+8*nodes)/4 }

func TestParseJSONWideObjectChargedAndIndexed(t *testing.T) {
	const n = 80000
	s := wideJSON(n)
	e := &env{}
	tok, err := parseJSON(e, s)
	if err != nil {
		t.Fatal(err)
	}
	o := tok.(*JObject)
	if o.Len() != n || o.index == nil || len(o.index) != n {
		t.Fatalf("Len %d, index %d: want %d properties, indexed", o.Len(), len(o.index), n)
	}
	if got, want := e.steps, parseSteps(s, 2*n+1); got != want {
		t.Fatalf("steps = %d, want %d (5/4 per token, one per 256 bytes)", got, want)
	}
	if v := o.Get("k79999").(*JValue).Value; v != int64(79999) {
		t.Fatalf("k79999 = %v", v)
	}
	// The whole policy pattern, within the budget.
	v, err := MustCompile(`@(context.Request.Body.As<JObject>().Properties().Count())`).Eval(bodyContext(s))
	if err != nil || v != int32(n) {
		t.Fatalf("Properties().Count() = %v, %v", v, err)
	}
}

func TestParseJSONBudget(t *testing.T) {
	s := wideJSON(80000)
	// An evaluation with little budget left cannot parse the body.
	e := &env{steps: maxSteps - 1000}
	if _, err := parseJSON(e, s); err == nil || !strings.Contains(err.Error(), "Expression exceeded") {
		t.Fatalf("parse near the budget's end: %v", err)
	}
	// Parsing the body over and over runs out of budget like any loop.
	p := MustCompile(`@{
		long n = 0;
		for (int i = 0; i < 1000; i++) { n += context.Request.Body.As<JObject>(preserveContent: true).Count; }
		return n;
	}`)
	_, err := p.Eval(bodyContext(s))
	if _, ok := err.(*RuntimeError); !ok || !strings.Contains(err.Error(), "Expression exceeded 1000000 loop iterations") {
		t.Fatalf("repeated parse: %T %v", err, err)
	}
	// The budget error cannot be caught.
	p = MustCompile(`@{
		try { for (int i = 0; i < 1000; i++) { JToken.Parse(context.Request.Body.As<string>(preserveContent: true)); } }
		catch (Exception) { return "caught"; }
		return "done";
	}`)
	if v, err := p.Eval(bodyContext(s)); err == nil {
		t.Fatalf("try/catch swallowed the budget: %v", v)
	}
}

func TestParseJSONMaxDepth(t *testing.T) {
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, c := range []struct{ open, close string }{{"[", "]"}, {`{"a":`, "}"}} {
		if _, err := ParseJSON(nest(c.open, c.close, 64)); err != nil {
			t.Fatalf("depth 64 %s: %v", c.open, err)
		}
		_, err := ParseJSON(nest(c.open, c.close, 65))
		if err == nil || !strings.HasPrefix(err.Error(), "The reader's MaxDepth of 64 has been exceeded.") {
			t.Fatalf("depth 65 %s: %v", c.open, err)
		}
	}
	// Deep input is rejected early, whatever its size.
	_, err := ParseJSON(strings.Repeat("[", 8<<20))
	if err == nil || !strings.Contains(err.Error(), "MaxDepth") {
		t.Fatalf("8M brackets: %v", err)
	}
	v, err := MustCompile(`@{ try { JToken.Parse(new string('[', 100)); return "parsed"; } catch (JsonReaderException ex) { return ex.Message; } }`).Eval(testContext())
	if err != nil || !strings.HasPrefix(v.(string), "The reader's MaxDepth of 64 has been exceeded. Path '") {
		t.Fatalf("catch: %v, %v", v, err)
	}
}

func TestParseJSONDuplicateNames(t *testing.T) {
	// Json.NET's JObject.Parse: the last value wins, at the first position.
	for _, n := range []int{2, 20} { // a small object and an indexed one
		var b strings.Builder
		b.WriteString(`{"dup":1`)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `,"k%d":%d`, i, i)
		}
		b.WriteString(`,"dup":"last"}`)
		o, err := ParseJObject(b.String())
		if err != nil {
			t.Fatal(err)
		}
		if o.Len() != n+1 || o.Properties()[0].Name != "dup" || o.Get("dup").(*JValue).Value != "last" {
			t.Fatalf("n=%d: %s", n, o.JSON(false))
		}
		if o.Properties()[0].parent != o {
			t.Fatal("parent not set")
		}
	}
}

func TestJObjectIndexOperations(t *testing.T) {
	o := &JObject{}
	for i := 0; i < 20; i++ {
		o.Set(fmt.Sprintf("k%d", i), &JValue{Value: int64(i)})
	}
	if o.index == nil {
		t.Fatal("no index past jobjectIndexMin")
	}
	o.Set("k3", &JValue{Value: "x"}) // replace keeps the position
	if o.Properties()[3].Name != "k3" || o.Get("k3").(*JValue).Value != "x" || o.Len() != 20 {
		t.Fatalf("replace: %s", o.JSON(false))
	}
	if !o.Remove("k5") || o.Remove("k5") || o.Property("k5") != nil || o.Len() != 19 {
		t.Fatal("remove")
	}
	if err := o.addProp(&JProperty{Name: "k6"}); err == nil {
		t.Fatal("addProp accepted a duplicate")
	}
	o.Set("k5", nil) // re-added at the end
	if ps := o.Properties(); ps[len(ps)-1].Name != "k5" || o.Property("k5") != ps[len(ps)-1] {
		t.Fatal("re-add")
	}
	c := deepClone(o).(*JObject)
	if c.index == nil || c.Property("k19") == o.Property("k19") || c.Get("k19").(*JValue).Value != int64(19) || c.Property("k19").parent != c {
		t.Fatal("clone")
	}
	// Property order and names survive a round trip.
	back, err := ParseJObject(o.JSON(false))
	if err != nil || back.JSON(true) != o.JSON(true) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestParseJSONLikeEncodingJSON: the parser accepts what encoding/json
// accepts (the language before this parser) and decodes strings the same.
func TestParseJSONLikeEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`"a\u00e9\ud83d\ude00\ud800x\udc00"`, `"\ud800\u0041"`, "\"\xff\xfe ok\"", `"\/\b\f\n\r\t\\\""`,
		`[1,-0,0.5,1e3,-1E-2,12345678901234567890,-9223372036854775808]`, ` {"a" : [ true , false , null ] } `,
		`01`, `1.`, `.5`, `-`, `1e`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `'a'`, `"a` + "\x01" + `"`, `"\x"`, `"\u12"`,
		`tru`, `nul`, `[`, `{`, `"`, ``, `  `, `1 2`, `[1]]`, `NaN`, `"\u0000"`,
	} {
		tok, err := ParseJSON(s)
		var ref any
		refErr := json.Unmarshal([]byte(s), &ref)
		if (err == nil) != (refErr == nil) {
			t.Errorf("%q: ParseJSON err %v, encoding/json err %v", s, err, refErr)
			continue
		}
		if err != nil {
			if _, ok := err.(*csErr); !ok || err.(*csErr).typ != "JsonReaderException" {
				t.Errorf("%q: %T %v", s, err, err)
			}
			continue
		}
		if str, ok := ref.(string); ok && tok.(*JValue).Value != str {
			t.Errorf("%q: %q, encoding/json %q", s, tok.(*JValue).Value, str)
		}
	}
	tok, _ := ParseJSON(`[1,-0,0.5,1e3,12345678901234567890,-9223372036854775808]`)
	var got []any
	for _, it := range tok.(*JArray).Items {
		got = append(got, it.(*JValue).Value)
	}
	want := []any{int64(1), int64(0), 0.5, 1000.0, 12345678901234567890.0, int64(-9223372036854775808)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("numbers %#v", got)
	}
}

func TestParseJSONErrorPosition(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":{"b c":[1,x]}}`, `Unexpected character encountered while parsing value: x. Path 'a['b c'][1]', line 1, position 15.`},
		{"{\n \"a\": 1 2}", `After parsing a value an unexpected character was encountered: 2. Path 'a', line 2, position 8.`},
		{`[1] x`, `Additional text encountered after finished reading JSON content: x. Path '', line 1, position 4.`},
		{`{"a":[1`, `Unexpected end when reading JSON. Path 'a[0]', line 1, position 7.`},
	} {
		if _, err := ParseJSON(c.in); err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

func TestParseXMLWideElementChargedAndLinear(t *testing.T) {
	const n = 80000
	s := wideXML(n, false)
	e := &env{}
	d, err := parseXML(e, s, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Root.Attrs) != n {
		t.Fatalf("%d attributes", len(d.Root.Attrs))
	}
	// Two tokens (start and end of <r/>) and one per attribute; a node
	// per attribute and the element.
	if got, want := e.steps, xmlParseSteps(s, n+2, n+1); got != want {
		t.Fatalf("steps = %d, want %d", got, want)
	}
	// A duplicate attribute at the end is found (by the map, not n²
	// comparisons).
	if _, err := ParseXDocument(strings.TrimSuffix(s, "/>")+` a5="x"/>`, false); err == nil || !strings.Contains(err.Error(), "'a5' is a duplicate attribute name.") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := ParseXDocument(`<r xmlns:p="u" xmlns:q="u" p:a="1" q:a="2"/>`, false); err == nil || !strings.Contains(err.Error(), "duplicate attribute") {
		t.Fatalf("duplicate expanded name: %v", err)
	}
	v, err := MustCompile(`@(context.Request.Body.As<XElement>().Attributes().Count())`).Eval(bodyContext(s))
	if err != nil || v != int32(n) {
		t.Fatalf("Attributes().Count() = %v, %v", v, err)
	}
	if _, err := parseXML(&env{steps: maxSteps - 1000}, s, false); err == nil || !strings.Contains(err.Error(), "Expression exceeded") {
		t.Fatalf("parse near the budget's end: %v", err)
	}
}

// TestXMLWriteManyNamespaces: writing an element with many declarations
// and prefixed names (was quadratic in the writer's prefix search) keeps
// the prefixes and round-trips.
func TestXMLWriteManyNamespaces(t *testing.T) {
	const n = 20000
	d, err := ParseXDocument(wideXML(n, true), false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := xmlString(d, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ` p19999:a="19999"`) || strings.Contains(out, "xmlns:p1=\"urn:19999\"") {
		t.Fatalf("prefixes not kept: %.200s", out)
	}
	back, err := ParseXDocument(out, false)
	if err != nil || len(back.Root.Attrs) != 2*n {
		t.Fatalf("round trip: %v", err)
	}
	// A subtree is written with its ancestors' declarations in mind.
	d, _ = ParseXDocument(`<a xmlns:p="u" xmlns:q="v"><b p:x="1"><q:c/></b></a>`, false)
	b := d.Root.Nodes[0].(*XElement)
	if s, _ := xmlString(b, false); s != `<b p:x="1" xmlns:p="u"><q:c xmlns:q="v" /></b>` {
		t.Fatalf("subtree: %s", s)
	}
}

func TestEvalCancelled(t *testing.T) {
	body := wideJSON(80000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := bodyContext(body)
	c.Cancel = ctx
	// Cancelled before Eval: the parse stops at its first check.
	_, err := MustCompile(`@(context.Request.Body.As<JObject>().Count)`).Eval(c)
	if _, ok := err.(*RuntimeError); !ok || !strings.Contains(err.Error(), "The operation was canceled") || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("cancelled parse: %T %v", err, err)
	}
	// Loops stop too, and catch cannot swallow it.
	_, err = MustCompile(`@{ try { while (true) { } } catch (Exception) { return 1; } }`).Eval(c)
	if err == nil || !strings.Contains(err.Error(), "The operation was canceled") {
		t.Fatalf("cancelled loop: %v", err)
	}

	// Cancelled from a hook the expression runs (DateTime.UtcNow reads
	// context.Now) just before it parses.
	ctx, cancel = context.WithCancel(context.Background())
	c = bodyContext(body)
	c.Cancel = ctx
	c.Now = func() time.Time { cancel(); return time.Unix(0, 0) }
	v, err := MustCompile(`@{ var t = DateTime.UtcNow; return context.Request.Body.As<JObject>().Count; }`).Eval(c)
	if err == nil || !strings.Contains(err.Error(), "The operation was canceled") {
		t.Fatalf("cancelled by hook: %v, %v", v, err)
	}

	// Mid-parse: the channel is closed but the next poll is due only 300
	// steps after the up-front charge for the bytes; the parse (which
	// needs 200,000 token and node steps) stops there.
	done := make(chan struct{})
	close(done)
	xmlBody := "<r>" + strings.Repeat("<a/>", 80000) + "</r>"
	for name, c := range map[string]struct {
		in    string
		steps int
		parse func(*env) error
	}{
		"JSON": {body, parseSteps(body, 160001), func(e *env) error { _, err := parseJSON(e, body); return err }},
		"XML":  {xmlBody, xmlParseSteps(xmlBody, 160002, 80001), func(e *env) error { _, err := parseXML(e, xmlBody, false); return err }},
	} {
		at := len(c.in)>>8 + 300
		e := &env{ctx: &Context{Cancel: ctx}, done: done, nextCheck: at}
		if err := c.parse(e); err == nil || !strings.Contains(err.Error(), "The operation was canceled") {
			t.Fatalf("mid-parse %s: %v", name, err)
		}
		if e.steps < at || e.steps >= at+cancelEvery || e.steps >= c.steps {
			t.Fatalf("%s stopped after %d steps, want the poll at %d", name, e.steps, at)
		}
	}

	// Not cancelled: the same evaluation succeeds.
	c = bodyContext(body)
	c.Cancel = context.Background()
	if v, err := MustCompile(`@(context.Request.Body.As<JObject>().Count)`).Eval(c); err != nil || v != int32(80000) {
		t.Fatalf("live context: %v, %v", v, err)
	}
}
