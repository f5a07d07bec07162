package console

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/connector"
	"github.com/gatehouse/gatehouse/internal/clientip"
	"github.com/gatehouse/gatehouse/keys"
)

type homeView struct {
	Users      int        `json:"users"`
	Apps       int        `json:"apps"`
	Flows      int        `json:"flows"`
	Policies   int        `json:"policies"`
	Keys       int        `json:"keyContainers"`
	Connectors int        `json:"connectors"`
	Recent     []auditRow `json:"recent"`
}

func (c *Console) home(q *req) {
	v := homeView{Apps: len(c.o.Registry.Apps), Flows: len(c.o.Registry.Flows)}
	_ = c.graphCall(q, http.MethodGet, "users/$count", nil, nil, &v.Users)
	if c.o.Policies != nil {
		v.Policies = len(c.o.Policies.List())
	}
	if cs, err := c.o.Keys.List(q.r.Context()); err == nil {
		v.Keys = len(cs)
	}
	if c.o.Connectors != nil {
		v.Connectors = len(c.o.Connectors.Names())
	}
	v.Recent, _, _ = c.auditRows(q, "directoryAudits", url.Values{"$top": {"5"}})
	c.render(q.w, q.r, q, http.StatusOK, "home", "Overview", v)
}

// appView is an app registration as the console shows it (no secret:
// the registry holds only their hashes).
type appView struct {
	Name             string   `json:"name"`
	ClientID         string   `json:"clientId"`
	Type             string   `json:"type"`
	IdentifierURI    string   `json:"identifierUri,omitempty"`
	RedirectURIs     []string `json:"redirectUris,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	Permissions      []string `json:"permissions,omitempty"`
	GraphPermissions []string `json:"graphPermissions,omitempty"`
	Secrets          int      `json:"clientSecrets"`
	Console          bool     `json:"console,omitempty"` // the console's own registration
}

// apps lists the app registrations (they are configuration: read-only).
func (c *Console) apps(q *req) {
	own := c.clientID
	var list []appView
	for _, a := range c.o.Registry.Apps {
		list = append(list, appView{Name: a.Name, ClientID: a.ClientID, Type: a.Type, IdentifierURI: a.IdentifierURI,
			RedirectURIs: a.RedirectURIs, Scopes: a.Scopes, Permissions: a.Permissions, GraphPermissions: a.GraphPermissions,
			Secrets: len(a.SecretHashes), Console: a.ClientID == own})
	}
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i].Name) < strings.ToLower(list[j].Name) })
	c.render(q.w, q.r, q, http.StatusOK, "apps", "App registrations", list)
}

type flowView struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Providers  string `json:"identityProviders,omitempty"`
	MFA        string `json:"mfa,omitempty"`
	Connectors string `json:"apiConnectors,omitempty"`
	Custom     bool   `json:"custom"`
}

type flowsView struct {
	Flows    []flowView `json:"flows"`
	Policies []Policy   `json:"policies"`
}

// flows lists the user flows and custom policies.
func (c *Console) flows(q *req) {
	var v flowsView
	for _, f := range c.o.Registry.Flows {
		fv := flowView{Name: f.Name, Type: f.Type, Providers: strings.Join(f.IdentityProviders, ", "), Custom: f.Custom}
		if f.MFA != nil {
			fv.MFA = strings.Join(f.MFA.Methods, ", ") + " (" + f.MFA.Enforcement + ")"
		}
		var steps []string
		for step, name := range f.APIConnectors {
			steps = append(steps, step+": "+name)
		}
		sort.Strings(steps)
		fv.Connectors = strings.Join(steps, ", ")
		v.Flows = append(v.Flows, fv)
	}
	sort.Slice(v.Flows, func(i, j int) bool { return strings.ToLower(v.Flows[i].Name) < strings.ToLower(v.Flows[j].Name) })
	if c.o.Policies != nil {
		v.Policies = c.o.Policies.List()
	}
	c.render(q.w, q.r, q, http.StatusOK, "flows", "User flows and custom policies", v)
}

type policyView struct {
	Policy   Policy        `json:"policy"`
	Source   string        `json:"source"`
	Problems []PolicyError `json:"problems,omitempty"`
	Message  string        `json:"message,omitempty"`
}

// policies serves /policies/{id} (view) and POST /policies (upload).
func (c *Console) policies(q *req, segs []string) {
	if c.o.Policies == nil {
		c.problem(q.w, q.r, q, http.StatusNotFound, "This tenant has no custom policies (identity.customPolicies).")
		return
	}
	if q.r.Method == http.MethodPost && len(segs) == 0 {
		c.policyUpload(q)
		return
	}
	if len(segs) != 1 || q.r.Method == http.MethodPost {
		c.problem(q.w, q.r, q, http.StatusNotFound, "There is no such page in the console.")
		return
	}
	i := slices.IndexFunc(c.o.Policies.List(), func(p Policy) bool { return strings.EqualFold(p.ID, segs[0]) })
	if i < 0 {
		c.problem(q.w, q.r, q, http.StatusNotFound, "There is no custom policy "+quote(segs[0])+".")
		return
	}
	v := policyView{Policy: c.o.Policies.List()[i], Message: doneMessages[q.r.URL.Query().Get("done")]}
	if b, err := readPolicy(v.Policy.Path); err != nil {
		v.Problems = []PolicyError{{File: v.Policy.Path, Message: err.Error()}}
	} else {
		v.Source = string(b)
	}
	c.render(q.w, q.r, q, http.StatusOK, "policy", v.Policy.ID, v)
}

type uploadView struct {
	File     string        `json:"file"`
	PolicyID string        `json:"policyId,omitempty"`
	Problems []PolicyError `json:"problems,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// policyUpload checks an uploaded policy file with the others and, when
// it has no problem, saves it over the configured file of its PolicyId.
func (c *Console) policyUpload(q *req) {
	f, hdr, err := q.r.FormFile("policy")
	if err != nil {
		c.render(q.w, q.r, q, http.StatusBadRequest, "upload", "Policy upload", uploadView{Error: "Choose a policy file (XML) to upload."})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxForm))
	if err != nil {
		c.problem(q.w, q.r, q, http.StatusBadRequest, "The file could not be read.")
		return
	}
	v := uploadView{File: hdr.Filename}
	v.PolicyID, v.Problems = c.o.Policies.Check(hdr.Filename, data)
	if len(v.Problems) == 0 {
		path, err := c.o.Policies.Save(v.PolicyID, data)
		if err != nil {
			v.Error = err.Error()
		} else {
			c.o.Audit(q.r.Context(), "policies.upload", actor(q), slog.String("target", v.PolicyID), slog.String("file", path),
				slog.String("ip", clientip.Host(q.r.RemoteAddr)))
			c.done(q, "/policies/"+url.PathEscape(v.PolicyID), "policy", http.StatusOK, map[string]string{"policyId": v.PolicyID, "file": path})
			return
		}
	}
	c.render(q.w, q.r, q, http.StatusBadRequest, "upload", "Policy upload", v)
}

type keysView struct {
	Containers []*keys.Container `json:"containers"`
	Error      string            `json:"error,omitempty"`
	Message    string            `json:"message,omitempty"`
}

// keys lists the policy keys (never their material) and adds one.
func (c *Console) keys(q *req) {
	v := keysView{Message: doneMessages[q.r.URL.Query().Get("done")]}
	status := http.StatusOK
	if q.r.Method == http.MethodPost {
		k, err := c.addKey(q)
		if err == nil {
			c.o.Audit(q.r.Context(), "keys.add", actor(q), slog.String("container", k.Container), slog.String("kid", k.KID),
				slog.String("type", k.Type), slog.String("ip", clientip.Host(q.r.RemoteAddr)))
			if c.o.InvalidateKeys != nil {
				c.o.InvalidateKeys()
			}
			c.done(q, "/keys", "key", http.StatusCreated, k)
			return
		}
		v.Error, status = err.Error(), http.StatusBadRequest
	}
	cs, err := c.o.Keys.List(q.r.Context())
	if err != nil {
		c.storeFailed(q.w, q.r, err)
		return
	}
	for _, ct := range cs {
		if !ct.Backup {
			v.Containers = append(v.Containers, ct)
		}
	}
	c.render(q.w, q.r, q, status, "keys", "Policy keys", v)
}

// addKey adds a key from the form: generated (rsa, ec, oct), a secret
// typed in, or a certificate (.pfx) uploaded, with optional activation
// and expiry dates.
func (c *Console) addKey(q *req) (*keys.Key, error) {
	form := q.r.PostFormValue
	o := keys.AddOptions{Use: form("use"), Origin: "console"}
	var err error
	if s := form("notBefore"); s != "" {
		if o.NotBefore, err = keys.ParseTime(s); err != nil {
			return nil, formProblem("Activation date: " + err.Error())
		}
	}
	if s := form("expires"); s != "" {
		if o.Expires, err = keys.ParseTime(s); err != nil {
			return nil, formProblem("Expiry date: " + err.Error())
		}
	}
	name, ctx := strings.TrimSpace(form("container")), q.r.Context()
	if name == "" {
		return nil, formProblem("Give the key container a name (B2C_1A_ is added when missing).")
	}
	switch form("kind") {
	case "rsa", "ec", "oct":
		return c.o.Keys.Generate(ctx, name, form("kind"), o)
	case "secret":
		if form("secret") == "" {
			return nil, formProblem("Type the secret.")
		}
		return c.o.Keys.AddSecret(ctx, name, []byte(form("secret")), o)
	case "pfx":
		f, _, err := q.r.FormFile("pfx")
		if err != nil {
			return nil, formProblem("Choose the certificate file (.pfx).")
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxForm))
		if err != nil {
			return nil, err
		}
		return c.o.Keys.AddPFX(ctx, name, b, form("pfxPassword"), o)
	}
	return nil, formProblem("Choose how to make the key: generate (RSA, EC or secret), type a secret, or upload a certificate.")
}

// formProblem is a mistake in a form, shown to the administrator as it is.
type formProblem string

func (f formProblem) Error() string { return string(f) }

type connectorRow struct {
	Name   string `json:"name"`
	Target string `json:"endpoint"`
	Auth   string `json:"authenticationType"`
}

type connectorsView struct {
	Connectors []connectorRow `json:"connectors"`
	Test       *testResult    `json:"test,omitempty"`
}

// testResult is a connector test call's outcome (the body is the API's,
// cut at 4 KiB).
type testResult struct {
	Connector string `json:"connector"`
	Status    int    `json:"status"`
	Duration  string `json:"duration"`
	Attempts  int    `json:"attempts"`
	Body      string `json:"body"`
	Error     string `json:"error,omitempty"`
}

// connectors lists the API connectors and makes test calls.
func (c *Console) connectors(q *req, segs []string) {
	var v connectorsView
	if c.o.Connectors != nil {
		for _, n := range c.o.Connectors.Names() {
			cl := c.o.Connectors.Client(n)
			v.Connectors = append(v.Connectors, connectorRow{Name: n, Target: cl.Target(), Auth: string(cl.AuthType())})
		}
	}
	if q.r.Method == http.MethodPost {
		if len(segs) != 2 || segs[1] != "test" || c.o.Connectors == nil || c.o.Connectors.Client(segs[0]) == nil {
			c.problem(q.w, q.r, q, http.StatusNotFound, "There is no such API connector.")
			return
		}
		v.Test = c.testConnector(q, segs[0])
		if q.api {
			writeJSON(q.w, http.StatusOK, v.Test)
			return
		}
	} else if len(segs) != 0 {
		c.problem(q.w, q.r, q, http.StatusNotFound, "There is no such page in the console.")
		return
	}
	c.render(q.w, q.r, q, http.StatusOK, "connectors", "API connectors", v)
}

// testConnector calls a connector with B2C's request shape and sample
// claims (the form's email and step), as the portal's test does.
func (c *Console) testConnector(q *req, name string) *testResult {
	email := strings.TrimSpace(q.r.PostFormValue("email"))
	if email == "" {
		email = "test.user@example.com"
	}
	step := q.r.PostFormValue("step")
	if step == "" {
		step = "PostAttributeCollection"
	}
	body := map[string]any{"email": email, "displayName": "Test User", "givenName": "Test", "surname": "User",
		"step": step, "client_id": c.clientID, "ui_locales": "en-US",
		"identities": []identity{{SignInType: "emailAddress", Issuer: c.o.Registry.Domain(), IssuerAssignedID: email}}}
	ctx, cancel := context.WithTimeout(q.r.Context(), 30*time.Second)
	defer cancel()
	res, err := c.o.Connectors.Client(name).Call(ctx, connector.Request{JSON: body})
	t := &testResult{Connector: name}
	if res != nil {
		t.Status, t.Duration, t.Attempts = res.Status, res.Duration.Round(time.Millisecond).String(), res.Attempts
		t.Body = string(res.Body[:min(len(res.Body), 4096)])
	}
	if err != nil {
		t.Error = err.Error()
	}
	c.o.Audit(q.r.Context(), "connectors.test", actor(q), slog.String("connector", name), slog.Int("status", t.Status),
		slog.String("ip", clientip.Host(q.r.RemoteAddr)))
	return t
}

// auditRow is an audit log line.
type auditRow struct {
	Time        string `json:"time"`
	Event       string `json:"event"`
	Actor       string `json:"by"`
	Target      string `json:"target"`
	IP          string `json:"ipAddress"`
	Correlation string `json:"correlationId"`
	Details     string `json:"details"`
	Failed      bool   `json:"failed"`
}

type auditView struct {
	Log     string     `json:"log"` // signIns | directoryAudits
	Caption string     `json:"-"`
	Rows    []auditRow `json:"entries"`
	Next    string     `json:"next,omitempty"`
	User    string     `json:"user,omitempty"`
}

// audit shows the audit log: directory changes or sign-ins, newest first,
// optionally for one user.
func (c *Console) audit(q *req) {
	v := auditView{Log: q.r.URL.Query().Get("log"), User: strings.TrimSpace(q.r.URL.Query().Get("user"))}
	v.Caption = "Sign-ins, newest first"
	if v.Log != "signIns" {
		v.Log, v.Caption = "directoryAudits", "Directory changes, newest first"
	}
	gq := url.Values{"$top": {"50"}}
	if t := q.r.URL.Query().Get("next"); t != "" {
		gq.Set("$skiptoken", t)
	}
	if v.User != "" {
		gq.Set("$filter", "userId eq "+odataQuote(v.User))
	}
	var err error
	if v.Rows, v.Next, err = c.auditRows(q, v.Log, gq); err != nil {
		if c.graphFailed(q, err) {
			c.problem(q.w, q.r, q, http.StatusBadRequest, err.Error())
		}
		return
	}
	c.render(q.w, q.r, q, http.StatusOK, "audit", "Audit log", v)
}

// auditRows reads one page of /auditLogs/{log}.
func (c *Console) auditRows(q *req, log string, gq url.Values) ([]auditRow, string, error) {
	var page struct {
		Value []map[string]any `json:"value"`
		Next  string           `json:"@odata.nextLink"`
	}
	if err := c.graphCall(q, http.MethodGet, "auditLogs/"+log, gq, nil, &page); err != nil {
		return nil, "", err
	}
	rows := make([]auditRow, 0, len(page.Value))
	for _, e := range page.Value {
		rows = append(rows, auditRowOf(log, e))
	}
	return rows, skipToken(page.Next), nil
}

func auditRowOf(log string, e map[string]any) auditRow {
	s := func(m any, k string) string {
		if mm, ok := m.(map[string]any); ok {
			if v, ok := mm[k].(string); ok {
				return v
			}
		}
		return ""
	}
	if log == "signIns" {
		code, _ := e["status"].(map[string]any)["errorCode"].(json.Number)
		return auditRow{Time: s(e, "createdDateTime"), Event: s(e, "eventType"), Actor: s(e, "appId"), Target: s(e, "userId"),
			IP: s(e, "ipAddress"), Correlation: s(e, "correlationId"), Details: s(e["status"], "failureReason"),
			Failed: code != "" && code != "0"}
	}
	by := ""
	if app, ok := e["initiatedBy"].(map[string]any)["app"]; ok {
		by = "app " + s(app, "appId")
	} else if u, ok := e["initiatedBy"].(map[string]any)["user"]; ok {
		by = "user " + cmp.Or(s(u, "userPrincipalName"), s(u, "id"))
	}
	var target string
	if ts, ok := e["targetResources"].([]any); ok && len(ts) > 0 {
		target = s(ts[0], "id")
	}
	var details []string
	ip := ""
	ds, _ := e["additionalDetails"].([]any)
	for _, d := range ds {
		if k := s(d, "key"); k == "ip" {
			ip = s(d, "value")
		} else {
			details = append(details, k+"="+s(d, "value"))
		}
	}
	return auditRow{Time: s(e, "activityDateTime"), Event: s(e, "activityDisplayName"), Actor: by, Target: target, IP: ip,
		Correlation: s(e, "correlationId"), Details: strings.Join(details, ", "), Failed: s(e, "result") == "failure"}
}

// signIns is a sign-in history (the user page's).
func (c *Console) signIns(q *req, gq url.Values) ([]signInRow, error) {
	rows, _, err := c.auditRows(q, "signIns", gq)
	out := make([]signInRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, signInRow{Time: r.Time, App: r.Actor, IP: r.IP, Result: cmp.Or(r.Details, "Success"), Event: r.Event, Failed: r.Failed})
	}
	return out, err
}
