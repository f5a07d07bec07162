package testutil

import (
	"crypto/tls"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser drives Gatehouse's hosted pages the way a person with a
// JavaScript-free browser would: it keeps cookies, follows links by element
// id and submits forms by the id of the button pressed. Redirects to a URL
// with the prefix StopAt are not followed (that is the app's callback).
type Browser struct {
	t      testing.TB
	Client *http.Client
	StopAt string
}

// Page is one response.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string
}

// NewBrowser makes a browser with an empty cookie jar. tlsConfig may be nil.
func NewBrowser(t testing.TB, stopAt string, tlsConfig *tls.Config) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{t: t, StopAt: stopAt}
	b.Client = &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConfig},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.StopAt != "" && strings.HasPrefix(req.URL.String(), b.StopAt) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

func (b *Browser) do(req *http.Request) *Page {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Get loads a URL.
func (b *Browser) Get(u string) *Page {
	b.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var (
	formRE   = regexp.MustCompile(`<form[^>]*\baction="([^"]*)"`)
	inputRE  = regexp.MustCompile(`<input\s[^>]*>`)
	anchorRE = regexp.MustCompile(`<a\s[^>]*>`)
	attrRE   = regexp.MustCompile(`\s([a-zA-Z_:-]+)="([^"]*)"`)
)

// attrs are a tag's attributes, in any order (an HTML serializer may
// reorder them).
func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = a[2]
	}
	return m
}

// hidden is the page's hidden inputs: name -> value (HTML-unescaped).
func hidden(body string) map[string]string {
	m := map[string]string{}
	for _, tag := range inputRE.FindAllString(body, -1) {
		if a := attrs(tag); a["type"] == "hidden" && a["name"] != "" {
			m[a["name"]] = html.UnescapeString(a["value"])
		}
	}
	return m
}

// Follow clicks the link with element id linkID.
func (b *Browser) Follow(p *Page, linkID string) *Page {
	b.t.Helper()
	for _, tag := range anchorRE.FindAllString(p.Body, -1) {
		if a := attrs(tag); a["id"] == linkID {
			u, err := p.URL.Parse(html.UnescapeString(a["href"]))
			if err != nil {
				b.t.Fatal(err)
			}
			return b.Get(u.String())
		}
	}
	b.t.Fatalf("no link #%s on %s:\n%s", linkID, p.URL, p.Body)
	return nil
}

// Submit fills the page's form with fields and presses the button with
// element id button.
func (b *Browser) Submit(p *Page, button string, fields map[string]string) *Page {
	b.t.Helper()
	m := formRE.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("no form on %s (status %d):\n%s", p.URL, p.Status, p.Body)
	}
	if !strings.Contains(p.Body, `id="`+button+`"`) {
		b.t.Fatalf("no button #%s on %s:\n%s", button, p.URL, p.Body)
	}
	form := url.Values{"action": {button}}
	for k, v := range hidden(p.Body) {
		form.Set(k, v)
	}
	for k, v := range fields {
		form.Set(k, v)
	}
	target, err := p.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// Callback returns the query of the redirect that stopped at StopAt
// (code, state, error ...), failing the test when the page is not one.
func (b *Browser) Callback(p *Page) url.Values {
	b.t.Helper()
	loc := p.Header.Get("Location")
	if p.Status < 300 || p.Status > 399 || !strings.HasPrefix(loc, b.StopAt) {
		b.t.Fatalf("expected a redirect to %s, got %d %s:\n%s", b.StopAt, p.Status, loc, p.Body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u.Query()
}
