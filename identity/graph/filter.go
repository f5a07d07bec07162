package graph

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// filter is a parsed $filter: the clauses this API supports, joined by
// and — what B2C scripts send: id, mail, displayName, givenName, surname,
// userPrincipalName and extension attributes with eq, accountEnabled eq
// true|false, startswith(displayName|givenName|surname|mail|userPrincipalName,'…'),
// identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…').
type filter struct {
	clauses []func(*store.User) bool
	always  bool   // no filter
	id      string // an id eq clause: a lookup, not a scan
	// identity: an identities clause naming the issuer and the
	// issuer-assigned id: lookups in the store's identity index (one per
	// sign-in type it may be), not a scan.
	identity *identityLookup
}

type identityLookup struct {
	types            []string
	issuer, assigned string
}

func (f *filter) match(u *store.User) bool {
	for _, c := range f.clauses {
		if !c(u) {
			return false
		}
	}
	return true
}

// maxFilter bounds the $filter text.
const maxFilter = 2048

func parseFilter(s string, a *API) (*filter, error) {
	f := &filter{}
	if strings.TrimSpace(s) == "" {
		f.always = true
		return f, nil
	}
	if len(s) > maxFilter {
		return nil, unsupported("The $filter is longer than 2048 characters.")
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, a: a, f: f}
	for {
		if err := p.clause(); err != nil {
			return nil, err
		}
		if p.done() {
			return f, nil
		}
		if !p.keyword("and") {
			return nil, unsupportedf("Unsupported or invalid query filter: only clauses joined by 'and' are supported, near '%s'.", p.peek().text)
		}
	}
}

type token struct {
	text string
	str  bool // a quoted string literal (text unquoted)
}

// tokenize splits a filter into names, 'strings', parentheses and commas.
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, unsupported("Unsupported or invalid query filter: an unterminated string literal.")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' is a quote
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{text: b.String(), str: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	pos  int
	a    *API
	f    *filter
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) peek() token {
	if p.done() {
		return token{text: "end of filter"}
	}
	return p.toks[p.pos]
}

func (p *parser) next() token { t := p.peek(); p.pos++; return t }

func (p *parser) keyword(k string) bool {
	if t := p.peek(); !t.str && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(k string) error {
	if !p.keyword(k) {
		return unsupportedf("Unsupported or invalid query filter: '%s' expected near '%s'.", k, p.peek().text)
	}
	return nil
}

func (p *parser) str() (string, error) {
	t := p.next()
	if !t.str {
		return "", unsupportedf("Unsupported or invalid query filter: a string literal expected near '%s'.", t.text)
	}
	return t.text, nil
}

var startsWithProps = []string{"displayName", "givenName", "surname", "mail", "userPrincipalName"}

func (p *parser) clause() error {
	t := p.next()
	if t.str {
		return unsupportedf("Unsupported or invalid query filter near '%s'.", t.text)
	}
	switch {
	case strings.EqualFold(t.text, "startswith"):
		if err := p.expect("("); err != nil {
			return err
		}
		prop := p.next().text
		if !contains(startsWithProps, prop) {
			return unsupportedf("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", prop)
		}
		if err := p.expect(","); err != nil {
			return err
		}
		v, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(")"); err != nil {
			return err
		}
		v = strings.ToLower(v)
		p.f.clauses = append(p.f.clauses, func(u *store.User) bool {
			s, _ := p.a.value(u, prop).(string)
			return strings.HasPrefix(strings.ToLower(s), v)
		})
		return nil
	case strings.EqualFold(t.text, "identities/any"):
		return p.anyIdentity()
	}
	prop := t.text
	if err := p.expect("eq"); err != nil {
		return err
	}
	if prop == "accountEnabled" {
		v := strings.ToLower(p.next().text)
		if v != "true" && v != "false" {
			return unsupported("Unsupported or invalid query filter: accountEnabled eq true or false.")
		}
		want := v == "true"
		p.f.clauses = append(p.f.clauses, func(u *store.User) bool { return p.a.value(u, "accountEnabled") == want })
		return nil
	}
	if _, ext := p.a.extensionName(prop); !ext && !contains([]string{"id", "mail", "displayName", "givenName", "surname", "userPrincipalName"}, prop) {
		return unsupportedf("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", prop)
	}
	tv := p.next()
	v := tv.text
	if prop == "id" {
		if !tv.str {
			return unsupported("Unsupported or invalid query filter: id eq '<guid>'.")
		}
		p.f.id = v
	}
	p.f.clauses = append(p.f.clauses, func(u *store.User) bool {
		switch x := p.a.value(u, prop).(type) {
		case string:
			return strings.EqualFold(x, v)
		case nil:
			return false
		default:
			return fmt.Sprint(x) == v
		}
	})
	return nil
}

// anyIdentity parses identities/any(c:c/issuerAssignedId eq '…' and
// c/issuer eq '…') (and signInType): one identity must match them all.
func (p *parser) anyIdentity() error {
	if err := p.expect("("); err != nil {
		return err
	}
	var conds []func(store.Identity) bool
	variable, assigned, issuer, signInType := "", "", "", ""
	for {
		name := p.next().text
		if variable == "" {
			if v, rest, ok := strings.Cut(name, ":"); ok {
				variable, name = v, rest
			} else {
				return unsupported("Unsupported or invalid query filter: identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…').")
			}
		}
		prop, ok := strings.CutPrefix(name, variable+"/")
		if !ok {
			return unsupportedf("Unsupported or invalid query filter near '%s'.", name)
		}
		if err := p.expect("eq"); err != nil {
			return err
		}
		v, err := p.str()
		if err != nil {
			return err
		}
		switch prop {
		case "issuerAssignedId":
			assigned = v
			conds = append(conds, func(id store.Identity) bool { return strings.EqualFold(id.IssuerAssignedID, v) })
		case "issuer":
			issuer = v
			conds = append(conds, func(id store.Identity) bool { return strings.EqualFold(id.Issuer, v) })
		case "signInType":
			signInType = v
			conds = append(conds, func(id store.Identity) bool { return id.SignInType == v })
		default:
			return unsupportedf("Unsupported or invalid query filter clause specified for property '%s' of resource 'objectIdentity'.", prop)
		}
		if p.keyword(")") {
			break
		}
		if err := p.expect("and"); err != nil {
			return err
		}
	}
	if assigned != "" && issuer != "" {
		l := &identityLookup{issuer: issuer, assigned: assigned, types: []string{signInType}}
		switch {
		case signInType != "":
		case strings.EqualFold(issuer, p.a.o.Tenant):
			l.types = []string{"emailAddress", "userName", "phoneNumber"}
		default:
			l.types = []string{"federated"}
		}
		p.f.identity = l
	}
	p.f.clauses = append(p.f.clauses, func(u *store.User) bool {
		for _, id := range u.Identities {
			ok := true
			for _, c := range conds {
				ok = ok && c(id)
			}
			if ok {
				return true
			}
		}
		return false
	})
	return nil
}

// unsupported is a $filter the API cannot run: Graph's message, shown to
// the caller as it is (a sentence, as Graph writes them).
type unsupported string

func (u unsupported) Error() string { return string(u) }

func unsupportedf(format string, args ...any) error { return unsupported(fmt.Sprintf(format, args...)) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
