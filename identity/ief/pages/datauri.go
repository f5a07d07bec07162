// Package pages renders the hosted pages of B2C custom policies (the
// Identity Experience Framework) from a page model, following B2C's page
// contract: the customer's HTML template (a ContentDefinition's LoadUri) is
// loaded once at policy load, and each render injects the generated UI into
// the template's <div id="api">, using B2C's element ids and classes so that
// CSS and JavaScript written for B2C keep working.
//
// The generated UI works without JavaScript: every step is a plain form
// post, and every action (including a display control's "send code" or
// "verify code") is a submit button named "action". Scripts, inline event
// handlers and javascript: URLs are removed from templates unless the
// policy enables JavaScript, as B2C does.
//
// The package only renders: the journey runtime fills the Page (with texts
// already localized), reads the posted form and decides what comes next.
package pages

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the page type named by a ContentDefinition's DataUri.
type Kind int

// The page kinds. Their order is not significant.
const (
	KindUnknown       Kind = iota
	Unified                // unifiedssp, unifiedssd: sign-in with a sign-up link
	SelfAsserted           // selfasserted: a self-asserted technical profile
	ProviderSelection      // providerselection, idpselection: identity-provider buttons
	Exception              // globalexception: the error page
	MultiFactor            // multifactor: phone factor
)

var kindNames = [...]string{"unknown", "Unified", "SelfAsserted", "ProviderSelection", "Exception", "MultiFactor"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// DataName is the value B2C gives the data-name attribute of div#api for
// this kind; customer CSS and scripts select on it.
func (k Kind) DataName() string {
	switch k {
	case Unified:
		return "Unified"
	case SelfAsserted:
		return "SelfAsserted"
	case ProviderSelection:
		return "IdpSelections"
	case Exception:
		return "GlobalException"
	case MultiFactor:
		return "Phonefactor"
	}
	return ""
}

// Version is a page layout version from a DataUri.
type Version struct {
	Major, Minor, Patch int
	// Contract is true for the "elements:contract:" form of the DataUri,
	// the only form with which B2C runs customer JavaScript.
	Contract bool
}

func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Less reports whether v is an earlier version than w (Contract ignored).
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// AllowsScripts reports whether B2C runs a template's JavaScript for this
// page layout version when the relying party's UserJourneyBehaviors say
// ScriptExecution Allow: only contract layouts from 1.2.0 on do.
func (v Version) AllowsScripts() bool {
	return v.Contract && !v.Less(Version{Major: 1, Minor: 2})
}

// Series is one supported page layout: a page type name, as it appears in
// DataUris, and a major.minor version. Any patch version of a series is
// accepted: Microsoft publishes patches often, and a policy naming a newer
// patch than this table knows should still load.
type Series struct {
	Name         string // the page type as in the DataUri, e.g. "unifiedssp"
	Kind         Kind
	Contract     bool // the "elements:contract:" form
	Major, Minor int
}

// Versions lists the page layouts ParseDataURI accepts.
var Versions = []Series{
	// The old, mutable forms (without "contract:").
	{"unifiedssp", Unified, false, 1, 0},
	{"unifiedssd", Unified, false, 1, 0},
	{"selfasserted", SelfAsserted, false, 1, 0},
	{"selfasserted", SelfAsserted, false, 1, 1},
	{"idpselection", ProviderSelection, false, 1, 0},
	{"globalexception", Exception, false, 1, 0},
	{"globalexception", Exception, false, 1, 1},
	{"multifactor", MultiFactor, false, 1, 0},
	{"multifactor", MultiFactor, false, 1, 1},
	// The immutable page layouts ("contract:").
	{"unifiedssp", Unified, true, 1, 0},
	{"unifiedssp", Unified, true, 1, 1},
	{"unifiedssp", Unified, true, 1, 2},
	{"unifiedssp", Unified, true, 2, 0},
	{"unifiedssp", Unified, true, 2, 1},
	{"unifiedssd", Unified, true, 1, 0},
	{"unifiedssd", Unified, true, 1, 1},
	{"unifiedssd", Unified, true, 1, 2},
	{"unifiedssd", Unified, true, 2, 0},
	{"unifiedssd", Unified, true, 2, 1},
	{"selfasserted", SelfAsserted, true, 1, 0},
	{"selfasserted", SelfAsserted, true, 1, 1},
	{"selfasserted", SelfAsserted, true, 1, 2},
	{"selfasserted", SelfAsserted, true, 2, 0},
	{"selfasserted", SelfAsserted, true, 2, 1},
	{"providerselection", ProviderSelection, true, 1, 0},
	{"providerselection", ProviderSelection, true, 1, 1},
	{"providerselection", ProviderSelection, true, 1, 2},
	{"globalexception", Exception, true, 1, 0},
	{"globalexception", Exception, true, 1, 1},
	{"globalexception", Exception, true, 1, 2},
	{"multifactor", MultiFactor, true, 1, 0},
	{"multifactor", MultiFactor, true, 1, 1},
	{"multifactor", MultiFactor, true, 1, 2},
}

const dataURIPrefix = "urn:com:microsoft:aad:b2c:elements:"

// ParseDataURI reads a ContentDefinition's DataUri, e.g.
// "urn:com:microsoft:aad:b2c:elements:contract:unifiedssp:2.1.5" or the old
// "urn:com:microsoft:aad:b2c:elements:selfasserted:1.1.0".
func ParseDataURI(uri string) (Kind, Version, error) {
	s := strings.TrimSpace(uri)
	// B2C compares URNs case-insensitively.
	rest, ok := cutPrefixFold(s, dataURIPrefix)
	if !ok {
		return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: want %q followed by a page type and version", uri, dataURIPrefix)
	}
	var v Version
	if r, ok := cutPrefixFold(rest, "contract:"); ok {
		v.Contract, rest = true, r
	}
	name, ver, ok := strings.Cut(rest, ":")
	if !ok || name == "" {
		return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: no page type and version after the prefix", uri)
	}
	name = strings.ToLower(name)
	parts := strings.Split(ver, ".")
	if len(parts) != 3 {
		return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: version %q is not major.minor.patch", uri, ver)
	}
	nums := [3]*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: version %q is not major.minor.patch", uri, ver)
		}
		*nums[i] = n
	}
	var known []string
	for _, s := range Versions {
		if s.Name != name || s.Contract != v.Contract {
			continue
		}
		if s.Major == v.Major && s.Minor == v.Minor {
			return s.Kind, v, nil
		}
		known = append(known, fmt.Sprintf("%d.%d.x", s.Major, s.Minor))
	}
	form := "old"
	if v.Contract {
		form = "contract"
	}
	if known == nil {
		return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: unknown or unsupported page type %q (%s form)", uri, name, form)
	}
	return KindUnknown, Version{}, fmt.Errorf("pages: DataUri %q: page type %q (%s form) has no layout version %s; supported: %s",
		uri, name, form, v, strings.Join(known, ", "))
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
