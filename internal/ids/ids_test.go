package ids

import "testing"

func TestNewGUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		g := NewGUID()
		if len(g) != 36 || seen[g] {
			t.Fatalf("GUID %q", g)
		}
		seen[g] = true
	}
}
