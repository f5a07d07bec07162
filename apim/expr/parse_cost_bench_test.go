package expr

import "testing"

// BenchmarkParseAdversarial parses each 16 MiB adversarial shape with a
// fresh evaluation budget: the full parse when the budget admits it, the
// work up to the rejection otherwise.
func BenchmarkParseAdversarial(b *testing.B) {
	for _, sh := range adversarialShapes {
		b.Run(sh.name, func(b *testing.B) {
			s, _ := sh.body()
			var err error
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				if sh.xml {
					_, err = parseXML(&env{}, s, false)
				} else {
					_, err = parseJSON(&env{}, s)
				}
			}
			if err != nil {
				b.Logf("rejected: %.120s", err)
			}
		})
	}
}

// BenchmarkParseRealistic parses the ~5 MiB realistic bodies.
func BenchmarkParseRealistic(b *testing.B) {
	j, x := realisticJSON(), realisticXML()
	b.Run("JSON", func(b *testing.B) {
		benchParse(b, j, func(s string) error { _, err := parseJSON(&env{}, s); return err })
	})
	b.Run("XML", func(b *testing.B) {
		benchParse(b, x, func(s string) error { _, err := parseXML(&env{}, s, false); return err })
	})
}
