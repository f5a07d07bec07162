// Package ids makes the random identifiers Gatehouse hands out.
package ids

import (
	"crypto/rand"
	"fmt"
)

// NewGUID returns a random (version 4) GUID in its 36-character form.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand.Read crashes the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
