package ief

// AzureActiveDirectory: reads and writes the directory
// (AzureActiveDirectoryProvider), here Gatehouse's user store.
func init() {
	register(&Provider{
		Name:    "AzureActiveDirectory",
		Handler: "Web.TPEngine.Providers.AzureActiveDirectoryProvider",
		Metadata: []string{"Operation", "RaiseErrorIfClaimsPrincipalDoesNotExist",
			"RaiseErrorIfClaimsPrincipalAlreadyExists", "ApplicationObjectId", "ClientId", "UserMessageIf*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			switch op := tp.Metadata["Operation"]; op {
			case "Read", "Write", "DeleteClaims", "DeleteClaimsPrincipal":
				if op == "Write" && len(tp.PersistedClaims) == 0 {
					c.add(tp.Pos, "technical profile %s: Operation Write needs PersistedClaims (B2C rule: an Azure AD write persists claims)", tp.ID)
				}
			case "":
				// An abstract profile (AAD-Common) included by others.
			default:
				c.add(tp.itemPos["Operation"], "technical profile %s: Operation %q is not Read, Write, DeleteClaims or DeleteClaimsPrincipal", tp.ID, op)
			}
		},
	})
}
