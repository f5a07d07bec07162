package tenant

import "strings"

// Connector steps and authentication types are shared by YAML API
// connectors (identity.apiConnectors, user flows) and RESTful technical
// profiles (custom policies): one table each, so the config check, the
// calls and the messages cannot drift apart.

// Connector steps (B2C's "step" values, sent in the connector's body).
const (
	StepPostFederationSignup    = "PostFederationSignup"
	StepPostAttributeCollection = "PostAttributeCollection"
	StepPreTokenIssuance        = "PreTokenIssuance"
	// StepPasswordMigration is Gatehouse's: at sign-in, an account that
	// has no password yet (moved without its hash) sends the email address
	// and the password to the old system's API, B2C's seamless migration
	// as a user-flow option; Continue means the password is right.
	StepPasswordMigration = "PasswordMigration"
)

// ConnectorStep is a step a flow can call an API connector at.
type ConnectorStep struct {
	Config string // the name in a flow's apiConnectors, e.g. postAttributeCollection
	B2C    string // B2C's step value, e.g. PostAttributeCollection
}

// ConnectorSteps are the steps in B2C's order (the order of the messages).
var ConnectorSteps = []ConnectorStep{
	{"postFederationSignup", StepPostFederationSignup},
	{"postAttributeCollection", StepPostAttributeCollection},
	{"preTokenIssuance", StepPreTokenIssuance},
	{"passwordMigration", StepPasswordMigration},
}

// LookupConnectorStep finds a step by its config name or B2C value; case is
// ignored, as the config names and B2C's values differ only in case.
func LookupConnectorStep(name string) (ConnectorStep, bool) {
	for _, s := range ConnectorSteps {
		if strings.EqualFold(s.Config, name) || strings.EqualFold(s.B2C, name) {
			return s, true
		}
	}
	return ConnectorStep{}, false
}

// ConnectorStepList is the config names for messages
// ("postFederationSignup, postAttributeCollection or preTokenIssuance").
func ConnectorStepList() string {
	names := make([]string, len(ConnectorSteps))
	for i, s := range ConnectorSteps {
		names[i] = s.Config
	}
	return orList(names)
}

// ConnectorName is the API connector of a flow's step ("" for none). The
// config names steps postAttributeCollection etc. and callers pass B2C's
// PostAttributeCollection: the match ignores case.
func ConnectorName(flow *Flow, step string) string {
	if flow == nil {
		return ""
	}
	if n, ok := flow.APIConnectors[step]; ok {
		return n
	}
	for k, n := range flow.APIConnectors {
		if strings.EqualFold(k, step) {
			return n
		}
	}
	return ""
}

// AuthType is how a connector authenticates to its API; its value is the
// YAML name (identity.apiConnectors[].authenticationType).
type AuthType string

// Authentication types.
const (
	AuthNone         AuthType = "none"
	AuthBasic        AuthType = "basic"
	AuthCertificate  AuthType = "certificate"
	AuthBearer       AuthType = "bearer"
	AuthAPIKeyHeader AuthType = "apiKeyHeader"
)

// AuthTypeInfo is one authentication type's names.
type AuthTypeInfo struct {
	Type    AuthType
	B2C     string   // a RESTful profile's AuthenticationType metadata
	Aliases []string // further YAML names (B2C's name, written in YAML)
}

// AuthTypes are the authentication types in the order of the YAML
// messages ("none" last there: it is the insecure choice).
var AuthTypes = []AuthTypeInfo{
	{AuthBasic, "Basic", nil},
	{AuthCertificate, "ClientCertificate", []string{"clientCertificate"}},
	{AuthBearer, "Bearer", nil},
	{AuthAPIKeyHeader, "ApiKeyHeader", nil},
	{AuthNone, "None", nil},
}

// LookupAuthType finds a YAML authenticationType (its name or an alias;
// case is ignored, as the config always has).
func LookupAuthType(name string) (AuthTypeInfo, bool) {
	for _, a := range AuthTypes {
		if strings.EqualFold(string(a.Type), name) {
			return a, true
		}
		for _, al := range a.Aliases {
			if strings.EqualFold(al, name) {
				return a, true
			}
		}
	}
	return AuthTypeInfo{}, false
}

// LookupB2CAuthType finds a RESTful profile's AuthenticationType; the
// match is exact, as B2C's is.
func LookupB2CAuthType(name string) (AuthTypeInfo, bool) {
	for _, a := range AuthTypes {
		if a.B2C == name {
			return a, true
		}
	}
	return AuthTypeInfo{}, false
}

// AuthTypeList is the YAML names for messages
// ("basic, certificate, bearer, apiKeyHeader or none").
func AuthTypeList() string {
	names := make([]string, len(AuthTypes))
	for i, a := range AuthTypes {
		names[i] = string(a.Type)
	}
	return orList(names)
}

// B2CAuthTypeList is B2C's names for messages, None first as B2C's
// documentation lists them ("None, Basic, ClientCertificate, Bearer or
// ApiKeyHeader").
func B2CAuthTypeList() string {
	names := []string{}
	for _, a := range AuthTypes {
		if a.Type == AuthNone {
			names = append([]string{a.B2C}, names...)
		} else {
			names = append(names, a.B2C)
		}
	}
	return orList(names)
}

// orList renders "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
