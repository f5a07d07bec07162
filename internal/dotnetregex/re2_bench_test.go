package dotnetregex

import (
	"regexp"
	"testing"
)

// BenchmarkIsMatchRE2 is BenchmarkIsMatch on Go's regexp (RE2), the engine
// apim/expr used before: the before/after figure of the switch.
func BenchmarkIsMatchRE2(b *testing.B) {
	r := regexp.MustCompile(`^Bearer [A-Za-z0-9._-]+$`)
	s := "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchString(s) {
			b.Fatal("no match")
		}
	}
}
