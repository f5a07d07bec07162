package apim

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// trace source severity="verbose|information|error" with <message> and
// <metadata name value/> children — or, in the legacy form older policies
// keep, the message as the element's own text (<trace source="x">@(...)</trace>,
// no children): written to the gateway log at Debug level
// (APIM sends it to the request trace and Application Insights, neither of
// which exists here), with the severity as an attribute.

func init() {
	Register(Spec{Name: "trace", Compile: compileTrace})
}

type trace struct {
	source, severity string
	message          Value
	metaNames        []string
	metaValues       []Value
}

func compileTrace(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "source", "severity"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "message", "metadata"); err != nil {
		return nil, err
	}
	src, err := b.ConstAttr(n, "source")
	if err != nil {
		return nil, err
	}
	sev, err := b.ConstAttr(n, "severity")
	if err != nil {
		return nil, err
	}
	if err := checkEnum(b, sev, "severity", "verbose", "information", "error"); err != nil {
		return nil, err
	}
	p := &trace{source: src.Lit, severity: "verbose"}
	if sev.Set {
		p.severity = sev.Lit
	}
	seen := false
	for _, c := range n.Children {
		switch c.Name {
		case "message":
			if seen {
				return nil, b.Errorf(c.Pos, "trace: only one <message> is allowed")
			}
			seen = true
			if err := b.Attrs(c); err != nil {
				return nil, err
			}
			if p.message, err = b.Text(c); err != nil {
				return nil, err
			}
		case "metadata":
			if err := b.Attrs(c, "name", "value"); err != nil {
				return nil, err
			}
			name, err := b.ConstAttr(c, "name")
			if err != nil {
				return nil, err
			}
			v, err := b.Attr(c, "value")
			if err != nil {
				return nil, err
			}
			p.metaNames = append(p.metaNames, name.Lit)
			p.metaValues = append(p.metaValues, v)
		}
	}
	if !seen {
		if strings.TrimSpace(n.Text) == "" {
			return nil, b.Errorf(n.Pos, "trace: <message> is required (or, in the legacy form, the message as the element's text)")
		}
		// The legacy form: the text is the message.
		if p.message, err = b.Text(n); err != nil {
			return nil, err
		}
	} else if strings.TrimSpace(n.Text) != "" {
		return nil, b.Errorf(n.TextPos, "trace: text beside <message>: use one or the other")
	}
	return p, nil
}

func (p *trace) Exec(x *Exec) error {
	log := slog.Default()
	if x.Env != nil && x.Env.Logger != nil {
		log = x.Env.Logger
	}
	if !log.Enabled(x.Context(), slog.LevelDebug) {
		return nil // skip evaluating expressions nobody will see
	}
	msg, err := x.String(p.message)
	if err != nil {
		return err
	}
	attrs := []any{"source", p.source, "severity", p.severity, "requestId", x.Ctx.RequestId}
	for i, name := range p.metaNames {
		v, err := x.String(p.metaValues[i])
		if err != nil {
			return err
		}
		attrs = append(attrs, slog.String("metadata."+name, v))
	}
	log.Log(context.WithoutCancel(x.Context()), slog.LevelDebug, msg, attrs...)
	return nil
}
