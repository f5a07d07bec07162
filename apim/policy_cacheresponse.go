package apim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/gatehouse/gatehouse/internal/cache"
)

// cache-lookup (inbound) and cache-store (outbound): whole-response
// caching, as APIM does it.
//
//   - Only GET requests are looked up and stored, and a request with an
//     Authorization header only when allow-private-response-caching is
//     true.
//   - The key is the API, the operation, the path, the query parameters
//     named by vary-by-query-parameter (all of them when none is named —
//     safer than APIM's documentation, which leaves it open), the headers
//     named by vary-by-header, and with vary-by-developer the
//     subscription.
//   - A hit answers with the stored status, headers and body: the rest of
//     inbound and the backend are skipped, outbound runs (and cache-store
//     there does nothing).
//   - cache-store keeps 200 responses (any status with cache-response
//     true) for duration seconds. It never keeps a response that sets a
//     cookie, says Cache-Control: no-store or private, was streamed
//     unbuffered, or is over maxCachedResponse bytes.
//   - downstream-caching-type private|public adds Cache-Control with
//     max-age (the time left, on a hit) and, unless must-revalidate is
//     false, must-revalidate.
//   - caching-type internal uses this process's memory; external and
//     prefer-external (the default) the shared cache: Redis when the
//     gateway has gateway.redis, else the same memory.
//   - A cache that fails is a miss; the request goes on.

func init() {
	Register(Spec{Name: "cache-lookup", Compile: compileCacheLookup})
	Register(Spec{Name: "cache-store", Compile: compileCacheStore})
}

// maxCachedResponse bounds a stored response body.
const maxCachedResponse = 1 << 20

// errServedFromCache is cache-lookup's hit: inbound stops, the backend is
// skipped, outbound runs.
var errServedFromCache = fmt.Errorf("%w (from the cache)", ErrReturn)

type cacheLookup struct {
	internal                  bool // caching-type="internal"
	varyDeveloper, varyGroups bool
	allowPrivate              Value
	downstream                string // none | private | public
	mustRevalidate            bool
	headers, query            []string
}

type cacheStore struct {
	duration, cacheResponse Value
}

func compileCacheLookup(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "vary-by-developer", "vary-by-developer-groups", "caching-type", "downstream-caching-type",
		"must-revalidate", "allow-private-response-caching"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "vary-by-header", "vary-by-query-parameter"); err != nil {
		return nil, err
	}
	p := &cacheLookup{downstream: "none", mustRevalidate: true}
	for _, a := range []struct {
		name string
		dst  *bool
	}{{"vary-by-developer", &p.varyDeveloper}, {"vary-by-developer-groups", &p.varyGroups}, {"must-revalidate", &p.mustRevalidate}} {
		v, err := b.ConstAttr(n, a.name)
		if err != nil {
			return nil, err
		}
		if !v.Set {
			continue
		}
		bv, err := strconv.ParseBool(v.Lit)
		if err != nil {
			return nil, b.Errorf(v.Pos, "cache-lookup: %s must be true or false, not %q", a.name, v.Lit)
		}
		*a.dst = bv
	}
	ct, err := b.ConstAttr(n, "caching-type")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, ct, "caching-type", cachingTypes...); err != nil {
		return nil, err
	}
	p.internal = ct.Lit == "internal"
	dc, err := b.ConstAttr(n, "downstream-caching-type")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, dc, "downstream-caching-type", "none", "private", "public"); err != nil {
		return nil, err
	}
	if dc.Set {
		p.downstream = dc.Lit
	}
	if p.allowPrivate, err = b.Attr(n, "allow-private-response-caching"); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		if err := b.Attrs(c); err != nil {
			return nil, err
		}
		name := strings.TrimSpace(c.Text)
		if name == "" {
			return nil, b.Errorf(c.Pos, "cache-lookup: <%s> needs a name", c.Name)
		}
		// APIM takes several names separated by ';' in one element too.
		for _, part := range strings.Split(name, ";") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if c.Name == "vary-by-header" {
				p.headers = append(p.headers, http.CanonicalHeaderKey(part))
			} else {
				p.query = append(p.query, part)
			}
		}
	}
	sort.Strings(p.headers)
	sort.Strings(p.query)
	return p, nil
}

func compileCacheStore(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "duration", "cache-response"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	d, err := b.Attr(n, "duration")
	if err != nil {
		return nil, err
	}
	if !d.Set {
		return nil, b.Errorf(n.Pos, "cache-store: attribute \"duration\" is required (seconds)")
	}
	cr, err := b.Attr(n, "cache-response")
	if err != nil {
		return nil, err
	}
	return &cacheStore{duration: d, cacheResponse: cr}, nil
}

// cachedResponse is a stored response.
type cachedResponse struct {
	Status  int         `json:"s"`
	Reason  string      `json:"r,omitempty"`
	Header  http.Header `json:"h"`
	Body    []byte      `json:"b"`
	Expires int64       `json:"e"` // Unix seconds
}

// responseCacheState is what cache-lookup leaves for cache-store.
type responseCacheState struct {
	key    string // "" when this request is not cacheable
	hit    bool
	lookup *cacheLookup
	store  cache.Store
}

// store is the cache of p's caching-type (nil: none).
func (p *cacheLookup) store(env *Env) cache.Store {
	if env == nil {
		return nil
	}
	if p.internal && env.LocalCache != nil {
		return env.LocalCache
	}
	return env.Cache
}

func (p *cacheLookup) Exec(x *Exec) error {
	x.respCache = &responseCacheState{lookup: p, store: p.store(x.Env)}
	if x.respCache.store == nil || x.Ctx.Request.Method != http.MethodGet {
		return nil
	}
	if x.Ctx.Request.Headers.Get("Authorization") != "" {
		allow, err := x.Bool(p.allowPrivate, false)
		if err != nil || !allow {
			return err
		}
	}
	x.respCache.key = p.key(x)
	data, ok, err := x.respCache.store.Get(x.Context(), x.respCache.key)
	if err != nil {
		x.logger().Warn("apim: cache-lookup failed; treated as a miss", "error", err.Error())
		return nil
	}
	var c cachedResponse
	if !ok || json.Unmarshal(data, &c) != nil {
		return nil
	}
	x.respCache.hit = true
	r := &expr.Response{StatusCode: c.Status, StatusReason: c.Reason, Headers: c.Header}
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	r.Body = expr.NewBody(c.Body)
	p.downstreamHeaders(r.Headers, time.Unix(c.Expires, 0).Sub(x.Now()))
	x.dropStream()
	x.Ctx.Response = r
	return errServedFromCache
}

// key is the request's cache key (see the package comment above).
func (p *cacheLookup) key(x *Exec) string {
	c := x.Ctx
	var b strings.Builder
	b.WriteString("apim:response:")
	if c.Api != nil {
		b.WriteString(c.Api.Id + "|" + c.Api.Path)
	}
	if c.Operation != nil {
		b.WriteString("|" + c.Operation.Id)
	}
	u := c.Request.OriginalUrl
	if u == nil {
		u = c.Request.Url
	}
	b.WriteString("|" + u.Path + "?")
	q := u.Query
	names := p.query
	if len(names) == 0 {
		for k := range q {
			names = append(names, k)
		}
		sort.Strings(names)
	}
	for _, k := range names {
		for _, v := range q[k] {
			b.WriteString(escapeKey(k) + "=" + escapeKey(v) + "&")
		}
	}
	for _, h := range p.headers {
		b.WriteString("|" + h + ":" + escapeKey(strings.Join(c.Request.Headers.Values(h), ",")))
	}
	if p.varyDeveloper || p.varyGroups {
		b.WriteString("|dev:")
		if c.Subscription != nil {
			b.WriteString(c.Subscription.Id)
		}
	}
	return b.String()
}

// keyEscaper keeps the key's separators unambiguous.
var keyEscaper = strings.NewReplacer("%", "%25", "|", "%7C", "&", "%26", "=", "%3D", ":", "%3A")

func escapeKey(s string) string { return keyEscaper.Replace(s) }

// downstreamHeaders sets Cache-Control for downstream caches.
func (p *cacheLookup) downstreamHeaders(h http.Header, left time.Duration) {
	if p.downstream == "none" {
		return
	}
	v := p.downstream + ", max-age=" + strconv.Itoa(max(0, int(left/time.Second)))
	if p.mustRevalidate {
		v += ", must-revalidate"
	}
	h.Set("Cache-Control", v)
}

func (p *cacheStore) Exec(x *Exec) error {
	st := x.respCache
	if st == nil || st.hit || st.key == "" || st.store == nil {
		return nil
	}
	secs, err := x.Int(p.duration, 0)
	if err != nil {
		return err
	}
	r := x.ensureResponse()
	anyStatus, err := x.Bool(p.cacheResponse, false)
	if err != nil {
		return err
	}
	cc := strings.ToLower(strings.Join(r.Headers.Values("Cache-Control"), ","))
	switch {
	case secs <= 0, !anyStatus && r.StatusCode != http.StatusOK, x.respStream != nil,
		len(r.Headers.Values("Set-Cookie")) > 0, strings.Contains(cc, "no-store"), strings.Contains(cc, "private"):
		return nil
	}
	body := bodyBytes(r.Body)
	if len(body) > maxCachedResponse {
		return nil
	}
	d := time.Duration(secs) * time.Second
	c := cachedResponse{Status: r.StatusCode, Reason: r.StatusReason, Header: r.Headers.Clone(), Body: body, Expires: x.Now().Add(d).Unix()}
	for _, h := range []string{"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Date"} {
		c.Header.Del(h)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	if err := st.store.Set(x.Context(), st.key, data, d); err != nil {
		x.logger().Warn("apim: cache-store failed", "error", err.Error())
	}
	st.lookup.downstreamHeaders(r.Headers, d)
	return nil
}

// servedFromCache reports whether inbound ended on a cache hit.
func servedFromCache(err error) bool { return errors.Is(err, errServedFromCache) }
