package trustframework

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"
)

// RequestInfo is the authorization request a journey runs for: the values
// of claim resolvers ({OIDC:ClientId}, {Culture:RFC5646} ...).
type RequestInfo struct {
	ClientID, Nonce, Prompt, Scope, LoginHint, DomainHint, MaxAge, RedirectURI string
	// Query is the authorize request's query ({OAUTH-KV:name}).
	Query         map[string]string
	Culture       string // e.g. en-US (ui_locales)
	CorrelationID string
	IPAddress     string
	// TenantObjectID is the tenant's id ({Policy:TenantObjectId}).
	TenantObjectID string
	// PolicyID is set by RunJourneyAfterAuth and TokenClaims.
	PolicyID       string
	TenantID       string
	DeploymentMode string
	Now            time.Time
}

type infoKey struct{}

// WithRequestInfo attaches the request's values for claim resolvers.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, ri)
}

func info(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(infoKey{}).(RequestInfo)
	return ri
}

func withPolicy(ctx context.Context, rp *RelyingParty) context.Context {
	ri := info(ctx)
	ri.PolicyID, ri.TenantID, ri.DeploymentMode = rp.PolicyID, rp.TenantID, rp.DeploymentMode
	return WithRequestInfo(ctx, ri)
}

var resolverRE = regexp.MustCompile(`\{(Culture|Policy|OIDC|Context|Claim|OAUTH-KV):([^{}]+)\}`)

var lcids = map[string]string{"en-US": "1033", "en-GB": "2057", "de-DE": "1031", "fr-FR": "1036", "es-ES": "3082",
	"it-IT": "1040", "nl-NL": "1043", "pt-BR": "1046", "ja-JP": "1041", "zh-CN": "2052"}

var resolverFuncs = map[string]func(ri RequestInfo) string{
	"Culture:LanguageName":          func(ri RequestInfo) string { l, _, _ := strings.Cut(culture(ri), "-"); return l },
	"Culture:RegionName":            func(ri RequestInfo) string { _, r, _ := strings.Cut(culture(ri), "-"); return r },
	"Culture:RFC5646":               culture,
	"Culture:LCID":                  func(ri RequestInfo) string { return lcids[culture(ri)] },
	"Policy:PolicyId":               func(ri RequestInfo) string { return ri.PolicyID },
	"Policy:TenantObjectId":         func(ri RequestInfo) string { return ri.TenantObjectID },
	"Policy:TrustFrameworkTenantId": func(ri RequestInfo) string { return ri.TenantID },
	"Policy:RelyingPartyTenantId":   func(ri RequestInfo) string { return ri.TenantID },
	"OIDC:ClientId":                 func(ri RequestInfo) string { return ri.ClientID },
	"OIDC:Nonce":                    func(ri RequestInfo) string { return ri.Nonce },
	"OIDC:Prompt":                   func(ri RequestInfo) string { return ri.Prompt },
	"OIDC:Scope":                    func(ri RequestInfo) string { return ri.Scope },
	"OIDC:LoginHint":                func(ri RequestInfo) string { return ri.LoginHint },
	"OIDC:DomainHint":               func(ri RequestInfo) string { return ri.DomainHint },
	"OIDC:MaxAge":                   func(ri RequestInfo) string { return ri.MaxAge },
	"OIDC:RedirectUri":              func(ri RequestInfo) string { return ri.RedirectURI },
	"Context:CorrelationId":         func(ri RequestInfo) string { return ri.CorrelationID },
	"Context:IPAddress":             func(ri RequestInfo) string { return ri.IPAddress },
	"Context:DeploymentMode":        func(ri RequestInfo) string { return ri.DeploymentMode },
	"Context:DateTimeInUtc": func(ri RequestInfo) string {
		t := ri.Now
		if t.IsZero() {
			t = time.Now()
		}
		return t.UTC().Format("01/02/2006 15:04:05")
	},
}

func culture(ri RequestInfo) string {
	if ri.Culture == "" {
		return "en-US"
	}
	return ri.Culture
}

func knownResolver(kind, name string) bool {
	if kind == "Claim" || kind == "OAUTH-KV" {
		return name != ""
	}
	_, ok := resolverFuncs[kind+":"+name]
	return ok
}

func supportedResolvers() []string {
	out := []string{"{Claim:<claim type>}", "{OAUTH-KV:<query parameter>}"}
	for k := range resolverFuncs {
		out = append(out, "{"+k+"}")
	}
	sort.Strings(out)
	return out
}

// resolve replaces claim resolvers in s.
func resolve(ctx context.Context, s string, bag ClaimsBag) string {
	ri := info(ctx)
	return resolverRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := resolverRE.FindStringSubmatch(m)
		switch sub[1] {
		case "Claim":
			return valueString(bag[sub[2]])
		case "OAUTH-KV":
			return ri.Query[sub[2]]
		}
		if f := resolverFuncs[sub[1]+":"+sub[2]]; f != nil {
			return f(ri)
		}
		return m
	})
}
