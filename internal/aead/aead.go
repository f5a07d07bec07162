// Package aead makes the AES-256-GCM ciphers Gatehouse seals data with
// (policy keys, signing keys, TOTP secrets, console cookies), each under a
// key of its own derived from the master key.
package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
)

// New is AES-GCM under key (16, 24 or 32 bytes).
func New(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Derived is AES-256-GCM under the key HKDF-SHA256 derives from secret
// for label: each use of the master key has a key of its own.
func Derived(secret []byte, label string) (cipher.AEAD, error) {
	dk, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		return nil, err
	}
	return New(dk)
}
