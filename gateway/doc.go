// Package gateway is Gatehouse's API gateway: Azure API Management's
// request routing, subscription keys and policy pipelines in front of
// backends.
//
// # API
//
//	gw, err := gateway.New(cfg.Gateway, gateway.Options{Logger: log})
//	http.ListenAndServe(cfg.Gateway.Listen, gw)
//	err = gw.Reload(newCfg.Gateway) // keeps the old config on error
//	gw.Close()
//
// New and Reload load everything before serving: the global policy,
// every product, API and operation policy, the fragments, named values
// (env:/file: values are secret) and client certificates (PFX encrypted
// with TripleDES-SHA1 or AES-256, or PEM certificate + key; kept by id and by
// upper-case SHA-1 thumbprint). All problems of all files are returned
// together as config.Errors, one "file:line:col: message" per line. The
// effective pipeline of every (no product | product) × API × operation is
// built at load; nothing is merged per request.
//
// # Routing (as APIM)
//
//   - The API is the one whose path is the longest prefix of the request
//     path, compared whole segment by whole segment, case-insensitively. An
//     API with an empty path catches what no other API matches.
//   - The operation is matched by method ("*" = any) and urlTemplate:
//     literal segments (case-insensitive), {param} segments (one non-empty
//     segment), segments mixing text and parameters ("{name}.{ext}"), and a
//     final {*rest} wildcard (the rest of the path, possibly empty). The
//     query part of a template ("/get?a={b}") requires the parameter to be
//     present and captures its value. When several operations match, the
//     most specific wins: segment by segment literal > mixed > {param} >
//     {*wildcard}, then more query conditions, then an exact method over
//     "*". Captured values fill context.Request.MatchedParameters.
//   - An API without operations accepts every method and path; its
//     context.Operation is {Id: "*", Name: "*", Method: <request method>,
//     UrlTemplate: "/*"} (APIM's wildcard operations).
//   - No API: 404 {"statusCode":404,"message":"Resource not found"}. API
//     but no operation: 404 with "Unable to match incoming request to an
//     operation.". Global policies do not run for unmatched requests.
//   - The backend URL (context.Request.Url) is the API's serviceUrl followed
//     by the request path after the API path and the query, without the
//     subscription key. URL paths in context are decoded (as url.URL.Path);
//     what is sent keeps the caller's escaping, so %2F stays %2F.
//   - Before routing, dot segments ("." and "..", raw or percent-encoded in
//     any case) are resolved as RFC 3986 does (as APIM's .NET front end
//     does): "/a/../b" is routed, checked and logged as "/b", and
//     context.Request.OriginalUrl is the resolved path. Nothing reaches a
//     backend above the API's serviceUrl path or outside the path its
//     operation matched. 400 (APIM's JSON error) for a dot segment behind
//     an encoded slash or backslash ("..%2F"), control characters (raw or
//     %00-%1F, %7F) and malformed escapes. See apim/urlpath.go.
//
// # Subscription keys (APIM's rules)
//
// The key is read from the header Ocp-Apim-Subscription-Key, else the
// query parameter subscription-key (renamed per API by
// subscriptionKeyHeader / subscriptionKeyQuery); an empty value counts as
// absent. Both are removed before forwarding. A product is "open" when its
// subscriptionRequired is false; products and APIs default to true.
//
//   - A key is sent: it must belong to a subscription of a product that
//     includes the API, else 401 "Access denied due to invalid subscription
//     key. ...". This holds even when the API needs no key (APIM answers
//     401 to a key it cannot place). The request then runs in that
//     product's context: its policy, context.Product, context.Subscription.
//   - No key, and an open product includes the API: allowed in the
//     context of that product (the first open one in config order);
//     context.Subscription is null.
//   - No key, no open product, the API's subscriptionRequired is true: 401
//     "Access denied due to missing subscription key. ...".
//   - No key, no open product, subscriptionRequired false: allowed without
//     product (context.Product and context.Subscription are null).
//
// Keys are found by SHA-256 in a map and then compared with
// crypto/subtle.ConstantTimeCompare; they are never logged.
//
// CORS preflights (OPTIONS with Origin and Access-Control-Request-Method)
// reach the pipeline without a key and without an OPTIONS operation, so the
// cors policy answers them: they run in the pipeline of the operation
// matching the requested method (or the API's when none does), in the open
// product's context or none. When the API has an explicit OPTIONS
// operation matching the request, the request is routed and checked like
// any other and the cors preflight answer is skipped (as APIM).
//
// # Request context
//
// Per request the gateway builds the policy `context`: Request (Method,
// OriginalUrl as the client called it, Url for the backend, a copy of the
// headers without the key header, IpAddress, Body (read only when a policy
// or an expression needs it, else streamed to the backend; see body.go for
// the size cap and the memory budget), MatchedParameters, the TLS client
// certificate), Api {Id and
// Name = the API name, Path, ServiceUrl, Revision "1", IsCurrentRevision},
// Operation {Id and Name = the operation name, Method, UrlTemplate},
// Product, Subscription, Deployment {GatewayId "self-hosted", Region
// (Options.Region or "local"), ServiceName "gatehouse"}, RequestId (a random
// GUID), Timestamp and Variables.
//
// IpAddress is the TCP peer. When the peer is in gateway.trustedProxies,
// X-Forwarded-For is read from the right and the first address that is not
// a trusted proxy is the caller; X-Forwarded-Proto and X-Forwarded-Host
// then also shape OriginalUrl.
//
// # Reserved paths
//
// GET (or HEAD) /healthz and /readyz are answered by the gateway before API
// routing; an API whose path is exactly one of them, or /metrics, is a load
// error.
//
//   - /healthz: 200 "ok" while the process runs.
//   - /readyz: 200 {"status":"ready"} when a configuration is loaded and,
//     with gateway.redis, Redis answers a PING within one second; else 503
//     {"status":"not ready","reason":"..."}.
//   - metrics (gatehouse_gateway_requests_total{api,operation,code},
//     gatehouse_gateway_request_duration_seconds{api},
//     gatehouse_gateway_policy_rejections_total{policy,reason},
//     gatehouse_gateway_config_reloads_total{result}) are registered in
//     Options.Registry and served by `gatehouse serve`'s admin listener,
//     never on the gateway's own.
//
// # Reload
//
// Reload builds the new configuration completely, then swaps it atomically
// (an atomic.Pointer); requests in flight finish on the old one. Counter
// and cache stores are kept when the Redis settings are unchanged, so
// in-memory rate limits and quotas survive reloads; replaced stores (a
// Redis client) are closed once no request uses them.
//
// # Logs
//
// Info for start and reloads, Warn/Error for failures, one Debug line per
// request (method, path without query, API, operation, status, duration).
// Subscription keys, Authorization headers and secret named values are
// never logged.
package gateway
