package apim

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/apim/expr"
)

// URL paths: what the gateway forwards must stay inside the API's
// serviceUrl path (and the path the operation matched), whatever the
// caller or a policy wrote.
//
// What APIM does, and what Gatehouse does:
//
//   - Dot segments. APIM runs on .NET behind HTTP.sys/Kestrel, whose request
//     path normaliser (Kestrel's PathNormalizer, "the algorithm from RFC 3986
//     §5.2.4") decodes the path and removes "." and ".." segments before the
//     application sees it, so APIM routes "/a/../b" as "/b". Gatehouse does
//     the same before routing, for raw and percent-encoded spellings in any
//     case ("..", "%2e%2e", ".%2E", "%2E."): the result is a different,
//     ordinary request that is routed, authorised and logged as what it is.
//     ".." at the root is dropped (RFC 3986 §5.2.4), so nothing climbs above
//     "/" and, once routed, nothing is left that could climb above the API's
//     path or serviceUrl path.
//   - Encoded slashes. APIM decodes %2F into "/" before forwarding (Microsoft
//     Q&A 2281087, "URL Encoding Issue in Azure API Management - Encoded
//     Forward Slash (%2F) Getting Decoded Automatically"), which changes the
//     number of segments after routing decided on them. Gatehouse differs on
//     purpose: %2F (and %5C) are forwarded as they were sent and never become
//     a "/". A segment that hides a dot segment behind an encoded slash or
//     backslash ("..%2F", "%2e%2e%5c", "a%2F..%2Fb") cannot be resolved
//     without decoding the slash and is refused with 400: backends that decode
//     %2F before normalising (many do) would otherwise climb out of the path
//     the gateway authorised.
//   - Control characters. NUL and the other C0 controls and DEL, raw or
//     percent-encoded (%00-%1F, %7F), and malformed percent escapes are
//     refused with 400, as HTTP.sys refuses them ("Bad Request - Invalid
//     URL"), in APIM's JSON error shape.

// PathError is a request path the gateway refuses; Error is the message the
// caller receives (it never repeats the path).
type PathError struct{ Msg string }

func (e *PathError) Error() string { return e.Msg }

var (
	errPathEscape   = &PathError{"The request URL path has a malformed percent-encoding."}
	errPathControl  = &PathError{"The request URL path contains a control character."}
	errPathTraverse = &PathError{"The request URL path contains a dot segment behind an encoded slash or backslash."}
)

type segKind int

const (
	segNormal segKind = iota
	segDot            // "."
	segDotDot         // ".."
)

// classifySegment checks one escaped path segment.
func classifySegment(s string) (segKind, error) {
	switch s {
	case ".":
		return segDot, nil
	case "..":
		return segDotDot, nil
	}
	v := s
	if strings.IndexByte(s, '%') >= 0 {
		d, err := url.PathUnescape(s)
		if err != nil {
			return 0, errPathEscape
		}
		v = d
	}
	hasSep := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c == 0x7f:
			return 0, errPathControl
		case c == '/' || c == '\\':
			hasSep = true
		}
	}
	switch {
	case v == ".":
		return segDot, nil
	case v == "..":
		return segDotDot, nil
	case hasSep:
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
			if part == "." || part == ".." {
				return 0, errPathTraverse
			}
		}
	}
	return segNormal, nil
}

// ResolvePath splits an escaped URL path (as sent: "%2F" distinct from "/")
// into its segments after the leading "/", with dot segments resolved
// (RFC 3986 §5.2.4; ".." at the root is dropped) and every segment's
// escaping made canonical (see canonicalSegment), so that joining them with
// "/" gives a path url.URL forwards byte for byte. "" and "/" give no
// segments; a trailing "/" gives a final empty segment. The error is a
// *PathError for malformed escapes, control characters and dot segments
// behind encoded slashes.
func ResolvePath(escaped string) ([]string, error) {
	p := strings.TrimPrefix(escaped, "/")
	if p == "" {
		return nil, nil
	}
	raw := strings.Split(p, "/")
	var out []string // nil while raw is kept as it is
	for i, s := range raw {
		kind, err := classifySegment(s)
		if err != nil {
			return nil, err
		}
		c := s
		if kind == segNormal {
			c = canonicalSegment(s)
		}
		if out == nil {
			if kind == segNormal && c == s {
				continue
			}
			out = append(make([]string, 0, len(raw)), raw[:i]...)
		}
		last := i == len(raw)-1
		switch kind {
		case segDot:
		case segDotDot:
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
			continue
		}
		if last {
			out = append(out, "") // "/a/.." is "/a/"
		}
	}
	if out == nil {
		return raw, nil
	}
	return out, nil
}

// canonicalSegment escapes the bytes of a (valid) escaped segment that
// url.URL would not keep as they are, leaving existing escapes alone: a
// segment holding, say, a raw '"' next to "%2F" would otherwise make
// url.URL.EscapedPath throw the raw form away and re-escape the decoded
// path, turning %2F into "/".
func canonicalSegment(s string) string {
	for i := 0; i < len(s); i++ {
		if !keepInSegment(s[i]) {
			return escapeSegment(s)
		}
	}
	return s
}

func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keepInSegment(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// keepInSegment: RFC 3986 pchar bytes (unreserved, sub-delims, ':', '@')
// and '%' (escapes were validated before).
func keepInSegment(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '%':
		return true
	}
	return false
}

// EscapedPath is u's path as it is sent: RawPath when it is a valid
// encoding of Path (so %2F stays %2F), else Path escaped.
func EscapedPath(u *expr.URL) string {
	if u == nil {
		return "/"
	}
	return (&url.URL{Path: u.Path, RawPath: u.RawPath}).EscapedPath()
}

// SetEscapedPath sets u's path from its escaped form (valid escapes).
func SetEscapedPath(u *expr.URL, escaped string) {
	if escaped == "" {
		escaped = "/"
	}
	p, err := url.PathUnescape(escaped)
	if err != nil {
		p = escaped
	}
	u.Path, u.RawPath = p, escaped
}

// JoinSegments is base (an escaped path) followed by segs, one "/" between.
func JoinSegments(base string, segs []string) string {
	base = strings.TrimSuffix(base, "/")
	if len(segs) == 0 {
		if base == "" {
			return "/"
		}
		return base
	}
	return base + "/" + strings.Join(segs, "/")
}

// joinResolved appends the escaped relative path rel to the escaped base
// path, resolving rel's dot segments so the result never climbs above base.
func joinResolved(base, rel string) (string, error) {
	segs, err := ResolvePath(rel)
	if err != nil {
		return "", err
	}
	return JoinSegments(base, segs), nil
}

// pathPolicyError is a 400 for a backend path a policy would build outside
// its base path (or with an unusable segment).
func (x *Exec) pathPolicyError(err error) *PolicyError {
	msg := err.Error()
	var pe *PathError
	if !errors.As(err, &pe) {
		msg = "The backend URL path is not valid: " + msg
	}
	return &PolicyError{Source: x.policyName(), Reason: "InvalidUrl", Message: msg, Status: http.StatusBadRequest}
}
