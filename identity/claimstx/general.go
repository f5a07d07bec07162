package claimstx

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"io"
	"strings"
)

// General and social-account claims transformations.

func init() {
	register(&Method{Name: "CopyClaim", Family: "general",
		Inputs: []Slot{req("inputClaim")},
		Out:    []Slot{req("outputClaim")},
		Run: func(in Inputs) (Outputs, error) {
			c, ok := in.Claims["inputClaim"]
			if !ok || c.Value == nil {
				return Outputs{}, nil
			}
			dt := in.outType("outputClaim", c.DataType)
			if dt == c.DataType || dt == "" {
				return one("outputClaim", Claim{DataType: c.DataType, Value: c.Value}), nil
			}
			// e.g. a phoneNumber claim copied into a string claim, an int into a long
			out, err := convert("CopyClaim", "outputClaim", dt, FormatValue(c.Value))
			if err != nil {
				return nil, err
			}
			return one("outputClaim", out), nil
		}})
	register(&Method{Name: "DoesClaimExist", Family: "general",
		Inputs: []Slot{req("inputClaim")},
		Out:    []Slot{req("outputClaim", Boolean)},
		Run: func(in Inputs) (Outputs, error) {
			c := in.Claims["inputClaim"]
			exists := c.Value != nil
			switch x := c.Value.(type) {
			case string:
				exists = x != ""
			case []string:
				exists = len(x) > 0
			}
			return one("outputClaim", boolean(exists)), nil
		}})
	register(&Method{Name: "Hash", Family: "general",
		Inputs: []Slot{req("plaintext", String), req("salt", String)},
		// randomizerSecret names a policy key; the caller replaces the
		// parameter's Value with the key's secret before Run.
		Params: []Slot{req("randomizerSecret", String)},
		Out:    []Slot{req("hash", String)},
		Run: func(in Inputs) (Outputs, error) {
			p, _ := in.str("plaintext")
			s, _ := in.str("salt")
			secret, _ := in.param("randomizerSecret")
			return one("hash", str(HashValue(p, s, secret))), nil
		}})
	register(&Method{Name: "CreateOtpSecret", Family: "totp",
		Out: []Slot{req("outputClaim", String)},
		Run: func(in Inputs) (Outputs, error) {
			// A new authenticator-app secret: 20 random bytes (RFC 4226's
			// recommended 160 bits), base32 without padding as the apps and
			// the otpauth URI spell it.
			src := in.Rand
			if src == nil {
				src = rand.Reader
			}
			b := make([]byte, 20)
			if _, err := io.ReadFull(src, b); err != nil {
				return nil, fail("CreateOtpSecret", "random source: %v", err)
			}
			return one("outputClaim", str(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))), nil
		}})
	register(&Method{Name: "CreateAlternativeSecurityId", Family: "social",
		Inputs: []Slot{req("key", String), req("identityProvider", String)},
		Out:    []Slot{req("alternativeSecurityId", String)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "CreateAlternativeSecurityId"
			key, ok1 := in.str("key")
			idp, ok2 := in.str("identityProvider")
			if !ok1 || !ok2 || key == "" || idp == "" {
				return nil, fail(m, "key and identityProvider need values")
			}
			return one("alternativeSecurityId", str(AlternativeSecurityID(idp, key))), nil
		}})
}

// HashValue is Hash's output: base64 of HMAC-SHA-256 over plaintext+salt
// keyed with the policy key's secret. B2C documents SHA-256 "using the salt
// and a secret" without the exact construction (its example's secret is not
// published, so its output cannot be reproduced); HMAC is the standard way to
// key SHA-256 with a secret.
func HashValue(plaintext, salt, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(plaintext + salt))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// AlternativeSecurityID is CreateAlternativeSecurityId's JSON:
// {"issuer":"<identityProvider>","issuerUserId":"<base64 of key's UTF-8>"}.
// The issuer is lower-cased, as in the docs' example (Facebook.com →
// facebook.com).
func AlternativeSecurityID(identityProvider, key string) string {
	var b strings.Builder
	b.WriteString(`{"issuer":`)
	b.WriteString(quoteJSON(strings.ToLower(identityProvider)))
	b.WriteString(`,"issuerUserId":`)
	b.WriteString(quoteJSON(base64.StdEncoding.EncodeToString([]byte(key))))
	b.WriteString("}")
	return b.String()
}
