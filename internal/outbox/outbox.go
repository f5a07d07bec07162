// Package outbox writes messages into a development outbox folder (the
// email and SMS senders' stand-in for a real service): one owner-only file
// per message, named by time so a listing is in sending order, written
// atomically so a reader never sees half a message.
package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// Write stores data as a new file with extension ext (".eml", ".json") in
// dir, made 0700 if missing; the file is 0600. It returns the file's path.
func Write(dir, ext string, data []byte, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	r := make([]byte, 6)
	_, _ = rand.Read(r)
	name := now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r) + ext
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp.Name())
		return "", errors.Join(werr, cerr)
	}
	// CreateTemp makes 0600 already; said again for a umask-proof result.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}
