package rawxml

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestStructureAndPositions(t *testing.T) {
	src := "<policies>\n" +
		"  <inbound a=\"1\" b='x&amp;y'>\n" +
		"    <set-header name=\"X\" exists-action=\"override\"><value>v</value></set-header>\n" +
		"    <base xsi:nil=\"true\" />\n" +
		"  </inbound>\n" +
		"</policies>"
	root := mustParse(t, src)
	if root.Name != "policies" || root.Pos != (Pos{1, 1}) || len(root.Children) != 1 {
		t.Fatalf("root = %q at %v with %d children", root.Name, root.Pos, len(root.Children))
	}
	in := root.Children[0]
	want := []Attr{
		{Name: "a", Value: "1", Pos: Pos{2, 12}, ValuePos: Pos{2, 15}},
		{Name: "b", Value: "x&y", Pos: Pos{2, 18}, ValuePos: Pos{2, 21}},
	}
	if in.Name != "inbound" || in.Pos != (Pos{2, 3}) || !reflect.DeepEqual(in.Attrs, want) {
		t.Errorf("inbound = %q at %v, attrs %+v", in.Name, in.Pos, in.Attrs)
	}
	if in.Text != "\n    \n    \n  " || in.TextPos != (Pos{2, 30}) {
		t.Errorf("inbound text = %q at %v", in.Text, in.TextPos)
	}
	sh := in.Children[0]
	if sh.Pos != (Pos{3, 5}) || sh.Inner != "<value>v</value>" || sh.Text != "" || sh.TextPos != (Pos{}) {
		t.Errorf("set-header at %v inner %q text %q at %v", sh.Pos, sh.Inner, sh.Text, sh.TextPos)
	}
	if v := sh.Children[0]; v.Name != "value" || v.Text != "v" || v.TextPos != (Pos{3, 58}) || v.Pos != (Pos{3, 51}) {
		t.Errorf("value = %q %q at %v, text at %v", v.Name, v.Text, v.Pos, v.TextPos)
	}
	if a, ok := sh.Attr("exists-action"); !ok || a.Value != "override" || a.Pos != (Pos{3, 26}) {
		t.Errorf("exists-action = %+v, %v", a, ok)
	}
	base := in.Children[1]
	if a, ok := base.Attr("xsi:nil"); base.Name != "base" || !ok || a.Value != "true" || base.Inner != "" {
		t.Errorf("base = %+v", base)
	}
	if _, ok := base.Attr("nil"); ok {
		t.Error("prefixed name must be kept verbatim, not split")
	}
}

func TestLexicalConstructs(t *testing.T) {
	tests := []struct {
		name, src   string
		text        string
		textPos     Pos
		attr, value string
		valuePos    Pos
		children    int
		inner       string
	}{
		{name: "bom and declaration", src: "\uFEFF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a>x</a>",
			text: "x", textPos: Pos{2, 4}, inner: "x"},
		{name: "processing instructions", src: "<?pi one?><a><?pi two ?>x<?pi?>y</a><?pi three?>",
			text: "xy", textPos: Pos{1, 25}, inner: "<?pi two ?>x<?pi?>y"},
		{name: "comments skipped", src: "<!-- c1 --><a>x<!-- c2 - - -->y<!---->z</a><!-- c3 -->",
			text: "xyz", textPos: Pos{1, 15}, inner: "x<!-- c2 - - -->y<!---->z"},
		{name: "cdata becomes text", src: "<a>x<![CDATA[<b>&amp;]]]]>y</a>",
			text: "x<b>&amp;]]y", textPos: Pos{1, 4}},
		{name: "cdata first", src: "<a><![CDATA[\n<p/>]]></a>", text: "\n<p/>", textPos: Pos{1, 13}},
		{name: "predefined entities in text", src: "<a>&lt;&gt;&amp;&apos;&quot;</a>", text: `<>&'"`, textPos: Pos{1, 4}},
		{name: "numeric references", src: "<a>&#65;&#x42;&#x0043;&#x1F600;&#10;</a>", text: "ABC\U0001F600\n", textPos: Pos{1, 4}},
		{name: "references in attribute", src: `<a v="&lt;&#x41;&#10;&quot;&apos;"/>`, attr: "v", value: "<A\n\"'", valuePos: Pos{1, 7}},
		{name: "single-quoted attribute", src: `<a v='say "hi"'/>`, attr: "v", value: `say "hi"`, valuePos: Pos{1, 7}},
		{name: "double-quoted attribute with apostrophe", src: `<a v="it's"/>`, attr: "v", value: "it's", valuePos: Pos{1, 7}},
		{name: "whitespace around =", src: "<a v \n = \n 'x'/>", attr: "v", value: "x", valuePos: Pos{3, 3}},
		{name: "attribute normalisation", src: "<a v=\"1\n2\t3&#xA;4&#9;5\"/>", attr: "v", value: "1 2 3\n4\t5", valuePos: Pos{1, 7}},
		{name: "empty attribute", src: `<a v=""/>`, attr: "v", value: "", valuePos: Pos{1, 7}},
		{name: "self-closing with space", src: "<a>\n<b/>\n<c />\n</a>", text: "\n\n\n", textPos: Pos{1, 4}, children: 2, inner: "\n<b/>\n<c />\n"},
		{name: "end tag with space", src: "<a>x</a  \n>", text: "x", textPos: Pos{1, 4}, inner: "x"},
		{name: "quotes and > in text", src: `<a>"x" > 'y'</a>`, text: `"x" > 'y'`, textPos: Pos{1, 4}},
		{name: "unicode columns", src: "<a é='ü'>\n  ñ</a>", attr: "é", value: "ü", valuePos: Pos{1, 7}, text: "\n  ñ", textPos: Pos{1, 10}},
		{name: "crlf normalised", src: "<a v=\"1\r\n2\">\r\nx\ry\r\n</a>", attr: "v", value: "1 2", valuePos: Pos{1, 7},
			text: "\nx\ny\n", textPos: Pos{2, 4}, inner: "\nx\ny\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.src)
			if n.Text != tt.text || n.TextPos != tt.textPos {
				t.Errorf("Text = %q at %v, want %q at %v", n.Text, n.TextPos, tt.text, tt.textPos)
			}
			if tt.attr != "" {
				a, ok := n.Attr(tt.attr)
				if !ok || a.Value != tt.value || a.ValuePos != tt.valuePos {
					t.Errorf("attr %s = %q at %v (present %v), want %q at %v", tt.attr, a.Value, a.ValuePos, ok, tt.value, tt.valuePos)
				}
			}
			if len(n.Children) != tt.children {
				t.Errorf("%d children, want %d", len(n.Children), tt.children)
			}
			if tt.inner != "" && n.Inner != tt.inner {
				t.Errorf("Inner = %q, want %q", n.Inner, tt.inner)
			}
		})
	}
}

// Expressions as written in real policies (raw form). Each is checked in an
// attribute and in element text, raw and XML-escaped, and must decode to
// exactly the same C# source every time.
var expressions = []string{
	`@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)`,
	`@(a && b < c)`,
	`@(a & b | c > d)`,
	`@($"signin-{context.Variables["cacheKey"]}-nonce")`,
	`@($"{DateTime.UtcNow:yyyy-MM-dd'T'HH:mm}Z")`,
	`@($"{{literal}} {x} }}")`,
	`@($"a{$"b{c["d)"]}"}e")`,
	`@($"{(a ? "}" : "{")}")`,
	`@(@"C:\path\ ""quoted"" ) }")`,
	`@($@"a{b}""c)" + @$"{d}"" ( ")`,
	`@('\'' == ')' ? "(" : '"'.ToString())`,
	`@("\"(" + "\\" + ')')`,
	`@(x /* ) " */ + y)`,
	"@{\n  // a comment with ) and \" and '\n  var d = new Dictionary<string,string>{ {\"a\",\"b\"} };\n  return d[\"a\"];\n}",
	"@{\n\tvar x = context.Request.Body.As<JObject>();\n\treturn x.ToString();\n}",
	`@{ if (a < b && c > d) { return "<p>&nbsp; & &#; &#0; &x</p>"; } return "'"; }`,
	`@(context.Variables.GetValueOrDefault<string>("x", "y").Split(',')[0])`,
	`@((string)context.Variables["a"] == "b" ? "</value>" : "<value>")`,
	`@($"{string.Join(",", new[] { 1, 2 })}")`,
	`@("multi" +` + "\n" + `"line")`,
}

func TestExpressionFormsAgree(t *testing.T) {
	for _, expr := range expressions {
		hostedByDouble := expr
		forms := map[string]string{
			"attr raw":            `<a v="` + hostedByDouble + `"/>`,
			"attr raw spaced":     `<a v="` + hostedByDouble + "  \"/>",
			"attr raw single":     `<a v='` + expr + `'/>`,
			"attr escaped":        `<a v="` + escapeAttr.Replace(expr) + `"/>`,
			"attr escaped single": `<a v='` + escapeAttr.Replace(expr) + `'/>`,
			"text raw":            `<a>` + expr + `</a>`,
			"text raw spaced":     "<a>\n  " + expr + "\n</a>",
			"text escaped":        `<a>` + escapeText.Replace(expr) + `</a>`,
			"text comment first":  `<a><!-- c -->` + expr + `</a>`,
		}
		for form, src := range forms {
			n, err := Parse([]byte(src))
			if err != nil {
				t.Errorf("%s %q: %v", form, src, err)
				continue
			}
			got := n.Text
			if strings.HasPrefix(form, "attr") {
				got = n.Attrs[0].Value
			}
			if strings.TrimSpace(got) != expr {
				t.Errorf("%s %q:\n got %q\nwant %q", form, src, got, expr)
			}
			if strings.HasSuffix(form, "spaced") && got == expr {
				t.Errorf("%s: surrounding whitespace must be kept in the value", form)
			}
		}
		// The escaped forms are ordinary XML: encoding/xml must agree.
		for _, src := range []string{`<a v="` + escapeAttr.Replace(expr) + `"/>`, `<a>` + escapeText.Replace(expr) + `</a>`} {
			std, err := stdParse(src)
			if err != nil {
				t.Fatalf("encoding/xml %q: %v", src, err)
			}
			if d := sameValues(mustParse(t, src), std, ""); d != "" {
				t.Errorf("rawxml and encoding/xml differ on %q: %s", src, d)
			}
		}
	}
}

func TestExpressionInContext(t *testing.T) {
	src := `<policies>
  <inbound>
    <set-variable name="k" value="@($"signin-{context.Variables["cacheKey"]}-nonce")" />
    <set-body>@{ var x = context.Request.Body.As<JObject>(); return x.ToString(); }</set-body>
    <value>  @(1 < 2) tail &amp; more</value>
    <set-body>@("</set-body>")</set-body>
    <when condition="@(a &amp;&amp; b)"/>
  </inbound>
</policies>`
	in := mustParse(t, src).Children[0]
	cases := []struct {
		got, want string
	}{
		{in.Children[0].Attrs[1].Value, `@($"signin-{context.Variables["cacheKey"]}-nonce")`},
		{in.Children[1].Text, `@{ var x = context.Request.Body.As<JObject>(); return x.ToString(); }`},
		{in.Children[2].Text, `  @(1 < 2) tail & more`},
		{in.Children[3].Text, `@("</set-body>")`},
		{in.Children[4].Attrs[0].Value, `@(a && b)`},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
	if a := in.Children[0].Attrs[1]; a.Pos != (Pos{3, 28}) || a.ValuePos != (Pos{3, 35}) {
		t.Errorf("value attr at %v, value at %v", a.Pos, a.ValuePos)
	}
	if len(in.Children) != 5 || in.Children[1].TextPos != (Pos{4, 15}) {
		t.Errorf("%d children; set-body text at %v", len(in.Children), in.Children[1].TextPos)
	}
	// A reference inside a raw expression is decoded too: that is what makes
	// the raw and escaped forms agree, and it is documented.
	if n := mustParse(t, `<a v="@(&quot;&amp;lt;&quot; + "&lt;")"/>`); n.Attrs[0].Value != `@("&lt;" + "<")` {
		t.Errorf("references in expression = %q", n.Attrs[0].Value)
	}
	// Text that does not start with an expression is plain XML text.
	if n := mustParse(t, `<value>Bearer @(x)</value>`); n.Text != "Bearer @(x)" {
		t.Errorf("plain text = %q", n.Text)
	}
	// Only the leading expression is special: after it, text is XML again.
	if _, err := Parse([]byte(`<value>@(x) a && b</value>`)); err == nil {
		t.Error("raw && after the expression must be rejected")
	}
}

func TestPosAt(t *testing.T) {
	src := "<a v=\"@{&#xA;  return &quot;x&quot;;&#xA;}\">\n  @{\n    return &quot;x&quot;;\n  }</a>"
	n := mustParse(t, src)
	if n.Text != "\n  @{\n    return \"x\";\n  }" {
		t.Fatalf("Text = %q", n.Text)
	}
	textCases := []struct {
		sub  string
		want Pos
	}{
		{"\n", Pos{1, 45}},
		{"@{", Pos{2, 3}},
		{"return", Pos{3, 5}},
		{`"x`, Pos{3, 12}},
		{`x";`, Pos{3, 18}},
		{`";`, Pos{3, 19}},
		{";", Pos{3, 25}},
		{"}", Pos{4, 3}},
	}
	for _, c := range textCases {
		if got := n.TextPosAt(strings.Index(n.Text, c.sub)); got != c.want {
			t.Errorf("TextPosAt(%q) = %v, want %v", c.sub, got, c.want)
		}
	}
	v, _ := n.Attr("v")
	if v.Value != "@{\n  return \"x\";\n}" {
		t.Fatalf("Value = %q", v.Value)
	}
	valueCases := []struct {
		sub  string
		want Pos
	}{
		{"@{", Pos{1, 7}},
		{"\n", Pos{1, 9}},
		{"  return", Pos{1, 14}},
		{"return", Pos{1, 16}},
		{`"x`, Pos{1, 23}},
		{`x";`, Pos{1, 29}},
		{"}", Pos{1, 42}},
	}
	for _, c := range valueCases {
		if got := n.ValuePosAt("v", strings.Index(v.Value, c.sub)); got != c.want {
			t.Errorf("ValuePosAt(%q) = %v, want %v", c.sub, got, c.want)
		}
	}
	if got := n.ValuePosAt("missing", 0); got != (Pos{}) {
		t.Errorf("ValuePosAt(missing) = %v", got)
	}
	if got := n.TextPosAt(-5); got != n.TextPos {
		t.Errorf("TextPosAt(-5) = %v, want TextPos %v", got, n.TextPos)
	}
	empty := mustParse(t, `<a v=""/>`)
	if got := empty.ValuePosAt("v", 0); got != (Pos{1, 7}) {
		t.Errorf("empty ValuePosAt = %v", got)
	}
	if got := empty.TextPosAt(0); got != (Pos{}) {
		t.Errorf("empty TextPosAt = %v", got)
	}
}

func TestCRLFMatchesLF(t *testing.T) {
	lf := "<policies>\n  <inbound>\n    <set-body>@{\n      return \"a\";\n    }</set-body>\n    <x v=\"@(1 +\n 2)\" w=\"a\nb\"/>\n  </inbound>\n</policies>\n"
	a := mustParse(t, lf)
	b := mustParse(t, strings.ReplaceAll(lf, "\n", "\r\n"))
	c := mustParse(t, "\uFEFF"+strings.ReplaceAll(lf, "\n", "\r"))
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
		t.Errorf("CRLF / CR parse differs from LF")
	}
	if got := a.Children[0].Children[1].Attrs; got[0].Value != "@(1 +\n 2)" || got[1].Value != "a b" {
		t.Errorf("attrs = %+v", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		pos       Pos
		msg       string
	}{
		{"empty", "", Pos{1, 1}, "no root element"},
		{"only declaration", `<?xml version="1.0"?>`, Pos{1, 22}, "no root element"},
		{"late declaration", ` <?xml version="1.0"?><a/>`, Pos{1, 2}, "the XML declaration is only allowed at the very start of the document"},
		{"pi without target", `<a><? x?></a>`, Pos{1, 6}, "expected a processing-instruction target after '<?'"},
		{"unterminated pi", "<a/>\n<?pi x", Pos{2, 1}, "unterminated processing instruction <?pi"},
		{"doctype", "<!DOCTYPE a>\n<a/>", Pos{1, 1}, "DOCTYPE declarations are not supported"},
		{"doctype inside", "<a><!DOCTYPE a></a>", Pos{1, 4}, "DOCTYPE declarations are not supported"},
		{"bad markup", "<a><!foo></a>", Pos{1, 4}, "unexpected '<!' (expected a comment or CDATA section)"},
		{"double dash in comment", "<a>\n  <!-- a -- b --></a>", Pos{2, 10}, "'--' is not allowed inside a comment (comment opened at 2:3)"},
		{"comment ends with dash", "<a><!-- a ---></a>", Pos{1, 11}, "'--' is not allowed inside a comment (comment opened at 1:4)"},
		{"unterminated comment", "<a><!-- x</a>", Pos{1, 4}, "unterminated comment (missing '-->')"},
		{"unterminated cdata", "<a><![CDATA[x</a>", Pos{1, 4}, "unterminated CDATA section (missing ']]>')"},
		{"cdata outside root", "<![CDATA[x]]><a/>", Pos{1, 1}, "CDATA section outside the root element"},
		{"cdata end in text", "<a>x]]>y</a>", Pos{1, 5}, "']]>' is not allowed in text (write ]]&gt;)"},
		{"text before root", "hello <a/>", Pos{1, 1}, "text is not allowed outside the root element"},
		{"text after root", "<a/>\n x", Pos{2, 2}, "text is not allowed outside the root element"},
		{"two roots", "<a/>\n<b/>", Pos{2, 1}, "only one root element is allowed (<a> at 1:1 is the root)"},
		{"stray end tag after root", "<a/></a>", Pos{1, 5}, "unexpected content after the root element <a>"},
		{"missing name", "< a/>", Pos{1, 2}, "expected element name after '<'"},
		{"missing end name", "<a></ a>", Pos{1, 6}, "expected element name after '</'"},
		{"mismatched end tag", "<policies>\n  <inbound>\n    <base/>\n  </outbound>\n</policies>", Pos{4, 3}, "end tag </outbound> does not match start tag <inbound> opened at 2:3"},
		{"unclosed element", "<a>\n  <b>\n", Pos{3, 1}, "unexpected end of input: <b> opened at 2:3 is not closed"},
		{"end tag not closed", "<a></a x>", Pos{1, 8}, "expected '>' to close end tag </a>"},
		{"unterminated start tag", "<a\n  x=\"1\"", Pos{1, 1}, "unterminated start tag <a>"},
		{"bad slash", `<a x="1" / >`, Pos{1, 11}, "expected '>' after '/' in tag <a>"},
		{"junk after value", `<a x="1"!>`, Pos{1, 9}, "expected '>' after attribute value"},
		{"junk in tag", `<a !>`, Pos{1, 4}, "unexpected '!' in start tag <a>"},
		{"no space between attributes", `<a x="1"y="2"/>`, Pos{1, 9}, "expected whitespace or '>' after attribute value (a raw quote inside a value is only allowed within an @(...) or @{...} expression)"},
		{"raw quotes outside expression", `<a v="say "hi""/>`, Pos{1, 12}, "expected whitespace or '>' after attribute value (a raw quote inside a value is only allowed within an @(...) or @{...} expression)"},
		{"missing equals", `<a x/>`, Pos{1, 5}, `expected '=' after attribute name "x"`},
		{"unquoted value", `<a x=1/>`, Pos{1, 6}, `expected '"' or '\'' to start the value of attribute "x"`},
		{"unclosed value", "<a x=\"1\n", Pos{1, 6}, `attribute value is not closed (missing ")`},
		{"lt in value", `<a x="a<b"/>`, Pos{1, 8}, "'<' is not allowed in an attribute value outside an expression (write &lt;)"},
		{"duplicate attribute", `<a name="1" name="2"/>`, Pos{1, 13}, `duplicate attribute "name"`},
		{"duplicate among many", `<a a="" b="" c="" d="" e="" f="" g="" h="" i="" j="" c=""/>`, Pos{1, 54}, `duplicate attribute "c"`},
		{"unknown entity", "<a>\n &foo;</a>", Pos{2, 2}, "unknown entity &foo;"},
		{"unknown entity in attribute", `<a v="&nbsp;"/>`, Pos{1, 7}, "unknown entity &nbsp;"},
		{"bare ampersand", `<a>a & b</a>`, Pos{1, 6}, "unescaped '&' (write &amp; or use an entity reference)"},
		{"double ampersand outside expression", `<a v="a && b"/>`, Pos{1, 9}, "unescaped '&' (write &amp; or use an entity reference)"},
		{"bad char ref", `<a>&#xZZ;</a>`, Pos{1, 4}, "malformed character reference (expected &#NN; or &#xHH;)"},
		{"nul char ref", `<a>&#0;</a>`, Pos{1, 4}, "character reference &#0; is not an allowed XML character"},
		{"surrogate char ref", `<a>&#xD800;</a>`, Pos{1, 4}, "character reference &#xD800; is not an allowed XML character"},
		{"huge char ref", `<a>&#99999999999999999999;</a>`, Pos{1, 4}, "character reference &#99999999999999999999; is not an allowed XML character"},
		{"invalid utf8", "<a>\n\xff</a>", Pos{2, 1}, "invalid UTF-8 byte 0xFF (only UTF-8 input is supported)"},
		{"control char", "<a>é\x01</a>", Pos{1, 5}, "character U+0001 is not allowed in XML"},
		{"unterminated attr expression", `<a x="@(foo" y="z"/>`, Pos{1, 7}, "unterminated expression: missing ')'; string literal at 1:18 is not closed"},
		{"unterminated text expression", "<a>\n  @{ x </a>", Pos{2, 3}, "unterminated expression: missing '}'"},
		{"unterminated inner bracket", "<a>@{ if (x { }</a>", Pos{1, 4}, "unterminated expression: missing '}'; '(' at 1:10 is not closed"},
		{"unterminated interpolation", "<a>@($\"{x\n}</a>", Pos{1, 4}, "unterminated expression: missing ')'; interpolated string at 1:6 is not closed"},
		{"unterminated verbatim", "<a>@(@\"x)</a>", Pos{1, 4}, "unterminated expression: missing ')'; verbatim string at 1:6 is not closed"},
		{"unterminated comment in expression", "<a>@(x /* )</a>", Pos{1, 4}, "unterminated expression: missing ')'; comment at 1:8 is not closed"},
		{"unterminated char literal", "<a>@(x + '\\", Pos{1, 4}, "unterminated expression: missing ')'; character literal at 1:10 is not closed"},
		{"escaped unterminated expression", `<a x="@(foo(&quot;)&quot;)"/>`, Pos{1, 7}, "unterminated expression: missing ')'; string literal at 1:27 is not closed"},
		{"mismatched bracket", `<a x="@(a ] )"/>`, Pos{1, 11}, "mismatched ']' in expression: expected ')' to close '@(' opened at 1:7"},
		{"mismatched inner bracket", "<a>@{ f(x]; }</a>", Pos{1, 10}, "mismatched ']' in expression: expected ')' to close '(' opened at 1:8"},
		{"junk after attr expression", `<a x="@(foo) bar"/>`, Pos{1, 14}, "unexpected 'b' after the expression: the attribute value must end here"},
		{"second expression in attr", `<a x="@(1)@(2)"/>`, Pos{1, 11}, "unexpected '@' after the expression: the attribute value must end here"},
		{"expression at eof in attr", `<a x="@(1)`, Pos{1, 6}, `attribute value is not closed (missing ")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, %v; want *Error", tt.src, n, err)
			}
			if n != nil {
				t.Errorf("node returned with error")
			}
			if e.Pos != tt.pos || e.Msg != tt.msg {
				t.Errorf("Parse(%q):\n got %v: %s\nwant %v: %s", tt.src, e.Pos, e.Msg, tt.pos, tt.msg)
			}
			if want := tt.pos.String() + ": " + tt.msg; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	// The reader keeps its own stacks, so depth is bounded only by memory.
	const depth = 200000
	src := strings.Repeat("<a>", depth) + "@(" + strings.Repeat("$\"{(", depth/10) + "x" + strings.Repeat(")}\"", depth/10) + ")" + strings.Repeat("</a>", depth)
	n := mustParse(t, src)
	for range depth - 1 {
		n = n.Children[0]
	}
	if !strings.HasPrefix(n.Text, "@($\"{($\"{(") || !strings.HasSuffix(n.Text, ")}\")}\")") {
		t.Errorf("innermost text = %.40q...", n.Text)
	}
}
