package apim

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir is the public APIM policy-snippets corpus (MIT; see
// testdata/README.md at the repository root).
const corpusDir = "../testdata/apim-snippets"

// corpusMinLoaded is the number of corpus files that load without problems
// with the expression engine in place; it must not drop. Files still failing
// use expression features the engine lacks (XDocument, MatchedParameters(...))
// or have genuine XML/C# errors.
const corpusMinLoaded = 24

// TestCorpus loads every corpus file leniently (named values and fragments of
// another environment are placeholders) and reports the problems of the rest.
func TestCorpus(t *testing.T) {
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".xml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus %s: %v (%d files)", corpusDir, err, len(files))
	}
	sort.Strings(files)
	opts := &LoadOptions{Lenient: true}
	loaded := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(corpusDir, f)
		if isFragmentSource(src) {
			_, err = ParseFragment(name, src, opts)
		} else {
			_, err = ParseDocument(name, src, ScopeAPI, opts)
		}
		if err == nil {
			loaded++
			continue
		}
		t.Logf("%s:\n  %s", name, strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	t.Logf("corpus: %d of %d files load", loaded, len(files))
	min := corpusMinLoaded
	if !exprReady() {
		min = 0 // expressions cannot compile yet
	}
	if loaded < min {
		t.Fatalf("only %d of %d corpus files load, want at least %d", loaded, len(files), min)
	}
}

// isFragmentSource reports whether the first element is <fragment>.
func isFragmentSource(src []byte) bool {
	for {
		i := bytes.IndexByte(src, '<')
		if i < 0 {
			return false
		}
		src = src[i:]
		if bytes.HasPrefix(src, []byte("<!--")) {
			end := bytes.Index(src, []byte("-->"))
			if end < 0 {
				return false
			}
			src = src[end+3:]
			continue
		}
		if bytes.HasPrefix(src, []byte("<?")) {
			src = src[2:]
			continue
		}
		return bytes.HasPrefix(src, []byte("<fragment"))
	}
}
