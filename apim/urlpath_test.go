package apim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestResolvePath(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"", "/", ""},
		{"/", "/", ""},
		{"/a/b", "/a/b", ""},
		{"/a/b/", "/a/b/", ""},
		{"/a/../b", "/b", ""},
		{"/a/./b", "/a/b", ""},
		{"/a/b/..", "/a/", ""},
		{"/a/b/.", "/a/b/", ""},
		{"/../../x", "/x", ""}, // never above the root
		{"/a/%2e%2e/b", "/b", ""},
		{"/a/%2E%2e/b", "/b", ""},
		{"/a/.%2E/b", "/b", ""},
		{"/a/%2e./b", "/b", ""},
		{"/a/%2e/b", "/a/b", ""},
		{"/files//..//secret.txt", "/files//secret.txt", ""}, // RFC 3986 §5.2.4
		{"/a%2Fb/c", "/a%2Fb/c", ""},                         // an encoded slash stays encoded
		{"/a%2fb", "/a%2fb", ""},
		{"/a%5Cb", "/a%5Cb", ""},
		{"/x/..%2fsecret.txt", "", "behind an encoded slash"},
		{"/x/%2e%2e%2fsecret.txt", "", "behind an encoded slash"},
		{"/x/..%2F..%2Fsecret", "", "behind an encoded slash"},
		{"/x/a%2F..%2Fb", "", "behind an encoded slash"},
		{"/x/..%5csecret", "", "behind an encoded slash"},
		{"/x/%2e%5C", "", "behind an encoded slash"},
		{"/x/%00", "", "control character"},
		{"/x/a%0Ab", "", "control character"},
		{"/x/%1f", "", "control character"},
		{"/x/%7F", "", "control character"},
		{"/x/a\x01", "", "control character"},
		{"/x/%zz", "", "malformed"},
		{"/x/%2", "", "malformed"},
		{`/x/a"b%2Fc`, "/x/a%22b%2Fc", ""}, // escaped so url.URL keeps the raw form
		{"/x/caf\xc3\xa9", "/x/caf%C3%A9", ""},
		{"/x/a;b=c,d", "/x/a;b=c,d", ""},
	} {
		segs, err := ResolvePath(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ResolvePath(%q) = %q, %v; want an error with %q", c.in, segs, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolvePath(%q): %v", c.in, err)
			continue
		}
		if got := JoinSegments("", segs); got != c.want {
			t.Errorf("ResolvePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// rawBackend records the request target of every request exactly as it
// arrived.
type rawBackend struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string
}

func newRawBackend(t *testing.T) *rawBackend {
	t.Helper()
	b := &rawBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.targets = append(b.targets, r.RequestURI)
		b.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *rawBackend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.targets...)
}

func TestRewriteURINeverLeavesTheBasePath(t *testing.T) {
	be := newRawBackend(t)
	for _, c := range []struct {
		name, template string
		matched        map[string]string // decoded
		escaped        map[string]string // as sent (path parameters)
		status         int
		target         string
	}{
		{"path parameter hiding ../ behind %2f", "/items/{id}",
			map[string]string{"id": "../../secret.txt"}, map[string]string{"id": "..%2f..%2fsecret.txt"}, 400, ""},
		{"query parameter holding ../", "/items/{id}",
			map[string]string{"id": "../../secret.txt"}, nil, 400, ""},
		{"query parameter that is ..", "/items/{id}/x",
			map[string]string{"id": ".."}, nil, 400, ""},
		{"query parameter with a slash stays one segment", "/items/{id}",
			map[string]string{"id": "a/b"}, nil, 200, "/svc/items/a%2Fb"},
		{"wildcard keeps its slashes and its %2F", "/files/{rest}",
			map[string]string{"rest": "a/b/c"}, map[string]string{"rest": "a/b%2Fc"}, 200, "/svc/files/a/b%2Fc"},
		{"dot segments of the template stay below the base path", "/../../../secret.txt",
			nil, nil, 200, "/svc/secret.txt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(be.seen())
			p := tPipe(t, `<policies><inbound><base/><rewrite-uri template="`+c.template+`"/></inbound></policies>`)
			x := tExec(t, &tBackend{Server: be.Server}, tGet("/anything"), nil)
			for k, v := range c.matched {
				x.Ctx.Request.MatchedParameters[k] = v
			}
			x.Ctx.Request.EscapedParameters = c.escaped
			w := newRecorder()
			p.Serve(w, x)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, c.status, w.Body.String())
			}
			seen := be.seen()[before:]
			if c.status != 200 {
				if len(seen) != 0 {
					t.Fatalf("the backend was called: %q", seen)
				}
				if !strings.Contains(w.Body.String(), `"statusCode":400`) {
					t.Errorf("body %s, want APIM's error shape", w.Body.String())
				}
				return
			}
			if len(seen) != 1 || seen[0] != c.target {
				t.Fatalf("backend saw %q, want %q", seen, c.target)
			}
		})
	}
}

func TestSetBackendServiceKeepsEncodedSlashes(t *testing.T) {
	be := newRawBackend(t)
	p := tPipe(t, `<policies><inbound><base/><set-backend-service base-url="`+be.URL+`/v2/../v3"/></inbound></policies>`)
	x := tExec(t, &tBackend{Server: be.Server}, tGet("/files/a%2Fb"), nil)
	w := newRecorder()
	p.Serve(w, x)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if seen := be.seen(); len(seen) != 1 || seen[0] != "/v3/files/a%2Fb" {
		t.Fatalf("backend saw %q, want /v3/files/a%%2Fb", seen)
	}
}
