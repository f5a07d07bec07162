package pages

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzRender renders random templates and field strings: no panics, and
// with scripts off, no script survives, whatever the input.
func FuzzRender(f *testing.F) {
	f.Add([]byte(customer), "signInName", "Email", "ann@contoso.com", "", 0, false)
	f.Add(defaultTemplate, "dob", xss, "1990-02-03", xss, 3, false)
	f.Add([]byte(`<table><div id="api"></div></table>`), xss, xss, xss, xss, 5, true)
	f.Add([]byte(`<form><div id="api"></div></form><script>x</script>`), "a", "b", "c", "d", 6, false)
	f.Add([]byte(`<svg><div id=api><math><mi><script>1</script>`), "\x00", "\xff", "<!--", "]]>", 7, true)
	inputTypes := []string{"", TextBox, Password, EmailBox, DateTimeDropdown, RadioSingleSelect, DropdownSingleSelect, CheckboxMultiSelect, Paragraph, Readonly}
	f.Fuzz(func(t *testing.T, src []byte, id, label, value, errText string, n int, allow bool) {
		tp, err := ParseTemplate(src)
		if err != nil {
			return
		}
		if n < 0 {
			n = -n
		}
		field := Field{ClaimTypeID: id, Label: label, Value: value, Error: errText, HelpText: label,
			InputType: inputTypes[n%len(inputTypes)], Pattern: value, Options: []Option{{Value: value, Text: label}}}
		if n%2 == 0 {
			field.Verification = &Verification{State: ControlState(n % 3), Message: errText}
		}
		p := &Page{
			Kind: Kind(1 + n%5), Lang: label, Info: value, Title: value, Heading: label, PageError: errText, Nonce: id,
			Fields:          []Field{field},
			DisplayControls: []Control{{ID: id, Type: label, State: ControlState(n % 3), Position: n % 3, Fields: []Field{field}}},
			Providers:       []ProviderButton{{ExchangeID: id, DisplayName: label}},
			ForgotPassword:  &Link{Href: value, Text: label},
			Hidden:          []Hidden{{Name: id, Value: value}},
		}
		var buf bytes.Buffer
		if err := tp.Render(&buf, p, allow); err != nil {
			// html.Render refuses some trees the parser builds from
			// malformed input; that is an error, not a panic.
			return
		}
		if allow {
			return
		}
		// What the browser would parse from the output.
		z := html.NewTokenizer(&buf)
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatal(z.Err())
				}
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if strings.EqualFold(tok.Data, "script") {
				t.Fatalf("script survived in %q", buf.String())
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Fatalf("handler %s survived", a.Key)
				}
			}
		}
	})
}
