package ief

// The smaller providers: claims transformations, the session managers,
// email codes, the engine's own profiles, REST calls, and the ones that
// come with federation and MFA.
func init() {
	register(&Provider{
		Name:     "ClaimsTransformation",
		Handler:  "Web.TPEngine.Providers.ClaimsTransformationProtocolProvider",
		Metadata: []string{"IncludeClaimResolvingInClaimsHandling"},
	})
	register(&Provider{
		Name:     "RESTful",
		Handler:  "Web.TPEngine.Providers.RestfulProvider",
		Metadata: restMetadata,
		Check:    checkRESTful,
	})
	register(&Provider{
		Name:     "AadSspr",
		Handler:  "Web.TPEngine.Providers.AadSsprProtocolProvider",
		Metadata: []string{"Operation"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			if op := tp.Metadata["Operation"]; op != "SendCode" && op != "VerifyCode" {
				c.add(tp.Pos, "technical profile %s: AadSspr Operation is SendCode or VerifyCode, not %q", tp.ID, op)
			}
		},
	})
	for _, h := range []string{"DefaultSSOSessionProvider", "NoopSSOSessionProvider", "OAuthSSOSessionProvider",
		"ExternalLoginSSOSessionProvider", "SamlSSOSessionProvider"} {
		register(&Provider{
			Name:     h,
			Handler:  "Web.TPEngine.SSO." + h,
			Metadata: []string{"AlwaysFetchClaimsFromProvider", "IncludeSessionIndex", "RegisteredApplications"},
		})
	}
	// Protocol None: the engine's default profile and claims-only
	// profiles (RefreshTokenReadAndSetup) whose output claims the journey
	// keeps.
	register(&Provider{Name: "None", Protocol: "None", Metadata: []string{"url"}})
	register(&Provider{Name: "OAuth2 identity provider", Protocol: "OAuth2",
		NotYet: "OAuth2 identity providers such as Facebook (Gatehouse issue 12)"})
	register(&Provider{Name: "SAML2 identity provider", Protocol: "SAML2",
		NotYet: "SAML identity providers (Gatehouse issue 12)"})
	register(&Provider{Name: "PhoneFactor", Handler: "Web.TPEngine.Providers.PhoneFactorProtocolProvider",
		NotYet: "phone MFA, PhoneFactorProtocolProvider (Gatehouse issue 12)"})
	register(&Provider{Name: "AzureMfa", Handler: "Web.TPEngine.Providers.AzureMfaProtocolProvider",
		NotYet: "Azure MFA text and voice codes, AzureMfaProtocolProvider (Gatehouse issue 12)"})
}

var restMetadata = []string{"ServiceUrl", "AuthenticationType", "SendClaimsIn", "ClaimsFormat",
	"ClaimUsedForRequestPayload", "DebugMode", "IncludeClaimResolvingInClaimsHandling",
	"ResolveJsonPathsInJsonTokens", "UseClaimAsBearerToken", "AllowInsecureAuthInProduction",
	"DefaultUserMessageIfRequestFailed", "UserMessageIfCircuitOpen", "UserMessageIfDnsResolutionFailed",
	"UserMessageIfRequestTimeout", "ApiKeyHeaderName", "token_endpoint", "HttpBinding",
	"IncludeClaimResolvingInClaimsHandling", "DefaultUserMessageIfRequestFailed", "UserMessageIf*"}

func checkRESTful(c *checker, p *Policy, tp *TechnicalProfile) {
	if tp.Metadata["ServiceUrl"] == "" {
		c.add(tp.Pos, "technical profile %s: a RESTful profile needs the ServiceUrl metadata", tp.ID)
	}
	switch tp.Metadata["AuthenticationType"] {
	case "", "None", "Basic", "ClientCertificate", "Bearer", "ApiKeyHeader":
	default:
		c.add(tp.itemPos["AuthenticationType"], "technical profile %s: AuthenticationType %q is not None, Basic, ClientCertificate, Bearer or ApiKeyHeader", tp.ID, tp.Metadata["AuthenticationType"])
	}
	switch tp.Metadata["SendClaimsIn"] {
	case "", "Body", "Form", "Header", "QueryString", "Url":
	default:
		c.add(tp.itemPos["SendClaimsIn"], "technical profile %s: SendClaimsIn %q is not Body, Form, Header, QueryString or Url", tp.ID, tp.Metadata["SendClaimsIn"])
	}
}
