// Package trustframework runs Azure AD B2C custom policies
// (TrustFrameworkExtensions-style XML) on Gatehouse: the RESTful technical
// profiles and the user journeys that call them. The starter pack's base
// (TrustFrameworkBase.xml) is not read: its local-account technical
// profiles, claim types and journeys are Gatehouse's own hosted flows (see
// BuiltinProfiles), so a tenant supplies its extensions and relying-party
// files only.
//
// Loading is strict: an element, attribute or Metadata key that Gatehouse
// does not implement is an error naming file:line:col, and so is a
// reference to an unknown claim type, technical profile or journey.
//
// A custom policy B2C_1A_x is wired as a flow that runs Gatehouse's
// local-account sign-up/sign-in, calls RunValidation for the sign-up page's
// self-asserted profile before the account is written, RunJourneyAfterAuth
// before issuing tokens, and TokenClaims for the relying party's output
// claims.
package trustframework

import (
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/restful"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// restHandler is the RESTful provider's handler, up to its first comma.
const restHandler = "Web.TPEngine.Providers.RestfulProvider"

// Policies are the loaded custom policies: one merged trust framework
// (every file applied base first) and the relying parties by policy id.
type Policies struct {
	ClaimTypes map[string]*ClaimType
	Profiles   map[string]*TechnicalProfile
	Journeys   map[string]*UserJourney
	// RelyingParties by upper-case PolicyId.
	RelyingParties map[string]*RelyingParty

	rt *runtime
}

// ClaimType is a ClaimsSchema entry.
type ClaimType struct {
	ID            string
	DisplayName   string
	DataType      string // string, boolean, int, long, date, dateTime, stringCollection, phoneNumber
	UserHelpText  string
	AdminHelpText string
	UserInputType string
	// PartnerClaimTypes are DefaultPartnerClaimTypes by protocol name.
	PartnerClaimTypes map[string]string
	// Pattern and Enumeration are the Restriction, for the hosted pages.
	// Pattern is a .NET regular expression (internal/dotnetregex),
	// compiled at load; CheckPattern applies it.
	Pattern         string
	PatternHelpText string
	Enumeration     []EnumValue
	Builtin         bool
	Pos             config.Pos

	patternRE *dotnetregex.Regex
}

// CheckPattern reports whether value satisfies the claim type's
// Restriction/Pattern (true when it has none). A match that runs out of
// time (dotnetregex.DefaultTimeout) is an error wrapping
// *dotnetregex.TimeoutError, never a hang.
func (c *ClaimType) CheckPattern(value string) (bool, error) {
	if c == nil || c.patternRE == nil {
		return true, nil
	}
	ok, err := c.patternRE.IsMatch(value)
	if err != nil {
		return false, fmt.Errorf("trustframework: claim type %s: Restriction pattern: %w", c.ID, err)
	}
	return ok, nil
}

// EnumValue is a Restriction/Enumeration item.
type EnumValue struct {
	Text, Value     string
	SelectByDefault bool
}

// TechnicalProfile is a RESTful technical profile or (Builtin != 0) an
// extension of a built-in one.
type TechnicalProfile struct {
	ID          string
	DisplayName string
	Builtin     BuiltinKind
	Metadata    map[string]string
	// Keys are CryptographicKeys: Key Id -> StorageReferenceId.
	Keys         map[string]string
	InputClaims  []ClaimRef
	OutputClaims []ClaimRef
	// ExtraOutputClaims are the OutputClaims an extension added to a
	// built-in self-asserted profile (attributes to collect).
	ExtraOutputClaims []ClaimRef
	Validation        []ValidationRef
	SessionManagement string
	Pos               config.Pos

	rest            *restConfig
	itemPos, keyPos map[string]config.Pos
	deploymentMode  string
}

// IsREST reports whether the profile is a RESTful one.
func (tp *TechnicalProfile) IsREST() bool { return tp.rest != nil }

// ClaimRef is an InputClaim or OutputClaim.
type ClaimRef struct {
	ClaimType        string
	PartnerClaimType string
	DefaultValue     string
	AlwaysUseDefault bool
	Required         bool
	Pos              config.Pos
}

// name is the claim's name on the wire.
func (r ClaimRef) name() string {
	if r.PartnerClaimType != "" {
		return r.PartnerClaimType
	}
	return r.ClaimType
}

// ValidationRef is a ValidationTechnicalProfile.
type ValidationRef struct {
	ReferenceID       string
	ContinueOnError   bool
	ContinueOnSuccess bool
	Preconditions     []Precondition
	Pos               config.Pos
}

// Precondition is ClaimsExist or ClaimEquals.
type Precondition struct {
	Type             string
	ExecuteActionsIf bool
	Values           []string
	Action           string
}

// UserJourney is a journey with its steps in order.
type UserJourney struct {
	ID      string
	Steps   []*Step
	Builtin bool
	Pos     config.Pos
}

// Step is an OrchestrationStep.
type Step struct {
	Order         int
	Type          string
	Exchanges     []Exchange
	Preconditions []Precondition
	Issuer        string
	Pos           config.Pos
}

// Exchange is a ClaimsExchange.
type Exchange struct {
	ID, TechnicalProfile string
}

// RelyingParty is a policy's RelyingParty section.
type RelyingParty struct {
	PolicyID       string
	TenantID       string
	DeploymentMode string
	Journey        string
	// RefreshJourney is Endpoint Id="Token"'s journey (if any).
	RefreshJourney string
	ProfileID      string
	Protocol       string
	OutputClaims   []ClaimRef
	SubjectClaim   string
	Pos            config.Pos
}

// file is one parsed policy file.
type file struct {
	path           string
	policyID       string
	tenantID       string
	base           string
	deploymentMode string
	claimTypes     []*ClaimType
	profiles       []*TechnicalProfile
	journeys       []*UserJourney
	rp             *RelyingParty
	pos            config.Pos
}

type loader struct {
	checker
}

// Load reads and checks the custom policy files (identity.customPolicies).
// Errors of every file are returned together (config.Errors).
func Load(files []config.Path) (*Policies, error) {
	l := &loader{}
	var parsed []*file
	for _, p := range files {
		path := p.Abs
		if path == "" {
			path = p.Raw
		}
		data, err := os.ReadFile(path)
		if err != nil {
			l.add(p.Pos, "custom policy: %v", err)
			continue
		}
		root, err := parseTree(path, data)
		if err != nil {
			if ce, ok := err.(*config.Error); ok {
				l.errs = append(l.errs, ce)
			} else {
				l.add(config.Pos{File: path, Line: 1, Col: 1}, "%v", err)
			}
			continue
		}
		if f := l.policy(path, root); f != nil {
			parsed = append(parsed, f)
		}
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	p := l.merge(parsed)
	if len(l.errs) == 0 {
		l.validate(p)
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return p, nil
}

func (l *loader) policy(path string, n *node) *file {
	if n.name != "TrustFrameworkPolicy" {
		l.add(n.pos, "the root element must be <TrustFrameworkPolicy>, not <%s>", n.name)
		return nil
	}
	l.shape(n, []string{"PolicySchemaVersion", "TenantId", "PolicyId", "PublicPolicyUri", "DeploymentMode",
		"TenantObjectId", "UserJourneyRecorderEndpoint"},
		[]string{"BasePolicy", "BuildingBlocks", "ClaimsProviders", "UserJourneys", "RelyingParty"}, false)
	if v := n.attr("UserJourneyRecorderEndpoint"); v != "" {
		l.add(n.pos, "not supported: UserJourneyRecorderEndpoint (Application Insights journey recorder)")
	}
	f := &file{path: path, pos: n.pos, policyID: l.required(n, "PolicyId"), tenantID: l.required(n, "TenantId"),
		deploymentMode: n.attr("DeploymentMode")}
	switch f.deploymentMode {
	case "", "Development", "Production":
	default:
		l.add(n.pos, "DeploymentMode must be Development or Production, not %q", f.deploymentMode)
	}
	for _, k := range n.kids {
		switch k.name {
		case "BasePolicy":
			l.shape(k, nil, []string{"TenantId", "PolicyId"}, false)
			for _, b := range k.kids {
				if v := l.leaf(b); b.name == "PolicyId" {
					f.base = v
				}
			}
			if f.base == "" {
				l.add(k.pos, "<BasePolicy> needs a <PolicyId>")
			}
		case "BuildingBlocks":
			l.shape(k, nil, []string{"ClaimsSchema"}, false)
			for _, cs := range k.kids {
				l.shape(cs, nil, []string{"ClaimType"}, false)
				for _, ct := range cs.kids {
					if c := l.claimType(ct); c != nil {
						f.claimTypes = append(f.claimTypes, c)
					}
				}
			}
		case "ClaimsProviders":
			l.shape(k, nil, []string{"ClaimsProvider"}, false)
			for _, cp := range k.kids {
				l.shape(cp, nil, []string{"DisplayName", "TechnicalProfiles"}, false)
				for _, x := range cp.kids {
					if x.name == "DisplayName" {
						l.leaf(x)
						continue
					}
					l.shape(x, nil, []string{"TechnicalProfile"}, false)
					for _, tp := range x.kids {
						if t := l.profile(tp); t != nil {
							f.profiles = append(f.profiles, t)
						}
					}
				}
			}
		case "UserJourneys":
			l.shape(k, nil, []string{"UserJourney"}, false)
			for _, j := range k.kids {
				if uj := l.journey(j); uj != nil {
					f.journeys = append(f.journeys, uj)
				}
			}
		case "RelyingParty":
			f.rp = l.relyingParty(k)
			if f.rp != nil {
				f.rp.PolicyID, f.rp.TenantID, f.rp.DeploymentMode = f.policyID, f.tenantID, f.deploymentMode
			}
		}
	}
	return f
}

var dataTypes = map[string]bool{"string": true, "boolean": true, "int": true, "long": true, "date": true,
	"dateTime": true, "stringCollection": true, "phoneNumber": true}

func (l *loader) claimType(n *node) *ClaimType {
	l.shape(n, []string{"Id"}, []string{"DisplayName", "DataType", "DefaultPartnerClaimTypes", "UserHelpText",
		"AdminHelpText", "UserInputType", "Restriction"}, false)
	c := &ClaimType{ID: l.required(n, "Id"), Pos: n.pos}
	for _, k := range n.kids {
		switch k.name {
		case "DisplayName":
			c.DisplayName = l.leaf(k)
		case "DataType":
			c.DataType = l.leaf(k)
			if !dataTypes[c.DataType] {
				l.add(k.pos, "not supported: DataType %q (Gatehouse supports boolean, date, dateTime, int, long, phoneNumber, string, stringCollection)", c.DataType)
			}
		case "UserHelpText":
			c.UserHelpText = l.leaf(k)
		case "AdminHelpText":
			c.AdminHelpText = l.leaf(k)
		case "UserInputType":
			c.UserInputType = l.leaf(k)
		case "DefaultPartnerClaimTypes":
			l.shape(k, nil, []string{"Protocol"}, false)
			c.PartnerClaimTypes = map[string]string{}
			for _, p := range k.kids {
				l.shape(p, []string{"Name", "PartnerClaimType"}, nil, false)
				c.PartnerClaimTypes[l.required(p, "Name")] = l.required(p, "PartnerClaimType")
			}
		case "Restriction":
			l.shape(k, nil, []string{"Pattern", "Enumeration"}, false)
			for _, r := range k.kids {
				if r.name == "Pattern" {
					l.shape(r, []string{"RegularExpression", "HelpText"}, nil, false)
					c.Pattern, c.PatternHelpText = l.required(r, "RegularExpression"), r.attr("HelpText")
					re, err := dotnetregex.Compile(c.Pattern, dotnetregex.None)
					if err != nil {
						l.add(r.pos, "RegularExpression: %v", err)
					}
					c.patternRE = re
					continue
				}
				l.shape(r, []string{"Text", "Value", "SelectByDefault"}, nil, false)
				c.Enumeration = append(c.Enumeration, EnumValue{Text: r.attr("Text"), Value: l.required(r, "Value"),
					SelectByDefault: l.boolAttr(r, "SelectByDefault", false)})
			}
		}
	}
	if c.DataType == "" {
		l.add(n.pos, "ClaimType %s needs a <DataType>", c.ID)
	}
	return c
}

func (l *loader) claimRefs(n *node, output bool) []ClaimRef {
	child := "InputClaim"
	if output {
		child = "OutputClaim"
	}
	l.shape(n, nil, []string{child}, false)
	var refs []ClaimRef
	for _, c := range n.kids {
		l.shape(c, []string{"ClaimTypeReferenceId", "PartnerClaimType", "DefaultValue", "AlwaysUseDefaultValue", "Required"}, nil, false)
		refs = append(refs, ClaimRef{ClaimType: l.required(c, "ClaimTypeReferenceId"), PartnerClaimType: c.attr("PartnerClaimType"),
			DefaultValue: c.attr("DefaultValue"), AlwaysUseDefault: l.boolAttr(c, "AlwaysUseDefaultValue", false),
			Required: l.boolAttr(c, "Required", false), Pos: c.pos})
		if refs[len(refs)-1].AlwaysUseDefault && refs[len(refs)-1].DefaultValue == "" {
			l.add(c.pos, "AlwaysUseDefaultValue needs a DefaultValue")
		}
	}
	return refs
}

func (l *loader) preconditions(n *node, action string) []Precondition {
	l.shape(n, nil, []string{"Precondition"}, false)
	var out []Precondition
	for _, p := range n.kids {
		l.shape(p, []string{"Type", "ExecuteActionsIf"}, []string{"Value", "Action"}, false)
		pc := Precondition{Type: l.required(p, "Type"), ExecuteActionsIf: l.boolAttr(p, "ExecuteActionsIf", true)}
		if _, ok := p.attrs["ExecuteActionsIf"]; !ok {
			l.add(p.pos, "<Precondition> needs the attribute ExecuteActionsIf")
		}
		for _, k := range p.kids {
			v := l.leaf(k)
			if k.name == "Value" {
				pc.Values = append(pc.Values, v)
			} else {
				pc.Action = v
			}
		}
		switch {
		case pc.Type == "ClaimsExist" && len(pc.Values) == 1, pc.Type == "ClaimEquals" && len(pc.Values) == 2:
		case pc.Type == "ClaimsExist" || pc.Type == "ClaimEquals":
			l.add(p.pos, "Precondition %s takes %d <Value> elements", pc.Type, map[string]int{"ClaimsExist": 1, "ClaimEquals": 2}[pc.Type])
		default:
			l.add(p.pos, "not supported: Precondition Type %q (ClaimsExist and ClaimEquals are)", pc.Type)
		}
		if pc.Action != action {
			l.add(p.pos, "Precondition action must be %s, not %q", action, pc.Action)
		}
		out = append(out, pc)
	}
	return out
}

func (l *loader) profile(n *node) *TechnicalProfile {
	l.shape(n, []string{"Id"}, []string{"DisplayName", "Description", "Protocol", "Metadata", "CryptographicKeys",
		"InputClaims", "OutputClaims", "ValidationTechnicalProfiles", "UseTechnicalProfileForSessionManagement"}, false)
	tp := &TechnicalProfile{ID: l.required(n, "Id"), Pos: n.pos, Metadata: map[string]string{}, Keys: map[string]string{}}
	tp.rest = &restConfig{}
	tp.itemPos, tp.keyPos = map[string]config.Pos{}, map[string]config.Pos{}
	hasProtocol := false
	for _, k := range n.kids {
		switch k.name {
		case "DisplayName":
			tp.DisplayName = l.leaf(k)
		case "Description":
			l.leaf(k)
		case "Protocol":
			hasProtocol = true
			l.shape(k, []string{"Name", "Handler"}, nil, false)
			name, handler := k.attr("Name"), k.attr("Handler")
			h, _, _ := strings.Cut(handler, ",")
			if name != "Proprietary" || strings.TrimSpace(h) != restHandler {
				l.add(k.pos, "not supported: technical profile %s: Protocol Name=%q Handler=%q: Gatehouse implements RESTful technical profiles (%s); the starter pack's local-account profiles are built in (%s)",
					tp.ID, name, handler, restHandler, strings.Join(BuiltinProfiles(), ", "))
			}
		case "Metadata":
			l.shape(k, nil, []string{"Item"}, false)
			for _, it := range k.kids {
				l.shape(it, []string{"Key"}, nil, true)
				key := l.required(it, "Key")
				if _, dup := tp.Metadata[key]; dup {
					l.add(it.pos, "Metadata item %s is given twice", key)
				}
				tp.Metadata[key] = it.value()
				tp.itemPos[key] = it.pos
			}
		case "CryptographicKeys":
			l.shape(k, nil, []string{"Key"}, false)
			for _, it := range k.kids {
				l.shape(it, []string{"Id", "StorageReferenceId"}, nil, false)
				id := l.required(it, "Id")
				tp.Keys[id] = l.required(it, "StorageReferenceId")
				tp.keyPos[id] = it.pos
			}
		case "InputClaims":
			tp.InputClaims = append(tp.InputClaims, l.claimRefs(k, false)...)
		case "OutputClaims":
			tp.OutputClaims = append(tp.OutputClaims, l.claimRefs(k, true)...)
		case "ValidationTechnicalProfiles":
			l.shape(k, nil, []string{"ValidationTechnicalProfile"}, false)
			for _, v := range k.kids {
				l.shape(v, []string{"ReferenceId", "ContinueOnError", "ContinueOnSuccess"}, []string{"Preconditions"}, false)
				ref := ValidationRef{ReferenceID: l.required(v, "ReferenceId"), ContinueOnError: l.boolAttr(v, "ContinueOnError", false),
					ContinueOnSuccess: l.boolAttr(v, "ContinueOnSuccess", true), Pos: v.pos}
				for _, p := range v.kids {
					ref.Preconditions = append(ref.Preconditions, l.preconditions(p, "SkipThisValidationTechnicalProfile")...)
				}
				tp.Validation = append(tp.Validation, ref)
			}
		case "UseTechnicalProfileForSessionManagement":
			l.shape(k, []string{"ReferenceId"}, nil, false)
			tp.SessionManagement = l.required(k, "ReferenceId")
		}
	}
	if !hasProtocol {
		tp.rest = nil // an extension of a profile defined in a base
	}
	return tp
}

func (l *loader) journey(n *node) *UserJourney {
	l.shape(n, []string{"Id", "DefaultCpimIssuerTechnicalProfileReferenceId"}, []string{"OrchestrationSteps", "ClientDefinition"}, false)
	j := &UserJourney{ID: l.required(n, "Id"), Pos: n.pos}
	if v := n.attr("DefaultCpimIssuerTechnicalProfileReferenceId"); v != "" && v != "JwtIssuer" {
		l.add(n.pos, "DefaultCpimIssuerTechnicalProfileReferenceId must be JwtIssuer (Gatehouse's token issuer)")
	}
	for _, k := range n.kids {
		if k.name == "ClientDefinition" {
			l.shape(k, []string{"ReferenceId"}, nil, false)
			if r := k.attr("ReferenceId"); !builtinContent[r] {
				l.add(k.pos, "not supported: ClientDefinition %q (only the starter pack's DefaultWeb)", r)
			}
			continue
		}
		l.shape(k, nil, []string{"OrchestrationStep"}, false)
		for _, s := range k.kids {
			if st := l.step(s); st != nil {
				j.Steps = append(j.Steps, st)
			}
		}
	}
	return j
}

var stepTypes = map[string]bool{"ClaimsExchange": true, "CombinedSignInAndSignUp": true, "SendClaims": true, "ClaimsProviderSelection": true}

func (l *loader) step(n *node) *Step {
	l.shape(n, []string{"Order", "Type", "ContentDefinitionReferenceId", "CpimIssuerTechnicalProfileReferenceId"},
		[]string{"Preconditions", "ClaimsProviderSelections", "ClaimsExchanges"}, false)
	s := &Step{Type: l.required(n, "Type"), Issuer: n.attr("CpimIssuerTechnicalProfileReferenceId"), Pos: n.pos}
	o, err := strconv.Atoi(l.required(n, "Order"))
	if err != nil || o < 1 {
		l.add(n.pos, "Order must be a positive number")
	}
	s.Order = o
	if !stepTypes[s.Type] {
		l.add(n.pos, "not supported: OrchestrationStep Type %q (ClaimsExchange, CombinedSignInAndSignUp, ClaimsProviderSelection and SendClaims are)", s.Type)
	}
	if c := n.attr("ContentDefinitionReferenceId"); c != "" && !builtinContent[c] {
		l.add(n.pos, "not supported: ContentDefinitionReferenceId %q: Gatehouse's hosted pages stand in for the starter pack's api.* content definitions only", c)
	}
	if s.Type == "SendClaims" && s.Issuer != "JwtIssuer" {
		l.add(n.pos, "a SendClaims step must name CpimIssuerTechnicalProfileReferenceId=\"JwtIssuer\"")
	}
	for _, k := range n.kids {
		switch k.name {
		case "Preconditions":
			s.Preconditions = append(s.Preconditions, l.preconditions(k, "SkipThisOrchestrationStep")...)
		case "ClaimsProviderSelections":
			l.shape(k, []string{"DisplayOption"}, []string{"ClaimsProviderSelection"}, false)
			for _, c := range k.kids {
				l.shape(c, []string{"TargetClaimsExchangeId", "ValidationClaimsExchangeId"}, nil, false)
				if id := c.attr("TargetClaimsExchangeId") + c.attr("ValidationClaimsExchangeId"); id != "LocalAccountSigninEmailExchange" {
					l.add(c.pos, "not supported: ClaimsProviderSelection %q: Gatehouse offers local accounts only (LocalAccountSigninEmailExchange)", id)
				}
			}
		case "ClaimsExchanges":
			l.shape(k, nil, []string{"ClaimsExchange"}, false)
			for _, c := range k.kids {
				l.shape(c, []string{"Id", "TechnicalProfileReferenceId"}, nil, false)
				s.Exchanges = append(s.Exchanges, Exchange{ID: l.required(c, "Id"), TechnicalProfile: l.required(c, "TechnicalProfileReferenceId")})
			}
		}
	}
	return s
}

func (l *loader) relyingParty(n *node) *RelyingParty {
	l.shape(n, nil, []string{"DefaultUserJourney", "Endpoints", "TechnicalProfile"}, false)
	rp := &RelyingParty{Pos: n.pos}
	for _, k := range n.kids {
		switch k.name {
		case "DefaultUserJourney":
			l.shape(k, []string{"ReferenceId"}, nil, false)
			rp.Journey = l.required(k, "ReferenceId")
		case "Endpoints":
			l.shape(k, nil, []string{"Endpoint"}, false)
			for _, e := range k.kids {
				l.shape(e, []string{"Id", "UserJourneyReferenceId"}, nil, false)
				if id := e.attr("Id"); id != "Token" {
					l.add(e.pos, "not supported: Endpoint Id %q (only Token)", id)
				}
				rp.RefreshJourney = l.required(e, "UserJourneyReferenceId")
			}
		case "TechnicalProfile":
			l.shape(k, []string{"Id"}, []string{"DisplayName", "Description", "Protocol", "OutputClaims", "SubjectNamingInfo"}, false)
			rp.ProfileID = l.required(k, "Id")
			for _, x := range k.kids {
				switch x.name {
				case "DisplayName", "Description":
					l.leaf(x)
				case "Protocol":
					l.shape(x, []string{"Name"}, nil, false)
					rp.Protocol = x.attr("Name")
					if rp.Protocol != "OpenIdConnect" {
						l.add(x.pos, "not supported: relying party protocol %q (OpenIdConnect is)", rp.Protocol)
					}
				case "OutputClaims":
					rp.OutputClaims = l.claimRefs(x, true)
				case "SubjectNamingInfo":
					l.shape(x, []string{"ClaimType"}, nil, false)
					rp.SubjectClaim = l.required(x, "ClaimType")
				}
			}
		}
	}
	if rp.Journey == "" {
		l.add(n.pos, "<RelyingParty> needs a <DefaultUserJourney>")
	}
	return rp
}

// merge applies the files base first. A file may redefine what its
// ancestors (or the built-ins) define; two unrelated files may not define
// the same id.
func (l *loader) merge(files []*file) *Policies {
	p := &Policies{ClaimTypes: map[string]*ClaimType{}, Profiles: map[string]*TechnicalProfile{},
		Journeys: builtinJourneys(), RelyingParties: map[string]*RelyingParty{}}
	for id, c := range builtinClaims {
		ct := &ClaimType{ID: id, DataType: c[0], Builtin: true}
		if c[1] != "" {
			ct.PartnerClaimTypes = map[string]string{"OpenIdConnect": c[1]}
		}
		p.ClaimTypes[id] = ct
	}
	byID := map[string]*file{}
	for _, f := range files {
		key := strings.ToUpper(f.policyID)
		if g, dup := byID[key]; dup {
			l.add(f.pos, "PolicyId %s is also defined in %s", f.policyID, g.path)
			continue
		}
		byID[key] = f
	}
	// ancestors, base first; a missing base must be one Gatehouse provides.
	chain := map[*file][]*file{}
	var order []*file
	done := map[*file]bool{}
	var visit func(f *file, seen map[*file]bool) []*file
	visit = func(f *file, seen map[*file]bool) []*file {
		if c, ok := chain[f]; ok {
			return c
		}
		if seen[f] {
			l.add(f.pos, "policy %s: BasePolicy chain loops", f.policyID)
			return nil
		}
		seen[f] = true
		var c []*file
		if f.base != "" {
			if b := byID[strings.ToUpper(f.base)]; b != nil {
				c = append(append(c, visit(b, seen)...), b)
			} else if !knownBase(f.base) {
				l.add(f.pos, "policy %s: base policy %s is not among customPolicies (Gatehouse provides %s itself)", f.policyID, f.base, strings.Join(knownBases, " and "))
			}
		}
		chain[f] = c
		if !done[f] {
			done[f] = true
			order = append(order, f)
		}
		return c
	}
	for _, f := range files {
		visit(f, map[*file]bool{})
	}
	ancestor := func(a, f *file) bool {
		for _, x := range chain[f] {
			if x == a {
				return true
			}
		}
		return false
	}
	owner := map[string]*file{}
	own := func(kind, id string, f *file, pos config.Pos) bool {
		g := owner[kind+"\x00"+id]
		if g != nil && g != f && !ancestor(g, f) {
			l.add(pos, "%s %s is also defined in %s, which is not a base of %s", kind, id, g.path, f.policyID)
			return false
		}
		if g == f {
			l.add(pos, "%s %s is defined twice in this file", kind, id)
			return false
		}
		owner[kind+"\x00"+id] = f
		return true
	}
	for _, f := range order {
		for _, c := range f.claimTypes {
			if !own("ClaimType", c.ID, f, c.Pos) {
				continue
			}
			if old := p.ClaimTypes[c.ID]; old != nil && old.Builtin && c.DataType != "" && c.DataType != old.DataType {
				l.add(c.Pos, "ClaimType %s: DataType %s differs from the starter pack's %s", c.ID, c.DataType, old.DataType)
			}
			p.ClaimTypes[c.ID] = c
		}
		for _, tp := range f.profiles {
			if !own("TechnicalProfile", tp.ID, f, tp.Pos) {
				continue
			}
			old := p.Profiles[tp.ID]
			if old == nil {
				p.Profiles[tp.ID] = tp
				continue
			}
			mergeProfile(old, tp)
		}
		for _, j := range f.journeys {
			if !own("UserJourney", j.ID, f, j.Pos) {
				continue
			}
			old := p.Journeys[j.ID]
			if old == nil {
				p.Journeys[j.ID] = j
				continue
			}
			// Steps of the same Order replace the base's; others are added.
			steps := map[int]*Step{}
			for _, s := range old.Steps {
				steps[s.Order] = s
			}
			for _, s := range j.Steps {
				steps[s.Order] = s
			}
			nj := &UserJourney{ID: j.ID, Pos: j.Pos}
			for _, s := range steps {
				nj.Steps = append(nj.Steps, s)
			}
			p.Journeys[j.ID] = nj
		}
		if f.rp != nil {
			p.RelyingParties[strings.ToUpper(f.policyID)] = f.rp
		}
	}
	for _, j := range p.Journeys {
		sort.Slice(j.Steps, func(a, b int) bool { return j.Steps[a].Order < j.Steps[b].Order })
	}
	for _, tp := range p.Profiles {
		tp.deploymentMode = modeOf(tp, order)
	}
	return p
}

// modeOf is the DeploymentMode of the file that defines the profile (the
// leaf-most one).
func modeOf(tp *TechnicalProfile, files []*file) string {
	mode := ""
	for _, f := range files {
		for _, x := range f.profiles {
			if x.ID == tp.ID {
				mode = f.deploymentMode
			}
		}
	}
	return mode
}

func knownBase(id string) bool {
	for _, b := range knownBases {
		if strings.EqualFold(b, id) {
			return true
		}
	}
	return false
}

// mergeProfile applies an extension's profile to its base's.
func mergeProfile(old, tp *TechnicalProfile) {
	if tp.DisplayName != "" {
		old.DisplayName = tp.DisplayName
	}
	if tp.rest != nil {
		if old.rest == nil {
			old.rest = tp.rest
		}
	}
	for k, v := range tp.Metadata {
		old.Metadata[k] = v
		old.itemPos[k] = tp.itemPos[k]
	}
	for k, v := range tp.Keys {
		old.Keys[k] = v
		old.keyPos[k] = tp.keyPos[k]
	}
	old.InputClaims = mergeRefs(old.InputClaims, tp.InputClaims)
	old.OutputClaims = mergeRefs(old.OutputClaims, tp.OutputClaims)
	old.Validation = append(old.Validation, tp.Validation...)
	if tp.SessionManagement != "" {
		old.SessionManagement = tp.SessionManagement
	}
}

func mergeRefs(old, add []ClaimRef) []ClaimRef {
outer:
	for _, r := range add {
		for i := range old {
			if old[i].ClaimType == r.ClaimType {
				old[i] = r
				continue outer
			}
		}
		old = append(old, r)
	}
	return old
}

// validate resolves references and compiles the RESTful profiles.
func (l *loader) validate(p *Policies) {
	claim := func(pos config.Pos, id, where string) {
		if p.ClaimTypes[id] == nil {
			l.add(pos, "%s: unknown claim type %q (declare it in BuildingBlocks/ClaimsSchema)", where, id)
		}
	}
	ids := make([]string, 0, len(p.Profiles))
	for id := range p.Profiles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		tp := p.Profiles[id]
		where := "technical profile " + id
		for _, r := range tp.InputClaims {
			claim(r.Pos, r.ClaimType, where)
		}
		for _, r := range tp.OutputClaims {
			claim(r.Pos, r.ClaimType, where)
		}
		for _, v := range tp.Validation {
			if p.Profiles[v.ReferenceID] == nil && builtins[v.ReferenceID].kind == 0 {
				l.add(v.Pos, "%s: unknown validation technical profile %q", where, v.ReferenceID)
			} else if t := p.Profiles[v.ReferenceID]; t != nil && t.rest == nil && builtins[t.ID].kind == 0 {
				l.add(v.Pos, "%s: validation technical profile %q is not a RESTful profile", where, v.ReferenceID)
			}
			for _, pc := range v.Preconditions {
				claim(v.Pos, pc.Values[0], where+": precondition")
			}
		}
		if sm := tp.SessionManagement; sm != "" && builtins[sm].kind != Session {
			l.add(tp.Pos, "%s: UseTechnicalProfileForSessionManagement %q: Gatehouse provides SM-Noop and SM-AAD", where, sm)
		}
		if tp.rest != nil {
			if b, ok := builtins[id]; ok && b.kind != 0 {
				l.add(tp.Pos, "%s: redefines a built-in technical profile as a RESTful one", where)
			}
			l.compileREST(p, tp)
			continue
		}
		b, ok := builtins[id]
		if !ok {
			l.add(tp.Pos, "%s has no <Protocol> and is not one of Gatehouse's built-in technical profiles (%s)", where, strings.Join(BuiltinProfiles(), ", "))
			continue
		}
		tp.Builtin = b.kind
		for k := range tp.Metadata {
			if !contains(b.metadata, k) {
				l.add(tp.itemPos[k], "%s: not supported: Metadata key %s on a built-in profile (allowed: %s)", where, k, strings.Join(b.metadata, ", "))
			}
		}
		if len(tp.Keys) > 0 {
			l.add(tp.Pos, "%s: not supported: CryptographicKeys on a built-in profile (Gatehouse manages its keys)", where)
		}
		if (len(tp.InputClaims) > 0 || len(tp.OutputClaims) > 0) && !b.claims {
			l.add(tp.Pos, "%s: not supported: InputClaims/OutputClaims on this built-in profile", where)
		}
		if b.kind == SelfAsserted {
			tp.ExtraOutputClaims, tp.OutputClaims = tp.OutputClaims, nil
		}
		if len(tp.Validation) > 0 && b.kind != SelfAsserted {
			l.add(tp.Pos, "%s: ValidationTechnicalProfiles only apply to self-asserted profiles", where)
		}
	}
	jids := make([]string, 0, len(p.Journeys))
	for id := range p.Journeys {
		jids = append(jids, id)
	}
	sort.Strings(jids)
	for _, id := range jids {
		l.validateJourney(p, p.Journeys[id])
	}
	for _, rp := range p.RelyingParties {
		if p.Journeys[rp.Journey] == nil {
			l.add(rp.Pos, "policy %s: unknown user journey %q", rp.PolicyID, rp.Journey)
		}
		if rp.RefreshJourney != "" && p.Journeys[rp.RefreshJourney] == nil {
			l.add(rp.Pos, "policy %s: unknown user journey %q", rp.PolicyID, rp.RefreshJourney)
		}
		for _, r := range rp.OutputClaims {
			claim(r.Pos, r.ClaimType, "relying party "+rp.PolicyID)
			if r.DefaultValue != "" {
				l.resolvers(r.Pos, r.DefaultValue, true)
			}
		}
		if rp.SubjectClaim != "" && rp.SubjectClaim != "sub" {
			l.add(rp.Pos, "policy %s: SubjectNamingInfo ClaimType must be sub", rp.PolicyID)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (l *loader) validateJourney(p *Policies, j *UserJourney) {
	if j.Builtin {
		return
	}
	where := "user journey " + j.ID
	seenAuth := false
	for i, s := range j.Steps {
		for _, pc := range s.Preconditions {
			if p.ClaimTypes[pc.Values[0]] == nil {
				l.add(s.Pos, "%s: step %d: precondition: unknown claim type %q", where, s.Order, pc.Values[0])
			}
		}
		if s.Type == "SendClaims" {
			if i != len(j.Steps)-1 {
				l.add(s.Pos, "%s: the SendClaims step must be the last step", where)
			}
			continue
		}
		if s.Type == "ClaimsProviderSelection" {
			continue
		}
		if len(s.Exchanges) != 1 {
			l.add(s.Pos, "%s: step %d needs exactly one ClaimsExchange (Gatehouse offers local accounts only)", where, s.Order)
			continue
		}
		ref := s.Exchanges[0].TechnicalProfile
		tp := p.Profiles[ref]
		b, isBuiltin := builtins[ref]
		switch {
		case tp == nil && !isBuiltin:
			l.add(s.Pos, "%s: step %d: unknown technical profile %q", where, s.Order, ref)
		case tp != nil && tp.rest != nil:
			if s.Type != "ClaimsExchange" {
				l.add(s.Pos, "%s: step %d: a RESTful profile runs in a ClaimsExchange step", where, s.Order)
			}
			if !seenAuth {
				l.add(s.Pos, "%s: step %d: not supported: a RESTful step before the sign-in/sign-up step (Gatehouse runs RESTful steps after authentication)", where, s.Order)
			}
		default:
			if b.kind == SelfAsserted || b.kind == Directory {
				seenAuth = true
			}
		}
	}
	if len(j.Steps) == 0 || j.Steps[len(j.Steps)-1].Type != "SendClaims" {
		l.add(j.Pos, "%s: the last step must be SendClaims (JwtIssuer)", where)
	}
}

// restConfig is what the loader checks of a RESTful profile and the
// executor reads besides identity/ief/restful's Profile.
type restConfig struct {
	serviceURL       string
	sendIn           string
	auth             string
	resolveJSONPaths bool
	claimResolving   bool
	bearerClaim      string
	payloadClaim     string
	bearer           string // the BearerAuthenticationToken key
}

var restMetadata = map[string]bool{"ServiceUrl": true, "AuthenticationType": true, "AllowInsecureAuthInProduction": true,
	"SendClaimsIn": true, "ClaimsFormat": true, "ClaimUsedForRequestPayload": true, "DebugMode": true,
	"IncludeClaimResolvingInClaimsHandling": true, "ResolveJsonPathsInJsonTokens": true, "UseClaimAsBearerToken": true,
	"DefaultUserMessageIfRequestFailed": true, "UserMessageIfCircuitOpen": true, "UserMessageIfDnsResolutionFailed": true,
	"UserMessageIfRequestTimeout": true}

var placeholderRE = restful.Placeholders

func (l *loader) compileREST(p *Policies, tp *TechnicalProfile) {
	rc := tp.rest
	where := "technical profile " + tp.ID
	pos := func(key string) config.Pos {
		if ps, ok := tp.itemPos[key]; ok {
			return ps
		}
		return tp.Pos
	}
	keys := make([]string, 0, len(tp.Metadata))
	for k := range tp.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tp.Metadata[k]
		if !restMetadata[k] {
			l.add(pos(k), "%s: not supported: Metadata key %s (RESTful keys: %s)", where, k, strings.Join(sortedKeys(restMetadata), ", "))
			continue
		}
		boolItem := func() bool {
			b, ok := parseBool(v)
			if !ok {
				l.add(pos(k), "%s: Metadata %s must be true or false, not %q", where, k, v)
			}
			return b
		}
		switch k {
		case "ServiceUrl":
			rc.serviceURL = v
		case "AuthenticationType":
			rc.auth = v
		case "SendClaimsIn":
			rc.sendIn = v
		case "ClaimsFormat":
			// documented as not used
		case "AllowInsecureAuthInProduction":
			boolItem()
		case "DebugMode":
			boolItem()
		case "ResolveJsonPathsInJsonTokens":
			rc.resolveJSONPaths = boolItem()
		case "IncludeClaimResolvingInClaimsHandling":
			rc.claimResolving = boolItem()
		case "UseClaimAsBearerToken":
			rc.bearerClaim = v
		case "ClaimUsedForRequestPayload":
			rc.payloadClaim = v
		default:
			// DefaultUserMessageIfRequestFailed, UserMessageIf...: restful.FromMetadata
		}
	}
	insecure, _ := parseBool(tp.Metadata["AllowInsecureAuthInProduction"])
	if rc.serviceURL == "" {
		l.add(tp.Pos, "%s: Metadata ServiceUrl is required", where)
	} else if u, err := url.Parse(placeholderRE.ReplaceAllString(rc.serviceURL, "x")); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		l.add(pos("ServiceUrl"), "%s: ServiceUrl %q is not an absolute URL", where, rc.serviceURL)
	} else if u.Scheme == "http" && tp.deploymentMode != "Development" {
		l.add(pos("ServiceUrl"), "%s: ServiceUrl must be https (http only with DeploymentMode=\"Development\")", where)
	}
	if rc.sendIn == "" {
		rc.sendIn = "Body"
	}
	switch rc.sendIn {
	case "Body", "Form", "Header", "QueryString":
		if strings.ContainsAny(rc.serviceURL, "{}") {
			l.add(pos("ServiceUrl"), "%s: ServiceUrl placeholders need SendClaimsIn=Url", where)
		}
	case "Url":
		_, rest, _ := strings.Cut(rc.serviceURL, "://")
		if host, _, _ := strings.Cut(rest, "/"); strings.ContainsAny(host, "{}") {
			l.add(pos("ServiceUrl"), "%s: the host of ServiceUrl may not contain claims", where)
		}
		for _, m := range placeholderRE.FindAllStringSubmatch(rc.serviceURL, -1) {
			found := false
			for _, r := range tp.InputClaims {
				if r.name() == m[1] {
					found = true
				}
			}
			if !found {
				l.add(pos("ServiceUrl"), "%s: ServiceUrl placeholder {%s} is not an input claim", where, m[1])
			}
		}
	default:
		l.add(pos("SendClaimsIn"), "%s: SendClaimsIn must be Body, Form, Header, Url or QueryString, not %q", where, rc.sendIn)
	}
	// keys per authentication type
	allowedKeys := map[string]bool{}
	need := func(id string) {
		allowedKeys[id] = true
		if tp.Keys[id] == "" {
			l.add(tp.Pos, "%s: AuthenticationType %s needs CryptographicKeys/Key Id=%q", where, rc.auth, id)
		}
	}
	switch rc.auth {
	case "":
		l.add(tp.Pos, "%s: Metadata AuthenticationType is required (None, Basic, ClientCertificate, Bearer or ApiKeyHeader)", where)
	case "None":
		if !insecure && tp.deploymentMode != "Development" {
			l.add(pos("AuthenticationType"), "%s: AuthenticationType None needs AllowInsecureAuthInProduction=true (or the policy's DeploymentMode=\"Development\")", where)
		}
	case "Basic":
		need("BasicAuthenticationUsername")
		need("BasicAuthenticationPassword")
	case "ClientCertificate":
		need("ClientCertificate")
	case "Bearer":
		allowedKeys["BearerAuthenticationToken"] = true
		rc.bearer = tp.Keys["BearerAuthenticationToken"]
		if rc.bearer == "" && rc.bearerClaim == "" {
			l.add(tp.Pos, "%s: AuthenticationType Bearer needs Key Id=\"BearerAuthenticationToken\" or Metadata UseClaimAsBearerToken", where)
		}
		if rc.bearer != "" && rc.bearerClaim != "" {
			l.add(pos("UseClaimAsBearerToken"), "%s: give either UseClaimAsBearerToken or a BearerAuthenticationToken key, not both", where)
		}
	case "ApiKeyHeader":
		if len(tp.Keys) != 1 {
			l.add(tp.Pos, "%s: AuthenticationType ApiKeyHeader needs exactly one Key (its Id is the header name)", where)
		}
		for id := range tp.Keys {
			allowedKeys[id] = true
			if strings.ContainsAny(id, " \t\"(),/:;<=>?@[\\]{}") {
				l.add(tp.keyPos[id], "%s: Key Id %q is not a valid HTTP header name", where, id)
			}
		}
	default:
		l.add(pos("AuthenticationType"), "%s: AuthenticationType must be None, Basic, ClientCertificate, Bearer or ApiKeyHeader, not %q", where, rc.auth)
	}
	for id := range tp.Keys {
		if !allowedKeys[id] && rc.auth != "" {
			l.add(tp.keyPos[id], "%s: Key Id %q is not used by AuthenticationType %s", where, id, rc.auth)
		}
	}
	if rc.bearerClaim != "" {
		if rc.auth != "Bearer" {
			l.add(pos("UseClaimAsBearerToken"), "%s: UseClaimAsBearerToken needs AuthenticationType Bearer", where)
		}
		if !hasRef(tp.InputClaims, rc.bearerClaim) {
			l.add(pos("UseClaimAsBearerToken"), "%s: UseClaimAsBearerToken claim %q must also be an InputClaim", where, rc.bearerClaim)
		}
	}
	if rc.payloadClaim != "" {
		if p.ClaimTypes[rc.payloadClaim] == nil {
			l.add(pos("ClaimUsedForRequestPayload"), "%s: ClaimUsedForRequestPayload: unknown claim type %q", where, rc.payloadClaim)
		}
		if rc.sendIn != "Body" {
			l.add(pos("ClaimUsedForRequestPayload"), "%s: ClaimUsedForRequestPayload needs SendClaimsIn=Body", where)
		}
		if !hasRef(tp.InputClaims, rc.payloadClaim) {
			l.add(pos("ClaimUsedForRequestPayload"), "%s: ClaimUsedForRequestPayload claim %q must also be an InputClaim", where, rc.payloadClaim)
		}
	}
	for _, r := range append(append([]ClaimRef{}, tp.InputClaims...), tp.OutputClaims...) {
		if r.DefaultValue == "" {
			continue
		}
		if l.resolvers(r.Pos, r.DefaultValue, rc.claimResolving) {
			continue
		}
		if ct := p.ClaimTypes[r.ClaimType]; ct != nil {
			if _, err := convertString(r.DefaultValue, ct.DataType); err != nil {
				l.add(r.Pos, "%s: DefaultValue %q of %s: %v", where, r.DefaultValue, r.ClaimType, err)
			}
		}
	}
	for _, r := range tp.OutputClaims {
		if !rc.resolveJSONPaths {
			continue
		}
		if err := restful.CheckPath(r.name()); err != nil {
			l.add(r.Pos, "%s: PartnerClaimType %q: %v", where, r.name(), err)
		}
	}
}

func hasRef(refs []ClaimRef, id string) bool {
	for _, r := range refs {
		if r.ClaimType == id {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// resolvers checks the claim resolvers in a value; it reports whether the
// value holds any. enabled: claim resolving is on for the profile.
func (l *loader) resolvers(pos config.Pos, v string, enabled bool) bool {
	ms := resolverRE.FindAllStringSubmatch(v, -1)
	for _, m := range ms {
		if !enabled {
			l.add(pos, "claim resolver %s needs Metadata IncludeClaimResolvingInClaimsHandling=true (B2C would send it literally)", m[0])
			continue
		}
		if !knownResolver(m[1], m[2]) {
			l.add(pos, "not supported: claim resolver %s (supported: %s)", m[0], strings.Join(supportedResolvers(), ", "))
		}
	}
	return len(ms) > 0
}

func (p *Policies) String() string {
	return fmt.Sprintf("trustframework: %d claim types, %d technical profiles, %d journeys, %d relying parties",
		len(p.ClaimTypes), len(p.Profiles), len(p.Journeys), len(p.RelyingParties))
}
