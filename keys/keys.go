// Package keys is B2C's policy keys: named containers (B2C_1A_ prefix) of
// secrets, certificates and generated keys, each with a use (sig or enc)
// and optional start and expiry dates. The active key of a container is the
// newest one whose start has passed and that has not expired — B2C's rule —
// so a new certificate can be uploaded ahead of time and takes over by
// itself. Key material is encrypted at rest under the master key and never
// logged or listed.
package keys

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
)

// Prefix is added to container names that lack it, as B2C does.
const Prefix = "B2C_1A_"

// Name returns the container name with B2C's prefix (case-insensitive check).
func Name(n string) string {
	if len(n) >= len(Prefix) && strings.EqualFold(n[:len(Prefix)], Prefix) {
		return Prefix + n[len(Prefix):]
	}
	return Prefix + n
}

// ErrNoActiveKey: the container exists but none of its keys is active now.
var ErrNoActiveKey = errors.New("keys: no active key in the container")

// ErrNoContainer: no container by that name.
var ErrNoContainer = errors.New("keys: no such key container")

// Resolver hands API connectors the active material of a container. It is
// read on every call (not cached by the caller) so that a rollover takes
// effect without a restart.
type Resolver interface {
	// Secret is the active secret of a Manual (or generated oct) container.
	Secret(ctx context.Context, container string) ([]byte, error)
	// Certificate is the active certificate with its private key of an
	// Upload container (PKCS#12 or PEM).
	Certificate(ctx context.Context, container string) (*tls.Certificate, error)
}
