package apim

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// ---- harness shared by the access-control policy tests (ac*)

// acT0 is the harness clock's start.
var acT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type acHarness struct {
	t       *testing.T
	backend *httptest.Server
	hits    atomic.Int64
	env     *Env
	mu      sync.Mutex
	now     time.Time
}

// newACHarness starts a backend answering 200 {"ok":true} (?status=N sets
// the status, ?size=N pads the body to N bytes) and an Env with an
// in-memory limiter on a manual clock.
func newACHarness(t *testing.T) *acHarness {
	t.Helper()
	h := &acHarness{t: t, now: acT0}
	h.backend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		status := http.StatusOK
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		body := `{"ok":true}`
		if s := r.URL.Query().Get("size"); s != "" {
			n, _ := strconv.Atoi(s)
			body = strings.Repeat("x", n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(h.backend.Close)
	lim := ratelimit.NewMemory(ratelimit.WithClock(h.clock), ratelimit.WithSweepInterval(0))
	t.Cleanup(func() { _ = lim.Close() })
	h.env = &Env{Limiter: lim, Now: h.clock}
	return h
}

func (h *acHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *acHarness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// acDoc wraps an inbound section into a document that forwards to the
// backend; on-error copies LastError's reason into X-Reason.
func acDoc(inbound string) string {
	return `<policies>
	<inbound>` + inbound + `</inbound>
	<backend><forward-request /></backend>
	<outbound />
	<on-error>
		<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
	</on-error>
</policies>`
}

func acLoad(t *testing.T, scope Scope, doc string) *Pipeline {
	t.Helper()
	d, err := ParseDocument("test.xml", []byte(doc), scope, &LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return NewPipeline(d)
}

// acLoadErr asserts that doc fails to load with a message containing want.
func acLoadErr(t *testing.T, scope Scope, doc, want string) {
	t.Helper()
	_, err := ParseDocument("test.xml", []byte(doc), scope, &LoadOptions{})
	if err == nil {
		t.Fatalf("load succeeded, want error containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("load error %q does not contain %q", err, want)
	}
}

type acReq struct {
	method  string
	target  string // path and query on the gateway, e.g. /echo/thing?x=1
	headers map[string]string
	ip      string // caller address, default 192.0.2.1
	body    string
	noSub   bool                // no subscription (and no product)
	sub     *expr.Subscription  // subscription, default sub1 created at acT0-10m
	mod     func(*expr.Context) // last changes to the context
	check   func(*expr.Context) // inspects the context after Serve
}

func acURL(raw string) *expr.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = map[string]int{"http": 80, "https": 443}[u.Scheme]
	}
	return &expr.URL{Scheme: u.Scheme, Host: u.Hostname(), Port: port, Path: u.Path, Query: u.Query()}
}

// do serves one request through p.
func (h *acHarness) do(p *Pipeline, q acReq) *httptest.ResponseRecorder {
	h.t.Helper()
	if q.method == "" {
		q.method = http.MethodGet
	}
	if q.target == "" {
		q.target = "/echo/thing"
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r := httptest.NewRequest(q.method, "http://gw.example"+q.target, body)
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	if q.ip == "" {
		q.ip = "192.0.2.1"
	}
	r.RemoteAddr = net.JoinHostPort(q.ip, "40000")
	c := &expr.Context{
		Request: &expr.Request{
			Method:      q.method,
			Url:         acURL(h.backend.URL + strings.TrimPrefix(q.target, "/echo")),
			OriginalUrl: acURL("http://gw.example" + q.target),
			Headers:     r.Header.Clone(),
			IpAddress:   q.ip,
		},
		Variables: expr.Variables{},
		Api:       &expr.Api{Id: "echo-api", Name: "Echo API", Path: "echo", ServiceUrl: acURL(h.backend.URL)},
		Operation: &expr.Operation{Id: "get-thing", Name: "Get thing", Method: q.method, UrlTemplate: "/thing"},
		RequestId: "00000000-0000-0000-0000-000000000001",
		Timestamp: h.clock(),
		Now:       h.clock,
	}
	if q.body != "" {
		c.Request.Body = expr.NewBody([]byte(q.body))
	}
	if !q.noSub {
		c.Product = &expr.Product{Id: "starter", Name: "Starter", SubscriptionRequired: true, State: "Published"}
		c.Subscription = q.sub
		if c.Subscription == nil {
			c.Subscription = &expr.Subscription{Id: "sub1", Key: "key1", Name: "sub1", CreatedDate: acT0.Add(-10 * time.Minute)}
		}
	}
	if q.mod != nil {
		q.mod(c)
	}
	w := httptest.NewRecorder()
	p.Serve(w, NewExec(h.env, r, c))
	if q.check != nil {
		q.check(c)
	}
	return w
}

// acExpect asserts status and, when body is not empty, the exact body.
func acExpect(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d (body %s, headers %v)", w.Code, status, w.Body.String(), w.Header())
	}
	if body != "" && w.Body.String() != body {
		t.Fatalf("body %s, want %s", w.Body.String(), body)
	}
}

func acHeader(t *testing.T, w *httptest.ResponseRecorder, name, want string) {
	t.Helper()
	if got := w.Header().Get(name); got != want {
		t.Fatalf("header %s = %q, want %q (all: %v)", name, got, want, w.Header())
	}
}

// ---- check-header

func TestCheckHeaderAccess(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<check-header name="X-Client" failed-check-httpcode="401" failed-check-error-message="Client not allowed" ignore-case="true">
			<value>Alpha</value>
			<value>beta</value>
		</check-header>`))
	acExpect(t, h.do(p, acReq{}), 401, `{"statusCode":401,"message":"Client not allowed"}`)
	w := h.do(p, acReq{headers: map[string]string{"X-Client": "gamma"}})
	acExpect(t, w, 401, `{"statusCode":401,"message":"Client not allowed"}`)
	acHeader(t, w, "X-Reason", "HeaderValueNotAllowed")
	acExpect(t, h.do(p, acReq{headers: map[string]string{"X-Client": "ALPHA"}}), 200, `{"ok":true}`)
	acExpect(t, h.do(p, acReq{headers: map[string]string{"x-client": "Beta"}}), 200, "")
	if n := h.hits.Load(); n != 2 {
		t.Fatalf("backend hits %d, want 2", n)
	}
}

func TestCheckHeaderDefaultMessages(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<check-header name="X-Version" failed-check-httpcode="400" failed-check-error-message="" ignore-case="false">
			<value>v1</value>
		</check-header>`))
	w := h.do(p, acReq{})
	acExpect(t, w, 400, `{"statusCode":400,"message":"Header X-Version was not found in the request. Access denied."}`)
	acHeader(t, w, "X-Reason", "HeaderNotFound")
	acExpect(t, h.do(p, acReq{headers: map[string]string{"X-Version": "V1"}}), 400,
		`{"statusCode":400,"message":"Header X-Version value of V1 is not allowed. Access denied."}`)
	acExpect(t, h.do(p, acReq{headers: map[string]string{"X-Version": "v1"}}), 200, "")
}

func TestCheckHeaderPresence(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="Not authorized" ignore-case="false" />`))
	acExpect(t, h.do(p, acReq{}), 401, `{"statusCode":401,"message":"Not authorized"}`)
	acExpect(t, h.do(p, acReq{headers: map[string]string{"Authorization": "anything"}}), 200, "")
}

func TestCheckHeaderLoadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ xml, want string }{
		{`<check-header name="A" failed-check-httpcode="401" ignore-case="true" />`, `"failed-check-error-message" is required`},
		{`<check-header name="A" failed-check-httpcode="401" failed-check-error-message="m" />`, `"ignore-case" is required`},
		{`<check-header name="A" failed-check-httpcode="abc" failed-check-error-message="m" ignore-case="true" />`, `failed-check-httpcode must be an HTTP status code`},
		{`<check-header name="A" failed-check-httpcode="401" failed-check-error-message="m" ignore-case="maybe" />`, `ignore-case must be true or false`},
		{`<check-header name="A" failed-check-httpcode="401" failed-check-error-message="m" ignore-case="true" bogus="1" />`, `unknown attribute "bogus"`},
		{`<check-header name="A" failed-check-httpcode="401" failed-check-error-message="m" ignore-case="true"><val>x</val></check-header>`, `unknown element <val>`},
	} {
		acLoadErr(t, ScopeAPI, acDoc(c.xml), c.want)
	}
	acLoadErr(t, ScopeAPI, `<policies><inbound/><backend/><outbound><check-header name="A" failed-check-httpcode="401" failed-check-error-message="m" ignore-case="true" /></outbound><on-error/></policies>`, "not allowed in section outbound")
}
