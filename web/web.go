// Package web holds the files Gatehouse serves that are not Go: seed 004's
// single-page app and the npm packages it loads (@azure/msal-browser 2.11.1
// — the seed's — and 5.29.0, Bootstrap 5.0.0-beta2), vendored so that
// `gatehouse dev` needs no network and no CDN. Licences sit beside each
// package.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed spa
var spa embed.FS

// MSAL versions vendored; the seed uses the first.
var MSALVersions = []string{"2.11.1", "5.29.0"}

// SPAConfig is the seed's config object.
type SPAConfig struct {
	ClientID       string
	Authority      string // https://host/tfp/{tenant}.onmicrosoft.com/{policy}
	RedirectURI    string
	KnownAuthority string // host[:port] of the authority
	Scope          string
	APIBaseURL     string // the gateway API base; the page calls {APIBaseURL}/hello
	MSALVersion    string
	Base           string // path of the site root relative to the page ("" or "../")
	// NeedsInitialize: MSAL.js 3+ must be initialize()d before use; the
	// seed's 2.x page stays exactly as written.
	NeedsInitialize bool
}

// WriteSPA writes the site into dir: the seed's page at index.html with
// MSAL 2.11.1, the same page with MSAL 5 at msal5/index.html (a second
// redirect URI), and the vendored packages.
func WriteSPA(dir string, c SPAConfig, msal5RedirectURI string) error {
	if err := fs.WalkDir(spa, "spa/vendor", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := spa.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(p[len("spa/"):]))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	}); err != nil {
		return err
	}
	tmpl, err := template.ParseFS(spa, "spa/index.html.tmpl")
	if err != nil {
		return err
	}
	write := func(file string, c SPAConfig) error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		return tmpl.Execute(f, c)
	}
	c.MSALVersion, c.Base = MSALVersions[0], ""
	if err := write(filepath.Join(dir, "index.html"), c); err != nil {
		return err
	}
	c.MSALVersion, c.Base, c.RedirectURI, c.NeedsInitialize = MSALVersions[1], "../", msal5RedirectURI, true
	return write(filepath.Join(dir, "msal5", "index.html"), c)
}
