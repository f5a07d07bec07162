package apim

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// rewrite-uri: the backend path becomes the base path plus template, where
// {name} is replaced by the operation's matched parameter. With
// copy-unmatched-params (default true) query parameters of the request that
// the operation's URL template does not consume are kept.

func init() {
	Register(Spec{Name: "rewrite-uri", Sections: []Section{Inbound}, Compile: compileRewriteURI})
}

type rewriteURI struct{ template, copy Value }

var templateParam = regexp.MustCompile(`\{\*?([^{}]+)\}`)

func compileRewriteURI(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "template", "copy-unmatched-params"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &rewriteURI{}
	var err error
	if p.template, err = b.Attr(n, "template"); err != nil {
		return nil, err
	}
	if !p.template.Set {
		return nil, b.Errorf(n.Pos, "rewrite-uri: attribute \"template\" is required")
	}
	if p.copy, err = b.Attr(n, "copy-unmatched-params"); err != nil {
		return nil, err
	}
	if err := checkEnum(b, p.copy, "copy-unmatched-params", "true", "false"); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *rewriteURI) Exec(x *Exec) error {
	t, err := x.String(p.template)
	if err != nil {
		return err
	}
	keep, err := x.Bool(p.copy, true)
	if err != nil {
		return err
	}
	path, rawQuery, _ := strings.Cut(t, "?")
	mp := x.Ctx.Request.MatchedParameters
	path = templateParam.ReplaceAllStringFunc(path, func(m string) string {
		// Url.Path is decoded (as url.URL.Path); urlString escapes it.
		return mp[templateParam.FindStringSubmatch(m)[1]]
	})
	rawQuery = templateParam.ReplaceAllStringFunc(rawQuery, func(m string) string {
		return url.QueryEscape(mp[templateParam.FindStringSubmatch(m)[1]])
	})
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return x.exprError(err)
	}
	u := x.reqURL()
	if keep {
		consumed := map[string]bool{}
		if x.Ctx.Operation != nil {
			if _, oq, ok := strings.Cut(x.Ctx.Operation.UrlTemplate, "?"); ok {
				for _, kv := range strings.Split(oq, "&") {
					k, _, _ := strings.Cut(kv, "=")
					consumed[k] = true
				}
			}
		}
		for k, vs := range u.Query {
			if !consumed[k] && q[k] == nil {
				q[k] = vs
			}
		}
	}
	x.relPath() // fix the base path before the path changes
	u.Path = joinURLPath(*x.basePath, path)
	u.Query = q
	return nil
}
