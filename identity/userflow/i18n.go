package userflow

import (
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/identity/locale"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
)

// msgIDs are the string ids of the English messages the steps show
// (steps.go, limits.go and the identity and password packages' texts).
// The runners keep writing B2C's English texts; the pages show them in
// the page's language.
var msgIDs = map[string]string{
	msgInvalidCredentials:    "UserMessageIfInvalidPassword",
	msgEmailRequired:         "requiredField_email",
	msgPasswordRequired:      "requiredField_password",
	msgInvalidEmail:          "invalid_email",
	msgRequired:              "required_field",
	msgTooLong:               "error_value_too_long",
	msgMismatch:              "error_passwordEntryMismatch",
	msgUserExists:            "UserMessageIfClaimsPrincipalAlreadyExists",
	msgNoAccount:             "UserMessageIfClaimsPrincipalDoesNotExist",
	msgCodeSent:              "ver_info_msg",
	msgVerified:              "ver_success_msg",
	msgCodeWrong:             "ver_fail_code",
	msgCodeExpired:           "ver_fail_code_expired",
	msgTooManyAttempts:       "ver_fail_retry",
	msgThrottled:             "ver_fail_throttled",
	msgVerifyFirst:           "ver_required",
	msgSendFailed:            "ver_fail_send",
	msgCodeRequired:          "requiredField_verificationCode",
	msgSignInThrottled:       "UserMessageIfSignInThrottled",
	password.LockedMessage:   "UserMessageIfUserAccountLocked",
	tenant.MsgNameCharacters: "error_name_characters",
	"The password contains characters that are not allowed.": "password_error_characters",
	"The password must contain only numbers (0-9).":          "password_error_digits",
}

// numberedIDs are the texts with numbers (the password rules' help and
// errors): recognised by their English form, numbers carried over.
var numberedIDs = []string{"password_help_length", "password_help_digits", "password_help_classes",
	"password_error_length", "password_error_classes"}

var numberedRE = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for _, id := range numberedIDs {
		q := regexp.QuoteMeta(locale.English.T(id))
		for _, p := range []string{`\{0\}`, `\{1\}`, `\{2\}`} {
			q = strings.Replace(q, p, `([0-9]+)`, 1)
		}
		m[id] = regexp.MustCompile("^" + q + "$")
	}
	return m
}()

// translate shows an English page text in l. Texts it does not know (an
// API connector's or a custom policy's message) are shown as they are.
func translate(l locale.Lang, msg string) string {
	if l == locale.English || msg == "" {
		return msg
	}
	if id, ok := msgIDs[msg]; ok {
		return l.T(id)
	}
	for _, id := range numberedIDs {
		if m := numberedRE[id].FindStringSubmatch(msg); m != nil {
			args := make([]any, len(m)-1)
			for i, s := range m[1:] {
				args[i] = s
			}
			return l.F(id, args...)
		}
	}
	return msg
}
