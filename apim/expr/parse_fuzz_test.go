package expr

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func benchParse(b *testing.B, s string, parse func(string) error) {
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJSONWide parses objects of 1k, 10k and 80k keys: ns/op
// grows linearly with the size.
func BenchmarkParseJSONWide(b *testing.B) {
	for _, n := range []int{1000, 10000, 80000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			benchParse(b, wideJSON(n), func(s string) error { _, err := parseJSON(&env{}, s); return err })
		})
	}
}

// BenchmarkParseXMLAttrs parses one element with 1k, 10k and 80k
// attributes.
func BenchmarkParseXMLAttrs(b *testing.B) {
	for _, n := range []int{1000, 10000, 80000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			benchParse(b, wideXML(n, false), func(s string) error { _, err := parseXML(&env{}, s, false); return err })
		})
	}
}

// FuzzParseJSON: no panic; accepted exactly when encoding/json accepts;
// compact output parses back to the same output.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,true,null,"x"]}`, `"\ud83d\ude00\ud800"`, `{"a":1,"a":2}`, `[[[[]]]]`, `-0.0e+1`, "\"\xff\"", `{"a" :{"b":{}}} `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseJSON(s)
		if json.Valid([]byte(s)) != (err == nil) {
			if err != nil && len(s) > 0 && (containsDeep(s) || strings.HasPrefix(s, "\uFEFF")) {
				return // MaxDepth; a BOM
			}
			t.Fatalf("%q: err %v, json.Valid %v", s, err, json.Valid([]byte(s)))
		}
		if err != nil {
			return
		}
		out := tok.JSON(false)
		back, err := ParseJSON(out)
		if err != nil {
			t.Fatalf("%q: output %q does not parse: %v", s, out, err)
		}
		if back.JSON(false) != out || back.JSON(true) != tok.JSON(true) {
			t.Fatalf("%q: round trip %q -> %q", s, out, back.JSON(false))
		}
	})
}

func containsDeep(s string) bool {
	d, m := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m > maxJSONDepth
}

// FuzzParseXML: no panic; what parses serializes, and the output parses
// back to the same output.
func FuzzParseXML(f *testing.F) {
	for _, s := range []string{`<a x="1"><b/>t<![CDATA[c]]><!--c--><?p d?></a>`, `<p:a xmlns:p="u" xmlns="v" p:x="1"><b xmlns:p="w" p:y="2"/></p:a>`, `<a xml:space="preserve"> </a>`, `<a x="1" x="2"/>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseXML(&env{}, s, false)
		if err != nil {
			return
		}
		for _, indent := range []bool{false, true} {
			out, err := xmlString(d, indent)
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			if indent {
				continue // indentation adds whitespace-only text
			}
			back, err := ParseXDocument(out, true)
			if err != nil {
				t.Fatalf("%q: output %q does not parse: %v", s, out, err)
			}
			if again, _ := xmlString(back, false); again != out {
				t.Fatalf("%q: round trip %q -> %q", s, out, again)
			}
		}
	})
}
