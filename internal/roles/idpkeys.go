package roles

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/userflows"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/keys"
)

// idpKeys resolves the keys identity providers' profiles name: a user
// flow's provider's clientSecret from the config (under
// userflows.SecretRef), everything else from the key store.
type idpKeys struct {
	secrets map[string][]byte
	keys.Resolver
}

func newIDPKeys(reg *tenant.Registry, next keys.Resolver) keys.Resolver {
	k := idpKeys{secrets: map[string][]byte{}, Resolver: next}
	for _, p := range reg.IdentityProviders {
		if p.ClientSecret.IsSet() {
			k.secrets[strings.ToUpper(userflows.SecretRef(p.Name))] = p.ClientSecret.Bytes
		}
	}
	return k
}

func (k idpKeys) Secret(ctx context.Context, name string) ([]byte, error) {
	if b, ok := k.secrets[strings.ToUpper(name)]; ok {
		return b, nil
	}
	return k.Resolver.Secret(ctx, name)
}
