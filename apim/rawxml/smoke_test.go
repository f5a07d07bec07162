package rawxml

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSmoke(t *testing.T) {
	filepath.Walk("../../../shared/testdata/apim-snippets", func(path string, info os.FileInfo, err error) error {
		if filepath.Ext(path) != ".xml" {
			return nil
		}
		b, _ := os.ReadFile(path)
		_, err = Parse(b)
		t.Logf("%s: %v", filepath.Base(path), err)
		return nil
	})
}
