package identity

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/identity/idmetrics"
)

// route is a request resolved against B2C's URL layout.
type route struct {
	tfp       bool   // MSAL's /tfp/{tenant}/{policy}/... form
	tenantSeg string // the tenant segment as requested
	policySeg string // the policy as requested (path segment or ?p=)
	queryForm bool   // policy given as ?p=
	flow      *Flow
	endpoint  string // config | authorize | token | logout | keys | api
}

var endpoints = map[string]string{
	"v2.0/.well-known/openid-configuration": "config",
	"oauth2/v2.0/authorize":                 "authorize",
	"oauth2/v2.0/token":                     "token",
	"oauth2/v2.0/logout":                    "logout",
	"discovery/v2.0/keys":                   "keys",
	"samlp/metadata":                        "samlmetadata",
}

// ServeHTTP routes B2C's URLs:
//
//	/{tenant}/{policy}/v2.0/.well-known/openid-configuration
//	/{tenant}/{policy}/oauth2/v2.0/authorize|token|logout
//	/{tenant}/{policy}/discovery/v2.0/keys
//	/{tenant}/{policy}/api/...                 (the hosted pages)
//	/{tenant}/oauth2/authresp                  (identity providers' answers, to the hosted pages)
//	/{tenant}/{policy}/samlp/metadata?idptp=   (SAML service-provider metadata, from the hosted pages)
//	/{tenant}/v2.0/.well-known/openid-configuration?p={policy}, /{tenant}/oauth2/v2.0/...?p=, /{tenant}/discovery/v2.0/keys?p=
//	/tfp/{tenant}/{policy}/...                 (MSAL's form)
//
// {tenant} is name.onmicrosoft.com, the bare name or the tenant GUID;
// policy names are case-insensitive.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.opts.Metrics != nil {
		w = p.opts.Metrics.Wrap(w)
		defer idmetrics.Done(w)
	}
	if !p.capRequest(w, r) {
		return
	}
	path := r.URL.Path
	if p.basePath != "" {
		rest, ok := strings.CutPrefix(path, p.basePath)
		if !ok || (rest != "" && rest[0] != '/') {
			p.notFound(w, r)
			return
		}
		path = rest
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	rt := &route{}
	if len(segs) > 0 && strings.EqualFold(segs[0], "tfp") {
		rt.tfp = true
		segs = segs[1:]
	}
	if len(segs) < 2 {
		p.notFound(w, r)
		return
	}
	rt.tenantSeg = segs[0]
	if !p.knownTenant(rt.tenantSeg) {
		writeOAuthError(w, http.StatusNotFound, "invalid_tenant",
			"The tenant '"+rt.tenantSeg+"' is not known here (use {name}.onmicrosoft.com, {name} or the tenant id).")
		return
	}
	segs = segs[1:]
	switch strings.ToLower(segs[0]) {
	case "v2.0", "oauth2", "discovery":
		rt.queryForm = true
		rt.policySeg = r.URL.Query().Get("p")
	default:
		rt.policySeg = segs[0]
		segs = segs[1:]
	}
	rest := strings.Join(segs, "/")
	if rt.queryForm && strings.EqualFold(rest, "oauth2/authresp") && !rt.tfp {
		// Identity providers send the browser back here (B2C's redirect
		// URI); the transaction in the state parameter names the policy.
		idmetrics.SetEndpoint(w, "authresp")
		// (An id_token may be longer than a page field: the request's
		// 64 KiB body cap bounds it.)
		pages := p.pages()
		if pages == nil {
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the hosted pages are not configured")
			return
		}
		pages.ServeHTTP(w, r)
		return
	}
	if !rt.queryForm && len(segs) > 0 && segs[0] == "api" {
		rt.endpoint = "api"
	} else {
		rt.endpoint = endpoints[strings.ToLower(rest)]
	}
	if rt.endpoint == "" {
		p.notFound(w, r)
		return
	}
	if rt.endpoint == "api" || rt.endpoint == "samlmetadata" {
		idmetrics.SetEndpoint(w, "pages")
	} else {
		idmetrics.SetEndpoint(w, rt.endpoint)
	}
	if rt.policySeg == "" && rt.queryForm && rt.endpoint == "token" {
		// The tenant-level token endpoint: Microsoft Graph tokens.
		p.token(w, r, rt)
		return
	}
	if rt.policySeg == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			b2cDesc(p.now(), "AADB2C90022", "The request does not name a policy (a path segment or the p parameter)."))
		return
	}
	rt.flow = p.reg.Flows[strings.ToLower(rt.policySeg)]
	if rt.flow == nil {
		writeOAuthError(w, http.StatusNotFound, "invalid_request",
			b2cDesc(p.now(), "AADB2C90022", "Unable to return metadata for the policy '"+rt.policySeg+"' in tenant '"+p.reg.Domain()+"'."))
		return
	}
	switch rt.endpoint {
	case "config":
		p.discovery(w, r, rt)
	case "keys":
		p.jwks(w, r)
	case "authorize":
		p.authorize(w, r, rt)
	case "token":
		p.token(w, r, rt)
	case "logout":
		p.logout(w, r, rt)
	case "api", "samlmetadata":
		pages := p.pages()
		if pages == nil {
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the hosted pages are not configured")
			return
		}
		if !p.capPageForm(w, r) {
			return
		}
		pages.ServeHTTP(w, r.WithContext(WithFlow(r.Context(), rt.flow)))
	}
}

func (p *Provider) knownTenant(seg string) bool {
	s := strings.ToLower(seg)
	return s == p.reg.TenantName || s == p.reg.Domain() || s == p.reg.TenantID
}

func (p *Provider) notFound(w http.ResponseWriter, _ *http.Request) {
	writeOAuthError(w, http.StatusNotFound, "not_found", "No such endpoint. Endpoints are /{tenant}/{policy}/oauth2/v2.0/authorize|token|logout, /{tenant}/{policy}/v2.0/.well-known/openid-configuration and /{tenant}/{policy}/discovery/v2.0/keys.")
}

// endpointURL is an endpoint in the URL form of the request.
func (p *Provider) endpointURL(rt *route, ep string) string {
	b := p.reg.PublicURL
	if rt.tfp {
		b += "/tfp"
	}
	b += "/" + rt.tenantSeg
	if rt.queryForm {
		return b + "/" + ep + "?p=" + rt.policySeg
	}
	return b + "/" + rt.policySeg + "/" + ep
}
