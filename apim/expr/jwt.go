package expr

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// AsJwt parses a token as string.AsJwt() does (a leading "Bearer " is
// tolerated); nil when the text is not a JWT. The signature is not checked.
func AsJwt(s string) *Jwt {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if j, ok := jwtCache.get(s); ok {
		return j
	}
	j := parseJwt(s)
	jwtCache.put(s, j)
	return j
}

// parseJwt decodes header and claims of a compact JWS or JWE.
func parseJwt(s string) *Jwt {
	parts := strings.Split(s, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil
	}
	var hdr map[string]any
	var claims map[string]any
	if !decodeSegment(parts[0], &hdr) || !decodeSegment(parts[1], &claims) {
		return nil
	}
	j := &Jwt{Raw: s, Claims: map[string][]string{}}
	j.Algorithm, _ = hdr["alg"].(string)
	j.Type, _ = hdr["typ"].(string)
	for k, v := range claims {
		j.Claims[k] = claimValues(v)
	}
	first := func(k string) string {
		if v := j.Claims[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	j.Id = first("jti")
	j.Issuer = first("iss")
	j.Subject = first("sub")
	j.Audiences = append([]string{}, j.Claims["aud"]...)
	j.ExpirationTime = claimTime(claims["exp"])
	j.NotBefore = claimTime(claims["nbf"])
	j.IssuedAt = claimTime(claims["iat"])
	return j
}

func decodeSegment(seg string, out *map[string]any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return false
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(out) == nil && *out != nil
}

// claimValues renders a claim as string values: arrays give one value per
// element, objects their JSON, numbers their literal text.
func claimValues(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, y := range x {
			out = append(out, claimValues(y)...)
		}
		return out
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case nil:
		return []string{""}
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

func claimTime(v any) *time.Time {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	f, err := n.Float64()
	if err != nil || f < -62135596800 || f > 253402300799 {
		return nil
	}
	t := time.Unix(int64(f), 0).UTC()
	return &t
}

// AsBasic parses a Basic authorization value as string.AsBasic() does
// ("Basic " prefix optional); nil when it is not valid.
func AsBasic(s string) *BasicAuth {
	s = strings.TrimSpace(s)
	if len(s) > 6 && strings.EqualFold(s[:6], "basic ") {
		s = strings.TrimSpace(s[6:])
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return nil
	}
	return &BasicAuth{UserId: user, Password: pass}
}
