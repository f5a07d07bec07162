package ief

import (
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// build turns a merged policy tree into the model. The schema has been
// checked, so shapes are known; rules that span elements are checkPolicy's.
func (c *checker) build(root *tfxml.Node) *Policy {
	p := &Policy{ClaimTypes: map[string]*ClaimType{}, Transformations: map[string]*Transformation{},
		ContentDefs: map[string]*ContentDef{}, DisplayControls: map[string]*DisplayControl{},
		Profiles: map[string]*TechnicalProfile{}, claimsFold: map[string]*ClaimType{}, Journeys: map[string]*Journey{}, SubJourneys: map[string]*Journey{}}
	if bb := root.Kid("BuildingBlocks"); bb != nil {
		for _, k := range bb.Kids {
			switch k.Name {
			case "ClaimsSchema":
				for _, ct := range k.Kids {
					c.dup(ct, p.ClaimTypes[ct.Attr("Id")] != nil, "ClaimType")
					x := c.claimType(ct)
					p.ClaimTypes[x.ID] = x
					p.claimsFold[strings.ToLower(x.ID)] = x
				}
			case "Predicates":
				p.Predicates = k
			case "PredicateValidations":
				p.PredicateValidations = k
			case "ClaimsTransformations":
				for _, t := range k.Kids {
					c.dup(t, p.Transformations[t.Attr("Id")] != nil, "ClaimsTransformation")
					p.Transformations[t.Attr("Id")] = transformation(t)
				}
			case "ContentDefinitions":
				for _, d := range k.Kids {
					p.ContentDefs[d.Attr("Id")] = contentDef(d)
				}
			case "Localization":
				p.Localization = localizationOf(k)
			case "DisplayControls":
				for _, d := range k.Kids {
					p.DisplayControls[d.Attr("Id")] = displayControl(d)
				}
			}
		}
	}
	raw := map[string]*tfxml.Node{}
	domains := map[string]string{} // a claims provider's Domain (domain_hint) for its profiles
	if cps := root.Kid("ClaimsProviders"); cps != nil {
		for _, cp := range cps.Kids {
			d := strings.TrimSpace(cp.KidText("Domain"))
			for _, tp := range technicalProfiles(cp) {
				raw[tp.Attr("Id")] = tp
				if d != "" {
					domains[tp.Attr("Id")] = d
				}
			}
		}
	}
	resolved := map[string]*tfxml.Node{}
	for id := range raw {
		if n := c.include(id, raw, resolved, nil); n != nil {
			p.Profiles[id] = profile(n)
			p.Profiles[id].Domain = domains[id]
		}
	}
	if ujs := root.Kid("UserJourneys"); ujs != nil {
		for _, j := range ujs.Kids {
			p.Journeys[j.Attr("Id")] = journey(j)
		}
	}
	if sjs := root.Kid("SubJourneys"); sjs != nil {
		for _, j := range sjs.Kids {
			p.SubJourneys[j.Attr("Id")] = journey(j)
		}
	}
	if rp := root.Kid("RelyingParty"); rp != nil {
		p.RP = relyingParty(rp)
	}
	return p
}

func (c *checker) dup(n *tfxml.Node, dup bool, what string) {
	if dup {
		c.add(n.Pos, "%s %s is defined twice in one file", what, n.Attr("Id"))
	}
}

// include applies IncludeTechnicalProfile: the included profile (itself
// resolved) with this one laid over it, as B2C's inheritance does.
func (c *checker) include(id string, raw, resolved map[string]*tfxml.Node, path []string) *tfxml.Node {
	if n, ok := resolved[id]; ok {
		return n
	}
	n := raw[id]
	inc := n.Kid("IncludeTechnicalProfile")
	if inc == nil {
		resolved[id] = n
		return n
	}
	ref := inc.Attr("ReferenceId")
	for _, seen := range path {
		if seen == ref {
			c.add(inc.Pos, "technical profile %s includes itself through %s (B2C rule: IncludeTechnicalProfile must not loop)", id, strings.Join(append(path, id), " → "))
			resolved[id] = nil
			return nil
		}
	}
	if raw[ref] == nil {
		c.add(inc.Pos, "technical profile %s includes %s, which is not defined", id, ref)
		resolved[id] = nil
		return nil
	}
	base := c.include(ref, raw, resolved, append(path, id))
	if base == nil {
		resolved[id] = nil
		return nil
	}
	out := base.Clone()
	own := n.Clone()
	kids := own.Kids[:0]
	for _, k := range own.Kids {
		if k.Name != "IncludeTechnicalProfile" {
			kids = append(kids, k)
		}
	}
	own.Kids = kids
	mergeInto(out, own)
	out.Pos = n.Pos
	resolved[id] = out
	return out
}

func (c *checker) claimType(n *tfxml.Node) *ClaimType {
	ct := &ClaimType{ID: n.Attr("Id"), Pos: n.Pos, DisplayName: n.KidText("DisplayName"), DataType: n.KidText("DataType"),
		UserHelpText: n.KidText("UserHelpText"), UserInputType: n.KidText("UserInputType")}
	if d := n.Kid("DefaultPartnerClaimTypes"); d != nil {
		ct.PartnerClaimTypes = map[string]string{}
		for _, pr := range d.Kids {
			ct.PartnerClaimTypes[pr.Attr("Name")] = pr.Attr("PartnerClaimType")
		}
	}
	if r := n.Kid("Restriction"); r != nil {
		for _, k := range r.Kids {
			switch k.Name {
			case "Pattern":
				ct.Pattern, ct.PatternHelpText = k.Attr("RegularExpression"), k.Attr("HelpText")
				re, err := dotnetregex.Compile(ct.Pattern, dotnetregex.None)
				if err != nil {
					c.add(k.Pos, "ClaimType %s: RegularExpression: %v", ct.ID, err)
				}
				ct.patternRE = re
			case "Enumeration":
				ct.Enumeration = append(ct.Enumeration, EnumValue{Text: k.Attr("Text"), Value: k.Attr("Value"),
					SelectByDefault: parseBool(k.Attr("SelectByDefault"))})
			}
		}
	}
	if pv := n.Kid("PredicateValidationReference"); pv != nil {
		ct.PredicateValidation = pv.Attr("Id")
	}
	return ct
}

func transformation(n *tfxml.Node) *Transformation {
	t := &Transformation{ID: n.Attr("Id"), Method: n.Attr("TransformationMethod"), Pos: n.Pos}
	txClaims := func(list *tfxml.Node) []TxClaim {
		var out []TxClaim
		if list != nil {
			for _, k := range list.Kids {
				out = append(out, TxClaim{ClaimType: k.Attr("ClaimTypeReferenceId"), TransformationClaimType: k.Attr("TransformationClaimType"), Pos: k.Pos})
			}
		}
		return out
	}
	t.InputClaims, t.OutputClaims = txClaims(n.Kid("InputClaims")), txClaims(n.Kid("OutputClaims"))
	if ps := n.Kid("InputParameters"); ps != nil {
		for _, k := range ps.Kids {
			t.Params = append(t.Params, TxParam{ID: k.Attr("Id"), DataType: k.Attr("DataType"), Value: k.Attr("Value")})
		}
	}
	return t
}

func contentDef(n *tfxml.Node) *ContentDef {
	d := &ContentDef{ID: n.Attr("Id"), LoadURI: n.KidText("LoadUri"), RecoveryURI: n.KidText("RecoveryUri"),
		DataURI: n.KidText("DataUri"), Metadata: items(n.Kid("Metadata")), Localized: map[string]string{}, Pos: n.Pos}
	if refs := n.Kid("LocalizedResourcesReferences"); refs != nil {
		for _, r := range refs.Kids {
			d.Localized[r.Attr("Language")] = r.Attr("LocalizedResourcesReferenceId")
		}
	}
	return d
}

func displayControl(n *tfxml.Node) *DisplayControl {
	d := &DisplayControl{ID: n.Attr("Id"), Type: n.Attr("UserInterfaceControlType"), Actions: map[string][]ValidationRef{}, Pos: n.Pos,
		InputClaims: claimRefs(n.Kid("InputClaims")), DisplayClaims: claimRefs(n.Kid("DisplayClaims")),
		OutputClaims: claimRefs(n.Kid("OutputClaims"))}
	if as := n.Kid("Actions"); as != nil {
		for _, a := range as.Kids {
			var refs []ValidationRef
			if vce := a.Kid("ValidationClaimsExchange"); vce != nil {
				for _, v := range vce.Kids {
					refs = append(refs, ValidationRef{Profile: v.Attr("TechnicalProfileReferenceId"),
						ContinueOnError: parseBool(v.Attr("ContinueOnError")), ContinueOnSuccess: v.Attr("ContinueOnSuccess") != "false",
						Preconditions: preconditions(v.Kid("Preconditions")), Pos: v.Pos})
				}
			}
			d.Actions[a.Attr("Id")] = refs
		}
	}
	return d
}

func items(md *tfxml.Node) map[string]string {
	m := map[string]string{}
	if md != nil {
		for _, it := range md.Kids {
			m[it.Attr("Key")] = it.Text
		}
	}
	return m
}

func claimRefs(list *tfxml.Node) []ClaimRef {
	var out []ClaimRef
	if list == nil {
		return nil
	}
	for _, k := range list.Kids {
		out = append(out, ClaimRef{ClaimType: k.Attr("ClaimTypeReferenceId"), PartnerClaimType: k.Attr("PartnerClaimType"),
			DefaultValue: k.Attr("DefaultValue"), AlwaysUseDefault: parseBool(k.Attr("AlwaysUseDefaultValue")),
			Required: parseBool(k.Attr("Required")), DisplayControl: k.Attr("DisplayControlReferenceId"),
			ControlClaimType: k.Attr("ControlClaimType"), Pos: k.Pos})
	}
	return out
}

func refs(list *tfxml.Node) []string {
	var out []string
	if list != nil {
		for _, k := range list.Kids {
			out = append(out, k.Attr("ReferenceId"))
		}
	}
	return out
}

func preconditions(list *tfxml.Node) []Precondition {
	var out []Precondition
	if list == nil {
		return nil
	}
	for _, k := range list.Kids {
		pc := Precondition{Type: k.Attr("Type"), ExecuteActionsIf: parseBool(k.Attr("ExecuteActionsIf")), Action: k.KidText("Action"), Pos: k.Pos}
		for _, v := range k.KidsNamed("Value") {
			pc.Values = append(pc.Values, v.Text)
		}
		out = append(out, pc)
	}
	return out
}

func profile(n *tfxml.Node) *TechnicalProfile {
	tp := &TechnicalProfile{ID: n.Attr("Id"), DisplayName: n.KidText("DisplayName"), Pos: n.Pos, itemPos: map[string]config.Pos{},
		Metadata: items(n.Kid("Metadata")), Keys: map[string]string{}, OutputTokenFormat: n.KidText("OutputTokenFormat"),
		InputTx: refs(n.Kid("InputClaimsTransformations")), OutputTx: refs(n.Kid("OutputClaimsTransformations")),
		InputClaims: claimRefs(n.Kid("InputClaims")), DisplayClaims: claimRefs(n.Kid("DisplayClaims")),
		OutputClaims: claimRefs(n.Kid("OutputClaims")), PersistedClaims: claimRefs(n.Kid("PersistedClaims")),
		Enabled: n.KidText("EnabledForUserJourneys")}
	if pr := n.Kid("Protocol"); pr != nil {
		tp.Protocol = pr.Attr("Name")
		tp.Handler, _, _ = strings.Cut(pr.Attr("Handler"), ",")
		tp.Handler = strings.TrimSpace(tp.Handler)
	}
	if md := n.Kid("Metadata"); md != nil {
		for _, it := range md.Kids {
			tp.itemPos[it.Attr("Key")] = it.Pos
		}
	}
	if ks := n.Kid("CryptographicKeys"); ks != nil {
		for _, k := range ks.Kids {
			tp.Keys[k.Attr("Id")] = k.Attr("StorageReferenceId")
			tp.itemPos["key:"+k.Attr("Id")] = k.Pos
		}
	}
	if vs := n.Kid("ValidationTechnicalProfiles"); vs != nil {
		for _, v := range vs.Kids {
			tp.Validations = append(tp.Validations, ValidationRef{Profile: v.Attr("ReferenceId"),
				ContinueOnError: parseBool(v.Attr("ContinueOnError")), ContinueOnSuccess: v.Attr("ContinueOnSuccess") != "false",
				Preconditions: preconditions(v.Kid("Preconditions")), Pos: v.Pos})
		}
	}
	if sm := n.Kid("UseTechnicalProfileForSessionManagement"); sm != nil {
		tp.SessionProfile = sm.Attr("ReferenceId")
		tp.itemPos["session"] = sm.Pos
	}
	if sn := n.Kid("SubjectNamingInfo"); sn != nil {
		tp.SubjectNaming = sn.Attr("ClaimType")
	}
	return tp
}

func journey(n *tfxml.Node) *Journey {
	j := &Journey{ID: n.Attr("Id"), Type: n.Attr("Type"), DefaultIssuer: n.Attr("DefaultCpimIssuerTechnicalProfileReferenceId"), Pos: n.Pos}
	if steps := n.Kid("OrchestrationSteps"); steps != nil {
		for _, s := range steps.Kids {
			order, _ := strconv.Atoi(s.Attr("Order"))
			st := &Step{Order: order, Type: s.Attr("Type"), ContentDef: s.Attr("ContentDefinitionReferenceId"),
				Issuer: s.Attr("CpimIssuerTechnicalProfileReferenceId"), Preconditions: preconditions(s.Kid("Preconditions")), Pos: s.Pos}
			if sel := s.Kid("ClaimsProviderSelections"); sel != nil {
				for _, k := range sel.Kids {
					st.Selections = append(st.Selections, Selection{TargetExchange: k.Attr("TargetClaimsExchangeId"),
						ValidationExchange: k.Attr("ValidationClaimsExchangeId"), Pos: k.Pos})
				}
			}
			if ex := s.Kid("ClaimsExchanges"); ex != nil {
				for _, k := range ex.Kids {
					st.Exchanges = append(st.Exchanges, Exchange{ID: k.Attr("Id"), Profile: k.Attr("TechnicalProfileReferenceId"), Pos: k.Pos})
				}
			}
			if jl := s.Kid("JourneyList"); jl != nil {
				for _, k := range jl.Kids {
					st.SubJourneys = append(st.SubJourneys, k.Attr("SubJourneyReferenceId"))
				}
			}
			j.Steps = append(j.Steps, st)
		}
	}
	return j
}

func relyingParty(n *tfxml.Node) *RelyingParty {
	rp := &RelyingParty{Endpoints: map[string]string{}, Pos: n.Pos,
		Behaviors: Behaviors{SSOScope: "Tenant", SessionExpiryType: "Rolling", SessionExpirySeconds: 86400, ScriptExecution: "Disallow"}}
	if d := n.Kid("DefaultUserJourney"); d != nil {
		rp.Journey = d.Attr("ReferenceId")
	}
	if eps := n.Kid("Endpoints"); eps != nil {
		for _, e := range eps.Kids {
			rp.Endpoints[e.Attr("Id")] = e.Attr("UserJourneyReferenceId")
		}
	}
	if b := n.Kid("UserJourneyBehaviors"); b != nil {
		for _, k := range b.Kids {
			switch k.Name {
			case "SingleSignOn":
				if v := k.Attr("Scope"); v != "" {
					rp.Behaviors.SSOScope = v
				}
			case "SessionExpiryType":
				rp.Behaviors.SessionExpiryType = k.Text
			case "SessionExpiryInSeconds":
				rp.Behaviors.SessionExpirySeconds, _ = strconv.Atoi(k.Text)
			case "ScriptExecution":
				rp.Behaviors.ScriptExecution = k.Text
			}
		}
	}
	if tp := n.Kid("TechnicalProfile"); tp != nil {
		rp.Profile = profile(tp)
	}
	return rp
}

// localizationOf reads the merged Localization element.
func localizationOf(n *tfxml.Node) *localization.Localization {
	if n == nil {
		return nil
	}
	l := &localization.Localization{Enabled: n.Attr("Enabled") != "false", Resources: map[string]*localization.Resources{}}
	if sl := n.Kid("SupportedLanguages"); sl != nil {
		l.Default, l.MergeBehavior = sl.Attr("DefaultLanguage"), sl.Attr("MergeBehavior")
		for _, k := range sl.Kids {
			l.Languages = append(l.Languages, k.Text)
		}
	}
	for _, lr := range n.KidsNamed("LocalizedResources") {
		r := &localization.Resources{ID: lr.Attr("Id")}
		if ls := lr.Kid("LocalizedStrings"); ls != nil {
			for _, s := range ls.Kids {
				r.Strings = append(r.Strings, localization.String{ElementType: s.Attr("ElementType"), ElementID: s.Attr("ElementId"),
					StringID: s.Attr("StringId"), Text: s.Text})
			}
		}
		if lc := lr.Kid("LocalizedCollections"); lc != nil {
			for _, c := range lc.Kids {
				col := localization.Collection{ElementType: c.Attr("ElementType"), ElementID: c.Attr("ElementId"), TargetCollection: c.Attr("TargetCollection")}
				for _, it := range c.Kids {
					col.Items = append(col.Items, localization.Item{Text: it.Attr("Text"), Value: it.Attr("Value"), SelectByDefault: it.Attr("SelectByDefault") == "true"})
				}
				r.Collections = append(r.Collections, col)
			}
		}
		l.Resources[r.ID] = r
	}
	return l
}
