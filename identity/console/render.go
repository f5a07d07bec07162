package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed console.css
var stylesheet []byte

// pages are the parsed templates, one set per page (layout + page).
type pages struct{ byName map[string]*template.Template }

var funcs = template.FuncMap{
	// when shows an RFC 3339 time as "2026-12-03 17:30 UTC".
	"when": func(v any) string {
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			t, _ = time.Parse(time.RFC3339, x)
		}
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join":      strings.Join,
	"hasPrefix": strings.HasPrefix,
	// dict passes several values to a shared template.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

func newPages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// page is what every template gets.
type page struct {
	Title  string
	Base   string // the console's path
	Nav    string // the section shown (users, apps, ...)
	Admin  string // the signed-in administrator ("" before sign-in)
	CSRF   string
	Tenant string
	Data   any
}

// render writes a page, or its data as JSON for the admin API.
func (c *Console) render(w http.ResponseWriter, r *http.Request, q *req, status int, name, title string, data any) {
	if q != nil && q.api {
		writeJSON(w, status, data)
		return
	}
	p := page{Title: title, Base: c.path, Nav: name, Tenant: c.o.Registry.Domain(), Data: data}
	if i := strings.IndexAny(name, "-"); i > 0 {
		p.Nav = name[:i]
	}
	switch p.Nav {
	case "user":
		p.Nav = "users"
	case "policy", "upload":
		p.Nav = "flows"
	}
	if q != nil {
		p.Admin, p.CSRF = q.admin.DisplayName, q.s.CSRF
		if p.Admin == "" {
			p.Admin = q.admin.Email
		}
	}
	var buf bytes.Buffer
	if err := c.pages.byName[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.o.Logger.Error("console: template", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// problem answers an error: a page, or the admin API's JSON error (the
// shape of the directory API's).
func (c *Console) problem(w http.ResponseWriter, r *http.Request, q *req, status int, msg string) {
	if q != nil && q.api || q == nil && strings.Contains(r.URL.Path, "/console/api/") {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": strings.ReplaceAll(http.StatusText(status), " ", ""), "message": msg}})
		return
	}
	title := http.StatusText(status)
	c.render(w, r, q, status, "problem", title, map[string]string{"Message": msg})
}

func (c *Console) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	c.o.Logger.Error("console: store", "err", err)
	status := http.StatusInternalServerError
	if errors.Is(err, store.ErrUnavailable) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	c.problem(w, r, nil, status, "The directory is not available right now. Try again shortly.")
}

// done ends a change: the page redirects (POST, then GET) to location
// with a confirmation; the admin API answers with data.
func (c *Console) done(q *req, location, key string, status int, data any) {
	if q.api {
		writeJSON(q.w, status, data)
		return
	}
	http.Redirect(q.w, q.r, c.path+location+"?done="+key, http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readPolicy reads a configured policy file for the policy page.
func readPolicy(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.New("the file could not be read")
	}
	return b, nil
}
