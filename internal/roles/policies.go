package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
)

// enginePolicies loads identity.customPolicies on the policy engine. Files
// that inherit from the starter pack's base or localization without
// bringing them run on the built-in copies (identity/ief/builtin). dir is
// where relative LoadUri paths start: the first file's folder.
func enginePolicies(paths []config.Path) (set *ief.Set, dir string, err error) {
	if len(paths) == 0 {
		return nil, "", nil
	}
	var srcs []ief.Source
	for _, p := range paths {
		path, data, rerr := readPolicyFile(p)
		if rerr != nil {
			return nil, "", rerr
		}
		if dir == "" {
			dir = filepath.Dir(path)
		}
		srcs = append(srcs, ief.Source{Path: path, Data: data})
	}
	set, err = ief.Load(srcs, ief.Options{})
	return set, dir, err
}

// readPolicyFile reads a custom-policy file of identity.customPolicies;
// a failure is a config error at its place.
func readPolicyFile(p config.Path) (string, []byte, error) {
	path := p.Abs
	if path == "" {
		path = p.Raw
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return path, nil, &config.Error{Pos: p.Pos, Msg: "custom policy: " + err.Error()}
	}
	return path, data, nil
}

// policyFlows lists an engine set's relying parties as flows.
type policyFlows struct{ set *ief.Set }

func (s policyFlows) CustomFlows() []identity.CustomFlow {
	var out []identity.CustomFlow
	if s.set == nil {
		return nil
	}
	for _, id := range s.set.IDs() {
		p := s.set.Policy(id)
		cf := identity.CustomFlow{PolicyID: p.ID, Pos: p.Pos}
		// Claims the issuer adds itself when the relying party lists them.
		for _, r := range p.RP.Profile.OutputClaims {
			if ct := p.Claim(r.ClaimType); ct != nil && r.PartnerClaimType == "" {
				switch ct.ID {
				case "objectId", "newUser":
					cf.Claims = append(cf.Claims, ct.ID)
				}
			}
		}
		if iss := issuer(p); iss != nil {
			secs := func(k string) time.Duration {
				n, _ := strconv.Atoi(iss.Metadata[k])
				return time.Duration(n) * time.Second
			}
			cf.AccessTokenTTL, cf.IDTokenTTL = secs("token_lifetime_secs"), secs("id_token_lifetime_secs")
			cf.RefreshTokenTTL, cf.RollingRefreshTTL = secs("refresh_token_lifetime_secs"), secs("rolling_refresh_token_lifetime_secs")
			cf.ACR = iss.Metadata["AuthenticationContextReferenceClaimPattern"] == "PolicyId"
			cf.IssuerTfp = iss.Metadata["IssuanceClaimPattern"] == "AuthorityWithTfp"
		}
		out = append(out, cf)
	}
	return out
}

// issuer is the token issuer of the relying party's journey (its last
// SendClaims step).
func issuer(p *ief.Policy) *ief.TechnicalProfile {
	j := p.Journeys[p.RP.Journey]
	if j == nil {
		return nil
	}
	for i := len(j.Steps) - 1; i >= 0; i-- {
		if s := j.Steps[i]; s.Type == "SendClaims" {
			id := s.Issuer
			if id == "" {
				id = j.DefaultIssuer
			}
			return p.Profiles[id]
		}
	}
	return nil
}

// policiesNeedMail reports whether a policy sends email codes: a
// self-asserted profile verifying a Verified.* claim, or an AadSspr
// profile (display controls).
func policiesNeedMail(set *ief.Set) bool {
	if set == nil {
		return false
	}
	for _, id := range set.IDs() {
		for _, tp := range set.Policy(id).Profiles {
			if tp.Provider == nil {
				continue
			}
			if tp.Provider.Name == "AadSspr" {
				return true
			}
			for _, r := range tp.OutputClaims {
				if tp.Provider.Name == "SelfAsserted" && strings.HasPrefix(r.PartnerClaimType, "Verified.") {
					return true
				}
			}
		}
	}
	return false
}

// checkPolicyKeys reports every policy key a RESTful profile or an
// identity provider (its client_secret) names that
// the key store does not have, at the Key's place — as B2C refuses a
// policy whose keys do not exist — instead of failing at the first call.
// (Other providers' keys, such as the issuer's signing containers, are
// Gatehouse's own.)
func checkPolicyKeys(ctx context.Context, km *keys.Manager, set *ief.Set) error {
	if set == nil {
		return nil
	}
	var errs config.Errors
	seen := map[string]bool{}
	for _, id := range set.IDs() {
		p := set.Policy(id)
		for _, tp := range p.Profiles {
			if tp.Provider == nil || tp.Provider.Name != "RESTful" && !tp.Provider.Federated {
				continue
			}
			for kid, name := range tp.Keys {
				_, err := km.Container(ctx, name)
				switch {
				case err == nil:
				case errors.Is(err, keys.ErrNoContainer):
					pos := tp.KeyPos(kid)
					if k := pos.String() + name; !seen[k] {
						seen[k] = true
						errs = append(errs, &config.Error{Pos: pos, Msg: fmt.Sprintf("technical profile %s: policy key %s does not exist (add it with `gatehouse keys add` or identity.policyKeys)", tp.ID, name)})
					}
				default:
					return err
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return errs
	}
	return nil
}

// ensureSAMLSigningKey makes the certificate that signs the AuthnRequests
// of saml providers configured without a signingCertificate, once: it is
// kept like any policy key (rolled over with `gatehouse keys add`).
func ensureSAMLSigningKey(ctx context.Context, km *keys.Manager, reg *tenant.Registry, log *slog.Logger) error {
	need := false
	for _, p := range reg.IdentityProviders {
		need = need || p.SigningKeyGenerated
	}
	if !need {
		return nil
	}
	_, err := km.Container(ctx, tenant.GeneratedSAMLSigningKey)
	if !errors.Is(err, keys.ErrNoContainer) {
		return err
	}
	k, err := km.GenerateCertificate(ctx, tenant.GeneratedSAMLSigningKey, reg.TenantName+" SAML signing", 10*365*24*time.Hour,
		keys.AddOptions{Origin: "generated"})
	if err != nil {
		return fmt.Errorf("generating the SAML signing certificate: %w", err)
	}
	log.Info("generated the SAML signing certificate of saml identity providers", "key", k)
	return nil
}

// checkProviderKeys reports the policy keys user flows' identity providers
// name (client secret, Apple's .p8, private_key_jwt's certificate) that do
// not exist, at the provider's line.
func checkProviderKeys(ctx context.Context, km *keys.Manager, reg *tenant.Registry) error {
	var errs config.Errors
	for _, name := range slices.Sorted(maps.Keys(reg.IdentityProviders)) {
		p := reg.IdentityProviders[name]
		for _, ref := range []string{p.SecretKey, p.AppleKeyRef, p.AssertionKey, p.SigningKey, p.DecryptionKey} {
			if ref == "" {
				continue
			}
			_, err := km.Container(ctx, ref)
			switch {
			case errors.Is(err, keys.ErrNoContainer):
				errs = append(errs, &config.Error{Pos: p.Pos, Msg: fmt.Sprintf("identity provider %s: policy key %s does not exist (add it with `gatehouse keys add` or identity.policyKeys)", p.Name, ref)})
			case err != nil:
				return err
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// policiesUse reports whether a profile of the set's policies runs on the
// provider.
func policiesUse(set *ief.Set, provider string) bool {
	if set == nil {
		return false
	}
	for _, id := range set.IDs() {
		for _, tp := range set.Policy(id).Profiles {
			if tp.Provider != nil && tp.Provider.Name == provider {
				return true
			}
		}
	}
	return false
}
