package guard

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// keyHeader is where Azure Functions clients send a function key; the
// alternative is the `code` query parameter.
const keyHeader = "X-Functions-Key"

// keyStore holds SHA-256 digests of the keys, so comparisons are constant
// time and do not leak the keys' lengths.
type keyStore struct {
	funcs map[string][][sha256.Size]byte // lower-case function name → keys
	host  [][sha256.Size]byte
}

// isHostKeyName reports whether a FunctionKeys name means "every function".
func isHostKeyName(name string) bool {
	switch strings.ToLower(name) {
	case "", "_host", "default":
		return true
	}
	return false
}

func newKeyStore(funcs map[string]string, host []string) (*keyStore, error) {
	ks := &keyStore{funcs: map[string][][sha256.Size]byte{}}
	for name, k := range funcs {
		if k == "" {
			return nil, fmt.Errorf("guard: function key %q is empty", name)
		}
		if isHostKeyName(name) {
			ks.host = append(ks.host, sha256.Sum256([]byte(k)))
			continue
		}
		if strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("guard: function name %q must be one path segment", name)
		}
		ln := strings.ToLower(name)
		if _, dup := ks.funcs[ln]; dup {
			return nil, fmt.Errorf("guard: function %q has keys under names differing only in case", name)
		}
		ks.funcs[ln] = [][sha256.Size]byte{sha256.Sum256([]byte(k))}
	}
	for i, k := range host {
		if k == "" {
			return nil, fmt.Errorf("guard: host key %d is empty", i+1)
		}
		ks.host = append(ks.host, sha256.Sum256([]byte(k)))
	}
	return ks, nil
}

func (ks *keyStore) enabled() bool { return ks != nil && (len(ks.funcs) > 0 || len(ks.host) > 0) }

// check reports whether presented is a key of function fn or a host key.
// Every candidate is compared (no early exit).
func (ks *keyStore) check(fn, presented string) bool {
	if presented == "" {
		return false
	}
	d := sha256.Sum256([]byte(presented))
	ok := 0
	for _, k := range ks.funcs[fn] {
		ok |= subtle.ConstantTimeCompare(d[:], k[:])
	}
	for _, k := range ks.host {
		ok |= subtle.ConstantTimeCompare(d[:], k[:])
	}
	return ok == 1
}

// presentedKey returns the key of the request: the x-functions-key header
// or else the `code` query parameter (name compared case-insensitively, as
// ASP.NET does). More than one value is refused (ok false), so a request
// cannot try several keys at once.
func presentedKey(r *http.Request) (string, bool) {
	if v := r.Header.Values(keyHeader); len(v) > 0 {
		if len(v) > 1 {
			return "", false
		}
		return v[0], true
	}
	var vals []string
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if !isCodeParam(k) {
			continue
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			return "", false
		}
		vals = append(vals, uv)
	}
	if len(vals) != 1 {
		return "", false
	}
	return vals[0], true
}

func isCodeParam(rawKey string) bool {
	k, err := url.QueryUnescape(rawKey)
	if err != nil {
		k = rawKey
	}
	return strings.EqualFold(k, "code")
}

// removeCode drops every `code` parameter from a raw query, leaving the
// other parameters byte for byte.
func removeCode(raw string) string {
	if raw == "" {
		return raw
	}
	pairs := strings.Split(raw, "&")
	kept := pairs[:0]
	for _, p := range pairs {
		k, _, _ := strings.Cut(p, "=")
		if !isCodeParam(k) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

// functionName returns the lower-cased function of /api/{function}/... ("" for
// other paths). ok is false for a path that is not canonical (dot
// segments, empty segments, backslashes, encoded slashes): the upstream
// could route it to another function than the one whose key was checked.
func functionName(r *http.Request) (string, bool) {
	p := r.URL.Path
	esc := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(p, "\\") || strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") {
		return "", false
	}
	if p != "" && p != "*" {
		c := path.Clean(p)
		if strings.HasSuffix(p, "/") && c != "/" {
			c += "/"
		}
		if c != p {
			return "", false
		}
	}
	if len(p) < 5 || !strings.EqualFold(p[:5], "/api/") {
		return "", true
	}
	seg, _, _ := strings.Cut(p[5:], "/")
	return strings.ToLower(seg), true
}
