package journey

import "testing"

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+47 4000 0123": "+4740000123", "+1 (555) 555-0100": "+15555550100", "0047.400.00.123": "+4740000123",
		"40000123": "", "+0123456789": "", "+47": "", "+47 4000 0123 x": "", "": "", "+1234567890123456": "",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}
