package tenant

import "strings"

// MsgNameCharacters is the field error for a name with markup or control
// characters (the hosted pages and `gatehouse users create` use it).
const MsgNameCharacters = "The name contains characters that are not allowed: < > or control characters."

// PlainName reports whether a display name, given name or surname is free
// of markup (< and >) and control characters. An app that writes a user's
// name with innerHTML must not run what the user typed; & and quotes are
// allowed, as they cannot open an element (O'Brien, "Smith & Sons").
func PlainName(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r == '<' || r == '>' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
	})
}
