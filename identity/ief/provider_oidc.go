package ief

import "strings"

// The three things a Protocol Name="OpenIdConnect" profile can be.
func init() {
	// JwtIssuer: the relying party's token issuer (OutputTokenFormat JWT).
	register(&Provider{
		Name:     "JwtIssuer",
		Protocol: "OpenIdConnect",
		Match:    func(tp *TechnicalProfile) bool { return tp.OutputTokenFormat != "" },
		Metadata: []string{"client_id", "issuer_refresh_token_user_identity_claim_type",
			"SendTokenResponseBodyWithJsonNumbers", "token_lifetime_secs", "id_token_lifetime_secs",
			"refresh_token_lifetime_secs", "rolling_refresh_token_lifetime_secs", "IssuanceClaimPattern",
			"AuthenticationContextReferenceClaimPattern", "RefreshTokenUserJourneyId", "IssuerUri"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			if tp.OutputTokenFormat != "JWT" {
				c.add(tp.Pos, "technical profile %s: OutputTokenFormat %q: Gatehouse issues JWT (SAML tokens are not supported)", tp.ID, tp.OutputTokenFormat)
			}
			if v := tp.Metadata["IssuanceClaimPattern"]; v != "" && v != "AuthorityAndTenantGuid" && v != "AuthorityWithTfp" {
				c.add(tp.itemPos["IssuanceClaimPattern"], "technical profile %s: IssuanceClaimPattern is AuthorityAndTenantGuid or AuthorityWithTfp, not %q", tp.ID, v)
			}
			if v := tp.Metadata["AuthenticationContextReferenceClaimPattern"]; v != "" && v != "None" && v != "PolicyId" {
				c.add(tp.itemPos["AuthenticationContextReferenceClaimPattern"], "technical profile %s: AuthenticationContextReferenceClaimPattern is None or PolicyId, not %q", tp.ID, v)
			}
			for _, k := range []string{"token_lifetime_secs", "id_token_lifetime_secs", "refresh_token_lifetime_secs", "rolling_refresh_token_lifetime_secs"} {
				c.intMetadata(tp, k)
			}
		},
	})
	// LocalCredentials: B2C's login-NonInteractive, a resource-owner
	// password call to Entra ID; here the local password check with
	// lockout.
	register(&Provider{
		Name:     "LocalCredentials (login-NonInteractive)",
		Protocol: "OpenIdConnect",
		Match:    isLocalCredentials,
		Metadata: []string{"ProviderName", "METADATA", "authorization_endpoint", "response_types", "response_mode",
			"scope", "grant_type", "UsePolicyInRedirectUri", "HttpBinding", "client_id", "IdTokenAudience",
			"DefaultMessage", "UserMessageIf*"},
	})
	// A federated OpenID Connect identity provider (Entra ID, Google, a
	// partner): the browser goes there (identity/ief/federation).
	register(&Provider{
		Name:      ProviderOIDC,
		Protocol:  "OpenIdConnect",
		Federated: true,
		Metadata: []string{"METADATA", "authorization_endpoint", "AccessTokenEndpoint", "JWKS", "issuer",
			"external_user_identity_claim_id", "client_id", "response_types", "response_mode", "scope", "HttpBinding",
			"UsePolicyInRedirectUri", "ProviderName", "ValidTokenIssuerPrefixes", "DiscoverMetadataByTokenIssuer",
			"token_endpoint_auth_method", "token_signing_algorithm", "IncludeClaimResolvingInClaimsHandling",
			"IdTokenAudience", "MarkAsFailureOnStatusCode5xx", "SingleLogoutEnabled", "ReadBodyClaimsOnIdpRedirect",
			"AccessTokenResponseFormat", "UserMessageIf*", "DefaultMessage"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			md := tp.Metadata
			explicit := md["authorization_endpoint"] != "" && md["AccessTokenEndpoint"] != "" && md["JWKS"] != "" && md["issuer"] != ""
			if md["METADATA"] == "" && !explicit || md["client_id"] == "" {
				c.add(tp.Pos, "technical profile %s: an OpenID Connect identity provider needs client_id and METADATA (its .well-known/openid-configuration URL) — or, without discovery, authorization_endpoint, AccessTokenEndpoint, JWKS and issuer", tp.ID)
			}
			switch m := tp.Metadata["token_endpoint_auth_method"]; m {
			case "", "client_secret_post", "client_secret_basic":
			case "private_key_jwt":
				if tp.Keys["assertion_signing_key"] == "" {
					c.add(tp.Pos, "technical profile %s: private_key_jwt needs CryptographicKeys <Key Id=\"assertion_signing_key\" StorageReferenceId=\"B2C_1A_...\"/> (a certificate)", tp.ID)
				}
			default:
				c.add(tp.itemPos["token_endpoint_auth_method"], "technical profile %s: token_endpoint_auth_method is client_secret_post, client_secret_basic or private_key_jwt, not %q", tp.ID, m)
			}
		},
	})
}

// isLocalCredentials recognises the starter pack's login-NonInteractive:
// an OpenIdConnect profile sending grant_type=password to Entra ID.
func isLocalCredentials(tp *TechnicalProfile) bool {
	for _, in := range tp.InputClaims {
		if in.ClaimType == "grant_type" && in.DefaultValue == "password" {
			return true
		}
	}
	return tp.Metadata["grant_type"] == "password" || strings.HasPrefix(tp.Metadata["ProviderName"], "https://sts.windows.net")
}
