package expr

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Char is a C# char (a UTF-16 code unit; Gatehouse uses the rune). It is a
// distinct type so that it is not confused with int (rune is int32).
type Char rune

// Guid is System.Guid. String gives the "D" format (lower case, dashes).
type Guid [16]byte

// NewGuid returns a random (version 4) Guid.
func NewGuid() Guid {
	var g Guid
	_, _ = rand.Read(g[:])
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

// String formats g as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
func (g Guid) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:], g[10:])
	return string(b[:])
}

// ParseGuid parses the D, N, B and P formats.
func ParseGuid(s string) (Guid, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return Guid{}, false
		}
		s = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	var g Guid
	if len(s) != 32 {
		return g, false
	}
	if _, err := hex.Decode(g[:], []byte(s)); err != nil {
		return g, false
	}
	return g, true
}

// toBytes gives .NET's Guid.ToByteArray order (first three groups little endian).
func (g Guid) toBytes() []byte {
	return []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]}
}

// guidFromBytes is new Guid(byte[]).
func guidFromBytes(b []byte) Guid {
	return Guid{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
}

// EnumValue is a member of a .NET enum (StringComparison.Ordinal,
// JTokenType.Object, Formatting.None ...). ToString gives Name.
type EnumValue struct {
	Type  string
	Name  string
	Value int
}

// List is List<T> (and the result of LINQ ToList).
type List struct {
	Elem  string // C# element type name, "object" when unknown
	Items []any
	Set   bool // a HashSet: Add keeps one of each element
}

// distinct is items without repeats, first occurrences kept.
func distinct(items []any) []any {
	out := items[:0:0]
	for _, it := range items {
		if !containsValue(out, it) {
			out = append(out, it)
		}
	}
	return out
}

func containsValue(items []any, v any) bool {
	for _, it := range items {
		if equals(it, v) {
			return true
		}
	}
	return false
}

// Dict is Dictionary<K,V>: insertion-ordered, keys compared as Go values
// (strings ordinally).
type Dict struct {
	KeyType, ValType string
	keys             []any
	m                map[any]any
}

// NewDict returns an empty dictionary.
func NewDict(k, v string) *Dict { return &Dict{KeyType: k, ValType: v, m: map[any]any{}} }

// Get returns the value for k.
func (d *Dict) Get(k any) (any, bool) { v, ok := d.m[k]; return v, ok }

// Set stores v under k.
func (d *Dict) Set(k, v any) {
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

// Remove deletes k and reports whether it existed.
func (d *Dict) Remove(k any) bool {
	if _, ok := d.m[k]; !ok {
		return false
	}
	delete(d.m, k)
	for i, x := range d.keys {
		if x == k {
			d.keys = append(d.keys[:i], d.keys[i+1:]...)
			break
		}
	}
	return true
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any { return d.keys }

// Len is Count.
func (d *Dict) Len() int { return len(d.keys) }

// KeyValuePair is what foreach yields over dictionaries and JObject.
type KeyValuePair struct {
	Key   any
	Value any
}

// DateTimeOffset is System.DateTimeOffset (always carried in UTC here).
type DateTimeOffset struct{ T time.Time }

// BasicAuth is the result of string.AsBasic().
type BasicAuth struct {
	UserId   string
	Password string
}

// outRef is an `out` argument: the slot of the local receiving the value.
type outRef struct{ slot int }
