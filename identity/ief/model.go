// Package ief is Gatehouse's Identity Experience Framework: Azure AD B2C's
// custom-policy engine. It loads policies as B2C defines them — files
// inheriting from each other by BasePolicy, building blocks, claims
// providers with technical profiles, user journeys and sub journeys, and a
// relying party per policy — into one merged Policy per relying party, and
// checks every reference and rule before anything runs. Errors name
// file:line:col and the B2C rule that was broken.
//
// The schema itself is checked by tfxml (against B2C's XSD); this package
// owns the merge, the model and the rules that span elements.
package ief

import (
	"strings"

	"github.com/gatehouse/gatehouse/identity/ief/localization"
	"github.com/gatehouse/gatehouse/identity/ief/predicate"
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// Policy is one relying-party policy with everything it inherits merged in.
type Policy struct {
	ID             string // PolicyId as written, e.g. B2C_1A_signup_signin
	TenantID       string
	DeploymentMode string
	// Chain is the policy ids from the root base to this one.
	Chain []string

	ClaimTypes      map[string]*ClaimType
	Transformations map[string]*Transformation
	ContentDefs     map[string]*ContentDef
	DisplayControls map[string]*DisplayControl
	Profiles        map[string]*TechnicalProfile
	Journeys        map[string]*Journey
	SubJourneys     map[string]*Journey
	RP              *RelyingParty

	// Predicates and PredicateValidations are the merged elements, read by
	// the predicate package; Localization the merged Localization.
	Predicates, PredicateValidations *tfxml.Node
	Localization                     *localization.Localization
	// PredicateSet is Predicates and PredicateValidations compiled: what a
	// self-asserted page validates a PredicateValidationReference with.
	PredicateSet *predicate.Set

	Pos config.Pos

	claimsFold map[string]*ClaimType
}

// Claim finds a claim type. B2C matches ClaimTypeReferenceIds without
// regard to case (the starter pack itself refers to surname as surName),
// so an exact match wins and any case works after it.
func (p *Policy) Claim(id string) *ClaimType {
	if ct := p.ClaimTypes[id]; ct != nil {
		return ct
	}
	return p.claimsFold[strings.ToLower(id)]
}

// ClaimID is the declared id of a referenced claim type (references may
// differ in case); ref itself when undeclared.
func (p *Policy) ClaimID(ref string) string {
	if ct := p.Claim(ref); ct != nil {
		return ct.ID
	}
	return ref
}

// ClaimType is a ClaimsSchema entry.
type ClaimType struct {
	ID, DisplayName, DataType string
	UserHelpText              string
	UserInputType             string
	PartnerClaimTypes         map[string]string // by protocol name
	Pattern, PatternHelpText  string
	Enumeration               []EnumValue
	PredicateValidation       string
	Pos                       config.Pos
	patternRE                 *dotnetregex.Regex
}

// CheckPattern reports whether value satisfies the claim type's
// Restriction/Pattern (true when it has none). A match that runs out of
// time is an error, never a hang.
func (c *ClaimType) CheckPattern(value string) (bool, error) {
	if c == nil || c.patternRE == nil {
		return true, nil
	}
	return c.patternRE.IsMatch(value)
}

// EnumValue is a Restriction/Enumeration item.
type EnumValue struct {
	Text, Value     string
	SelectByDefault bool
}

// Transformation is a ClaimsTransformation.
type Transformation struct {
	ID, Method   string
	InputClaims  []TxClaim
	Params       []TxParam
	OutputClaims []TxClaim
	Pos          config.Pos
}

// TxClaim is a transformation's InputClaim or OutputClaim.
type TxClaim struct {
	ClaimType, TransformationClaimType string
	Pos                                config.Pos
}

// TxParam is an InputParameter.
type TxParam struct {
	ID, DataType, Value string
}

// ContentDef is a ContentDefinition.
type ContentDef struct {
	ID, LoadURI, RecoveryURI, DataURI string
	Metadata                          map[string]string
	// Localized maps a language to its LocalizedResources id.
	Localized map[string]string
	Pos       config.Pos
}

// DisplayOnlyControl reports whether a display control type only shows
// claims (the TOTP enrolment's QR code, account details and app links):
// nothing on it is collected.
func DisplayOnlyControl(typ string) bool {
	switch typ {
	case "QrCodeControl", "AuthenticatorInfoControl", "AuthenticatorAppIconControl":
		return true
	}
	return false
}

// DisplayControl is a DisplayControl (VerificationControl, ...).
type DisplayControl struct {
	ID, Type      string
	InputClaims   []ClaimRef
	DisplayClaims []ClaimRef
	OutputClaims  []ClaimRef
	// Actions by Id (SendCode, VerifyCode): the technical profiles each
	// runs, in order.
	Actions map[string][]ValidationRef
	Pos     config.Pos
}

// TechnicalProfile is one technical profile after IncludeTechnicalProfile
// has been applied.
type TechnicalProfile struct {
	ID, DisplayName string
	// Domain is its claims provider's Domain: a domain_hint equal to it
	// picks this provider without the selection page.
	Domain   string
	Protocol string // Name
	Handler  string // the Handler's type name, without assembly
	Provider *Provider
	Metadata map[string]string
	// Keys are CryptographicKeys: Key Id -> StorageReferenceId.
	Keys            map[string]string
	InputTx         []string // InputClaimsTransformations
	InputClaims     []ClaimRef
	DisplayClaims   []ClaimRef
	OutputClaims    []ClaimRef
	PersistedClaims []ClaimRef
	OutputTx        []string
	Validations     []ValidationRef
	SessionProfile  string // UseTechnicalProfileForSessionManagement
	// EnabledForUserJourneys: Always (""), Never, OnClaimsExistence,
	// OnItemExistenceInStringCollectionClaim, OnItemAbsenceInStringCollectionClaim.
	Enabled           string
	OutputTokenFormat string
	SubjectNaming     string
	Pos               config.Pos
	itemPos           map[string]config.Pos
}

// KeyPos is where a CryptographicKeys Key (by Id) is written.
func (tp *TechnicalProfile) KeyPos(id string) config.Pos { return tp.itemPos["key:"+id] }

// ClaimRef is an InputClaim, OutputClaim, PersistedClaim or DisplayClaim.
type ClaimRef struct {
	ClaimType        string
	PartnerClaimType string
	DefaultValue     string
	AlwaysUseDefault bool
	Required         bool
	// DisplayControl is set for a DisplayClaim that places a display
	// control on the page instead of a claim.
	DisplayControl string
	// ControlClaimType marks a display control's claim (VerificationCode).
	ControlClaimType string
	Pos              config.Pos
}

// Name is the claim's name on the wire: the partner claim type, else the
// claim type.
func (r ClaimRef) Name() string {
	if r.PartnerClaimType != "" {
		return r.PartnerClaimType
	}
	return r.ClaimType
}

// ValidationRef is a ValidationTechnicalProfile (or a display control
// action's ValidationClaimsExchangeTechnicalProfile).
type ValidationRef struct {
	Profile           string
	ContinueOnError   bool
	ContinueOnSuccess bool
	Preconditions     []Precondition
	Pos               config.Pos
}

// Precondition is a step's or validation profile's precondition.
type Precondition struct {
	Type             string // ClaimsExist, ClaimEquals
	ExecuteActionsIf bool
	Values           []string
	Action           string // SkipThisOrchestrationStep, SkipThisValidationTechnicalProfile
	Pos              config.Pos
}

// Journey is a UserJourney or SubJourney.
type Journey struct {
	ID    string
	Type  string // SubJourney: Call or Transfer
	Steps []*Step
	// DefaultCPIM is the UserJourney's DefaultCpimIssuerTechnicalProfileReferenceId.
	DefaultIssuer string
	Pos           config.Pos
}

// Step is an OrchestrationStep.
type Step struct {
	Order         int
	Type          string
	ContentDef    string
	Issuer        string // CpimIssuerTechnicalProfileReferenceId
	Selections    []Selection
	Exchanges     []Exchange
	SubJourneys   []string // InvokeSubJourney candidates
	Preconditions []Precondition
	Pos           config.Pos
}

// Selection is a ClaimsProviderSelection.
type Selection struct {
	TargetExchange, ValidationExchange string
	Pos                                config.Pos
}

// Exchange is a ClaimsExchange.
type Exchange struct {
	ID, Profile string
	Pos         config.Pos
}

// RelyingParty is a policy's RelyingParty.
type RelyingParty struct {
	Journey string
	// Endpoints map an endpoint id (Token) to its journey.
	Endpoints map[string]string
	Behaviors Behaviors
	Profile   *TechnicalProfile
	Pos       config.Pos
}

// Behaviors are UserJourneyBehaviors.
type Behaviors struct {
	SSOScope             string // Tenant (default), Application, Policy, Suppressed
	SessionExpiryType    string // Rolling (default), Absolute
	SessionExpirySeconds int    // 86400 by default
	ScriptExecution      string // Disallow (default), Allow
}
