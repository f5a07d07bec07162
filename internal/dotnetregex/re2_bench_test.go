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

// BenchmarkIsMatchShortRE2 and BenchmarkIsMatchShort: a short input (an
// id), where per-call overhead dominates.
func BenchmarkIsMatchShortRE2(b *testing.B) {
	r := regexp.MustCompile(`^[0-9]+$`)
	b.ReportAllocs()
	for b.Loop() {
		if !r.MatchString("12345") {
			b.Fatal("no match")
		}
	}
}

func BenchmarkIsMatchShort(b *testing.B) {
	r := MustCompile(`^[0-9]+$`, 0)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := r.IsMatch("12345"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
