package ief

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
)

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
	// OAuth2 identity providers (Facebook, GitHub, LinkedIn, Twitter
	// style): authorization code, access token, claims endpoint.
	register(&Provider{Name: ProviderOAuth2, Protocol: "OAuth2", Federated: true,
		Metadata: []string{"ProviderName", "authorization_endpoint", "AccessTokenEndpoint", "ClaimsEndpoint",
			"ClaimsEndpointAccessTokenName", "ClaimsEndpointFormatName", "ClaimsEndpointFormat", "client_id", "scope",
			"HttpBinding", "UsePolicyInRedirectUri", "AccessTokenResponseFormat", "BearerTokenTransmissionMethod",
			"ExtraParamsInAccessTokenEndpointResponse", "ExtraParamsInClaimsEndpointRequest", "ResponseErrorCodeParamName",
			"IncludeClaimResolvingInClaimsHandling", "ResolveJsonPathsInJsonTokens", "AdditionalRequestQueryParameters",
			"response_types", "response_mode", "token_endpoint_auth_method", "UsePKCE", "UserMessageIf*", "DefaultMessage"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			for _, k := range []string{"authorization_endpoint", "AccessTokenEndpoint", "client_id"} {
				if tp.Metadata[k] == "" {
					c.add(tp.Pos, "technical profile %s: an OAuth2 identity provider needs the %s metadata", tp.ID, k)
				}
			}
		}})
	// SAML2 identity providers (AD FS, Salesforce, a partner's IdP): an
	// AuthnRequest to the provider, its signed Response posted back. A
	// SAML2 profile with an OutputTokenFormat is the SAML token issuer.
	register(&Provider{Name: ProviderSAML2, Protocol: "SAML2", Federated: true,
		Match: func(tp *TechnicalProfile) bool { return tp.OutputTokenFormat == "" },
		Metadata: []string{"PartnerEntity", "WantsSignedRequests", "WantsEncryptedAssertions", "WantsSignedAssertions",
			"XmlSignatureAlgorithm", "ResponsesSigned", "NameIdPolicyFormat", "NameIdPolicyAllowCreate",
			"AuthenticationRequestExtensions", "IncludeAuthnContextClassReferences", "IncludeKeyInfo",
			"IdpInitiatedProfileEnabled", "DiscoverMetadataByTokenIssuer", "IncludeClaimResolvingInClaimsHandling",
			"SingleLogoutEnabled"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			if strings.TrimSpace(tp.Metadata["PartnerEntity"]) == "" {
				c.add(tp.Pos, "technical profile %s: a SAML2 identity provider needs the PartnerEntity metadata (the provider's metadata URL, or its metadata XML)", tp.ID)
			}
			if a := tp.Metadata["XmlSignatureAlgorithm"]; a != "" && !slices.ContainsFunc([]string{"Sha1", "Sha256", "Sha384", "Sha512"}, func(s string) bool { return strings.EqualFold(s, a) }) {
				c.add(tp.itemPos["XmlSignatureAlgorithm"], "technical profile %s: XmlSignatureAlgorithm is Sha1, Sha256, Sha384 or Sha512, not %q", tp.ID, a)
			}
			if strings.EqualFold(tp.Metadata["WantsEncryptedAssertions"], "true") && tp.Keys["SamlAssertionDecryption"] == "" {
				c.add(tp.Pos, "technical profile %s: WantsEncryptedAssertions needs CryptographicKeys <Key Id=\"SamlAssertionDecryption\" StorageReferenceId=\"B2C_1A_...\"/>", tp.ID)
			}
		}})
	register(&Provider{Name: "SAML2 token issuer", Protocol: "SAML2",
		NotYet: "the SAML token issuer, SAML relying parties (Gatehouse issue 12)"})
	// PhoneFactor: B2C's phone MFA page (multifactor contract): the number
	// on record (or one entered, ManualPhoneNumberEntryAllowed) proven with
	// a code sent by SMS (identity.sms).
	register(&Provider{Name: ProviderPhoneFactor, Handler: "Web.TPEngine.Providers.PhoneFactorProtocolProvider",
		Metadata: []string{"ContentDefinitionReferenceId", "ManualPhoneNumberEntryAllowed", "setting.*",
			"IncludeClaimResolvingInClaimsHandling", "UserMessageIf*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			c.contentDefRef(p, tp, tp.Metadata["ContentDefinitionReferenceId"])
		}})
	// Gatehouse's own, for user flows' MFA (identity/ief/userflows): a code
	// to the account's email address on a multifactor page, and the
	// decision whether (and how) a sign-in needs a second factor.
	register(&Provider{Name: ProviderEmailFactor, Handler: EmailFactorHandler,
		Metadata: []string{"ContentDefinitionReferenceId", "setting.*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			c.contentDefRef(p, tp, tp.Metadata["ContentDefinitionReferenceId"])
		}})
	register(&Provider{Name: ProviderMFADecision, Handler: MFADecisionHandler})
	register(&Provider{Name: ProviderTOTP, Handler: TOTPHandler})
	// AzureMfa: B2C's MFA service behind display controls — SMS codes
	// (OneWaySMS, Verify) and authenticator apps (GetAvailableDevices,
	// BeginVerifyOTP, VerifyOTP), as the TOTP samples use it.
	register(&Provider{Name: ProviderAzureMfa, Handler: "Web.TPEngine.Providers.AzureMfaProtocolProvider",
		Metadata: []string{"Operation", "UserMessageIf*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			switch op := tp.Metadata["Operation"]; op {
			case "OneWaySMS", "Verify", "GetAvailableDevices", "BeginVerifyOTP", "VerifyOTP":
			default:
				c.add(tp.Pos, "technical profile %s: AzureMfa Operation is OneWaySMS, Verify, GetAvailableDevices, BeginVerifyOTP or VerifyOTP, not %q", tp.ID, op)
			}
		}})
	// OneTimePassword: codes made and checked by the engine itself
	// (GenerateCode, VerifyCode), sent by the policy's own REST call.
	register(&Provider{Name: ProviderOneTimePassword, Handler: "Web.TPEngine.Providers.OneTimePasswordProtocolProvider",
		Metadata: []string{"Operation", "CodeExpirationInSeconds", "CodeLength", "CharacterSet", "NumRetryAttempts",
			"NumCodeGenerationAttempts", "ReuseSameCode", "UserMessageIf*"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			if op := tp.Metadata["Operation"]; op != "GenerateCode" && op != "VerifyCode" {
				c.add(tp.Pos, "technical profile %s: OneTimePassword Operation is GenerateCode or VerifyCode, not %q", tp.ID, op)
			}
		}})
}

var restMetadata = []string{"ServiceUrl", "AuthenticationType", "SendClaimsIn", "ClaimsFormat",
	"ClaimUsedForRequestPayload", "DebugMode", "IncludeClaimResolvingInClaimsHandling",
	"ResolveJsonPathsInJsonTokens", "UseClaimAsBearerToken", "AllowInsecureAuthInProduction",
	"DefaultUserMessageIfRequestFailed", "UserMessageIfCircuitOpen", "UserMessageIfDnsResolutionFailed",
	"UserMessageIfRequestTimeout", "ApiKeyHeaderName", "token_endpoint", "HttpBinding",
	"IncludeClaimResolvingInClaimsHandling", "DefaultUserMessageIfRequestFailed", "UserMessageIf*"}

// checkRESTful applies B2C's rules for a RESTful profile at load time:
// an absolute ServiceUrl, https unless the policy's DeploymentMode is
// Development, AuthenticationType None only with
// AllowInsecureAuthInProduction (or in Development), the
// CryptographicKeys each AuthenticationType reads (Basic:
// BasicAuthenticationUsername and BasicAuthenticationPassword;
// ClientCertificate: ClientCertificate; Bearer: BearerAuthenticationToken
// or UseClaimAsBearerToken; ApiKeyHeader: one key whose Id is the header,
// e.g. x-functions-key), SendClaimsIn and its placeholders, and the claims
// UseClaimAsBearerToken and ClaimUsedForRequestPayload name.
func checkRESTful(c *checker, p *Policy, tp *TechnicalProfile) {
	md := tp.Metadata
	where := "technical profile " + tp.ID
	pos := func(key string) config.Pos {
		if ps, ok := tp.itemPos[key]; ok {
			return ps
		}
		return tp.Pos
	}
	restPlaceholder := regexp.MustCompile(`\{([^{}:]+)\}`)
	// hasInput: the profile has the input claim, by wire name or claim type.
	hasInput := func(tp *TechnicalProfile, name string, wire bool) bool {
		for _, r := range tp.InputClaims {
			if wire && r.Name() == name || !wire && strings.EqualFold(r.ClaimType, name) {
				return true
			}
		}
		return false
	}
	for _, k := range []string{"AllowInsecureAuthInProduction", "DebugMode", "ResolveJsonPathsInJsonTokens", "IncludeClaimResolvingInClaimsHandling"} {
		if v, ok := md[k]; ok && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			c.add(pos(k), "%s: Metadata %s is true or false, not %q", where, k, v)
		}
	}
	dev := p.DeploymentMode == "Development"
	insecure := strings.EqualFold(md["AllowInsecureAuthInProduction"], "true")
	serviceURL := md["ServiceUrl"]
	if serviceURL == "" {
		c.add(tp.Pos, "%s: a RESTful profile needs the ServiceUrl metadata", where)
	} else if u, err := url.Parse(restPlaceholder.ReplaceAllString(serviceURL, "x")); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.add(pos("ServiceUrl"), "%s: ServiceUrl %q is not an absolute https URL", where, serviceURL)
	} else if u.Scheme == "http" && !dev {
		c.add(pos("ServiceUrl"), "%s: ServiceUrl must be https (http only in a policy with DeploymentMode=\"Development\")", where)
	}
	sendIn := md["SendClaimsIn"]
	switch sendIn {
	case "", "Body", "Form", "Header", "QueryString":
		if strings.ContainsAny(serviceURL, "{}") {
			c.add(pos("ServiceUrl"), "%s: ServiceUrl placeholders {name} need SendClaimsIn Url", where)
		}
	case "Url":
		_, rest, _ := strings.Cut(serviceURL, "://")
		if host, _, _ := strings.Cut(rest, "/"); strings.ContainsAny(host, "{}") {
			c.add(pos("ServiceUrl"), "%s: the host of ServiceUrl may not hold a claim", where)
		}
		for _, m := range restPlaceholder.FindAllStringSubmatch(serviceURL, -1) {
			if !hasInput(tp, m[1], true) {
				c.add(pos("ServiceUrl"), "%s: ServiceUrl placeholder {%s} is not an input claim (by PartnerClaimType, else ClaimTypeReferenceId)", where, m[1])
			}
		}
	default:
		c.add(pos("SendClaimsIn"), "%s: SendClaimsIn %q is not Body, Form, Header, QueryString or Url", where, sendIn)
	}
	auth := md["AuthenticationType"]
	used := map[string]bool{}
	need := func(id string) {
		used[id] = true
		if tp.Keys[id] == "" {
			c.add(tp.Pos, "%s: AuthenticationType %s needs CryptographicKeys <Key Id=%q StorageReferenceId=\"B2C_1A_...\"/>", where, auth, id)
		}
	}
	bearerClaim := md["UseClaimAsBearerToken"]
	info, _ := tenant.LookupB2CAuthType(auth) // B2C's names, shared with YAML connectors
	typ := info.Type
	switch typ {
	case "": // missing or unknown
		if auth == "" {
			c.add(tp.Pos, "%s: a RESTful profile needs the AuthenticationType metadata (%s)", where, tenant.B2CAuthTypeList())
		} else {
			c.add(pos("AuthenticationType"), "%s: AuthenticationType %q is not %s", where, auth, tenant.B2CAuthTypeList())
		}
	case tenant.AuthNone:
		if !insecure && !dev {
			c.add(pos("AuthenticationType"), "%s: AuthenticationType None needs AllowInsecureAuthInProduction=true (or the policy's DeploymentMode=\"Development\")", where)
		}
	case tenant.AuthBasic:
		need("BasicAuthenticationUsername")
		need("BasicAuthenticationPassword")
	case tenant.AuthCertificate:
		need("ClientCertificate")
	case tenant.AuthBearer:
		used["BearerAuthenticationToken"] = true
		switch hasKey := tp.Keys["BearerAuthenticationToken"] != ""; {
		case !hasKey && bearerClaim == "":
			c.add(tp.Pos, "%s: AuthenticationType Bearer needs CryptographicKeys <Key Id=\"BearerAuthenticationToken\"> or the UseClaimAsBearerToken metadata", where)
		case hasKey && bearerClaim != "":
			c.add(pos("UseClaimAsBearerToken"), "%s: give either UseClaimAsBearerToken or a BearerAuthenticationToken key, not both", where)
		}
	case tenant.AuthAPIKeyHeader:
		if len(tp.Keys) != 1 {
			c.add(tp.Pos, "%s: AuthenticationType ApiKeyHeader needs exactly one CryptographicKeys Key, its Id the header name (e.g. x-functions-key)", where)
		}
		for id := range tp.Keys {
			used[id] = true
			if id == "" || strings.ContainsAny(id, " \t\"(),/:;<=>?@[\\]{}") {
				c.add(tp.Pos, "%s: Key Id %q is not an HTTP header name", where, id)
			}
		}
	}
	if auth != "" {
		for _, id := range slices.Sorted(maps.Keys(tp.Keys)) {
			if !used[id] {
				c.add(tp.Pos, "%s: CryptographicKeys Key %q is not read by AuthenticationType %s", where, id, auth)
			}
		}
	}
	if bearerClaim != "" {
		if typ != tenant.AuthBearer {
			c.add(pos("UseClaimAsBearerToken"), "%s: UseClaimAsBearerToken needs AuthenticationType Bearer", where)
		}
		if !hasInput(tp, bearerClaim, false) {
			c.add(pos("UseClaimAsBearerToken"), "%s: UseClaimAsBearerToken claim %s must also be an InputClaim", where, bearerClaim)
		}
	}
	if pc := md["ClaimUsedForRequestPayload"]; pc != "" {
		if sendIn != "" && sendIn != "Body" {
			c.add(pos("ClaimUsedForRequestPayload"), "%s: ClaimUsedForRequestPayload needs SendClaimsIn Body", where)
		}
		if !hasInput(tp, pc, false) {
			c.add(pos("ClaimUsedForRequestPayload"), "%s: ClaimUsedForRequestPayload claim %s must also be an InputClaim", where, pc)
		}
	}
}
