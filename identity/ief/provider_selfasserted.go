package ief

// SelfAsserted: a page that collects claims, runs its validation
// technical profiles and display controls (SelfAssertedAttributeProvider).
func init() {
	register(&Provider{
		Name:    "SelfAsserted",
		Handler: "Web.TPEngine.Providers.SelfAssertedAttributeProvider",
		Metadata: []string{"ContentDefinitionReferenceId", "AllowGenerationOfClaimsWithNullValues",
			"IncludeClaimResolvingInClaimsHandling", "IpAddressClaimReferenceId", "SignUpTarget",
			"ClaimsProviderSelectionDisplayType", "EnforceEmailVerification", "DisplayName",
			"InputVerificationDelayTimeInMilliseconds",
			"language.*", "setting.*", "UserMessageIf*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			c.contentDefRef(p, tp, tp.Metadata["ContentDefinitionReferenceId"])
		},
	})
}
