package trustframework

import "sort"

// BuiltinKind is what a starter-pack technical profile is in Gatehouse.
type BuiltinKind int

// Kinds of built-in technical profiles.
const (
	// SelfAsserted is a hosted page of Gatehouse's local-account flows;
	// extensions may add ValidationTechnicalProfiles (run with
	// RunValidation) and OutputClaims (ExtraOutputClaims).
	SelfAsserted BuiltinKind = iota + 1
	// Directory reads or writes the user store (done by the flow).
	Directory
	// Issuer is the token issuer (JwtIssuer).
	Issuer
	// Session is a session management profile (SM-*).
	Session
	// Engine is the trust framework engine's default profile.
	Engine
)

type builtin struct {
	kind BuiltinKind
	// metadata are the Metadata keys an extension may set (messages the
	// hosted pages show; login-NonInteractive's app ids, which Gatehouse
	// does not need since it checks passwords itself).
	metadata []string
	// claims: extensions may add InputClaims/OutputClaims.
	claims bool
}

// builtins are the technical profiles of the starter pack's
// TrustFrameworkBase.xml (LocalAccounts) that Gatehouse's own flows
// provide, so extension and relying-party files can reference and extend
// them without the base file.
var builtins = map[string]builtin{
	"SelfAsserted-LocalAccountSignin-Email":  {kind: SelfAsserted, claims: true},
	"LocalAccountSignUpWithLogonEmail":       {kind: SelfAsserted, claims: true},
	"LocalAccountDiscoveryUsingEmailAddress": {kind: SelfAsserted},
	"LocalAccountWritePasswordUsingObjectId": {kind: SelfAsserted},
	"SelfAsserted-ProfileUpdate":             {kind: SelfAsserted, claims: true},
	"login-NonInteractive": {kind: Directory, claims: true, metadata: []string{"client_id", "IdTokenAudience",
		"UserMessageIfClaimsPrincipalDoesNotExist", "UserMessageIfInvalidPassword", "UserMessageIfOldPasswordUsed"}},
	"login-NonInteractive-PasswordChange":           {kind: Directory, claims: true, metadata: []string{"client_id", "IdTokenAudience"}},
	"AAD-Common":                                    {kind: Directory},
	"AAD-UserWriteUsingLogonEmail":                  {kind: Directory, metadata: []string{"UserMessageIfClaimsPrincipalAlreadyExists"}},
	"AAD-UserReadUsingEmailAddress":                 {kind: Directory, metadata: []string{"UserMessageIfClaimsPrincipalDoesNotExist"}},
	"AAD-UserWritePasswordUsingObjectId":            {kind: Directory},
	"AAD-UserWriteProfileUsingObjectId":             {kind: Directory},
	"AAD-UserReadUsingObjectId":                     {kind: Directory, metadata: []string{"UserMessageIfClaimsPrincipalDoesNotExist"}},
	"JwtIssuer":                                     {kind: Issuer},
	"SM-Noop":                                       {kind: Session},
	"SM-AAD":                                        {kind: Session},
	"TpEngine_c3bd4fe2-1775-4013-b91d-35f16d377d13": {kind: Engine},
}

// BuiltinProfiles lists the ids of the built-in technical profiles.
func BuiltinProfiles() []string {
	ids := make([]string, 0, len(builtins))
	for id := range builtins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// builtinClaims is the starter pack's ClaimsSchema (LocalAccounts):
// id -> data type, OpenID Connect name.
var builtinClaims = map[string][2]string{
	"socialIdpUserId":             {"string", ""},
	"tenantId":                    {"string", "tid"},
	"objectId":                    {"string", "oid"},
	"signInName":                  {"string", ""},
	"signInNames.emailAddress":    {"string", ""},
	"accountEnabled":              {"boolean", ""},
	"password":                    {"string", ""},
	"newPassword":                 {"string", ""},
	"reenterPassword":             {"string", ""},
	"passwordPolicies":            {"string", ""},
	"client_id":                   {"string", ""},
	"resource_id":                 {"string", ""},
	"sub":                         {"string", "sub"},
	"identityProvider":            {"string", "idp"},
	"displayName":                 {"string", "name"},
	"email":                       {"string", "email"},
	"otherMails":                  {"stringCollection", ""},
	"userPrincipalName":           {"string", "upn"},
	"upnUserName":                 {"string", ""},
	"newUser":                     {"boolean", ""},
	"executed-SelfAsserted-Input": {"string", ""},
	"authenticationSource":        {"string", ""},
	"nca":                         {"string", ""},
	"grant_type":                  {"string", ""},
	"scope":                       {"string", ""},
	"objectIdFromSession":         {"boolean", ""},
	"isActiveMFASession":          {"boolean", ""},
	"givenName":                   {"string", "given_name"},
	"surname":                     {"string", "family_name"},
}

// builtinJourneys are the starter pack's user journeys (steps by order).
func builtinJourneys() map[string]*UserJourney {
	ex := func(order int, typ, id, tp string) *Step {
		s := &Step{Order: order, Type: typ}
		if tp != "" {
			s.Exchanges = []Exchange{{ID: id, TechnicalProfile: tp}}
		}
		return s
	}
	signin := ex(1, "CombinedSignInAndSignUp", "LocalAccountSigninEmailExchange", "SelfAsserted-LocalAccountSignin-Email")
	signup := ex(2, "ClaimsExchange", "SignUpWithLogonEmailExchange", "LocalAccountSignUpWithLogonEmail")
	signup.Preconditions = []Precondition{{Type: "ClaimsExist", ExecuteActionsIf: true, Values: []string{"objectId"}, Action: "SkipThisOrchestrationStep"}}
	send := func(o int) *Step { return &Step{Order: o, Type: "SendClaims", Issuer: "JwtIssuer"} }
	return map[string]*UserJourney{
		"SignUpOrSignIn": {ID: "SignUpOrSignIn", Builtin: true, Steps: []*Step{signin, signup,
			ex(3, "ClaimsExchange", "AADUserReadWithObjectId", "AAD-UserReadUsingObjectId"), send(4)}},
		"ProfileEdit": {ID: "ProfileEdit", Builtin: true, Steps: []*Step{
			ex(1, "ClaimsProviderSelection", "", ""),
			ex(2, "ClaimsExchange", "LocalAccountSigninEmailExchange", "SelfAsserted-LocalAccountSignin-Email"),
			ex(3, "ClaimsExchange", "AADUserReadWithObjectId", "AAD-UserReadUsingObjectId"),
			ex(4, "ClaimsExchange", "B2CUserProfileUpdateExchange", "SelfAsserted-ProfileUpdate"), send(5)}},
		"PasswordReset": {ID: "PasswordReset", Builtin: true, Steps: []*Step{
			ex(1, "ClaimsExchange", "PasswordResetUsingEmailAddressExchange", "LocalAccountDiscoveryUsingEmailAddress"),
			ex(2, "ClaimsExchange", "NewCredentials", "LocalAccountWritePasswordUsingObjectId"), send(3)}},
		// The refresh-token journey of newer starter packs: Gatehouse's
		// token endpoint; RESTful steps are not re-run (as B2C's API
		// connectors).
		"RedeemRefreshToken": {ID: "RedeemRefreshToken", Builtin: true, Steps: []*Step{send(1)}},
	}
}

// knownBases are base policies that may be left out of customPolicies:
// Gatehouse provides their content (the built-ins above).
var knownBases = []string{"B2C_1A_TrustFrameworkBase", "B2C_1A_TrustFrameworkLocalization"}

// builtinContent are ids of starter-pack content definitions and client
// definitions that steps may name; Gatehouse's hosted pages stand in.
var builtinContent = map[string]bool{
	"api.error": true, "api.idpselections": true, "api.idpselections.signup": true, "api.signuporsignin": true,
	"api.selfasserted": true, "api.selfasserted.profileupdate": true, "api.localaccountsignup": true,
	"api.localaccountsignin": true, "api.localaccountpasswordreset": true, "DefaultWeb": true,
}
