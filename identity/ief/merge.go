package ief

import (
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
)

// B2C's inheritance: a policy names its parent in BasePolicy, and the
// engine lays each file over its parent's merged content. An element of the
// child that identifies the same thing as one in the parent (a ClaimType
// with the same Id, a Metadata Item with the same Key, an OutputClaim of
// the same claim type, an OrchestrationStep with the same Order) is merged
// into it — attributes and text override, child elements merge the same
// way — and anything else is added. A TechnicalProfile is matched by Id in
// any ClaimsProvider, since profiles live in one namespace whichever
// provider holds them. IncludeTechnicalProfile uses the same merge.

// identity is what an element is matched by within its parent: its name,
// plus the attributes that identify it. ok is false for elements that may
// repeat without an identity (Precondition, Value), which are appended.
func identity(parent string, n *tfxml.Node) (key string, ok bool) {
	attrKey := func(names ...string) string {
		k := n.Name
		for _, a := range names {
			k += "\x00" + n.Attr(a)
		}
		return k
	}
	switch n.Name {
	case "Precondition", "Value":
		return "", false
	case "Item":
		if n.Has("Key") {
			return attrKey("Key"), true
		}
		return attrKey("Value"), true
	case "InputClaim", "OutputClaim", "PersistedClaim", "DisplayClaim":
		return attrKey("ClaimTypeReferenceId", "TransformationClaimType", "DisplayControlReferenceId"), true
	case "OrchestrationStep":
		return attrKey("Order"), true
	case "ValidationTechnicalProfile", "InputClaimsTransformation", "OutputClaimsTransformation",
		"LocalizedResourcesReference":
		return attrKey("ReferenceId", "Language"), true
	case "LocalizedString":
		return attrKey("ElementType", "ElementId", "StringId"), true
	case "LocalizedCollection":
		return attrKey("ElementType", "ElementId", "TargetCollection"), true
	case "Enumeration":
		return attrKey("Value"), true
	case "SupportedLanguage":
		return n.Name + "\x00" + n.Text, true
	case "Protocol":
		if parent == "DefaultPartnerClaimTypes" {
			return attrKey("Name"), true
		}
	case "ClaimsProviderSelection":
		return attrKey("TargetClaimsExchangeId", "ValidationClaimsExchangeId"), true
	case "Candidate":
		return attrKey("SubJourneyReferenceId"), true
	}
	if n.Has("Id") {
		return attrKey("Id"), true
	}
	return n.Name, true // a singleton: DisplayName, Metadata, InputClaims, ...
}

// mergeInto lays src over dst (dst is changed; src is not).
func mergeInto(dst, src *tfxml.Node) {
	for _, a := range src.AttrOrder {
		if !dst.Has(a) {
			dst.AttrOrder = append(dst.AttrOrder, a)
		}
		dst.Attrs[a] = src.Attrs[a]
	}
	if src.Text != "" || len(src.Kids) == 0 && len(dst.Kids) == 0 {
		dst.Text = src.Text
	}
	if src.Name == "ClaimsProviders" {
		mergeProviders(dst, src)
		return
	}
	index := map[string]*tfxml.Node{}
	var added []*tfxml.Node
	for _, k := range dst.Kids {
		if key, ok := identity(dst.Name, k); ok {
			if _, dup := index[key]; !dup {
				index[key] = k
			}
		}
	}
	for _, k := range src.Kids {
		if key, ok := identity(src.Name, k); ok {
			if d := index[key]; d != nil {
				mergeInto(d, k)
				continue
			}
			c := k.Clone()
			index[key] = c
			added = append(added, c)
			continue
		}
		added = append(added, k.Clone())
	}
	switch src.Name {
	case "ValidationTechnicalProfiles":
		// B2C: an inheriting policy's validation profiles go to the top
		// of the base's list, so they run before (say) the directory
		// write of the starter pack's sign-up page.
		dst.Kids = append(added, dst.Kids...)
	case "OutputClaims", "DisplayClaims":
		// The order of a page's claims is the inheriting policy's when
		// it lists them ("specify the entire list of output claims to
		// control the order"): the base's claims it does not list keep
		// their order first, then its list in its order.
		listed := map[*tfxml.Node]bool{}
		var order []*tfxml.Node
		for _, k := range src.Kids {
			if key, ok := identity(src.Name, k); ok {
				listed[index[key]] = true
				order = append(order, index[key])
			}
		}
		var kept []*tfxml.Node
		for _, k := range dst.Kids {
			if !listed[k] {
				kept = append(kept, k)
			}
		}
		dst.Kids = append(kept, order...)
	default:
		dst.Kids = append(dst.Kids, added...)
	}
}

// mergeProviders merges technical profiles by Id across claims providers;
// profiles new to the policy stay in (a copy of) the provider that
// declares them.
func mergeProviders(dst, src *tfxml.Node) {
	profiles := map[string]*tfxml.Node{}
	for _, cp := range dst.Kids {
		for _, tp := range technicalProfiles(cp) {
			profiles[tp.Attr("Id")] = tp
		}
	}
	for _, cp := range src.Kids {
		fresh := cp.Clone()
		if tps := fresh.Kid("TechnicalProfiles"); tps != nil {
			var keep []*tfxml.Node
			for _, tp := range tps.Kids {
				if d := profiles[tp.Attr("Id")]; d != nil && tp.Name == "TechnicalProfile" {
					mergeInto(d, tp)
					continue
				}
				profiles[tp.Attr("Id")] = tp
				keep = append(keep, tp)
			}
			tps.Kids = keep
			if len(keep) == 0 {
				continue
			}
		}
		dst.Kids = append(dst.Kids, fresh)
	}
}

func technicalProfiles(cp *tfxml.Node) []*tfxml.Node {
	if tps := cp.Kid("TechnicalProfiles"); tps != nil {
		return tps.KidsNamed("TechnicalProfile")
	}
	return nil
}
