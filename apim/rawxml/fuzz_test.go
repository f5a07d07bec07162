package rawxml

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every position it reports
// (on success or in an error) is inside the input, and that a parsed
// document written back in the escaped "xml" format reads back to the same
// values.
func FuzzParse(f *testing.F) {
	// The snippet corpus seeds the fuzzer.
	files, err := readCorpus(corpusDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, src := range files {
		f.Add(src)
	}
	for _, expr := range expressions {
		f.Add([]byte(`<a v="` + expr + `">` + expr + `</a>`))
		f.Add([]byte(`<a v="` + escapeAttr.Replace(expr) + `">` + escapeText.Replace(expr) + `</a>`))
	}
	for _, s := range []string{
		"", "<", "<a", "<a/>", "\uFEFF<a/>", "<?xml version='1.0'?><a/>", "<a>&#x10FFFF;&#1114112;</a>",
		"<a><![CDATA[]]]]><![CDATA[>]]></a>", "<a><!----></a>", "<a><!-- --->", "<a>\r\n\r</a>",
		`<a v="@(`, `<a v="@()`, `<a v="@()"`, `<a>@{`, `<a>@{}`, `<a>@($"{`, `<a>@($"{"}`, `<a>@(@$"{{}}""`,
		`<a v="@('\''+'"')"/>`, "<a>@(x // )\n)</a>", `<a>@(a /* */ )</a>`, `<a v="@(&quot;&amp;&#x22;&lt)"/>`,
		`<a v="@($&quot;{x:&quot;}&quot;)"/>`, "<a b='1'\tc=\"2\"\n/>", "<a:b x:y='1'></a:b>", "<a>&amp</a>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		lines := lineCount(src)
		root, err := Parse(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if root != nil {
				t.Fatal("node returned with an error")
			}
			if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
				t.Fatalf("error position %v outside 1..%d lines: %v", e.Pos, lines, err)
			}
			return
		}
		walk(root, func(n *Node) { checkPositions(t, n, lines) })
		// CDATA text is not re-checked for expressions, so its escaped copy
		// may legitimately read differently; the property holds without it.
		if strings.Contains(string(src), "<![CDATA[") {
			return
		}
		var b strings.Builder
		serialize(&b, root)
		again, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatalf("escaped form %q: %v", b.String(), err)
		}
		if d := sameValues(root, again, ""); d != "" {
			t.Fatalf("escaped form %q differs: %s", b.String(), d)
		}
	})
}
