package userflow

import (
	"strings"
	"testing"
)

// TestOTPCode: B2C's CharacterSet (ranges and single characters), the
// length, and clear errors for sets that are not ones.
func TestOTPCode(t *testing.T) {
	for _, c := range []struct{ set, chars string }{{"", "0123456789"}, {"0-9", "0123456789"}, {"a-c, X ,1-2", "abcX12"}} {
		code, err := otpCode(12, c.set)
		if err != nil || len(code) != 12 || strings.Trim(code, c.chars) != "" {
			t.Errorf("%q: %q %v", c.set, code, err)
		}
	}
	for _, bad := range []string{"abc", "z-a", "x", "0-9,ab"} {
		if _, err := otpCode(6, bad); err == nil {
			t.Errorf("CharacterSet %q accepted", bad)
		}
	}
}
