package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/identity/tenant"
)

// Simple is B2C's "Simple" complexity: 8 to 64 characters.
var Simple = tenant.PasswordRules{MinLength: 8, MaxLength: 64}

// Strong is B2C's default "Strong" complexity: 8 to 64 characters with at
// least 3 of lowercase, uppercase, digit, symbol.
var Strong = tenant.PasswordRules{MinLength: 8, MaxLength: 64, Classes: 3}

// Rules returns the rules of a complexity setting: "simple", "strong" (also
// ""), or "custom" with custom (nil custom: Strong).
func Rules(complexity string, minLength, maxLength, classes int, digitsOnly bool) tenant.PasswordRules {
	switch strings.ToLower(complexity) {
	case "simple":
		return Simple
	case "custom":
		r := tenant.PasswordRules{MinLength: minLength, MaxLength: maxLength, Classes: classes, DigitsOnly: digitsOnly}
		return Normalize(r)
	default:
		return Strong
	}
}

// Normalize fills unset limits with B2C's defaults (the zero rules are Strong).
func Normalize(r tenant.PasswordRules) tenant.PasswordRules {
	if r == (tenant.PasswordRules{}) {
		return Strong
	}
	if r.MinLength <= 0 {
		r.MinLength = 8
	}
	if r.MaxLength <= 0 {
		r.MaxLength = 64
	}
	if r.DigitsOnly {
		r.Classes = 0
	}
	return r
}

// PolicyError is a password that breaks the rules; its message is meant
// for the user.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

// The messages shown by B2C's sign-up and password-reset pages.
const (
	msgDigitsOnly = "The password must contain only numbers (0-9)."
)

// Describe is the help text of a rule set, as shown under the password
// field.
func Describe(r tenant.PasswordRules) string {
	r = Normalize(r)
	s := fmt.Sprintf("%d-%d characters", r.MinLength, r.MaxLength)
	switch {
	case r.DigitsOnly:
		s += ", numbers only (0-9)."
	case r.Classes > 0:
		s += fmt.Sprintf(", containing %d out of 4 of the following: lowercase characters, uppercase characters, digits (0-9), and symbols.", r.Classes)
	default:
		s += "."
	}
	return s
}

// Check returns a *PolicyError when password breaks the rules (the zero
// rules mean Strong). Length counts characters (runes), not bytes.
func Check(r tenant.PasswordRules, password string) error {
	r = Normalize(r)
	if !utf8.ValidString(password) {
		return &PolicyError{"The password contains characters that are not allowed."}
	}
	n := utf8.RuneCountInString(password)
	if n < r.MinLength || n > r.MaxLength {
		return &PolicyError{fmt.Sprintf("The password must be between %d and %d characters.", r.MinLength, r.MaxLength)}
	}
	var lower, upper, digit, symbol bool
	for _, c := range password {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsControl(c):
			return &PolicyError{"The password contains characters that are not allowed."}
		default:
			symbol = true
		}
	}
	if r.DigitsOnly {
		if lower || upper || symbol {
			return &PolicyError{msgDigitsOnly}
		}
		return nil
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, symbol} {
		if b {
			classes++
		}
	}
	if classes < r.Classes {
		return &PolicyError{fmt.Sprintf("The password must have at least %d of the following: a lowercase letter, an uppercase letter, a digit (0-9), a symbol.", r.Classes)}
	}
	return nil
}
