package rawxml

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusFiles lists every .xml file under the snippets corpus, by path
// relative to the corpus root (slash-separated), with its content.
func corpusFiles(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := readCorpus(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// corpusDir is the public APIM policy-snippets corpus (MIT; see
// testdata/README.md at the repository root).
var corpusDir = filepath.Join("..", "..", "testdata", "apim-snippets")

func readCorpus(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".xml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	return files, err
}

// corpusFailures are the corpus files that are genuinely malformed, with the
// exact error. Both are broken the same way upstream
// (Azure/api-management-policy-snippets), not by the copy.
var corpusFailures = map[string]string{
	// The first comment is never closed: line 2 opens another "<!--" inside
	// it, and "--" is illegal inside a comment in XML (and in .NET's reader).
	"examples/Filter response content based on product name.policy.xml": "2:3: '--' is not allowed inside a comment (comment opened at 1:1)",
	// The rewrite-uri template was mangled upstream (`Variables["latlong=""`
	// followed by lines like `lat=""`): JObject.Parse( and the indexer's [
	// are never closed, so the C# is unbalanced and the @{ never ends.
	"examples/Call out to an HTTP endpoint and cache the response.policy.xml": "40:28: unterminated expression: missing '}'; '[' at 41:62 is not closed",
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	parsed, exprAttrs := 0, 0
	for _, name := range names {
		src := files[name]
		root, err := Parse(src)
		want, bad := corpusFailures[name]
		switch {
		case bad && err == nil:
			t.Errorf("%s: parsed, but is expected to fail with %q", name, want)
			continue
		case bad:
			if err.Error() != want {
				t.Errorf("%s: error %q, want %q", name, err, want)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", name, err)
			continue
		}
		parsed++
		if root.Name != "policies" && root.Name != "fragment" {
			t.Errorf("%s: root <%s>", name, root.Name)
		}
		lines := lineCount(src)
		walk(root, func(n *Node) {
			checkPositions(t, n, lines)
			// An attribute expression must span the whole value.
			for _, a := range n.Attrs {
				v := strings.TrimSpace(a.Value)
				if strings.HasPrefix(v, "@(") || strings.HasPrefix(v, "@{") {
					exprAttrs++
					if closer := map[byte]byte{'(': ')', '{': '}'}[v[1]]; v[len(v)-1] != closer {
						t.Errorf("%s: %s@%s at %v = %q does not end with %c", name, n.Name, a.Name, a.Pos, v, closer)
					}
				}
			}
		})
		// Written back in the "xml" format, the document must give the same
		// values through this reader and through encoding/xml.
		var b strings.Builder
		serialize(&b, root)
		again, err := Parse([]byte(b.String()))
		if err != nil {
			t.Errorf("%s: escaped form: %v", name, err)
			continue
		}
		if d := sameValues(root, again, ""); d != "" {
			t.Errorf("%s: escaped form differs: %s", name, d)
		}
		std, err := stdParse(b.String())
		if err != nil {
			t.Errorf("%s: encoding/xml on escaped form: %v", name, err)
			continue
		}
		if d := sameValues(root, std, ""); d != "" {
			t.Errorf("%s: encoding/xml differs: %s", name, d)
		}
	}
	t.Logf("corpus: %d files, %d parsed, %d expected failures, %d attribute expressions", len(files), parsed, len(corpusFailures), exprAttrs)
	if len(files) == 0 {
		t.Fatal("no .xml files in the corpus")
	}
	if parsed+len(corpusFailures) != len(files) {
		t.Errorf("%d parsed + %d expected failures != %d files", parsed, len(corpusFailures), len(files))
	}
}

func TestSeed004InboundPolicy(t *testing.T) {
	// The seed's policy verbatim, as `gatehouse dev` embeds it.
	src, err := os.ReadFile(filepath.Join("..", "..", "internal", "devstack", "seed004-policy.xml"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var keys []Attr
	walk(root, func(n *Node) {
		if n.Name == "rate-limit-by-key" {
			a, _ := n.Attr("counter-key")
			keys = append(keys, a)
		}
	})
	if len(keys) != 2 {
		t.Fatalf("%d rate-limit-by-key elements, want 2", len(keys))
	}
	const want = `@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)`
	if keys[1].Value != want {
		t.Errorf("counter-key = %q\nwant %q", keys[1].Value, want)
	}
	if keys[0].Value != "@(context.Request.IpAddress)" {
		t.Errorf("first counter-key = %q", keys[0].Value)
	}
	if keys[1].Pos.Line != 32 || keys[1].ValuePos != (Pos{32, keys[1].Pos.Col + len("counter-key=\"")}) {
		t.Errorf("counter-key at %v, value at %v", keys[1].Pos, keys[1].ValuePos)
	}
}

// lineCount is the number of lines in src as the reader counts them
// (CRLF and lone CR are one line end each).
func lineCount(src []byte) int {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	return strings.Count(strings.ReplaceAll(s, "\r", "\n"), "\n") + 1
}

// checkPositions asserts that every position recorded on n is inside the
// input's line range with a positive column.
func checkPositions(t testing.TB, n *Node, lines int) {
	t.Helper()
	check := func(what string, p Pos) {
		if p.Line < 1 || p.Line > lines || p.Col < 1 {
			t.Fatalf("<%s> %s position %v outside 1..%d lines", n.Name, what, p, lines)
		}
	}
	check("element", n.Pos)
	for _, a := range n.Attrs {
		check("attribute "+a.Name, a.Pos)
		check("value of "+a.Name, a.ValuePos)
		for _, off := range []int{0, len(a.Value) / 2, len(a.Value)} {
			check("value offset of "+a.Name, n.ValuePosAt(a.Name, off))
		}
	}
	if n.Text != "" {
		check("text", n.TextPos)
		for _, off := range []int{0, len(n.Text) / 2, len(n.Text)} {
			check("text offset", n.TextPosAt(off))
		}
	}
}
