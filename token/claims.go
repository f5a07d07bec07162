package token

import (
	"encoding/json"
	"strings"
)

// checkClaims applies required-claims: every rule must hold. Missing claims
// are reported together (TokenClaimNotFound); otherwise the first rule whose
// values do not match is reported (TokenClaimValueNotAllowed).
//
// A claim's values: a string (split by Separator when set, empty parts
// dropped); each element of an array (strings split the same way); numbers
// and booleans as their JSON text (numbers exactly as written in the
// token). null, objects and nested arrays never match. A rule without values
// only requires the claim to be present.
func checkClaims(rules []ClaimRule, claims map[string]any) *Error {
	var missing []string
	for _, r := range rules {
		if v, ok := claims[r.Name]; !ok || v == nil {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) > 0 {
		return fail(ReasonTokenClaimNotFound, "JWT token is missing the following claims: %s.", strings.Join(missing, ", "))
	}
	for _, r := range rules {
		if len(r.Values) == 0 {
			continue
		}
		v := claims[r.Name]
		have := claimValues(v, r.Separator)
		ok := r.Match == matchAll
		for _, want := range r.Values {
			found := contains(have, want)
			if r.Match == matchAny && found {
				ok = true
				break
			}
			if r.Match == matchAll && !found {
				ok = false
				break
			}
		}
		if !ok {
			return fail(ReasonTokenClaimValueNotAllowed, "Claim %s value of %s is not allowed.", r.Name, echo(renderClaim(v)))
		}
	}
	return nil
}

func contains(have []string, want string) bool {
	for _, h := range have {
		if h == want {
			return true
		}
	}
	return false
}

func claimValues(v any, sep string) []string {
	var out []string
	add := func(x any) {
		switch t := x.(type) {
		case string:
			if sep == "" {
				out = append(out, t)
				return
			}
			for _, part := range strings.Split(t, sep) {
				if part != "" {
					out = append(out, part)
				}
			}
		case json.Number:
			out = append(out, string(t))
		case bool:
			if t {
				out = append(out, "true")
			} else {
				out = append(out, "false")
			}
		}
	}
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			add(x)
		}
	} else {
		add(v)
	}
	return out
}

// renderClaim is the token's claim value for a message.
func renderClaim(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
