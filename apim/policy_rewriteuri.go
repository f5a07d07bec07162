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
//
// The new path can never leave the base path (serviceUrl's, or the last
// set-backend-service's): a parameter is inserted as the caller sent it
// (path parameters keep "%2F" encoded; query values are escaped, "/"
// included) and must not be, or hide, a dot segment (400 otherwise); dot
// segments the template itself writes are resolved below the base path.

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
	var bad error
	path = templateParam.ReplaceAllStringFunc(path, func(m string) string {
		name := templateParam.FindStringSubmatch(m)[1]
		v, ok := x.Ctx.Request.EscapedParameters[name]
		if !ok {
			v = url.PathEscape(mp[name]) // one segment: "/" becomes %2F
		}
		if err := checkParamSegments(v); err != nil && bad == nil {
			bad = err
		}
		return v
	})
	if bad != nil {
		return x.pathPolicyError(bad)
	}
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
	p2, err := joinResolved(*x.basePath, path)
	if err != nil {
		return x.pathPolicyError(err)
	}
	SetEscapedPath(u, p2)
	u.Query = q
	return nil
}

// checkParamSegments refuses an inserted parameter value (escaped) that is
// or hides a dot segment: it would move the path the operation matched.
func checkParamSegments(v string) error {
	for _, s := range strings.Split(v, "/") {
		kind, err := classifySegment(s)
		if err != nil {
			return err
		}
		if kind != segNormal {
			return errParamDots
		}
	}
	return nil
}

var errParamDots = &PathError{"A URL template parameter is a dot segment."}
