package connector

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

// memCompleter stands in for the provider.
type memCompleter struct {
	mu  sync.Mutex
	txs map[string]*tenant.Transaction
}

func (c *memCompleter) Transaction(_ context.Context, id string) (*tenant.Transaction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, ok := c.txs[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	cp := *tx
	return &cp, nil
}

func (c *memCompleter) SaveTransaction(_ context.Context, tx *tenant.Transaction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *tx
	c.txs[tx.ID] = &cp
	return nil
}

func (c *memCompleter) Complete(w http.ResponseWriter, _ *http.Request, _ *tenant.Transaction, res tenant.Result) {
	fmt.Fprintf(w, "COMPLETE new=%v", res.NewUser)
}

func (c *memCompleter) Fail(w http.ResponseWriter, _ *http.Request, _ *tenant.Transaction, code, _ string) {
	fmt.Fprintf(w, "FAIL %s", code)
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"/?>`)
	createRE = regexp.MustCompile(`<a href="([^"]+)" id="createAccount"`)
	actionRE = regexp.MustCompile(`<form id="[^"]+" method="post" action="([^"]+)"`)
)

// TestHostedPagesWithRealConnector signs up through the hosted pages with a
// postAttributeCollection connector on a real HTTPS API (basic auth).
func TestHostedPagesWithRealConnector(t *testing.T) {
	p := newPKI(t)
	var down bool
	var mu sync.Mutex
	a := newAPI(t, p, tls.VerifyClientCertIfGiven, func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		isDown := down
		mu.Unlock()
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		if u, pw, _ := r.BasicAuth(); u != "svc" || pw != "pw" {
			writeJSON(w, 401, `{}`)
			return
		}
		if isDown {
			writeJSON(w, 503, `{}`)
			return
		}
		if body["postalCode"] != "12349" {
			writeJSON(w, 400, `{"version":"1.0.0","status":400,"action":"ValidationError","userMessage":"Please enter a valid Postal Code."}`)
			return
		}
		writeJSON(w, 200, `{"version":"1.0.0","action":"Continue","extension_b2cext000011112222333344445555_loyalty":"gold"}`)
	})
	res := &resolver{secrets: map[string]string{"B2C_1A_User": "svc", "B2C_1A_Pass": "pw"}}
	cs, err := New([]config.APIConnector{{Name: "validate", EndpointURL: a.srv.URL + "/validate", AuthenticationType: "basic",
		Username: "User", Password: "Pass"}}, Options{Keys: res, DeploymentMode: Production, ExtensionsAppID: appID,
		Transport: p.transport(), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pages := httptest.NewUnstartedServer(nil)
	reg := &tenant.Registry{TenantName: "contoso", TenantID: "00000000-0000-0000-0000-000000000001",
		PublicURL: "http://" + pages.Listener.Addr().String(), Flows: map[string]*tenant.Flow{}}
	flow := &tenant.Flow{Name: "B2C_1_api", Type: "signUpOrSignIn", Attributes: []string{"displayName", "postalCode", "extension_loyalty"},
		APIConnectors: map[string]string{"postAttributeCollection": "validate"}}
	reg.Flows["b2c_1_api"] = flow
	comp := &memCompleter{txs: map[string]*tenant.Transaction{}}
	flows, err := userflow.New(userflow.Options{Registry: reg, Store: st, Completer: comp, Connectors: cs, Key: []byte("k"),
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1}, 0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	pages.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flows.ServeHTTP(w, r.WithContext(tenant.WithFlow(r.Context(), flow)))
	})
	pages.Start()
	t.Cleanup(pages.Close)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(u string) string {
		t.Helper()
		r, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	submit := func(page string, fields map[string]string) string {
		t.Helper()
		m := actionRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no form:\n%s", page)
		}
		form := url.Values{"action": {"continue"}}
		for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
			form.Set(h[1], h[2])
		}
		for k, v := range fields {
			form.Set(k, v)
		}
		r, err := hc.PostForm(pages.URL+html.UnescapeString(m[1]), form)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	users := func() int {
		us, err := st.Users().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	signupPage := func(id string) string {
		_ = comp.SaveTransaction(ctx, &tenant.Transaction{ID: id, Flow: "B2C_1_api",
			Request: tenant.AuthRequest{ClientID: "spa-client", RedirectURI: "https://app.example/cb", UILocales: "en-US"}})
		signIn := get(pages.URL + "/contoso.onmicrosoft.com/B2C_1_api/api/CombinedSigninAndSignup/unified?tx=" + id)
		m := createRE.FindStringSubmatch(signIn)
		if m == nil {
			t.Fatalf("no sign-up link:\n%s", signIn)
		}
		return get(pages.URL + html.UnescapeString(m[1]))
	}
	fields := map[string]string{"email": "dana@example.com", "newPassword": "Passw0rd!x", "reenterPassword": "Passw0rd!x",
		"displayName": "Dana", "postalCode": "00000", "extension_loyalty": "none"}

	page := submit(signupPage("tx1"), fields)
	if !strings.Contains(page, "Please enter a valid Postal Code.") || !strings.Contains(page, `value="00000"`) ||
		!strings.Contains(page, `value="dana@example.com"`) || users() != 0 {
		t.Fatalf("ValidationError page (users %d):\n%s", users(), page)
	}
	body := a.last().Body
	if body["step"] != "PostAttributeCollection" || body["client_id"] != "spa-client" || body["ui_locales"] != "en-US" ||
		body["extension_b2cext000011112222333344445555_loyalty"] != "none" || body["email"] != "dana@example.com" {
		t.Fatalf("request body: %v", body)
	}

	// A failing API: a clear message, no user.
	mu.Lock()
	down = true
	mu.Unlock()
	out := submit(page, map[string]string{"email": "dana@example.com", "newPassword": "Passw0rd!x", "reenterPassword": "Passw0rd!x",
		"displayName": "Dana", "postalCode": "12349", "extension_loyalty": "none"})
	if !strings.Contains(out, "There was a problem with your request. Please try again later.") || users() != 0 {
		t.Fatalf("failing API (users %d):\n%s", users(), out)
	}
	mu.Lock()
	down = false
	mu.Unlock()

	// Fixed input: Continue with an overridden claim; the user is created.
	fields["postalCode"] = "12349"
	out = submit(signupPage("tx2"), fields)
	if !strings.Contains(out, "COMPLETE new=true") {
		t.Fatalf("after fixing:\n%s", out)
	}
	u, err := st.Users().GetByEmail(ctx, "dana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Attributes["extension_loyalty"] != "gold" || u.Attributes["postalCode"] != "12349" || u.DisplayName != "Dana" {
		t.Fatalf("user: %+v", u)
	}
}
