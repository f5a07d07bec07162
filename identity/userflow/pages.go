package userflow

import (
	"html/template"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/config"
)

var attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

func validAttrName(s string) bool { return attrNameRE.MatchString(s) }

// ---- theme and templates ----

type theme struct {
	Logo                string
	Primary, Background template.CSS
	logoOrigin          string
}

var colourRE = regexp.MustCompile(`^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20}|rgba?\([0-9., %]{5,40}\)|hsla?\([0-9., %deg]{5,40}\))$`)

func newTheme(p *config.Page) theme {
	t := theme{Primary: "#0b5cad", Background: "#f3f4f6"}
	if p == nil {
		return t
	}
	if colourRE.MatchString(p.PrimaryColor) {
		t.Primary = template.CSS(p.PrimaryColor)
	}
	if colourRE.MatchString(p.Background) {
		t.Background = template.CSS(p.Background)
	}
	if p.Logo != "" {
		if u, err := url.Parse(p.Logo); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			t.Logo, t.logoOrigin = p.Logo, u.Scheme+"://"+u.Host
		} else if err == nil && u.Scheme == "" && strings.HasPrefix(p.Logo, "/") {
			t.Logo = p.Logo
		}
	}
	return t
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
