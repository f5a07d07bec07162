package roles

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/ief/federation"
	"github.com/gatehouse/gatehouse/identity/ief/userflows"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
)

// idpKeys resolves the keys identity providers' profiles name: a user
// flow's provider's clientSecret from the config (under
// userflows.SecretRef), everything else from the key store.
type idpKeys struct {
	secrets map[string][]byte
	apple   map[string]*federation.AppleKey // Apple's client secret is signed per request
	// appleRefs: Apple providers whose .p8 is a policy key, read (and so
	// rolled over) at each request.
	appleRefs map[string]*tenant.IdentityProvider
	keys.Resolver
}

func newIDPKeys(reg *tenant.Registry, next keys.Resolver) (keys.Resolver, error) {
	k := idpKeys{secrets: map[string][]byte{}, apple: map[string]*federation.AppleKey{},
		appleRefs: map[string]*tenant.IdentityProvider{}, Resolver: next}
	for _, p := range reg.IdentityProviders {
		ref := strings.ToUpper(userflows.SecretRef(p.Name))
		switch {
		case p.AppleKeyRef != "":
			k.appleRefs[ref] = p
			continue
		case p.ClientSecret.IsSet() && p.SecretKey == "":
			k.secrets[ref] = p.ClientSecret.Bytes
		}
		if p.AppleKey.IsSet() {
			ak, err := federation.ParseAppleKey(p.AppleTeamID, p.AppleKeyID, p.ClientID, p.AppleKey.Bytes)
			if err != nil {
				return nil, &config.Error{Pos: p.AppleKey.Pos, Msg: "identity provider " + p.Name + ": " + err.Error()}
			}
			k.apple[ref] = ak
		}
	}
	return k, nil
}

func (k idpKeys) Secret(ctx context.Context, name string) ([]byte, error) {
	if ak, ok := k.apple[strings.ToUpper(name)]; ok {
		s, err := ak.ClientSecret(time.Now())
		return []byte(s), err
	}
	if p, ok := k.appleRefs[strings.ToUpper(name)]; ok {
		p8, err := k.Resolver.Secret(ctx, p.AppleKeyRef)
		if err != nil {
			return nil, err
		}
		ak, err := federation.ParseAppleKey(p.AppleTeamID, p.AppleKeyID, p.ClientID, p8)
		if err != nil {
			return nil, fmt.Errorf("identity provider %s: policy key %s: %w", p.Name, p.AppleKeyRef, err)
		}
		s, err := ak.ClientSecret(time.Now())
		return []byte(s), err
	}
	if b, ok := k.secrets[strings.ToUpper(name)]; ok {
		return b, nil
	}
	return k.Resolver.Secret(ctx, name)
}
