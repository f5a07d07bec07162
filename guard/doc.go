// Package guard is an App Service "EasyAuth"-style guard for a backend
// (typically an Azure Functions app): access restrictions by client IP,
// Azure Functions function keys, and bearer-token validation, in that
// order, with the caller passed on in App Service's X-MS-CLIENT-PRINCIPAL
// headers. Use it as an http.Handler middleware ([Guard.Middleware]) or as
// a sidecar reverse proxy ([NewReverseProxy]); `gatehouse serve` runs the
// latter for a config's guard: section.
//
// # Configuration
//
// [Config] is plain Go (no YAML types):
//
//   - AccessRestrictions: [Rule]s {Name, Action Allow|Deny, Prefix
//     (IPv4 or IPv6 CIDR), Priority}. Empty = every client is allowed.
//   - TrustedProxies: peers whose X-Forwarded-For is believed.
//   - FunctionKeys (function name → key; the names "", "_host" and
//     "default" are host keys) and HostKeys. Empty = no key required.
//   - Auth: OpenIDConfiguration, Audiences (required), Issuers (empty =
//     the configuration's issuer), Unauthenticated Return401 |
//     RedirectToLogin with LoginURL, Realm, ClockSkew, and an optional
//     shared token.Discovery or HTTPClient. Nil = no token check.
//
// The guard reserves no paths: every request goes through the same checks.
//
// # Order of checks
//
//  1. Access restrictions. The client is the TCP peer or, when the peer
//     is in TrustedProxies, the right-most X-Forwarded-For address that is
//     not a trusted proxy (the gateway's rule). Rules are evaluated by
//     Priority (lower first; ties keep their order), first match wins.
//     When no rule matches, the request is denied if any Allow rule exists
//     (App Service's implicit "deny all") and allowed otherwise. A peer
//     address that cannot be parsed is denied whenever rules exist.
//     Denied: 403 with an HTML page modelled on App Service's ("Error 403 -
//     Forbidden", "The web app you have attempted to reach has blocked your
//     access.").
//  2. Function key (authLevel function). The key is read from the
//     x-functions-key header or else the `code` query parameter (name
//     case-insensitive); more than one value is refused. The function is
//     the first path segment after /api/ (case-insensitive); the key must
//     be that function's key or a host key; paths outside /api/{function}
//     accept only host keys. Keys are compared in constant time over
//     SHA-256 digests, so neither content nor length leaks. Missing or
//     wrong key: 401 with an empty body (as the Functions host). When keys
//     are configured, a non-canonical path (dot or empty segments,
//     backslashes, %2F or %5C) is refused with 400 since the upstream
//     could route it to another function. Both the header and every `code`
//     parameter are removed before the request goes on. Without keys
//     configured, neither is checked nor removed (an upstream Functions
//     host may check them itself).
//  3. Token (App Service authentication). The Authorization: Bearer token
//     is validated by the token package (the gateway's validate-jwt
//     engine): signature with keys from the OpenID configuration's
//     jwks_uri, exp required, audience and issuer. Missing or invalid:
//     401 with "WWW-Authenticate: Bearer realm="<host>"" plus
//     `, error="invalid_token"` when a token was presented (RFC 6750 §3.1
//     leaves the error out for requests without credentials), body "You do
//     not have permission to view this directory or page.". Under
//     RedirectToLogin, browser navigations without a token (GET/HEAD,
//     Sec-Fetch-Mode navigate or Accept text/html, no X-Requested-With:
//     XMLHttpRequest) get 302 to LoginURL with post_login_redirect_uri set
//     to the original path and query; API calls still get 401.
//
// # Headers passed on
//
// Every incoming header whose name starts with X-MS-CLIENT-PRINCIPAL or
// X-MS-TOKEN- (underscores counted as dashes) is removed first, whatever
// the configuration: only the guard sets them. After a valid token:
//
//   - X-MS-CLIENT-PRINCIPAL: base64 of JSON {"auth_typ":"aad","claims":
//     [{"typ","val"}...],"name_typ","role_typ":"roles"}. Claims keep the
//     token's names (no WS-Federation URI mapping); arrays become one
//     claim per element; numbers and booleans their JSON text.
//     [DecodePrincipal] reads it.
//   - X-MS-CLIENT-PRINCIPAL-ID: oid, else sub.
//   - X-MS-CLIENT-PRINCIPAL-NAME: the first of preferred_username, upn,
//     email, emails, name, unique_name (name_typ names it).
//   - X-MS-CLIENT-PRINCIPAL-IDP: "aad".
//   - X-MS-TOKEN-AAD-ACCESS-TOKEN: the presented bearer token. (App
//     Service fills the X-MS-TOKEN-AAD-* headers from its token store after
//     a browser login; the guard has no token store, so a bearer call's own
//     token is what it passes. No ID token is passed.)
//
// The Authorization header itself is passed on unchanged. Handlers behind
// the middleware also get [Info] (client IP, function, validated token)
// from [InfoFrom].
//
// [NewReverseProxy] additionally sets X-Forwarded-For (the trusted chain
// plus the peer; an untrusted peer's own X-Forwarded-For is dropped),
// X-Forwarded-Host and X-Forwarded-Proto, and removes hop-by-hop headers.
package guard
