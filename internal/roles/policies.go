package roles

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
	"github.com/gatehouse/gatehouse/internal/config"
)

// enginePolicies loads identity.customPolicies on the policy engine when
// they bring their own root (a file without BasePolicy, such as the
// starter pack's TrustFrameworkBase.xml): those run B2C's journeys as
// written. Files without a root — the first round's extension-and-
// relying-party files over Gatehouse's built-in base — stay with package
// trustframework (ok=false). dir is where relative LoadUri paths start.
func enginePolicies(paths []config.Path) (set *ief.Set, dir string, ok bool, err error) {
	var srcs []ief.Source
	root := false
	for _, p := range paths {
		path := p.Abs
		if path == "" {
			path = p.Raw
		}
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, "", false, &config.Error{Pos: p.Pos, Msg: "custom policy: " + rerr.Error()}
		}
		if n, perr := tfxml.Parse(path, data); perr == nil && n.Kid("BasePolicy") == nil && n.Name == "TrustFrameworkPolicy" {
			root = true
			if dir == "" {
				dir = filepath.Dir(path)
			}
		}
		srcs = append(srcs, ief.Source{Path: path, Data: data})
	}
	if !root {
		return nil, "", false, nil
	}
	set, err = ief.Load(srcs, ief.Options{})
	return set, dir, err == nil, err
}

// policyFlows lists an engine set's relying parties as flows.
type policyFlows struct{ set *ief.Set }

func (s policyFlows) CustomFlows() []identity.CustomFlow {
	var out []identity.CustomFlow
	for _, id := range s.set.IDs() {
		p := s.set.Policy(id)
		cf := identity.CustomFlow{PolicyID: p.ID, Type: "journey", Pos: p.Pos}
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
