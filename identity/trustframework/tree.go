package trustframework

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/config"
)

// policyNS is the namespace of B2C custom policies.
const policyNS = "http://schemas.microsoft.com/online/cpim/schemas/2013/06"

// node is one element with the position of its start tag.
type node struct {
	name  string
	attrs map[string]string
	kids  []*node
	text  strings.Builder
	pos   config.Pos
}

func (n *node) attr(k string) string { return n.attrs[k] }

// value is the element's text, trimmed.
func (n *node) value() string { return strings.TrimSpace(n.text.String()) }

// parseTree reads a whole document into nodes. Positions come from
// Decoder.InputPos read before each token: whitespace is its own token, so
// it is the position of the start tag's '<'.
func parseTree(file string, data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*node
	var root *node
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, col = se.Line, 1
				err = errors.New(se.Msg)
			}
			return nil, &config.Error{Pos: config.Pos{File: file, Line: line, Col: col}, Msg: "not well-formed XML: " + err.Error()}
		}
		pos := config.Pos{File: file, Line: line, Col: col}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" && t.Name.Space != policyNS {
				return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("element <%s> in namespace %q: custom policies use %s", t.Name.Local, t.Name.Space, policyNS)}
			}
			n := &node{name: t.Name.Local, attrs: map[string]string{}, pos: pos}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns", a.Name.Space == "" && a.Name.Local == "xmlns":
					continue // namespace declarations
				case a.Name.Space != "":
					return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("not supported: attribute %s:%s on <%s>", a.Name.Space, a.Name.Local, n.name)}
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else if root != nil {
				return nil, &config.Error{Pos: pos, Msg: "more than one root element"}
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.Directive:
			return nil, &config.Error{Pos: pos, Msg: "not supported: XML directives (DOCTYPE)"}
		}
	}
	if root == nil {
		return nil, &config.Error{Pos: config.Pos{File: file, Line: 1, Col: 1}, Msg: "empty document"}
	}
	return root, nil
}

// b2cElements are elements of B2C's schema that Gatehouse does not
// implement, with the reason given in the error.
var b2cElements = map[string]string{
	"ClaimsTransformations":             "claims transformations",
	"ContentDefinitions":                "content definitions (Gatehouse's hosted pages are themed with identity.page)",
	"Localization":                      "localization",
	"DisplayControls":                   "display controls",
	"Predicates":                        "predicates (password complexity is set on the hosted flow)",
	"PredicateValidations":              "predicate validations",
	"ClientDefinitions":                 "client definitions",
	"InputClaimsTransformations":        "claims transformations",
	"OutputClaimsTransformations":       "claims transformations",
	"PersistedClaims":                   "persisted claims (Gatehouse writes the directory itself)",
	"IncludeInSso":                      "IncludeInSso",
	"IncludeClaimsFromTechnicalProfile": "IncludeClaimsFromTechnicalProfile",
	"IncludeTechnicalProfile":           "IncludeTechnicalProfile",
	"DisplayClaims":                     "display claims",
	"EnabledForUserJourneys":            "EnabledForUserJourneys",
	"ErrorHandlers":                     "error handlers",
	"OutputTokenFormat":                 "token issuers (Gatehouse issues the tokens)",
	"SubJourneys":                       "sub journeys",
	"UserJourneyBehaviors":              "user journey behaviors (session and SSO are configured in identity:)",
	"Mask":                              "claim masks",
	"PredicateValidationReference":      "predicate validations",
	"InputParameters":                   "claims transformations",
	"Domain":                            "Domain",
	"DocumentReferences":                "DocumentReferences",
	"SessionManagement":                 "session management",
	"ClaimsProviderSelections":          "identity provider selection",
	"JourneyList":                       "journey lists",
}

// checker collects errors.
type checker struct {
	errs config.Errors
}

func (c *checker) add(pos config.Pos, format string, a ...any) {
	c.errs = append(c.errs, &config.Error{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

// shape checks n's attributes and child elements against the allowed sets
// and reports text in an element that only holds elements. Unknown
// children are reported and dropped from n.kids.
func (c *checker) shape(n *node, attrs []string, kids []string, textOK bool) {
	allowed := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	keys := make([]string, 0, len(n.attrs))
	for k := range n.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed(attrs, k) {
			c.add(n.pos, "not supported: attribute %s on <%s>", k, n.name)
		}
	}
	var ok []*node
	for _, k := range n.kids {
		if allowed(kids, k.name) {
			ok = append(ok, k)
			continue
		}
		if why, known := b2cElements[k.name]; known {
			c.add(k.pos, "not supported: <%s> in <%s>: Gatehouse does not implement %s", k.name, n.name, why)
		} else {
			c.add(k.pos, "not supported: unknown element <%s> in <%s>", k.name, n.name)
		}
	}
	n.kids = ok
	if !textOK && n.value() != "" {
		c.add(n.pos, "unexpected text %q in <%s>", abbrev(n.value()), n.name)
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// required returns a required attribute, reporting its absence.
func (c *checker) required(n *node, a string) string {
	v := strings.TrimSpace(n.attrs[a])
	if v == "" {
		c.add(n.pos, "<%s> needs the attribute %s", n.name, a)
	}
	return v
}

// boolAttr reads an optional true/false attribute.
func (c *checker) boolAttr(n *node, a string, def bool) bool {
	v, ok := n.attrs[a]
	if !ok {
		return def
	}
	b, good := parseBool(v)
	if !good {
		c.add(n.pos, "%s on <%s> must be true or false, not %q", a, n.name, v)
	}
	return b
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// leaf checks an element that holds only text.
func (c *checker) leaf(n *node) string {
	c.shape(n, nil, nil, true)
	return n.value()
}
