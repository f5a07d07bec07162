package apim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/apim/expr"
	"github.com/gatehouse/gatehouse/apim/rawxml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	xmessage "golang.org/x/text/message"
)

// What validate-content, validate-parameters and validate-headers share:
// actions, the error records of errors-variable-name and the policy
// error of prevent, in APIM's documented shapes (Name, Type,
// ValidationRule, Details, Action; "Bad request" answered 400 for a
// request, "Response not allowed" answered 502 for a response, the public
// message to the caller and the detail in context.LastError).

// validationIssue is one validation error.
type validationIssue struct {
	name    string // the parameter, header or content type ("" for sizes)
	typ     string // RequestBody, ResponseBody, QueryParameter, PathParameter, RequestHeader, ResponseHeader
	rule    string // SizeLimit, Unspecified, IncorrectMessage, MissingDefinition, ValidationException, ValidationError
	details string // for context variables and logs
	public  string // for the caller ("" = details)
}

// internalPublic is APIM's public message for problems the caller cannot
// fix (response validation, schema problems).
const internalPublic = "The request could not be processed due to an internal error. Contact the API owner."

// act applies action to an issue: ignore does nothing, detect records it
// and lets the message through, prevent records it and returns the error
// that stops the request.
func act(x *Exec, policy, errorsVar, action string, is validationIssue) error {
	switch action {
	case "detect":
		recordIssue(x, errorsVar, action, is)
		x.logger().Warn("apim: "+policy+" (detect)", "rule", is.rule, "detail", is.details)
	case "prevent":
		recordIssue(x, errorsVar, action, is)
		pe := &PolicyError{Source: policy, Reason: "Bad request", Message: is.details, Status: http.StatusBadRequest,
			ClientMessage: is.public}
		if pe.ClientMessage == "" {
			pe.ClientMessage = is.details
		}
		if x.onResponse() {
			pe.Reason, pe.Status, pe.ClientMessage = "Response not allowed", http.StatusBadGateway, internalPublic
		}
		return pe
	}
	return nil
}

// recordIssue appends the issue to context.Variables[errorsVar] (a list of
// JObjects, shared by every validation policy naming the variable).
func recordIssue(x *Exec, errorsVar, action string, is validationIssue) {
	if errorsVar == "" {
		return
	}
	list, _ := x.Ctx.Variables[errorsVar].([]any)
	e := expr.NewJObject()
	for _, kv := range [][2]string{{"Name", is.name}, {"Type", is.typ}, {"ValidationRule", is.rule},
		{"Details", is.details}, {"Action", action}} {
		e.Set(kv[0], &expr.JValue{Value: kv[1]})
	}
	x.Ctx.Variables[errorsVar] = append(list, e)
}

// actionAttr is an action attribute: a constant checked at load, or an
// expression (validate-parameters and validate-headers allow them)
// checked when it runs.
type actionAttr struct {
	set bool
	lit string
	v   Value
}

func compileAction(b *Builder, n *rawxml.Node, name string, required, allowExpr bool) (actionAttr, error) {
	if !allowExpr {
		s, err := constEnum(b, n, name, required, "", validationActions...)
		return actionAttr{set: s != "", lit: s}, err
	}
	v, err := b.Attr(n, name)
	if err != nil {
		return actionAttr{}, err
	}
	if !v.Set {
		if required {
			return actionAttr{}, b.Errorf(n.Pos, "%s: attribute %q is required", n.Name, name)
		}
		return actionAttr{}, nil
	}
	if v.IsExpr() {
		return actionAttr{set: true, v: v}, nil
	}
	if err := checkEnum(b, v, name, validationActions...); err != nil {
		return actionAttr{}, err
	}
	return actionAttr{set: true, lit: strings.ToLower(strings.TrimSpace(v.Lit))}, nil
}

// eval is the action; an expression that yields no action is a policy
// error (as any bad expression result).
func (a actionAttr) eval(x *Exec) (string, error) {
	if a.v.Prog == nil {
		return a.lit, nil
	}
	s, err := x.String(a.v)
	if err != nil {
		return "", err
	}
	s = strings.ToLower(strings.TrimSpace(s))
	for _, ok := range validationActions {
		if s == ok {
			return s, nil
		}
	}
	return "", x.exprError(fmt.Errorf("%q is not a validation action (ignore, prevent, detect)", s))
}

// first is the first set action of a chain (a child element's, then its
// parent's ...).
func firstAction(as ...actionAttr) actionAttr {
	for _, a := range as {
		if a.set {
			return a
		}
	}
	return actionAttr{set: true, lit: "ignore"}
}

// schemaMessage is a schema validation failure as text: its most specific
// errors ("at /price: got string, want number"), a few at most.
func schemaMessage(err error) (string, []string) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error(), nil
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(leaves) >= 5 {
			return
		}
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// language.Und: numbers as they are written (no digit grouping).
	p := xmessage.NewPrinter(language.Und)
	parts := make([]string, 0, len(leaves))
	for _, l := range leaves {
		text := l.ErrorKind.LocalizedString(p)
		if len(l.InstanceLocation) > 0 {
			text = "at " + strconv.Quote("/"+strings.Join(l.InstanceLocation, "/")) + ": " + text
		}
		parts = append(parts, text)
	}
	var loc []string
	if len(leaves) > 0 {
		loc = leaves[0].InstanceLocation
	}
	return strings.Join(parts, "; "), loc
}

// jsonPosition is the line and position (both from 1, position in
// characters) where the value at loc starts in a JSON document, as APIM's
// "Line: N, Position: M"; ok is false when it cannot be found.
func jsonPosition(data []byte, loc []string) (line, pos int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	off, err := seekJSON(dec, data, loc)
	if err != nil {
		return 0, 0, false
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:off]), true
}

func seekJSON(dec *json.Decoder, data []byte, loc []string) (int, error) {
	if len(loc) == 0 {
		off := int(dec.InputOffset())
		for off < len(data) && strings.IndexByte(" \t\r\n:,", data[off]) >= 0 {
			off++
		}
		return off, nil
	}
	tok, err := dec.Token()
	if err != nil {
		return 0, err
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return 0, err
			}
			if k == loc[0] {
				return seekJSON(dec, data, loc[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, err
			}
		}
	case json.Delim('['):
		want, err := strconv.Atoi(loc[0])
		if err != nil {
			return 0, err
		}
		for i := 0; dec.More(); i++ {
			if i == want {
				return seekJSON(dec, data, loc[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, err
			}
		}
	}
	return 0, errors.New("not found")
}

func skipJSON(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
