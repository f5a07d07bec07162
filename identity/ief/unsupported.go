package ief

import (
	"github.com/gatehouse/gatehouse/identity/ief/tfxml"
)

// unsupported are elements of B2C's schema that change what a policy
// does and that Gatehouse does not implement yet: a policy using one is a
// load error naming it, never a policy that silently behaves otherwise.
// Elements that only describe (Contacts, DocumentReferences, Domain,
// ClientDefinitions, JourneyInsights) are accepted.
var unsupported = map[string]string{
	"ErrorHandlers":                        "technical profile error handlers",
	"IncludeClaimsFromTechnicalProfile":    "IncludeClaimsFromTechnicalProfile",
	"AuthorizationTechnicalProfiles":       "user journey authorization technical profiles",
	"ContentDefinitionParameters":          "content definition parameters",
	"InputValidations":                     "InputValidations (use Predicates and PredicateValidations)",
	"PolicyConstraints":                    "policy constraints and reroute rules",
	"InputTokenFormat":                     "id_token_hint technical profiles (InputTokenFormat)",
	"InputTokenSources":                    "id_token_hint technical profiles (InputTokenSources)",
	"SubjectAuthenticationRequirements":    "subject authentication requirements",
	"AssuranceLevelOfOutputClaims":         "assurance levels",
	"RequiredAssuranceLevelsOfInputClaims": "assurance levels",
	"Suppressions":                         "suppressions",
}

// refuseUnsupported reports the unsupported elements of one file.
func (c *checker) refuseUnsupported(n *tfxml.Node) {
	if why, ok := unsupported[n.Name]; ok {
		c.add(n.Pos, "not supported: <%s>: Gatehouse does not implement %s yet", n.Name, why)
	}
	if n.Name == "TrustFrameworkPolicy" && n.Attr("UserJourneyRecorderEndpoint") != "" {
		c.add(n.Pos, "not supported: UserJourneyRecorderEndpoint (Application Insights journey recorder)")
	}
	for _, k := range n.Kids {
		c.refuseUnsupported(k)
	}
}
